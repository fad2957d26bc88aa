// imsdc avatar-call: the demo UE of the avatar call (issue 9, docs/demo.md). One process is one
// device: it registers, calls (or answers) with two data-channel m-lines, one association
// each (sdp/mf.h): the bootstrap line, which the network's media function answers (e2ae), and
// the application line between the UEs (e2e). Then the caller drives the three avatar
// sessions of TR 33.790 sol. #6 one after another:
//  network       UE-A signs a "network" attestation; the MF fetches the clear representation
//                from the BAR with it (POST /avatar/network on the bootstrap association) and
//                renders; UE-A's animation frames go to the MF (e2ae).
//  sending-ue    UE-A signs with a fresh ephemeral key, the DC AS relays the request to the BAR
//                and the JWE back; UE-A decrypts and renders; frames go to UE-B (e2e).
//  receiving-ue  UE-B sends its ephemeral public key to UE-A (e2e, 'avatar-control'); UE-A's
//                attestation names it; UE-B fetches through the DC AS and decrypts; UE-A's
//                frames go to UE-B (e2e).
// Animation frames (PROTOCOL_PROFILE.md section 9) use 'avatar-animation', unordered without
// retransmissions; the negotiation is the avatar-control protocol of section 6.
// The callee verifies the caller's identity (PASSporT, as imsdc answer --trust) and shows the
// caller card. Every step is one event (demo_events.h); a refusal by the BAR or a
// representation that does not decrypt is "refused" and the call goes on without avatar.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"

#if defined(IMSDC_CLI_WITH_LWS)
#include <cjson/cJSON.h>

#include "avatar/animation.h"
#include "avatar/avatar_list.h"
#include "avatar/control.h"
#include "avatar/ephemeral.h"
#include "avatar/fetch.h"
#include "avatar/tokens.h"
#include "cert_dir.h"
#include "dc/http_channel.h"
#include "dc/link.h"
#include "demo_events.h"
#include "sdp/sdp.h"
#include "sip/uri.h"
#include "sip_loop.h"
#endif

namespace imsdc::cli {

#if defined(IMSDC_CLI_WITH_LWS)
namespace {

constexpr const char* kHelp =
    "usage: imsdc avatar-call --role caller|callee --server wss://HOST:PORT --origin URL --ca F\n"
    "         --impu URI [--impi ID] (--password-file F | --token-file F) --state DIR\n"
    "         (--dir D | --key F --cert F | --pkcs11 ...) [--access-edge-ca F] [--bind ADDR]...\n"
    "         [--events F] [--out DIR] [--timeout S] [--keylog F]\n"
    "  caller: --to URI --avatar-id ID --dc-as ID --bar-id ID [--frames N] [--step-dir DIR]\n"
    "          [--third-party-id URI --third-party-token-file F]\n"
    "  callee: [--trust STI-ROOTS.pem [--certs DIR]]\n"
    "The demo UE (docs/demo.md). Registers, then the caller calls --to with a bootstrap and an\n"
    "application data-channel m-line and runs the network, sending-ue and receiving-ue avatar\n"
    "sessions, hangs up and de-registers; the callee answers one call, verifies the caller's\n"
    "identity (--trust, as imsdc answer) and takes part. The device key signs attestations\n"
    "and is the DTLS certificate; an association whose peer chains to --access-edge-ca is\n"
    "e2ae, others e2e. Decrypted representations go to --out (default DIR/out). --frames\n"
    "animation frames per session (default 25, every 20 ms). --step-dir: before each step the\n"
    "caller waits for DIR/next (and deletes it). --keylog F: DEBUG builds only, the DTLS key\n"
    "log for Wireshark. --events appends the step events. Exit 0 when the call went through\n"
    "(a refused avatar is not a failure: the call continues without it).\n";

constexpr const char* kRepLabel = "avatar-representation";
constexpr std::uint32_t kMaxMessage = 262144;
constexpr std::size_t kMaxBody = 64 * 1024;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

// One HTTP exchange at a time on a channel, the body collected (bounded): the bootstrap GETs
// and the network-rendering POST.
class Requester {
public:
  Requester(dc::Association* assoc, std::uint16_t sid)
      : assoc_(assoc), sid_(sid), client_(send, this, 65536, "dc-as") {}
  bool start(const char* method, const std::string& url, const std::string& body) {
    imsdc_http_request req{};
    req.method = method;
    req.url = url.c_str();
    req.content_type = body.empty() ? nullptr : "application/jwt";
    req.body = reinterpret_cast<const std::uint8_t*>(body.data());
    req.body_len = body.size();
    req.max_body = kMaxBody;
    req.timeout_ms = 30000;
    imsdc_http_events ev{};
    ev.user = this;
    ev.on_response = [](void* u, int status, const char*, std::int64_t) {
      static_cast<Requester*>(u)->status_ = status;
    };
    ev.on_body = [](void* u, const std::uint8_t* d, std::size_t n) {
      static_cast<Requester*>(u)->body_.append(reinterpret_cast<const char*>(d), n);
      return 0;
    };
    ev.on_done = [](void* u, int result) {
      static_cast<Requester*>(u)->done_ = true;
      static_cast<Requester*>(u)->result_ = result;
    };
    done_ = false;
    body_.clear();
    status_ = 0;
    started_ = imsdc_port_clock_monotonic_ms();
    return client_.port()->request(client_.port()->ctx, &req, &ev) == IMSDC_PORT_OK;
  }
  dc::HttpChannelClient& client() { return client_; }
  void poll() { (void)client_.port()->poll(client_.port()->ctx, 0); }
  bool done() const { return done_; }
  int result() const { return result_; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }
  std::uint64_t ms() const { return imsdc_port_clock_monotonic_ms() - started_; }

private:
  static Status send(void* u, ByteSpan m) {
    auto* self = static_cast<Requester*>(u);
    return self->assoc_->send(self->sid_, m, false);
  }
  dc::Association* assoc_;
  std::uint16_t sid_;
  dc::HttpChannelClient client_;
  std::string body_;
  int status_ = 0, result_ = 0;
  bool done_ = false;
  std::uint64_t started_ = 0;
};

const char* fetch_result(const Status& s) {
  switch (s.code()) {
  case Code::kNetwork:
  case Code::kTimeout:
  case Code::kClosed:
  case Code::kIo:
  case Code::kInternal:
  case Code::kPortFailure:
    return "failed";
  default:
    return "refused"; // the BAR's refusal, or a representation that does not decrypt
  }
}

std::string json_field(const std::string& json, const char* name) {
  cJSON* j = cJSON_Parse(json.c_str());
  std::string out;
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(j, name);
  if (cJSON_IsString(v)) out = v->valuestring;
  cJSON_Delete(j);
  return out;
}

struct Ue : dc::Link::Handler {
  // --- configuration
  bool caller = false;
  EventLog events;
  const imsdc_port_keystore* ks = nullptr;
  std::string avatar_id, dc_as, bar_id, step_dir;
  std::string keylog; // --keylog: the DTLS key log file (append_key_log)
  int frames = 25;
  std::unique_ptr<posix::Storage> out;
  sdp::ChannelPolicy policy;

