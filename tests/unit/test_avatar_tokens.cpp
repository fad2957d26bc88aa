// Avatar token profiles (PROTOCOL_PROFILE.md section 6) and signed manifests (section 8),
// with certificates from an in-test operator CA.
#include <gtest/gtest.h>

#include <cjson/cJSON.h>

#include <memory>
#include <string>
#include <utility>

#include "avatar/ephemeral.h"
#include "avatar/manifest.h"
#include "avatar/tokens.h"
#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "imsdc/port_fake.h"
#include "vectors/fixed_files.h"

namespace imsdc {
namespace {

using crypto::MemoryKeystore;

constexpr std::int64_t kNow = fake::kDefaultWallS;
constexpr const char* kImpu = "sip:alice@ims.example.org";

std::unique_ptr<MemoryKeystore> new_keystore() {
  auto k = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(k.is_ok());
  return std::make_unique<MemoryKeystore>(std::move(k.value()));
}

Bytes issue(const MemoryKeystore& issuer, const MemoryKeystore& subject, const char* cn, bool is_ca,
            const char* uri) {
  crypto::internal::CertSpec spec;
  spec.subject_cn = cn;
  spec.issuer_cn = "Operator CA";
  spec.uri_san = uri;
  spec.subject_key = subject.key().public_key();
  spec.not_before = kNow - 86400;
  spec.not_after = kNow + 86400;
  spec.is_ca = is_ca;
  auto der = crypto::internal::issue_cert(*issuer.port(), spec);
  EXPECT_TRUE(der.is_ok()) << der.status().message();
  return der.is_ok() ? der.value() : Bytes();
}

struct Pki {
  std::unique_ptr<MemoryKeystore> ca_ks = new_keystore();
  std::unique_ptr<MemoryKeystore> ks = new_keystore();
  Bytes ca;
  crypto::TrustStore trust;
  explicit Pki(const char* uri = kImpu) {
    ca = issue(*ca_ks, *ca_ks, "Operator CA", true, "");
    EXPECT_TRUE(ks->set_chain({issue(*ca_ks, *ks, "alice", false, uri), ca}).is_ok());
    EXPECT_TRUE(trust.add_der(ca).is_ok());
  }
};

struct JsonDeleter {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};
using Json = std::unique_ptr<cJSON, JsonDeleter>;

// Verifies with the SDK's own verifier (typ, chain, identity = leaf URI) and parses claims.
Json verified_claims(const Pki& pki, const std::string& jws, const char* typ) {
  jose::VerifyOptions o;
  o.trust = &pki.trust;
  o.now_s = kNow;
  o.expect_typ = typ;
  auto v = jose::jws_verify_x5c(jws, o);
  EXPECT_TRUE(v.is_ok()) << v.status().name() << " " << v.status().message();
  if (!v) return Json();
  EXPECT_EQ(v.value().identity, kImpu);
  return Json(cJSON_Parse(v.value().payload_json.c_str()));
}

std::string str(const Json& j, const char* name) {
  const cJSON* i = cJSON_GetObjectItemCaseSensitive(j.get(), name);
  return i && cJSON_IsString(i) ? i->valuestring : "<absent>";
}
double num(const Json& j, const char* name) {
  const cJSON* i = cJSON_GetObjectItemCaseSensitive(j.get(), name);
  return i && cJSON_IsNumber(i) ? i->valuedouble : -1;
}

class AvatarTokens : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
};

TEST_F(AvatarTokens, AttestationPerRendering) {
  Pki pki;
  auto eph = avatar::EphemeralKey::generate(kNow);
  ASSERT_TRUE(eph.is_ok());
  for (avatar::Rendering r : {avatar::Rendering::kNetwork, avatar::Rendering::kSendingUe,
                              avatar::Rendering::kReceivingUe}) {
    avatar::AttestationClaims c;
    c.avatar_id = "av-1";
    c.dc_as = "dcas.ims.example.org";
    c.aud = "bar.ims.example.org";
    c.rendering = r;
    c.epk = r == avatar::Rendering::kNetwork ? nullptr : &eph.value().public_key();
    c.times.now_s = kNow;
    auto t = avatar::make_attestation(*pki.ks->port(), c);
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    Json j = verified_claims(pki, t.value().jws, avatar::kTypAttestation);
    ASSERT_TRUE(j);
    EXPECT_EQ(str(j, "iss"), kImpu);
    EXPECT_EQ(str(j, "avatar_id"), "av-1");
    EXPECT_EQ(str(j, "dc_as"), "dcas.ims.example.org");
    EXPECT_EQ(str(j, "aud"), "bar.ims.example.org");
    EXPECT_EQ(str(j, "rendering"), avatar::rendering_name(r));
    EXPECT_EQ(num(j, "iat"), static_cast<double>(kNow));
    EXPECT_EQ(num(j, "exp"), static_cast<double>(kNow + IMSDC_TOKEN_LIFETIME_S));
    EXPECT_EQ(str(j, "jti"), t.value().jti);
    EXPECT_EQ(t.value().jti.size(), 22u);
    const cJSON* epk = cJSON_GetObjectItemCaseSensitive(j.get(), "epk");
    if (r == avatar::Rendering::kNetwork) {
      EXPECT_EQ(epk, nullptr);
    } else {
      ASSERT_NE(epk, nullptr);
      char* text = cJSON_PrintUnformatted(epk);
      auto pub = crypto::jwk_to_public(text);
      cJSON_free(text);
      ASSERT_TRUE(pub.is_ok());
      EXPECT_EQ(pub.value(), eph.value().public_key());
    }
  }
  // The epk rule is enforced, not just documented.
  avatar::AttestationClaims bad;
  bad.avatar_id = "av-1";
  bad.dc_as = "dcas";
  bad.aud = "bar";
  bad.times.now_s = kNow;
  bad.rendering = avatar::Rendering::kSendingUe;
  EXPECT_EQ(avatar::make_attestation(*pki.ks->port(), bad).status(), Code::kInvalidArgument);
  bad.rendering = avatar::Rendering::kNetwork;
  bad.epk = &eph.value().public_key();
  EXPECT_EQ(avatar::make_attestation(*pki.ks->port(), bad).status(), Code::kInvalidArgument);
  // jti is fresh per token.
  bad.epk = nullptr;
  auto a = avatar::make_attestation(*pki.ks->port(), bad);
  auto b = avatar::make_attestation(*pki.ks->port(), bad);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_NE(a.value().jti, b.value().jti);
}

TEST_F(AvatarTokens, OtherProfiles) {
  Pki pki;
  avatar::AvatarTokenClaims at;
  at.avatar_id = "av-9";
  at.sub = "DC-AS";
  at.times.now_s = kNow;
  at.times.lifetime_s = 30;
  auto t1 = avatar::make_avatar_token(*pki.ks->port(), at);
  ASSERT_TRUE(t1.is_ok());
  Json j1 = verified_claims(pki, t1.value().jws, avatar::kTypAvatarToken);
  ASSERT_TRUE(j1);
  EXPECT_EQ(str(j1, "iss"), kImpu);
  EXPECT_EQ(str(j1, "sub"), "DC-AS");
  EXPECT_EQ(str(j1, "aud"), "BAR");
  EXPECT_EQ(str(j1, "avatar_id"), "av-9");
  EXPECT_EQ(num(j1, "exp") - num(j1, "iat"), 30);

  avatar::UeTokenClaims ue;
  ue.aud = "xr-as.ims.example.org";
  ue.times.now_s = kNow;
  auto t2 = avatar::make_ue_token(*pki.ks->port(), ue);
  ASSERT_TRUE(t2.is_ok());
  Json j2 = verified_claims(pki, t2.value().jws, avatar::kTypUeToken);
  ASSERT_TRUE(j2);
  EXPECT_EQ(str(j2, "sub"), kImpu);
  EXPECT_EQ(str(j2, "iss"), "<absent>");
  EXPECT_EQ(str(j2, "aud"), "xr-as.ims.example.org");

  avatar::CcaClaims cca;
  cca.times.now_s = kNow;
  auto t3 = avatar::make_cca(*pki.ks->port(), cca);
  ASSERT_TRUE(t3.is_ok());
  Json j3 = verified_claims(pki, t3.value().jws, avatar::kTypCca);
  ASSERT_TRUE(j3);
  EXPECT_EQ(str(j3, "sub"), kImpu);
  EXPECT_EQ(str(j3, "aud"), "BAR");
  EXPECT_FALSE(str(j3, "jti").empty());
}

TEST_F(AvatarTokens, RefusesWithoutLeafUriOrTime) {
  Pki no_uri("");
  avatar::CcaClaims c;
  c.times.now_s = kNow;
  EXPECT_EQ(avatar::make_cca(*no_uri.ks->port(), c).status(), Code::kBinding);
  auto bare = new_keystore(); // no chain at all
  EXPECT_EQ(avatar::make_cca(*bare->port(), c).status(), Code::kNotFound);
  Pki pki;
  c.times.now_s = -1;
  EXPECT_EQ(avatar::make_cca(*pki.ks->port(), c).status(), Code::kInvalidArgument);
  c.times.now_s = kNow;
  c.times.lifetime_s = 0;
  EXPECT_EQ(avatar::make_cca(*pki.ks->port(), c).status(), Code::kInvalidArgument);
  // A keystore that fails to sign reports the port failure.
  c.times.lifetime_s = 60;
  fake::FaultyKeystore faulty(*pki.ks->port());
  fake::fail_nth(fake::Fn::kKeystoreSign, 1);
  EXPECT_FALSE(avatar::make_cca(*faulty.port(), c).is_ok());
}

// --- manifest ---------------------------------------------------------------------------

std::string manifest_jws(const Pki& signer, const Bytes& rep, const std::string& avatar_id,
                         std::int64_t exp, std::uint64_t size_delta = 0,
                         const char* typ = avatar::kTypManifest) {
  const crypto::Digest d = crypto::sha256(ByteSpan(rep));
  const std::string claims = R"({"avatar_id":")" + avatar_id + R"(","digest":"sha256-)" +
                             base64_encode(ByteSpan(d.data(), d.size())) + R"(","size":)" +
                             std::to_string(rep.size() + size_delta) +
                             R"(,"cty":"model/gltf-binary","iat":)" + std::to_string(kNow) +
                             R"(,"exp":)" + std::to_string(exp) + "}";
  auto jws = jose::jws_sign(*signer.ks->port(), ByteSpan(std::string_view(claims)), typ, true);
  EXPECT_TRUE(jws.is_ok());
  return jws.value();
}

