// SIP message parser. One pass over the text; every line and the number of fields are
// bounded before anything is stored, so the cost of a hostile message is capped by
// IMSDC_MAX_SIP_MESSAGE.
#include "sip/message.h"

#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

constexpr Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSip, detail);
}

struct KnownName {
  char compact;
  std::string_view full;
};

// Compact forms from RFC 3261 section 7.3.3 and the IANA "Header Fields" registry.
constexpr KnownName kKnownNames[] = {
    {'a', "Accept-Contact"},
    {'b', "Referred-By"},
    {'c', "Content-Type"},
    {'d', "Request-Disposition"},
    {'e', "Content-Encoding"},
    {'f', "From"},
    {'i', "Call-ID"},
    {'j', "Reject-Contact"},
    {'k', "Supported"},
    {'l', "Content-Length"},
    {'m', "Contact"},
    {'n', "Identity-Info"},
    {'o', "Event"},
    {'r', "Refer-To"},
    {'s', "Subject"},
    {'t', "To"},
    {'u', "Allow-Events"},
    {'v', "Via"},
    {'x', "Session-Expires"},
    {'y', "Identity"},
};

// Headers whose grammar allows commas inside one value, or which are single-valued by
// definition; splitting them would corrupt challenges, credentials, dates and addresses.
constexpr std::string_view kSingleValue[] = {
    "WWW-Authenticate",
    "Authorization",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Authentication-Info",
    "Date",
    "Call-ID",
    "From",
    "To",
    "CSeq",
    "Content-Length",
    "Content-Type",
    "Max-Forwards",
    "Expires",
    "Min-Expires",
    "Subject",
    "Organization",
    "Server",
    "User-Agent",
    "Timestamp",
    "Retry-After",
    "Identity",
    "Identity-Info",
    "Priority",
    "Reply-To",
    "Refer-To",
    "Referred-By",
    "Session-Expires",
    "Min-SE",
    "Event",
    "Content-Disposition",
    "MIME-Version",
    "Flow-Timer",
    "Subscription-State",
};

std::uint8_t known_index(std::string_view name) {
  if (name.size() != 1) return 0;
  for (std::size_t i = 0; i < sizeof(kKnownNames) / sizeof(kKnownNames[0]); ++i) {
    if (iequals(name, std::string_view(&kKnownNames[i].compact, 1)))
      return static_cast<std::uint8_t>(i + 1);
  }
  return 0;
}

// "SIP/x.y" with digits: a version we do not speak (505) rather than garbage (400).
bool is_sip_version_syntax(std::string_view v) {
  if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return false;
  std::size_t dot = v.find('.', 4);
  if (dot == std::string_view::npos || dot == 4 || dot + 1 == v.size()) return false;
  for (std::size_t i = 4; i < v.size(); ++i) {
    if (i != dot && (v[i] < '0' || v[i] > '9')) return false;
  }
  return true;
}

Status check_version(std::string_view v) {
  if (iequals(v, "SIP/2.0")) return Status::ok();
  if (is_sip_version_syntax(v))
    return Status(Code::kUnsupported, Module::kSip, "SIP version not supported");
  return malformed("bad SIP version");
}

} // namespace

std::string_view expand_compact_name(std::string_view name) {
  std::uint8_t k = known_index(name);
  return k ? kKnownNames[k - 1].full : name;
}

bool is_single_value_header(std::string_view name) {
  name = expand_compact_name(name);
  for (std::string_view n : kSingleValue) {
    if (iequals(n, name)) return true;
  }
  return false;
}

std::string_view Message::header_name(std::size_t i) const {
  const Field& f = fields_[i];
  if (f.known) return kKnownNames[f.known - 1].full;
  return view(Range{f.name_offset, f.name_length});
}

std::string_view Message::header(std::string_view name) const {
  name = expand_compact_name(name);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (iequals(header_name(i), name)) return header_value(i);
  }
  return std::string_view();
}

bool Message::has_header(std::string_view name) const {
  name = expand_compact_name(name);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (iequals(header_name(i), name)) return true;
  }
  return false;
}

