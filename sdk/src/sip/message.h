// A parsed SIP message (RFC 3261 section 7) and its parser.
//
// The message keeps its text once; header fields are offsets into it, so a message costs
// its size plus 16 bytes per header field. Folded lines (CRLF followed by SP/HTAB) are
// joined in that copy by overwriting the CRLF with two spaces, so every header value is one
// contiguous view and the body keeps its original bytes and offset.
#ifndef IMSDC_SRC_SIP_MESSAGE_H
#define IMSDC_SRC_SIP_MESSAGE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/status.h"

namespace imsdc::sip {

// More header fields than any real SIP message carries; bounds memory per message.
constexpr std::size_t kMaxHeaderFields = 128;
// Longest physical line (start line or header line before unfolding), bytes.
constexpr std::size_t kMaxLineLength = 8192;
// Most elements returned for one header name by Message::header_values().
constexpr std::size_t kMaxHeaderValues = 64;

// The full header name of a compact form ("i" -> "Call-ID", RFC 3261 section 7.3.3 and the
// IANA registry), or name itself when it is not a compact form. Never fails.
std::string_view expand_compact_name(std::string_view name);

// True for headers whose values are never split at commas because the grammar allows
// commas inside one value (challenges, credentials, Date, Call-ID, From/To...).
bool is_single_value_header(std::string_view name);

// CSeq header value (RFC 3261 section 20.16).
struct CSeq {
  std::uint32_t number = 0;
  std::string_view method;
};

// A parsed message, created only by parse_message. Views it returns point into the message
// and live as long as it does.
class Message {
public:
  bool is_request() const { return status_code_ == 0; }
  // Request method as written (case-sensitive per RFC 3261); empty for responses.
  std::string_view method() const { return view(method_); }
  // Request-URI text; empty for responses.
  std::string_view request_uri() const { return view(uri_); }
  // Status code 100..699; 0 for requests.
  int status_code() const { return status_code_; }
  // Reason phrase as written (may be empty or UTF-8); empty for requests.
  std::string_view reason() const { return view(reason_); }

  std::size_t header_count() const { return fields_.size(); }
  // Name of field i (i < header_count()): the full name for compact forms ("v" -> "Via"), else as
  // written.
  std::string_view header_name(std::size_t i) const;
  // Value of field i (i < header_count()), trimmed, folding already joined.
  std::string_view header_value(std::size_t i) const {
    return view(Range{fields_[i].value_offset, fields_[i].value_length});
  }
  // Value of the first field with this name (case-insensitive, compact forms match their
  // full name either way), or an empty view when absent.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // All values of all fields with this name, in order, comma lists split (quotes and <>
  // respected) unless is_single_value_header(name). Errors: kTooLarge (more than
  // kMaxHeaderValues).
  Result<std::vector<std::string_view>> header_values(std::string_view name) const;

  // Parsed CSeq (always present: parse_message rejects messages without a valid one).
  CSeq cseq() const { return CSeq{cseq_number_, view(cseq_method_)}; }
  std::string_view call_id() const { return header("Call-ID"); }
  ByteSpan body() const { return ByteSpan(view(body_)); }
  // The whole message (folding joined, body as received).
  std::string_view text() const { return text_; }

private:
  friend Result<Message> parse_message(ByteSpan);
  struct Range {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
  };
  // 16 bytes per field: offsets into text_, plus the index of a known header name.
  struct Field {
    std::uint32_t name_offset = 0;
    std::uint32_t value_offset = 0;
    std::uint32_t value_length = 0;
    std::uint16_t name_length = 0;
    std::uint8_t known = 0; // 1 + index in the known-name table, 0 for other names
  };
  std::string_view view(Range r) const {
    return std::string_view(text_).substr(r.offset, r.length);
  }

  std::string text_;
  std::vector<Field> fields_;
  Range method_;
  Range uri_;
  Range reason_;
  Range body_;
  Range cseq_method_;
  std::uint32_t cseq_number_ = 0;
  int status_code_ = 0;
};

// Parses one complete SIP message as carried in one WebSocket message (RFC 7118). Checks
// the start line (single SP separators, SIP/2.0, a 3-digit status code, a request-URI with
// a scheme and no '?' headers), header syntax, the presence and syntax of Via, From, To,
// Call-ID and CSeq (CSeq method must equal the request method), Max-Forwards <= 255 and
// Content-Length. Without Content-Length the rest of the input is the body; with it, the
// body is that many bytes and any bytes after it are discarded (RFC 3261 section 18.3, RFC
// 4475 dblreq).
// Errors: kTooLarge (input over IMSDC_MAX_SIP_MESSAGE, a line over kMaxLineLength, more than
// kMaxHeaderFields fields or kMaxHeaderValues Via or Contact values), kMalformed (any syntax error,
// Content-Length larger than the body), kUnsupported (a SIP version other than 2.0: the caller
// answers 505).
Result<Message> parse_message(ByteSpan input);

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_MESSAGE_H
