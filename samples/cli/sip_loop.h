// The SIP side of the CLI's call programs (imsdc call/answer, imsdc mf, imsdc avatar-call):
// one libwebsockets WssTransport, one sans-I/O sip::Registration and one sip::CallAgent driven
// by one loop. Every message the transport delivers goes to both (each ignores what is not
// its own); call events are printed (text or JSON) and handed to the command.
#ifndef IMSDC_CLI_SIP_LOOP_H
#define IMSDC_CLI_SIP_LOOP_H

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#include "identity/identity.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"
#include "imsdc/transport_lws.h"
#include "sip/call.h"
#include "sip/message.h"
#include "sip/registration.h"

namespace imsdc::cli {

// Reads the token file for each request (nothing is cached; the file may be replaced).
struct TokenFile {
  std::string path;
  static Status get(void* ctx, bool, SecretBytes* out) {
    auto s = read_secret(static_cast<TokenFile*>(ctx)->path);
    if (!s) return s.status();
    *out = std::move(s.value());
    return Status::ok();
  }
};

inline const char* kind_name(sip::CallEventKind k) {
  switch (k) {
  case sip::CallEventKind::kIncoming:
    return "incoming";
  case sip::CallEventKind::kProgress:
    return "progress";
  case sip::CallEventKind::kAnswered:
    return "answered";
  case sip::CallEventKind::kConfirmed:
    return "confirmed";
  case sip::CallEventKind::kRemoteOffer:
    return "remote-offer";
  case sip::CallEventKind::kOfferAnswered:
    return "offer-answered";
  case sip::CallEventKind::kOfferFailed:
    return "offer-failed";
  case sip::CallEventKind::kRefreshed:
    return "refreshed";
  case sip::CallEventKind::kEnded:
    return "ended";
  }
  return "?";
}

inline const char* end_name(sip::EndReason r) {
  switch (r) {
  case sip::EndReason::kLocalHangup:
    return "local-hangup";
  case sip::EndReason::kRemoteHangup:
    return "remote-hangup";
  case sip::EndReason::kCancelled:
    return "cancelled";
  case sip::EndReason::kRejected:
    return "rejected";
  case sip::EndReason::kTimeout:
    return "timeout";
  case sip::EndReason::kSessionExpired:
    return "session-expired";
  case sip::EndReason::kTransportLost:
    return "transport-lost";
  case sip::EndReason::kError:
    return "error";
  }
  return "?";
}

inline std::uint64_t now_ms() {
  return imsdc_port_clock_monotonic_ms();
}

// The loop: one transport, one registration, one call agent.
class Loop {
public:
  Loop(sip::Registration* reg, sip::CallAgent* calls, const imsdc_msg_transport* port,
       imsdc_msg_transport_options opts, bool json)
      : reg_(reg), calls_(calls), port_(port), opts_(opts), json_(json) {
    events_.user = this;
    events_.on_open = [](void* u) { static_cast<Loop*>(u)->queue_.push_back({0, {}, 0, 0}); };
    events_.on_message = [](void* u, const std::uint8_t* d, std::size_t n) {
      static_cast<Loop*>(u)->queue_.push_back(
          {1, std::string(reinterpret_cast<const char*>(d), n), 0, 0});
    };
    events_.on_close = [](void* u, int reason, int http, const char*) {
      static_cast<Loop*>(u)->queue_.push_back({2, {}, reason, http});
    };
  }

  void apply(sip::RegistrationOutput out) {
    if (out.transport == sip::TransportAction::kConnect &&
        port_->connect(port_->ctx, &opts_, &events_) < 0)
      queue_.push_back({2, {}, IMSDC_TRANSPORT_CLOSED_NETWORK, 0});
    for (auto& m : out.send)
      pending_.push_back(std::move(m));
    flush();
    if (out.transport == sip::TransportAction::kClose) port_->close(port_->ctx);
    for (const auto& e : out.events)
      report(e);
  }
  void apply(sip::CallOutput out) {
    for (auto& m : out.send)
      pending_.push_back(std::move(m));
    flush();
    for (auto& e : out.events)
      call_events_.push_back(std::move(e));
  }
  // Call events since the last call, for the command's own logic.
  std::vector<sip::CallEvent> take_call_events() {
    std::vector<sip::CallEvent> e;
    e.swap(call_events_);
    for (const auto& ev : e)
      print(ev);
    return e;
  }

  // Verifies the Identity header of every incoming INVITE with cfg (null: none).
  void set_verifier(const identity::VerifyConfig* cfg) { verify_ = cfg; }

