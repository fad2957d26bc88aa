// Dialog state and the dialog-level header parsers (see dialog.h).
#include "sip/dialog.h"

#include <algorithm>

#include "imsdc/config_defaults.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

constexpr Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSip, detail);
}

constexpr std::uint64_t kMaxRSeq = 0x7fffffff; // RFC 3262: 1 .. 2^31 - 1

// The leading delta-seconds of "1800;refresher=uac" and the parameter text after it.
Result<std::uint32_t> leading_seconds(std::string_view value, std::string_view* params) {
  value = trim(value);
  std::size_t semi = value.find(';');
  std::string_view number = trim(value.substr(0, semi));
  auto n = parse_decimal(number, 0xffffffffu);
  if (!n) return malformed("bad delta-seconds");
  *params = semi == std::string_view::npos ? std::string_view() : value.substr(semi);
  std::vector<Param> list;
  if (!parse_params(*params, &list, 8)) return malformed("bad parameters");
  return static_cast<std::uint32_t>(n.value());
}

Status read_contact(const Message& m, std::string* target) {
  auto contacts = m.header_values("Contact");
  if (!contacts || contacts->size() != 1) return malformed("need exactly one Contact");
  auto na = parse_name_addr(contacts->front());
  if (!na || (na->uri.scheme != UriScheme::kSip && na->uri.scheme != UriScheme::kSips))
    return malformed("bad Contact");
  target->assign(na->uri.text);
  return Status::ok();
}

Status read_routes(const Message& m, bool reverse, std::vector<std::string>* routes) {
  auto rr = m.header_values("Record-Route");
  if (!rr) return rr.status();
  if (rr->size() > kMaxRouteSet)
    return Status(Code::kTooLarge, Module::kSip, "too many Record-Route entries");
  std::vector<std::string> out;
  for (std::string_view v : rr.value()) {
    auto na = parse_name_addr(v);
    if (!na) return malformed("bad Record-Route");
    out.emplace_back(v);
  }
  if (reverse) std::reverse(out.begin(), out.end());
  *routes = std::move(out);
  return Status::ok();
}

} // namespace

bool has_option_tag(const Message& m, std::string_view header, std::string_view tag) {
  auto values = m.header_values(header);
  if (!values) return false;
  for (std::string_view v : values.value()) {
    if (iequals(trim(v), tag)) return true;
  }
  return false;
}

std::string_view first_unsupported(const Message& m, std::string_view supported) {
  auto required = m.header_values("Require");
  if (!required) return "Require";
  std::vector<std::string_view> ours;
  if (!split_list(supported, &ours, 16)) return "Require";
  for (std::string_view r : required.value()) {
    bool known = false;
    for (std::string_view s : ours)
      known = known || iequals(trim(r), s);
    if (!known) return trim(r);
  }
  return {};
}

Result<std::uint32_t> parse_rseq(std::string_view value) {
  auto n = parse_decimal(trim(value), kMaxRSeq);
  if (!n || n.value() == 0) return malformed("bad RSeq");
  return static_cast<std::uint32_t>(n.value());
}

Result<RAck> parse_rack(std::string_view value) {
  value = trim(value);
  std::string_view parts[3];
  std::size_t count = 0;
  while (!value.empty()) {
    if (count == 3) return malformed("RAck has more than three fields");
    std::size_t sp = 0;
    while (sp < value.size() && !is_wsp(value[sp]))
      ++sp;
    parts[count++] = value.substr(0, sp);
    value = trim(value.substr(sp));
  }
  if (count != 3) return malformed("RAck needs three fields");
  auto rseq = parse_rseq(parts[0]);
  auto cseq = parse_decimal(parts[1], 0x7fffffff);
  if (!rseq || !cseq || !is_token(parts[2])) return malformed("bad RAck");
  return RAck{rseq.value(), static_cast<std::uint32_t>(cseq.value()), parts[2]};
}

Result<SessionExpires> parse_session_expires(std::string_view value) {
  std::string_view params;
  auto seconds = leading_seconds(value, &params);
  if (!seconds) return seconds.status();
  if (seconds.value() == 0) return malformed("Session-Expires of 0");
  SessionExpires se;
  se.seconds = seconds.value();
  if (auto r = find_param(params, "refresher")) {
    if (iequals(r.value(), "uac"))
      se.refresher = Refresher::kUac;
    else if (iequals(r.value(), "uas"))
      se.refresher = Refresher::kUas;
    else
      return malformed("refresher must be uac or uas");
  }
  return se;
}

Result<std::uint32_t> parse_min_se(std::string_view value) {
  std::string_view params;
  return leading_seconds(value, &params);
}

