// Identity header, PASSporT and Rich Call Data verification, caller card.
#include "identity/identity.h"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "identity/jcs.h"
#include "imsdc/codec.h"
#include "imsdc/jose.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::identity {
namespace {

using JsonPtr = std::unique_ptr<cJSON, void (*)(cJSON*)>;

Status err(Code code, const char* detail) {
  return Status(code, Module::kIdentity, detail);
}

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

const char* json_str(const cJSON* obj, const char* name) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(v) ? v->valuestring : nullptr;
}

// "<code>: <detail>" for card reasons, so a user can tell a stale PASSporT from a forged one.
std::string reason_of(const Status& s) {
  std::string r = s.name();
  r += ": ";
  r += s.message();
  return r;
}

Result<Bytes> fetch(const CertificateFetcher& f, std::string_view url) {
  if (!f.fetch) return err(Code::kNotFound, "no fetcher configured");
  std::vector<std::uint8_t> buf(kMaxFetchSize);
  std::size_t len = 0;
  if (f.fetch(f.ctx, url.data(), url.size(), buf.data(), buf.size(), &len) < 0)
    return err(Code::kNotFound, "linked resource not available");
  if (len > buf.size()) return err(Code::kPortFailure, "fetcher wrote more than its buffer");
  buf.resize(len);
  return buf;
}

// "sha256-<base64>" of data, the rcdi digest form of RFC 9795 section 6.
std::string rcdi_digest(ByteSpan data) {
  const crypto::Digest d = crypto::sha256(data);
  return "sha256-" + base64_encode(ByteSpan(d.data(), d.size()));
}

// A verified PASSporT's claims that the caller card needs.
struct Passport {
  std::string ppt;
  PassportClaims claims;
};

// The verified claims set (a JSON object: parse_passport_claims checked it).
const cJSON* claims_json(const Passport& p) {
  return p.claims.json.get();
}

Result<Passport> verify_passport(std::string_view value, const VerifyConfig& cfg,
                                 const std::string& caller,
                                 const std::vector<std::string>& called) {
  auto ih = parse_identity_header(value);
  if (!ih) return ih.status();
  auto parts = jose::jws_parse(ih->jws);
  if (!parts) return parts.status();
  JsonPtr header(cJSON_ParseWithLength(parts->header_json.data(), parts->header_json.size()),
                 cJSON_Delete);
  if (!header) return err(Code::kMalformed, "PASSporT header is not JSON");
  if (!parts->typ.empty() && !ascii_iequals(parts->typ, "passport"))
    return err(Code::kBinding, "JWS typ is not passport");
  const char* ppt = json_str(header.get(), "ppt");
  Passport p;
  if (ppt) p.ppt = ppt;
  if (!p.ppt.empty() && p.ppt != "shaken" && p.ppt != "rcd")
    return err(Code::kUnsupported, "PASSporT ppt is not shaken or rcd");
  if (!ih->ppt.empty() && sip::unquote(ih->ppt) != p.ppt)
    return err(Code::kBinding, "Identity ppt parameter differs from the PASSporT header");
  const char* x5u = json_str(header.get(), "x5u");
  if (!x5u) return err(Code::kMalformed, "PASSporT header has no x5u");
  auto pem = fetch(cfg.fetcher, x5u);
  if (!pem) return err(Code::kUntrusted, "x5u certificate not available");
  std::vector<Bytes> chain;
  if (crypto::is_pem(pem.value())) {
    auto certs = crypto::certs_from_pem(
        std::string_view(reinterpret_cast<const char*>(pem->data()), pem->size()));
    if (!certs) return certs.status();
    chain = std::move(certs.value());
  } else {
    chain.push_back(std::move(pem.value()));
  }
  if (chain.empty()) return err(Code::kMalformed, "x5u has no certificate");
  if (chain.size() > IMSDC_MAX_CHAIN_LENGTH) return err(Code::kTooLarge, "x5u chain too long");
  IMSDC_TRY(crypto::verify_chain(chain, *cfg.trust, cfg.now_s));
  auto leaf = crypto::cert_info(chain[0]);
  if (!leaf) return leaf.status();
  IMSDC_TRY(jose::jws_verify(parts.value(), leaf->public_key));

  auto claims = parse_passport_claims(
      std::string_view(reinterpret_cast<const char*>(parts->payload.data()), parts->payload.size()),
      p.ppt);
  if (!claims) return claims.status();
  p.claims = std::move(claims.value());
  const std::int64_t iat = p.claims.iat;
  // Freshness in both directions: a future iat is as suspicious as an old one.
  if (cfg.now_s < 0 || iat > cfg.now_s + cfg.iat_window_s || cfg.now_s - iat > cfg.iat_window_s)
    return err(Code::kExpired, "PASSporT iat is not fresh");
  if (caller.empty() || p.claims.orig != caller)
    return err(Code::kBinding, "orig does not match the P-Asserted-Identity or From number");
  const auto& dest = p.claims.dest;
  if (std::none_of(dest.begin(), dest.end(), [&](const std::string& d) {
        return std::find(called.begin(), called.end(), d) != called.end();
      }))
    return err(Code::kBinding, "dest does not match the Request-URI or To number");
  return p;
}