Status stream(const avatar::Manifest& m, fake::MemoryStorage* storage, const Bytes& rep) {
  avatar::ManifestSink sink(m, *storage->port(), "rep");
  for (std::size_t i = 0; i < rep.size(); i += 333)
    IMSDC_TRY(sink.feed(ByteSpan(rep).sub(i, 333)));
  return sink.finish();
}

TEST_F(AvatarTokens, ManifestAcceptAndReject) {
  Pki signer("https://avatars.example.org/signer");
  Bytes rep(10000);
  for (std::size_t i = 0; i < rep.size(); ++i)
    rep[i] = static_cast<std::uint8_t>(i * 7);
  const std::string good = manifest_jws(signer, rep, "av-1", kNow + 3600);
  auto m = avatar::verify_manifest(good, signer.trust, "av-1", kNow);
  ASSERT_TRUE(m.is_ok()) << m.status().name() << " " << m.status().message();
  EXPECT_EQ(m.value().size, rep.size());
  EXPECT_EQ(m.value().cty, "model/gltf-binary");
  {
    fake::MemoryStorage storage;
    ASSERT_TRUE(stream(m.value(), &storage, rep).is_ok());
    ASSERT_NE(storage.blob("rep"), nullptr);
    EXPECT_EQ(*storage.blob("rep"), rep);
  }
  // Content rejections: one changed byte, one byte missing, one byte extra.
  Bytes changed = rep;
  changed[5000] ^= 1;
  Bytes shorter(rep.begin(), rep.end() - 1);
  Bytes longer = rep;
  longer.push_back(0);
  const std::pair<const Bytes*, Code> cases[] = {
      {&changed, Code::kAuthFailed}, {&shorter, Code::kAuthFailed}, {&longer, Code::kTooLarge}};
  for (const auto& [bytes, want] : cases) {
    fake::MemoryStorage storage;
    EXPECT_EQ(stream(m.value(), &storage, *bytes).code(), want);
    EXPECT_EQ(storage.blob("rep"), nullptr);
    EXPECT_EQ(storage.open_blobs(), 0u);
  }
  // Manifest rejections.
  EXPECT_EQ(avatar::verify_manifest(good, signer.trust, "av-2", kNow).status(), Code::kBinding);
  EXPECT_EQ(avatar::verify_manifest(manifest_jws(signer, rep, "av-1", kNow - 100), signer.trust,
                                    "av-1", kNow)
                .status(),
            Code::kExpired);
  EXPECT_EQ(avatar::verify_manifest(manifest_jws(signer, rep, "av-1", kNow + 60, 0, "JWT"),
                                    signer.trust, "av-1", kNow)
                .status(),
            Code::kBinding);
  Pki other;
  EXPECT_EQ(avatar::verify_manifest(good, other.trust, "av-1", kNow).status(), Code::kUntrusted);
  std::string tampered = good;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(avatar::verify_manifest(tampered, signer.trust, "av-1", kNow).is_ok());
  {
    fake::MemoryStorage storage;
    fake::fail_nth(fake::Fn::kStorageCommit, 1);
    EXPECT_EQ(stream(m.value(), &storage, rep).code(), Code::kIo);
    EXPECT_EQ(storage.blob("rep"), nullptr);
  }
}

