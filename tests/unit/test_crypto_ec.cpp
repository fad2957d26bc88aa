// crypto: DRBG, P-256 keys, PEM, SHA-256, ECDSA, DER<->raw signatures, keystore wrappers
// and the keystore-backed mbedTLS pk.
#include <gtest/gtest.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include <cstring>
#include <string>
#include <vector>

#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"

namespace imsdc {
namespace {

using crypto::EcPrivateKey;
using crypto::MemoryKeystore;

class CryptoEc : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
};

Bytes unhex(std::string_view h) {
  auto r = hex_decode(h);
  EXPECT_TRUE(r.is_ok()) << h;
  return r.is_ok() ? r.value() : Bytes();
}

// The P-256 group order n.
const char* const kOrderHex = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

// PKCS#8 P-256 key made with `openssl genpkey` and its public point (from `openssl pkey`).
const char* const kPkcs8Pem = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEunWiFJqUMX4VXsT\n"
                              "N9yu8SeySXfilKvvBnclfhJ5ihuhRANCAAQx66qTIVaBrkK235ItwQsHwb8E928A\n"
                              "bw2e8MjJuLWA9dWlPcePfOtAmvb/JshYJZYiftYadfeDNzH02tmGG3aP\n"
                              "-----END PRIVATE KEY-----\n";
const char* const kPkcs8PubHex = "31ebaa93215681ae42b6df922dc10b07c1bf04f76f006f0d9ef0c8c9b8b580f5"
                                 "d5a53dc78f7ceb409af6ff26c8582596227ed61a75f7833731f4dad9861b768f";
const char* const kP384Pem = "-----BEGIN PRIVATE KEY-----\n"
                             "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCpDOkQZkL9wKY/JGOK\n"
                             "FeMHiSyLHXJLKSN/M46594/f/IiqxB51v9uGltXw+QtNr8yhZANiAAR9fHVkJ4b3\n"
                             "pWKh1ZAM52R9I/G44opN26u7A2U1OwXnRDRZe2FPBGV8Iah+L1lRYddGKsOdrbhc\n"
                             "akLB7C6MFTIcwe/OLBttcqXrF2DvZg2jDU85cH8IXz+LbG9egpz0th0=\n"
                             "-----END PRIVATE KEY-----\n";

TEST_F(CryptoEc, RandomBytesFillAndDiffer) {
  std::uint8_t a[2000] = {}, b[2000] = {}; // > one CTR-DRBG request
  ASSERT_TRUE(crypto::random_bytes(a, sizeof a).is_ok());
  ASSERT_TRUE(crypto::random_bytes(b, sizeof b).is_ok());
  EXPECT_NE(0, std::memcmp(a, b, sizeof a));
  EXPECT_TRUE(crypto::random_bytes(nullptr, 0).is_ok());
}

TEST_F(CryptoEc, GenerateAndFromScalarAgree) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(k.value().scalar().size(), 32u);
  auto again = EcPrivateKey::from_scalar(k.value().scalar());
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again.value().public_key(), k.value().public_key());
  EXPECT_TRUE(crypto::ec_public_from_xy(ByteSpan(k.value().public_key().xy.data(), 64)).is_ok());
  k.value().destroy();
  EXPECT_TRUE(k.value().empty());
  EXPECT_EQ(crypto::ecdsa_sign_digest(k.value(), crypto::Digest{}).status(), Code::kBadKey);
}

TEST_F(CryptoEc, ScalarRangeIsChecked) {
  Bytes zero(32, 0);
  EXPECT_EQ(EcPrivateKey::from_scalar(zero).status(), Code::kBadKey);
  Bytes n = unhex(kOrderHex);
  EXPECT_EQ(EcPrivateKey::from_scalar(n).status(), Code::kBadKey);
  n[31] -= 1; // n - 1 is the largest valid scalar
  EXPECT_TRUE(EcPrivateKey::from_scalar(n).is_ok());
  EXPECT_EQ(EcPrivateKey::from_scalar(Bytes(31, 1)).status(), Code::kBadKey);
  Bytes one(32, 0);
  one[31] = 1; // d = 1: the public key is the generator
  auto g = EcPrivateKey::from_scalar(one);
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(hex_encode(ByteSpan(g.value().public_key().xy.data(), 32)),
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
}

TEST_F(CryptoEc, PublicPointValidation) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  std::array<std::uint8_t, 64> xy = k.value().public_key().xy;
  xy[63] ^= 1; // y no longer matches x
  EXPECT_EQ(crypto::ec_public_from_xy(ByteSpan(xy.data(), 64)).status(), Code::kBadKey);
  EXPECT_EQ(crypto::ec_public_from_xy(Bytes(64, 0)).status(), Code::kBadKey);
  EXPECT_EQ(crypto::ec_public_from_xy(Bytes(65, 4)).status(), Code::kBadKey);
}

