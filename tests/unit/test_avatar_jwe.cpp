// Streaming JWE decryption of the protected avatar representation (PROTOCOL_PROFILE.md
// section 7). Vectors are produced here with the crypto primitives playing the BAR; the
// interop script checks the same code against jose (npm).
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "avatar/ephemeral.h"
#include "avatar/jwe_decrypt.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"
#include "vectors/fixed_files.h"

namespace imsdc {
namespace {

using avatar::EphemeralKey;
using avatar::JweDecryptor;
using avatar::JweOptions;

constexpr std::int64_t kNow = fake::kDefaultWallS;
constexpr const char* kJti = "jti-7f3a";
constexpr const char* kBlob = "avatar-rep";

struct Vector {
  std::string header_json;
  std::string compact;
};

// Encrypts like a BAR: fresh epk, Concat KDF with apv = jti, AAD = base64url(header).
// `edit_header` may change the header JSON before it is encoded (the key is derived from
// the honest values, so a header edit models an attacker with no key).
Vector encrypt(const crypto::EcPublicKey& ue, const Bytes& plain, std::string apv_jti = kJti,
               const std::string& extra_header = "") {
  auto bar = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(bar.is_ok());
  auto z = crypto::ecdh_p256(bar.value(), ue);
  EXPECT_TRUE(z.is_ok());
  auto cek = crypto::concat_kdf_sha256(z.value().span(), 256, "A256GCM", ByteSpan(),
                                       ByteSpan(std::string_view(apv_jti)));
  EXPECT_TRUE(cek.is_ok());
  Vector v;
  v.header_json = R"({"alg":"ECDH-ES","enc":"A256GCM","cty":"model/gltf-binary","epk":)" +
                  crypto::jwk_from_public(bar.value().public_key()) + R"(,"apv":")" +
                  base64url_encode(ByteSpan(std::string_view(apv_jti))) + "\"" + extra_header + "}";
  const std::string h = base64url_encode(ByteSpan(std::string_view(v.header_json)));
  std::uint8_t iv[12];
  EXPECT_TRUE(crypto::random_bytes(iv, sizeof iv).is_ok());
  std::array<std::uint8_t, 16> tag{};
  auto ct = crypto::aes_gcm_encrypt(cek.value().span(), ByteSpan(iv, 12), ByteSpan(h),
                                    ByteSpan(plain), &tag);
  EXPECT_TRUE(ct.is_ok());
  v.compact = h + ".." + base64url_encode(ByteSpan(iv, 12)) + "." +
              base64url_encode(ByteSpan(ct.value())) + "." +
              base64url_encode(ByteSpan(tag.data(), tag.size()));
  return v;
}

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::uint8_t>((i * 131) ^ (i >> 8));
  return b;
}

JweOptions options(std::uint64_t max = static_cast<std::uint64_t>(-1)) {
  JweOptions o;
  o.jti = kJti;
  o.now_s = kNow;
  o.max_plaintext = max;
  o.blob_name = kBlob;
  return o;
}

// Runs the decryptor over `compact` in pieces of `piece` bytes; returns the final status.
Status run(EphemeralKey& key, fake::MemoryStorage& storage, const std::string& compact,
           std::size_t piece = 1000, JweOptions o = options()) {
  JweDecryptor dec(key, *storage.port(), std::move(o));
  for (std::size_t i = 0; i < compact.size(); i += piece) {
    Status s = dec.feed(ByteSpan(std::string_view(compact).substr(i, piece)));
    if (!s) return s;
  }
  auto r = dec.finish();
  if (r) {
    EXPECT_EQ(r.value().cty, "model/gltf-binary");
  }
  return r.is_ok() ? Status::ok() : r.status();
}