// The caller card's view of a jCard already parsed into cJSON (jcd, or a fetched jcl).
Result<JCard> jcard_of(const cJSON* card) {
  const cJSON* kind = cJSON_GetArrayItem(card, 0);
  const cJSON* props = cJSON_GetArrayItem(card, 1);
  if (!cJSON_IsArray(card) || !cJSON_IsString(kind) ||
      std::strcmp(kind->valuestring, "vcard") != 0 || !cJSON_IsArray(props))
    return err(Code::kMalformed, "not a jCard");
  JCard j;
  std::size_t index = 0;
  for (const cJSON* p = props->child; p && index < kMaxJCardProperties; p = p->next, ++index) {
    const cJSON* n = cJSON_GetArrayItem(p, 0);
    const cJSON* v = cJSON_GetArrayItem(p, 3);
    if (!cJSON_IsString(n)) continue;
    const std::string_view name = n->valuestring;
    if ((name == "fn" && j.fn.empty()) || (name == "org" && j.org.empty())) {
      // org is a structured value (RFC 7095 section 3.3.1.3): its first component is the name.
      const cJSON* text = cJSON_IsArray(v) ? v->child : v;
      if (cJSON_IsString(text)) (name == "fn" ? j.fn : j.org) = text->valuestring;
    } else if ((name == "photo" || name == "logo") && cJSON_IsString(v)) {
      j.links.push_back({index, std::string(name), v->valuestring});
    }
  }
  return j;
}

// Rich Call Data of one verified PASSporT, checked against its rcdi digests.
class RcdChecker {
public:
  RcdChecker(const cJSON* claims, const CertificateFetcher& fetcher)
      : fetcher_(fetcher), rcd_(cJSON_GetObjectItemCaseSensitive(claims, "rcd")),
        rcdi_(cJSON_GetObjectItemCaseSensitive(claims, "rcdi")) {}

  bool has_rcd() const { return cJSON_IsObject(rcd_); }

  // Status of an inline rcd member (nam, apn, jcd): the signature covers it; with rcdi, its
  // digest over the JCS form must match too.
  void inline_field(const char* member, CardField* f) const {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(rcd_, member);
    std::string pointer = std::string("/") + member;
    if (!rcdi_) {
      set(f, FieldStatus::kVerifiedE2e, "signed in the PASSporT");
      return;
    }
    std::string canon;
    if (!jcs_append(v, &canon).is_ok()) {
      set(f, FieldStatus::kFailed, "rcd value cannot be canonicalized");
      return;
    }
    check_digest(pointer, ByteSpan(canon), f);
  }

