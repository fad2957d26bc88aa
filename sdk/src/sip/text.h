// Lexical helpers shared by the SIP parsers (RFC 3261 section 25.1 character classes,
// linear white space, quoted strings, comma lists and generic parameters).
//
// Everything here works on std::string_view and never allocates, except unquote(). Views
// returned point into the input, so they live as long as the input does.
#ifndef IMSDC_SRC_SIP_TEXT_H
#define IMSDC_SRC_SIP_TEXT_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/status.h"

namespace imsdc::sip {

// RFC 3261 "token" character: alphanum and - . ! % * _ + ` ' ~.
bool is_token_char(char c);
// True when s is a non-empty run of token characters.
bool is_token(std::string_view s);
// SP or HTAB (what remains of LWS once folded lines are joined).
inline bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
// ASCII case-insensitive equality (SIP names, schemes, parameter names, tokens).
bool iequals(std::string_view a, std::string_view b);
// Strips leading and trailing SP/HTAB.
std::string_view trim(std::string_view s);

// Finds the first occurrence of `c` in s outside quoted strings and outside <...>. Returns
// npos when absent or when a quote or bracket is left open (the caller treats an
// unbalanced remainder as one item, which later fails its own syntax check).
std::size_t find_unquoted(std::string_view s, char c);

// Splits a comma-separated header value into trimmed, non-empty elements, respecting
// quoted strings (with backslash escapes) and <...> brackets. Appends to out; stops after
// max_items elements and returns kTooLarge then, so a hostile list cannot grow memory.
Status split_list(std::string_view value, std::vector<std::string_view>* out,
                  std::size_t max_items);

// Length of the quoted string that starts at s[0] == '"', including both quotes, or 0
// when s does not start with a quote or the string is unterminated.
std::size_t quoted_length(std::string_view s);

// Removes the surrounding quotes of a quoted string and resolves backslash escapes.
// Returns s unchanged when it is not quoted.
std::string unquote(std::string_view s);

// One generic parameter: ";name", ";name=value" or ";name=\"quoted\"" (RFC 3261
// generic-param). value keeps quotes as written; has_value distinguishes ";lr" from ";lr=".
struct Param {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

// Parses a parameter list that starts at the first ';' (or is empty). Parameter names must
// be tokens; values are a token-like run (bytes >= 0x80 allowed, as RFC 4475 intmeth shows)
// or a quoted string; LWS around ';' and '=' is allowed. Errors: kMalformed (empty or bad
// parameter, text that is not a parameter), kTooLarge (more than max_params).
Status parse_params(std::string_view s, std::vector<Param>* out, std::size_t max_params = 32);

// Looks up a parameter by name (case-insensitive) in a list that parse_params accepts.
// Returns the value with surrounding quotes removed (no unescaping; an empty view for a
// parameter without value), or nullopt when absent or the list is malformed.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name);

// Parses a decimal number (leading zeros allowed, as in "MaX-fOrWaRdS: 0068") that must not
// exceed max_value. Errors: kMalformed (empty, non-digit), kTooLarge (above max_value).
Result<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max_value);

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_TEXT_H
