// crypto: ECDH P-256, the JOSE Concat KDF (RFC 7518 Appendix C) and streaming AES-GCM (the
// McGrew-Viega GCM specification's test case 16, AES-256) fed in odd chunk sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"
#include "vectors/aead_vectors.h"

namespace imsdc {
namespace {

using crypto::AesGcm;
using namespace test_vectors;

Bytes unhex(std::string_view h) {
  auto r = hex_decode(h);
  EXPECT_TRUE(r.is_ok()) << h;
  return r.is_ok() ? r.value() : Bytes();
}

class CryptoAead : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
};

// --- RFC 7518 Appendix C (vectors/aead_vectors.h) -------------------------------------------
TEST_F(CryptoAead, Rfc7518AppendixC) {
  auto alice = crypto::jwk_to_private(kAliceJwk);
  auto bob = crypto::jwk_to_private(kBobJwk);
  ASSERT_TRUE(alice.is_ok()) << alice.status().message();
  ASSERT_TRUE(bob.is_ok()) << bob.status().message();
  auto z1 = crypto::ecdh_p256(alice.value(), bob.value().public_key());
  auto z2 = crypto::ecdh_p256(bob.value(), alice.value().public_key());
  ASSERT_TRUE(z1.is_ok());
  ASSERT_TRUE(z2.is_ok());
  EXPECT_TRUE(constant_time_equal(z1.value().span(), ByteSpan(kAppendixCZ, 32)));
  EXPECT_TRUE(constant_time_equal(z1.value().span(), z2.value().span()));

  auto key = crypto::concat_kdf_sha256(z1.value().span(), 128, "A128GCM",
                                       ByteSpan(std::string_view("Alice")),
                                       ByteSpan(std::string_view("Bob")));
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(base64url_encode(key.value().span()), kAppendixCKeyB64u);

  // Longer keys take several hash rounds; the first bytes differ because keydatalen is
  // part of the input.
  auto k512 = crypto::concat_kdf_sha256(z1.value().span(), 512, "A256GCM", ByteSpan(), ByteSpan());
  ASSERT_TRUE(k512.is_ok());
  EXPECT_EQ(k512.value().size(), 64u);
  EXPECT_EQ(crypto::concat_kdf_sha256(z1.value().span(), 0, "A", ByteSpan(), ByteSpan()).status(),
            Code::kInvalidArgument);
  EXPECT_EQ(crypto::concat_kdf_sha256(z1.value().span(), 12, "A", ByteSpan(), ByteSpan()).status(),
            Code::kInvalidArgument);
}

TEST_F(CryptoAead, EcdhRejectsBadPeer) {
  auto k = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  crypto::EcPublicKey bad = k.value().public_key();
  bad.xy[40] ^= 0x10;
  EXPECT_EQ(crypto::ecdh_p256(k.value(), bad).status(), Code::kBadKey);
  EXPECT_EQ(crypto::ecdh_p256(k.value(), crypto::EcPublicKey{}).status(), Code::kBadKey);
}

// --- AES-GCM -----------------------------------------------------------------------------
// Test case 16 of McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)".
struct Tc16 {
  Bytes key = unhex(kGcm16KeyHex);
  Bytes iv = unhex(kGcm16IvHex);
  Bytes aad = unhex(kGcm16AadHex);
  Bytes plain = unhex(kGcm16PlainHex);
  Bytes cipher = unhex(kGcm16CipherHex);
  Bytes tag = unhex(kGcm16TagHex);
};

// Runs the streaming API over `in` in chunks of `chunk` bytes.
Status stream(AesGcm::Mode mode, const Bytes& key, const Bytes& iv, const Bytes& aad,
              const Bytes& in, std::size_t chunk, Bytes* out, std::uint8_t tag[16]) {
  AesGcm g;
  IMSDC_TRY(g.start(mode, key, iv, aad));
  out->clear();
  std::vector<std::uint8_t> buf(chunk + 16);
  for (std::size_t off = 0; off < in.size(); off += chunk) {
    std::size_t n = std::min(chunk, in.size() - off);
    std::size_t got = 0;
    IMSDC_TRY(g.update(ByteSpan(in.data() + off, n), buf.data(), buf.size(), &got));
    EXPECT_EQ(got % 16, 0u);
    out->insert(out->end(), buf.begin(), buf.begin() + got);
  }
  std::size_t got = 0;
  Status st = g.finish(buf.data(), buf.size(), &got, tag, 16);
  out->insert(out->end(), buf.begin(), buf.begin() + got);
  return st;
}

TEST_F(CryptoAead, GcmTestCase16StreamingInOddChunks) {
  Tc16 tc;
  for (std::size_t chunk : {1u, 7u, 15u, 16u, 17u, 4095u}) {
    SCOPED_TRACE(chunk);
    Bytes out;
    std::uint8_t tag[16];
    ASSERT_TRUE(
        stream(AesGcm::Mode::kEncrypt, tc.key, tc.iv, tc.aad, tc.plain, chunk, &out, tag).is_ok());
    EXPECT_EQ(out, tc.cipher);
    EXPECT_EQ(Bytes(tag, tag + 16), tc.tag);
    std::uint8_t expect[16];
    std::copy(tc.tag.begin(), tc.tag.end(), expect);
    ASSERT_TRUE(
        stream(AesGcm::Mode::kDecrypt, tc.key, tc.iv, tc.aad, tc.cipher, chunk, &out, expect)
            .is_ok());
    EXPECT_EQ(out, tc.plain);
  }
}

TEST_F(CryptoAead, GcmLargeStreamMatchesOneShot) {
  Bytes key(32, 0x42), iv(12, 0x24), plain(70001);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<std::uint8_t>(i ^ (i >> 8));
  std::array<std::uint8_t, 16> tag{};
  auto one = crypto::aes_gcm_encrypt(key, iv, ByteSpan(), plain, &tag);
  ASSERT_TRUE(one.is_ok());
  for (std::size_t chunk : {1u, 7u, 15u, 17u, 4095u}) {
    SCOPED_TRACE(chunk);
    Bytes out;
    std::uint8_t t[16];
    ASSERT_TRUE(stream(AesGcm::Mode::kEncrypt, key, iv, Bytes(), plain, chunk, &out, t).is_ok());
    EXPECT_EQ(out, one.value());
    EXPECT_EQ(0, std::memcmp(t, tag.data(), 16));
  }
  auto back = crypto::aes_gcm_decrypt(key, iv, ByteSpan(), one.value(), ByteSpan(tag.data(), 16));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back.value(), plain);
}

