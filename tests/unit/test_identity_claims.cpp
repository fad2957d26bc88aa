// PASSporT claims and jCard parsers (the pure parts the fuzzers drive), and the caller card
// when a signed inline jCard does not match its rcdi digest or is not a jCard.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "crypto/internal.h"
#include "identity/identity.h"
#include "identity/jcs.h"
#include "imsdc/codec.h"
#include "imsdc/jose.h"
#include "imsdc/port_fake.h"
#include "sip/message.h"

namespace imsdc::identity {
namespace {

// The claims Kamailio's secsipid module wrote on a relayed INVITE (labnet capture).
constexpr const char* kSecsipid =
    R"({"attest":"A","dest":{"tn":["+15552220002"]},"iat":1795444684,)"
    R"("orig":{"tn":"+15551110001"},"origid":"0f770851-0265-49e5-92c2-bfb04d2b984c"})";

TEST(IdentityClaims, SecsipidShaken) {
  auto c = parse_passport_claims(kSecsipid, "shaken");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->iat, 1795444684);
  EXPECT_EQ(c->orig, "15551110001");
  ASSERT_EQ(c->dest.size(), 1u);
  EXPECT_EQ(c->dest[0], "15552220002");
  EXPECT_EQ(c->attest, "A");
  EXPECT_NE(c->json, nullptr);
}

TEST(IdentityClaims, DestThatIsNotANumberIsSkipped) {
  auto c = parse_passport_claims(
      R"({"dest":{"tn":["sip:bob@example.org","1-555-222-0002"]},"iat":1,"orig":{"tn":"1"}})",
      "rcd");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  ASSERT_EQ(c->dest.size(), 1u);
  EXPECT_EQ(c->dest[0], "15552220002");
  EXPECT_TRUE(c->attest.empty()); // rcd PASSporTs need no attestation
}

TEST(IdentityClaims, Rejects) {
  const std::string ok_numbers = R"("dest":{"tn":["2"]},"orig":{"tn":"1"})";
  std::string many = R"({"iat":1,"orig":{"tn":"1"},"dest":{"tn":[)";
  for (std::size_t i = 0; i <= kMaxDestNumbers; ++i)
    many += (i ? ",\"" : "\"") + std::to_string(i + 1) + "\"";
  many += "]}}";
  struct Case {
    std::string json;
    const char* ppt;
    Code code;
  };
  const Case cases[] = {
      {"", "shaken", Code::kMalformed},
      {"[1]", "shaken", Code::kMalformed},
      {"{" + ok_numbers + ",\"attest\":\"A\"}", "shaken", Code::kMalformed}, // no iat
      {"{" + ok_numbers + ",\"attest\":\"A\",\"iat\":\"1\"}", "shaken", Code::kMalformed},
      {"{" + ok_numbers + ",\"attest\":\"A\",\"iat\":-1}", "shaken", Code::kMalformed},
      {"{" + ok_numbers + ",\"attest\":\"A\",\"iat\":1.5}", "shaken", Code::kMalformed},
      {"{" + ok_numbers + ",\"attest\":\"A\",\"iat\":1e300}", "shaken", Code::kMalformed},
      {R"({"attest":"A","iat":1,"dest":{"tn":["2"]}})", "shaken", Code::kMalformed},
      {R"({"attest":"A","iat":1,"dest":{"tn":["2"]},"orig":{"tn":"abc"}})", "shaken",
       Code::kMalformed},
      {R"({"attest":"A","iat":1,"dest":{"tn":"2"},"orig":{"tn":"1"}})", "shaken", Code::kMalformed},
      {R"({"attest":"A","iat":1,"dest":{"tn":[2]},"orig":{"tn":"1"}})", "shaken", Code::kMalformed},
      {many, "rcd", Code::kTooLarge},
      {"{" + ok_numbers + ",\"iat\":1,\"attest\":\"D\"}", "shaken", Code::kMalformed},
      {"{" + ok_numbers + ",\"iat\":1,\"attest\":1}", "rcd", Code::kMalformed},
      {"{" + ok_numbers + ",\"iat\":1}", "shaken", Code::kMalformed}, // SHAKEN needs attest
      {std::string(IMSDC_MAX_JWS_SIZE + 1, ' '), "shaken", Code::kTooLarge},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_passport_claims(c.json, c.ppt).status(), c.code) << c.json.substr(0, 120);
  }
  EXPECT_TRUE(parse_passport_claims("{" + ok_numbers + ",\"iat\":1}", "rcd").is_ok());
}

