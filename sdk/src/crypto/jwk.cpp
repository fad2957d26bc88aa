// JWK (RFC 7517 / RFC 7518 section 6.2) for P-256 keys, and the bounded cJSON front end the
// JOSE code shares. Coordinates and the private scalar are exactly 32 bytes of canonical
// base64url; every imported point is checked to be on the curve, and an imported private
// key must match its x and y.
#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include <cstring>
#include <utility>

#include "crypto/internal.h"
#include "imsdc/codec.h"

namespace imsdc::crypto {

using internal::err;

namespace internal {

namespace {

// One pass over the raw text (cJSON itself recurses up to depth 1000): nesting depth, and
// "\u0000" escapes inside strings.
bool prescan_json(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        if (i + 1 < text.size() && text[i + 1] == 'u' && i + 5 < text.size() &&
            text.substr(i + 2, 4) == "0000")
          return false;
        ++i; // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

} // namespace

Status parse_json_object(std::string_view text, std::size_t max_size, JsonPtr* out) {
  if (text.size() > max_size) return err(Code::kTooLarge, "JSON too large");
  if (text.empty() || !prescan_json(text))
    return err(Code::kMalformed, "JSON empty, too deep or with NUL escapes");
  const char* end = nullptr;
  JsonPtr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end, 0));
  if (!root || !cJSON_IsObject(root.get())) return err(Code::kMalformed, "not a JSON object");
  for (const char* p = end; p && p < text.data() + text.size(); ++p)
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
      return err(Code::kMalformed, "trailing data after JSON object");
  // Duplicate names are where parsers disagree ("alg" twice): refuse them (RFC 7515 4).
  std::size_t members = 0;
  for (const cJSON* a = root->child; a; a = a->next) {
    if (++members > kMaxJsonMembers) return err(Code::kMalformed, "too many JSON members");
    for (const cJSON* b = a->next; b; b = b->next)
      if (a->string && b->string && std::strcmp(a->string, b->string) == 0)
        return err(Code::kMalformed, "duplicate JSON member");
  }
  *out = std::move(root);
  return Status::ok();
}

const char* json_string(const cJSON* obj, const char* name, bool* bad) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!item) return nullptr;
  if (!cJSON_IsString(item) || !item->valuestring) {
    *bad = true;
    return nullptr;
  }
  return item->valuestring;
}

} // namespace internal

namespace {

constexpr std::size_t kMaxJwkSize = 4096;

// Decodes one 32-byte member. Missing or not base64url: kMalformed; other length: kBadKey.
Status decode_coord(const cJSON* root, const char* name, std::uint8_t out[32]) {
  bool bad = false;
  const char* text = internal::json_string(root, name, &bad);
  if (!text) return err(Code::kMalformed, "JWK: missing coordinate or private key member");
  // 44 characters would already be 33 bytes; decode into a small buffer and check.
  std::uint8_t buf[48];
  Result<std::size_t> n = base64url_decode_to(text, buf, sizeof buf);
  Status st = Status::ok();
  if (!n.is_ok())
    st = n.status() == Code::kTooLarge ? err(Code::kBadKey, "JWK: coordinate is not 32 bytes")
                                       : err(Code::kMalformed, "JWK: bad base64url");
  else if (n.value() != 32)
    st = err(Code::kBadKey, "JWK: coordinate is not 32 bytes");
  else
    std::memcpy(out, buf, 32);
  mbedtls_platform_zeroize(buf, sizeof buf); // may be the private scalar
  return st;
}

Result<internal::JsonPtr> parse_jwk(std::string_view json) {
  internal::JsonPtr root;
  IMSDC_TRY(internal::parse_json_object(json, kMaxJwkSize, &root));
  bool bad = false;
  const char* kty = internal::json_string(root.get(), "kty", &bad);
  const char* crv = internal::json_string(root.get(), "crv", &bad);
  if (bad || !kty) return err(Code::kMalformed, "JWK: kty missing or not a string");
  if (std::strcmp(kty, "EC") != 0) return err(Code::kUnsupported, "JWK: kty is not EC");
  if (!crv) return err(Code::kMalformed, "JWK: crv missing or not a string");
  if (std::strcmp(crv, "P-256") != 0) return err(Code::kUnsupported, "JWK: crv is not P-256");
  return root;
}

// cJSON frees strings without clearing them: wipe "d" in the tree before it is deleted.
void wipe_d(cJSON* root) {
  cJSON* d = cJSON_GetObjectItemCaseSensitive(root, "d");
  if (d && cJSON_IsString(d) && d->valuestring)
    mbedtls_platform_zeroize(d->valuestring, std::strlen(d->valuestring));
}

Result<EcPublicKey> public_from_tree(const cJSON* root) {
  std::uint8_t xy[64];
  IMSDC_TRY(decode_coord(root, "x", xy));
  IMSDC_TRY(decode_coord(root, "y", xy + 32));
  return ec_public_from_xy(ByteSpan(xy, sizeof xy));
}

void append_public_members(std::string* out, const EcPublicKey& key) {
  out->append("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"");
  out->append(base64url_encode(ByteSpan(key.xy.data(), 32)));
  out->append("\",\"y\":\"");
  out->append(base64url_encode(ByteSpan(key.xy.data() + 32, 32)));
  out->push_back('"');
}

} // namespace

std::string jwk_from_public(const EcPublicKey& key) {
  std::string out;
  append_public_members(&out, key);
  out.push_back('}');
  return out;
}

SecretBytes jwk_from_private(const EcPrivateKey& key) {
  // Reserved up front so the string never reallocates and leaves a copy of "d" behind.
  std::string out;
  out.reserve(256);
  append_public_members(&out, key.public_key());
  std::string d = base64url_encode(key.scalar());
  out.append(",\"d\":\"").append(d).append("\"}");
  SecretBytes secret{ByteSpan(out)};
  secure_zero(&d[0], d.size());
  secure_zero(&out[0], out.size());
  return secret;
}

Result<EcPublicKey> jwk_to_public(std::string_view json) {
  Result<internal::JsonPtr> root = parse_jwk(json);
  if (!root.is_ok()) return root.status();
  wipe_d(root.value().get()); // a private JWK passed here: its "d" is not ours to keep
  return public_from_tree(root.value().get());
}

Result<EcPrivateKey> jwk_to_private(std::string_view json) {
  Result<internal::JsonPtr> root = parse_jwk(json);
  if (!root.is_ok()) return root.status();
  cJSON* tree = root.value().get();
  Result<EcPublicKey> pub = public_from_tree(tree);
  std::uint8_t d[32];
  Status st = pub.is_ok() ? decode_coord(tree, "d", d) : pub.status();
  wipe_d(tree);
  if (!st.is_ok()) {
    mbedtls_platform_zeroize(d, sizeof d);
    return st;
  }
  Result<EcPrivateKey> key = EcPrivateKey::from_scalar(ByteSpan(d, sizeof d));
  mbedtls_platform_zeroize(d, sizeof d);
  if (!key.is_ok()) return key;
  if (!(key.value().public_key() == pub.value()))
    return err(Code::kBadKey, "JWK: d does not match x and y");
  return key;
}

} // namespace imsdc::crypto
