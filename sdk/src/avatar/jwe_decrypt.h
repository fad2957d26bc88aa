// Streaming decryption of the protected avatar representation (PROTOCOL_PROFILE.md
// section 7): a compact JWE with "alg":"ECDH-ES", "enc":"A256GCM", fed in pieces of any
// size, decoded and decrypted through fixed buffers of IMSDC_STREAM_CHUNK bytes into the
// storage port's blob sink. Memory use does not depend on the representation's size.
#ifndef IMSDC_SRC_AVATAR_JWE_DECRYPT_H
#define IMSDC_SRC_AVATAR_JWE_DECRYPT_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "avatar/blob_sink.h"
#include "avatar/ephemeral.h"
#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/port/storage.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

// Longest protected header accepted, in base64url characters (it holds an epk, apv, cty).
constexpr std::size_t kJweMaxHeaderChars = 4096;

struct JweOptions {
  std::string jti;         // the attestation's jti; apv must be base64url(jti)
  std::int64_t now_s = -1; // caller's wall clock, for the ephemeral key's expiry
  std::uint64_t max_plaintext = static_cast<std::uint64_t>(-1); // kTooLarge above this
  std::string blob_name; // name the plaintext is committed under
};

struct JweResult {
  std::string cty;        // the header's "cty" (empty if absent)
  std::uint64_t size = 0; // plaintext bytes committed
};

// Usage: feed() the compact serialization in pieces of any size (no whitespace), then
// finish(). The ephemeral key is consumed by a valid header and destroyed by any failure
// before that: one answer gets one attempt, so the UE is never a decryption oracle. On the first
// failure the blob is aborted, key material is zeroized, and every later call returns the same
// error. The plaintext is committed only by a finish() whose GCM tag verifies.
//
// Errors (classes of section 7): kMalformed (segments, base64url, header JSON, epk missing,
// crit/zip, IV or tag length, non-empty encrypted key, truncated input), kBinding (alg/enc not
// exactly ECDH-ES / A256GCM, apv missing or != base64url(jti)), kBadKey (epk not P-256 or not on
// the curve), kAuthFailed (tag: any change to header, IV, ciphertext or tag), kExpired /
// kKeyUsed (ephemeral key), kTooLarge (header or plaintext over its bound), kIo (storage),
// kPortFailure (storage port contract), kState (call after finish).
class JweDecryptor {
public:
  // `key` and `storage` must outlive this object.
  JweDecryptor(EphemeralKey& key, const imsdc_port_storage& storage, JweOptions options);
  ~JweDecryptor();
  JweDecryptor(const JweDecryptor&) = delete;
  JweDecryptor& operator=(const JweDecryptor&) = delete;

  Status feed(ByteSpan piece);
  Result<JweResult> finish();
  // The header's "cty", known once the protected header has been processed.
  const std::string& cty() const { return cty_; }

private:
  enum class Stage { kHeader, kEncryptedKey, kIv, kCiphertext, kTag, kDone, kFailed };
  Status fail(Status s);
  Status end_segment();
  Status process_header();
  Status start_cipher();
  Status flush_cipher();
  Status append_small(std::string* to, std::size_t max, ByteSpan chars);

  EphemeralKey& key_;
  const imsdc_port_storage& storage_;
  JweOptions options_;
  Stage stage_ = Stage::kHeader;
  Status error_;
  std::string header_b64_; // kept whole: it is the GCM additional data
  std::string small_;      // encrypted key, IV or tag characters (bounded)
  std::string cty_;
  SecretBytes cek_;
  std::array<std::uint8_t, 12> iv_{};
  std::optional<crypto::AesGcm> gcm_; // reset on failure: frees and zeroizes the key schedule
  BlobSink sink_;
  // Ciphertext base64url characters waiting to be decoded; always decoded in multiples of
  // four characters except at the segment's end, so canonical checks stay exact.
  std::array<char, IMSDC_STREAM_CHUNK> text_{};
  std::size_t text_len_ = 0;
  std::array<std::uint8_t, IMSDC_STREAM_CHUNK> cipher_{};
  std::array<std::uint8_t, IMSDC_STREAM_CHUNK + 16> plain_{};
  std::uint64_t plain_size_ = 0;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_JWE_DECRYPT_H