Result<std::vector<std::string_view>> Message::header_values(std::string_view name) const {
  name = expand_compact_name(name);
  bool single = is_single_value_header(name);
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (!iequals(header_name(i), name)) continue;
    if (single) {
      if (out.size() == kMaxHeaderValues)
        return Status(Code::kTooLarge, Module::kSip, "too many header values");
      out.push_back(header_value(i));
    } else {
      IMSDC_TRY(split_list(header_value(i), &out, kMaxHeaderValues - out.size()));
    }
  }
  return out;
}

namespace {

// Start line of a request: Method SP Request-URI SP SIP-Version, single spaces only
// (RFC 4475 lwsstart, trws, lwsruri, ltgtruri, escruri are all rejected here).
Status parse_request_line(std::string_view line, std::string_view* method, std::string_view* uri) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return malformed("bad request line");
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return malformed("bad request line");
  *method = line.substr(0, sp1);
  *uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!is_token(*method)) return malformed("bad method");
  auto parsed = parse_uri(*uri);
  if (!parsed.is_ok()) return malformed("bad Request-URI");
  if (!parsed->headers.empty()) return malformed("headers in Request-URI");
  return check_version(line.substr(sp2 + 1));
}

// Status-Line: SIP-Version SP 3DIGIT SP Reason-Phrase. A missing final SP with an empty
// reason ("SIP/2.0 100") is accepted; nothing else is lenient.
Status parse_status_line(std::string_view line, int* code, std::string_view* reason) {
  std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return malformed("bad status line");
  IMSDC_TRY(check_version(line.substr(0, sp)));
  std::string_view rest = line.substr(sp + 1);
  std::string_view digits = rest.substr(0, 3);
  if (digits.size() != 3 || (rest.size() > 3 && rest[3] != ' '))
    return malformed("bad status code");
  auto v = parse_decimal(digits, 699);
  if (!v.is_ok() || v.value() < 100) return malformed("bad status code");
  *code = static_cast<int>(v.value());
  *reason =
      rest.substr(rest.size() > 4 ? 4 : rest.size()); // never a null view: offsets derive from it
  return Status::ok();
}

// "0009 INVITE" (number < 2**31, RFC 3261 section 8.1.1.5).
Status parse_cseq(std::string_view value, std::uint32_t* number, std::string_view* method) {
  std::size_t i = 0;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9')
    ++i;
  auto n = parse_decimal(value.substr(0, i), 0x7fffffff);
  if (!n.is_ok()) return malformed("bad CSeq number");
  *number = static_cast<std::uint32_t>(n.value());
  std::string_view m = value.substr(i);
  if (m.empty() || !is_wsp(m[0])) return malformed("bad CSeq");
  *method = trim(m);
  if (!is_token(*method)) return malformed("bad CSeq method");
  return Status::ok();
}

// Checks that a header appears at most once (Content-Length twice with different values is
// the classic request-smuggling trick) and returns its value (left unchanged when absent).
Status single(const Message& m, std::string_view name, bool required, std::string_view* value) {
  auto values = m.header_values(name);
  if (!values.is_ok()) return values.status();
  if (values->size() > 1) return malformed("duplicate header");
  if (values->empty()) return required ? malformed("missing mandatory header") : Status::ok();
  *value = values->front();
  return Status::ok();
}

} // namespace

