// crypto/ on target, with the host tests' data: RFC 7515 appendix A.3 (JWS ES256, shared with
// tests/unit/test_crypto_jose.cpp), RFC 7518 appendix C (ECDH P-256, Concat KDF) and GCM test
// case 16 in odd chunk sizes (tests/unit/test_crypto_aead.cpp), and chain verification with
// the fixed test PKI of tests/unit/data/fixed (tests/unit/test_crypto_cert.cpp).
#include <algorithm>
#include <cstring>
#include <vector>

#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "runner.h"
#include "vectors/aead_vectors.h"
#include "vectors/fixed_vectors.h"
#include "vectors/jose_vectors.h"

using namespace imsdc;
using namespace imsdc::test_vectors;

TEST_CASE(crypto, JwsRfc7515AppendixA3) {
  auto parts = jose::jws_parse(kA3Jws);
  REQUIRE_OK(parts);
  CHECK_EQ(parts->alg, std::string("ES256"));
  CHECK_EQ(parts->header_json, std::string(R"({"alg":"ES256"})"));
  std::string payload(parts->payload.begin(), parts->payload.end());
  CHECK_EQ(payload, std::string("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
                                "\"http://example.com/is_root\":true}"));
  auto key = crypto::jwk_to_public(kA3Jwk);
  REQUIRE_OK(key);
  CHECK_OK(jose::jws_verify(parts.value(), key.value()));
  CHECK_OK(crypto::jwk_to_private(kA3Jwk));
}

TEST_CASE(crypto, JwsRfc7515AppendixA3TamperedSignatureFails) {
  std::string jws = kA3Jws;
  jws[jws.size() - 5] = jws[jws.size() - 5] == 'A' ? 'B' : 'A';
  auto parts = jose::jws_parse(jws);
  auto key = crypto::jwk_to_public(kA3Jwk);
  REQUIRE_OK(key);
  CHECK(!parts.is_ok() || !jose::jws_verify(parts.value(), key.value()).is_ok());
}

// --- RFC 7518 appendix C and GCM test case 16 (vectors/aead_vectors.h) ------------------------

namespace {

Bytes unhex(const char* h) {
  auto r = hex_decode(h);
  return r.is_ok() ? r.value() : Bytes();
}

// The streaming AES-GCM API over `in` in chunks of `chunk` bytes.
Status gcm_stream(crypto::AesGcm::Mode mode, const Bytes& in, std::size_t chunk, Bytes* out,
                  std::uint8_t tag[16]) {
  crypto::AesGcm g;
  IMSDC_TRY(g.start(mode, unhex(kGcm16KeyHex), unhex(kGcm16IvHex), unhex(kGcm16AadHex)));
  out->clear();
  std::vector<std::uint8_t> buf(chunk + 16);
  for (std::size_t off = 0; off < in.size(); off += chunk) {
    const std::size_t n = std::min(chunk, in.size() - off);
    std::size_t got = 0;
    IMSDC_TRY(g.update(ByteSpan(in.data() + off, n), buf.data(), buf.size(), &got));
    out->insert(out->end(), buf.begin(), buf.begin() + got);
  }
  std::size_t got = 0;
  Status st = g.finish(buf.data(), buf.size(), &got, tag, 16);
  out->insert(out->end(), buf.begin(), buf.begin() + got);
  return st;
}

} // namespace

TEST_CASE(crypto, EcdhConcatKdfRfc7518AppendixC) {
  auto alice = crypto::jwk_to_private(kAliceJwk);
  auto bob = crypto::jwk_to_private(kBobJwk);
  REQUIRE_OK(alice);
  REQUIRE_OK(bob);
  auto z1 = crypto::ecdh_p256(alice.value(), bob.value().public_key());
  auto z2 = crypto::ecdh_p256(bob.value(), alice.value().public_key());
  REQUIRE_OK(z1);
  REQUIRE_OK(z2);
  CHECK(constant_time_equal(z1.value().span(), ByteSpan(kAppendixCZ, 32)));
  CHECK(constant_time_equal(z2.value().span(), ByteSpan(kAppendixCZ, 32)));
  auto key = crypto::concat_kdf_sha256(z1.value().span(), 128, "A128GCM",
                                       ByteSpan(std::string_view("Alice")),
                                       ByteSpan(std::string_view("Bob")));
  REQUIRE_OK(key);
  CHECK_EQ(base64url_encode(key.value().span()), std::string(kAppendixCKeyB64u));
  // Another apv gives another key: the party info is really part of the derivation.
  auto other = crypto::concat_kdf_sha256(z1.value().span(), 128, "A128GCM",
                                         ByteSpan(std::string_view("Alice")),
                                         ByteSpan(std::string_view("Bot")));
  REQUIRE_OK(other);
  CHECK(base64url_encode(other.value().span()) != std::string(kAppendixCKeyB64u));
  CHECK_CODE(crypto::concat_kdf_sha256(z1.value().span(), 12, "A", ByteSpan(), ByteSpan()),
             Code::kInvalidArgument);
}

