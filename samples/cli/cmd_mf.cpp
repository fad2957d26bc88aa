// imsdc mf: the labnet's IMS AS / DCSF + media function (MF) + DC application server of the
// avatar call demo (issue 9), built on imsdc's own SIP and network-role data-channel code.
//
// Kamailio routes each initial INVITE from a UE to the registered MF (the role TS 23.228
// annex AC gives the IMS AS with the DCSF). The MF is a back-to-back user agent: it answers
// the caller's bootstrap data-channel m-line itself (its own certificate: e2ae) and places the
// called leg with its own bootstrap line in place of the caller's, passing every other m-line
// (the application data channel between the UEs: e2e) through untouched (sdp/mf.h). On each
// leg's bootstrap association it serves GET / (the DC application list) and GET /avatars (the
// leg's UE's avatar IDs) on stream 0, relays POST /avatar/representation to the BAR over
// mutual TLS (dc_relay.h), fetches for itself with UE-A's attestation on POST /avatar/network
// (network-centric rendering), and receives animation frames on 'avatar-animation'.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"

#if defined(IMSDC_CLI_WITH_LWS)
#include <cjson/cJSON.h>

#include "avatar/animation.h"
#include "dc/bootstrap_http.h"
#include "dc/link.h"
#include "dc_relay.h"
#include "demo_events.h"
#include "sdp/mf.h"
#include "sdp/sdp.h"
#include "sip/uri.h"
#include "sip_loop.h"
#endif

namespace imsdc::cli {

#if defined(IMSDC_CLI_WITH_LWS)
namespace {

constexpr const char* kHelp =
    "usage: imsdc mf --server wss://HOST:PORT --origin URL --ca F --impu URI [--impi ID]\n"
    "                --password-file F --state DIR --dir D [--dtls-dir D2]\n"
    "                --bar https://HOST:PORT --bar-ca F --avatars FILE\n"
    "                [--bind ADDR]... [--calls N] [--timeout S] [--events F]\n"
    "                [--tamper-bar-answer] [--keylog F]\n"
    "The labnet media function of the avatar call demo (docs/demo.md): registers (digest),\n"
    "then acts as a SIP back-to-back user agent for the calls Kamailio routes to it. On each\n"
    "leg it answers (caller) or offers (callee) the bootstrap data channel itself with the\n"
    "certificate of --dtls-dir (default --dir) and passes the other m-lines through. On the\n"
    "bootstrap channel: GET / (the DC application list), GET /avatars (the leg's avatar IDs\n"
    "from --avatars, JSON {\"IMPU\":[ID or {\"id\",\"name\"},...]}); on 'avatar-representation' "
    "(http):\n"
    "POST /avatar/representation relayed to the BAR and POST /avatar/network fetched for\n"
    "network rendering, both over mutual TLS with the PEM pair of --dir (trusting --bar-ca);\n"
    "'avatar-animation' frames are counted. Ends after --calls calls (default 1), SIGTERM or\n"
    "--timeout (default 300 s), de-registering. --events appends the demo's step events.\n"
    "--tamper-bar-answer (labnet fault injection) changes one character of every relayed\n"
    "answer. --keylog F: DEBUG builds only, the DTLS key log for Wireshark. Exit 0 when\n"
    "every call ended normally.\n";

// a=max-message-size of the MF's bootstrap lines.
constexpr std::uint32_t kMaxMessage = 262144;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::string uri_of(const std::string& name_addr) {
  auto na = sip::parse_name_addr(name_addr);
  return na ? std::string(na->uri.text) : std::string();
}

struct Mf;

// One leg's bootstrap association at the MF.
class Leg : public dc::Link::Handler {
public:
  Leg(Mf* mf, std::string impu, const char* name) : mf_(mf), impu_(std::move(impu)), name_(name) {}
  void on_state(dc::Link& ep, dc::AssociationState st, Status s) override;
  void on_open(dc::Link& ep, const dc::ChannelInfo& c) override;
  void on_message(dc::Link& ep, std::uint16_t sid, ByteSpan d, bool binary) override;
  void on_closed(dc::Link& ep, std::uint16_t sid) override;
  void on_writable(dc::Link&, std::uint16_t sid) override {
    if (relay_ && sid == relay_sid_) relay_->on_writable();
  }
  void poll(std::uint64_t now) {
    if (relay_) (void)relay_->poll(now);
  }
  bool relay_busy() const { return relay_ && relay_->busy(); }
  std::unique_ptr<dc::Link> endpoint;
  bool failed = false;
  bool ending = false; // the call is ending: the UE may drop the association first

private:
  void serve(dc::Link& ep, ByteSpan d);
  static void report(void* ctx, const char* kind, int status, std::uint64_t bytes, std::uint64_t ms,
                     const std::string& detail);
  Mf* mf_;
  std::string impu_;
  const char* name_;
  std::unique_ptr<Relay> relay_;
  std::uint16_t relay_sid_ = 0xffff;
  std::uint16_t anim_sid_ = 0xffff;
  avatar::AnimationReceiver frames_;
};

struct Session {
  sip::CallId a = 0, b = 0; // the caller's leg (incoming) and the callee's (ours)
  sdp::SessionDescription offer;
  sdp::MfConfig config;
  sdp::MfSplit split;
  std::unique_ptr<Leg> caller, callee;
  bool rung = false, a_ended = false, b_ended = false, ok = true;
  std::uint64_t started = 0;
};

struct Mf {
  EventLog events;
  const imsdc_port_keystore* dtls = nullptr;
  std::vector<imsdc_port_addr> binds;
  std::string keylog;
  std::string bar, bar_ca, tls_cert, tls_key;
  bool tamper = false;
  cJSON* avatars = nullptr;
  sdp::ChannelPolicy policy;
  std::vector<std::unique_ptr<Session>> sessions;
  int calls_done = 0;
  bool all_ok = true;