Result<Message> parse_message(ByteSpan input) {
  if (input.size() > IMSDC_MAX_SIP_MESSAGE)
    return Status(Code::kTooLarge, Module::kSip, "SIP message too large");
  Message m;
  m.text_.assign(input.as_string());
  std::string& t = m.text_;
  using Range = Message::Range;
  auto range = [](std::size_t off, std::size_t len) {
    return Range{static_cast<std::uint32_t>(off), static_cast<std::uint32_t>(len)};
  };

  std::size_t eol = t.find("\r\n");
  if (eol == std::string::npos) return malformed("no CRLF after start line");
  if (eol > kMaxLineLength) return Status(Code::kTooLarge, Module::kSip, "start line too long");
  std::string_view line(t.data(), eol);
  if (line.substr(0, 4) == "SIP/" && line.find(' ') == 7) {
    std::string_view reason;
    IMSDC_TRY(parse_status_line(line, &m.status_code_, &reason));
    m.reason_ = range(reason.data() - t.data(), reason.size());
  } else {
    std::string_view method, uri;
    IMSDC_TRY(parse_request_line(line, &method, &uri));
    m.method_ = range(0, method.size());
    m.uri_ = range(uri.data() - t.data(), uri.size());
  }

  std::size_t pos = eol + 2;
  while (true) {
    eol = t.find("\r\n", pos);
    if (eol == std::string::npos) return malformed("header section not terminated");
    if (eol == pos) break;
    if (eol - pos > kMaxLineLength)
      return Status(Code::kTooLarge, Module::kSip, "header line too long");
    for (std::size_t i = pos; i < eol; ++i) {
      if (t[i] == '\r' || t[i] == '\n') return malformed("bare CR or LF");
    }
    if (is_wsp(t[pos])) {
      // Continuation line: join it to the previous field in place.
      if (m.fields_.empty()) return malformed("continuation before first header");
      t[pos - 2] = ' ';
      t[pos - 1] = ' ';
      Message::Field& f = m.fields_.back();
      f.value_length = static_cast<std::uint32_t>(eol - f.value_offset);
    } else {
      std::size_t i = pos;
      while (i < eol && is_token_char(t[i]))
        ++i;
      std::size_t name_len = i - pos;
      while (i < eol && is_wsp(t[i]))
        ++i;
      if (name_len == 0 || i == eol || t[i] != ':') return malformed("bad header line");
      if (m.fields_.size() == kMaxHeaderFields)
        return Status(Code::kTooLarge, Module::kSip, "too many header fields");
      Message::Field f;
      f.name_offset = static_cast<std::uint32_t>(pos);
      f.name_length = static_cast<std::uint16_t>(name_len);
      f.known = known_index(std::string_view(t.data() + pos, name_len));
      f.value_offset = static_cast<std::uint32_t>(i + 1);
      f.value_length = static_cast<std::uint32_t>(eol - i - 1);
      m.fields_.push_back(f);
    }
    pos = eol + 2;
  }
  for (Message::Field& f : m.fields_) {
    std::string_view v = trim(std::string_view(t.data() + f.value_offset, f.value_length));
    f.value_offset = static_cast<std::uint32_t>(v.data() - t.data());
    f.value_length = static_cast<std::uint32_t>(v.size());
  }
  std::size_t body_offset = pos + 2;
  std::size_t body_length = t.size() - body_offset;

  std::string_view value;
  IMSDC_TRY(single(m, "CSeq", true, &value));
  std::string_view cseq_method;
  IMSDC_TRY(parse_cseq(value, &m.cseq_number_, &cseq_method));
  m.cseq_method_ = range(cseq_method.data() - t.data(), cseq_method.size());
  if (m.is_request() && cseq_method != m.method())
    return malformed("CSeq method differs from request method");
  value = {};
  IMSDC_TRY(single(m, "Call-ID", true, &value));
  for (const char* name : {"From", "To"}) {
    IMSDC_TRY(single(m, name, true, &value));
    if (!parse_name_addr(value).is_ok()) return malformed("bad From or To");
  }
  value = {};
  IMSDC_TRY(single(m, "Max-Forwards", false, &value));
  if (!value.empty() && !parse_decimal(value, 255).is_ok()) return malformed("bad Max-Forwards");
  auto vias = m.header_values("Via");
  if (!vias.is_ok()) return vias.status();
  if (vias->empty()) return malformed("missing Via");
  for (std::string_view v : vias.value()) {
    if (!parse_via(v).is_ok()) return malformed("bad Via");
  }
  auto contacts = m.header_values("Contact");
  if (!contacts.is_ok()) return contacts.status();
  for (std::string_view c : contacts.value()) {
    if (c != "*" && !parse_name_addr(c).is_ok()) return malformed("bad Contact");
  }
  value = {};
  IMSDC_TRY(single(m, "Content-Length", false, &value));
  if (!value.empty() || m.has_header("Content-Length")) {
    auto cl = parse_decimal(value, IMSDC_MAX_SIP_MESSAGE);
    if (!cl.is_ok()) return malformed("bad Content-Length");
    if (cl.value() > body_length) return malformed("Content-Length larger than body");
    body_length = static_cast<std::size_t>(cl.value());
  }
  m.body_ = range(body_offset, body_length);
  t.resize(body_offset + body_length); // bytes after the body are not part of the message
  return m;
}

} // namespace imsdc::sip
