// sdp/ on target: the SDP corpus of tests/unit/data/sdp (Chromium, TS 26.114 examples, IMS
// offers) parses, generates and parses back equal, as in tests/unit/test_sdp_parse.cpp.
#include "imsdc/config_defaults.h"
#include "runner.h"
#include "sdp/sdp.h"
#include "vectors/sdp_vectors.h"

using namespace imsdc;
using namespace imsdc::sdp;
using namespace imsdc::test_vectors;

namespace {
bool load(const char* name, std::string* out) {
  return target::read_data((std::string("sdp/") + name).c_str(), out);
}
} // namespace

TEST_CASE(sdp, ChromiumOffer) {
  std::string text;
  REQUIRE(load("chromium_offer.sdp", &text));
  Result<SessionDescription> r = parse(text);
  REQUIRE_OK(r);
  const MediaSection* dc = r->data_channel();
  REQUIRE(dc != nullptr);
  CHECK_EQ(dc->port, 46243);
  CHECK_EQ(dc->connection.address, std::string("10.77.0.2"));
  CHECK(dc->setup == Setup::kActpass);
  REQUIRE(dc->fingerprints.size() == 1u);
  CHECK(dc->fingerprints[0].hash == HashFunc::kSha256);
  CHECK_EQ(dc->fingerprints[0].digest.size(), 32u);
  CHECK_EQ(dc->ice.ufrag, std::string("Q3vT"));
  CHECK_EQ(dc->ice.pwd, std::string("8nK1b0mZ4vJrDq2Wc+Xy/3aL"));
  REQUIRE(dc->candidates.size() == 3u);
  CHECK_EQ(dc->candidates[0].priority, 2122260223u);
  CHECK_EQ(dc->candidates[1].address, std::string("fd00:77::2"));
  CHECK_EQ(dc->max_message_size, 262144u);
  CHECK_EQ(dc->sctp_port, 5000);
}

TEST_CASE(sdp, CorpusParsesGeneratesAndParsesEqual) {
  int files = 0;
  for (const char* name : kCorpus) {
    std::string text;
    if (!load(name, &text)) continue;
    ++files;
    Result<SessionDescription> a = parse(text);
    CHECK_MSG(a.is_ok(), std::string(name) + ": " + target::describe(a.status()));
    if (!a.is_ok()) continue;
    Result<std::string> out = generate(a.value());
    REQUIRE_OK(out);
    Result<SessionDescription> b = parse(out.value());
    REQUIRE_OK(b);
    CHECK_MSG(a.value() == b.value(), name);
    Result<std::string> again = generate(b.value());
    REQUIRE_OK(again);
    CHECK_EQ(out.value(), again.value());
    // Numbers are written in full (no printf shortcuts that a small libc lacks).
    const MediaSection* dc = a->data_channel();
    if (dc && dc->max_message_size != 0) {
      CHECK_MSG(out->find("a=max-message-size:" + target::to_text(dc->max_message_size)) !=
                    std::string::npos,
                name);
    }
  }
  CHECK_EQ(files, 7);
}

TEST_CASE(sdp, TooLarge) {
  std::string big = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
                    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  while (big.size() <= IMSDC_MAX_SDP_SIZE)
    big += "a=x-pad:" + std::string(100, 'p') + "\r\n";
  CHECK_CODE(parse(big), Code::kTooLarge);
}