TEST(IdentityJCard, FieldsAndLinks) {
  auto j = parse_jcard(R"(["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice"],)"
                       R"(["fn",{},"text","Second"],["org",{},"text",["Example Org","Unit"]],)"
                       R"(["photo",{},"uri","https://a.example/p.png"],["logo",{},"uri",1],)"
                       R"(["logo",{},"uri","https://a.example/l.png"]]])");
  ASSERT_TRUE(j.is_ok()) << j.status().message();
  EXPECT_EQ(j->fn, "Alice");
  EXPECT_EQ(j->org, "Example Org");
  ASSERT_EQ(j->links.size(), 2u);
  EXPECT_EQ(j->links[0].index, 4u);
  EXPECT_EQ(j->links[0].name, "photo");
  EXPECT_EQ(j->links[0].uri, "https://a.example/p.png");
  EXPECT_EQ(j->links[1].index, 6u);
  EXPECT_EQ(j->links[1].name, "logo");
}

TEST(IdentityJCard, RejectsAndBounds) {
  for (const char* bad : {"", "{}", "[\"vcard\"]", "[\"vcard\",{}]", "[\"vcalendar\",[]]", "[1,[]]",
                          "[\"vcard\",[]"}) {
    EXPECT_EQ(parse_jcard(bad).status(), Code::kMalformed) << bad;
  }
  EXPECT_EQ(parse_jcard(std::string(kMaxFetchSize + 1, ' ')).status(), Code::kTooLarge);
  // Links past the first kMaxJCardProperties properties are not examined.
  std::string card = "[\"vcard\",[";
  for (std::size_t i = 0; i <= kMaxJCardProperties; ++i)
    card += std::string(i ? "," : "") + R"(["photo",{},"uri","https://a.example/)" +
            std::to_string(i) + "\"]";
  card += "]]";
  auto j = parse_jcard(card);
  ASSERT_TRUE(j.is_ok());
  EXPECT_EQ(j->links.size(), kMaxJCardProperties);
}

// --- the caller card of an rcd PASSporT whose inline jCard (jcd) does not hold up ---

constexpr std::int64_t kNow = 1800000000;
constexpr const char* kX5u = "https://cert.example/sti.pem";

int map_fetch(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out, std::size_t cap,
              std::size_t* out_len) {
  const auto* files = static_cast<const std::map<std::string, std::string>*>(ctx);
  auto it = files->find(std::string(url, url_len));
  if (it == files->end() || it->second.size() > cap) return -1;
  std::copy(it->second.begin(), it->second.end(), out);
  *out_len = it->second.size();
  return 0;
}

std::string digest(std::string_view data) {
  const crypto::Digest d = crypto::sha256(ByteSpan(data));
  return "sha256-" + base64_encode(ByteSpan(d.data(), d.size()));
}

class InlineJCard : public ::testing::Test {
protected:
  void SetUp() override {
    fake::reset();
    auto rk = crypto::EcPrivateKey::generate();
    auto sk = crypto::EcPrivateKey::generate();
    ASSERT_TRUE(rk.is_ok() && sk.is_ok());
    root_ = std::make_unique<crypto::MemoryKeystore>(std::move(rk.value()));
    sti_ = std::make_unique<crypto::MemoryKeystore>(std::move(sk.value()));
    crypto::internal::CertSpec spec;
    spec.issuer_cn = "STI Test Root";
    spec.not_before = kNow - 86400;
    spec.not_after = kNow + 86400;
    spec.subject_cn = "STI Test Root";
    spec.subject_key = root_->key().public_key();
    spec.is_ca = true;
    auto root = crypto::internal::issue_cert(*root_->port(), spec);
    spec.subject_cn = "SHAKEN 1234";
    spec.subject_key = sti_->key().public_key();
    spec.is_ca = false;
    auto leaf = crypto::internal::issue_cert(*root_->port(), spec);
    ASSERT_TRUE(root.is_ok() && leaf.is_ok());
    ASSERT_TRUE(trust_.add_der(root.value()).is_ok());
    files_[kX5u] = crypto::cert_to_pem(leaf.value());
    cfg_.trust = &trust_;
    cfg_.now_s = kNow;
    cfg_.fetcher.fetch = map_fetch;
    cfg_.fetcher.ctx = &files_;
  }
  void TearDown() override { fake::reset(); }

  // The card of an INVITE whose rcd PASSporT carries nam and jcd, with rcdi digests over
  // "Alice" and over signed_jcd (the jCard the signer hashed).
  CallerCard card(const std::string& jcd, const std::string& signed_jcd) {
    auto canon = jcs_canonicalize(signed_jcd);
    EXPECT_TRUE(canon.is_ok());
    const std::string claims = R"({"dest":{"tn":["15552220002"]},"iat":)" + std::to_string(kNow) +
                               R"(,"orig":{"tn":"15551110001"},"rcd":{"jcd":)" + jcd +
                               R"(,"nam":"Alice"},"rcdi":{"/nam":")" + digest("\"Alice\"") +
                               R"(","/jcd":")" + digest(canon.is_ok() ? canon.value() : "") +
                               "\"}}";
    const std::string header =
        std::string(R"({"alg":"ES256","ppt":"rcd","typ":"passport","x5u":")") + kX5u + "\"}";
    auto jws = jose::jws_sign_with_header(*sti_->port(), header, ByteSpan(claims));
    EXPECT_TRUE(jws.is_ok());
    const std::string m = "INVITE sip:+15552220002@ims.example;user=phone SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP a.invalid;branch=z9hG4bK1\r\n"
                          "From: <sip:+15551110001@ims.example;user=phone>;tag=1\r\n"
                          "To: <sip:+15552220002@ims.example;user=phone>\r\n"
                          "Call-ID: c1\r\nCSeq: 1 INVITE\r\nIdentity: " +
                          (jws.is_ok() ? jws.value() : "") + ";info=<" + kX5u +
                          ">;alg=ES256;ppt=rcd\r\nContent-Length: 0\r\n\r\n";
    auto msg = sip::parse_message(ByteSpan(std::string_view(m)));
    EXPECT_TRUE(msg.is_ok());
    auto c = verify_request(msg.value(), cfg_);
    EXPECT_TRUE(c.is_ok());
    return c.is_ok() ? std::move(c.value()) : CallerCard();
  }

  std::unique_ptr<crypto::MemoryKeystore> root_, sti_;
  crypto::TrustStore trust_;
  std::map<std::string, std::string> files_;
  VerifyConfig cfg_;
};

