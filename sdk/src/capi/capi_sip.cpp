// C API: registration over secure WebSocket and the calls over it. One WssTransport, one
// sans-I/O sip::Registration and one sip::CallAgent per handle, driven from
// imsdc_client_poll() the way samples/cli/cmd_call.cpp drives them.
#include <algorithm>
#include <cstring>
#include <deque>
#include <new>
#include <optional>
#include <utility>

#include "capi/capi_internal.h"
#include "imsdc/port/os.h"
#include "sip/call.h"
#include "sip/registration.h"

#if defined(IMSDC_CAPI_WITH_LWS)
#include "imsdc/transport_lws.h"
#endif

namespace imsdc::capi {
namespace {

// Largest bearer token accepted from the application's token function.
constexpr std::size_t kMaxToken = 8192;

struct TokenBridge {
  imsdc_token_fn fn = nullptr;
  void* user = nullptr;
  static Status get(void* ctx, bool fresh, SecretBytes* out) {
    auto* t = static_cast<TokenBridge*>(ctx);
    SecretBytes buf(kMaxToken);
    std::size_t len = 0;
    const int rc =
        t->fn(t->user, fresh ? 1 : 0, reinterpret_cast<char*>(buf.data()), buf.size(), &len);
    if (rc != 0 || len == 0 || len > buf.size()) {
      const Code c = rc > 0 && rc <= static_cast<int>(Code::kEntropy) ? static_cast<Code>(rc)
                                                                      : Code::kAuthRejected;
      return Status(c, Module::kSip, "the token function supplied no token");
    }
    *out = SecretBytes(ByteSpan(buf.data(), len));
    return Status::ok();
  }
};

int end_to_c(sip::EndReason r) {
  return static_cast<int>(r); // imsdc_call_end mirrors sip::EndReason
}

} // namespace

class Registration final : public Polled {
public:
  imsdc_client* client = nullptr;
  imsdc_registration_callbacks cb{};
  TokenBridge token;
  std::optional<sip::Registration> reg;
  std::optional<sip::CallAgent> calls;
  std::string url, origin;
  imsdc_msg_transport_options opts{};
  imsdc_msg_transport_events events{};
  const imsdc_msg_transport* port = nullptr;
#if defined(IMSDC_CAPI_WITH_LWS)
  std::unique_ptr<transport::WssTransport> wss;
#endif
  struct Ev {
    int kind; // 0 open, 1 message, 2 close
    std::string data;
    int reason, http;
  };
  std::deque<Ev> queue;
  std::deque<std::string> pending;
  std::vector<sip::CallId> active; // calls not yet ended, for shutdown()
  bool started = false;
  bool registered = false;

  ~Registration() override {
    if (client) client->detach(this);
    for (auto& m : pending)
      secure_zero(m.data(), m.size());
  }

