// SIP registration state machine (see registration.h).
#include "sip/registration.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "imsdc/config_defaults.h"
#include "sip/dialog.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

constexpr std::uint64_t kMaxRetryAfterS = 3600;
constexpr std::size_t kUuidLength = 36;

bool is_uuid(std::string_view s) {
  if (s.size() != kUuidLength) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Leading decimal digits of a header value such as "120 (maintenance);duration=60".
std::optional<std::uint64_t> leading_number(std::string_view value, std::uint64_t max) {
  value = trim(value);
  std::size_t n = 0;
  while (n < value.size() && value[n] >= '0' && value[n] <= '9')
    ++n;
  if (n == 0) return std::nullopt;
  auto v = parse_decimal(value.substr(0, n), ~std::uint64_t{0} >> 1);
  if (!v) return max;
  return std::min(v.value(), max);
}

Status sip_error(Code code, const char* detail) {
  return Status(code, Module::kSip, detail);
}

} // namespace

Registration::Registration(RegistrationConfig config) : config_(std::move(config)) {}

std::uint64_t Registration::refresh_delay_ms(std::uint32_t expires_s) {
  std::uint64_t delay = std::uint64_t{expires_s} * 500;
  if (expires_s > 30) delay = std::min(delay, (std::uint64_t{expires_s} - 30) * 1000);
  return delay;
}

Result<Registration> Registration::create(RegistrationConfig config) {
  if (!config.random.fill) return sip_error(Code::kInvalidArgument, "no random source");
  if (config.expires_s == 0) return sip_error(Code::kInvalidArgument, "expires must be > 0");
  if (config.backoff_initial_ms == 0 || config.backoff_initial_ms > config.backoff_max_ms)
    return sip_error(Code::kInvalidArgument, "backoff: need 0 < initial <= max");
  if (config.credential == CredentialKind::kDigest && config.password.empty())
    return sip_error(Code::kInvalidArgument, "digest needs a password");
  if (config.credential == CredentialKind::kBearer && !config.token_provider.get)
    return sip_error(Code::kInvalidArgument, "bearer needs a token provider");
  auto uri = parse_uri(config.impu);
  if (!uri || (uri->scheme != UriScheme::kSip && uri->scheme != UriScheme::kSips) ||
      uri->user.empty() || uri->host.empty() || !uri->headers.empty())
    return sip_error(Code::kInvalidArgument, "IMPU must be a sip: URI with a user part");
  std::string user(uri->user);
  std::string host(uri->host);
  if (config.impi.empty()) config.impi = user + "@" + host;
  if (config.registrar.empty()) config.registrar = "sip:" + host;
  if (!parse_uri(config.registrar)) return sip_error(Code::kInvalidArgument, "bad registrar URI");

  Registration r(std::move(config));
  r.user_ = std::move(user);
  r.aor_ = "<" + r.config_.impu + ">";
  r.expires_s_ = r.config_.expires_s;
  Status s = r.load_instance();
  if (!s) return s;
  auto host_name = make_invalid_host(r.config_.random);
  if (!host_name) return host_name.status();
  r.host_ = std::move(host_name.value());
  auto call_id = make_call_id(r.config_.random);
  if (!call_id) return call_id.status();
  r.call_id_ = std::move(call_id.value());
  auto tag = make_tag(r.config_.random);
  if (!tag) return tag.status();
  r.from_tag_ = std::move(tag.value());
  ContactSpec spec;
  spec.user = r.user_;
  spec.host = r.host_;
  spec.instance_uuid = r.uuid_;
  auto contact = format_contact(spec);
  if (!contact) return contact.status();
  r.contact_ = std::move(contact.value());
  return r;
}

Status Registration::load_instance() {
  const imsdc_port_storage* st = config_.storage;
  if (st && st->kv_get) {
    char buf[64];
    std::size_t len = 0;
    int rc =
        st->kv_get(st->ctx, kInstanceKey, reinterpret_cast<std::uint8_t*>(buf), sizeof buf, &len);
    if (rc == 0 && len <= sizeof buf && is_uuid(std::string_view(buf, len))) {
      uuid_.assign(buf, len);
      return Status::ok();
    }
    // A missing, oversized or unreadable value is replaced; a failing port is an error.
    if (rc != 0 && rc != IMSDC_PORT_ENOENT && rc != IMSDC_PORT_ENOSPC)
      return sip_error(Code::kIo, "cannot read the instance UUID");
  }
  auto uuid = make_uuid_v4(config_.random);
  if (!uuid) return uuid.status();
  uuid_ = std::move(uuid.value());
  if (st && st->kv_put) {
    int rc = st->kv_put(st->ctx, kInstanceKey, reinterpret_cast<const std::uint8_t*>(uuid_.data()),
                        uuid_.size());
    if (rc != 0) return sip_error(Code::kIo, "cannot store the instance UUID");
  }
  return Status::ok();
}

