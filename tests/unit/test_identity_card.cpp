// Caller card statuses: PASSporTs signed here with an STI test CA, verified against INVITEs.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "crypto/internal.h"
#include "identity/identity.h"
#include "identity/jcs.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "imsdc/port_fake.h"
#include "sip/message.h"
#include "vectors/fixed_files.h"

namespace imsdc::identity {
namespace {

constexpr std::int64_t kNow = 1800000000;
constexpr const char* kX5u = "https://cert.example/sti.pem";

std::unique_ptr<crypto::MemoryKeystore> new_keystore() {
  auto k = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(k.is_ok());
  return std::make_unique<crypto::MemoryKeystore>(std::move(k.value()));
}

Bytes issue(const crypto::MemoryKeystore& issuer, const crypto::MemoryKeystore& subject,
            const char* cn, bool is_ca) {
  crypto::internal::CertSpec spec;
  spec.subject_cn = cn;
  spec.issuer_cn = "STI Test Root";
  spec.uri_san = "";
  spec.subject_key = subject.key().public_key();
  spec.not_before = kNow - 86400;
  spec.not_after = kNow + 86400;
  spec.is_ca = is_ca;
  auto der = crypto::internal::issue_cert(*issuer.port(), spec);
  EXPECT_TRUE(der.is_ok());
  return der.is_ok() ? der.value() : Bytes();
}

std::string digest(std::string_view data) {
  const crypto::Digest d = crypto::sha256(ByteSpan(data));
  return "sha256-" + base64_encode(ByteSpan(d.data(), d.size()));
}

int map_fetch(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out, std::size_t cap,
              std::size_t* out_len) {
  const auto* files = static_cast<const std::map<std::string, std::string>*>(ctx);
  auto it = files->find(std::string(url, url_len));
  if (it == files->end() || it->second.size() > cap) return -1;
  std::copy(it->second.begin(), it->second.end(), out);
  *out_len = it->second.size();
  return 0;
}

class IdentityCard : public ::testing::Test {
protected:
  void SetUp() override {
    fake::reset();
    root_ks_ = new_keystore();
    sti_ks_ = new_keystore();
    root_ = issue(*root_ks_, *root_ks_, "STI Test Root", true);
    leaf_ = issue(*root_ks_, *sti_ks_, "SHAKEN 1234", false);
    ASSERT_TRUE(trust_.add_der(root_).is_ok());
    files_[kX5u] = crypto::cert_to_pem(leaf_);
    files_["https://rcd.example/icon.png"] = "\x89PNG icon bytes";
    cfg_.trust = &trust_;
    cfg_.now_s = kNow;
    cfg_.fetcher.fetch = map_fetch;
    cfg_.fetcher.ctx = &files_;
  }
  void TearDown() override { fake::reset(); }

  std::string sign(const std::string& ppt, const std::string& claims) {
    std::string header =
        "{\"alg\":\"ES256\",\"ppt\":\"" + ppt + "\",\"typ\":\"passport\",\"x5u\":\"" + kX5u + "\"}";
    auto jws = jose::jws_sign_with_header(*sti_ks_->port(), header, ByteSpan(claims));
    EXPECT_TRUE(jws.is_ok()) << jws.status().message();
    return jws.is_ok() ? jws.value() : std::string();
  }

  std::string claims(const std::string& extra, std::int64_t iat = kNow) {
    return "{\"dest\":{\"tn\":[\"15552220002\"]},\"iat\":" + std::to_string(iat) +
           ",\"orig\":{\"tn\":\"15551110001\"}" + extra + "}";
  }

  Result<CallerCard> verify(const std::string& identity, const std::string& pai_params = "",
                            const std::string& avatar = "") {
    std::string m = "INVITE sip:+15552220002@ims.example;user=phone SIP/2.0\r\n"
                    "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n"
                    "From: \"Spoof\" <sip:alice@ims.example>;tag=1\r\n"
                    "To: <tel:+1-555-222-0002>\r\n"
                    "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
                    "P-Asserted-Identity: <sip:+15551110001@ims.example;user=phone" +
                    pai_params + ">\r\n";
    if (!identity.empty()) m += "Identity: " + identity + ";info=<" + kX5u + ">;alg=ES256\r\n";
    if (!avatar.empty()) m += "Call-Info: <" + avatar + ">;purpose=avatar\r\n";
    m += "Content-Length: 0\r\n\r\n";
    auto msg = sip::parse_message(ByteSpan(std::string_view(m)));
    EXPECT_TRUE(msg.is_ok()) << msg.status().message();
    if (!msg) return msg.status();
    return verify_request(msg.value(), cfg_);
  }

