// JWS compact serialization (RFC 7515) with ES256 (RFC 7518 section 3.4) and x5c.
//
// Parsing is bounded (IMSDC_MAX_JWS_SIZE) and canonical (base64url per codec.h). Only ES256
// is accepted: "none" and every other alg fail with kUnsupported before any signature work.
#ifndef IMSDC_JOSE_H
#define IMSDC_JOSE_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/crypto.h"
#include "imsdc/status.h"

namespace imsdc::jose {

struct JwsParts {
  std::string header_json;   // decoded protected header (a JSON object)
  Bytes payload;             // decoded payload
  std::string alg;           // header "alg"
  std::string typ;           // header "typ" or empty
  std::vector<Bytes> x5c;    // decoded header "x5c" (DER, leaf first), may be empty
  std::string signing_input; // ASCII(BASE64URL(header) '.' BASE64URL(payload))
  crypto::RawSignature signature{};
};

// Errors: kTooLarge, kMalformed (segments, base64url, JSON, signature length, x5c),
// kUnsupported (alg other than ES256, "crit" present).
Result<JwsParts> jws_parse(std::string_view compact);

// Signs payload (usually a JSON claims set) with the keystore's device key. The protected
// header is {"alg":"ES256","typ":typ,"x5c":[chain]}; typ is omitted when empty and x5c when
// with_x5c is false. Errors: from the keystore (kPortFailure, kNotFound), kTooLarge.
Result<std::string> jws_sign(const imsdc_port_keystore& ks, ByteSpan payload, std::string_view typ,
                             bool with_x5c = true);
// Signs with an explicit protected header (JSON object text; must say "alg":"ES256").
Result<std::string> jws_sign_with_header(const imsdc_port_keystore& ks,
                                         std::string_view header_json, ByteSpan payload);

// Errors: kBadSignature.
Status jws_verify(const JwsParts& jws, const crypto::EcPublicKey& key);

struct VerifyOptions {
  const crypto::TrustStore* trust = nullptr; // required: x5c must chain to it
  std::int64_t now_s = -1;                   // port wall clock; <0 fails time checks
  std::string_view expect_typ;               // empty: any
  // The identity claim ("iss", or "sub" when there is no "iss") must equal a URI SAN of the
  // x5c leaf (PROTOCOL_PROFILE.md section 6). On by default.
  bool identity_is_leaf_uri = true;
  bool require_exp = true; // exp must exist and be > now - skew
  std::int64_t skew_s = 5;
};

struct Verified {
  std::string header_json;
  std::string payload_json;
  std::string identity; // the iss/sub that matched the leaf (when checked)
  crypto::CertInfo leaf;
  std::vector<Bytes> x5c;
};

// Full check of a compact JWS: parse, x5c chain to the trust store at now_s, ES256 signature
// with the leaf key, typ, identity binding, exp/nbf/iat sanity. Errors: as jws_parse, plus
// kUntrusted, kExpired, kBadSignature, kBinding (typ or identity), kMalformed (claims not a
// JSON object, time claims not integers).
Result<Verified> jws_verify_x5c(std::string_view compact, const VerifyOptions& options);

} // namespace imsdc::jose

#endif // IMSDC_JOSE_H