  // --- data channels
  std::unique_ptr<dc::Link> boot, app;
  std::optional<Requester> boot_http; // stream 0
  std::optional<Requester> rep;       // 'avatar-representation' on the bootstrap association
  std::uint16_t rep_sid = 0xffff, boot_anim_sid = 0xffff;
  bool rep_open = false, rep_opening = false, boot_anim_open = false;
  std::uint16_t ctl_sid = 0xffff, anim_sid = 0xffff;
  bool ctl_open = false, anim_open = false, boot_up = false, app_up = false;
  avatar::AnimationReceiver frames_rx; // frames from UE-A (callee)
  std::deque<std::string> control_in;
  bool failed = false;
  bool closing = false;

  // --- avatar fetch in progress
  std::optional<avatar::EphemeralKey> key;
  std::optional<avatar::RepresentationFetch> fetch;
  std::string fetch_mode;
  int progress_quarter = 0;

  void fail_step(const char* step, const char* path, const std::string& why) {
    failed = true;
    events.emit(step, "failed", path, 0, why);
  }
  void on_state(dc::Link& ep, dc::AssociationState st, Status s) override {
    const bool is_boot = &ep == boot.get();
    if (st == dc::AssociationState::kOpen) {
      (is_boot ? boot_up : app_up) = true;
      const std::string peer = ep.association()->peer().subject;
      events.emit(is_boot ? "bootstrap" : "app-channel", "ok", ep.termination(), ep.setup_ms(),
                  (is_boot ? "bootstrap association with the network, peer "
                           : "application association with the other UE, peer ") +
                      peer);
      if (is_boot) {
        boot_http.emplace(ep.association(), 0);
      } else if (caller) {
        auto c = ep.association()->open_channel(avatar::kControlLabel, avatar::kControlProtocol);
        auto a = ep.association()->open_channel(avatar::kAnimationLabel, avatar::kAnimationProtocol,
                                                false, 0u);
        if (!c || !a) return fail_step("app-channel", "e2e", "cannot open the avatar channels");
        ctl_sid = c.value();
        anim_sid = a.value();
      }
    } else if (st == dc::AssociationState::kFailed || st == dc::AssociationState::kClosed) {
      if (closing) return; // we ended it
      const char* step = is_boot ? "bootstrap" : "app-channel";
      // Once open, the peer ending it is how a call ends (its BYE may come later); a real
      // loss mid-session shows in the steps it breaks.
      if ((is_boot ? boot_up : app_up))
        events.emit(step, "info", ep.termination(), 0,
                    std::string("association ended: ") + (s.is_ok() ? "closed" : s.message()));
      else if (st == dc::AssociationState::kFailed)
        fail_step(step, is_boot ? "e2ae" : "e2e", std::string(s.message()));
    }
  }
  void on_open(dc::Link& ep, const dc::ChannelInfo& c) override {
    std::printf("ue: channel %u '%s' (%s) open on the %s association\n", c.stream_id,
                c.label.c_str(), c.protocol.c_str(), &ep == boot.get() ? "bootstrap" : "app");
    if (&ep == boot.get()) {
      if (c.label == kRepLabel) {
        rep_sid = c.stream_id;
        rep.emplace(ep.association(), c.stream_id);
        rep_open = true;
      } else if (c.label == avatar::kAnimationLabel) {
        boot_anim_sid = c.stream_id;
        boot_anim_open = true;
      }
      return;
    }
    if (c.label == avatar::kControlLabel) {
      ctl_sid = c.stream_id;
      ctl_open = true;
    } else if (c.label == avatar::kAnimationLabel) {
      anim_sid = c.stream_id;
      anim_open = true;
    }
  }
  void on_message(dc::Link& ep, std::uint16_t sid, ByteSpan d, bool) override {
    if (&ep == boot.get()) {
      if (sid == 0 && boot_http) boot_http->client().feed(d);
      if (sid == rep_sid && rep) rep->client().feed(d);
      return;
    }
    if (sid == ctl_sid && d.size() <= kMaxBody) control_in.emplace_back(d.as_string());
    if (sid == anim_sid) {
      avatar::AnimationFrame f;
      (void)frames_rx.on_message(d, imsdc_port_clock_monotonic_ms(), &f);
    }
  }
  void on_closed(dc::Link& ep, std::uint16_t sid) override {
    if (&ep == boot.get()) {
      if (sid == rep_sid && rep) {
        rep->client().closed();
        rep_open = false;
      }
      if (sid == boot_anim_sid) boot_anim_open = false;
      return;
    }
    if (sid == ctl_sid) ctl_open = false;
    if (sid == anim_sid) anim_open = false;
  }