  std::unique_ptr<crypto::MemoryKeystore> root_ks_, sti_ks_;
  Bytes root_, leaf_;
  crypto::TrustStore trust_;
  std::map<std::string, std::string> files_;
  VerifyConfig cfg_;
};

TEST_F(IdentityCard, NoIdentityUsesVerstat) {
  auto c = verify("", ";verstat=TN-Validation-Passed");
  ASSERT_TRUE(c.is_ok());
  EXPECT_FALSE(c->has_identity);
  EXPECT_EQ(c->number.status, FieldStatus::kVerifiedNetwork);
  EXPECT_EQ(c->number.value, "+15551110001");
  EXPECT_EQ(c->verstat, "TN-Validation-Passed");
  EXPECT_EQ(c->name.status, FieldStatus::kUnverified); // display name of From
  auto none = verify("");
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->number.status, FieldStatus::kUnverified);
  auto failed = verify("", ";verstat=TN-Validation-Failed");
  ASSERT_TRUE(failed.is_ok());
  EXPECT_EQ(failed->number.status, FieldStatus::kFailed);
}

TEST_F(IdentityCard, ShakenAttestation) {
  auto a = verify(sign("shaken", claims(",\"attest\":\"A\",\"origid\":\"x\"")));
  ASSERT_TRUE(a.is_ok());
  EXPECT_TRUE(a->passport_verified);
  EXPECT_EQ(a->number.status, FieldStatus::kVerifiedE2e) << a->number.reason;
  EXPECT_EQ(a->attest, "A");
  auto b = verify(sign("shaken", claims(",\"attest\":\"B\",\"origid\":\"x\"")));
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->number.status, FieldStatus::kNotAttested);
  EXPECT_EQ(b->attest, "B");
}

TEST_F(IdentityCard, PassportFailures) {
  struct Case {
    std::string identity;
    Code code;
  };
  const Case cases[] = {
      {sign("shaken", claims(",\"attest\":\"A\"", kNow - 61)), Code::kExpired},
      {sign("shaken", claims(",\"attest\":\"A\"", kNow + 61)), Code::kExpired},
      {sign("shaken", "{\"attest\":\"A\",\"dest\":{\"tn\":[\"15559999999\"]},\"iat\":" +
                          std::to_string(kNow) + ",\"orig\":{\"tn\":\"15551110001\"}}"),
       Code::kBinding},
      {sign("shaken", "{\"attest\":\"A\",\"dest\":{\"tn\":[\"15552220002\"]},\"iat\":" +
                          std::to_string(kNow) + ",\"orig\":{\"tn\":\"15550000000\"}}"),
       Code::kBinding},
      {sign("shaken", claims("")), Code::kMalformed},
      {sign("div", claims(",\"attest\":\"A\"")), Code::kUnsupported},
  };
  for (const Case& c : cases) {
    auto card = verify(c.identity, ";verstat=TN-Validation-Passed");
    ASSERT_TRUE(card.is_ok());
    EXPECT_TRUE(card->has_identity);
    EXPECT_FALSE(card->passport_verified);
    EXPECT_EQ(card->passport_status, c.code) << card->passport_status.message();
    EXPECT_EQ(card->number.status, FieldStatus::kFailed);
  }
  // A certificate that does not chain to the STI roots.
  auto other = new_keystore();
  files_[kX5u] = crypto::cert_to_pem(issue(*other, *sti_ks_, "SHAKEN 1234", false));
  auto u = verify(sign("shaken", claims(",\"attest\":\"A\"")));
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->passport_status, Code::kUntrusted);
}

