// JWS compact serialization with ES256 (RFC 7515, RFC 7518 section 3.4), signed through the
// keystore port and verified against an x5c chain (PROTOCOL_PROFILE.md section 6).
//
// Parsing decides everything it can before any signature work: size, three segments,
// canonical base64url, a header that is a JSON object with unique members, alg exactly
// ES256 (never "none"), no "crit" (we implement no extension, so RFC 7515 4.1.11 requires
// rejecting any), and a 64-byte signature.
#include <cjson/cJSON.h>

#include <cmath>
#include <cstring>
#include <utility>

#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/jose.h"

namespace imsdc::jose {

using crypto::internal::err;
using crypto::internal::JsonPtr;

namespace {

constexpr std::size_t kSignatureB64Len = 86; // base64url of 64 bytes

Status json_integer(const cJSON* root, const char* name, bool* present, std::int64_t* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(root, name);
  *present = item != nullptr;
  if (!item) return Status::ok();
  // NumericDate may be non-integral in RFC 7519, but the profile uses integer seconds and
  // a fraction or a huge value is more likely an attack on the comparison than a clock.
  if (!cJSON_IsNumber(item) || !std::isfinite(item->valuedouble) ||
      std::floor(item->valuedouble) != item->valuedouble ||
      std::fabs(item->valuedouble) > 9007199254740992.0 /* 2^53 */)
    return err(Code::kMalformed, "time claim is not an integer");
  *out = static_cast<std::int64_t>(item->valuedouble);
  return Status::ok();
}

// Media types are case-insensitive and JWS allows omitting "application/" (RFC 7515 4.1.9).
bool typ_equal(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    constexpr std::string_view kPrefix = "application/";
    if (s.size() > kPrefix.size()) {
      bool match = true;
      for (std::size_t i = 0; i < kPrefix.size() && match; ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        match = c == kPrefix[i];
      }
      if (match) s.remove_prefix(kPrefix.size());
    }
    return s;
  };
  a = strip(a);
  b = strip(b);
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Header checks shared by parsing and by signing with a caller-supplied header.
Status check_header(const cJSON* header, std::string* alg, std::string* typ) {
  bool bad = false;
  const char* a = crypto::internal::json_string(header, "alg", &bad);
  if (bad || !a) return err(Code::kMalformed, "JWS header: alg missing or not a string");
  if (std::strcmp(a, "ES256") != 0) return err(Code::kUnsupported, "JWS alg is not ES256");
  if (cJSON_GetObjectItemCaseSensitive(header, "crit"))
    return err(Code::kUnsupported, "JWS header has crit: no extensions are supported");
  const char* t = crypto::internal::json_string(header, "typ", &bad);
  if (bad) return err(Code::kMalformed, "JWS header: typ is not a string");
  *alg = a;
  if (t) *typ = t;
  return Status::ok();
}

Status parse_x5c(const cJSON* header, std::vector<Bytes>* out) {
  const cJSON* x5c = cJSON_GetObjectItemCaseSensitive(header, "x5c");
  if (!x5c) return Status::ok();
  if (!cJSON_IsArray(x5c)) return err(Code::kMalformed, "x5c is not an array");
  const int n = cJSON_GetArraySize(x5c);
  if (n == 0) return err(Code::kMalformed, "x5c is empty");
  if (n > IMSDC_MAX_CHAIN_LENGTH) return err(Code::kTooLarge, "x5c chain too long");
  for (const cJSON* item = x5c->child; item; item = item->next) {
    if (!cJSON_IsString(item) || !item->valuestring)
      return err(Code::kMalformed, "x5c entry is not a string");
    // x5c is standard base64 with padding (RFC 7515 4.1.6), not base64url.
    Result<Bytes> der = base64_decode(item->valuestring, IMSDC_MAX_CERT_SIZE);
    if (!der.is_ok())
      return der.status() == Code::kTooLarge ? err(Code::kTooLarge, "x5c certificate too large")
                                             : err(Code::kMalformed, "x5c entry is not base64");
    if (der.value().empty()) return err(Code::kMalformed, "x5c entry is empty");
    out->push_back(std::move(der.value()));
  }
  return Status::ok();
}

} // namespace

Result<JwsParts> jws_parse(std::string_view compact) {
  if (compact.size() > IMSDC_MAX_JWS_SIZE) return err(Code::kTooLarge, "JWS too large");
  const std::size_t dot1 = compact.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos)
    return err(Code::kMalformed, "JWS must have exactly three segments");
  const std::string_view h64 = compact.substr(0, dot1);
  const std::string_view p64 = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view s64 = compact.substr(dot2 + 1);
  if (h64.empty()) return err(Code::kMalformed, "JWS header segment is empty");