  // The served user's avatar ID list in the profile's form (PROTOCOL_PROFILE.md section 5):
  // {"avatars":[{"id":"…","name":"…"}]}. --avatars lists IDs as strings or as such objects.
  std::string avatar_list(const std::string& impu) const {
    cJSON* out = cJSON_CreateObject();
    cJSON* arr = cJSON_AddArrayToObject(out, "avatars");
    const cJSON* list = cJSON_GetObjectItemCaseSensitive(avatars, impu.c_str());
    const cJSON* item = nullptr;
    cJSON_ArrayForEach(item, list) {
      if (cJSON_IsObject(item)) {
        cJSON_AddItemToArray(arr, cJSON_Duplicate(item, true));
      } else if (cJSON_IsString(item)) {
        cJSON* e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", item->valuestring);
        cJSON_AddStringToObject(e, "name", item->valuestring);
        cJSON_AddItemToArray(arr, e);
      }
    }
    char* text = cJSON_PrintUnformatted(out);
    std::string r = text != nullptr ? text : "{\"avatars\":[]}";
    cJSON_free(text);
    cJSON_Delete(out);
    return r;
  }
  std::unique_ptr<Relay> make_relay(Relay::ReportFn report, void* ctx) const {
    auto http = transport::HttpsClient::create();
    if (!http.is_ok()) return nullptr;
    Relay::Options o;
    o.network = true;
    o.tamper = tamper;
    o.report = report;
    o.report_ctx = ctx;
    return std::make_unique<Relay>(bar, bar_ca, tls_cert, tls_key, std::move(http.value()), o);
  }
};

constexpr const char* kAppList =
    "{\"apps\":[{\"id\":\"avatar\",\"name\":\"Secure avatar communication\","
    "\"standard\":\"TR 33.790 sol. #6\",\"channels\":["
    "{\"label\":\"avatar-representation\",\"protocol\":\"http\",\"peer\":\"dc-as\","
    "\"paths\":[\"/avatar/representation\",\"/avatar/network\"]},"
    "{\"label\":\"avatar-animation\",\"protocol\":\"imsdc-animation\",\"peer\":\"mf or ue\","
    "\"reliable\":false},"
    "{\"label\":\"avatar-control\",\"protocol\":\"imsdc-avatar\",\"peer\":\"ue\"}]}]}";

void Leg::on_state(dc::Link& ep, dc::AssociationState st, Status s) {
  if (st == dc::AssociationState::kOpen) {
    mf_->events.emit("bootstrap", "ok", "e2ae", ep.setup_ms(),
                     std::string(name_) + " leg " + impu_ + ", MF-terminated");
  } else if (st == dc::AssociationState::kFailed && !failed && !ending) {
    failed = true;
    mf_->events.emit("bootstrap", "failed", "e2ae", 0, std::string(name_) + " leg: " + s.message());
  }
}

void Leg::on_open(dc::Link& ep, const dc::ChannelInfo& c) {
  std::printf("mf: %s leg channel %u '%s' (%s) open\n", name_, c.stream_id, c.label.c_str(),
              c.protocol.c_str());
  if (c.label == Relay::kLabel) {
    relay_ = mf_->make_relay(report, this);
    if (!relay_) return;
    relay_sid_ = c.stream_id;
    relay_->on_open(*ep.association(), c.stream_id);
  } else if (c.label == avatar::kAnimationLabel) {
    anim_sid_ = c.stream_id;
    frames_ = avatar::AnimationReceiver();
  }
}

void Leg::on_message(dc::Link& ep, std::uint16_t sid, ByteSpan d, bool) {
  if (sid == 0) return serve(ep, d);
  if (relay_ && sid == relay_sid_) return relay_->on_message(d, false);
  if (sid == anim_sid_) {
    avatar::AnimationFrame f;
    (void)frames_.on_message(d, imsdc_port_clock_monotonic_ms(), &f);
  }
}

void Leg::on_closed(dc::Link&, std::uint16_t sid) {
  if (relay_ && sid == relay_sid_) {
    relay_->on_closed();
    relay_sid_ = 0xffff;
  }
  if (sid == anim_sid_) {
    anim_sid_ = 0xffff;
    const auto& c = frames_.counters();
    mf_->events.emit("frames-received", c.delivered > 0 ? "ok" : "failed", "e2ae", 0,
                     std::to_string(c.delivered) + " frames delivered to the renderer (" +
                         std::to_string(c.stale) + " stale, " + std::to_string(c.too_old) +
                         " too old, " + std::to_string(c.malformed) + " malformed)");
  }
}

void Leg::serve(dc::Link& ep, ByteSpan d) {
  Result<dc::HttpRequest> r = dc::parse_request(d.as_string());
  int status = 200;
  std::string body;
  if (!r.is_ok() || r->method != "GET") {
    status = !r.is_ok() && r.status() != Code::kUnsupported ? 400 : 405;
  } else if (r->path == "/") {
    body = kAppList;
  } else if (r->path == "/avatars") {
    body = mf_->avatar_list(impu_);
  } else {
    status = 404;
  }
  const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
  mf_->events.emit("served", status == 200 ? "ok" : "refused", "e2ae", 0,
                   std::string(name_) + " leg GET " + (r.is_ok() ? r->path : "?") + " " +
                       std::to_string(status));
  auto msgs = dc::build_response(status, reason, {{"Content-Type", "application/json"}},
                                 ByteSpan(std::string_view(body)), 16384);
  if (!msgs.is_ok()) return;
  for (const Bytes& m : msgs.value())
    (void)ep.association()->send(0, ByteSpan(m), true); // small: fits the send buffer
}

void Leg::report(void* ctx, const char* kind, int status, std::uint64_t bytes, std::uint64_t ms,
                 const std::string& detail) {
  auto* self = static_cast<Leg*>(ctx);
  const char* result = status == 200 ? "ok" : status >= 400 && status < 500 ? "refused" : "failed";
  self->mf_->events.emit(kind, result, "-", ms,
                         std::string(self->name_) + " leg, BAR " + std::to_string(status) + ", " +
                             std::to_string(bytes) + " bytes" +
                             (detail.empty() ? "" : ", " + detail));
}

Result<std::unique_ptr<Leg>> make_leg(Mf& mf, const std::string& impu, const char* name) {
  auto leg = std::make_unique<Leg>(&mf, impu, name);
  dc::Link::Config c;
  c.binds = mf.binds;
  c.keystore = mf.dtls;
  c.max_message = kMaxMessage;
  if (!mf.keylog.empty()) {
    c.key_log = append_key_log;
    c.key_log_ctx = &mf.keylog;
  }
  c.name = name;
  auto ep = dc::Link::create(posix::net(), c);
  if (!ep.is_ok()) return ep.status();
  leg->endpoint = std::move(ep.value());
  return leg;
}

} // namespace

int cmd_mf(int argc, char** argv) {
  Args a;
  if (!a.parse(argc, argv, 1, {"--help", "--tamper-bar-answer"},
               {"--server", "--origin", "--ca", "--impu", "--impi", "--password-file",
                "--token-file", "--state", "--dir", "--dtls-dir", "--bar", "--bar-ca", "--avatars",
                "--bind", "--calls", "--timeout", "--events", "--keylog"}))
    return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  for (const char* o : {"--dir", "--bar", "--bar-ca", "--avatars"})
    if (!a.has(o)) return usage_error(std::string("mf needs ") + o);
  const long calls = std::strtol(a.get("--calls", "1").c_str(), nullptr, 10);
  const long timeout = std::strtol(a.get("--timeout", "300").c_str(), nullptr, 10);
  if (calls < 1 || calls > 100 || timeout < 1) return usage_error("--calls 1..100, --timeout > 0");

  Mf mf;
  if (!mf.events.open(a.get("--events"), "MF")) return usage_error("cannot open --events");
  auto fail_event = [&](const Status& s, const std::string& what) {
    mf.events.emit("exit", "failed", "-", 0, what + ": " + s.message());
    return fail(s, what);
  };
  auto avatars = read_text(a.get("--avatars"));
  if (!avatars) return fail_event(avatars.status(), a.get("--avatars"));
  mf.avatars = cJSON_Parse(avatars->c_str());
  if (mf.avatars == nullptr || !cJSON_IsObject(mf.avatars))
    return usage_error("--avatars must be a JSON object {\"IMPU\":[\"ID\",...]}");
  struct JsonFree {
    cJSON* j;
    ~JsonFree() { cJSON_Delete(j); }
  } free_avatars{mf.avatars};
  mf.tls_key = a.get("--dir") + "/device-key.pem";
  mf.tls_cert = a.get("--dir") + "/device-cert.pem";
  mf.bar = a.get("--bar");
  while (!mf.bar.empty() && mf.bar.back() == '/')
    mf.bar.pop_back();
  mf.bar_ca = a.get("--bar-ca");
  mf.tamper = a.has("--tamper-bar-answer");
  mf.keylog = a.get("--keylog");
  if (!labnet_binds(a, &mf.binds)) return usage_error("--bind takes an IP address");
  // The DTLS certificate (the fingerprint the MF puts in its bootstrap lines).
  const std::string dtls_dir = a.get("--dtls-dir", a.get("--dir"));
  Args ka;
  {
    std::string d0 = "mf", d1 = "--dir", d2 = dtls_dir;
    char* kav[] = {d0.data(), d1.data(), d2.data()};
    if (!ka.parse(3, kav, 1, {}, kKeystoreOptions)) return usage_error(ka.error());
  }
  auto ks = open_keystore(ka);
  if (!ks) return fail_event(ks.status(), dtls_dir);
  mf.dtls = ks.value()->port();
  mf.policy.allowed_subprotocols = {"http", avatar::kAnimationProtocol};

  SipStack sip;
  if (Status s = sip.open(a); !s.is_ok())
    return s == Code::kInvalidArgument ? usage_error(s.message()) : fail_event(s, "sip");
  (void)std::signal(SIGINT, on_signal);
  (void)std::signal(SIGTERM, on_signal);
  const std::uint64_t start = now_ms();
  const std::uint64_t give_up = start + static_cast<std::uint64_t>(timeout) * 1000;
  sip.loop->apply(sip.reg->start(start));
  bool was_registered = false, shutting = false;
  std::string why;
  std::uint64_t shutdown_at = 0;
  const imsdc_port_net* net = posix::net();

  auto end_leg = [&](Session&, sip::CallId id, std::uint64_t now) {
    sip::CallOutput out;
    (void)sip.calls->hangup(id, now, &out);
    sip.loop->apply(std::move(out));
  };

  while (!sip.reg->finished()) {
    std::uint64_t now = now_ms();
    if (!was_registered && sip.loop->registered()) {
      was_registered = true;
      mf.events.emit("register", "ok", "sip", now - start, a.get("--impu") + " (digest)");
    }
    if (sip.loop->has_error() && !shutting) {
      mf.events.emit("register", "failed", "sip", now - start,
                     std::string(sip.loop->error().status.message()));
      break;
    }
    const bool done = mf.calls_done >= calls && mf.sessions.empty();
    if (!shutting && (g_stop || done || now >= give_up)) {
      shutting = true;
      shutdown_at = now;
      if (!done) {
        mf.all_ok = false;
        why = g_stop ? "stopped before every call ended" : "timeout before every call ended";
      }
      for (auto& s : mf.sessions) {
        if (!s->a_ended) end_leg(*s, s->a, now);
        if (!s->b_ended && s->b) end_leg(*s, s->b, now);
      }
      sip.loop->apply(sip.reg->shutdown(now));
    }
    if (shutting && now >= shutdown_at + 10000) break;

    for (const sip::CallEvent& e : sip.loop->take_call_events()) {
      Session* s = nullptr;
      for (auto& x : mf.sessions)
        if (x->a == e.call || x->b == e.call) s = x.get();
      sip::CallOutput out;
      if (e.kind == sip::CallEventKind::kIncoming && s == nullptr) {
        auto sess = std::make_unique<Session>();
        sess->a = e.call;
        sess->started = now;
        const std::string caller =
            uri_of(e.asserted_identity.empty() ? e.from : e.asserted_identity);
        const std::string callee = uri_of(e.to);
        auto offer = sdp::parse(e.sdp);
        // GET /avatars answers the served user's list: the registered AoR in From (the
        // asserted identity may be a third-party one).
        auto lc = make_leg(mf, uri_of(e.from), "caller");
        auto lb = make_leg(mf, callee, "callee");
        Status st = !offer ? offer.status() : !lc ? lc.status() : !lb ? lb.status() : Status::ok();
        if (st.is_ok()) {
          sess->offer = std::move(offer.value());
          sess->caller = std::move(lc.value());
          sess->callee = std::move(lb.value());
          sess->config.caller_leg = sess->caller->endpoint->local();
          sess->config.callee_leg = sess->callee->endpoint->local();
          sess->config.bootstrap_policy = mf.policy;
          auto split = sdp::split_offer(sess->offer, sess->config);
          if (split) sess->split = std::move(split.value());
          st = split.status();
        }
        if (!st.is_ok()) {
          mf.events.emit("leg", "refused", "sip", 0, "caller offer: " + std::string(st.message()));
          (void)sip.calls->reject(e.call, 488, now, &out);
          sip.loop->apply(std::move(out));
          mf.all_ok = false;
          ++mf.calls_done;
          continue;
        }
        if (sess->split.caller_bootstrap_index != sdp::kNoMediaLine) {
          Status es = sess->caller->endpoint->start(sess->split.caller_bootstrap, false, &mf.policy,
                                                    sess->caller.get(), now);
          if (!es.is_ok()) std::printf("mf: caller bootstrap: %s\n", es.message());
        }
        sip::OutgoingCall spec;
        spec.to = callee;
        spec.sdp = sess->split.callee_offer_text;
        spec.from = uri_of(e.from);
        spec.preferred_identity = caller;
        spec.avatar_uri = e.avatar_uri;
        // Privacy: id stays the caller's choice on the called leg (Kamailio asserted nothing).
        spec.privacy_id = e.privacy.find("id") != std::string::npos;
        auto id = sip.calls->invite(spec, now, &out);
        sip.loop->apply(std::move(out));
        if (!id) {
          sip::CallOutput o2;
          (void)sip.calls->reject(e.call, 500, now, &o2);
          sip.loop->apply(std::move(o2));
          mf.events.emit("leg", "failed", "sip", 0,
                         std::string("callee leg: ") + id.status().message());
          mf.all_ok = false;
          ++mf.calls_done;
          continue;
        }
        sess->b = id.value();
        const std::size_t lines = sess->offer.media.size();
        mf.events.emit(
            "leg", "ok", "sip", 0,
            caller + " -> " + callee + ": " + std::to_string(lines) +
                " m-lines; bootstrap line answered by the MF (e2ae), " +
                std::to_string(lines -
                               (sess->split.caller_bootstrap_index != sdp::kNoMediaLine ? 1 : 0)) +
                " passed through (e2e)");
        mf.sessions.push_back(std::move(sess));
        continue;
      }
      if (s == nullptr) continue;
      if (e.call == s->b && e.kind == sip::CallEventKind::kProgress && !s->rung && !s->a_ended) {
        s->rung = true;
        (void)sip.calls->ring(s->a, "", now, &out);
      } else if (e.call == s->b && e.kind == sip::CallEventKind::kAnswered && !s->a_ended) {
        auto ans = sdp::parse(e.sdp);
        Result<sdp::MfMerged> merged =
            ans ? sdp::merge_answer(s->offer, s->split, ans.value(), s->config)
                : Result<sdp::MfMerged>(ans.status());
        if (!merged) {
          mf.events.emit("leg", "failed", "sip", 0,
                         std::string("callee answer: ") + merged.status().message());
          s->ok = false;
          end_leg(*s, s->b, now);
          (void)sip.calls->reject(s->a, 488, now, &out);
        } else {
          (void)sip.calls->answer(s->a, merged->caller_answer_text, now, &out);
          if (merged->callee_bootstrap.accepted) {
            Status es = s->callee->endpoint->start(merged->callee_bootstrap, true, &mf.policy,
                                                   s->callee.get(), now);
            if (!es.is_ok()) std::printf("mf: callee bootstrap: %s\n", es.message());
          }
        }
      } else if (e.kind == sip::CallEventKind::kEnded) {
        const bool normal =
            e.end == sip::EndReason::kLocalHangup || e.end == sip::EndReason::kRemoteHangup;
        if (!normal) s->ok = false;
        s->caller->ending = s->callee->ending = true;
        if (e.call == s->a) {
          s->a_ended = true;
          if (!s->b_ended && s->b) end_leg(*s, s->b, now);
        } else {
          s->b_ended = true;
          if (!s->a_ended) {
            if (!s->rung && e.end == sip::EndReason::kRejected)
              (void)sip.calls->reject(s->a, e.sip_status >= 300 ? e.sip_status : 500, now, &out);
            else
              end_leg(*s, s->a, now);
          }
        }
      }
      sip.loop->apply(std::move(out));
    }
    // Sessions whose legs have both ended: close the associations, count the call.
    for (auto it = mf.sessions.begin(); it != mf.sessions.end();) {
      Session& s = **it;
      if (s.a_ended && (s.b_ended || s.b == 0)) {
        s.caller->endpoint->close();
        s.callee->endpoint->close();
        mf.events.emit("ended", s.ok ? "ok" : "failed", "sip", now - s.started, "both legs ended");
        if (!s.ok) mf.all_ok = false;
        ++mf.calls_done;
        it = mf.sessions.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<imsdc_port_udp*> handles;
    std::uint64_t next = now + 20;
    bool busy = false;
    for (auto& s : mf.sessions)
      for (Leg* l : {s->caller.get(), s->callee.get()}) {
        l->endpoint->service(now);
        l->poll(now);
        busy = busy || l->relay_busy();
        l->endpoint->add_handles(&handles);
        next = std::min(next, l->endpoint->next_deadline());
      }
    sip.loop->step(0);
    std::uint64_t now2 = now_ms();
    std::uint32_t wait = busy ? 1 : next > now2 ? static_cast<std::uint32_t>(next - now2) : 0;
    if (!handles.empty() && net->wait) {
      (void)net->wait(net->ctx, handles.data(), handles.size(), wait);
    } else {
      sip.loop->step(wait);
    }
  }
  for (int i = 0; i < 10; ++i)
    (void)sip.transport->port()->poll(sip.transport->port()->ctx, 20);
  const bool ok = mf.all_ok && was_registered && !sip.loop->has_error();
  mf.events.emit("deregister", was_registered && !sip.loop->has_error() ? "ok" : "failed", "sip", 0,
                 a.get("--impu"));
  mf.events.emit("exit", ok ? "ok" : "failed", "-", now_ms() - start,
                 std::to_string(mf.calls_done) + " call(s)" + (why.empty() ? "" : "; " + why));
  return ok ? 0 : 1;
}

#else

int cmd_mf(int, char**) {
  return fail(Status(Code::kUnsupported, Module::kCli,
                     "this imsdc was built without libwebsockets: mf is not available"));
}

#endif

} // namespace imsdc::cli
