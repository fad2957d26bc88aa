// Single-use ephemeral P-256 keys for the protected avatar representation
// (PROTOCOL_PROFILE.md section 7): one fresh key per request, private part in RAM only,
// destroyed after one use or at expiry.
#ifndef IMSDC_SRC_AVATAR_EPHEMERAL_H
#define IMSDC_SRC_AVATAR_EPHEMERAL_H

#include <cstdint>
#include <optional>

#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

// Holds one crypto::EcPrivateKey. consume() hands out the ECDH shared secret exactly once;
// the scalar is zeroized on that use, on expiry (checked against the caller's clock: the
// SDK core has no clock of its own here), by destroy() and on destruction. Move-only.
class EphemeralKey {
public:
  // Fresh key valid for lifetime_s seconds from now_s. Errors: kEntropy, kInternal,
  // kInvalidArgument (lifetime_s <= 0 or now_s < 0: an unknown time cannot bound a key).
  static Result<EphemeralKey> generate(std::int64_t now_s,
                                       std::int64_t lifetime_s = IMSDC_TOKEN_LIFETIME_S);
  // Adopts an existing private key (a key restored from the CLI's testing-aid file) that
  // expires at expires_at_s. Errors: kBadKey (empty key).
  static Result<EphemeralKey> adopt(crypto::EcPrivateKey key, std::int64_t expires_at_s);

  EphemeralKey(EphemeralKey&&) noexcept = default;
  EphemeralKey& operator=(EphemeralKey&&) noexcept = default;
  ~EphemeralKey() { destroy(); }

  // The public key stays readable after use: it names the key in the attestation.
  const crypto::EcPublicKey& public_key() const { return public_; }
  std::int64_t expires_at() const { return expires_at_; }
  bool used() const { return used_; }

  // ECDH with the peer's public key, once. The key is destroyed whatever the outcome, so a
  // peer can never probe it twice. Errors: kKeyUsed (already consumed or destroyed),
  // kExpired (now_s >= expires_at, or now_s < 0), kBadKey (peer point unusable).
  Result<SecretBytes> consume(const crypto::EcPublicKey& peer, std::int64_t now_s);

  // The private JWK (testing aid for the CLI's --export-ephemeral). Errors: kKeyUsed.
  Result<SecretBytes> private_jwk() const;

  // Zeroizes the scalar now and marks the key used.
  void destroy();

private:
  EphemeralKey(crypto::EcPrivateKey key, std::int64_t expires_at_s);
  std::optional<crypto::EcPrivateKey> key_;
  crypto::EcPublicKey public_;
  std::int64_t expires_at_ = 0;
  bool used_ = false;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_EPHEMERAL_H