  void apply(sip::RegistrationOutput out) {
    if (out.transport == sip::TransportAction::kConnect &&
        port->connect(port->ctx, &opts, &events) < 0)
      queue.push_back({2, {}, IMSDC_TRANSPORT_CLOSED_NETWORK, 0});
    for (auto& m : out.send)
      pending.push_back(std::move(m));
    flush();
    if (out.transport == sip::TransportAction::kClose) port->close(port->ctx);
    for (const auto& e : out.events)
      report(e);
  }
  void apply(sip::CallOutput out, const std::string* message) {
    for (auto& m : out.send)
      pending.push_back(std::move(m));
    flush();
    for (const auto& e : out.events)
      report(e, message);
  }
  void flush() {
    while (!pending.empty()) {
      std::string& m = pending.front();
      const int rc =
          port->send(port->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
      if (rc == 0) return; // queue full: again after the next poll
      // The wire copy may hold a token (third-party identity): wipe it once handed over.
      secure_zero(m.data(), m.size());
      pending.pop_front();
    }
  }
  void report(const sip::RegistrationEvent& e) {
    if (e.kind == sip::RegistrationEventKind::kRegistered) registered = true;
    if (e.kind != sip::RegistrationEventKind::kRegistered) registered = false;
    if (!cb.on_event) return;
    imsdc_registration_event c{};
    c.kind = e.kind == sip::RegistrationEventKind::kRegistered     ? IMSDC_REG_REGISTERED
             : e.kind == sip::RegistrationEventKind::kUnregistered ? IMSDC_REG_UNREGISTERED
                                                                   : IMSDC_REG_ERROR;
    c.expires_s = e.expires_s;
    c.contact = e.contact.c_str();
    c.pub_gruu = e.pub_gruu.c_str();
    c.status = to_c(e.status);
    c.sip_status = e.sip_status;
    c.http_status = e.http_status;
    c.reason = e.sip_reason.c_str();
    cb.on_event(cb.user, &c);
  }
  void report(const sip::CallEvent& e, const std::string* message) {
    if (e.kind == sip::CallEventKind::kIncoming) active.push_back(e.call);
    if (e.kind == sip::CallEventKind::kEnded)
      active.erase(std::remove(active.begin(), active.end(), e.call), active.end());
    if (!cb.on_call) {
      // Nobody takes calls: refuse them rather than let them ring forever.
      if (e.kind == sip::CallEventKind::kIncoming) {
        sip::CallOutput out;
        (void)calls->reject(e.call, 486, imsdc_port_clock_monotonic_ms(), &out);
        apply(std::move(out), nullptr);
      }
      return;
    }
    imsdc_call_event c{};
    c.kind = static_cast<int>(e.kind); // imsdc_call_event_kind mirrors sip::CallEventKind
    c.call = e.call;
    c.sip_status = e.sip_status;
    c.reason = e.reason.c_str();
    c.sdp = e.sdp.c_str();
    c.sdp_len = e.sdp.size();
    c.from = e.from.c_str();
    c.to = e.to.c_str();
    c.asserted_identity = e.asserted_identity.c_str();
    c.avatar_uri = e.avatar_uri.c_str();
    c.end = end_to_c(e.end);
    c.status = to_c(e.status);
    if (message) {
      c.message = reinterpret_cast<const std::uint8_t*>(message->data());
      c.message_len = message->size();
    }
    cb.on_call(cb.user, &c);
  }

  void service(std::uint64_t now) override {
    if (!started) return;
    while (!queue.empty()) {
      Ev e = std::move(queue.front());
      queue.pop_front();
      now = imsdc_port_clock_monotonic_ms();
      if (e.kind == 0) {
        apply(reg->on_transport_open(now));
      } else if (e.kind == 1) {
        apply(reg->on_message(ByteSpan(e.data), now));
        apply(calls->on_message(ByteSpan(e.data), now), &e.data);
      } else {
        pending.clear();
        apply(calls->on_transport_closed(now), nullptr);
        apply(reg->on_transport_closed(e.reason, e.http, now));
      }
    }
    flush();
    now = imsdc_port_clock_monotonic_ms();
    apply(reg->poll(now));
    apply(calls->poll(now), nullptr);
  }
  std::uint64_t next_deadline() const override {
    if (!started) return sip::kNoDeadline;
    if (!queue.empty()) return 0;
    return std::min(reg->deadline_ms(), calls->deadline_ms());
  }
  bool wait_transport(std::uint32_t wait_ms) override {
    if (!started || !port) return false;
    (void)port->poll(port->ctx, wait_ms);
    return true;
  }
};

} // namespace imsdc::capi

struct imsdc_registration {
  imsdc::capi::Registration impl;
};

using imsdc::capi::to_c;

extern "C" {

int imsdc_registration_create(imsdc_client* client, const imsdc_registration_config* config,
                              const imsdc_registration_callbacks* callbacks,
                              imsdc_registration** out) {
  if (!client || !config || !out) return IMSDC_E_INVALID_ARGUMENT;
  if (!config->server_url || !config->origin || !config->impu) return IMSDC_E_INVALID_ARGUMENT;
  const bool digest = config->password != nullptr;
  if (digest == (config->token_fn != nullptr)) return IMSDC_E_INVALID_ARGUMENT;
#if !defined(IMSDC_CAPI_WITH_LWS)
  (void)callbacks;
  return IMSDC_E_UNSUPPORTED;
#else
  auto* r = new (std::nothrow) imsdc_registration();
  if (!r) return IMSDC_E_NO_MEMORY;
  std::unique_ptr<imsdc_registration> guard(r);
  imsdc::capi::Registration& x = r->impl;
  if (callbacks) x.cb = *callbacks;

  imsdc::sip::RegistrationConfig cfg;
  cfg.impu = config->impu;
  if (config->impi) cfg.impi = config->impi;
  if (config->expires_s) cfg.expires_s = config->expires_s;
  cfg.random = imsdc::sip::RandomSource{imsdc::capi::fill_random, nullptr};
  cfg.storage = client->storage ? client->storage->port() : nullptr;
  if (digest) {
    cfg.credential = imsdc::sip::CredentialKind::kDigest;
    cfg.password = imsdc::SecretBytes(imsdc::ByteSpan(std::string_view(config->password)));
  } else {
    x.token.fn = config->token_fn;
    x.token.user = config->token_user;
    cfg.credential = imsdc::sip::CredentialKind::kBearer;
    cfg.token_provider = imsdc::sip::TokenProvider{imsdc::capi::TokenBridge::get, &x.token};
  }
  auto reg = imsdc::sip::Registration::create(std::move(cfg));
  if (!reg) return to_c(reg.status());
  x.reg.emplace(std::move(reg.value()));

  imsdc::sip::CallConfig cc;
  cc.impu = config->impu;
  cc.contact_uri = x.reg->contact_uri();
  cc.via_host = x.reg->via_host();
  cc.random = imsdc::sip::RandomSource{imsdc::capi::fill_random, nullptr};
  auto calls = imsdc::sip::CallAgent::create(std::move(cc));
  if (!calls) return to_c(calls.status());
  x.calls.emplace(std::move(calls.value()));

  auto wss = imsdc::transport::WssTransport::create();
  if (!wss) return to_c(wss.status());
  x.wss = std::move(wss.value());
  x.port = x.wss->port();
  x.url = config->server_url;
  x.origin = config->origin;
  x.opts.url = x.url.c_str();
  x.opts.origin = x.origin.c_str();
  x.opts.subprotocol = "sip";
  x.opts.ca_file = client->ca_file.empty() ? nullptr : client->ca_file.c_str();
  x.opts.connect_timeout_ms = 10000;
  // Keepalive by WebSocket ping, more often than proxies' Flow-Timer (Kamailio: 25 s).
  x.opts.ping_interval_ms = 20000;
  x.opts.allow_plain = config->allow_plain ? 1 : 0;
  x.events.user = &x;
  x.events.on_open = [](void* u) {
    static_cast<imsdc::capi::Registration*>(u)->queue.push_back({0, {}, 0, 0});
  };
  x.events.on_message = [](void* u, const std::uint8_t* d, std::size_t n) {
    static_cast<imsdc::capi::Registration*>(u)->queue.push_back(
        {1, std::string(reinterpret_cast<const char*>(d), n), 0, 0});
  };
  x.events.on_close = [](void* u, int reason, int http, const char*) {
    static_cast<imsdc::capi::Registration*>(u)->queue.push_back({2, {}, reason, http});
  };
  x.client = client;
  client->attach(&x);
  *out = guard.release();
  return IMSDC_OK;
#endif
}

int imsdc_registration_start(imsdc_registration* reg) {
  if (!reg) return IMSDC_E_INVALID_ARGUMENT;
  if (reg->impl.started) return IMSDC_E_STATE;
  reg->impl.started = true;
  reg->impl.apply(reg->impl.reg->start(imsdc_port_clock_monotonic_ms()));
  return IMSDC_OK;
}

int imsdc_registration_shutdown(imsdc_registration* reg) {
  if (!reg) return IMSDC_E_INVALID_ARGUMENT;
  if (!reg->impl.started) return IMSDC_E_STATE;
  const std::uint64_t now = imsdc_port_clock_monotonic_ms();
  imsdc::sip::CallOutput bye;
  // Calls end first (BYE / CANCEL while the transport is still up).
  for (imsdc::sip::CallId id : std::vector<imsdc::sip::CallId>(reg->impl.active))
    (void)reg->impl.calls->hangup(id, now, &bye);
  reg->impl.apply(std::move(bye), nullptr);
  reg->impl.apply(reg->impl.reg->shutdown(now));
  return IMSDC_OK;
}

int imsdc_registration_finished(const imsdc_registration* reg) {
  return reg && reg->impl.reg && reg->impl.reg->finished() ? 1 : 0;
}

void imsdc_registration_destroy(imsdc_registration* reg) {
  delete reg;
}

int imsdc_call_make(imsdc_registration* reg, const char* to, const char* sdp, uint32_t* out_call) {
  if (!reg || !to || !sdp || !out_call) return IMSDC_E_INVALID_ARGUMENT;
  if (!reg->impl.registered) return IMSDC_E_STATE;
  imsdc::sip::OutgoingCall oc;
  oc.to = to;
  oc.sdp = sdp;
  imsdc::sip::CallOutput out;
  auto id = reg->impl.calls->invite(oc, imsdc_port_clock_monotonic_ms(), &out);
  if (!id) return to_c(id.status());
  *out_call = id.value();
  reg->impl.active.push_back(id.value());
  reg->impl.apply(std::move(out), nullptr);
  return IMSDC_OK;
}

int imsdc_call_ring(imsdc_registration* reg, uint32_t call, const char* sdp) {
  if (!reg) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::sip::CallOutput out;
  imsdc::Status s =
      reg->impl.calls->ring(call, sdp ? sdp : "", imsdc_port_clock_monotonic_ms(), &out);
  reg->impl.apply(std::move(out), nullptr);
  return to_c(s);
}

int imsdc_call_answer(imsdc_registration* reg, uint32_t call, const char* sdp) {
  if (!reg) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::sip::CallOutput out;
  imsdc::Status s =
      reg->impl.calls->answer(call, sdp ? sdp : "", imsdc_port_clock_monotonic_ms(), &out);
  reg->impl.apply(std::move(out), nullptr);
  return to_c(s);
}

int imsdc_call_reject(imsdc_registration* reg, uint32_t call, int sip_status) {
  if (!reg) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::sip::CallOutput out;
  imsdc::Status s =
      reg->impl.calls->reject(call, sip_status, imsdc_port_clock_monotonic_ms(), &out);
  reg->impl.apply(std::move(out), nullptr);
  return to_c(s);
}

int imsdc_call_hangup(imsdc_registration* reg, uint32_t call) {
  if (!reg) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::sip::CallOutput out;
  imsdc::Status s = reg->impl.calls->hangup(call, imsdc_port_clock_monotonic_ms(), &out);
  reg->impl.apply(std::move(out), nullptr);
  return to_c(s);
}

} // extern "C"