  void control(const std::string& json) {
    if (ctl_open) (void)app->association()->send(ctl_sid, ByteSpan(std::string_view(json)), false);
  }
  // Starts the representation fetch over the DC AS (sending-ue: our own attestation and key;
  // receiving-ue: the peer's attestation naming our key).
  Status start_fetch(const std::string& mode, std::string attestation, std::string jti) {
    avatar::FetchOptions o;
    o.url = "/avatar/representation";
    o.attestation = std::move(attestation);
    o.jti = std::move(jti);
    o.now_s = now_s();
    o.blob_name = "avatar-" + mode + ".bin";
    o.on_progress = [](void* u, std::uint64_t got, std::int64_t total) {
      auto* self = static_cast<Ue*>(u);
      if (total <= 0) return;
      const int q = static_cast<int>(got * 4 / static_cast<std::uint64_t>(total));
      if (q > self->progress_quarter) {
        self->progress_quarter = q;
        self->events.emit("fetch", "info", "e2ae", 0,
                          "progress " + std::to_string(got) + "/" + std::to_string(total));
      }
    };
    o.progress_user = this;
    progress_quarter = 0;
    fetch_mode = mode;
    fetch.emplace(*rep->client().port(), *key, *out->port());
    return fetch->start(std::move(o));
  }
  // Polls the fetch; true once it finished (its event emitted).
  bool fetch_finished(std::uint64_t started, bool* ok) {
    if (!fetch) return false;
    (void)fetch->poll(0);
    if (!fetch->done()) return false;
    auto r = fetch->result();
    const std::uint64_t ms = imsdc_port_clock_monotonic_ms() - started;
    *ok = r.is_ok();
    if (r.is_ok()) {
      events.emit("fetch", "ok", "e2ae", ms,
                  fetch_mode + ": " + std::to_string(r->size) + " bytes " + r->cty +
                      " decrypted with the ephemeral key (JWE tag verified), via the DC AS");
      events.emit("render", "ok", "-", 0,
                  "avatar " + avatar_id_or("") + " rendered on this UE from avatar-" + fetch_mode +
                      ".bin");
    } else {
      std::string why = r.status().message();
      if (r.status() == Code::kAuthFailed) why = "tampered in flight? " + why;
      events.emit("fetch", fetch_result(r.status()), "e2ae", ms,
                  fetch_mode + ": " + std::string(r.status().name()) + ": " + why +
                      "; nothing stored, the call continues without avatar");
    }
    fetch.reset();
    key.reset();
    return true;
  }
  std::string avatar_id_or(const std::string& d) const { return avatar_id.empty() ? d : avatar_id; }
};

// The caller card (PROTOCOL_PROFILE.md section 10 JSON) as one line: each present field with
// its status; *number_verified when the number is verified (network or end to end).
std::string card_summary(const std::string& card, bool* number_verified) {
  cJSON* j = cJSON_Parse(card.c_str());
  if (j == nullptr) return card.empty() ? "no caller card" : card;
  std::string out;
  for (const char* f : {"number", "name", "organization", "photo", "avatar"}) {
    const cJSON* o = cJSON_GetObjectItemCaseSensitive(j, f);
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON* st = cJSON_GetObjectItemCaseSensitive(o, "status");
    if (!cJSON_IsString(v) || !cJSON_IsString(st) || *v->valuestring == '\0') continue;
    out += std::string(out.empty() ? "" : ", ") + f + " " + v->valuestring + " (" +
           st->valuestring + ")";
    if (std::string(f) == "number")
      *number_verified = std::string(st->valuestring).rfind("verified", 0) == 0;
  }
  const cJSON* att = cJSON_GetObjectItemCaseSensitive(j, "attest");
  out += std::string(", attest ") + (cJSON_IsString(att) ? att->valuestring : "none");
  cJSON_Delete(j);
  return out;
}

// The caller's scenario, one step at a time (advanced from the loop). Each avatar session
// starts with the avatar-control negotiation (PROTOCOL_PROFILE.md section 6, one
// avatar::ControlSession per session), then the fetch, then the animation frames.
enum class Phase {
  kWaitAnswer,
  kWaitChannels,
  kGetApps,
  kGetAvatars,
  kNetwork,
  kNetworkFrames,
  kSending,
  kSendingFrames,
  kReceiving,
  kReceivingFrames,
  kHangup,
  kDone
};

// One animation frame (PROTOCOL_PROFILE.md section 9): 16 face landmarks on a slow nod.
Bytes animation_frame(std::uint32_t seq, std::uint64_t now) {
  avatar::AnimationFrame f;
  f.kind = avatar::FrameKind::kLandmarks;
  f.sequence = seq;
  f.capture_ms = now;
  for (int i = 0; i < 16; ++i)
    f.landmarks.push_back(avatar::Landmark{
        static_cast<std::int16_t>(4096 + 512 * (i % 4)),
        static_cast<std::int16_t>(4096 + 512 * (i / 4) + static_cast<int>(seq % 32))});
  auto b = avatar::encode_frame(f);
  return b ? std::move(b.value()) : Bytes();
}

struct Script {
  Ue* ue;
  Phase phase = Phase::kWaitAnswer;
  int sub = 0; // step inside a phase
  std::uint64_t t0 = 0, next_frame = 0, frames_done_at = 0;
  std::uint32_t sent = 0;
  bool paused = false;
  std::optional<avatar::ControlSession> ctl;

  bool pause_gate(const char* what) {
    if (ue->step_dir.empty()) return true;
    const std::string next = ue->step_dir + "/next";
    if (!paused) {
      paused = true;
      ue->events.emit("pause", "info", "-", 0, std::string("before ") + what);
    }
    if (::access(next.c_str(), F_OK) != 0) return false;
    (void)::unlink(next.c_str());
    paused = false;
    return true;
  }
  std::uint64_t elapsed(std::uint64_t now) const { return now > t0 ? now - t0 : 0; }
  void go(Phase p) {
    phase = p;
    sub = 0;
    t0 = imsdc_port_clock_monotonic_ms();
  }
  // Sends frames every 20 ms on (assoc, sid); true when all are sent.
  bool send_frames(dc::Association* assoc, std::uint16_t sid, std::uint64_t now) {
    while (sent < static_cast<std::uint32_t>(ue->frames) && now >= next_frame) {
      Bytes f = animation_frame(sent, now);
      Status s = assoc->send(sid, ByteSpan(f), true);
      if (s == Code::kWouldBlock) return false;
      ++sent;
      next_frame = (next_frame ? next_frame : now) + 20;
    }
    return sent >= static_cast<std::uint32_t>(ue->frames);
  }
  Result<avatar::SignedToken> attest(avatar::Rendering r, const crypto::EcPublicKey* epk) {
    avatar::AttestationClaims c;
    c.avatar_id = ue->avatar_id;
    c.dc_as = ue->dc_as;
    c.aud = ue->bar_id;
    c.rendering = r;
    c.epk = epk;
    c.times.now_s = now_s();
    return avatar::make_attestation(*ue->ks, c);
  }
  // Starts a session's negotiation: the session marker, then the render offer to UE-B.
  bool offer(avatar::Rendering mode, const char* name) {
    ue->events.emit("session", "info", "-", 0, name);
    ctl.emplace(avatar::ControlSession::Role::kSender);
    auto m = ctl->offer(mode, ue->avatar_id);
    if (!m) {
      ue->fail_step("session", "e2e", m.status().message());
      return false;
    }
    ue->control(m.value());
    return true;
  }
  // Feeds UE-B's control messages to the session; false once it failed (event emitted).
  bool negotiate(std::uint64_t now) {
    while (!ue->control_in.empty() && ctl) {
      std::string m = std::move(ue->control_in.front());
      ue->control_in.pop_front();
      Status s = ctl->receive(m);
      if (s == Code::kRejected) {
        ue->events.emit("session", "refused", "e2e", elapsed(now),
                        "UE-B ended the negotiation: " + ctl->peer_error());
        return false;
      }
      if (!s.is_ok()) {
        ue->fail_step("session", "e2e", std::string("avatar-control: ") + s.message());
        return false;
      }
    }
    if (now > t0 + 30000) {
      ue->fail_step("session", "e2e", "UE-B did not answer on avatar-control");
      return false;
    }
    return true;
  }

