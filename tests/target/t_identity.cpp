// identity/ on target: RFC 8785 number serialization (appendix B bit patterns, shared with
// tests/unit/test_identity_jcs.cpp) and canonicalization, which lean on the C library's
// floating-point formatting and so are exactly what differs between libcs; and PASSporT
// verification (SHAKEN, Rich Call Data) of the PASSporTs jose signed in tests/unit/data/fixed
// (also read by tests/unit/test_identity_card.cpp), with the x5u certificate given in memory
// (no fetch), on a fixed clock.
#include <cstring>
#include <string>

#include "identity/identity.h"
#include "identity/jcs.h"
#include "imsdc/crypto.h"
#include "runner.h"
#include "sip/message.h"
#include "vectors/fixed_vectors.h"
#include "vectors/jcs_vectors.h"

using namespace imsdc;
using namespace imsdc::identity;
using namespace imsdc::test_vectors;
using imsdc::target::read_data_line;

namespace {
double from_bits(std::uint64_t bits) {
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
} // namespace

TEST_CASE(identity, JcsNumbersOfAppendixB) {
  for (const NumberCase& c : kNumbers) {
    auto s = jcs_number(from_bits(c.bits));
    CHECK_MSG(s.is_ok(), c.text);
    if (s.is_ok()) CHECK_EQ(s.value(), std::string(c.text));
  }
}

TEST_CASE(identity, JcsNonFiniteNumbersAreRejected) {
  CHECK_CODE(jcs_number(from_bits(0x7fffffffffffffff)), Code::kMalformed);
  CHECK_CODE(jcs_number(from_bits(0x7ff0000000000000)), Code::kMalformed);
}

// RFC 8785 section 3.2.2 input and canonical output (also in test_identity_jcs.cpp).
TEST_CASE(identity, JcsSection322Example) {
  const char* in = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  auto out = jcs_canonicalize(in);
  REQUIRE_OK(out);
  CHECK_EQ(out.value(),
           std::string("{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,"
                       "1e+30,4.5,0.002,1e-27],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B"
                       "\\\"\\\\\\\\\\\"/\"}"));
}

// --- PASSporTs (vectors/fixed_vectors.h) -------------------------------------------------------

namespace {

namespace fx = imsdc::test_vectors::fixed;

// The "fetcher" serves the x5u certificate from memory: nothing leaves the device.
struct GivenCert {
  std::string url, pem;
  static int serve(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out,
                   std::size_t cap, std::size_t* out_len) {
    const auto* self = static_cast<const GivenCert*>(ctx);
    if (std::string_view(url, url_len) != self->url || self->pem.size() > cap) return -1;
    std::memcpy(out, self->pem.data(), self->pem.size());
    *out_len = self->pem.size();
    return 0;
  }
};

struct Verifier {
  GivenCert cert{fx::kStiX5u, ""};
  crypto::TrustStore trust;
  VerifyConfig cfg;
  bool ready = false;
  explicit Verifier(const char* root_pem = fx::kStiRootPem) {
    std::string root;
    ready = imsdc::target::read_data(fx::kStiLeafPem, &cert.pem) &&
            imsdc::target::read_data(root_pem, &root) && trust.add_pem(root).is_ok();
    cfg.trust = &trust;
    cfg.now_s = fx::kIdentityNow;
    cfg.fetcher.fetch = &GivenCert::serve;
    cfg.fetcher.ctx = &cert;
  }
  // An INVITE from +15551110001 to +15552220002 carrying `passport` in an Identity header.
  Result<CallerCard> verify(const std::string& passport) {
    std::string m = "INVITE sip:+15552220002@ims.example;user=phone SIP/2.0\r\n"
                    "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n"
                    "From: \"Spoof\" <sip:alice@ims.example>;tag=1\r\n"
                    "To: <tel:+1-555-222-0002>\r\n"
                    "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
                    "P-Asserted-Identity: <sip:+15551110001@ims.example;user=phone>\r\n"
                    "Identity: " +
                    passport + ";info=<" + fx::kStiX5u + ">;alg=ES256\r\n" +
                    "Content-Length: 0\r\n\r\n";
    auto msg = sip::parse_message(ByteSpan(std::string_view(m)));
    if (!msg) return msg.status();
    return verify_request(msg.value(), cfg);
  }
};

std::string flip(std::string s, std::size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

} // namespace

TEST_CASE(identity, ShakenPassportFromJoseVerifies) {
  Verifier v;
  REQUIRE(v.ready);
  auto c = v.verify(read_data_line(fx::kShakenJws));
  REQUIRE_OK(c);
  CHECK(c.value().has_identity);
  CHECK_MSG(c.value().passport_verified, imsdc::target::describe(c.value().passport_status));
  CHECK_EQ(c.value().number.value, std::string("+15551110001"));
  CHECK_EQ(c.value().number.status, FieldStatus::kVerifiedE2e);
  CHECK_EQ(c.value().attest, std::string("A"));
}

TEST_CASE(identity, ShakenPassportRejects) {
  const std::string jws = read_data_line(fx::kShakenJws);
  REQUIRE(!jws.empty());
  struct Case {
    const char* what;
    std::string passport;
    const char* root;
    std::int64_t now;
    Code want;
  };
  const Case cases[] = {
      {"changed signature", flip(jws, jws.size() - 10), fx::kStiRootPem, fx::kIdentityNow,
       Code::kBadSignature},
      {"wrong root", jws, fx::kRootPem, fx::kIdentityNow, Code::kUntrusted},
      {"stale iat", jws, fx::kStiRootPem, fx::kIdentityNow + kDefaultIatWindow + 1, Code::kExpired},
      {"iat in the future", jws, fx::kStiRootPem, fx::kIdentityNow - kDefaultIatWindow - 1,
       Code::kExpired},
  };
  for (const Case& k : cases) {
    Verifier v(k.root);
    REQUIRE(v.ready);
    v.cfg.now_s = k.now;
    auto c = v.verify(k.passport);
    REQUIRE_OK(c);
    CHECK_MSG(!c.value().passport_verified, k.what);
    CHECK_MSG(c.value().passport_status.code() == k.want,
              std::string(k.what) + ": " + imsdc::target::describe(c.value().passport_status));
    CHECK_MSG(c.value().number.status == FieldStatus::kFailed, k.what);
  }
}

TEST_CASE(identity, RcdPassportFromJoseVerifies) {
  Verifier v;
  REQUIRE(v.ready);
  const std::string jws = read_data_line(fx::kRcdJws);
  auto c = v.verify(jws);
  REQUIRE_OK(c);
  CHECK_MSG(c.value().passport_verified, imsdc::target::describe(c.value().passport_status));
  CHECK_EQ(c.value().name.value, std::string("Alice"));
  CHECK_EQ(c.value().name.status, FieldStatus::kVerifiedE2e);
  CHECK_EQ(c.value().organization.value, std::string("Example Org"));
  CHECK_EQ(c.value().organization.status, FieldStatus::kVerifiedE2e);
  CHECK_EQ(c.value().call_reason.value, std::string("Lunch"));
  CHECK_EQ(c.value().number.status, FieldStatus::kNotAttested); // rcd alone attests nothing
  // A changed signature fails the PASSporT and with it every field it carried.
  auto bad = v.verify(flip(jws, jws.size() - 10));
  REQUIRE_OK(bad);
  CHECK(!bad.value().passport_verified);
  CHECK_CODE(bad.value().passport_status, Code::kBadSignature);
  CHECK(bad.value().name.status != FieldStatus::kVerifiedE2e);
}
