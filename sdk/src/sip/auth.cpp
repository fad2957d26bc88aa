// Digest and Bearer authentication for SIP. Hashing goes through mbedTLS's generic md layer,
// which zeroizes its context in mbedtls_md_free, so password bits do not linger there.
#include "sip/auth.h"

#include <mbedtls/md.h>

#include <initializer_list>
#include <vector>

#include "imsdc/bytes.h"
#include "sip/text.h"

namespace imsdc::sip {
namespace {

constexpr Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSip, detail);
}
constexpr Status invalid(const char* detail) {
  return Status(Code::kInvalidArgument, Module::kSip, detail);
}
constexpr Status unsupported(const char* detail) {
  return Status(Code::kUnsupported, Module::kSip, detail);
}

struct AuthParam {
  std::string_view name;
  std::string_view value; // quoted strings keep their quotes here
};

// auth-param list: name "=" (token / quoted-string), comma separated, empty items allowed.
Status parse_auth_params(std::string_view s, std::vector<AuthParam>* out) {
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && (is_wsp(s[i]) || s[i] == ','))
      ++i;
    if (i == s.size()) return Status::ok();
    std::size_t start = i;
    while (i < s.size() && is_token_char(s[i]))
      ++i;
    AuthParam p;
    p.name = s.substr(start, i - start);
    while (i < s.size() && is_wsp(s[i]))
      ++i;
    if (p.name.empty() || i == s.size() || s[i] != '=') return malformed("bad auth-param");
    ++i;
    while (i < s.size() && is_wsp(s[i]))
      ++i;
    start = i;
    if (i < s.size() && s[i] == '"') {
      std::size_t q = quoted_length(s.substr(i));
      if (q == 0) return malformed("unterminated quoted auth-param");
      i += q;
    } else {
      // token, plus '/' and '=' so that unquoted base64-ish values some servers send pass.
      while (i < s.size() && (is_token_char(s[i]) || s[i] == '/' || s[i] == '='))
        ++i;
    }
    p.value = s.substr(start, i - start);
    if (p.value.empty()) return malformed("empty auth-param value");
    for (const AuthParam& q : *out) {
      if (iequals(q.name, p.name)) return malformed("duplicate auth-param");
    }
    if (out->size() == 32) return Status(Code::kTooLarge, Module::kSip, "too many auth-params");
    out->push_back(p);
    while (i < s.size() && is_wsp(s[i]))
      ++i;
    if (i < s.size() && s[i] != ',') return malformed("missing comma between auth-params");
  }
}

Status parse_digest(const std::vector<AuthParam>& params, Challenge* c) {
  bool has_nonce = false;
  bool has_realm = false;
  for (const AuthParam& p : params) {
    std::string v = unquote(p.value);
    if (iequals(p.name, "realm")) {
      c->realm = v;
      has_realm = true;
    } else if (iequals(p.name, "nonce")) {
      c->nonce = v;
      has_nonce = true;
    } else if (iequals(p.name, "opaque")) {
      c->opaque = v;
      c->has_opaque = true;
    } else if (iequals(p.name, "stale")) {
      c->stale = iequals(v, "true");
    } else if (iequals(p.name, "algorithm")) {
      if (iequals(v, "MD5")) {
        c->algorithm = DigestAlgorithm::kMd5;
      } else if (iequals(v, "SHA-256")) {
        c->algorithm = DigestAlgorithm::kSha256;
      } else {
        return unsupported("digest algorithm not supported");
      }
    } else if (iequals(p.name, "qop")) {
      std::vector<std::string_view> items;
      IMSDC_TRY(split_list(v, &items, 8));
      for (std::string_view q : items) {
        if (iequals(q, "auth")) c->qop_auth = true;
      }
      if (!c->qop_auth) return unsupported("qop without auth");
    }
  }
  if (!has_realm || !has_nonce) return malformed("digest challenge without realm or nonce");
  return Status::ok();
}