  JwsParts parts;
  Result<Bytes> header = base64url_decode(h64);
  if (!header.is_ok()) return err(Code::kMalformed, "JWS header: bad base64url");
  parts.header_json.assign(header.value().begin(), header.value().end());
  JsonPtr root;
  IMSDC_TRY(crypto::internal::parse_json_object(parts.header_json, IMSDC_MAX_JWS_SIZE, &root));
  IMSDC_TRY(check_header(root.get(), &parts.alg, &parts.typ));
  IMSDC_TRY(parse_x5c(root.get(), &parts.x5c));

  Result<Bytes> payload = base64url_decode(p64);
  if (!payload.is_ok()) return err(Code::kMalformed, "JWS payload: bad base64url");
  parts.payload = std::move(payload.value());

  if (s64.size() != kSignatureB64Len) return err(Code::kMalformed, "JWS signature length");
  Result<std::size_t> n = base64url_decode_to(s64, parts.signature.data(), parts.signature.size());
  if (!n.is_ok() || n.value() != parts.signature.size())
    return err(Code::kMalformed, "JWS signature: bad base64url");
  parts.signing_input.assign(compact.substr(0, dot2));
  return parts;
}

Result<std::string> jws_sign_with_header(const imsdc_port_keystore& ks,
                                         std::string_view header_json, ByteSpan payload) {
  {
    JsonPtr root;
    Status st = crypto::internal::parse_json_object(header_json, IMSDC_MAX_JWS_SIZE, &root);
    if (!st.is_ok()) return st == Code::kTooLarge ? st : err(Code::kInvalidArgument, "header");
    std::string alg, typ;
    st = check_header(root.get(), &alg, &typ);
    if (!st.is_ok()) return err(Code::kInvalidArgument, "header must say alg ES256, no crit");
  }
  // Check the final size before asking the keystore for a signature.
  const std::size_t h_len = (header_json.size() * 4 + 2) / 3;
  const std::size_t p_len = (payload.size() * 4 + 2) / 3;
  if (h_len + p_len + 2 + kSignatureB64Len > IMSDC_MAX_JWS_SIZE)
    return err(Code::kTooLarge, "JWS would exceed IMSDC_MAX_JWS_SIZE");
  std::string out = base64url_encode(ByteSpan(header_json));
  out.push_back('.');
  out.append(base64url_encode(payload));
  Result<crypto::RawSignature> sig =
      crypto::keystore_sign_digest(ks, crypto::sha256(ByteSpan(out)));
  if (!sig.is_ok()) return sig.status();
  out.push_back('.');
  out.append(base64url_encode(ByteSpan(sig.value().data(), sig.value().size())));
  return out;
}

Result<std::string> jws_sign(const imsdc_port_keystore& ks, ByteSpan payload, std::string_view typ,
                             bool with_x5c) {
  JsonPtr header(cJSON_CreateObject());
  if (!header || !cJSON_AddStringToObject(header.get(), "alg", "ES256"))
    return err(Code::kNoMemory, "JWS header");
  if (!typ.empty()) {
    if (typ.size() > 256) return err(Code::kInvalidArgument, "typ too long");
    std::string t(typ);
    if (!cJSON_AddStringToObject(header.get(), "typ", t.c_str()))
      return err(Code::kNoMemory, "JWS header");
  }
  if (with_x5c) {
    Result<std::vector<Bytes>> chain = crypto::keystore_chain(ks);
    if (!chain.is_ok()) return chain.status();
    cJSON* arr = cJSON_AddArrayToObject(header.get(), "x5c");
    if (!arr) return err(Code::kNoMemory, "JWS header");
    for (const Bytes& der : chain.value()) {
      std::string b64 = base64_encode(der);
      cJSON* s = cJSON_CreateString(b64.c_str());
      if (!s) return err(Code::kNoMemory, "JWS header");
      cJSON_AddItemToArray(arr, s);
    }
  }
  char* text = cJSON_PrintUnformatted(header.get());
  if (!text) return err(Code::kNoMemory, "JWS header");
  std::string header_json(text);
  cJSON_free(text);
  return jws_sign_with_header(ks, header_json, payload);
}

