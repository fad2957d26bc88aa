// SIP message building. Generate strictly: every value that goes on the wire is checked for
// CR/LF so no caller-supplied text can inject a header or end the header section.
#include "sip/builder.h"

#include "imsdc/codec.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

constexpr Status invalid(const char* detail) {
  return Status(Code::kInvalidArgument, Module::kSip, detail);
}

bool has_line_break(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

// Characters a user part may carry unescaped that are also safe inside <...> in Contact
// (RFC 3261 unreserved / user-unreserved, minus ';' '?' '/', which would change the URI).
bool is_plain_user(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("-_.!~*'()&=+$,%").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? c != '-' : !hex) return false;
  }
  return true;
}

} // namespace

Result<std::string> random_hex(const RandomSource& random, std::size_t bytes) {
  if (random.fill == nullptr || bytes > 64) return invalid("bad random source or size");
  std::uint8_t buf[64];
  IMSDC_TRY(random.fill(random.context, buf, bytes));
  return hex_encode(ByteSpan(buf, bytes));
}

Result<std::string> make_branch(const RandomSource& random) {
  auto r = random_hex(random, 12);
  if (!r.is_ok()) return r.status();
  return "z9hG4bK" + r.value();
}

Result<std::string> make_tag(const RandomSource& random) {
  return random_hex(random, 8);
}

Result<std::string> make_call_id(const RandomSource& random) {
  return random_hex(random, 16);
}

Result<std::string> make_uuid_v4(const RandomSource& random) {
  if (random.fill == nullptr) return invalid("no random source");
  std::uint8_t b[16];
  IMSDC_TRY(random.fill(random.context, b, sizeof b));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40); // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80); // RFC 4122 variant
  std::string h = hex_encode(ByteSpan(b, sizeof b));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

Result<std::string> make_invalid_host(const RandomSource& random) {
  auto r = random_hex(random, 8);
  if (!r.is_ok()) return r.status();
  return r.value() + ".invalid";
}

Result<std::string> format_via(std::string_view host, std::string_view branch) {
  auto kind = parse_host(host);
  if (!kind.is_ok()) return invalid("bad Via host");
  if (!is_token(branch) || branch.substr(0, 7) != "z9hG4bK") return invalid("bad branch");
  std::string v = "SIP/2.0/WSS ";
  v.append(host).append(";branch=").append(branch);
  return v;
}

Result<std::string> format_contact(const ContactSpec& spec) {
  if (!is_plain_user(spec.user)) return invalid("Contact user needs escaping");
  auto kind = parse_host(spec.host);
  if (!kind.is_ok()) return invalid("bad Contact host");
  if (!is_uuid(spec.instance_uuid)) return invalid("bad instance UUID");
  std::string c = "<sip:";
  c.append(spec.user).append("@").append(spec.host).append(";transport=ws>");
  c.append(";+sip.instance=\"<urn:uuid:").append(spec.instance_uuid).append(">\"");
  if (spec.reg_id != 0) c.append(";reg-id=").append(std::to_string(spec.reg_id));
  if (spec.data_channel) c.append(";+sip.app-subtype=\"webrtc-datachannel\"");
  return c;
}

MessageBuilder& MessageBuilder::fail(const char* detail) {
  if (error_.is_ok()) error_ = invalid(detail);
  return *this;
}

MessageBuilder MessageBuilder::request(std::string_view method, std::string_view request_uri) {
  MessageBuilder b;
  if (!is_token(method)) return std::move(b.fail("bad method"));
  auto uri = parse_uri(request_uri);
  if (!uri.is_ok()) return std::move(b.fail("bad Request-URI"));
  b.head_.append(method).append(" ").append(request_uri).append(" SIP/2.0\r\n");
  return b;
}

MessageBuilder MessageBuilder::response(int status_code, std::string_view reason) {
  MessageBuilder b;
  if (status_code < 100 || status_code > 699) return std::move(b.fail("bad status code"));
  if (has_line_break(reason)) return std::move(b.fail("line break in reason"));
  b.head_.append("SIP/2.0 ")
      .append(std::to_string(status_code))
      .append(" ")
      .append(reason)
      .append("\r\n");
  return b;
}

