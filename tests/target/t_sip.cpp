// sip/ on target: the RFC 4475 torture messages and Kamailio-shaped messages of
// tests/unit/data/sip, through the same tables as tests/unit/test_sip_message.cpp
// (tests/unit/vectors/sip_vectors.h).
#include "runner.h"
#include "sip/message.h"
#include "sip/uri.h"
#include "vectors/sip_vectors.h"

using namespace imsdc;
using namespace imsdc::sip;
using namespace imsdc::test_vectors;

namespace {
bool load(const char* name, std::string* out) {
  return target::read_data((std::string("sip/") + name).c_str(), out);
}
} // namespace

TEST_CASE(sip, ValidMessagesParse) {
  for (const ValidCase& c : kValid) {
    std::string text;
    if (!load(c.file, &text)) continue;
    auto m = parse_message(ByteSpan(text));
    CHECK_MSG(m.is_ok(), std::string(c.file) + ": " + target::describe(m.status()));
    if (!m.is_ok()) continue;
    CHECK_EQ(m->method(), std::string_view(c.method));
    CHECK_EQ(m->status_code(), c.status);
    CHECK_EQ(m->is_request(), c.status == 0);
    if (c.call_id) CHECK_EQ(m->call_id(), std::string_view(c.call_id));
    CHECK_EQ(m->cseq().number, c.cseq);
    auto vias = m->header_values("Via");
    REQUIRE_OK(vias);
    CHECK_EQ(vias->size(), c.via_count);
    for (std::string_view v : vias.value())
      CHECK_MSG(parse_via(v).is_ok(), std::string(v));
    CHECK_EQ(m->body().size(), c.body_size);
  }
}

TEST_CASE(sip, InvalidMessagesAreRejected) {
  for (const InvalidCase& c : kInvalid) {
    std::string text;
    if (!load(c.file, &text)) continue;
    REQUIRE(!text.empty());
    auto m = parse_message(ByteSpan(text));
    CHECK_MSG(!m.is_ok(), c.file);
    if (m.is_ok()) continue;
    CHECK_MSG(m.status().code() == c.code,
              std::string(c.file) + ": " + target::describe(m.status()));
    CHECK_EQ(m.status().module(), Module::kSip);
    CHECK(m.status().detail() != nullptr);
  }
}

TEST_CASE(sip, SizeBound) {
  std::string text;
  REQUIRE(load("kamailio_register.sip", &text));
  std::string big = text.substr(0, text.find("\r\n\r\n") + 2);
  while (big.size() <= IMSDC_MAX_SIP_MESSAGE)
    big += "X-Pad: " + std::string(200, 'p') + "\r\n";
  big += "\r\n";
  CHECK_CODE(parse_message(ByteSpan(big)), Code::kTooLarge);
}
