// URI, name-addr and Via parsing. Parse liberally where RFC 4475 shows real peers do odd but
// legal things (escapes, LWS around separators, UTF-8 in parameter values); reject what
// RFC 4475 lists as invalid.
#include "sip/uri.h"

#include <cstring>

namespace imsdc::sip {
namespace {

constexpr Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSip, detail);
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Bytes that may never appear inside a URI, in or out of <>.
bool is_uri_forbidden(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"';
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && n < 4 && is_digit(s[n]))
      v = v * 10 + static_cast<unsigned>(s[n++] - '0');
    if (n == 0 || n > 3 || v > 255) return false;
    ++parts;
    s.remove_prefix(n);
    if (s.empty()) return parts == 4;
    if (s[0] != '.' || parts == 4) return false;
    s.remove_prefix(1);
  }
}

// Syntax only: hex groups, ':' and an optional dotted IPv4 tail. Whether the address is
// routable is the network's business.
bool is_ipv6_reference(std::string_view s) {
  if (s.size() < 4 || s.size() > 47 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  if (s.find(':') == std::string_view::npos) return false;
  for (char c : s) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  char prev = '.';
  for (char c : s) {
    // '_' is not in RFC 3261's hostname, but SRV-style names with it are seen in the wild.
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
    if (c == '.' && prev == '.') return false; // empty label
    prev = c;
  }
  return s.front() != '-';
}

Result<std::uint16_t> parse_port(std::string_view s) {
  auto v = parse_decimal(s, 65535);
  if (!v.is_ok() || v.value() == 0) return malformed("bad port");
  return static_cast<std::uint16_t>(v.value());
}

// Splits "host[:port]" (host may be an IPv6 reference) and validates both.
Status parse_hostport(std::string_view s, std::string_view* host, HostKind* kind,
                      std::uint16_t* port) {
  std::size_t colon;
  if (!s.empty() && s[0] == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return malformed("unterminated IPv6 reference");
    colon = close + 1;
    if (colon < s.size() && s[colon] != ':') return malformed("text after IPv6 reference");
  } else {
    colon = s.find(':');
  }
  *host = s.substr(0, colon);
  auto k = parse_host(*host);
  if (!k.is_ok()) return k.status();
  *kind = k.value();
  *port = 0;
  if (colon < s.size()) {
    auto p = parse_port(s.substr(colon + 1));
    if (!p.is_ok()) return p.status();
    *port = p.value();
  }
  return Status::ok();
}

Status parse_tel(std::string_view rest, Uri* uri) {
  std::size_t semi = rest.find(';');
  std::string_view number = rest.substr(0, semi);
  uri->user = number;
  uri->params = semi == std::string_view::npos ? std::string_view() : rest.substr(semi);
  std::vector<Param> params;
  IMSDC_TRY(parse_params(uri->params, &params));
  bool global = !number.empty() && number[0] == '+';
  bool digit = false;
  for (std::size_t i = global ? 1 : 0; i < number.size(); ++i) {
    char c = number[i];
    if (is_digit(c) || (!global && (is_hex(c) || c == '*' || c == '#'))) {
      digit = true;
    } else if (c != '-' && c != '.' && c != '(' && c != ')') {
      return malformed("bad tel number");
    }
  }
  if (!digit) return malformed("bad tel number");
  // RFC 3966 section 5.1.5: a local number is meaningless without its context.
  auto context = uri->param("phone-context");
  if (!global && (!context || context->empty()))
    return malformed("local tel number without phone-context");
  return Status::ok();
}

Status parse_sip(std::string_view rest, Uri* uri) {
  // The user part may contain '?', ';' and '/' (RFC 4475 intmeth, semiuri), so the first
  // '@' decides where it ends; '@' is not allowed unescaped anywhere after it.
  std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    std::size_t colon = userinfo.find(':');
    uri->user = userinfo.substr(0, colon);
    if (colon != std::string_view::npos) uri->password = userinfo.substr(colon + 1);
    if (uri->user.empty()) return malformed("empty user part");
    rest.remove_prefix(at + 1);
  }
  std::size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    uri->headers = rest.substr(q + 1);
    if (uri->headers.empty()) return malformed("empty URI headers");
    rest = rest.substr(0, q);
  }
  std::size_t semi = rest.find(';');
  if (semi != std::string_view::npos) {
    uri->params = rest.substr(semi);
    std::vector<Param> params;
    IMSDC_TRY(parse_params(uri->params, &params));
    rest = rest.substr(0, semi);
  }
  return parse_hostport(rest, &uri->host, &uri->host_kind, &uri->port);
}

// Validates a display name written as tokens separated by LWS (RFC 3261 display-name).
bool is_token_display(std::string_view s) {
  for (char c : s) {
    if (!is_token_char(c) && !is_wsp(c)) return false;
  }
  return true;
}

} // namespace

Result<HostKind> parse_host(std::string_view host) {
  if (is_ipv6_reference(host)) return HostKind::kIpv6;
  if (is_ipv4(host)) return HostKind::kIpv4;
  if (is_hostname(host)) return HostKind::kName;
  return malformed("bad host");
}