class AvatarJwe : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
  EphemeralKey new_key() {
    auto k = EphemeralKey::generate(kNow);
    EXPECT_TRUE(k.is_ok());
    return std::move(k.value());
  }
  // Encrypts for a fresh key, applies `edit` to the vector, and expects the result to fail
  // with `want`, leaving nothing committed or open and the key destroyed.
  template <typename Edit>
  void expect_fail(Edit edit, Code want, const char* what, const std::string& apv = kJti,
                   const std::string& extra = "") {
    EphemeralKey key = new_key();
    const Vector v = encrypt(key.public_key(), pattern(5000), apv, extra);
    fake::MemoryStorage storage;
    Status s = run(key, storage, edit(v), 7);
    EXPECT_EQ(s.code(), want) << what << ": got " << s.name() << " (" << s.message() << ")";
    EXPECT_EQ(storage.blob(kBlob), nullptr) << what;
    EXPECT_EQ(storage.open_blobs(), 0u) << what;
    EXPECT_TRUE(key.used()) << what << ": the key must be destroyed by a failed attempt";
  }
};

TEST_F(AvatarJwe, DecryptsAnySizeInAnyPieces) {
  for (std::size_t size : {0u, 1u, 2u, 3u, 15u, 16u, 17u, 3072u, 3073u, 12289u, 70001u}) {
    for (std::size_t piece : {1u, 3u, 7u, 64u, 4095u, 4097u, 1u << 20}) {
      if (size > 20000 && piece < 64) continue; // byte-at-a-time over 70 KB adds nothing
      EphemeralKey key = new_key();
      const Bytes plain = pattern(size);
      const Vector v = encrypt(key.public_key(), plain);
      fake::MemoryStorage storage;
      Status s = run(key, storage, v.compact, piece);
      ASSERT_TRUE(s.is_ok()) << size << "/" << piece << ": " << s.name() << " " << s.message();
      ASSERT_NE(storage.blob(kBlob), nullptr);
      EXPECT_EQ(*storage.blob(kBlob), plain) << size << "/" << piece;
      EXPECT_TRUE(key.used());
    }
  }
}