RegistrationOutput Registration::begin_output() const {
  return RegistrationOutput{};
}

std::uint32_t Registration::current_expires() const {
  return state_ == RegistrationState::kUnregistering ? 0 : expires_s_;
}

void Registration::new_cycle() {
  credentials_sent_ = false;
  stale_retry_used_ = false;
  fresh_token_used_ = false;
  interval_retry_used_ = false;
}

Status Registration::send_register(RegistrationOutput* out, std::uint64_t now_ms,
                                   std::uint32_t expires, const std::string& authorization_header,
                                   const std::string& authorization) {
  auto branch = make_branch(config_.random);
  if (!branch) return branch.status();
  auto via = format_via(host_, branch.value());
  if (!via) return via.status();
  cseq_ += 1;
  MessageBuilder b = MessageBuilder::request("REGISTER", config_.registrar);
  b.header("Via", via.value())
      .header("Max-Forwards", "70")
      .header("From", aor_ + ";tag=" + from_tag_)
      .header("To", aor_)
      .header("Call-ID", call_id_)
      .header("CSeq", std::to_string(cseq_) + " REGISTER")
      .header("Contact", contact_)
      .header("Expires", std::to_string(expires))
      .header("Supported", "outbound, path, gruu");
  if (!authorization.empty()) b.header(authorization_header, authorization);
  auto text = b.build();
  b.wipe(); // the builder's copy of the credential
  if (!text) return text.status();
  auto parsed = parse_message(ByteSpan(text.value()));
  if (!parsed) return parsed.status();
  auto t = ClientTransaction::create(std::move(parsed.value()), now_ms);
  if (!t) return t.status();
  transaction_.emplace(std::move(t.value()));
  out->send.push_back(std::move(text.value()));
  return Status::ok();
}

void Registration::finish(RegistrationOutput* out) {
  state_ = RegistrationState::kDone;
  transaction_.reset();
  timer_ = kNoDeadline;
  if (transport_open_) out->transport = TransportAction::kClose;
  bound_ = false;
  RegistrationEvent ev;
  ev.kind = RegistrationEventKind::kUnregistered;
  ev.reason = UnregisterReason::kShutdown;
  out->events.push_back(std::move(ev));
}

void Registration::fail(RegistrationOutput* out, Status status, int sip_status,
                        std::string_view reason, int http_status) {
  if (stopping_) {
    finish(out);
    return;
  }
  state_ = RegistrationState::kFailed;
  transaction_.reset();
  timer_ = kNoDeadline;
  bound_ = false;
  if (transport_open_) out->transport = TransportAction::kClose;
  RegistrationEvent ev;
  ev.kind = RegistrationEventKind::kError;
  ev.status = status;
  ev.sip_status = sip_status;
  ev.http_status = http_status;
  ev.sip_reason = std::string(reason);
  out->events.push_back(std::move(ev));
}

std::uint64_t Registration::backoff_delay_ms() {
  std::uint32_t n = retries_ > 0 ? retries_ - 1 : 0;
  std::uint64_t d = config_.backoff_initial_ms;
  for (std::uint32_t i = 0; i < n && d < config_.backoff_max_ms; ++i)
    d *= 2;
  d = std::min(d, config_.backoff_max_ms);
  std::uint8_t r[4] = {};
  if (!config_.random.fill(config_.random.context, r, sizeof r)) return d;
  std::uint32_t x =
      (std::uint32_t{r[0]} << 24) | (std::uint32_t{r[1]} << 16) | (std::uint32_t{r[2]} << 8) | r[3];
  return d / 2 + x % (d - d / 2 + 1);
}

void Registration::schedule_retry(RegistrationOutput* out, std::uint64_t now_ms,
                                  std::uint64_t delay_ms, bool reconnect) {
  (void)out;
  state_ = RegistrationState::kWaiting;
  retry_reconnects_ = reconnect;
  transaction_.reset();
  timer_ = now_ms + delay_ms;
}