  void step(std::uint64_t now) {
    Ue& u = *ue;
    using State = avatar::ControlSession::State;
    switch (phase) {
    case Phase::kWaitAnswer:
      return;
    case Phase::kWaitChannels:
      if (u.boot_up && u.app_up && u.ctl_open && u.anim_open && u.boot_http) go(Phase::kGetApps);
      if (now > t0 + 15000) {
        u.fail_step("app-channel", "-", "the data channels did not open within 15 s");
        go(Phase::kHangup);
      }
      return;
    case Phase::kGetApps:
    case Phase::kGetAvatars: {
      const bool apps = phase == Phase::kGetApps;
      if (sub == 0) {
        if (!u.boot_http->start("GET", apps ? "/" : "/avatars", "")) {
          u.fail_step(apps ? "get-apps" : "get-avatars", "e2ae", "request failed");
          return go(Phase::kHangup);
        }
        sub = 1;
      }
      u.boot_http->poll();
      if (!u.boot_http->done()) return;
      bool ok = u.boot_http->result() == 0 && u.boot_http->status() == 200;
      std::string detail = "GET " + std::string(apps ? "/" : "/avatars") + " " +
                           std::to_string(u.boot_http->status()) + ": ";
      bool listed = true;
      if (apps || !ok) {
        detail += u.boot_http->body().substr(0, 160);
      } else {
        // The avatar ID list (PROTOCOL_PROFILE.md section 5), parsed as the SDK does.
        auto list = avatar::parse_avatar_list(u.boot_http->body());
        if (!list) {
          ok = false;
          detail += std::string("avatar list: ") + list.status().message();
        } else {
          listed = false;
          detail += std::to_string(list->size()) + " avatar(s):";
          for (const auto& e : list.value()) {
            detail += " " + e.id + (e.name.empty() || e.name == e.id ? "" : " (" + e.name + ")");
            listed = listed || e.id == u.avatar_id;
          }
        }
      }
      u.events.emit(apps ? "get-apps" : "get-avatars", ok ? "ok" : "failed", "e2ae",
                    u.boot_http->ms(), detail);
      if (!ok) u.failed = true;
      if (ok && !listed)
        u.events.emit("get-avatars", "info", "-", 0,
                      u.avatar_id + " is not in this UE's list: presenting it anyway (the BAR "
                                    "must refuse it)");
      return go(apps ? Phase::kGetAvatars : Phase::kNetwork);
    }
    case Phase::kNetwork:
      if (sub == 0) {
        if (!pause_gate("the network-centric session")) return;
        if (!offer(avatar::Rendering::kNetwork, "network")) return go(Phase::kSending);
        if (!u.rep_open) {
          auto sid = u.boot->association()->open_channel(kRepLabel, "http");
          if (!sid) return u.fail_step("fetch", "e2ae", "cannot open the DC AS channel");
        }
        sub = 1;
      }
      if (sub == 1) {
        if (!negotiate(now)) return go(Phase::kSending);
        if (ctl->state() != State::kDone || !u.rep_open) return;
        auto t = attest(avatar::Rendering::kNetwork, nullptr);
        if (!t) {
          u.fail_step("attest", "-", t.status().message());
          return go(Phase::kSending);
        }
        u.events.emit("attest", "ok", "-", 0,
                      "network attestation for " + u.avatar_id + " signed by the device key");
        if (!u.rep->start("POST", "/avatar/network", t->jws)) {
          u.fail_step("fetch", "e2ae", "request failed");
          return go(Phase::kSending);
        }
        sub = 2;
      }
      u.rep->poll();
      if (!u.rep->done()) return;
      if (u.rep->result() == 0 && u.rep->status() == 200) {
        cJSON* j = cJSON_Parse(u.rep->body().c_str());
        const cJSON* bytes = cJSON_GetObjectItemCaseSensitive(j, "bytes");
        const cJSON* cty = cJSON_GetObjectItemCaseSensitive(j, "cty");
        u.events.emit("fetch", "ok", "e2ae", u.rep->ms(),
                      "network: the MF fetched with UE-A's attestation and renders it (" +
                          (cJSON_IsNumber(bytes)
                               ? std::to_string(static_cast<long long>(bytes->valuedouble))
                               : std::string("?")) +
                          " bytes " + (cJSON_IsString(cty) ? cty->valuestring : "") +
                          "); UE-A holds no key for it");
        cJSON_Delete(j);
        return go(Phase::kNetworkFrames);
      }
      u.events.emit("fetch", u.rep->result() == 0 ? "refused" : "failed", "e2ae", u.rep->ms(),
                    "network: " + std::to_string(u.rep->status()) + " " +
                        json_field(u.rep->body(), "error") + "; the call continues without avatar");
      return go(Phase::kSending);
    case Phase::kNetworkFrames:
      if (sub == 0) {
        auto sid = u.boot->association()->open_channel(avatar::kAnimationLabel,
                                                       avatar::kAnimationProtocol, false, 0u);
        if (!sid) {
          u.fail_step("frames-sent", "e2ae", "cannot open the animation channel");
          return go(Phase::kSending);
        }
        sent = 0;
        next_frame = 0;
        sub = 1;
      }
      if (!u.boot_anim_open) return;
      if (!send_frames(u.boot->association(), u.boot_anim_sid, now)) return;
      (void)u.boot->association()->close_channel(u.boot_anim_sid);
      u.events.emit("frames-sent", "ok", "e2ae", elapsed(now),
                    std::to_string(sent) + " frames to the MF (unordered, no retransmission)");
      return go(Phase::kSending);
    case Phase::kSending:
      if (sub == 0) {
        if (!pause_gate("the sending-UE-centric session")) return;
        if (!offer(avatar::Rendering::kSendingUe, "sending-ue")) return go(Phase::kReceiving);
        sub = 1;
      }
      if (sub == 1) {
        if (!negotiate(now)) return go(Phase::kReceiving);
        if (ctl->state() != State::kDone) return;
        auto k = avatar::EphemeralKey::generate(now_s());
        if (!k) return u.fail_step("attest", "-", k.status().message());
        u.key.emplace(std::move(k.value()));
        auto t = attest(avatar::Rendering::kSendingUe, &u.key->public_key());
        if (!t) {
          u.fail_step("attest", "-", t.status().message());
          return go(Phase::kReceiving);
        }
        u.events.emit("attest", "ok", "-", 0,
                      "sending-ue attestation for " + u.avatar_id + " with a fresh ephemeral key");
        if (Status s = u.start_fetch("sending-ue", t->jws, t->jti); !s.is_ok()) {
          u.fail_step("fetch", "e2ae", s.message());
          return go(Phase::kReceiving);
        }
        sub = 2;
      }
      {
        bool ok = false;
        if (!u.fetch_finished(t0, &ok)) return;
        return go(ok ? Phase::kSendingFrames : Phase::kReceiving);
      }
    case Phase::kSendingFrames:
    case Phase::kReceivingFrames: {
      const bool sending = phase == Phase::kSendingFrames;
      if (sub == 0) {
        sent = 0;
        next_frame = 0;
        sub = 1;
      }
      if (sub == 1) {
        if (!send_frames(u.app->association(), u.anim_sid, now)) return;
        u.events.emit("frames-sent", "ok", "e2e", elapsed(now),
                      std::to_string(sent) + " frames to UE-B (unordered, no retransmission)");
        frames_done_at = now;
        sub = 2;
      }
      // UE-B closes its count when the next session starts (or the call ends): give the
      // last frames time to arrive first.
      if (now < frames_done_at + 300) return;
      return go(sending ? Phase::kReceiving : Phase::kHangup);
    }
    case Phase::kReceiving:
      if (sub == 0) {
        if (!pause_gate("the receiving-UE-centric session")) return;
        if (!offer(avatar::Rendering::kReceivingUe, "receiving-ue")) return go(Phase::kHangup);
        sub = 1;
      }
      if (!negotiate(now)) return go(Phase::kHangup);
      if (sub == 1 && ctl->peer_key()) {
        u.events.emit("epk", "ok", "e2e", elapsed(now), "UE-B's ephemeral public key received");
        auto t = attest(avatar::Rendering::kReceivingUe, &*ctl->peer_key());
        if (!t) {
          u.fail_step("attest", "-", t.status().message());
          return go(Phase::kHangup);
        }
        u.events.emit("attest", "ok", "-", 0,
                      "receiving-ue attestation for " + u.avatar_id + " naming UE-B's key");
        auto m = ctl->send_attestation(t->jws);
        if (!m) {
          u.fail_step("attest", "e2e", m.status().message());
          return go(Phase::kHangup);
        }
        u.control(m.value());
        sub = 2;
      }
      if (ctl->state() == State::kDone) go(Phase::kReceivingFrames);
      return;
    case Phase::kHangup:
    case Phase::kDone:
      return;
    }
  }
};

// The callee's side: one avatar::ControlSession per render offer; the frames that arrived
// since the previous offer are counted when the next one comes (or the call ends).
struct Callee {
  std::optional<avatar::ControlSession> ctl;
  bool frames_expected = false;
  std::uint64_t fetch_started = 0;

