// URI, name-addr, Via and telephone-number parsers: no crash on any input; a parsed
// sip/sips/tel URI, rebuilt from its parts, parses to the same parts.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sip/uri.h"

namespace {

using namespace imsdc::sip;

void check_round_trip(const Uri& u) {
  if (u.scheme == UriScheme::kOther) return;
  std::string s(u.scheme_name);
  s += ':';
  if (u.scheme == UriScheme::kTel) {
    s.append(u.user);
  } else {
    if (!u.user.empty()) {
      std::string_view rest = u.text.substr(u.scheme_name.size() + 1);
      std::size_t at = rest.find('@');
      bool has_password =
          at != std::string_view::npos && rest.substr(0, at).find(':') != std::string_view::npos;
      s.append(u.user);
      if (has_password) s.append(":").append(u.password);
      s += '@';
    }
    s.append(u.host);
    if (u.port) s.append(":").append(std::to_string(u.port));
  }
  s.append(u.params);
  if (!u.headers.empty()) s.append("?").append(u.headers);
  auto again = parse_uri(s);
  if (!again.is_ok() || again->scheme != u.scheme || again->user != u.user ||
      again->host != u.host || again->port != u.port || again->params != u.params ||
      again->headers != u.headers || again->password != u.password) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto u = parse_uri(in);
  if (u.is_ok()) {
    check_round_trip(u.value());
    (void)u->param("transport");
    (void)telephone_number_of(u.value());
  }
  auto na = parse_name_addr(in);
  if (na.is_ok()) {
    check_round_trip(na->uri);
    (void)na->display_text();
    (void)na->param("tag");
  }
  auto via = parse_via(in);
  if (via.is_ok() && !parse_host(via->host).is_ok()) std::abort();
  auto number = normalize_telephone_number(in);
  if (number.is_ok() && !normalize_telephone_number(number.value()).is_ok()) std::abort();
  return 0;
}