void Registration::lose_transport(RegistrationOutput* out, std::uint64_t now_ms, Status why) {
  if (bound_) {
    bound_ = false;
    RegistrationEvent ev;
    ev.kind = RegistrationEventKind::kUnregistered;
    ev.reason = UnregisterReason::kConnectionLost;
    out->events.push_back(std::move(ev));
  }
  if (transport_open_) out->transport = TransportAction::kClose;
  if (!ever_registered_ && !config_.retry_first_connect) {
    fail(out, why, 0, "");
    return;
  }
  retries_ += 1;
  if (retries_ > config_.max_retries) {
    fail(out, why, 0, "");
    return;
  }
  schedule_retry(out, now_ms, backoff_delay_ms(), true);
}

RegistrationOutput Registration::start(std::uint64_t now_ms) {
  RegistrationOutput out = begin_output();
  (void)now_ms;
  if (state_ != RegistrationState::kIdle) return out;
  state_ = RegistrationState::kConnecting;
  out.transport = TransportAction::kConnect;
  deadline_ = kNoDeadline;
  return out;
}

RegistrationOutput Registration::on_transport_open(std::uint64_t now_ms) {
  RegistrationOutput out = begin_output();
  transport_open_ = true;
  if (finished()) {
    out.transport = TransportAction::kClose;
  } else if (state_ == RegistrationState::kConnecting) {
    state_ = RegistrationState::kRegistering;
    new_cycle();
    Status s = send_register(&out, now_ms, expires_s_, "", "");
    if (!s) fail(&out, s, 0, "");
  }
  deadline_ = next_deadline();
  out.deadline_ms = deadline_;
  return out;
}

RegistrationOutput Registration::on_message(ByteSpan message, std::uint64_t now_ms) {
  RegistrationOutput out = begin_output();
  bool wanted = !finished() && (transaction_ || sub_tx_ || !sub_call_id_.empty());
  auto parsed =
      wanted ? parse_message(message) : Result<Message>(sip_error(Code::kState, "not expected"));
  if (parsed && !parsed->is_request() && transaction_ && transaction_->matches(parsed.value())) {
    auto step = transaction_->on_response(parsed.value(), now_ms);
    if (step && step->event == TransactionEvent::kFinal) {
      transaction_.reset();
      handle_response(parsed.value(), &out, now_ms);
    }
  } else if (parsed && !parsed->is_request() && sub_tx_ && sub_tx_->matches(parsed.value())) {
    auto step = sub_tx_->on_response(parsed.value(), now_ms);
    if (step && step->event == TransactionEvent::kFinal) {
      sub_tx_.reset();
      int code = parsed->status_code();
      subscribed_ = code >= 200 && code < 300;
      if (subscribed_ && sub_remote_tag_.empty())
        sub_remote_tag_ = std::string(tag_of(parsed->header("To")));
    }
  } else if (parsed && parsed->is_request() && parsed->method() == "NOTIFY" &&
             !sub_call_id_.empty() && parsed->call_id() == sub_call_id_ &&
             tag_of(parsed->header("To")) == sub_tag_) {
    handle_notify(parsed.value(), &out, now_ms);
  }
  deadline_ = next_deadline();
  out.deadline_ms = deadline_;
  return out;
}

void Registration::handle_response(const Message& response, RegistrationOutput* out,
                                   std::uint64_t now_ms) {
  int code = response.status_code();
  if (code >= 200 && code < 300) {
    handle_success(response, out, now_ms);
    return;
  }
  if (code == 401 || code == 407) {
    handle_challenge(response, out, now_ms);
    return;
  }
  if (state_ == RegistrationState::kUnregistering) {
    finish(out);
    return;
  }
  if (code == 403) {
    fail(out, sip_error(Code::kAuthRejected, "registration forbidden (403)"), code,
         response.reason());
    return;
  }
  if (code == 423 && !interval_retry_used_) {
    auto min = leading_number(response.header("Min-Expires"), 0xffffffffu);
    if (min && min.value() > expires_s_) {
      expires_s_ = static_cast<std::uint32_t>(min.value());
      new_cycle();
      interval_retry_used_ = true;
      Status s = send_register(out, now_ms, expires_s_, "", "");
      if (!s) fail(out, s, 0, "");
      return;
    }
  }
  if (code == 503) {
    retries_ += 1;
    if (retries_ <= config_.max_retries) {
      auto after = leading_number(response.header("Retry-After"), kMaxRetryAfterS);
      std::uint64_t delay = after ? after.value() * 1000 : backoff_delay_ms();
      schedule_retry(out, now_ms, delay, false);
      return;
    }
  }
  fail(out, sip_error(Code::kRejected, "registration rejected"), code, response.reason());
}

