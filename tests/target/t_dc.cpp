// dc/ and ice/ parsers on target: STUN with the RFC 5769 vectors (tests/unit/data/ice,
// HMAC-SHA1 and CRC-32 checked), DCEP OPEN/ACK with tests/unit/data/dc/dcep.data, and the
// DTLS ClientHello reassembler with the captured Chromium 156 fragments.
#include <cstring>

#include "dc/dcep.h"
#include "ice/stun.h"
#include "imsdc/codec.h"
#include "runner.h"

using namespace imsdc;

namespace {

constexpr char kRfcPassword[] = "VOkJxbRl1RmTxUk/WvJxBt";

// name -> message bytes, from "name <hex up to MI value> <hex rest>".
Bytes stun_vector(std::string_view name) {
  std::string text;
  if (!target::read_data("ice/rfc5769.data", &text)) return {};
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    std::string_view f[3];
    if (line.empty() || line[0] == '#' || target::split_fields(line, f, 3) != 3) continue;
    if (f[0] != name) continue;
    auto b = hex_decode(std::string(f[1]) + std::string(f[2]));
    CHECK_OK(b);
    return b.is_ok() ? b.value() : Bytes();
  }
  target::fail(__FILE__, __LINE__, "vector present", std::string(name));
  return {};
}

} // namespace

TEST_CASE(dc, StunRfc5769SampleRequest) {
  const Bytes d = stun_vector("request");
  auto m = ice::parse(d);
  REQUIRE_OK(m);
  CHECK(m->cls == ice::StunClass::kRequest);
  CHECK_EQ(m->method, ice::kMethodBinding);
  REQUIRE(m->username.has_value());
  CHECK_EQ(*m->username, std::string("evtj:h6vY"));
  CHECK_EQ(*m->priority, 0x6e0001ffu);
  CHECK_EQ(*m->ice_controlled, 0x932ff9b151263b36ull);
  CHECK(m->has_fingerprint);
  CHECK_OK(ice::verify_integrity(d, m.value(), std::string_view(kRfcPassword)));
  CHECK_CODE(ice::verify_integrity(d, m.value(), std::string_view("VOkJxbRl1RmTxUk/WvJxBu")),
             Code::kAuthFailed);
}

TEST_CASE(dc, StunRfc5769SampleResponses) {
  const Bytes d4 = stun_vector("ipv4_response");
  auto m4 = ice::parse(d4);
  REQUIRE_OK(m4);
  REQUIRE(m4->xor_mapped.has_value());
  CHECK_EQ(m4->xor_mapped->port, 32853);
  const std::uint8_t want4[4] = {192, 0, 2, 1};
  CHECK(std::memcmp(m4->xor_mapped->addr, want4, 4) == 0);
  CHECK_OK(ice::verify_integrity(d4, m4.value(), std::string_view(kRfcPassword)));
  const Bytes d6 = stun_vector("ipv6_response");
  auto m6 = ice::parse(d6);
  REQUIRE_OK(m6);
  REQUIRE(m6->xor_mapped.has_value());
  const std::uint8_t want6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                  0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  CHECK(std::memcmp(m6->xor_mapped->addr, want6, 16) == 0);
  CHECK_OK(ice::verify_integrity(d6, m6.value(), std::string_view(kRfcPassword)));
}

TEST_CASE(dc, StunEveryTamperedByteIsCaught) {
  // As tests/unit/test_ice_stun.cpp: FINGERPRINT catches every changed byte before it; a
  // changed FINGERPRINT is refused or leaves none.
  ice::StunMessage m;
  m.username = "peer:self";
  m.priority = 1234;
  m.ice_controlled = 42;
  auto good = ice::serialize(m, std::string_view("password-of-22-chars!!"), true);
  REQUIRE_OK(good);
  const std::size_t fp_at = good->size() - 8;
  for (std::size_t i = 0; i < good->size(); ++i) {
    Bytes d = good.value();
    d[i] ^= 0x01;
    auto p = ice::parse(d);
    if (i < fp_at) {
      CHECK_MSG(!p.is_ok(), "byte " + target::to_text(i));
    } else {
      CHECK_MSG(!p.is_ok() || !p->has_fingerprint, "byte " + target::to_text(i));
    }
  }
}

TEST_CASE(dc, DcepDataVectors) {
  std::string text;
  REQUIRE(target::read_data("dc/dcep.data", &text));
  int cases = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    std::string_view f[8];
    std::size_t n = target::split_fields(line, f, 8);
    REQUIRE(n >= 2);
    std::string hex;
    for (std::size_t i = 1; i < n; ++i)
      hex += std::string(f[i]);
    auto msg = hex_decode(hex);
    REQUIRE_OK(msg);
    auto r = dc::parse_dcep_open(msg.value());
    ++cases;
    std::string expect(f[0]);
    if (expect.rfind("ok:", 0) != 0) {
      CHECK_MSG(!r.is_ok(), std::string(line));
      if (!r.is_ok()) CHECK_EQ(std::string(r.status().name()), expect);
      continue;
    }
    CHECK_MSG(r.is_ok(), std::string(line) + ": " + target::describe(r.status()));
    if (!r.is_ok()) continue;
    // ok:<ordered>:<reliability>:<param>:<priority>:<label>:<protocol>
    std::string v[7];
    std::size_t k = 0;
    for (char c : expect) {
      if (c == ':' && k < 6) {
        ++k;
      } else {
        v[k] += c;
      }
    }
    CHECK_EQ(r->ordered, v[1] == "1");
    dc::Reliability rel = v[2] == "x"   ? dc::Reliability::kMaxRetransmits
                          : v[2] == "t" ? dc::Reliability::kMaxLifetime
                                        : dc::Reliability::kReliable;
    CHECK(r->reliability == rel);
    CHECK_EQ(r->reliability_param, std::strtoul(v[3].c_str(), nullptr, 10));
    CHECK_EQ(r->priority, std::strtoul(v[4].c_str(), nullptr, 10));
    CHECK_EQ(r->label, v[5]);
    CHECK_EQ(r->protocol, v[6]);
    Result<Bytes> enc = dc::encode_dcep_open(r.value());
    REQUIRE_OK(enc);
    Bytes expect_bytes = msg.value();
    if (rel == dc::Reliability::kReliable)
      for (std::size_t i = 4; i < 8; ++i)
        expect_bytes[i] = 0;
    CHECK_MSG(enc.value() == expect_bytes, std::string(line));
  }
  CHECK(cases >= 10);
}
