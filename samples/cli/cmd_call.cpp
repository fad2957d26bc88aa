// imsdc call / imsdc answer: SIP calls over the registration's secure WebSocket
// (PROTOCOL_PROFILE.md section 2). One loop drives the libwebsockets WssTransport, the
// sans-I/O sip::Registration and the sans-I/O sip::CallAgent; every message the transport
// delivers goes to both (each ignores what is not its own). With --trust, the callee verifies
// each incoming INVITE's Identity header (PROTOCOL_PROFILE.md section 10) and hands the caller
// card to the application with the incoming-call event.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#if defined(IMSDC_CLI_WITH_LWS)
#include "sip_loop.h"
#endif

#if defined(IMSDC_CLI_WITH_LWS)
#include "cert_dir.h"
#include "identity/identity.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"
#include "imsdc/transport_lws.h"
#include "sip/call.h"
#include "sip/message.h"
#include "sip/registration.h"
#endif

namespace imsdc::cli {

#if defined(IMSDC_CLI_WITH_LWS)
namespace {

constexpr const char* kCommonHelp =
    "  --server wss://HOST:PORT --origin URL --impu URI [--impi ID] --ca F\n"
    "  (--password-file F | --token-file F)   credentials, as for imsdc register\n"
    "  [--state DIR] [--sdp F] [--avatar-id ID [--bar HOST]] [--avatar-header NAME]\n"
    "  [--session-expires S] [--min-se S] [--no-100rel] [--reg-event] [--timeout S] [--json]\n";

constexpr const char* kCallHelp =
    "usage: imsdc call <common options> --to URI [--hold SECONDS] [--update-sdp F]\n"
    "                  [--reinvite-sdp F] [--cancel-after SECONDS] [--mmtel]\n"
    "                  [--third-party-id URI --third-party-token-file F [--preemptive]]\n"
    "                  [--privacy]\n"
    "Registers, calls URI with the SDP offer of --sdp (a built-in audio offer without it),\n"
    "PRACKs a reliable 18x, sends --update-sdp in an UPDATE once the 18x is PRACKed,\n"
    "--reinvite-sdp in a re-INVITE once answered, holds for --hold seconds (session-timer\n"
    "refreshes keep it up), hangs up (BYE), de-registers. --cancel-after cancels the call if\n"
    "it is not answered by then. Third-party identity: P-Preferred-Identity URI, the token\n"
    "read from the file as Proxy-Authorization: Bearer after a 407 (or at once with\n"
    "--preemptive); --privacy adds Privacy: id. --avatar-id puts\n"
    "Call-Info: <https://BAR/avatars/ID>;purpose=avatar on the INVITE (BAR default\n"
    "bar.ims.example).\n"
    "options common to call and answer:\n";

constexpr const char* kAnswerHelp =
    "usage: imsdc answer <common options> [--ring SECONDS] [--reanswer-sdp F]\n"
    "                    [--reject CODE] [--trust ROOTS.pem [--certs DIR]]\n"
    "Registers and waits (up to --timeout, default 120 s) for one call: prints what arrived\n"
    "(the headers the application sees, the SDP offer, the caller's avatar reference, marked\n"
    "unverified), rings (180, reliable when the caller supports 100rel, with the answer of\n"
    "--sdp), answers after --ring seconds (default 0), answers later offers (UPDATE,\n"
    "re-INVITE) with --reanswer-sdp (else --sdp), and hangs up when the caller does;\n"
    "then de-registers. --reject CODE refuses the call instead. With --trust, the INVITE's\n"
    "Identity header (PASSporT) and verstat are verified as by imsdc identity verify (STI\n"
    "roots ROOTS.pem, x5u certificates read from DIR by the URL's last path segment, default\n"
    "the current directory; no network fetch) and the incoming event carries the caller card\n"
    "(\"caller_card\", every field with its own status). The verdict never stops the call.\n"
    "options common to call and answer:\n";

constexpr const char* kDefaultSdp = "v=0\r\n"
                                    "o=imsdc 1 1 IN IP4 127.0.0.1\r\n"
                                    "s=-\r\n"
                                    "c=IN IP4 127.0.0.1\r\n"
                                    "t=0 0\r\n"
                                    "m=audio 49170 RTP/AVP 96\r\n"
                                    "a=rtpmap:96 AMR-WB/16000/1\r\n";

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

bool parse_seconds(const std::string& v, long max, long* out) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || !end || *end || n < 0 || n > max) return false;
  *out = n;
  return true;
}