void Registration::handle_challenge(const Message& response, RegistrationOutput* out,
                                    std::uint64_t now_ms) {
  int code = response.status_code();
  const char* header = code == 407 ? "Proxy-Authorization" : "Authorization";
  auto ch = select_challenge(response, config_.credential);
  if (!ch) {
    fail(out, sip_error(Code::kAuthRejected, "no challenge for our credential"), code,
         response.reason());
    return;
  }
  std::string authorization;
  if (config_.credential == CredentialKind::kDigest) {
    if (credentials_sent_) {
      if (!ch->stale || stale_retry_used_) {
        fail(out, sip_error(Code::kAuthRejected, "credentials rejected"), code, response.reason());
        return;
      }
      stale_retry_used_ = true;
    }
    auto cnonce = random_hex(config_.random, 8);
    if (!cnonce) {
      fail(out, cnonce.status(), 0, "");
      return;
    }
    DigestInput in;
    in.username = config_.impi;
    in.password = std::string_view(reinterpret_cast<const char*>(config_.password.data()),
                                   config_.password.size());
    in.method = "REGISTER";
    in.uri = config_.registrar;
    in.cnonce = cnonce.value();
    in.nc = 1;
    auto value = digest_authorization(ch.value(), in);
    if (!value) {
      fail(out, value.status(), code, response.reason());
      return;
    }
    authorization = std::move(value.value());
  } else {
    bool fresh = false;
    if (credentials_sent_) {
      if (ch->error != "invalid_token" || fresh_token_used_) {
        fail(out, sip_error(Code::kAuthRejected, "token rejected"), code, response.reason());
        return;
      }
      fresh = true;
      fresh_token_used_ = true;
    }
    SecretBytes token;
    Status s = config_.token_provider.get(config_.token_provider.context, fresh, &token);
    if (!s) {
      fail(out, s, 0, "");
      return;
    }
    auto value = bearer_authorization(
        std::string_view(reinterpret_cast<const char*>(token.data()), token.size()));
    if (!value) {
      fail(out, value.status(), 0, "");
      return;
    }
    authorization = std::move(value.value());
  }
  credentials_sent_ = true;
  Status s = send_register(out, now_ms, current_expires(), header, authorization);
  secure_zero(authorization.data(), authorization.size());
  if (!s) fail(out, s, 0, "");
}

void Registration::handle_success(const Message& response, RegistrationOutput* out,
                                  std::uint64_t now_ms) {
  if (state_ == RegistrationState::kUnregistering) {
    finish(out);
    return;
  }
  auto contacts = response.header_values("Contact");
  std::string instance = "<urn:uuid:" + uuid_ + ">";
  std::optional<NameAddr> ours;
  std::string_view contact_text;
  if (contacts) {
    for (std::string_view c : contacts.value()) {
      auto na = parse_name_addr(c);
      if (!na) continue;
      auto inst = na->param("+sip.instance");
      if ((inst && iequals(inst.value(), instance)) || iequals(na->uri.host, host_)) {
        ours = na.value();
        contact_text = c;
        break;
      }
    }
  }
  if (!ours) {
    fail(out, sip_error(Code::kRejected, "2xx without our binding"), response.status_code(),
         response.reason());
    return;
  }
  std::optional<std::uint64_t> expires;
  if (auto e = ours->param("expires")) expires = leading_number(e.value(), 0xffffffffu);
  if (!expires) expires = leading_number(response.header("Expires"), 0xffffffffu);
  std::uint64_t granted = expires ? expires.value() : expires_s_;
  if (granted == 0) {
    fail(out, sip_error(Code::kRejected, "binding granted with expires 0"), response.status_code(),
         response.reason());
    return;
  }
  RegistrationEvent ev;
  ev.kind = RegistrationEventKind::kRegistered;
  ev.expires_s = static_cast<std::uint32_t>(granted);
  ev.contact = std::string(contact_text);
  if (auto g = ours->param("pub-gruu")) ev.pub_gruu = std::string(g.value());
  if (auto g = ours->param("temp-gruu")) ev.temp_gruu = std::string(g.value());
  if (auto f = leading_number(response.header("Flow-Timer"), 0xffffffffu))
    ev.flow_timer_s = static_cast<std::uint32_t>(f.value());
  ev.sip_status = response.status_code();
  out->events.push_back(std::move(ev));
  bound_ = true;
  ever_registered_ = true;
  retries_ = 0;
  state_ = RegistrationState::kRegistered;
  timer_ = now_ms + refresh_delay_ms(static_cast<std::uint32_t>(granted));
  if (config_.subscribe_reg_event && !sub_tx_) send_subscribe(out, now_ms);
}