  void step(std::uint32_t wait_ms) {
    (void)port_->poll(port_->ctx, wait_ms);
    std::vector<Ev> q;
    q.swap(queue_);
    for (auto& e : q) {
      std::uint64_t now = now_ms();
      if (e.kind == 0) {
        apply(reg_->on_transport_open(now));
      } else if (e.kind == 1) {
        apply(reg_->on_message(ByteSpan(e.data), now));
        sip::CallOutput out = calls_->on_message(ByteSpan(e.data), now);
        verify_incoming(e.data, out);
        apply(std::move(out));
      } else {
        pending_.clear();
        apply(calls_->on_transport_closed(now));
        apply(reg_->on_transport_closed(e.reason, e.http, now));
      }
    }
    flush();
    apply(reg_->poll(now_ms()));
    apply(calls_->poll(now_ms()));
  }
  std::uint64_t deadline() const { return std::min(reg_->deadline_ms(), calls_->deadline_ms()); }
  bool registered() const { return registered_; }
  // The caller card of an incoming call (JSON), or why there is none ("error CLASS"); empty
  // without a verifier.
  std::string card(sip::CallId id) const {
    auto c = cards_.find(id);
    if (c == cards_.end()) return std::string();
    return c->second.ok ? c->second.text : "error " + c->second.text;
  }
  int registrations() const { return registrations_; }
  bool has_error() const { return has_error_; }
  const sip::RegistrationEvent& error() const { return error_; }

  void print_line(const std::string& json, const std::string& text) {
    std::printf("%s\n", json_ ? json.c_str() : text.c_str());
    (void)std::fflush(stdout);
  }

private:
  struct Ev {
    int kind; // 0 open, 1 message, 2 close
    std::string data;
    int reason, http;
  };
  struct Card {
    bool ok; // text: the card's JSON; else the error class
    std::string text;
  };
  // The caller card of the INVITE behind each kIncoming event in out (the call agent has
  // accepted it, so it parses). PASSporT failures are statuses inside the card, never errors.
  void verify_incoming(const std::string& data, const sip::CallOutput& out) {
    if (!verify_) return;
    for (const auto& e : out.events) {
      if (e.kind != sip::CallEventKind::kIncoming) continue;
      auto msg = sip::parse_message(ByteSpan(data));
      if (!msg) {
        cards_[e.call] = Card{false, msg.status().name()};
        continue;
      }
      identity::VerifyConfig cfg = *verify_;
      cfg.now_s = now_s(); // the port's wall clock (or --now), read when the INVITE arrives
      auto card = identity::verify_request(msg.value(), cfg);
      cards_[e.call] = card ? Card{true, identity::caller_card_json(card.value())}
                            : Card{false, card.status().name()};
    }
  }
  void flush() {
    while (!pending_.empty()) {
      const std::string& m = pending_.front();
      int rc = port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
      if (rc == 0) return;
      // The wire copy may hold a third-party token: wipe it once handed to the transport.
      std::string& sent = pending_.front();
      secure_zero(sent.data(), sent.size());
      pending_.erase(pending_.begin());
    }
  }
  void report(const sip::RegistrationEvent& e) {
    if (e.kind == sip::RegistrationEventKind::kRegistered) {
      registered_ = true;
      ++registrations_;
      print_line("{\"state\":\"registered\",\"expires\":" + std::to_string(e.expires_s) + "}",
                 "registered expires=" + std::to_string(e.expires_s));
    } else if (e.kind == sip::RegistrationEventKind::kUnregistered) {
      registered_ = false;
      const char* why = e.reason == sip::UnregisterReason::kShutdown         ? "shutdown"
                        : e.reason == sip::UnregisterReason::kConnectionLost ? "connection-lost"
                                                                             : "network";
      print_line(std::string("{\"state\":\"unregistered\",\"reason\":\"") + why + "\"}",
                 std::string("unregistered reason=") + why);
    } else {
      has_error_ = true;
      error_ = e;
      print_line("{\"state\":\"error\",\"code\":\"" + std::string(e.status.name()) +
                     "\",\"sip_status\":" + std::to_string(e.sip_status) + "}",
                 "error code=" + std::string(e.status.name()) +
                     " sip_status=" + std::to_string(e.sip_status));
    }
  }
  void print(const sip::CallEvent& e) {
    std::string j = std::string("{\"event\":\"") + kind_name(e.kind) +
                    "\",\"call\":" + std::to_string(e.call) +
                    ",\"status\":" + std::to_string(e.sip_status);
    std::string t =
        std::string("call ") + kind_name(e.kind) + " status=" + std::to_string(e.sip_status);
    auto field = [&](const char* name, const std::string& v) {
      if (v.empty()) return;
      j += std::string(",\"") + name + "\":\"" + json_escape(v) + "\"";
      t += std::string(" ") + name + "=" + v;
    };
    field("reason", e.reason);
    field("from", e.from);
    field("to", e.to);
    field("asserted_identity", e.asserted_identity);
    field("privacy", e.privacy);
    auto card = cards_.find(e.call);
    if (e.kind == sip::CallEventKind::kIncoming && card != cards_.end()) {
      if (card->second.ok) {
        j += ",\"caller_card\":" + card->second.text;
        t += "\n  caller card: " + card->second.text;
      } else {
        j += ",\"caller_card\":null,\"caller_card_error\":\"" + json_escape(card->second.text) +
             "\"";
        t += "\n  caller card: error " + card->second.text;
      }
    }
    if (!e.avatar_uri.empty()) {
      field("avatar", e.avatar_uri);
      j += ",\"avatar_verified\":false";
      t += " (unverified)";
    }
    if (e.kind == sip::CallEventKind::kRefreshed) {
      j += ",\"session_expires\":" + std::to_string(e.session_expires_s);
      t += " session_expires=" + std::to_string(e.session_expires_s);
    }
    if (e.kind == sip::CallEventKind::kEnded) {
      field("end", end_name(e.end));
      if (!e.status.is_ok()) field("code", e.status.name());
    }
    field("sdp", e.sdp);
    if (!e.headers.empty()) {
      j += ",\"headers\":[";
      for (std::size_t i = 0; i < e.headers.size(); ++i)
        j += std::string(i ? "," : "") + "[\"" + json_escape(e.headers[i].first) + "\",\"" +
             json_escape(e.headers[i].second) + "\"]";
      j += "]";
      for (const auto& h : e.headers)
        t += "\n  " + h.first + ": " + h.second;
    }
    print_line(j + "}", t);
  }