struct Answerer {
  std::string sdp;
  static Status answer(void* ctx, sip::CallId, ByteSpan, std::string* out) {
    *out = static_cast<Answerer*>(ctx)->sdp;
    return Status::ok();
  }
};

int run(int argc, char** argv, bool caller) {
  Args a;
  if (!a.parse(argc, argv, 1,
               {"--json", "--help", "--no-100rel", "--reg-event", "--mmtel", "--preemptive",
                "--privacy"},
               {"--server",
                "--origin",
                "--impu",
                "--impi",
                "--password-file",
                "--token-file",
                "--ca",
                "--state",
                "--sdp",
                "--avatar-id",
                "--bar",
                "--avatar-header",
                "--session-expires",
                "--min-se",
                "--timeout",
                "--to",
                "--hold",
                "--update-sdp",
                "--reinvite-sdp",
                "--cancel-after",
                "--third-party-id",
                "--third-party-token-file",
                "--ring",
                "--reanswer-sdp",
                "--reject",
                "--trust",
                "--certs"}))
    return usage_error(a.error());
  if (a.has("--help")) {
    (void)std::fputs(caller ? kCallHelp : kAnswerHelp, stdout);
    (void)std::fputs(kCommonHelp, stdout);
    return 0;
  }
  for (const char* req : {"--server", "--origin", "--impu", "--ca"})
    if (!a.has(req)) return usage_error(std::string(caller ? "call" : "answer") + " needs " + req);
  if (caller && !a.has("--to")) return usage_error("call needs --to");
  if (a.has("--password-file") == a.has("--token-file"))
    return usage_error("need exactly one of --password-file and --token-file");
  if (a.has("--third-party-id") != a.has("--third-party-token-file"))
    return usage_error("--third-party-id and --third-party-token-file go together");
  long timeout = 120, hold = 0, ring = 0, se = 0, min_se = 0, cancel_after = -1, reject = 0;
  struct {
    const char* name;
    long max;
    long* value;
  } nums[] = {{"--timeout", 86400, &timeout}, {"--hold", 86400, &hold},
              {"--ring", 3600, &ring},        {"--session-expires", 86400, &se},
              {"--min-se", 86400, &min_se},   {"--cancel-after", 3600, &cancel_after},
              {"--reject", 699, &reject}};
  for (auto& n : nums)
    if (a.has(n.name) && !parse_seconds(a.get(n.name), n.max, n.value))
      return usage_error(std::string(n.name) + " takes a number");
  if (a.has("--reject") && reject < 300) return usage_error("--reject takes a 3xx-6xx code");
  if (caller && (a.has("--trust") || a.has("--certs")))
    return usage_error("--trust and --certs are answer options");
  if (a.has("--certs") && !a.has("--trust")) return usage_error("--certs needs --trust");
  // The callee's caller-card verification (same meaning as imsdc identity verify).
  crypto::TrustStore sti_roots;
  std::string cert_dir = a.get("--certs", ".");
  identity::VerifyConfig verify;
  if (a.has("--trust")) {
    auto pem = read_text(a.get("--trust"));
    if (!pem) return fail(pem.status(), a.get("--trust"));
    Status s = sti_roots.add_pem(pem.value());
    if (!s) return fail(s, a.get("--trust"));
    verify.trust = &sti_roots;
    verify.fetcher = cert_dir_fetcher(&cert_dir);
  }

  auto read_sdp = [&](const char* opt, std::string* out) -> int {
    if (!a.has(opt)) return 0;
    auto t = read_text(a.get(opt), IMSDC_MAX_SDP_SIZE);
    if (!t) return fail(t.status(), a.get(opt));
    *out = std::move(t.value());
    return 0;
  };
  std::string sdp = kDefaultSdp, update_sdp, reinvite_sdp, reanswer_sdp;
  if (int rc = read_sdp("--sdp", &sdp)) return rc;
  if (int rc = read_sdp("--update-sdp", &update_sdp)) return rc;
  if (int rc = read_sdp("--reinvite-sdp", &reinvite_sdp)) return rc;
  if (int rc = read_sdp("--reanswer-sdp", &reanswer_sdp)) return rc;

  std::string state_dir = a.get("--state");
  if (state_dir.empty()) {
    const char* home = std::getenv("HOME");
    state_dir = home && *home ? std::string(home) + "/.imsdc" : std::string("/tmp/imsdc-state");
  }
  auto storage = posix::Storage::open(state_dir);
  if (!storage) return fail(storage.status(), state_dir);

  TokenFile reg_token{a.get("--token-file")};
  sip::RegistrationConfig rc;
  rc.impu = a.get("--impu");
  rc.impi = a.get("--impi");
  rc.random = sip::RandomSource{fill_random, nullptr};
  rc.storage = storage.value()->port();
  rc.subscribe_reg_event = a.has("--reg-event");
  if (a.has("--password-file")) {
    auto pw = read_secret(a.get("--password-file"));
    if (!pw) return fail(pw.status(), a.get("--password-file"));
    rc.password = std::move(pw.value());
  } else {
    rc.credential = sip::CredentialKind::kBearer;
    rc.token_provider = sip::TokenProvider{TokenFile::get, &reg_token};
  }
  auto reg = sip::Registration::create(std::move(rc));
  if (!reg)
    return reg.status() == Code::kInvalidArgument ? usage_error(reg.status().message())
                                                  : fail(reg.status(), "registration");

  Answerer answerer{reanswer_sdp.empty() ? sdp : reanswer_sdp};
  sip::CallConfig cc;
  cc.impu = a.get("--impu");
  cc.contact_uri = reg->contact_uri();
  cc.via_host = reg->via_host();
  cc.random = sip::RandomSource{fill_random, nullptr};
  cc.use_100rel = !a.has("--no-100rel");
  if (a.has("--min-se")) cc.min_se_s = static_cast<std::uint32_t>(min_se);
  if (a.has("--session-expires")) cc.session_expires_s = static_cast<std::uint32_t>(se);
  if (a.has("--avatar-header")) cc.avatar_header = a.get("--avatar-header");
  if (a.has("--avatar-id"))
    cc.avatar_uri =
        "https://" + a.get("--bar", "bar.ims.example") + "/avatars/" + a.get("--avatar-id");
  cc.answerer = sip::OfferAnswerer{Answerer::answer, &answerer};
  auto calls = sip::CallAgent::create(std::move(cc));
  if (!calls) return usage_error(calls.status().message());

  auto transport = transport::WssTransport::create();
  if (!transport) return fail(transport.status(), "transport");
  std::string server = a.get("--server"), origin = a.get("--origin"), ca = a.get("--ca");
  imsdc_msg_transport_options opts{};
  opts.url = server.c_str();
  opts.origin = origin.c_str();
  opts.subprotocol = "sip";
  opts.ca_file = ca.c_str();
  opts.connect_timeout_ms = 10000;
  opts.ping_interval_ms = 20000;

  (void)std::signal(SIGINT, on_signal);
  (void)std::signal(SIGTERM, on_signal);
  Loop loop(&reg.value(), &calls.value(), transport.value()->port(), opts, a.has("--json"));
  if (verify.trust) loop.set_verifier(&verify);
  std::uint64_t start = now_ms();
  std::uint64_t give_up = start + static_cast<std::uint64_t>(timeout) * 1000;
  loop.apply(reg->start(start));

  TokenFile third_party{a.get("--third-party-token-file")};
  sip::CallId id = 0;
  bool placed = false, answered = false, ended = false, update_sent = false, reinvited = false;
  bool hung_up = false;
  std::uint64_t answer_at = sip::kNoDeadline, hangup_at = sip::kNoDeadline;
  std::uint64_t cancel_at = sip::kNoDeadline;
  int exit_code = 0;
  Status call_status = Status::ok();
  std::string call_context;
  std::uint64_t shutdown_at = sip::kNoDeadline;

  while (!reg->finished()) {
    std::uint64_t now = now_ms();
    bool stop = g_stop || ended || (!answered && now >= give_up && !placed) ||
                (placed && !answered && now >= give_up);
    if (stop && shutdown_at == sip::kNoDeadline) {
      if (id && !ended) {
        sip::CallOutput out;
        (void)calls->hangup(id, now, &out);
        loop.apply(std::move(out));
      }
      if (!ended && !answered && now >= give_up && call_status.is_ok()) {
        call_status = Status(Code::kTimeout, Module::kCli, "no call before the timeout");
      }
      shutdown_at = now;
      loop.apply(reg->shutdown(now));
      continue;
    }
    if (shutdown_at != sip::kNoDeadline && now >= shutdown_at + 40000) break;

    if (caller && loop.registered() && !placed) {
      sip::OutgoingCall spec;
      spec.to = a.get("--to");
      spec.sdp = sdp;
      spec.mmtel = a.has("--mmtel");
      spec.preferred_identity = a.get("--third-party-id");
      if (a.has("--third-party-token-file"))
        spec.third_party_token = sip::TokenProvider{TokenFile::get, &third_party};
      spec.preemptive_token = a.has("--preemptive");
      spec.privacy_id = a.has("--privacy");
      sip::CallOutput out;
      auto r = calls->invite(spec, now, &out);
      if (!r) return fail(r.status(), "INVITE");
      id = r.value();
      placed = true;
      if (cancel_after >= 0) cancel_at = now + static_cast<std::uint64_t>(cancel_after) * 1000;
      loop.apply(std::move(out));
    }
    for (const sip::CallEvent& e : loop.take_call_events()) {
      sip::CallOutput out;
      if (e.kind == sip::CallEventKind::kIncoming && !caller && id == 0) {
        id = e.call;
        placed = true;
        if (reject) {
          (void)calls->reject(id, static_cast<int>(reject), now, &out);
        } else {
          (void)calls->ring(id, sdp, now, &out);
          answer_at = now + static_cast<std::uint64_t>(ring) * 1000;
        }
      } else if (e.call != id) {
        continue;
      } else if (e.kind == sip::CallEventKind::kProgress && !update_sent && !update_sdp.empty() &&
                 !e.sdp.empty()) {
        update_sent = true;
        (void)calls->update(id, update_sdp, now, &out);
      } else if (e.kind == sip::CallEventKind::kAnswered) {
        answered = true;
        hangup_at = now + static_cast<std::uint64_t>(hold) * 1000;
        if (!reinvite_sdp.empty() && !reinvited) {
          reinvited = true;
          (void)calls->reinvite(id, reinvite_sdp, now, &out);
        }
      } else if (e.kind == sip::CallEventKind::kConfirmed) {
        answered = true;
      } else if (e.kind == sip::CallEventKind::kEnded) {
        ended = true;
        bool ok = e.end == sip::EndReason::kLocalHangup || e.end == sip::EndReason::kRemoteHangup ||
                  (e.end == sip::EndReason::kCancelled && (cancel_after >= 0 || !caller));
        if (!ok) {
          call_status =
              e.status.is_ok() ? Status(Code::kRejected, Module::kCli, "call failed") : e.status;
          call_context = std::string("call ") + end_name(e.end) +
                         (e.sip_status ? " SIP " + std::to_string(e.sip_status) + " " + e.reason
                                       : std::string());
        }
        if (!caller && reject) call_status = Status::ok();
      }
      loop.apply(std::move(out));
    }
    if (!caller && answer_at != sip::kNoDeadline && now >= answer_at) {
      answer_at = sip::kNoDeadline;
      sip::CallOutput out;
      Status s = calls->answer(id, sdp, now, &out);
      if (!s) return fail(s, "answer");
      loop.apply(std::move(out));
    }
    if (caller && !hung_up && ((answered && now >= hangup_at) || (!answered && now >= cancel_at))) {
      hung_up = true;
      sip::CallOutput out;
      (void)calls->hangup(id, now, &out);
      loop.apply(std::move(out));
    }
    std::uint64_t wake = std::min({loop.deadline(), give_up, answer_at, hangup_at, cancel_at});
    std::uint64_t wait = wake > now ? std::min<std::uint64_t>(wake - now, 100) : 0;
    loop.step(static_cast<std::uint32_t>(wait));
  }
  for (int i = 0; i < 10; ++i)
    (void)transport.value()->port()->poll(transport.value()->port()->ctx, 50);

  if (loop.has_error()) {
    const sip::RegistrationEvent& e = loop.error();
    return fail(e.status, e.sip_status ? "SIP " + std::to_string(e.sip_status) + " " + e.sip_reason
                                       : std::string("registration"));
  }
  if (!call_status.is_ok()) return fail(call_status, call_context);
  if (!placed)
    return fail(Status(Code::kNetwork, Module::kCli, "not registered before the timeout"));
  return exit_code;
}

} // namespace

int cmd_call(int argc, char** argv) {
  return run(argc, argv, true);
}
int cmd_answer(int argc, char** argv) {
  return run(argc, argv, false);
}

#else

int cmd_call(int, char**) {
  return fail(Status(Code::kUnsupported, Module::kCli,
                     "this imsdc was built without libwebsockets: call is not available"));
}
int cmd_answer(int, char**) {
  return fail(Status(Code::kUnsupported, Module::kCli,
                     "this imsdc was built without libwebsockets: answer is not available"));
}

#endif

} // namespace imsdc::cli