TEST_CASE(crypto, GcmTestCase16StreamingInOddChunks) {
  const Bytes plain = unhex(kGcm16PlainHex), cipher = unhex(kGcm16CipherHex);
  const Bytes want_tag = unhex(kGcm16TagHex);
  REQUIRE(plain.size() == 60 && cipher.size() == 60 && want_tag.size() == 16);
  for (std::size_t chunk : {1u, 7u, 15u, 16u, 17u, 4095u}) {
    Bytes out;
    std::uint8_t tag[16];
    CHECK_OK(gcm_stream(crypto::AesGcm::Mode::kEncrypt, plain, chunk, &out, tag));
    CHECK_MSG(out == cipher, "ciphertext, chunk " + imsdc::target::to_text(chunk));
    CHECK_MSG(std::memcmp(tag, want_tag.data(), 16) == 0,
              "tag, chunk " + imsdc::target::to_text(chunk));
    std::uint8_t expect[16];
    std::memcpy(expect, want_tag.data(), 16);
    CHECK_OK(gcm_stream(crypto::AesGcm::Mode::kDecrypt, cipher, chunk, &out, expect));
    CHECK_MSG(out == plain, "plaintext, chunk " + imsdc::target::to_text(chunk));
  }
}

TEST_CASE(crypto, GcmTestCase16TamperIsAuthFailed) {
  const Bytes key = unhex(kGcm16KeyHex), iv = unhex(kGcm16IvHex), aad = unhex(kGcm16AadHex);
  const Bytes cipher = unhex(kGcm16CipherHex), tag = unhex(kGcm16TagHex);
  auto ok = crypto::aes_gcm_decrypt(key, iv, aad, cipher, tag);
  REQUIRE_OK(ok);
  CHECK(ok.value() == unhex(kGcm16PlainHex));
  auto flip = [](Bytes b, std::size_t i) {
    b[i] ^= 0x01;
    return b;
  };
  CHECK_CODE(crypto::aes_gcm_decrypt(key, iv, aad, cipher, flip(tag, 15)), Code::kAuthFailed);
  CHECK_CODE(crypto::aes_gcm_decrypt(key, iv, aad, flip(cipher, 59), tag), Code::kAuthFailed);
  CHECK_CODE(crypto::aes_gcm_decrypt(key, iv, flip(aad, 3), cipher, tag), Code::kAuthFailed);
}

// --- chain verification with the fixed test PKI (vectors/fixed_vectors.h) ---------------------

namespace {

namespace fx = imsdc::test_vectors::fixed;

Bytes read_cert(const char* path) {
  std::string pem;
  if (!imsdc::target::read_data(path, &pem)) return Bytes();
  auto certs = crypto::certs_from_pem(pem);
  if (!certs.is_ok() || certs.value().size() != 1) {
    imsdc::target::fail(__FILE__, __LINE__, "one certificate in", path);
    return Bytes();
  }
  return certs.value()[0];
}

} // namespace

TEST_CASE(crypto, FixedPkiChainVerifies) {
  const Bytes root = read_cert(fx::kRootPem), inter = read_cert(fx::kInterPem);
  const Bytes leaf = read_cert(fx::kLeafPem), other = read_cert(fx::kOtherRootPem);
  REQUIRE(!root.empty() && !inter.empty() && !leaf.empty() && !other.empty());
  auto info = crypto::cert_info(leaf);
  REQUIRE_OK(info);
  REQUIRE(info.value().uri_sans.size() == 1);
  CHECK_EQ(info.value().uri_sans[0], std::string(fx::kImpu));
  CHECK_EQ(info.value().not_before, fx::kLeafNotBefore);
  CHECK_EQ(info.value().not_after, fx::kLeafNotAfter);
  CHECK(!info.value().is_ca);
  crypto::TrustStore trust;
  REQUIRE_OK(trust.add_der(root));
  const std::int64_t now = fx::kAvatarNow;
  CHECK_OK(crypto::verify_chain({leaf, inter}, trust, now));
  // The intermediate is needed: the root did not sign the leaf.
  CHECK_CODE(crypto::verify_chain({leaf}, trust, now), Code::kUntrusted);
  // A root of the same name with another key is not the anchor.
  crypto::TrustStore wrong;
  REQUIRE_OK(wrong.add_der(other));
  CHECK_CODE(crypto::verify_chain({leaf, inter}, wrong, now), Code::kUntrusted);
  CHECK_CODE(crypto::verify_chain({leaf, inter}, crypto::TrustStore(), now), Code::kUntrusted);
  // A changed byte in the leaf's signature breaks the chain.
  Bytes bad = leaf;
  bad[bad.size() - 3] ^= 0x01;
  CHECK_CODE(crypto::verify_chain({bad, inter}, trust, now), Code::kUntrusted);
}

TEST_CASE(crypto, FixedPkiValidityOnAFixedTime) {
  const Bytes root = read_cert(fx::kRootPem), inter = read_cert(fx::kInterPem);
  const Bytes leaf = read_cert(fx::kLeafPem);
  REQUIRE(!root.empty() && !inter.empty() && !leaf.empty());
  crypto::TrustStore trust;
  REQUIRE_OK(trust.add_der(root));
  // The last and first valid seconds of the leaf, then one second outside on either side.
  CHECK_OK(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotAfter));
  CHECK_OK(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotBefore));
  CHECK_CODE(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotAfter + 1), Code::kExpired);
  CHECK_CODE(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotBefore - 1), Code::kExpired);
  CHECK_CODE(crypto::verify_chain({leaf, inter}, trust, -1), Code::kExpired); // time unknown
}
