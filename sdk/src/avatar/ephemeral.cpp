#include "avatar/ephemeral.h"

#include <utility>

namespace imsdc::avatar {

EphemeralKey::EphemeralKey(crypto::EcPrivateKey key, std::int64_t expires_at_s)
    : key_(std::move(key)), public_(key_->public_key()), expires_at_(expires_at_s) {}

Result<EphemeralKey> EphemeralKey::generate(std::int64_t now_s, std::int64_t lifetime_s) {
  if (now_s < 0 || lifetime_s <= 0)
    return Status(Code::kInvalidArgument, Module::kAvatar, "ephemeral key needs a known time");
  auto key = crypto::EcPrivateKey::generate();
  if (!key) return key.status();
  return EphemeralKey(std::move(key.value()), now_s + lifetime_s);
}

Result<EphemeralKey> EphemeralKey::adopt(crypto::EcPrivateKey key, std::int64_t expires_at_s) {
  if (key.empty()) return Status(Code::kBadKey, Module::kAvatar, "empty ephemeral key");
  return EphemeralKey(std::move(key), expires_at_s);
}

void EphemeralKey::destroy() {
  if (key_) key_->destroy();
  key_.reset();
  used_ = true;
}

Result<SecretBytes> EphemeralKey::consume(const crypto::EcPublicKey& peer, std::int64_t now_s) {
  if (used_ || !key_ || key_->empty()) {
    destroy();
    return Status(Code::kKeyUsed, Module::kAvatar, "ephemeral key already used");
  }
  if (now_s < 0 || now_s >= expires_at_) {
    destroy();
    return Status(Code::kExpired, Module::kAvatar, "ephemeral key expired");
  }
  auto z = crypto::ecdh_p256(*key_, peer);
  destroy();
  if (!z) return Status(Code::kBadKey, Module::kAvatar, "peer key unusable for ECDH");
  return std::move(z.value());
}

Result<SecretBytes> EphemeralKey::private_jwk() const {
  if (used_ || !key_ || key_->empty())
    return Status(Code::kKeyUsed, Module::kAvatar, "ephemeral key already used");
  return crypto::jwk_from_private(*key_);
}

} // namespace imsdc::avatar