Status jws_verify(const JwsParts& jws, const crypto::EcPublicKey& key) {
  if (jws.alg != "ES256") return err(Code::kUnsupported, "JWS alg is not ES256");
  return crypto::ecdsa_verify_digest(key, crypto::sha256(ByteSpan(jws.signing_input)),
                                     ByteSpan(jws.signature.data(), jws.signature.size()));
}

Result<Verified> jws_verify_x5c(std::string_view compact, const VerifyOptions& options) {
  if (!options.trust) return err(Code::kInvalidArgument, "VerifyOptions.trust is required");
  Result<JwsParts> parsed = jws_parse(compact);
  if (!parsed.is_ok()) return parsed.status();
  JwsParts& parts = parsed.value();
  if (parts.x5c.empty()) return err(Code::kUntrusted, "JWS has no x5c chain");

  // 1. The chain, against the port's wall clock.
  IMSDC_TRY(crypto::verify_chain(parts.x5c, *options.trust, options.now_s));
  Result<crypto::CertInfo> leaf = crypto::cert_info(parts.x5c[0]);
  if (!leaf.is_ok())
    return leaf.status() == Code::kUnsupported ? err(Code::kUntrusted, "leaf key is not P-256")
                                               : leaf.status();
  // 2. The signature, with the leaf's key.
  IMSDC_TRY(jws_verify(parts, leaf.value().public_key));
  // 3. typ.
  if (!options.expect_typ.empty() && !typ_equal(parts.typ, options.expect_typ))
    return err(Code::kBinding, "JWS typ is not the expected one");

  Verified v;
  v.payload_json.assign(parts.payload.begin(), parts.payload.end());
  JsonPtr claims;
  Status st = crypto::internal::parse_json_object(v.payload_json, IMSDC_MAX_JWS_SIZE, &claims);
  if (!st.is_ok()) return err(Code::kMalformed, "JWS claims are not a JSON object");

  // 4. Identity binding: iss (or sub when there is no iss) must be a URI SAN of the leaf.
  bool bad = false;
  const char* iss = crypto::internal::json_string(claims.get(), "iss", &bad);
  const char* sub = crypto::internal::json_string(claims.get(), "sub", &bad);
  if (bad) return err(Code::kMalformed, "iss or sub is not a string");
  if (options.identity_is_leaf_uri) {
    const char* id = iss ? iss : sub;
    if (!id) return err(Code::kBinding, "no iss or sub to bind to the certificate");
    bool match = false;
    for (const std::string& uri : leaf.value().uri_sans)
      match = match || uri == id;
    if (!match) return err(Code::kBinding, "iss/sub is not the certificate's identity");
    v.identity = id;
  }

  // 5. Times, with the allowed skew.
  if (options.now_s < 0) return err(Code::kExpired, "wall clock unknown");
  const std::int64_t skew = options.skew_s < 0 ? 0 : options.skew_s;
  std::int64_t exp = 0, nbf = 0, iat = 0;
  bool has_exp = false, has_nbf = false, has_iat = false;
  IMSDC_TRY(json_integer(claims.get(), "exp", &has_exp, &exp));
  IMSDC_TRY(json_integer(claims.get(), "nbf", &has_nbf, &nbf));
  IMSDC_TRY(json_integer(claims.get(), "iat", &has_iat, &iat));
  if (options.require_exp && !has_exp) return err(Code::kMalformed, "exp claim missing");
  if (has_exp && options.now_s - skew >= exp) return err(Code::kExpired, "JWS expired (exp)");
  if (has_nbf && options.now_s + skew < nbf) return err(Code::kExpired, "JWS not yet valid (nbf)");
  if (has_iat && options.now_s + skew < iat) return err(Code::kExpired, "JWS issued in the future");

  v.header_json = std::move(parts.header_json);
  v.leaf = std::move(leaf.value());
  v.x5c = std::move(parts.x5c);
  return v;
}

} // namespace imsdc::jose