// SUBSCRIBE to our own AoR's reg event package (RFC 3680 section 3), or a refresh of the
// subscription with each registration refresh. A failure to subscribe is not a
// registration failure: the binding stays, only the network's notifications are missed.
void Registration::send_subscribe(RegistrationOutput* out, std::uint64_t now_ms) {
  if (!subscribed_ || sub_call_id_.empty()) {
    auto call_id = make_call_id(config_.random);
    auto tag = make_tag(config_.random);
    if (!call_id || !tag) return;
    sub_call_id_ = std::move(call_id.value());
    sub_tag_ = std::move(tag.value());
    sub_remote_tag_.clear();
    sub_cseq_ = 0;
  }
  auto branch = make_branch(config_.random);
  if (!branch) return;
  auto via = format_via(host_, branch.value());
  if (!via) return;
  std::string to = aor_;
  if (subscribed_ && !sub_remote_tag_.empty()) to += ";tag=" + sub_remote_tag_;
  auto text = MessageBuilder::request("SUBSCRIBE", config_.impu)
                  .header("Via", via.value())
                  .header("Max-Forwards", "70")
                  .header("From", aor_ + ";tag=" + sub_tag_)
                  .header("To", to)
                  .header("Call-ID", sub_call_id_)
                  .header("CSeq", std::to_string(++sub_cseq_) + " SUBSCRIBE")
                  .header("Contact", contact_)
                  .header("Event", "reg")
                  .header("Accept", "application/reginfo+xml")
                  .header("Expires", std::to_string(expires_s_))
                  .build();
  if (!text) return;
  auto parsed = parse_message(ByteSpan(text.value()));
  if (!parsed) return;
  auto t = ClientTransaction::create(std::move(parsed.value()), now_ms);
  if (!t) return;
  sub_tx_.emplace(std::move(t.value()));
  out->send.push_back(std::move(text.value()));
}

// A reg event NOTIFY (RFC 3680 section 5): answered 200; when our contact was terminated
// the binding is reported lost and, unless the network "rejected" it, registered again at
// once (TS 24.229 section 5.1.1.5); a shortened expiry moves the refresh earlier.
void Registration::handle_notify(const Message& notify, RegistrationOutput* out,
                                 std::uint64_t now_ms) {
  if (sub_remote_tag_.empty()) sub_remote_tag_ = std::string(tag_of(notify.header("From")));
  auto ok = response_for(notify, 200, "OK", "").build();
  if (ok) out->send.push_back(std::move(ok.value()));
  if (trim(notify.header("Subscription-State")).substr(0, 10) == "terminated") subscribed_ = false;
  std::string_view body(reinterpret_cast<const char*>(notify.body().data()), notify.body().size());
  auto info = parse_reginfo(body, config_.impu);
  if (!info) return;
  const RegInfoContact* ours = nullptr;
  for (const RegInfoContact& c : info->contacts)
    if (c.uri.find(host_) != std::string_view::npos) ours = &c;
  bool terminated = ours ? ours->state == "terminated" : info->state == "terminated";
  if (terminated && state_ == RegistrationState::kRegistered) {
    bound_ = false;
    RegistrationEvent ev;
    ev.kind = RegistrationEventKind::kUnregistered;
    ev.reason = UnregisterReason::kNetwork;
    out->events.push_back(std::move(ev));
    if (ours && ours->event == "rejected") {
      fail(out, sip_error(Code::kRejected, "registration rejected by the network"), 0,
           "reg event: rejected");
      return;
    }
    state_ = RegistrationState::kRegistering;
    timer_ = kNoDeadline;
    new_cycle();
    Status s = send_register(out, now_ms, expires_s_, "", "");
    if (!s) fail(out, s, 0, "");
    return;
  }
  if (ours && ours->state == "active" && ours->has_expires && ours->expires > 0 &&
      state_ == RegistrationState::kRegistered &&
      now_ms + refresh_delay_ms(ours->expires) < timer_) {
    timer_ = now_ms + refresh_delay_ms(ours->expires); // "shortened"
    RegistrationEvent ev;
    ev.kind = RegistrationEventKind::kRegistered;
    ev.expires_s = ours->expires;
    out->events.push_back(std::move(ev));
  }
}