// The fixed attestation and manifest of tests/unit/data/fixed, signed once by jose (npm) with a
// chain made by Python cryptography (also verified on target, tests/target/t_avatar.cpp).
TEST_F(AvatarTokens, FixedAttestationAndManifestFromJose) {
  namespace fx = test_vectors::fixed;
  crypto::TrustStore trust, wrong;
  ASSERT_TRUE(trust.add_pem(fx::read_file(fx::kRootPem)).is_ok());
  ASSERT_TRUE(wrong.add_pem(fx::read_file(fx::kOtherRootPem)).is_ok());
  auto verify = [&](const std::string& jws, const crypto::TrustStore& t, std::int64_t now) {
    jose::VerifyOptions o;
    o.trust = &t;
    o.now_s = now;
    o.expect_typ = avatar::kTypAttestation;
    return jose::jws_verify_x5c(jws, o);
  };
  const std::string jws = fx::read_file(fx::kAttestationJws);
  auto v = verify(jws, trust, fx::kAvatarNow);
  ASSERT_TRUE(v.is_ok()) << v.status().name() << " " << v.status().message();
  EXPECT_EQ(v.value().identity, fx::kImpu);
  EXPECT_EQ(verify(fx::read_file(fx::kAttestationWrongIssJws), trust, fx::kAvatarNow).status(),
            Code::kBinding);
  EXPECT_EQ(verify(jws, trust, fx::kAttestationExp + 60).status(), Code::kExpired);
  EXPECT_EQ(verify(jws, wrong, fx::kAvatarNow).status(), Code::kUntrusted);

  const std::string rep = fx::read_file(fx::kRepresentation, false);
  auto m = avatar::verify_manifest(fx::read_file(fx::kManifestJws), trust, fx::kAvatarId,
                                   fx::kAvatarNow);
  ASSERT_TRUE(m.is_ok()) << m.status().name() << " " << m.status().message();
  EXPECT_EQ(m.value().size, rep.size());
  fake::MemoryStorage storage;
  ASSERT_TRUE(stream(m.value(), &storage, Bytes(rep.begin(), rep.end())).is_ok());
  EXPECT_EQ(avatar::verify_manifest(fx::read_file(fx::kManifestJws), trust, fx::kAvatarId,
                                    fx::kAvatarNow + 7200)
                .status(),
            Code::kExpired);
}

} // namespace
} // namespace imsdc
