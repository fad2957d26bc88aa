// SIP lexical helpers. Every loop is bounded by the input length; no recursion.
#include "sip/text.h"

#include <cstring>

#include "imsdc/codec.h"

namespace imsdc::sip {
namespace {

constexpr Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSip, detail);
}

// URI parameters also allow "[]/:&$" in names (RFC 3261 param-unreserved); header
// parameter names are plain tokens. One lenient class serves both.
bool is_param_name_char(char c) {
  return is_token_char(c) || std::strchr("[]/:&$", c) != nullptr;
}

// A parameter value byte: anything printable that is not a separator, plus UTF-8 bytes.
bool is_param_value_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  if (u <= 0x20 || u == 0x7f) return false;
  return std::strchr(";,\"<>", c) == nullptr;
}

std::size_t skip_wsp(std::string_view s, std::size_t i) {
  while (i < s.size() && is_wsp(s[i]))
    ++i;
  return i;
}

} // namespace

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("-.!%*_+`'~", c) != nullptr;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return ascii_iequals(a, b);
}

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_wsp(s[b]))
    ++b;
  while (e > b && is_wsp(s[e - 1]))
    --e;
  return s.substr(b, e - b);
}

std::size_t find_unquoted(std::string_view s, char c) {
  bool in_quote = false;
  bool in_angle = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (in_quote) {
      if (ch == '\\') {
        ++i; // quoted-pair: the next byte is literal, whatever it is
      } else if (ch == '"') {
        in_quote = false;
      }
      continue;
    }
    if (in_angle) {
      if (ch == '>') in_angle = false;
      continue;
    }
    if (ch == c) return i;
    if (ch == '"') in_quote = true;
    if (ch == '<') in_angle = true;
  }
  return std::string_view::npos;
}

Status split_list(std::string_view value, std::vector<std::string_view>* out,
                  std::size_t max_items) {
  std::size_t count = 0;
  while (!value.empty()) {
    std::size_t comma = find_unquoted(value, ',');
    std::string_view item = trim(value.substr(0, comma));
    if (!item.empty()) {
      if (++count > max_items) return Status(Code::kTooLarge, Module::kSip, "too many list items");
      out->push_back(item);
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return Status::ok();
}

std::size_t quoted_length(std::string_view s) {
  if (s.empty() || s[0] != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return 0;
}

std::string unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  std::string out;
  out.reserve(s.size() - 2);
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '\\' && i + 2 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

Status parse_params(std::string_view s, std::vector<Param>* out, std::size_t max_params) {
  std::size_t i = skip_wsp(s, 0);
  std::size_t count = 0;
  while (i < s.size()) {
    if (s[i] != ';') return malformed("text after parameters");
    i = skip_wsp(s, i + 1);
    std::size_t name_start = i;
    while (i < s.size() && is_param_name_char(s[i]))
      ++i;
    if (i == name_start) return malformed("empty parameter");
    Param p;
    p.name = s.substr(name_start, i - name_start);
    i = skip_wsp(s, i);
    if (i < s.size() && s[i] == '=') {
      p.has_value = true;
      i = skip_wsp(s, i + 1);
      std::size_t value_start = i;
      if (i < s.size() && s[i] == '"') {
        std::size_t q = quoted_length(s.substr(i));
        if (q == 0) return malformed("unterminated quoted parameter");
        i += q;
      } else {
        while (i < s.size() && is_param_value_char(s[i]))
          ++i;
      }
      p.value = s.substr(value_start, i - value_start);
      i = skip_wsp(s, i);
    }
    if (++count > max_params) return Status(Code::kTooLarge, Module::kSip, "too many parameters");
    out->push_back(p);
  }
  return Status::ok();
}

std::optional<std::string_view> find_param(std::string_view params, std::string_view name) {
  std::vector<Param> list;
  if (!parse_params(params, &list).is_ok()) return std::nullopt;
  for (const Param& p : list) {
    if (!iequals(p.name, name)) continue;
    std::string_view v = p.value;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return std::nullopt;
}

Result<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max_value) {
  if (s.empty()) return malformed("empty number");
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return malformed("not a decimal number");
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    // Checked before multiplying, so a 10,000-digit "Expires" cannot overflow.
    if (d > max_value || v > (max_value - d) / 10)
      return Status(Code::kTooLarge, Module::kSip, "number too large");
    v = v * 10 + d;
  }
  return v;
}

} // namespace imsdc::sip