TEST_F(IdentityCard, RichCallData) {
  const std::string jcd = R"(["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice Ltd"],)"
                          R"(["org",{},"text","Example Org"]]])";
  auto jcd_canon = jcs_canonicalize(jcd);
  ASSERT_TRUE(jcd_canon.is_ok());
  const std::string icon = "https://rcd.example/icon.png";
  const std::string rcdi = ",\"rcdi\":{\"/nam\":\"" + digest("\"Alice\"") + "\",\"/jcd\":\"" +
                           digest(jcd_canon.value()) + "\",\"/icn\":\"" + digest(files_[icon]) +
                           "\"}";
  const std::string rcd =
      ",\"rcd\":{\"icn\":\"" + icon + "\",\"jcd\":" + jcd + ",\"nam\":\"Alice\"}";
  auto c = verify(sign("rcd", claims(rcd + rcdi + ",\"crn\":\"Lunch\"")), "", icon);
  ASSERT_TRUE(c.is_ok());
  ASSERT_TRUE(c->passport_verified) << c->passport_status.message();
  EXPECT_EQ(c->name.value, "Alice");
  EXPECT_EQ(c->name.status, FieldStatus::kVerifiedE2e) << c->name.reason;
  EXPECT_EQ(c->organization.value, "Example Org");
  EXPECT_EQ(c->organization.status, FieldStatus::kVerifiedE2e);
  EXPECT_EQ(c->photo.status, FieldStatus::kVerifiedE2e) << c->photo.reason;
  EXPECT_EQ(c->avatar.status, FieldStatus::kVerifiedE2e) << c->avatar.reason;
  EXPECT_EQ(c->call_reason.value, "Lunch");
  EXPECT_EQ(c->number.status, FieldStatus::kNotAttested); // rcd alone attests nothing

  // A changed icon: the photo and the avatar that points at it fail; the name stays.
  files_[icon] = "\x89PNG icon bytez";
  auto changed = verify(sign("rcd", claims(rcd + rcdi)), "", icon);
  ASSERT_TRUE(changed.is_ok());
  EXPECT_EQ(changed->photo.status, FieldStatus::kFailed);
  EXPECT_EQ(changed->avatar.status, FieldStatus::kFailed);
  EXPECT_EQ(changed->name.status, FieldStatus::kVerifiedE2e);

  // No rcdi entry for nam while rcdi exists: nam failed.
  const std::string partial = ",\"rcdi\":{\"/jcd\":\"" + digest(jcd_canon.value()) + "\"}";
  auto missing =
      verify(sign("rcd", claims(",\"rcd\":{\"jcd\":" + jcd + ",\"nam\":\"Alice\"}" + partial)));
  ASSERT_TRUE(missing.is_ok());
  EXPECT_EQ(missing->name.status, FieldStatus::kFailed);
  EXPECT_EQ(missing->name.reason, "no rcdi digest for /nam");

  // An avatar the PASSporT does not cover stays unverified.
  auto foreign = verify(sign("rcd", claims(rcd + rcdi)), "", "https://bar.example/avatars/x");
  ASSERT_TRUE(foreign.is_ok());
  EXPECT_EQ(foreign->avatar.status, FieldStatus::kUnverified);

  // The network's TN-Validation-Failed demotes every end-to-end claim.
  files_[icon] = "\x89PNG icon bytes";
  auto vf = verify(sign("rcd", claims(rcd + rcdi)), ";verstat=TN-Validation-Failed", icon);
  ASSERT_TRUE(vf.is_ok());
  EXPECT_EQ(vf->number.status, FieldStatus::kFailed);
  EXPECT_EQ(vf->name.status, FieldStatus::kUnverified);
  EXPECT_EQ(vf->avatar.status, FieldStatus::kUnverified);
}

TEST_F(IdentityCard, JsonShape) {
  auto c = verify(sign("shaken", claims(",\"attest\":\"A\"")), ";verstat=TN-Validation-Passed");
  ASSERT_TRUE(c.is_ok());
  const std::string j = caller_card_json(c.value());
  EXPECT_NE(j.find(R"("number":{"value":"+15551110001","status":"verified_e2e")"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"("photo":{"value":null,"status":"unverified")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("verstat":"TN-Validation-Passed","attest":"A"})"), std::string::npos) << j;
}

// The PASSporTs jose (npm) signed once in tests/unit/data/fixed, with the x5u certificate given
// (also verified on target, tests/target/t_identity.cpp).
TEST_F(IdentityCard, FixedPassportsFromJose) {
  namespace fx = test_vectors::fixed;
  ASSERT_EQ(kNow, fx::kIdentityNow);
  ASSERT_EQ(std::string(kX5u), fx::kStiX5u);
  crypto::TrustStore sti;
  ASSERT_TRUE(sti.add_pem(fx::read_file(fx::kStiRootPem)).is_ok());
  cfg_.trust = &sti;
  files_[kX5u] = fx::read_file(fx::kStiLeafPem, false);
  const std::string shaken = fx::read_file(fx::kShakenJws);
  auto a = verify(shaken);
  ASSERT_TRUE(a.is_ok());
  EXPECT_TRUE(a->passport_verified) << a->passport_status.message();
  EXPECT_EQ(a->number.status, FieldStatus::kVerifiedE2e);
  EXPECT_EQ(a->attest, "A");
  auto r = verify(fx::read_file(fx::kRcdJws));
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->passport_verified) << r->passport_status.message();
  EXPECT_EQ(r->name.value, "Alice");
  EXPECT_EQ(r->name.status, FieldStatus::kVerifiedE2e);
  EXPECT_EQ(r->organization.value, "Example Org");

  std::string bad_sig = shaken;
  bad_sig[bad_sig.size() - 10] = bad_sig[bad_sig.size() - 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(bad_sig)->passport_status, Code::kBadSignature);
  cfg_.now_s = kNow + kDefaultIatWindow + 1;
  EXPECT_EQ(verify(shaken)->passport_status, Code::kExpired);
  cfg_.now_s = kNow;
  cfg_.trust = &trust_; // the in-test STI root did not issue the fixed certificate
  EXPECT_EQ(verify(shaken)->passport_status, Code::kUntrusted);
}

} // namespace
} // namespace imsdc::identity