Result<Uri> parse_uri(std::string_view text) {
  Uri uri;
  uri.text = text;
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return malformed("URI without scheme");
  uri.scheme_name = text.substr(0, colon);
  // RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (!is_alnum(uri.scheme_name[0]) || is_digit(uri.scheme_name[0]))
    return malformed("bad URI scheme");
  for (char c : uri.scheme_name) {
    if (!is_alnum(c) && c != '+' && c != '-' && c != '.') return malformed("bad URI scheme");
  }
  for (char c : text) {
    if (is_uri_forbidden(c)) return malformed("forbidden character in URI");
  }
  std::string_view rest = text.substr(colon + 1);
  if (rest.empty()) return malformed("empty URI");
  if (iequals(uri.scheme_name, "sip")) {
    uri.scheme = UriScheme::kSip;
  } else if (iequals(uri.scheme_name, "sips")) {
    uri.scheme = UriScheme::kSips;
  } else if (iequals(uri.scheme_name, "tel")) {
    uri.scheme = UriScheme::kTel;
  } else {
    return uri;
  }
  IMSDC_TRY(uri.scheme == UriScheme::kTel ? parse_tel(rest, &uri) : parse_sip(rest, &uri));
  return uri;
}

Result<NameAddr> parse_name_addr(std::string_view value) {
  NameAddr na;
  std::string_view s = trim(value);
  std::string_view uri_text;
  std::string_view after;
  std::size_t lt;
  if (!s.empty() && s[0] == '"') {
    std::size_t q = quoted_length(s);
    if (q == 0) return malformed("unterminated display name");
    na.display_name = s.substr(0, q);
    lt = q;
    while (lt < s.size() && is_wsp(s[lt]))
      ++lt;
    if (lt >= s.size() || s[lt] != '<') return malformed("display name without <uri>");
  } else {
    lt = s.find('<');
    if (lt != std::string_view::npos) {
      na.display_name = trim(s.substr(0, lt));
      if (!is_token_display(na.display_name)) return malformed("bad display name");
    }
  }
  if (lt != std::string_view::npos) {
    std::size_t gt = s.find('>', lt);
    if (gt == std::string_view::npos) return malformed("unterminated <uri>");
    uri_text = s.substr(lt + 1, gt - lt - 1);
    after = s.substr(gt + 1);
  } else {
    // addr-spec: the URI ends at the first ';' or LWS; what follows are header parameters.
    std::size_t end = 0;
    while (end < s.size() && s[end] != ';' && !is_wsp(s[end]))
      ++end;
    uri_text = s.substr(0, end);
    after = s.substr(end);
    if (uri_text.find('?') != std::string_view::npos ||
        uri_text.find(',') != std::string_view::npos) {
      return malformed("addr-spec with headers or comma must use <>");
    }
  }
  auto uri = parse_uri(uri_text);
  if (!uri.is_ok()) return uri.status();
  na.uri = uri.value();
  std::vector<Param> params;
  IMSDC_TRY(parse_params(after, &params));
  na.params = trim(after);
  return na;
}

Result<Via> parse_via(std::string_view value) {
  Via via;
  std::string_view s = trim(value);
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    s = trim(s);
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n]))
      ++n;
    if (n == 0) return malformed("bad Via protocol");
    parts[i] = s.substr(0, n);
    s = trim(s.substr(n));
    if (i < 2) {
      if (s.empty() || s[0] != '/') return malformed("bad Via protocol");
      s.remove_prefix(1);
    }
  }
  if (!iequals(parts[0], "SIP") || parts[1] != "2.0")
    return malformed("Via protocol is not SIP/2.0");
  via.transport = parts[2];
  std::size_t semi = s.find(';');
  std::string_view sent_by = trim(s.substr(0, semi));
  via.params = semi == std::string_view::npos ? std::string_view() : s.substr(semi);
  // COLON = SWS ":" SWS, so "host : port" is legal.
  std::size_t colon = sent_by.find(':');
  if (!sent_by.empty() && sent_by[0] == '[') {
    std::size_t close = sent_by.find(']');
    colon = close == std::string_view::npos ? close : sent_by.find(':', close);
  }
  via.host = trim(sent_by.substr(0, colon));
  auto kind = parse_host(via.host);
  if (!kind.is_ok()) return kind.status();
  via.host_kind = kind.value();
  if (colon != std::string_view::npos) {
    auto p = parse_port(trim(sent_by.substr(colon + 1)));
    if (!p.is_ok()) return p.status();
    via.port = p.value();
  }
  std::vector<Param> params;
  IMSDC_TRY(parse_params(via.params, &params));
  for (const Param& p : params) {
    if (iequals(p.name, "branch")) {
      if (!is_token(p.value)) return malformed("bad Via branch");
      via.branch = p.value;
    } else if (iequals(p.name, "received")) {
      via.received = p.value;
    } else if (iequals(p.name, "rport")) {
      via.has_rport = true;
      if (!p.value.empty()) {
        auto r = parse_port(p.value);
        if (!r.is_ok()) return r.status();
        via.rport = r.value();
      }
    }
  }
  return via;
}

Result<std::string> normalize_telephone_number(std::string_view number) {
  std::string out;
  if (!number.empty() && number[0] == '+') number.remove_prefix(1);
  for (char c : number) {
    if (is_digit(c)) {
      if (out.size() == 32)
        return Status(Code::kTooLarge, Module::kSip, "telephone number too long");
      out += c;
    } else if (c != '-' && c != '.' && c != '(' && c != ')') {
      return malformed("not a telephone number");
    }
  }
  if (out.empty()) return malformed("not a telephone number");
  return out;
}

Result<std::string_view> telephone_number_of(const Uri& uri) {
  if (uri.scheme == UriScheme::kTel) return uri.user;
  if (uri.scheme == UriScheme::kSip || uri.scheme == UriScheme::kSips) {
    std::string_view user = uri.user.substr(0, uri.user.find(';'));
    auto user_param = uri.param("user");
    if ((user_param && iequals(*user_param, "phone")) || (!user.empty() && user[0] == '+')) {
      if (!user.empty()) return user;
    }
  }
  return Status(Code::kNotFound, Module::kSip, "URI is not a telephone number");
}

} // namespace imsdc::sip
