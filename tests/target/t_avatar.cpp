// avatar/ on target, with the fixed vectors of tests/unit/data/fixed that the host tests
// (test_avatar_tokens.cpp, test_avatar_jwe.cpp) read too: an attestation signed by jose with an
// x5c chain (signature, chain, iss = IMPU of the leaf, expiry on a fixed time), the single use
// of the ephemeral key it names, streaming decryption of the representation a jose BAR
// encrypted for that key into ports/baremetal's RamStorage, and the signed manifest.
#include <cjson/cJSON.h>

#include <string>
#include <utility>

#include "avatar/ephemeral.h"
#include "avatar/jwe_decrypt.h"
#include "avatar/manifest.h"
#include "avatar/tokens.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "imsdc/port_baremetal.h"
#include "runner.h"
#include "vectors/aead_vectors.h"
#include "vectors/fixed_vectors.h"

using namespace imsdc;
using imsdc::target::read_data;
using imsdc::target::read_data_line;
namespace fx = imsdc::test_vectors::fixed;

namespace {

constexpr const char* kBlob = "avatar-rep";

bool trust_root(const char* path, crypto::TrustStore* trust) {
  std::string pem;
  return read_data(path, &pem) && trust->add_pem(pem).is_ok();
}

Result<jose::Verified> verify_attestation(const std::string& jws, const crypto::TrustStore& trust,
                                          std::int64_t now,
                                          const char* typ = avatar::kTypAttestation) {
  jose::VerifyOptions o;
  o.trust = &trust;
  o.now_s = now;
  o.expect_typ = typ;
  return jose::jws_verify_x5c(jws, o);
}

// The fixed ephemeral key (its public part is the attestation's epk), valid until the
// attestation's exp.
Result<avatar::EphemeralKey> fixed_key() {
  std::string jwk = read_data_line(fx::kEphemeralPrivateJwk);
  auto priv = crypto::jwk_to_private(jwk);
  if (!priv) return priv.status();
  return avatar::EphemeralKey::adopt(std::move(priv.value()), fx::kAttestationExp);
}

avatar::JweOptions jwe_options(const char* jti = fx::kJti) {
  avatar::JweOptions o;
  o.jti = jti;
  o.now_s = fx::kAvatarNow;
  o.blob_name = kBlob;
  return o;
}

// Feeds `compact` in pieces of `piece` bytes, then finishes.
Result<avatar::JweResult> decrypt(avatar::EphemeralKey& key, baremetal::RamStorage& storage,
                                  const std::string& compact, std::size_t piece,
                                  avatar::JweOptions o = jwe_options()) {
  avatar::JweDecryptor dec(key, *storage.port(), std::move(o));
  for (std::size_t i = 0; i < compact.size(); i += piece) {
    Status s = dec.feed(ByteSpan(std::string_view(compact).substr(i, piece)));
    if (!s) return s;
  }
  return dec.finish();
}

std::string flip(std::string s, std::size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

} // namespace

TEST_CASE(avatar, AttestationFromJoseVerifies) {
  crypto::TrustStore trust;
  REQUIRE(trust_root(fx::kRootPem, &trust));
  const std::string jws = read_data_line(fx::kAttestationJws);
  auto v = verify_attestation(jws, trust, fx::kAvatarNow);
  REQUIRE_OK(v);
  CHECK_EQ(v.value().identity, std::string(fx::kImpu));
  CHECK_EQ(v.value().x5c.size(), std::size_t{2});
  cJSON* claims = cJSON_Parse(v.value().payload_json.c_str());
  REQUIRE(claims != nullptr);
  const cJSON* jti = cJSON_GetObjectItemCaseSensitive(claims, "jti");
  CHECK(cJSON_IsString(jti) && std::string(jti->valuestring) == fx::kJti);
  const cJSON* exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
  CHECK(cJSON_IsNumber(exp) && exp->valuedouble == static_cast<double>(fx::kAttestationExp));
  // The epk it names is the public part of the fixed ephemeral key.
  const cJSON* epk = cJSON_GetObjectItemCaseSensitive(claims, "epk");
  char* epk_text = epk ? cJSON_PrintUnformatted(epk) : nullptr;
  cJSON_Delete(claims);
  REQUIRE(epk_text != nullptr);
  auto pub = crypto::jwk_to_public(epk_text);
  cJSON_free(epk_text);
  REQUIRE_OK(pub);
  auto key = fixed_key();
  REQUIRE_OK(key);
  CHECK(pub.value() == key.value().public_key());
}

TEST_CASE(avatar, AttestationRejects) {
  crypto::TrustStore trust, wrong;
  REQUIRE(trust_root(fx::kRootPem, &trust));
  REQUIRE(trust_root(fx::kOtherRootPem, &wrong));
  const std::string jws = read_data_line(fx::kAttestationJws);
  // iss is not the leaf's URI (same signer, same chain): no identity binding.
  CHECK_CODE(verify_attestation(read_data_line(fx::kAttestationWrongIssJws), trust, fx::kAvatarNow),
             Code::kBinding);
  // Past exp (beyond the verifier's skew).
  CHECK_CODE(verify_attestation(jws, trust, fx::kAttestationExp + 60), Code::kExpired);
  CHECK_CODE(verify_attestation(jws, wrong, fx::kAvatarNow), Code::kUntrusted);
  CHECK_CODE(verify_attestation(jws, trust, fx::kAvatarNow, avatar::kTypAvatarToken),
             Code::kBinding);
  // A changed signature character.
  CHECK_CODE(verify_attestation(flip(jws, jws.size() - 10), trust, fx::kAvatarNow),
             Code::kBadSignature);
}

TEST_CASE(avatar, EphemeralKeySingleUse) {
  auto key = fixed_key();
  REQUIRE_OK(key);
  auto bob = crypto::jwk_to_private(test_vectors::kBobJwk);
  REQUIRE_OK(bob);
  auto z = key.value().consume(bob.value().public_key(), fx::kAvatarNow);
  REQUIRE_OK(z);
  CHECK(key.value().used());
  // The same secret from the other side: the fixed key really was used.
  auto priv = crypto::jwk_to_private(read_data_line(fx::kEphemeralPrivateJwk));
  REQUIRE_OK(priv);
  auto z2 = crypto::ecdh_p256(bob.value(), priv.value().public_key());
  REQUIRE_OK(z2);
  CHECK(constant_time_equal(z.value().span(), z2.value().span()));
  CHECK_CODE(key.value().consume(bob.value().public_key(), fx::kAvatarNow), Code::kKeyUsed);
  CHECK_CODE(key.value().private_jwk(), Code::kKeyUsed);
  // An expired key is refused and destroyed.
  auto late = fixed_key();
  REQUIRE_OK(late);
  CHECK_CODE(late.value().consume(bob.value().public_key(), fx::kAttestationExp), Code::kExpired);
  CHECK_CODE(late.value().consume(bob.value().public_key(), fx::kAvatarNow), Code::kKeyUsed);
}

TEST_CASE(avatar, JweFromJoseDecryptsInPieces) {
  const std::string jwe = read_data_line(fx::kRepresentationJwe);
  Bytes plain;
  REQUIRE(read_data(fx::kRepresentation, &plain));
  REQUIRE(plain.size() == 10000 && !jwe.empty());
  for (std::size_t piece : {1u, 7u, 64u, 1000u, 4097u, 1u << 20}) {
    auto key = fixed_key();
    REQUIRE_OK(key);
    baremetal::RamStorage storage;
    auto r = decrypt(key.value(), storage, jwe, piece);
    CHECK_MSG(r.is_ok(), "piece " + imsdc::target::to_text(piece) + ": " +
                             imsdc::target::describe(r.status()));
    if (!r) continue;
    CHECK_EQ(r.value().cty, std::string(fx::kCty));
    CHECK_EQ(r.value().size, std::uint64_t{plain.size()});
    const auto* blob = storage.blob(kBlob);
    CHECK_MSG(blob != nullptr && *blob == plain,
              "plaintext, piece " + imsdc::target::to_text(piece));
    CHECK_EQ(storage.open_blobs(), std::size_t{0});
    CHECK(key.value().used());
    // One answer, one attempt: the same key cannot decrypt again.
    baremetal::RamStorage again;
    CHECK_CODE(decrypt(key.value(), again, jwe, 4096), Code::kKeyUsed);
    CHECK(again.blob(kBlob) == nullptr);
  }
}

TEST_CASE(avatar, JweTamperAndWrongApvCommitNothing) {
  const std::string jwe = read_data_line(fx::kRepresentationJwe);
  REQUIRE(!jwe.empty());
  const std::size_t d3 = jwe.find('.', jwe.find('.') + 2), d4 = jwe.find('.', d3 + 1);
  REQUIRE(d3 != std::string::npos && d4 != std::string::npos);
  struct Case {
    std::string compact;
    const char* jti;
    Code want;
    const char* what;
  };
  const Case cases[] = {
      {flip(jwe, d3 + 5000), fx::kJti, Code::kAuthFailed, "ciphertext byte"},
      {flip(jwe, d4 + 3), fx::kJti, Code::kAuthFailed, "tag"},
      {flip(jwe, d3 - 3), fx::kJti, Code::kAuthFailed, "IV"},
      {jwe, "another-jti", Code::kBinding, "wrong apv"},
      {jwe.substr(0, d4), fx::kJti, Code::kMalformed, "truncated before the tag"},
  };
  for (const Case& c : cases) {
    for (std::size_t piece : {13u, 4096u}) {
      auto key = fixed_key();
      REQUIRE_OK(key);
      baremetal::RamStorage storage;
      auto r = decrypt(key.value(), storage, c.compact, piece, jwe_options(c.jti));
      CHECK_MSG(r.status().code() == c.want,
                std::string(c.what) + ": " + imsdc::target::describe(r.status()));
      CHECK_MSG(storage.blob(kBlob) == nullptr, c.what);
      CHECK_MSG(storage.open_blobs() == 0, c.what);
      CHECK_MSG(key.value().used(), c.what); // a failed attempt destroys the key too
    }
  }
  // An expired key: nothing decrypted either.
  auto key = fixed_key();
  REQUIRE_OK(key);
  baremetal::RamStorage storage;
  avatar::JweOptions late = jwe_options();
  late.now_s = fx::kAttestationExp;
  CHECK_CODE(decrypt(key.value(), storage, jwe, 4096, late), Code::kExpired);
  CHECK(storage.blob(kBlob) == nullptr);
}

TEST_CASE(avatar, ManifestFromJoseAcceptAndReject) {
  crypto::TrustStore trust, wrong;
  REQUIRE(trust_root(fx::kRootPem, &trust));
  REQUIRE(trust_root(fx::kOtherRootPem, &wrong));
  const std::string jws = read_data_line(fx::kManifestJws);
  Bytes rep;
  REQUIRE(read_data(fx::kRepresentation, &rep));
  auto m = avatar::verify_manifest(jws, trust, fx::kAvatarId, fx::kAvatarNow);
  REQUIRE_OK(m);
  CHECK_EQ(m.value().size, std::uint64_t{rep.size()});
  CHECK_EQ(m.value().cty, std::string(fx::kCty));
  CHECK(m.value().digest == crypto::sha256(rep));
  auto stream = [&](const Bytes& bytes, baremetal::RamStorage* storage) {
    avatar::ManifestSink sink(m.value(), *storage->port(), "rep");
    for (std::size_t i = 0; i < bytes.size(); i += 333)
      IMSDC_TRY(sink.feed(ByteSpan(bytes).sub(i, 333)));
    return sink.finish();
  };
  {
    baremetal::RamStorage storage;
    CHECK_OK(stream(rep, &storage));
    CHECK(storage.blob("rep") != nullptr && *storage.blob("rep") == rep);
  }
  {
    Bytes changed = rep;
    changed[5000] ^= 1;
    baremetal::RamStorage storage;
    CHECK_CODE(stream(changed, &storage), Code::kAuthFailed);
    CHECK(storage.blob("rep") == nullptr);
    CHECK_EQ(storage.open_blobs(), std::size_t{0});
  }
  CHECK_CODE(avatar::verify_manifest(jws, trust, "av-2", fx::kAvatarNow), Code::kBinding);
  CHECK_CODE(avatar::verify_manifest(jws, trust, fx::kAvatarId, fx::kAvatarNow + 7200),
             Code::kExpired);
  CHECK_CODE(avatar::verify_manifest(jws, wrong, fx::kAvatarId, fx::kAvatarNow), Code::kUntrusted);
}