namespace {

// The value of attribute `name` in the start tag `tag` ("<contact id='1' state=\"active\">").
std::string_view xml_attr(std::string_view tag, std::string_view name) {
  for (std::size_t pos = 0; (pos = tag.find(name, pos)) != std::string_view::npos; ++pos) {
    char before = pos == 0 ? 'x' : tag[pos - 1];
    if (!is_wsp(before) && before != '\n' && before != '\r') continue;
    std::size_t eq = pos + name.size();
    while (eq < tag.size() && is_wsp(tag[eq]))
      ++eq;
    if (eq >= tag.size() || tag[eq] != '=') continue;
    std::size_t q = eq + 1;
    while (q < tag.size() && is_wsp(tag[q]))
      ++q;
    if (q >= tag.size() || (tag[q] != '"' && tag[q] != '\'')) continue;
    std::size_t end = tag.find(tag[q], q + 1);
    if (end == std::string_view::npos) return {};
    return tag.substr(q + 1, end - q - 1);
  }
  return {};
}

// The next element `name` at or after pos: its start tag and its content. False at the end.
bool next_element(std::string_view doc, std::string_view name, std::size_t* pos,
                  std::string_view* start_tag, std::string_view* content, Status* error) {
  std::string open = "<" + std::string(name);
  for (std::size_t p = doc.find(open, *pos); p != std::string_view::npos;
       p = doc.find(open, p + 1)) {
    std::size_t after = p + open.size();
    if (after < doc.size() && doc[after] != '>' && doc[after] != '/' && !is_wsp(doc[after]) &&
        doc[after] != '\n' && doc[after] != '\r')
      continue; // "<registrations" is not "<registration"
    std::size_t gt = doc.find('>', after);
    if (gt == std::string_view::npos) {
      *error = Status(Code::kMalformed, Module::kSip, "unterminated tag");
      return false;
    }
    *start_tag = doc.substr(p, gt + 1 - p);
    if (doc[gt - 1] == '/') {
      *content = {};
      *pos = gt + 1;
      return true;
    }
    std::string close = "</" + std::string(name) + ">";
    std::size_t end = doc.find(close, gt + 1);
    if (end == std::string_view::npos) {
      *error = Status(Code::kMalformed, Module::kSip, "unterminated element");
      return false;
    }
    *content = doc.substr(gt + 1, end - gt - 1);
    *pos = end + close.size();
    return true;
  }
  return false;
}

} // namespace

Result<RegInfo> parse_reginfo(std::string_view body, std::string_view aor) {
  if (body.size() > IMSDC_MAX_SIP_MESSAGE)
    return Status(Code::kTooLarge, Module::kSip, "reginfo too large");
  std::size_t pos = 0;
  std::string_view tag, content;
  Status error;
  while (next_element(body, "registration", &pos, &tag, &content, &error)) {
    if (xml_attr(tag, "aor") != aor) continue;
    RegInfo info;
    info.state = xml_attr(tag, "state");
    std::size_t cpos = 0;
    std::string_view ctag, ccontent;
    while (next_element(content, "contact", &cpos, &ctag, &ccontent, &error)) {
      if (info.contacts.size() == kMaxRegInfoContacts)
        return Status(Code::kTooLarge, Module::kSip, "too many reginfo contacts");
      RegInfoContact c;
      c.state = xml_attr(ctag, "state");
      c.event = xml_attr(ctag, "event");
      auto expires = parse_decimal(xml_attr(ctag, "expires"), 0xffffffffu);
      c.has_expires = expires.is_ok();
      if (expires) c.expires = static_cast<std::uint32_t>(expires.value());
      std::size_t upos = 0;
      std::string_view utag, ucontent;
      if (next_element(ccontent, "uri", &upos, &utag, &ucontent, &error)) c.uri = trim(ucontent);
      if (!error) return error;
      info.contacts.push_back(c);
    }
    if (!error) return error;
    return info;
  }
  if (!error) return error;
  return Status(Code::kNotFound, Module::kSip, "no registration for the AoR");
}

