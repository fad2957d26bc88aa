// Real messages captured from the labnet Kamailio 5.6 (tests/labnet/capture.sh): what an
// eP-CSCF actually sends must parse, and its challenges and relayed INVITE must carry what
// the registration and call code rely on.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sdp/sdp.h"
#include "sip/auth.h"
#include "sip/message.h"
#include "sip/uri.h"

using namespace imsdc;

namespace {

std::string capture(const char* name) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/sip/kamailio/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

} // namespace

TEST(SipKamailio, DigestChallengesSelectTheirAlgorithm) {
  struct Case {
    const char* file;
    sip::DigestAlgorithm alg;
  } cases[] = {{"register-401-sha256.sip", sip::DigestAlgorithm::kSha256},
               {"register-401-md5.sip", sip::DigestAlgorithm::kMd5}};
  for (const auto& c : cases) {
    std::string text = capture(c.file);
    ASSERT_FALSE(text.empty()) << c.file;
    auto m = sip::parse_message(ByteSpan(text));
    ASSERT_TRUE(m.is_ok()) << c.file << ": " << m.status().message();
    EXPECT_EQ(m.value().status_code(), 401);
    auto ch = sip::select_challenge(m.value(), sip::CredentialKind::kDigest);
    ASSERT_TRUE(ch.is_ok()) << c.file;
    EXPECT_EQ(ch.value().realm, "ims.example");
    EXPECT_EQ(ch.value().algorithm, c.alg);
    EXPECT_TRUE(ch.value().qop_auth);
    EXPECT_FALSE(ch.value().nonce.empty());
  }
}

TEST(SipKamailio, RegisterOkCarriesOutboundAndGruu) {
  std::string text = capture("register-200.sip");
  auto m = sip::parse_message(ByteSpan(text));
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m.value().status_code(), 200);
  EXPECT_NE(m.value().header("Require").find("outbound"), std::string_view::npos);
  std::string_view contact = m.value().header("Contact");
  auto na = sip::parse_name_addr(contact);
  ASSERT_TRUE(na.is_ok());
  EXPECT_NE(contact.find("+sip.instance="), std::string_view::npos);
  EXPECT_NE(contact.find("reg-id=1"), std::string_view::npos);
  EXPECT_NE(contact.find("pub-gruu="), std::string_view::npos);
}

TEST(SipKamailio, RelayedInviteKeepsRoutingAndSdp) {
  std::string text = capture("invite-relayed.sip");
  auto m = sip::parse_message(ByteSpan(text));
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m.value().method(), "INVITE");
  auto vias = m.value().header_values("Via");
  ASSERT_TRUE(vias.is_ok());
  EXPECT_EQ(vias.value().size(), 2u); // the proxy's and the caller's
  auto rr = m.value().header_values("Record-Route");
  ASSERT_TRUE(rr.is_ok());
  EXPECT_GE(rr.value().size(), 1u);
  EXPECT_TRUE(m.value().header("Authorization").empty());
  EXPECT_TRUE(m.value().header("Proxy-Authorization").empty());
  auto sdp = sdp::parse(m.value().body().as_string());
  ASSERT_TRUE(sdp.is_ok()) << sdp.status().message();
  ASSERT_FALSE(sdp.value().media.empty());
  EXPECT_EQ(sdp.value().media[0].media, "audio"); // speech first (TS 26.114)
  bool has_dc = false;
  for (const auto& md : sdp.value().media)
    has_dc = has_dc || md.is_data_channel;
  EXPECT_TRUE(has_dc);
}

TEST(SipKamailio, ProvisionalAndFinalAnswersParse) {
  for (const char* f : {"invite-100.sip", "invite-486.sip"}) {
    std::string text = capture(f);
    auto m = sip::parse_message(ByteSpan(text));
    ASSERT_TRUE(m.is_ok()) << f << ": " << m.status().message();
    EXPECT_FALSE(m.value().is_request());
  }
}