TEST_F(CryptoAead, GcmTamperIsAuthFailed) {
  Tc16 tc;
  auto ok = crypto::aes_gcm_decrypt(tc.key, tc.iv, tc.aad, tc.cipher, tc.tag);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok.value(), tc.plain);
  auto flip = [](Bytes b, std::size_t i) {
    b[i] ^= 0x01;
    return b;
  };
  EXPECT_EQ(crypto::aes_gcm_decrypt(tc.key, tc.iv, tc.aad, tc.cipher, flip(tc.tag, 15)).status(),
            Code::kAuthFailed);
  EXPECT_EQ(crypto::aes_gcm_decrypt(tc.key, tc.iv, tc.aad, flip(tc.cipher, 59), tc.tag).status(),
            Code::kAuthFailed);
  EXPECT_EQ(crypto::aes_gcm_decrypt(tc.key, flip(tc.iv, 0), tc.aad, tc.cipher, tc.tag).status(),
            Code::kAuthFailed);
  EXPECT_EQ(crypto::aes_gcm_decrypt(tc.key, tc.iv, flip(tc.aad, 3), tc.cipher, tc.tag).status(),
            Code::kAuthFailed);
  Bytes short_ct(tc.cipher.begin(), tc.cipher.end() - 1);
  EXPECT_EQ(crypto::aes_gcm_decrypt(tc.key, tc.iv, tc.aad, short_ct, tc.tag).status(),
            Code::kAuthFailed);

  // Streaming: the failing finish() releases nothing from its own call.
  AesGcm g;
  ASSERT_TRUE(g.start(AesGcm::Mode::kDecrypt, tc.key, tc.iv, tc.aad).is_ok());
  std::uint8_t out[80];
  std::size_t n = 0;
  ASSERT_TRUE(g.update(tc.cipher, out, sizeof out, &n).is_ok());
  EXPECT_EQ(n, 48u); // 60 bytes in, 12 held back
  Bytes bad_tag = flip(tc.tag, 0);
  std::size_t m = 99;
  EXPECT_EQ(g.finish(out + n, sizeof out - n, &m, bad_tag.data(), 16), Code::kAuthFailed);
  EXPECT_EQ(m, 0u);
}

TEST_F(CryptoAead, GcmArgumentChecks) {
  AesGcm g;
  std::uint8_t out[32];
  std::size_t n = 0;
  EXPECT_EQ(g.update(Bytes(4, 0), out, sizeof out, &n), Code::kState);
  EXPECT_EQ(g.start(AesGcm::Mode::kEncrypt, Bytes(15, 0), Bytes(12, 0), ByteSpan()),
            Code::kInvalidArgument);
  EXPECT_EQ(g.start(AesGcm::Mode::kEncrypt, Bytes(16, 0), Bytes(16, 0), ByteSpan()),
            Code::kInvalidArgument);
  ASSERT_TRUE(g.start(AesGcm::Mode::kEncrypt, Bytes(24, 0), Bytes(12, 0), ByteSpan()).is_ok());
  EXPECT_EQ(g.update(Bytes(40, 0), out, 16, &n), Code::kInvalidArgument); // needs 32
  ASSERT_TRUE(g.update(Bytes(40, 0), out, 32, &n).is_ok());
  EXPECT_EQ(n, 32u);
  std::uint8_t tag[16];
  EXPECT_EQ(g.finish(out, sizeof out, &n, tag, 12), Code::kInvalidArgument);
  ASSERT_TRUE(g.finish(out, sizeof out, &n, tag, 16).is_ok());
  EXPECT_EQ(n, 8u);
  EXPECT_EQ(g.update(Bytes(4, 0), out, sizeof out, &n), Code::kState); // finished
}

} // namespace
} // namespace imsdc
