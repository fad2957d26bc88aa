// RFC 8785 canonical JSON over a cJSON tree.
#include "identity/jcs.h"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace imsdc::identity {
namespace {

Status err(Code code, const char* detail) {
  return Status(code, Module::kIdentity, detail);
}

// Decodes one UTF-8 sequence at s[*i]; strict (no overlongs, no surrogates, <= U+10FFFF).
bool next_code_point(std::string_view s, std::size_t* i, std::uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  std::size_t len = 0;
  std::uint32_t v = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    ++*i;
    return true;
  }
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    v = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    v = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    v = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - *i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) return false;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  *i += len;
  return true;
}

// UTF-16 code units of a UTF-8 string: RFC 8785 section 3.2.3 sorts member names by them,
// which differs from code point order once characters beyond U+FFFF appear.
bool to_utf16(std::string_view s, std::vector<std::uint16_t>* out) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint32_t cp = 0;
    if (!next_code_point(s, &i, &cp)) return false;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<std::uint16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<std::uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<std::uint16_t>(cp));
    }
  }
  return true;
}

Status append_string(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  std::size_t i = 0;
  out->push_back('"');
  while (i < s.size()) {
    const std::size_t start = i;
    std::uint32_t cp = 0;
    if (!next_code_point(s, &i, &cp)) return err(Code::kMalformed, "JSON string is not UTF-8");
    switch (cp) {
    case '"':
      out->append("\\\"");
      break;
    case '\\':
      out->append("\\\\");
      break;
    case '\b':
      out->append("\\b");
      break;
    case '\f':
      out->append("\\f");
      break;
    case '\n':
      out->append("\\n");
      break;
    case '\r':
      out->append("\\r");
      break;
    case '\t':
      out->append("\\t");
      break;
    default:
      if (cp < 0x20) {
        out->append("\\u00");
        out->push_back(kHex[cp >> 4]);
        out->push_back(kHex[cp & 0xF]);
      } else {
        out->append(s.substr(start, i - start));
      }
    }
  }
  out->push_back('"');
  return Status::ok();
}

Status append_node(const cJSON* node, std::string* out, int depth);

Status append_object(const cJSON* node, std::string* out, int depth) {
  struct Member {
    std::vector<std::uint16_t> key16;
    const cJSON* item;
  };
  std::vector<Member> members;
  for (const cJSON* c = node->child; c; c = c->next) {
    if (!c->string) return err(Code::kMalformed, "JSON member without a name");
    Member m{{}, c};
    if (!to_utf16(c->string, &m.key16)) return err(Code::kMalformed, "JSON name is not UTF-8");
    members.push_back(std::move(m));
  }
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.key16 < b.key16; });
  for (std::size_t k = 1; k < members.size(); ++k) {
    // I-JSON (RFC 7493) forbids duplicate names; a canonical form of such input would let
    // two different readings hash the same.
    if (members[k].key16 == members[k - 1].key16)
      return err(Code::kMalformed, "duplicate JSON member name");
  }
  out->push_back('{');
  for (std::size_t k = 0; k < members.size(); ++k) {
    if (k) out->push_back(',');
    IMSDC_TRY(append_string(members[k].item->string, out));
    out->push_back(':');
    IMSDC_TRY(append_node(members[k].item, out, depth + 1));
  }
  out->push_back('}');
  return Status::ok();
}

Status append_node(const cJSON* node, std::string* out, int depth) {
  if (depth > kMaxJcsDepth) return err(Code::kTooLarge, "JSON nesting too deep");
  if (cJSON_IsNull(node)) {
    out->append("null");
  } else if (cJSON_IsTrue(node)) {
    out->append("true");
  } else if (cJSON_IsFalse(node)) {
    out->append("false");
  } else if (cJSON_IsNumber(node)) {
    auto n = jcs_number(node->valuedouble);
    if (!n) return n.status();
    out->append(n.value());
  } else if (cJSON_IsString(node)) {
    IMSDC_TRY(append_string(node->valuestring, out));
  } else if (cJSON_IsArray(node)) {
    out->push_back('[');
    for (const cJSON* c = node->child; c; c = c->next) {
      if (c != node->child) out->push_back(',');
      IMSDC_TRY(append_node(c, out, depth + 1));
    }
    out->push_back(']');
  } else if (cJSON_IsObject(node)) {
    IMSDC_TRY(append_object(node, out, depth));
  } else {
    return err(Code::kMalformed, "JSON value of unknown type");
  }
  return Status::ok();
}

} // namespace

Result<std::string> jcs_number(double value) {
  if (!std::isfinite(value)) return err(Code::kMalformed, "JSON number is not finite");
  // Both zeros print as "0" (ECMAScript Number::toString step 2).
  if (value == 0) return std::string("0");
  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // The shortest precision whose correctly rounded decimal reads back as the same double is
  // the digit string ECMAScript requires (the closest one when several have that length).
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    (void)std::snprintf(buf, sizeof buf, "%.*e", precision - 1, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  if (precision > 17) (void)std::snprintf(buf, sizeof buf, "%.16e", value);
  // buf is "d[.ddd]e[+-]xx": collect the digits and the decimal exponent.
  std::string digits;
  const char* p = buf;
  for (; *p && *p != 'e'; ++p) {
    if (*p >= '0' && *p <= '9') digits.push_back(*p);
  }
  const int exp10 = (*p == 'e') ? std::atoi(p + 1) : 0;
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1; // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out.append(digits);
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n), std::string::npos);
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out.append(std::to_string(std::abs(n - 1)));
  }
  return out;
}

Status jcs_append(const cJSON* node, std::string* out) {
  if (!node) return err(Code::kInvalidArgument, "no JSON value");
  return append_node(node, out, 0);
}

Result<std::string> jcs_canonicalize(std::string_view json) {
  if (json.size() > kMaxJcsInput) return err(Code::kTooLarge, "JSON text too large");
  // cJSON keeps strings NUL-terminated, so an escaped U+0000 would silently cut the string
  // short; refusing it keeps the canonical form faithful to the input.
  for (std::size_t i = 0; i + 6 <= json.size(); ++i) {
    if (json[i] == '\\' && (json[i + 1] == 'u' || json[i + 1] == 'U') &&
        json.substr(i + 2, 4) == "0000")
      return err(Code::kUnsupported, "JSON string with \\u0000");
  }
  // Nesting is bounded before parsing: cJSON's own limit is far deeper than ours.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJcsDepth + 1) return err(Code::kTooLarge, "JSON nesting too deep");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  const char* end = nullptr;
  std::unique_ptr<cJSON, void (*)(cJSON*)> root(
      cJSON_ParseWithLengthOpts(json.data(), json.size(), &end, 0), cJSON_Delete);
  if (!root) return err(Code::kMalformed, "not JSON");
  // Only white space may follow the value.
  for (const char* q = end; q && q < json.data() + json.size(); ++q) {
    if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
      return err(Code::kMalformed, "bytes after the JSON value");
  }
  std::string out;
  IMSDC_TRY(jcs_append(root.get(), &out));
  return out;
}

} // namespace imsdc::identity