void parse_bearer(const std::vector<AuthParam>& params, Challenge* c) {
  for (const AuthParam& p : params) {
    if (iequals(p.name, "realm")) {
      c->realm = unquote(p.value);
    } else if (iequals(p.name, "scope")) {
      c->scope = unquote(p.value);
    } else if (iequals(p.name, "error")) {
      c->error = unquote(p.value);
    } else if (iequals(p.name, "error_description")) {
      c->error_description = unquote(p.value);
    } else if (iequals(p.name, "authz_server")) {
      c->authz_server = unquote(p.value);
    }
  }
}

// H(part0 ":" part1 ":" ...) as lower-case hex into out (size 2 * digest size + 1).
Status hash_hex(DigestAlgorithm alg, std::initializer_list<std::string_view> parts, char* out,
                std::size_t out_size) {
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(
      alg == DigestAlgorithm::kSha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_MD5);
  if (info == nullptr) return Status(Code::kInternal, Module::kSip, "hash not available");
  std::size_t n = mbedtls_md_get_size(info);
  if (out_size < 2 * n + 1) return Status(Code::kInternal, Module::kSip, "hash buffer too small");
  mbedtls_md_context_t ctx;
  mbedtls_md_init(&ctx);
  unsigned char digest[MBEDTLS_MD_MAX_SIZE];
  int rc = mbedtls_md_setup(&ctx, info, 0);
  if (rc == 0) rc = mbedtls_md_starts(&ctx);
  bool first = true;
  for (std::string_view part : parts) {
    if (rc == 0 && !first)
      rc = mbedtls_md_update(&ctx, reinterpret_cast<const unsigned char*>(":"), 1);
    if (rc == 0)
      rc =
          mbedtls_md_update(&ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size());
    first = false;
  }
  if (rc == 0) rc = mbedtls_md_finish(&ctx, digest);
  mbedtls_md_free(&ctx);
  if (rc != 0) {
    secure_zero(digest, sizeof digest);
    return Status(Code::kInternal, Module::kSip, "hash failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  out[2 * n] = '\0';
  secure_zero(digest, sizeof digest);
  return Status::ok();
}

// cnonce is sent quoted; RFC 7616's own example uses '/', so allow any visible ASCII that
// needs no escaping.
bool is_cnonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

std::string nc_hex(std::uint32_t nc) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, nc >>= 4)
    s[static_cast<std::size_t>(i)] = kHex[nc & 15];
  return s;
}

// Appends [", "]name="value" with '"' and '\' escaped; refuses what cannot be sent safely.
Status append_quoted(std::string* out, std::string_view name, std::string_view value) {
  if (out->back() != ' ') out->append(", ");
  out->append(name).append("=\"");
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return invalid("control character in credential");
    if (c == '"' || c == '\\') *out += '\\';
    *out += c;
  }
  *out += '"';
  return Status::ok();
}

} // namespace

Result<Challenge> parse_challenge(std::string_view value) {
  std::string_view s = trim(value);
  std::size_t n = 0;
  while (n < s.size() && is_token_char(s[n]))
    ++n;
  if (n == 0 || (n < s.size() && !is_wsp(s[n]))) return malformed("bad challenge scheme");
  std::string_view scheme = s.substr(0, n);
  std::vector<AuthParam> params;
  IMSDC_TRY(parse_auth_params(s.substr(n), &params));
  Challenge c;
  if (iequals(scheme, "Digest")) {
    c.scheme = AuthScheme::kDigest;
    IMSDC_TRY(parse_digest(params, &c));
  } else if (iequals(scheme, "Bearer")) {
    c.scheme = AuthScheme::kBearer;
    parse_bearer(params, &c);
  } else {
    return unsupported("authentication scheme not supported");
  }
  return c;
}