MessageBuilder& MessageBuilder::header(std::string_view name, std::string_view value) {
  if (!is_token(name)) return fail("bad header name");
  if (has_line_break(value)) return fail("line break in header value");
  if (iequals(expand_compact_name(name), "Content-Length"))
    return fail("Content-Length is computed");
  head_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

MessageBuilder& MessageBuilder::body(std::string_view content_type, ByteSpan content) {
  std::size_t slash = content_type.find('/');
  if (slash == std::string_view::npos || !is_token(content_type.substr(0, slash)) ||
      has_line_break(content_type)) {
    return fail("bad Content-Type");
  }
  header("Content-Type", content_type);
  body_.assign(content.begin(), content.end());
  return *this;
}

Result<std::string> MessageBuilder::build() const {
  if (!error_.is_ok()) return error_;
  if (head_.empty()) return invalid("no start line");
  std::string out = head_;
  out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n\r\n");
  out.append(reinterpret_cast<const char*>(body_.data()), body_.size());
  if (out.size() > IMSDC_MAX_SIP_MESSAGE)
    return Status(Code::kTooLarge, Module::kSip, "SIP message too large");
  return out;
}

void MessageBuilder::wipe() {
  secure_zero(head_.data(), head_.size());
  secure_zero(body_.data(), body_.size());
  head_.clear();
  body_.clear();
}

namespace {

// Copies every field named `name`, one output field per input field, preserving order.
void copy_fields(const Message& from, std::string_view name, MessageBuilder* to) {
  name = expand_compact_name(name);
  for (std::size_t i = 0; i < from.header_count(); ++i) {
    if (iequals(from.header_name(i), name)) to->header(name, from.header_value(i));
  }
}

std::string_view top_via(const Message& m) {
  auto vias = m.header_values("Via");
  return vias.is_ok() && !vias->empty() ? vias->front() : std::string_view();
}

// Shared shape of ACK and CANCEL: they reuse the original request's identifiers.
MessageBuilder derived_request(const Message& request, std::string_view method,
                               std::string_view to) {
  MessageBuilder b = MessageBuilder::request(method, request.request_uri());
  b.header("Via", top_via(request));
  b.header("Max-Forwards", "70");
  b.header("From", request.header("From"));
  b.header("To", to);
  b.header("Call-ID", request.call_id());
  b.header("CSeq", std::to_string(request.cseq().number) + " " + std::string(method));
  copy_fields(request, "Route", &b);
  return b;
}

} // namespace

MessageBuilder response_for(const Message& request, int status_code, std::string_view reason,
                            std::string_view to_tag) {
  MessageBuilder b = MessageBuilder::response(status_code, reason);
  if (!request.is_request()) return std::move(b.fail("not a request"));
  copy_fields(request, "Via", &b);
  b.header("From", request.header("From"));
  std::string to(request.header("To"));
  auto na = parse_name_addr(to);
  if (status_code > 100 && !to_tag.empty() && na.is_ok() && !na->param("tag")) {
    if (!is_token(to_tag)) return std::move(b.fail("bad To tag"));
    to.append(";tag=").append(to_tag);
  }
  b.header("To", to);
  b.header("Call-ID", request.call_id());
  b.header("CSeq",
           std::to_string(request.cseq().number) + " " + std::string(request.cseq().method));
  return b;
}

MessageBuilder ack_for_failure(const Message& invite, const Message& response) {
  if (invite.method() != "INVITE" || response.is_request() || response.status_code() < 300) {
    MessageBuilder b;
    return std::move(b.fail("ACK needs an INVITE and a non-2xx final response"));
  }
  return derived_request(invite, "ACK", response.header("To"));
}

MessageBuilder cancel_for(const Message& request) {
  if (!request.is_request() || request.method() == "ACK" || request.method() == "CANCEL") {
    MessageBuilder b;
    return std::move(b.fail("cannot CANCEL this request"));
  }
  return derived_request(request, "CANCEL", request.header("To"));
}

} // namespace imsdc::sip