Result<ByteSpan> sdp_body(const Message& m) {
  ByteSpan body = m.body();
  if (body.empty()) return body;
  std::string_view type = trim(m.header("Content-Type"));
  type = trim(type.substr(0, type.find(';')));
  if (!iequals(type, "application/sdp"))
    return Status(Code::kUnsupported, Module::kSip, "body is not application/sdp");
  std::string_view encoding = trim(m.header("Content-Encoding"));
  if (!encoding.empty() && !iequals(encoding, "identity"))
    return Status(Code::kUnsupported, Module::kSip, "encoded SDP body");
  if (body.size() > IMSDC_MAX_SDP_SIZE)
    return Status(Code::kTooLarge, Module::kSip, "SDP body too large");
  if (body.size() < 2 || body[0] != 'v' || body[1] != '=')
    return malformed("SDP body does not start with v=");
  return body;
}

Result<std::string_view> avatar_reference(const Message& m, std::string_view header) {
  auto values = m.header_values(header);
  if (!values) return values.status();
  for (std::string_view v : values.value()) {
    std::size_t close = v.find('>');
    if (close == std::string_view::npos) continue;
    auto purpose = find_param(v.substr(close + 1), "purpose");
    if (!purpose || !iequals(purpose.value(), "avatar")) continue;
    auto na = parse_name_addr(v);
    if (!na || na->display_name.size() != 0 || v.empty() || trim(v)[0] != '<')
      return malformed("bad avatar reference");
    return na->uri.text;
  }
  return Status(Code::kNotFound, Module::kSip, "no avatar reference");
}

Result<std::string> format_avatar_header(std::string_view uri) {
  auto u = parse_uri(uri);
  if (!u || uri.find_first_of("<> \t\"") != std::string_view::npos)
    return Status(Code::kInvalidArgument, Module::kSip, "bad avatar URI");
  std::string v = "<";
  v.append(uri).append(">;purpose=avatar");
  return v;
}

std::string_view tag_of(std::string_view name_addr) {
  auto na = parse_name_addr(name_addr);
  if (!na) return {};
  auto tag = na->param("tag");
  return tag ? tag.value() : std::string_view();
}

std::string_view top_branch(const Message& m) {
  auto vias = m.header_values("Via");
  if (!vias || vias->empty()) return {};
  auto via = parse_via(vias->front());
  return via ? via->branch : std::string_view();
}

Result<Dialog> Dialog::as_uac(const Message& request, const Message& response) {
  Dialog d;
  d.call_id.assign(request.call_id());
  d.local.assign(request.header("From"));
  d.remote.assign(response.header("To"));
  d.local_tag.assign(tag_of(d.local));
  d.remote_tag.assign(tag_of(d.remote));
  if (d.local_tag.empty() || d.remote_tag.empty()) return malformed("dialog needs both tags");
  d.local_cseq = request.cseq().number;
  IMSDC_TRY(d.update_from_response(response));
  return d;
}

Result<Dialog> Dialog::as_uas(const Message& request, std::string_view local_tag) {
  Dialog d;
  d.call_id.assign(request.call_id());
  d.remote.assign(request.header("From"));
  d.remote_tag.assign(tag_of(d.remote));
  if (d.remote_tag.empty() || local_tag.empty() || !is_token(local_tag))
    return malformed("dialog needs both tags");
  d.local_tag.assign(local_tag);
  d.local.assign(request.header("To"));
  if (!tag_of(d.local).empty()) return malformed("request already has a To tag");
  d.local.append(";tag=").append(local_tag);
  d.remote_cseq = request.cseq().number;
  d.has_remote_cseq = true;
  IMSDC_TRY(read_contact(request, &d.remote_target));
  IMSDC_TRY(read_routes(request, false, &d.route_set));
  return d;
}

Status Dialog::update_from_response(const Message& response) {
  IMSDC_TRY(read_contact(response, &remote_target));
  return read_routes(response, true, &route_set);
}

Status Dialog::refresh_target(const Message& m) {
  if (!m.has_header("Contact")) return Status::ok();
  return read_contact(m, &remote_target);
}

bool Dialog::matches_request(const Message& m) const {
  return m.is_request() && m.call_id() == call_id && tag_of(m.header("To")) == local_tag &&
         tag_of(m.header("From")) == remote_tag;
}

MessageBuilder Dialog::request(std::string_view method, std::string_view via, std::uint32_t cseq) {
  if (cseq == 0) cseq = ++local_cseq;
  MessageBuilder b = MessageBuilder::request(method, remote_target);
  b.header("Via", via).header("Max-Forwards", "70");
  for (const std::string& r : route_set)
    b.header("Route", r);
  b.header("From", local)
      .header("To", remote)
      .header("Call-ID", call_id)
      .header("CSeq", std::to_string(cseq) + " " + std::string(method));
  return b;
}

} // namespace imsdc::sip
