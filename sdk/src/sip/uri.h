// SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966), name-addr / addr-spec header
// values (From, To, Contact, Route, P-Asserted-Identity, Call-Info) and Via (RFC 3261
// section 20.42).
//
// All parsers here are pure and return views into their input: a parsed Uri is valid only
// while the text it was parsed from is alive (usually a sip::Message). Escapes (%HH) are kept
// as written; comparison rules of RFC 3261 section 19.1.4 are the caller's business.
#ifndef IMSDC_SRC_SIP_URI_H
#define IMSDC_SRC_SIP_URI_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "imsdc/status.h"
#include "sip/text.h"

namespace imsdc::sip {

enum class UriScheme : std::uint8_t { kSip, kSips, kTel, kOther };
enum class HostKind : std::uint8_t { kNone, kName, kIpv4, kIpv6 };

// A parsed URI. For kOther (e.g. the https URI of a Call-Info avatar reference) only text
// and scheme_name are set: imsdc never needs to look inside such URIs.
struct Uri {
  UriScheme scheme = UriScheme::kOther;
  std::string_view text;        // the whole URI as written
  std::string_view scheme_name; // as written ("SIP" stays "SIP")
  std::string_view user;        // sip/sips user part as written; tel: the number
  std::string_view password;    // deprecated by RFC 3261 but legal; never used by imsdc
  std::string_view host;        // as written; an IPv6 reference keeps its brackets
  HostKind host_kind = HostKind::kNone;
  std::uint16_t port = 0;   // 0 when absent
  std::string_view params;  // ";transport=ws;lr" as written (for find_param)
  std::string_view headers; // after '?', without it; empty when absent

  // Value of a URI parameter (quotes removed), or nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const {
    return find_param(params, name);
  }
};

// Parses an absolute URI. sip/sips: [user[:password]@]host[:port][;params][?headers], host a
// name, IPv4 address or bracketed IPv6 reference. tel: a global number ("+" digits and
// visual separators) or a local number with a mandatory ;phone-context. Other schemes are
// accepted when they have a valid scheme name and no white space.
// Errors: kMalformed (bad scheme, host, port, parameters, white space, tel number).
Result<Uri> parse_uri(std::string_view text);

// One From/To/Contact/Route-style element: name-addr ("Display" <uri>;params) or
// addr-spec (uri;params, where the parameters belong to the header, RFC 3261 section 20).
struct NameAddr {
  std::string_view display_name; // as written: quoted (with quotes) or tokens; may be empty
  Uri uri;
  std::string_view params; // header parameters (";tag=..;expires=..") as written

  // Value of a header parameter (quotes removed), or nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const {
    return find_param(params, name);
  }
  // The display name with quotes and escapes resolved.
  std::string display_text() const { return unquote(display_name); }
};

// Parses one element (the caller splits comma lists first, see Message::header_values).
// Errors: kMalformed (unbalanced quote, non-token display name, white space inside <>, an
// addr-spec with '?' headers (RFC 4475 regbadct), bad URI or parameters).
Result<NameAddr> parse_name_addr(std::string_view value);

// One via-parm: "SIP/2.0/WSS host[:port];branch=..;received=..;rport".
struct Via {
  std::string_view transport; // "WSS", "UDP", ... as written
  std::string_view host;      // sent-by host; IPv6 keeps its brackets
  HostKind host_kind = HostKind::kNone;
  std::uint16_t port = 0;    // 0 when absent
  std::string_view params;   // all parameters as written
  std::string_view branch;   // empty when absent
  std::string_view received; // empty when absent
  bool has_rport = false;    // ";rport" present, with or without value
  std::uint16_t rport = 0;   // the value the server filled in, 0 when none

  std::optional<std::string_view> param(std::string_view name) const {
    return find_param(params, name);
  }
};

// Parses one via-parm, allowing LWS around '/' and ':' (RFC 4475 wsinv). Errors: kMalformed
// (protocol other than SIP/2.0, bad sent-by, bad parameters or rport/port numbers).
Result<Via> parse_via(std::string_view value);

// Parses a host (name, IPv4 or "[IPv6]") and returns its kind. Errors: kMalformed.
Result<HostKind> parse_host(std::string_view host);

// Reduces a telephone number to its digits, for PASSporT "orig"/"dest" (RFC 8224 section
// 8.3): removes a leading '+' and the visual separators - . ( ) of RFC 3966. Errors:
// kMalformed (no digits, or any other character such as '*' '#' or letters), kTooLarge
// (more than 32 digits).
Result<std::string> normalize_telephone_number(std::string_view number);

// The telephone number a URI denotes: the number of a tel URI, or the user part of a
// sip/sips URI that has ;user=phone or starts with '+' (a "+"-prefixed user part is how IMS
// writes a telephone number). Errors: kNotFound (not a telephone number URI).
Result<std::string_view> telephone_number_of(const Uri& uri);

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_URI_H
