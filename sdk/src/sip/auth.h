// SIP authentication (PROTOCOL_PROFILE.md section 1): parsing WWW-Authenticate /
// Proxy-Authenticate challenges, choosing one, and building Authorization /
// Proxy-Authorization values.
//
// Digest (RFC 3261 section 22.4, RFC 7616, RFC 8760): algorithms MD5 and SHA-256 with
// qop=auth, or without qop (RFC 2069 compatibility, which RFC 3261 still allows). The "-sess"
// variants, SHA-512-256, AKAv1-MD5 and qop=auth-int alone are rejected with kUnsupported:
// no IMS edge proxy we target (Kamailio auth module) offers them over WebSocket.
// Bearer (RFC 8898, RFC 6750 section 3): realm, scope, error, error_description,
// authz_server are kept for the registration logic.
#ifndef IMSDC_SRC_SIP_AUTH_H
#define IMSDC_SRC_SIP_AUTH_H

#include <cstdint>
#include <string>
#include <string_view>

#include "imsdc/status.h"
#include "sip/message.h"

namespace imsdc::sip {

enum class AuthScheme : std::uint8_t { kDigest, kBearer };
enum class DigestAlgorithm : std::uint8_t { kMd5, kSha256 };

// One challenge, with quoted strings unquoted. Owns its strings so it can outlive the 401.
struct Challenge {
  AuthScheme scheme = AuthScheme::kDigest;
  std::string realm;
  // Digest
  std::string nonce;
  std::string opaque;
  bool has_opaque = false;
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  bool qop_auth = false; // qop list contains "auth"; false means no qop (RFC 2069)
  bool stale = false;
  // Bearer (RFC 6750 section 3, RFC 8898 section 3)
  std::string scope;
  std::string error; // e.g. "invalid_token", "insufficient_scope"; empty when absent
  std::string error_description;
  std::string authz_server;
};

// Parses one challenge ("Digest realm=..., nonce=...", "Bearer realm=..."). Scheme and
// parameter names are case-insensitive; unknown parameters are ignored; empty list items
// are allowed (RFC 7235 section 4.1). Errors: kMalformed (bad syntax, a Digest challenge
// without realm or nonce, a duplicated parameter), kUnsupported (another scheme, algorithm
// or a qop list without "auth").
Result<Challenge> parse_challenge(std::string_view value);

// Which credential the caller holds, hence which challenge it can answer.
enum class CredentialKind : std::uint8_t { kDigest, kBearer };

// Picks the challenge to answer from a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate):
// for kDigest the strongest supported Digest challenge (SHA-256 over MD5, the first of equal
// ones, RFC 8760 section 2.4), for kBearer the first Bearer challenge. Unparseable or
// unsupported challenges are skipped. Errors: kInvalidArgument (not a 401/407), kNotFound
// (no usable challenge of that kind), kUnsupported (only unsupported challenges of that
// kind).
Result<Challenge> select_challenge(const Message& response, CredentialKind kind);

// Inputs of a Digest response besides the challenge. cnonce must be visible ASCII without
// '"' or '\\' (random_hex fits); nc is the nonce count, 1 for the first use of a nonce.
struct DigestInput {
  std::string_view username;
  std::string_view password;
  std::string_view method; // "REGISTER", "INVITE"...
  std::string_view uri;    // the Request-URI, exactly as sent
  std::string_view cnonce;
  std::uint32_t nc = 1;
};

// The lower-case hex "response" value: HA1 = H(user:realm:password), HA2 = H(method:uri),
// response = H(HA1:nonce:nc:cnonce:auth:HA2), or H(HA1:nonce:HA2) without qop. HA1 and
// the internal buffers holding the password are zeroized. Errors: kInvalidArgument (not a
// Digest challenge, empty username, bad cnonce), kInternal (mbedTLS failed).
Result<std::string> digest_response(const Challenge& challenge, const DigestInput& input);

// The complete Authorization / Proxy-Authorization value:
// Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=..,
// cnonce="..", opaque="..", qop=auth, nc=00000001 (cnonce/qop/nc only with qop).
// Errors: as digest_response, and kInvalidArgument when a value has CR/LF or the username
// has characters outside printable ASCII (imsdc does not send the RFC 7616 username* form).
Result<std::string> digest_authorization(const Challenge& challenge, const DigestInput& input);

// "Bearer <token>" (RFC 8898 section 4, RFC 6750 section 2.1 b64token). Errors:
// kInvalidArgument (empty token or characters outside b64token).
Result<std::string> bearer_authorization(std::string_view token);

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_AUTH_H