  // Status of linked content (icn, jcl, a jCard photo URI): only an rcdi digest over the
  // fetched bytes covers it, the signature covers just the URI.
  void linked_field(const std::string& pointer, const std::string& url, CardField* f,
                    Bytes* content) const {
    if (!rcdi_) {
      set(f, FieldStatus::kUnverified, "linked content without an rcdi digest");
      return;
    }
    auto bytes = fetch(fetcher_, url);
    if (!bytes) {
      set(f, FieldStatus::kFailed, "linked content not available");
      return;
    }
    check_digest(pointer, bytes.value(), f);
    if (content && f->status == FieldStatus::kVerifiedE2e) *content = std::move(bytes.value());
  }

  const cJSON* rcd() const { return rcd_; }

private:
  static void set(CardField* f, FieldStatus s, const char* reason) {
    f->status = s;
    f->reason = reason;
  }

  void check_digest(const std::string& pointer, ByteSpan data, CardField* f) const {
    const char* want = json_str(rcdi_, pointer.c_str());
    if (!want) {
      f->status = FieldStatus::kFailed;
      f->reason = "no rcdi digest for " + pointer;
      return;
    }
    if (rcdi_digest(data) != want) {
      f->status = FieldStatus::kFailed;
      f->reason = "rcdi digest mismatch for " + pointer;
      return;
    }
    f->status = FieldStatus::kVerifiedE2e;
    f->reason = "rcdi digest matches " + pointer;
  }

  const CertificateFetcher& fetcher_;
  const cJSON* rcd_;
  const cJSON* rcdi_;
};

void field(CardField* f, std::string value, FieldStatus status, std::string reason) {
  f->present = true;
  f->value = std::move(value);
  f->status = status;
  f->reason = std::move(reason);
}

void copy_status(const CardField& from, CardField* to, std::string value) {
  field(to, std::move(value), from.status, from.reason);
}

// Fills name, organization, photo and avatar from a verified PASSporT's rcd.
void apply_rcd(const RcdChecker& rc, std::string_view avatar_uri, CallerCard* card) {
  const cJSON* rcd = rc.rcd();
  if (const char* nam = json_str(rcd, "nam")) {
    CardField f;
    rc.inline_field("nam", &f);
    copy_status(f, &card->name, nam);
  }
  // rcd.apn (an alternate presentation number) has no caller card field in section 10, and
  // a number the card does not show needs no verdict.
  std::string icn_url;
  CardField icn_status;
  if (const char* icn = json_str(rcd, "icn")) {
    icn_url = icn;
    rc.linked_field("/icn", icn_url, &icn_status, nullptr);
    copy_status(icn_status, &card->photo, icn_url);
  }
  // The jCard: inline (jcd) or linked (jcl); both at once are ambiguous (RFC 9795 6.1).
  const cJSON* jcd = cJSON_GetObjectItemCaseSensitive(rcd, "jcd");
  const char* jcl = json_str(rcd, "jcl");
  CardField jcard_status;
  Result<JCard> jcard = err(Code::kNotFound, "no jCard");
  std::string base;
  if (jcd && jcl) {
    field(&card->name, card->name.value, FieldStatus::kFailed, "rcd has both jcd and jcl");
    card->organization.status = FieldStatus::kFailed;
    card->organization.reason = "rcd has both jcd and jcl";
  } else if (jcd) {
    rc.inline_field("jcd", &jcard_status);
    jcard = jcard_of(jcd);
    base = "/jcd";
  } else if (jcl) {
    Bytes content;
    rc.linked_field("/jcl", jcl, &jcard_status, &content);
    if (jcard_status.status == FieldStatus::kVerifiedE2e)
      jcard = parse_jcard(
          std::string_view(reinterpret_cast<const char*>(content.data()), content.size()));
    base = "/jcl";
  }
  std::string avatar_reason = "not covered by the PASSporT";
  FieldStatus avatar_status = FieldStatus::kUnverified;
  if (!avatar_uri.empty() && avatar_uri == icn_url) {
    avatar_status = icn_status.status;
    avatar_reason = "rcd.icn: " + icn_status.reason;
  }
  if ((jcd || jcl) && !(jcd && jcl)) {
    if (jcard_status.status == FieldStatus::kVerifiedE2e && !jcard) {
      jcard_status.status = FieldStatus::kFailed;
      jcard_status.reason = "the signed " + base.substr(1) + " is not a jCard";
    }
    if (jcard_status.status != FieldStatus::kVerifiedE2e) {
      // A jCard that failed its check: the fields it would have carried are failed (a name
      // that nam carries keeps its own verdict).
      if (card->name.status != FieldStatus::kVerifiedE2e) {
        card->name.status = jcard_status.status;
        card->name.reason = jcard_status.reason;
      }
      card->organization.status = jcard_status.status;
      card->organization.reason = jcard_status.reason;
    } else {
      if (!jcard->fn.empty() && !card->name.present)
        copy_status(jcard_status, &card->name, jcard->fn);
      if (!jcard->org.empty()) copy_status(jcard_status, &card->organization, jcard->org);
      for (const JCard::Link& link : jcard->links) {
        const std::string pointer = base + "/1/" + std::to_string(link.index) + "/3";
        CardField photo;
        rc.linked_field(pointer, link.uri, &photo, nullptr);
        if (!card->photo.present) copy_status(photo, &card->photo, link.uri);
        if (!avatar_uri.empty() && avatar_uri == link.uri &&
            avatar_status != FieldStatus::kVerifiedE2e) {
          avatar_status = photo.status;
          avatar_reason = "jCard " + link.name + ": " + photo.reason;
        }
      }
    }
  }
  if (!avatar_uri.empty())
    field(&card->avatar, std::string(avatar_uri), avatar_status, avatar_reason);
}