RegistrationOutput Registration::on_transport_closed(int reason, int http_status,
                                                     std::uint64_t now_ms) {
  RegistrationOutput out = begin_output();
  bool was_open = transport_open_;
  transport_open_ = false;
  sub_tx_.reset(); // the subscription's flow is gone with the connection
  subscribed_ = false;
  // A close during shutdown ends it. Nothing else is owed for a close right after a final
  // error, nor for the close we asked for when the transport was given up (the reconnect is
  // already scheduled).
  bool expected = finished() || (state_ == RegistrationState::kWaiting && retry_reconnects_);
  if (stopping_ && !finished()) {
    finish(&out);
  } else if (!stopping_ && !expected) {
    transaction_.reset();
    if (reason == IMSDC_TRANSPORT_CLOSED_TLS) {
      fail(&out, sip_error(Code::kTls, "TLS failure"), 0, "");
    } else if (reason == IMSDC_TRANSPORT_CLOSED_REFUSED) {
      fail(&out, sip_error(Code::kRejected, "WebSocket upgrade refused"), 0, "", http_status);
    } else {
      lose_transport(&out, now_ms,
                     sip_error(Code::kNetwork, was_open ? "connection lost" : "connect failed"));
    }
  }
  deadline_ = next_deadline();
  out.deadline_ms = deadline_;
  return out;
}

std::uint64_t Registration::next_deadline() const {
  std::uint64_t d = std::min(timer_, transaction_ ? transaction_->deadline_ms() : kNoDeadline);
  return std::min(d, sub_tx_ ? sub_tx_->deadline_ms() : kNoDeadline);
}

RegistrationOutput Registration::poll(std::uint64_t now_ms) {
  RegistrationOutput out = begin_output();
  if (sub_tx_ && now_ms >= sub_tx_->deadline_ms()) sub_tx_.reset(); // no answer: not subscribed
  if (transaction_ && now_ms >= transaction_->deadline_ms()) {
    auto step = transaction_->on_timer(now_ms);
    if (step && step->event == TransactionEvent::kTimeout) {
      transaction_.reset();
      if (state_ == RegistrationState::kUnregistering)
        finish(&out);
      else
        lose_transport(&out, now_ms, sip_error(Code::kNetwork, "no answer to REGISTER"));
    }
  }
  if (!finished() && timer_ != kNoDeadline && now_ms >= timer_) {
    timer_ = kNoDeadline;
    if (state_ == RegistrationState::kRegistered ||
        (state_ == RegistrationState::kWaiting && !retry_reconnects_)) {
      if (!transport_open_) {
        state_ = RegistrationState::kConnecting;
        out.transport = TransportAction::kConnect;
      } else {
        state_ = RegistrationState::kRegistering;
        new_cycle();
        Status s = send_register(&out, now_ms, expires_s_, "", "");
        if (!s) fail(&out, s, 0, "");
      }
    } else if (state_ == RegistrationState::kWaiting) {
      state_ = RegistrationState::kConnecting;
      out.transport = TransportAction::kConnect;
    }
  }
  deadline_ = next_deadline();
  out.deadline_ms = deadline_;
  return out;
}

RegistrationOutput Registration::shutdown(std::uint64_t now_ms) {
  RegistrationOutput out = begin_output();
  if (finished() || stopping_) {
    out.deadline_ms = deadline_;
    return out;
  }
  stopping_ = true;
  bool may_be_bound = bound_ || state_ == RegistrationState::kRegistering;
  if (transport_open_ && may_be_bound) {
    transaction_.reset();
    timer_ = kNoDeadline;
    state_ = RegistrationState::kUnregistering;
    new_cycle();
    Status s = send_register(&out, now_ms, 0, "", "");
    if (!s) finish(&out);
  } else {
    if (state_ == RegistrationState::kConnecting) out.transport = TransportAction::kClose;
    finish(&out);
  }
  deadline_ = next_deadline();
  out.deadline_ms = deadline_;
  return out;
}

} // namespace imsdc::sip