TEST_F(CryptoEc, PemRoundTripAndPkcs8) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  auto pem = crypto::private_key_to_pem(k.value());
  ASSERT_TRUE(pem.is_ok());
  std::string text(pem.value().span().as_string());
  EXPECT_NE(text.find("-----BEGIN EC PRIVATE KEY-----"), std::string::npos);
  auto back = crypto::private_key_from_pem(text);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back.value().public_key(), k.value().public_key());
  EXPECT_TRUE(constant_time_equal(back.value().scalar(), k.value().scalar()));

  auto p8 = crypto::private_key_from_pem(kPkcs8Pem);
  ASSERT_TRUE(p8.is_ok());
  EXPECT_EQ(hex_encode(ByteSpan(p8.value().public_key().xy.data(), 64)), kPkcs8PubHex);

  EXPECT_EQ(crypto::private_key_from_pem(kP384Pem).status(), Code::kUnsupported);
  EXPECT_EQ(crypto::private_key_from_pem("not a key").status(), Code::kMalformed);
  EXPECT_EQ(crypto::private_key_from_pem("").status(), Code::kMalformed);

  auto pub = crypto::public_key_to_pem(k.value().public_key());
  ASSERT_TRUE(pub.is_ok());
  EXPECT_EQ(pub.value().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
}

TEST_F(CryptoEc, Sha256KnownAnswerAndStreaming) {
  EXPECT_EQ(hex_encode(ByteSpan(crypto::sha256(ByteSpan(std::string_view("abc"))).data(), 32)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Bytes data(10000);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i * 7);
  crypto::Sha256 h;
  for (std::size_t off = 0; off < data.size();) {
    std::size_t n = std::min<std::size_t>(data.size() - off, 1 + off % 77);
    h.update(ByteSpan(data.data() + off, n));
    off += n;
  }
  EXPECT_EQ(h.finish(), crypto::sha256(data));
  // A finished hasher starts over.
  h.update(ByteSpan(std::string_view("abc")));
  EXPECT_EQ(h.finish(), crypto::sha256(ByteSpan(std::string_view("abc"))));
}

TEST_F(CryptoEc, EcdsaSignVerifyAndTamper) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  crypto::Digest d = crypto::sha256(ByteSpan(std::string_view("message")));
  auto sig = crypto::ecdsa_sign_digest(k.value(), d);
  ASSERT_TRUE(sig.is_ok());
  ByteSpan s(sig.value().data(), 64);
  EXPECT_TRUE(crypto::ecdsa_verify_digest(k.value().public_key(), d, s).is_ok());
  crypto::RawSignature bad = sig.value();
  bad[10] ^= 0x40;
  EXPECT_EQ(crypto::ecdsa_verify_digest(k.value().public_key(), d, ByteSpan(bad.data(), 64)),
            Code::kBadSignature);
  crypto::Digest d2 = d;
  d2[0] ^= 1;
  EXPECT_EQ(crypto::ecdsa_verify_digest(k.value().public_key(), d2, s), Code::kBadSignature);
  EXPECT_EQ(crypto::ecdsa_verify_digest(k.value().public_key(), d, s.sub(0, 63)),
            Code::kBadSignature);
  EXPECT_EQ(crypto::ecdsa_verify_digest(k.value().public_key(), d, Bytes(64, 0)),
            Code::kBadSignature);
}

TEST_F(CryptoEc, DerRawConversion) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  crypto::Digest d = crypto::sha256(ByteSpan(std::string_view("der")));
  auto sig = crypto::ecdsa_sign_digest(k.value(), d);
  ASSERT_TRUE(sig.is_ok());
  auto der = crypto::ecdsa_raw_to_der(ByteSpan(sig.value().data(), 64));
  ASSERT_TRUE(der.is_ok());
  EXPECT_EQ(der.value()[0], 0x30);
  // mbedTLS's own verifier takes DER: an independent check of the encoding.
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  ASSERT_TRUE(crypto::internal::pk_from_public(k.value().public_key(), &pk).is_ok());
  EXPECT_EQ(0, mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, d.data(), d.size(), der.value().data(),
                                 der.value().size()));
  mbedtls_pk_free(&pk);
  auto raw = crypto::ecdsa_der_to_raw(der.value());
  ASSERT_TRUE(raw.is_ok());
  EXPECT_EQ(raw.value(), sig.value());

  // Small integers: leading zero bytes are dropped in DER and restored in raw form.
  Bytes small(64, 0);
  small[31] = 1;
  small[32] = 0x80; // high bit set: DER needs a 0x00 pad byte
  auto der2 = crypto::ecdsa_raw_to_der(small);
  ASSERT_TRUE(der2.is_ok());
  auto raw2 = crypto::ecdsa_der_to_raw(der2.value());
  ASSERT_TRUE(raw2.is_ok());
  EXPECT_EQ(Bytes(raw2.value().begin(), raw2.value().end()), small);

  Bytes trailing = der.value();
  trailing.push_back(0);
  EXPECT_EQ(crypto::ecdsa_der_to_raw(trailing).status(), Code::kMalformed);
  Bytes truncated(der.value().begin(), der.value().end() - 1);
  EXPECT_EQ(crypto::ecdsa_der_to_raw(truncated).status(), Code::kMalformed);
  EXPECT_EQ(crypto::ecdsa_der_to_raw(Bytes()).status(), Code::kMalformed);
  // An INTEGER of 33 significant bytes cannot be a P-256 value.
  Bytes big = {0x30, 0x26, 0x02, 0x21, 0x01};
  big.insert(big.end(), 32, 0x11);
  big.insert(big.end(), {0x02, 0x01, 0x01});
  EXPECT_EQ(crypto::ecdsa_der_to_raw(big).status(), Code::kMalformed);
  EXPECT_EQ(crypto::ecdsa_raw_to_der(Bytes(63, 1)).status(), Code::kMalformed);
}