const std::string kJcd = R"(["vcard",[["fn",{},"text","Alice Ltd"],["org",{},"text","Org"]]])";

TEST_F(InlineJCard, Verified) {
  CallerCard c = card(kJcd, kJcd);
  ASSERT_TRUE(c.passport_verified) << c.passport_status.message();
  EXPECT_EQ(c.organization.value, "Org");
  EXPECT_EQ(c.organization.status, FieldStatus::kVerifiedE2e) << c.organization.reason;
  EXPECT_EQ(c.name.value, "Alice"); // nam wins over the jCard's fn
  EXPECT_EQ(c.name.status, FieldStatus::kVerifiedE2e);
}

TEST_F(InlineJCard, DigestMismatchFailsTheOrganization) {
  const std::string other = R"(["vcard",[["fn",{},"text","Alice Ltd"],["org",{},"text","Orh"]]])";
  CallerCard c = card(kJcd, other);
  ASSERT_TRUE(c.passport_verified);
  EXPECT_EQ(c.organization.status, FieldStatus::kFailed);
  EXPECT_EQ(c.organization.reason, "rcdi digest mismatch for /jcd");
  EXPECT_FALSE(c.organization.present); // a value nobody vouched for is not shown
  EXPECT_EQ(c.name.status, FieldStatus::kVerifiedE2e) << c.name.reason; // nam has its own digest
}

TEST_F(InlineJCard, SignedValueThatIsNotAJCard) {
  CallerCard c = card(R"({"fn":"Alice Ltd"})", R"({"fn":"Alice Ltd"})");
  ASSERT_TRUE(c.passport_verified);
  EXPECT_EQ(c.organization.status, FieldStatus::kFailed);
  EXPECT_EQ(c.organization.reason, "the signed jcd is not a jCard");
}

} // namespace
} // namespace imsdc::identity