  sip::Registration* reg_;
  sip::CallAgent* calls_;
  const imsdc_msg_transport* port_;
  imsdc_msg_transport_options opts_;
  imsdc_msg_transport_events events_{};
  std::vector<Ev> queue_;
  std::vector<std::string> pending_;
  std::vector<sip::CallEvent> call_events_;
  const identity::VerifyConfig* verify_ = nullptr;
  std::map<sip::CallId, Card> cards_;
  bool json_;
  bool registered_ = false;
  int registrations_ = 0;
  bool has_error_ = false;
  sip::RegistrationEvent error_;
};

// Registration + call agent + transport of the demo programs (imsdc mf, imsdc avatar-call)
// from the common options --server --origin --ca --impu [--impi] --state and one of
// --password-file / --token-file.
struct SipStack {
  std::unique_ptr<posix::Storage> storage;
  TokenFile reg_token;
  std::optional<sip::Registration> reg;
  std::optional<sip::CallAgent> calls;
  std::unique_ptr<transport::WssTransport> transport;
  std::string server, origin, ca;
  imsdc_msg_transport_options opts{};
  std::unique_ptr<Loop> loop;

  // Errors: kInvalidArgument (missing or bad options, with a message), the ports' errors.
  Status open(const Args& a, const std::string& avatar_uri = "") {
    for (const char* req : {"--server", "--origin", "--impu", "--ca", "--state"})
      if (!a.has(req)) return Status(Code::kInvalidArgument, Module::kCli, "missing a SIP option");
    if (a.has("--password-file") == a.has("--token-file"))
      return Status(Code::kInvalidArgument, Module::kCli,
                    "need exactly one of --password-file and --token-file");
    auto st = posix::Storage::open(a.get("--state"));
    if (!st) return st.status();
    storage = std::move(st.value());
    reg_token.path = a.get("--token-file");
    sip::RegistrationConfig rc;
    rc.impu = a.get("--impu");
    rc.impi = a.get("--impi");
    rc.random = sip::RandomSource{fill_random, nullptr};
    rc.storage = storage->port();
    if (a.has("--password-file")) {
      auto pw = read_secret(a.get("--password-file"));
      if (!pw) return pw.status();
      rc.password = std::move(pw.value());
    } else {
      rc.credential = sip::CredentialKind::kBearer;
      rc.token_provider = sip::TokenProvider{TokenFile::get, &reg_token};
    }
    auto r = sip::Registration::create(std::move(rc));
    if (!r) return r.status();
    reg.emplace(std::move(r.value()));
    sip::CallConfig cc;
    cc.impu = a.get("--impu");
    cc.contact_uri = reg->contact_uri();
    cc.via_host = reg->via_host();
    cc.random = sip::RandomSource{fill_random, nullptr};
    cc.avatar_uri = avatar_uri;
    auto c = sip::CallAgent::create(std::move(cc));
    if (!c) return c.status();
    calls.emplace(std::move(c.value()));
    auto t = transport::WssTransport::create();
    if (!t) return t.status();
    transport = std::move(t.value());
    server = a.get("--server");
    origin = a.get("--origin");
    ca = a.get("--ca");
    opts.url = server.c_str();
    opts.origin = origin.c_str();
    opts.subprotocol = "sip";
    opts.ca_file = ca.c_str();
    opts.connect_timeout_ms = 10000;
    opts.ping_interval_ms = 20000;
    loop = std::make_unique<Loop>(&*reg, &*calls, transport->port(), opts, false);
    return Status::ok();
  }
};

} // namespace imsdc::cli

#endif // IMSDC_CLI_SIP_LOOP_H