// --- keystore -----------------------------------------------------------------------------

std::unique_ptr<MemoryKeystore> new_keystore() {
  auto k = EcPrivateKey::generate();
  EXPECT_TRUE(k.is_ok());
  return std::make_unique<MemoryKeystore>(std::move(k.value()));
}

TEST_F(CryptoEc, MemoryKeystoreSignsThroughThePort) {
  auto ks = new_keystore();
  auto pub = crypto::keystore_public_key(*ks->port());
  ASSERT_TRUE(pub.is_ok());
  EXPECT_EQ(pub.value(), ks->key().public_key());
  crypto::Digest d = crypto::sha256(ByteSpan(std::string_view("x")));
  auto sig = crypto::keystore_sign_digest(*ks->port(), d);
  ASSERT_TRUE(sig.is_ok());
  EXPECT_TRUE(
      crypto::ecdsa_verify_digest(pub.value(), d, ByteSpan(sig.value().data(), 64)).is_ok());
  // No chain stored yet.
  EXPECT_EQ(crypto::keystore_chain(*ks->port()).status(), Code::kNotFound);
}

TEST_F(CryptoEc, KeystoreContractIsChecked) {
  auto ks = new_keystore();
  imsdc_port_keystore p = *ks->port();
  p.version = 0;
  EXPECT_EQ(crypto::keystore_public_key(p).status(), Code::kPortFailure);
  p = *ks->port();
  p.sign_digest = nullptr;
  EXPECT_EQ(crypto::keystore_sign_digest(p, crypto::Digest{}).status(), Code::kPortFailure);
  p = *ks->port();
  p.cert_chain = nullptr;
  EXPECT_EQ(crypto::keystore_chain(p).status(), Code::kPortFailure);
  // A port whose "signature" is zero is broken.
  p = *ks->port();
  p.sign_digest = [](void*, const std::uint8_t*, std::uint8_t* out) {
    std::memset(out, 0, 64);
    return 0;
  };
  EXPECT_EQ(crypto::keystore_sign_digest(p, crypto::Digest{}).status(), Code::kPortFailure);
  p.sign_digest = [](void*, const std::uint8_t*, std::uint8_t*) { return IMSDC_PORT_EDENIED; };
  EXPECT_EQ(crypto::keystore_sign_digest(p, crypto::Digest{}).status(), Code::kPortFailure);
  p.sign_digest = [](void*, const std::uint8_t*, std::uint8_t*) { return IMSDC_PORT_ENOENT; };
  EXPECT_EQ(crypto::keystore_sign_digest(p, crypto::Digest{}).status(), Code::kNotFound);
  // A public key that is not on the curve.
  p.public_key = [](void*, std::uint8_t* out) {
    std::memset(out, 7, 64);
    return 0;
  };
  EXPECT_EQ(crypto::keystore_public_key(p).status(), Code::kPortFailure);
}

// A scripted chain port: `sizes` certificates of the given sizes (dummy bytes).
struct ChainPort {
  std::vector<std::size_t> sizes;
  bool lie_about_size = false;
  int calls = 0;
  static int chain(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                   std::size_t* out_len) {
    auto* self = static_cast<ChainPort*>(ctx);
    ++self->calls;
    if (index >= self->sizes.size()) return IMSDC_PORT_ENOENT;
    std::size_t n = self->sizes[index];
    *out_len = self->lie_about_size ? cap : n;
    if (cap < n) return IMSDC_PORT_ENOSPC;
    std::memset(out, static_cast<int>(index + 1), n);
    return 0;
  }
};