std::string number_of(std::string_view header_value, std::string* display) {
  auto na = sip::parse_name_addr(header_value);
  if (!na) return {};
  if (display && display->empty()) *display = na->display_text();
  auto tn = sip::telephone_number_of(na->uri);
  return tn ? std::string(tn.value()) : std::string();
}

std::string verstat_of(const sip::NameAddr& na) {
  auto v = na.uri.param("verstat");
  if (!v) v = na.param("verstat");
  return v ? std::string(v.value()) : std::string();
}

void add_json_field(cJSON* obj, const char* name, const CardField& f) {
  cJSON* o = cJSON_AddObjectToObject(obj, name);
  if (!o) return;
  if (f.present)
    cJSON_AddStringToObject(o, "value", f.value.c_str());
  else
    cJSON_AddNullToObject(o, "value");
  cJSON_AddStringToObject(o, "status", field_status_name(f.status));
  cJSON_AddStringToObject(o, "reason", f.reason.c_str());
}

} // namespace

const char* field_status_name(FieldStatus status) {
  switch (status) {
  case FieldStatus::kVerifiedNetwork:
    return "verified_network";
  case FieldStatus::kVerifiedE2e:
    return "verified_e2e";
  case FieldStatus::kNotAttested:
    return "not_attested";
  case FieldStatus::kUnverified:
    return "unverified";
  case FieldStatus::kFailed:
    return "failed";
  }
  return "unverified";
}