// Replaces the character at `pos` by another alphabet character.
std::string flip(std::string s, std::size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

// Offsets of the dots of a compact JWE.
struct Dots {
  std::size_t d1, d3, d4;
  explicit Dots(const std::string& c)
      : d1(c.find('.')), d3(c.find('.', d1 + 2)), d4(c.find('.', d3 + 1)) {}
};

std::string reheader(const Vector& v, const std::string& header_json) {
  return base64url_encode(ByteSpan(std::string_view(header_json))) +
         v.compact.substr(Dots(v.compact).d1);
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST_F(AvatarJwe, EveryTamperClass) {
  auto same = [](const Vector& v) { return v.compact; };
  // Protected header changed but still valid JSON (cty re-encoded): only the tag notices.
  expect_fail(
      [](const Vector& v) {
        return reheader(v, replace(v.header_json, "model/gltf-binary", "model/gltf+json00"));
      },
      Code::kAuthFailed, "header member changed (still parses)");
  // A changed header byte that breaks the JSON is a parse error, reported as malformed.
  expect_fail([](const Vector& v) { return flip(v.compact, 0); }, Code::kMalformed,
              "header byte changed (breaks JSON)");
  expect_fail([](const Vector& v) { return flip(v.compact, Dots(v.compact).d3 - 3); },
              Code::kAuthFailed, "IV changed");
  expect_fail([](const Vector& v) { return flip(v.compact, Dots(v.compact).d3 + 10); },
              Code::kAuthFailed, "ciphertext changed");
  expect_fail([](const Vector& v) { return flip(v.compact, Dots(v.compact).d4 + 3); },
              Code::kAuthFailed, "tag changed");
  // Last tag character: 22 characters carry 132 bits, so its 4 low bits are unused; setting
  // one must be refused as non-canonical rather than decode to the same tag.
  expect_fail(
      [](const Vector& v) {
        const std::string alphabet =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        std::string c = v.compact;
        c.back() = alphabet[alphabet.find(c.back()) ^ 1];
        return c;
      },
      Code::kMalformed, "last base64url character (unused bits)");
  expect_fail(same, Code::kBinding, "wrong apv", "another-jti");
  expect_fail(
      [](const Vector& v) { return reheader(v, replace(v.header_json, "ECDH-ES", "ECDH-EZ")); },
      Code::kBinding, "alg not ECDH-ES");
  expect_fail(
      [](const Vector& v) { return reheader(v, replace(v.header_json, "A256GCM", "A128GCM")); },
      Code::kBinding, "enc not A256GCM");
  expect_fail(
      [](const Vector& v) {
        std::string hj = v.header_json;
        const std::size_t y = hj.find("\"y\":\"") + 10;
        hj[y] = hj[y] == 'A' ? 'B' : 'A'; // a point off the curve
        return reheader(v, hj);
      },
      Code::kBadKey, "epk off the curve");
  expect_fail(
      [](const Vector& v) {
        const std::size_t d1 = Dots(v.compact).d1;
        return v.compact.substr(0, d1 + 1) + "AAAA" + v.compact.substr(d1 + 1);
      },
      Code::kMalformed, "encrypted key present");
  expect_fail([](const Vector& v) { return v.compact.substr(0, Dots(v.compact).d4); },
              Code::kMalformed, "truncated before the tag");
  expect_fail([](const Vector& v) { return v.compact + ".x"; }, Code::kMalformed, "sixth segment");
  expect_fail(
      [](const Vector& v) {
        const std::size_t d3 = Dots(v.compact).d3;
        return v.compact.substr(0, d3 + 5) + "=" + v.compact.substr(d3 + 5);
      },
      Code::kMalformed, "padding in the ciphertext");
  expect_fail(same, Code::kMalformed, "crit header", kJti, R"(,"crit":["x"])");
}

TEST_F(AvatarJwe, KeyRulesAndBounds) {
  const Bytes plain = pattern(100);
  {
    EphemeralKey key = new_key();
    const Vector v = encrypt(key.public_key(), plain);
    fake::MemoryStorage storage;
    ASSERT_TRUE(run(key, storage, v.compact).is_ok());
    fake::MemoryStorage again;
    EXPECT_EQ(run(key, again, v.compact).code(), Code::kKeyUsed);
    EXPECT_EQ(again.blob(kBlob), nullptr);
  }
  {
    EphemeralKey key = new_key();
    const Vector v = encrypt(key.public_key(), plain);
    fake::MemoryStorage storage;
    JweOptions o = options();
    o.now_s = kNow + IMSDC_TOKEN_LIFETIME_S;
    EXPECT_EQ(run(key, storage, v.compact, 50, o).code(), Code::kExpired);
    EXPECT_EQ(storage.blob(kBlob), nullptr);
  }
  {
    EphemeralKey key = new_key();
    const Vector v = encrypt(key.public_key(), pattern(10000));
    fake::MemoryStorage storage;
    EXPECT_EQ(run(key, storage, v.compact, 999, options(9999)).code(), Code::kTooLarge);
    EXPECT_EQ(storage.blob(kBlob), nullptr);
    EXPECT_EQ(storage.open_blobs(), 0u);
  }
  {
    // Storage faults: a failed write and a failed commit both leave nothing.
    for (fake::Fn fn :
         {fake::Fn::kStorageBlobWrite, fake::Fn::kStorageCommit, fake::Fn::kStorageBlobOpen}) {
      EphemeralKey key = new_key();
      const Vector v = encrypt(key.public_key(), pattern(10000));
      fake::MemoryStorage storage;
      fake::fail_nth(fn, 1);
      EXPECT_EQ(run(key, storage, v.compact, 999).code(), Code::kIo) << fake::fn_name(fn);
      EXPECT_EQ(storage.blob(kBlob), nullptr);
      EXPECT_EQ(storage.open_blobs(), 0u);
      fake::clear_faults();
    }
  }
  {
    // Tag failure after megabytes: the sink saw the data and must have been aborted.
    EphemeralKey key = new_key();
    Vector v = encrypt(key.public_key(), pattern(1 << 20));
    v.compact = flip(v.compact, v.compact.size() - 5);
    fake::MemoryStorage storage;
    EXPECT_EQ(run(key, storage, v.compact, 65536).code(), Code::kAuthFailed);
    EXPECT_EQ(storage.blob(kBlob), nullptr);
    ASSERT_EQ(storage.aborted().size(), 1u);
    EXPECT_EQ(storage.aborted()[0], kBlob);
  }
}

TEST_F(AvatarJwe, EphemeralKeySingleUseAndExpiry) {
  auto peer = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(peer.is_ok());
  {
    EphemeralKey key = new_key();
    EXPECT_EQ(key.expires_at(), kNow + IMSDC_TOKEN_LIFETIME_S);
    EXPECT_TRUE(key.private_jwk().is_ok());
    auto z = key.consume(peer.value().public_key(), kNow);
    ASSERT_TRUE(z.is_ok());
    EXPECT_EQ(z.value().size(), 32u);
    EXPECT_TRUE(key.used());
    EXPECT_EQ(key.consume(peer.value().public_key(), kNow).status(), Code::kKeyUsed);
    EXPECT_EQ(key.private_jwk().status(), Code::kKeyUsed);
  }
  {
    EphemeralKey key = new_key();
    EXPECT_EQ(key.consume(peer.value().public_key(), kNow + IMSDC_TOKEN_LIFETIME_S).status(),
              Code::kExpired);
    // Expiry destroyed it: a later, in-time call is still refused.
    EXPECT_EQ(key.consume(peer.value().public_key(), kNow).status(), Code::kKeyUsed);
  }
  {
    EphemeralKey key = new_key();
    key.destroy();
    EXPECT_EQ(key.consume(peer.value().public_key(), kNow).status(), Code::kKeyUsed);
  }
  EXPECT_EQ(EphemeralKey::generate(-1).status(), Code::kInvalidArgument);
  EXPECT_EQ(EphemeralKey::generate(kNow, 0).status(), Code::kInvalidArgument);
}

// The fixed vector of tests/unit/data/fixed (also decrypted on target, tests/target/t_avatar.cpp):
// a JWE that jose (npm) encrypted once for a known ephemeral key, with apv = its jti.
TEST_F(AvatarJwe, FixedJoseVector) {
  namespace fx = test_vectors::fixed;
  const std::string jwe = fx::read_file(fx::kRepresentationJwe);
  const std::string plain_text = fx::read_file(fx::kRepresentation, false);
  const Bytes plain(plain_text.begin(), plain_text.end());
  ASSERT_EQ(plain.size(), 10000u);
  auto fixed_key = [] {
    auto priv = crypto::jwk_to_private(test_vectors::fixed::read_file(fx::kEphemeralPrivateJwk));
    EXPECT_TRUE(priv.is_ok());
    auto k = EphemeralKey::adopt(std::move(priv.value()), fx::kAttestationExp);
    EXPECT_TRUE(k.is_ok());
    return std::move(k.value());
  };
  JweOptions o = options();
  o.jti = fx::kJti;
  o.now_s = fx::kAvatarNow;
  for (std::size_t piece : {1u, 7u, 64u, 1000u, 4097u, 1u << 20}) {
    EphemeralKey key = fixed_key();
    fake::MemoryStorage storage;
    ASSERT_TRUE(run(key, storage, jwe, piece, o).is_ok()) << piece;
    ASSERT_NE(storage.blob(kBlob), nullptr);
    EXPECT_EQ(*storage.blob(kBlob), plain) << piece;
    fake::MemoryStorage again;
    EXPECT_EQ(run(key, again, jwe, piece, o).code(), Code::kKeyUsed);
  }
  const std::size_t d3 = Dots(jwe).d3;
  JweOptions wrong_apv = o;
  wrong_apv.jti = "another-jti";
  const std::pair<std::string, JweOptions> bad[] = {{flip(jwe, d3 + 5000), o}, {jwe, wrong_apv}};
  const Code want[] = {Code::kAuthFailed, Code::kBinding};
  for (std::size_t i = 0; i < 2; ++i) {
    EphemeralKey key = fixed_key();
    fake::MemoryStorage storage;
    EXPECT_EQ(run(key, storage, bad[i].first, 13, bad[i].second).code(), want[i]);
    EXPECT_EQ(storage.blob(kBlob), nullptr);
    EXPECT_EQ(storage.open_blobs(), 0u);
  }
}

} // namespace
} // namespace imsdc