Result<Challenge> select_challenge(const Message& response, CredentialKind kind) {
  const char* header;
  if (response.status_code() == 401) {
    header = "WWW-Authenticate";
  } else if (response.status_code() == 407) {
    header = "Proxy-Authenticate";
  } else {
    return invalid("not a 401 or 407 response");
  }
  AuthScheme want = kind == CredentialKind::kBearer ? AuthScheme::kBearer : AuthScheme::kDigest;
  bool found = false;
  bool saw_unsupported = false;
  Challenge best;
  for (std::size_t i = 0; i < response.header_count(); ++i) {
    if (!iequals(response.header_name(i), header)) continue;
    auto c = parse_challenge(response.header_value(i));
    if (!c.is_ok()) {
      // An unsupported variant of the scheme we want (e.g. Digest SHA-512-256) is worth
      // reporting if nothing else fits; a garbled challenge is just skipped.
      std::string_view v = trim(response.header_value(i));
      std::string_view scheme = v.substr(0, v.find(' '));
      if (c.status() == Code::kUnsupported &&
          iequals(scheme, want == AuthScheme::kBearer ? "Bearer" : "Digest")) {
        saw_unsupported = true;
      }
      continue;
    }
    if (c->scheme != want) continue;
    if (!found ||
        (c->algorithm == DigestAlgorithm::kSha256 && best.algorithm == DigestAlgorithm::kMd5)) {
      best = std::move(c.value());
      found = true;
    }
  }
  if (found) return best;
  if (saw_unsupported) return unsupported("only unsupported challenges offered");
  return Status(Code::kNotFound, Module::kSip, "no usable challenge");
}

Result<std::string> digest_response(const Challenge& challenge, const DigestInput& input) {
  if (challenge.scheme != AuthScheme::kDigest) return invalid("not a digest challenge");
  if (input.username.empty()) return invalid("empty username");
  if (challenge.qop_auth && !is_cnonce(input.cnonce)) return invalid("bad cnonce");
  constexpr std::size_t kHexSize = 2 * MBEDTLS_MD_MAX_SIZE + 1;
  char ha1[kHexSize];
  char ha2[kHexSize];
  char response[kHexSize];
  DigestAlgorithm alg = challenge.algorithm;
  Status s = hash_hex(alg, {input.username, challenge.realm, input.password}, ha1, sizeof ha1);
  if (s.is_ok()) s = hash_hex(alg, {input.method, input.uri}, ha2, sizeof ha2);
  if (s.is_ok()) {
    if (challenge.qop_auth) {
      std::string nc = nc_hex(input.nc);
      s = hash_hex(alg, {ha1, challenge.nonce, nc, input.cnonce, "auth", ha2}, response,
                   sizeof response);
    } else {
      s = hash_hex(alg, {ha1, challenge.nonce, ha2}, response, sizeof response);
    }
  }
  // HA1 is a password equivalent for this realm: never leave it on the stack.
  secure_zero(ha1, sizeof ha1);
  if (!s.is_ok()) return s;
  return std::string(response);
}

Result<std::string> digest_authorization(const Challenge& challenge, const DigestInput& input) {
  for (char c : input.username) {
    if (static_cast<unsigned char>(c) >= 0x80) return invalid("non-ASCII username");
  }
  auto response = digest_response(challenge, input);
  if (!response.is_ok()) return response.status();
  std::string v = "Digest ";
  IMSDC_TRY(append_quoted(&v, "username", input.username));
  IMSDC_TRY(append_quoted(&v, "realm", challenge.realm));
  IMSDC_TRY(append_quoted(&v, "nonce", challenge.nonce));
  IMSDC_TRY(append_quoted(&v, "uri", input.uri));
  IMSDC_TRY(append_quoted(&v, "response", response.value()));
  v.append(", algorithm=")
      .append(challenge.algorithm == DigestAlgorithm::kSha256 ? "SHA-256" : "MD5");
  if (challenge.qop_auth) IMSDC_TRY(append_quoted(&v, "cnonce", input.cnonce));
  if (challenge.has_opaque) IMSDC_TRY(append_quoted(&v, "opaque", challenge.opaque));
  if (challenge.qop_auth) v.append(", qop=auth, nc=").append(nc_hex(input.nc));
  return v;
}

Result<std::string> bearer_authorization(std::string_view token) {
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  std::size_t i = 0;
  while (i < token.size()) {
    char c = token[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("-._~+/").find(c) == std::string_view::npos) break;
    ++i;
  }
  if (i == 0) return invalid("empty or bad bearer token");
  while (i < token.size() && token[i] == '=')
    ++i;
  if (i != token.size()) return invalid("bad bearer token");
  std::string v = "Bearer ";
  v.append(token);
  return v;
}

} // namespace imsdc::sip