Result<IdentityHeader> parse_identity_header(std::string_view value) {
  if (value.size() > kMaxIdentityHeaderSize) return err(Code::kTooLarge, "Identity too large");
  value = trim_ws(value);
  IdentityHeader h;
  std::size_t i = 0;
  int dots = 0;
  while (i < value.size() && (is_b64url(value[i]) || value[i] == '.')) {
    if (value[i] == '.') ++dots;
    ++i;
  }
  h.jws = value.substr(0, i);
  if (h.jws.empty() || dots != 2) return err(Code::kMalformed, "Identity has no compact JWS");
  const std::size_t first = h.jws.find('.');
  if (first == 0 || h.jws.back() == '.') return err(Code::kMalformed, "Identity JWS segment empty");
  if (h.jws[first + 1] == '.')
    return err(Code::kUnsupported, "Identity compact form (detached payload)");
  std::string_view params = value.substr(i);
  // RFC 8224 section 4.1: ident-info is a bracketed absolute URI; it may contain ';', so it
  // is cut out before the generic parameter parser sees the rest.
  std::string_view rest = trim_ws(params);
  std::string remaining;
  int count = 0;
  while (!rest.empty()) {
    if (++count > 8) return err(Code::kMalformed, "Identity has too many parameters");
    if (rest.front() != ';') return err(Code::kMalformed, "Identity parameter syntax");
    rest = trim_ws(rest.substr(1));
    std::size_t eq = rest.find('=');
    std::size_t semi = rest.find(';');
    std::string_view name = trim_ws(rest.substr(0, std::min(eq, semi)));
    if (ascii_iequals(name, "info")) {
      if (eq == std::string_view::npos || eq > semi)
        return err(Code::kMalformed, "Identity info without a value");
      std::string_view v = trim_ws(rest.substr(eq + 1));
      if (v.empty() || v.front() != '<') return err(Code::kMalformed, "Identity info not in <>");
      std::size_t close = v.find('>');
      if (close == std::string_view::npos) return err(Code::kMalformed, "Identity info open <");
      if (!h.info.empty()) return err(Code::kMalformed, "Identity info twice");
      h.info = v.substr(1, close - 1);
      if (h.info.empty() || !sip::parse_uri(h.info))
        return err(Code::kMalformed, "Identity info is not a URI");
      rest = trim_ws(v.substr(close + 1));
      continue;
    }
    std::size_t end = std::min(semi, rest.size());
    std::string_view param = rest.substr(0, end);
    std::string_view pv = eq < end ? trim_ws(param.substr(eq + 1)) : std::string_view();
    if (name.empty() || (eq < end && pv.empty()))
      return err(Code::kMalformed, "Identity parameter syntax");
    for (char c : name) {
      if (!sip::is_token_char(c)) return err(Code::kMalformed, "Identity parameter name");
    }
    if (ascii_iequals(name, "alg")) h.alg = pv;
    if (ascii_iequals(name, "ppt")) h.ppt = pv;
    rest = trim_ws(rest.substr(end));
  }
  if (h.info.empty()) return err(Code::kMalformed, "Identity has no info parameter");
  if (!h.alg.empty() && h.alg != "ES256")
    return err(Code::kUnsupported, "Identity alg is not ES256");
  return h;
}

void PassportClaims::JsonDeleter::operator()(cJSON* node) const {
  cJSON_Delete(node);
}

Result<PassportClaims> parse_passport_claims(std::string_view json, std::string_view ppt) {
  if (json.size() > IMSDC_MAX_JWS_SIZE) return err(Code::kTooLarge, "PASSporT claims too large");
  PassportClaims c;
  c.json.reset(cJSON_ParseWithLength(json.data(), json.size()));
  const cJSON* root = c.json.get();
  if (!cJSON_IsObject(root)) return err(Code::kMalformed, "PASSporT claims not a JSON object");
  const cJSON* iat = cJSON_GetObjectItemCaseSensitive(root, "iat");
  // Range first: converting a double outside int64 to an integer is undefined behaviour.
  if (!cJSON_IsNumber(iat) || !(iat->valuedouble >= 0 && iat->valuedouble < 1e15) ||
      iat->valuedouble != static_cast<double>(static_cast<std::int64_t>(iat->valuedouble)))
    return err(Code::kMalformed, "PASSporT iat is not an integer");
  c.iat = static_cast<std::int64_t>(iat->valuedouble);
  const char* otn = json_str(cJSON_GetObjectItemCaseSensitive(root, "orig"), "tn");
  if (!otn) return err(Code::kMalformed, "PASSporT orig has no tn");
  auto o = sip::normalize_telephone_number(otn);
  if (!o) return err(Code::kMalformed, "PASSporT orig.tn is not a telephone number");
  c.orig = std::move(o.value());
  const cJSON* dest = cJSON_GetObjectItemCaseSensitive(root, "dest");
  const cJSON* dtn = cJSON_GetObjectItemCaseSensitive(dest, "tn");
  if (!cJSON_IsArray(dtn)) return err(Code::kMalformed, "PASSporT dest has no tn array");
  std::size_t count = 0;
  for (const cJSON* t = dtn->child; t; t = t->next) {
    if (++count > kMaxDestNumbers)
      return err(Code::kTooLarge, "PASSporT dest.tn has too many numbers");
    if (!cJSON_IsString(t)) return err(Code::kMalformed, "PASSporT dest.tn entry not a string");
    // A dest that is not a telephone number (a URI) binds to nothing the card checks.
    if (auto d = sip::normalize_telephone_number(t->valuestring)) c.dest.push_back(d.value());
  }
  const cJSON* attest = cJSON_GetObjectItemCaseSensitive(root, "attest");
  if (attest) {
    if (!cJSON_IsString(attest) ||
        (std::strcmp(attest->valuestring, "A") != 0 && std::strcmp(attest->valuestring, "B") != 0 &&
         std::strcmp(attest->valuestring, "C") != 0))
      return err(Code::kMalformed, "PASSporT attest is not A, B or C");
    c.attest = attest->valuestring;
  } else if (ppt == "shaken") {
    return err(Code::kMalformed, "SHAKEN PASSporT without attest");
  }
  return c;
}

