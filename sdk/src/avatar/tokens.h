// Avatar authorization tokens (PROTOCOL_PROFILE.md section 6): attestation, avatar token,
// UE token and client credentials assertion. Each is an ES256 compact JWS signed with the
// device key through the keystore port, with the device chain in "x5c". The identity claim
// ("iss", or "sub" for the UE token and CCA) is always the URI subjectAltName of the x5c
// leaf, never a caller-supplied string, so a token can only claim the certified IMPU.
#ifndef IMSDC_SRC_AVATAR_TOKENS_H
#define IMSDC_SRC_AVATAR_TOKENS_H

#include <cstdint>
#include <string>

#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/port/keystore.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

constexpr const char* kTypAttestation = "avatar-attestation+jwt";
constexpr const char* kTypAvatarToken = "avatar-token+jwt";
constexpr const char* kTypUeToken = "ue-token+jwt";
constexpr const char* kTypCca = "cca+jwt";

enum class Rendering { kNetwork, kSendingUe, kReceivingUe };
// "network", "sending-ue", "receiving-ue".
const char* rendering_name(Rendering r);
// Errors: kInvalidArgument (unknown name).
Result<Rendering> rendering_from_name(const std::string& name);

// Common to every token: the time it is issued at (the port's wall clock) and its lifetime.
struct TokenTimes {
  std::int64_t now_s = -1;
  std::int64_t lifetime_s = IMSDC_TOKEN_LIFETIME_S;
};

struct AttestationClaims {
  std::string avatar_id;
  std::string dc_as; // identity of the XR/DC application server
  std::string aud;   // BAR identity
  Rendering rendering = Rendering::kNetwork;
  // sending-ue: this UE's ephemeral public key; receiving-ue: the peer UE's; network: null.
  const crypto::EcPublicKey* epk = nullptr;
  TokenTimes times;
};

struct AvatarTokenClaims {
  std::string avatar_id;
  std::string sub; // "MF", "DC-AS" or the IMPU of UE1 or UE2
  std::string aud = "BAR";
  TokenTimes times;
};

struct UeTokenClaims {
  std::string aud; // XR AS identity
  TokenTimes times;
};

struct CcaClaims {
  std::string aud = "BAR";
  TokenTimes times;
};

// A signed token and the values the caller needs to bind the answer to it.
struct SignedToken {
  std::string jws;
  std::string jti;      // random, base64url of 16 bytes
  std::string identity; // the leaf URI used as iss/sub
};

// Each builder: Errors: kInvalidArgument (empty required claim, now_s < 0, lifetime outside
// 1..3600, epk present/absent against the rendering rule), kNotFound (no key or no
// certificate chain in the keystore), kBinding (the leaf has no URI subjectAltName),
// kMalformed (leaf certificate unreadable), kPortFailure, kEntropy, kNoMemory, kTooLarge.
Result<SignedToken> make_attestation(const imsdc_port_keystore& ks, const AttestationClaims& c);
Result<SignedToken> make_avatar_token(const imsdc_port_keystore& ks, const AvatarTokenClaims& c);
Result<SignedToken> make_ue_token(const imsdc_port_keystore& ks, const UeTokenClaims& c);
Result<SignedToken> make_cca(const imsdc_port_keystore& ks, const CcaClaims& c);

// The first URI subjectAltName of the keystore's leaf certificate. Errors: as above.
Result<std::string> leaf_identity(const imsdc_port_keystore& ks);

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_TOKENS_H