  void close_frames(Ue& u) {
    if (!frames_expected) return;
    frames_expected = false;
    const auto& c = u.frames_rx.counters();
    // None at all: UE-A had no avatar to animate (its fetch was refused).
    u.events.emit("frames-received", c.delivered > 0 ? "ok" : "info", "e2e", 0,
                  std::to_string(c.delivered) + " frames delivered from UE-A (" +
                      std::to_string(c.stale) + " stale, " + std::to_string(c.too_old) +
                      " too old, " + std::to_string(c.malformed) + " malformed)");
    u.frames_rx = avatar::AnimationReceiver();
  }
  void send(Ue& u, const Result<std::string>& m) {
    if (m) u.control(m.value());
  }
  void turn(Ue& u, std::uint64_t now) {
    using State = avatar::ControlSession::State;
    while (!u.control_in.empty()) {
      if (!ctl || ctl->state() == State::kDone || ctl->state() == State::kFailed) {
        close_frames(u);
        ctl.emplace(avatar::ControlSession::Role::kReceiver);
      }
      const State before = ctl->state();
      if (before == State::kFetch && u.fetch) return; // the attestation is being fetched
      std::string m = std::move(u.control_in.front());
      u.control_in.pop_front();
      if (Status s = ctl->receive(m); !s.is_ok()) {
        u.fail_step("session", "e2e", std::string("avatar-control: ") + s.message());
        continue;
      }
      if (ctl->state() != State::kFetch) continue;
      const avatar::Rendering mode = ctl->mode();
      if (mode == avatar::Rendering::kReceivingUe && ctl->attestation().empty()) {
        auto k = avatar::EphemeralKey::generate(now_s());
        if (!k) {
          send(u, ctl->fail("internal"));
          continue;
        }
        u.key.emplace(std::move(k.value()));
        send(u, ctl->send_key(u.key->public_key()));
        u.events.emit("epk", "ok", "e2e", 0,
                      "ephemeral public key sent to UE-A (the private key stays in RAM)");
      } else if (mode == avatar::Rendering::kReceivingUe) {
        auto jti = avatar::receiving_attestation_jti(ctl->attestation(), u.key->public_key());
        if (!jti) {
          u.events.emit("fetch", "refused", "e2e", 0,
                        std::string("UE-A's attestation: ") + jti.status().message());
          send(u, ctl->fail("bad_attestation"));
          continue;
        }
        pending_jti = jti.value();
      } else {
        // network: the MF renders; sending-ue: UE-A fetches. Either way UE-B is ready.
        frames_expected = mode == avatar::Rendering::kSendingUe;
        send(u, ctl->ready());
      }
    }
    // receiving-ue: fetch once the DC AS channel is open, then ready or error.
    if (!pending_jti.empty()) {
      if (!u.rep_open) {
        if (!u.rep_opening) {
          u.rep_opening = u.boot->association()->open_channel(kRepLabel, "http").is_ok();
          if (!u.rep_opening) {
            u.fail_step("fetch", "e2ae", "cannot open the DC AS channel");
            send(u, ctl->fail("internal"));
            pending_jti.clear();
          }
        }
        return;
      }
      if (Status fs = u.start_fetch("receiving-ue", ctl->attestation(), pending_jti); !fs.is_ok()) {
        u.fail_step("fetch", "e2ae", fs.message());
        send(u, ctl->fail("internal"));
      }
      fetch_started = now;
      pending_jti.clear();
    }
    bool ok = false;
    if (u.fetch_finished(fetch_started, &ok)) {
      frames_expected = ok;
      send(u, ok ? ctl->ready() : ctl->fail("fetch_failed"));
    }
  }
  std::string pending_jti;
};

// Answers an offer with one association per data-channel m-line: each line answered by its
// own make_answer (AnswerConfig::data_channel_index) and the lines put together.
Result<std::string> answer_offer(Ue& u, const std::string& offer_text, sdp::Negotiated* boot_neg,
                                 sdp::Negotiated* app_neg) {
  auto offer = sdp::parse(offer_text);
  if (!offer) return offer.status();
  std::vector<std::size_t> dc_lines;
  for (std::size_t i = 0; i < offer->media.size(); ++i)
    if (offer->media[i].is_data_channel) dc_lines.push_back(i);
  if (dc_lines.size() != 2)
    return Status(Code::kUnsupported, Module::kCli,
                  "the demo UE expects a bootstrap and an application data-channel line");
  std::optional<sdp::Answer> answers[2];
  for (std::size_t k = 0; k < 2; ++k) {
    sdp::AnswerConfig ac;
    ac.data_channel_index = k;
    ac.local = k == 0 ? u.boot->local() : u.app->local();
    auto a = sdp::make_answer(offer.value(), ac, u.policy);
    if (!a) return a.status();
    answers[k].emplace(std::move(a.value()));
  }
  // Which line is the bootstrap line: the one whose channels are bootstrap streams.
  auto is_boot = [](const sdp::Negotiated& n) {
    for (const auto& c : n.channels)
      if (c.stream_id < sdp::kFirstAppStreamId) return true;
    return false;
  };
  std::size_t bk = is_boot(answers[0]->result) ? 0 : 1;
  if (!is_boot(answers[bk]->result))
    return Status(Code::kUnsupported, Module::kCli, "no bootstrap data-channel line");
  if (bk == 1) { // the endpoints' local fields went to the wrong lines: answer again swapped
    for (std::size_t k = 0; k < 2; ++k) {
      sdp::AnswerConfig ac;
      ac.data_channel_index = k;
      ac.local = k == 1 ? u.boot->local() : u.app->local();
      auto a = sdp::make_answer(offer.value(), ac, u.policy);
      if (!a) return a.status();
      answers[k].emplace(std::move(a.value()));
    }
  }
  sdp::SessionDescription merged = answers[0]->sdp;
  merged.media[dc_lines[1]] = answers[1]->sdp.media[dc_lines[1]];
  *boot_neg = answers[bk]->result;
  *app_neg = answers[1 - bk]->result;
  return sdp::generate(merged);
}

} // namespace

int cmd_avatar_call(int argc, char** argv) {
  Args a;
  std::vector<std::string> valued = {"--role",
                                     "--server",
                                     "--origin",
                                     "--ca",
                                     "--impu",
                                     "--impi",
                                     "--password-file",
                                     "--token-file",
                                     "--state",
                                     "--access-edge-ca",
                                     "--bind",
                                     "--events",
                                     "--out",
                                     "--timeout",
                                     "--keylog",
                                     "--to",
                                     "--avatar-id",
                                     "--dc-as",
                                     "--bar-id",
                                     "--frames",
                                     "--step-dir",
                                     "--third-party-id",
                                     "--third-party-token-file",
                                     "--trust",
                                     "--certs"};
  valued.insert(valued.end(), kKeystoreOptions.begin(), kKeystoreOptions.end());
  if (!a.parse(argc, argv, 1, {"--help"}, valued)) return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string role = a.get("--role");
  if (role != "caller" && role != "callee") return usage_error("--role caller|callee");
  Ue u;
  u.caller = role == "caller";
  if (u.caller)
    for (const char* o : {"--to", "--avatar-id", "--dc-as", "--bar-id"})
      if (!a.has(o)) return usage_error(std::string("the caller needs ") + o);
  if (a.has("--third-party-id") != a.has("--third-party-token-file"))
    return usage_error("--third-party-id and --third-party-token-file go together");
  const long timeout = std::strtol(a.get("--timeout", "120").c_str(), nullptr, 10);
  u.frames = static_cast<int>(std::strtol(a.get("--frames", "25").c_str(), nullptr, 10));
  if (timeout < 1 || u.frames < 1 || u.frames > 10000)
    return usage_error("--timeout > 0, --frames 1..10000");
  if (!u.events.open(a.get("--events"), u.caller ? "UE-A" : "UE-B"))
    return usage_error("cannot open --events");
  auto fail_event = [&](const Status& s, const std::string& what) {
    u.events.emit("exit", "failed", "-", 0, what + ": " + s.message());
    return fail(s, what);
  };
  u.avatar_id = a.get("--avatar-id");
  u.dc_as = a.get("--dc-as");
  u.bar_id = a.get("--bar-id");
  u.step_dir = a.get("--step-dir");
  u.policy.allowed_subprotocols = {avatar::kControlProtocol, avatar::kAnimationProtocol, "http"};
  auto keystore = open_keystore(a);
  if (!keystore) return fail_event(keystore.status(), "keystore");
  u.ks = keystore.value()->port();
  crypto::TrustStore edge;
  if (a.has("--access-edge-ca")) {
    auto pem = read_text(a.get("--access-edge-ca"));
    if (!pem) return fail_event(pem.status(), a.get("--access-edge-ca"));
    if (Status s = edge.add_pem(pem.value()); !s) return fail_event(s, "--access-edge-ca");
  }
  dc::Link::Config dcc;
  if (!labnet_binds(a, &dcc.binds)) return usage_error("--bind takes an IP address");
  dcc.keystore = u.ks;
  dcc.max_message = kMaxMessage;
  dcc.access_edge = a.has("--access-edge-ca") ? &edge : nullptr;
  u.keylog = a.get("--keylog");
  if (!u.keylog.empty()) {
    std::fprintf(stderr, "imsdc: WARNING: --keylog writes DTLS secrets to %s (debug only)\n",
                 u.keylog.c_str());
    dcc.key_log = append_key_log;
    dcc.key_log_ctx = &u.keylog;
  }
  for (auto* ep : {&u.boot, &u.app}) {
    dcc.name = ep == &u.boot ? "bootstrap" : "app";
    auto e = dc::Link::create(posix::net(), dcc);
    if (!e) return fail_event(e.status(), "data channel");
    *ep = std::move(e.value());
  }

  // The callee's caller-card verification (as imsdc answer --trust).
  crypto::TrustStore sti_roots;
  std::string cert_dir = a.get("--certs", ".");
  identity::VerifyConfig verify;
  if (a.has("--trust")) {
    auto pem = read_text(a.get("--trust"));
    if (!pem) return fail_event(pem.status(), a.get("--trust"));
    if (Status s = sti_roots.add_pem(pem.value()); !s) return fail_event(s, a.get("--trust"));
    verify.trust = &sti_roots;
    verify.fetcher = cert_dir_fetcher(&cert_dir);
  }

  SipStack sip;
  const std::string avatar_uri =
      u.caller ? "https://" + u.bar_id + "/avatars/" + u.avatar_id : std::string();
  if (Status s = sip.open(a, avatar_uri); !s.is_ok())
    return s == Code::kInvalidArgument ? usage_error(s.message()) : fail_event(s, "sip");
  if (verify.trust) sip.loop->set_verifier(&verify);
  // After the SIP state directory exists (the default --out is inside it).
  const std::string out_dir = a.get("--out", a.get("--state") + "/out");
  auto storage = posix::Storage::open(out_dir);
  if (!storage) return fail_event(storage.status(), out_dir);
  u.out = std::move(storage.value());
  (void)std::signal(SIGINT, on_signal);
  (void)std::signal(SIGTERM, on_signal);
  const std::uint64_t start = now_ms();
  const std::uint64_t give_up = start + static_cast<std::uint64_t>(timeout) * 1000;
  sip.loop->apply(sip.reg->start(start));
  const imsdc_port_net* net = posix::net();
  TokenFile third_party{a.get("--third-party-token-file")};

  Script script{&u};
  Callee callee;
  sip::CallId call = 0;
  bool registered = false, placed = false, answered = false, ended = false, shutting = false;
  bool call_ok = false;
  std::uint64_t invite_at = 0, shutdown_at = 0;
  int apps_state = 0; // the callee's GET /: 0 not sent, 1 in flight, 2 done
  std::string offer_text;
  std::optional<sdp::SessionDescription> offer_model;

  while (!sip.reg->finished()) {
    const std::uint64_t now = now_ms();
    if (!registered && sip.loop->registered()) {
      registered = true;
      u.events.emit("register", "ok", "sip", now - start,
                    a.get("--impu") +
                        (a.has("--token-file") ? " (token from the WWSF)" : " (IMS digest)"));
    }
    if (sip.loop->has_error() && !shutting) {
      u.fail_step("register", "sip", sip.loop->error().status.message());
      break;
    }
    const bool over = ended || g_stop || now >= give_up;
    if (over && !shutting) {
      shutting = true;
      shutdown_at = now;
      if (!ended && call) {
        sip::CallOutput out;
        (void)sip.calls->hangup(call, now, &out);
        sip.loop->apply(std::move(out));
      }
      if (!ended) u.fail_step("call", "sip", g_stop ? "stopped" : "timeout");
      u.closing = true;
      u.boot->close();
      u.app->close();
      sip.loop->apply(sip.reg->shutdown(now));
    }
    if (shutting && now >= shutdown_at + 10000) break;

    // The caller places the call once registered.
    if (u.caller && registered && !placed && script.pause_gate("the call")) {
      sdp::OfferConfig oc;
      oc.local = u.app->local();
      oc.bootstrap_local = u.boot->local();
      auto offer = sdp::make_offer(oc);
      auto text = offer ? sdp::generate(offer.value()) : Result<std::string>(offer.status());
      if (!text) return fail_event(text.status(), "offer");
      offer_model = std::move(offer.value());
      sip::OutgoingCall spec;
      spec.to = a.get("--to");
      spec.sdp = text.value();
      spec.preferred_identity = a.get("--third-party-id");
      if (a.has("--third-party-token-file")) {
        spec.third_party_token = sip::TokenProvider{TokenFile::get, &third_party};
        spec.preemptive_token = true;
      }
      sip::CallOutput out;
      auto id = sip.calls->invite(spec, now, &out);
      if (!id) return fail_event(id.status(), "INVITE");
      call = id.value();
      placed = true;
      invite_at = now;
      sip.loop->apply(std::move(out));
    }
    for (const sip::CallEvent& e : sip.loop->take_call_events()) {
      sip::CallOutput out;
      if (e.kind == sip::CallEventKind::kIncoming && !u.caller && call == 0) {
        call = e.call;
        u.avatar_id = e.avatar_uri.substr(e.avatar_uri.rfind('/') + 1);
        std::string from = e.asserted_identity.empty() ? e.from : e.asserted_identity;
        u.events.emit("incoming", "ok", "sip", 0,
                      "from " + from +
                          (e.avatar_uri.empty() ? std::string()
                                                : ", avatar " + e.avatar_uri + " (unverified)"));
        if (verify.trust) {
          // What UE-B's application shows: every card field with its own status.
          bool verified = false;
          const std::string card = sip.loop->card(e.call);
          std::printf("caller card: %s\n", card.c_str()); // the whole card, in the log
          const std::string shown = card_summary(card, &verified);
          u.events.emit("caller-card", verified ? "ok" : "refused", "sip", 0, shown);
        }
        sdp::Negotiated bn, an;
        auto ans = answer_offer(u, e.sdp, &bn, &an);
        if (!ans) {
          u.fail_step("call", "sip", std::string("offer: ") + ans.status().message());
          (void)sip.calls->reject(call, 488, now, &out);
        } else {
          (void)sip.calls->ring(call, "", now, &out);
          (void)sip.calls->answer(call, ans.value(), now, &out);
          Status s1 = u.boot->start(bn, false, &u.policy, &u, now);
          Status s2 = u.app->start(an, false, &u.policy, &u, now);
          if (!s1.is_ok()) u.fail_step("bootstrap", "e2ae", s1.message());
          if (!s2.is_ok()) u.fail_step("app-channel", "e2e", s2.message());
        }
      } else if (e.call != call) {
        continue;
      } else if (e.kind == sip::CallEventKind::kAnswered && u.caller) {
        answered = true;
        u.events.emit("call", "ok", "sip", now - invite_at,
                      "answered; " + a.get("--to") + " via the MF (B2BUA)");
        auto ans = sdp::parse(e.sdp);
        Result<sdp::Negotiated> bn = ans ? sdp::apply_answer(*offer_model, ans.value(), nullptr, 0)
                                         : Result<sdp::Negotiated>(ans.status());
        Result<sdp::Negotiated> an = ans ? sdp::apply_answer(*offer_model, ans.value(), nullptr, 1)
                                         : Result<sdp::Negotiated>(ans.status());
        Status s1 = bn ? u.boot->start(bn.value(), true, &u.policy, &u, now) : bn.status();
        Status s2 = an ? u.app->start(an.value(), true, &u.policy, &u, now) : an.status();
        if (!s1.is_ok()) u.fail_step("bootstrap", "e2ae", s1.message());
        if (!s2.is_ok()) u.fail_step("app-channel", "e2e", s2.message());
        script.go(Phase::kWaitChannels);
      } else if (e.kind == sip::CallEventKind::kConfirmed) {
        answered = true;
      } else if (e.kind == sip::CallEventKind::kEnded) {
        ended = true;
        if (!u.caller) callee.close_frames(u);
        call_ok = answered &&
                  (e.end == sip::EndReason::kLocalHangup || e.end == sip::EndReason::kRemoteHangup);
        u.events.emit("ended", call_ok ? "ok" : "failed", "sip", 0,
                      std::string(end_name(e.end)) +
                          (e.sip_status ? " SIP " + std::to_string(e.sip_status) : ""));
        if (!call_ok) u.failed = true;
      }
      sip.loop->apply(std::move(out));
    }

    // Data channels, then the scenario.
    std::vector<imsdc_port_udp*> handles;
    std::uint64_t next = now + 20;
    for (dc::Link* ep : {u.boot.get(), u.app.get()}) {
      ep->service(now);
      ep->add_handles(&handles);
      next = std::min(next, ep->next_deadline());
    }
    if (u.boot_http) u.boot_http->poll();
    if (u.caller && answered && !ended) {
      script.step(now);
      if (script.phase == Phase::kHangup && script.pause_gate("hanging up")) {
        sip::CallOutput out;
        (void)sip.calls->hangup(call, now, &out);
        sip.loop->apply(std::move(out));
        u.events.emit("hangup", "ok", "sip", 0, "UE-A hangs up (BYE)");
        script.phase = Phase::kDone;
      }
    } else if (!u.caller && call && !ended) {
      callee.turn(u, now);
      // The callee reads the application list once its bootstrap channel is up.
      if (apps_state == 0 && u.boot_up && u.boot_http) {
        apps_state = u.boot_http->start("GET", "/", "") ? 1 : 2;
        if (apps_state == 2) u.fail_step("get-apps", "e2ae", "request failed");
      } else if (apps_state == 1 && u.boot_http->done()) {
        apps_state = 2;
        const bool ok = u.boot_http->result() == 0 && u.boot_http->status() == 200;
        u.events.emit("get-apps", ok ? "ok" : "failed", "e2ae", u.boot_http->ms(),
                      "GET / " + std::to_string(u.boot_http->status()) + ": " +
                          u.boot_http->body().substr(0, 160));
        if (!ok) u.failed = true;
      }
    }
    sip.loop->step(0);
    const std::uint64_t now2 = now_ms();
    const bool busy = u.fetch.has_value();
    const std::uint32_t wait =
        busy          ? 1
        : next > now2 ? static_cast<std::uint32_t>(std::min<std::uint64_t>(next - now2, 20))
                      : 0;
    if (net->wait) (void)net->wait(net->ctx, handles.data(), handles.size(), wait);
  }
  for (int i = 0; i < 10; ++i)
    (void)sip.transport->port()->poll(sip.transport->port()->ctx, 20);
  const bool reg_ok = registered && !sip.loop->has_error();
  u.events.emit("deregister", reg_ok ? "ok" : "failed", "sip", 0, a.get("--impu"));
  const bool ok = reg_ok && call_ok && !u.failed;
  u.events.emit("exit", ok ? "ok" : "failed", "-", now_ms() - start,
                ok ? "the call went through" : "see the events above");
  return ok ? 0 : 1;
}

#else

int cmd_avatar_call(int, char**) {
  return fail(Status(Code::kUnsupported, Module::kCli,
                     "this imsdc was built without libwebsockets: avatar-call is not available"));
}

#endif

} // namespace imsdc::cli