Result<JCard> parse_jcard(std::string_view json) {
  if (json.size() > kMaxFetchSize) return err(Code::kTooLarge, "jCard too large");
  JsonPtr card(cJSON_ParseWithLength(json.data(), json.size()), cJSON_Delete);
  if (!card) return err(Code::kMalformed, "jCard is not JSON");
  return jcard_of(card.get());
}

Result<CallerCard> verify_request(const sip::Message& request, const VerifyConfig& config) {
  if (!config.trust) return err(Code::kInvalidArgument, "no STI trust store");
  if (!request.is_request()) return err(Code::kInvalidArgument, "not a request");
  CallerCard card;
  std::string display;
  std::string number_text;
  // The asserted identity is the network's word; From is the caller's, used only without it.
  auto pai = request.header_values("P-Asserted-Identity");
  if (pai) {
    for (std::string_view v : pai.value()) {
      auto na = sip::parse_name_addr(v);
      if (!na) continue;
      std::string vs = verstat_of(na.value());
      if (card.verstat.empty()) card.verstat = vs;
      if (number_text.empty()) number_text = number_of(v, &display);
    }
  }
  if (auto from = sip::parse_name_addr(request.header("From"))) {
    if (card.verstat.empty()) card.verstat = verstat_of(from.value());
    if (number_text.empty()) number_text = number_of(request.header("From"), &display);
    if (number_text.empty() && !card.number.present)
      card.number.value = std::string(from->uri.text);
  }
  std::string caller;
  if (!number_text.empty()) {
    auto n = sip::normalize_telephone_number(number_text);
    if (n) caller = n.value();
    card.number.value = number_text;
  }
  card.number.present = !card.number.value.empty();
  std::vector<std::string> called;
  for (std::string_view text : {request.request_uri(), request.header("To")}) {
    auto na = sip::parse_name_addr(text);
    if (!na) continue;
    auto tn = sip::telephone_number_of(na->uri);
    if (!tn) continue;
    auto n = sip::normalize_telephone_number(tn.value());
    if (n) called.push_back(n.value());
  }
  std::string avatar;
  auto infos = request.header_values("Call-Info");
  if (infos) {
    for (std::string_view v : infos.value()) {
      auto na = sip::parse_name_addr(v);
      if (na && na->param("purpose") && ascii_iequals(na->param("purpose").value(), "avatar")) {
        avatar = std::string(na->uri.text);
        break;
      }
    }
  }

  // Network verdict first; a verified PASSporT below may raise it to end-to-end.
  if (card.verstat == "TN-Validation-Passed") {
    card.number.status = FieldStatus::kVerifiedNetwork;
    card.number.reason = "network verstat TN-Validation-Passed";
  } else if (card.verstat == "TN-Validation-Failed") {
    card.number.status = FieldStatus::kFailed;
    card.number.reason = "network verstat TN-Validation-Failed";
  } else {
    card.number.reason = card.verstat.empty() ? "no verstat and no verified PASSporT"
                                              : "network verstat " + card.verstat;
  }
  if (!display.empty())
    field(&card.name, display, FieldStatus::kUnverified, "display name from the SIP header");
  if (!avatar.empty())
    field(&card.avatar, avatar, FieldStatus::kUnverified, "not covered by a verified PASSporT");

  auto ids = request.header_values("Identity");
  if (!ids) {
    card.has_identity = true;
    card.passport_status = ids.status();
  } else {
    std::size_t seen = 0;
    bool rcd_applied = false;
    for (std::string_view v : ids.value()) {
      card.has_identity = true;
      if (++seen > kMaxIdentityHeaders) break;
      auto p = verify_passport(v, config, caller, called);
      if (!p) {
        if (card.passport_status.is_ok()) card.passport_status = p.status();
        continue;
      }
      card.passport_verified = true;
      if (!p->claims.attest.empty() && (card.attest.empty() || p->claims.attest < card.attest))
        card.attest = p->claims.attest;
      RcdChecker rc(claims_json(p.value()), config.fetcher);
      if (!rcd_applied && (rc.has_rcd() || p->ppt == "rcd")) {
        // Mixing Rich Call Data of two PASSporTs would show fields no single signer vouched
        // for together; the first verified rcd PASSporT wins.
        rcd_applied = true;
        if (rc.has_rcd()) {
          card.name = CardField();
          apply_rcd(rc, avatar, &card);
        }
        if (const char* crn = json_str(claims_json(p.value()), "crn"))
          field(&card.call_reason, crn, FieldStatus::kVerifiedE2e, "signed in the PASSporT");
      }
    }
  }
  if (card.passport_verified) {
    if (card.attest == "A") {
      field(&card.number, card.number.value, FieldStatus::kVerifiedE2e,
            "PASSporT attest A, orig matches");
    } else {
      field(&card.number, card.number.value, FieldStatus::kNotAttested,
            card.attest.empty() ? "PASSporT without attestation"
                                : "PASSporT attest " + card.attest);
    }
  } else if (card.has_identity) {
    field(&card.number, card.number.value, FieldStatus::kFailed,
          "PASSporT " + reason_of(card.passport_status));
  }
  if (card.verstat == "TN-Validation-Failed") {
    // The network disagrees with what the PASSporT says: trust neither end to end.
    card.number.status = FieldStatus::kFailed;
    card.number.reason = "network verstat TN-Validation-Failed";
    for (CardField* f :
         {&card.name, &card.organization, &card.photo, &card.avatar, &card.call_reason}) {
      if (f->status == FieldStatus::kVerifiedE2e) {
        f->status = FieldStatus::kUnverified;
        f->reason = "network verstat TN-Validation-Failed";
      }
    }
  }
  for (CardField* f : {&card.name, &card.organization, &card.photo, &card.call_reason}) {
    if (!f->present && f->reason.empty()) f->reason = "not provided";
  }
  if (!card.avatar.present) card.avatar.reason = "no avatar reference";
  card.number.present = !card.number.value.empty();
  return card;
}

std::string caller_card_json(const CallerCard& card) {
  JsonPtr o(cJSON_CreateObject(), cJSON_Delete);
  if (!o) return "{}";
  add_json_field(o.get(), "number", card.number);
  add_json_field(o.get(), "name", card.name);
  add_json_field(o.get(), "organization", card.organization);
  add_json_field(o.get(), "photo", card.photo);
  add_json_field(o.get(), "avatar", card.avatar);
  add_json_field(o.get(), "call_reason", card.call_reason);
  if (card.verstat.empty())
    cJSON_AddNullToObject(o.get(), "verstat");
  else
    cJSON_AddStringToObject(o.get(), "verstat", card.verstat.c_str());
  if (card.attest.empty())
    cJSON_AddNullToObject(o.get(), "attest");
  else
    cJSON_AddStringToObject(o.get(), "attest", card.attest.c_str());
  char* text = cJSON_PrintUnformatted(o.get());
  if (!text) return "{}";
  std::string out(text);
  cJSON_free(text);
  return out;
}

} // namespace imsdc::identity