TEST_F(CryptoEc, KeystoreChainEnospcRetryAndBounds) {
  auto ks = new_keystore();
  ChainPort cp;
  imsdc_port_keystore p = *ks->port();
  p.cert_chain = &ChainPort::chain;
  p.ctx = &cp;
  // The first needs an ENOSPC round trip (the first try reads 1 KiB); the largest allowed.
  cp.sizes = {IMSDC_MAX_CERT_SIZE, 500};
  auto chain = crypto::keystore_chain(p);
  ASSERT_TRUE(chain.is_ok());
  ASSERT_EQ(chain.value().size(), 2u);
  EXPECT_EQ(chain.value()[0].size(), static_cast<std::size_t>(IMSDC_MAX_CERT_SIZE));
  EXPECT_EQ(chain.value()[1], Bytes(500, 2));
  EXPECT_EQ(cp.calls, 4); // 0 (ENOSPC), 0, 1, 2 (ENOENT)

  cp.sizes = {IMSDC_MAX_CERT_SIZE + 1};
  EXPECT_EQ(crypto::keystore_chain(p).status(), Code::kTooLarge);
  cp.sizes.assign(IMSDC_MAX_CHAIN_LENGTH + 1, 100);
  EXPECT_EQ(crypto::keystore_chain(p).status(), Code::kTooLarge);
  cp.sizes.assign(IMSDC_MAX_CHAIN_LENGTH, 100);
  EXPECT_TRUE(crypto::keystore_chain(p).is_ok());
  cp.sizes = {IMSDC_MAX_CERT_SIZE};
  cp.lie_about_size = true; // ENOSPC without a larger size: contract broken
  EXPECT_EQ(crypto::keystore_chain(p).status(), Code::kPortFailure);
}

TEST_F(CryptoEc, KeystoreFaultsAreReported) {
  auto ks = new_keystore();
  fake::FaultyKeystore faulty(*ks->port());
  fake::fail_nth(fake::Fn::kKeystoreSign, 1, IMSDC_PORT_EIO);
  EXPECT_EQ(crypto::keystore_sign_digest(*faulty.port(), crypto::Digest{}).status(),
            Code::kPortFailure);
  EXPECT_TRUE(crypto::keystore_sign_digest(*faulty.port(), crypto::Digest{}).is_ok());
}

TEST_F(CryptoEc, KeystorePkSignsForMbedtls) {
  auto ks = new_keystore();
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  ASSERT_TRUE(crypto::internal::keystore_pk_setup(&pk, *ks->port()).is_ok());
  EXPECT_EQ(mbedtls_pk_get_type(&pk), MBEDTLS_PK_ECKEY);
  EXPECT_EQ(mbedtls_pk_get_bitlen(&pk), 256u);
  EXPECT_TRUE(mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECDSA));
  // SHA-256 and SHA-384 digests (the latter truncated per SEC1) both verify with the
  // ordinary public key.
  for (mbedtls_md_type_t md : {MBEDTLS_MD_SHA256, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA1}) {
    const mbedtls_md_info_t* info = mbedtls_md_info_from_type(md);
    unsigned char hash[64];
    const unsigned char msg[] = "tls transcript";
    ASSERT_EQ(0, mbedtls_md(info, msg, sizeof msg, hash));
    unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len = 0;
    ASSERT_EQ(0, mbedtls_pk_sign(&pk, md, hash, mbedtls_md_get_size(info), sig, &sig_len,
                                 imsdc_crypto_rng, nullptr));
    mbedtls_pk_context pub;
    mbedtls_pk_init(&pub);
    ASSERT_TRUE(crypto::internal::pk_from_public(ks->key().public_key(), &pub).is_ok());
    EXPECT_EQ(0, mbedtls_pk_verify(&pub, md, hash, mbedtls_md_get_size(info), sig, sig_len));
    // Verification through the keystore pk delegates to mbedTLS's ECKEY code.
    EXPECT_EQ(0, mbedtls_pk_verify(&pk, md, hash, mbedtls_md_get_size(info), sig, sig_len));
    mbedtls_pk_free(&pub);
  }
  mbedtls_pk_free(&pk);

  // A failing keystore surfaces as an mbedTLS error and as the precise status.
  fake::FaultyKeystore faulty(*ks->port());
  mbedtls_pk_init(&pk);
  ASSERT_TRUE(crypto::internal::keystore_pk_setup(&pk, *faulty.port()).is_ok());
  fake::fail_nth(fake::Fn::kKeystoreSign, 1, IMSDC_PORT_ENOENT);
  unsigned char hash[32] = {1};
  unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  size_t sig_len = 0;
  EXPECT_NE(0, mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, &sig_len, imsdc_crypto_rng,
                               nullptr));
  EXPECT_EQ(crypto::internal::keystore_pk_last_error(&pk), Code::kNotFound);
  mbedtls_pk_free(&pk);
}

} // namespace
} // namespace imsdc
