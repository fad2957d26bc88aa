// imsdc register: SIP registration over secure WebSocket (PROTOCOL_PROFILE.md section 1),
// the sans-I/O sip::Registration driven by the libwebsockets WssTransport from one loop.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"

#if defined(IMSDC_CLI_WITH_LWS)
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"
#include "imsdc/transport_lws.h"
#include "sip/registration.h"
#endif

namespace imsdc::cli {

#if defined(IMSDC_CLI_WITH_LWS)
namespace {

constexpr const char* kHelp =
    "usage: imsdc register --server wss://HOST:PORT --origin URL --impu URI [--impi ID]\n"
    "                      (--password-file F | --token-file F [--token-file F2]...) --ca F\n"
    "                      [--expires N] [--hold SECONDS] [--state DIR] [--backoff-max S]\n"
    "                      [--timeout S] [--json]\n"
    "\n"
    "Registers URI with the eP-CSCF over WSS (subprotocol sip), prints each state change,\n"
    "stays registered for --hold seconds (default 0), then de-registers (Expires: 0).\n"
    "Digest (--password-file, username --impi, default the IMPU without 'sip:') or Bearer\n"
    "(--token-file; a third-party identity registers with its own token the same way).\n"
    "Each token request reads the next --token-file given (the last one is re-read for every\n"
    "later request), so '--token-file expired --token-file fresh' exercises the one refresh\n"
    "after error=\"invalid_token\". The +sip.instance UUID is kept in --state DIR (default\n"
    "$HOME/.imsdc). A lost connection is re-established with exponential backoff (1 s up to\n"
    "--backoff-max, default 30 s) and the UE registers again. --timeout (default 120) bounds\n"
    "the time spent before the hold starts.\n"
    "exit: 0 registered and de-registered, 5 authentication rejected, 6 TLS, 7 network,\n"
    "      8 refused (WebSocket upgrade refused, other SIP rejection)\n";

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

struct TokenFiles {
  std::vector<std::string> files;
  std::size_t requests = 0;
  static Status get(void* ctx, bool fresh, SecretBytes* out) {
    (void)fresh; // every request reads a file: nothing is cached
    auto* t = static_cast<TokenFiles*>(ctx);
    std::size_t i = std::min(t->requests, t->files.size() - 1);
    t->requests += 1;
    auto s = read_secret(t->files[i]);
    if (!s) return s.status();
    *out = std::move(s.value());
    return Status::ok();
  }
};

struct TransportEvent {
  enum Kind { kOpen, kMessage, kClose } kind = kOpen;
  std::string data;
  int reason = 0;
  int http_status = 0;
  std::string detail;
};

struct Queue {
  std::vector<TransportEvent> events;
  static void on_open(void* user) {
    static_cast<Queue*>(user)->events.push_back(
        TransportEvent{TransportEvent::kOpen, {}, 0, 0, {}});
  }
  static void on_message(void* user, const std::uint8_t* data, std::size_t len) {
    TransportEvent e;
    e.kind = TransportEvent::kMessage;
    e.data.assign(reinterpret_cast<const char*>(data), len);
    static_cast<Queue*>(user)->events.push_back(std::move(e));
  }
  static void on_close(void* user, int reason, int http_status, const char* detail) {
    TransportEvent e;
    e.kind = TransportEvent::kClose;
    e.reason = reason;
    e.http_status = http_status;
    if (detail) e.detail = detail;
    static_cast<Queue*>(user)->events.push_back(std::move(e));
  }
};

std::uint64_t now_ms() {
  return imsdc_port_clock_monotonic_ms();
}

class Runner {
public:
  Runner(sip::Registration* reg, const imsdc_msg_transport* port, imsdc_msg_transport_options opts,
         bool json)
      : reg_(reg), port_(port), opts_(opts), json_(json) {
    events_.user = &queue_;
    events_.on_open = Queue::on_open;
    events_.on_message = Queue::on_message;
    events_.on_close = Queue::on_close;
  }

  void apply(sip::RegistrationOutput out) {
    if (out.transport == sip::TransportAction::kConnect) {
      print_state("connecting", "");
      int rc = port_->connect(port_->ctx, &opts_, &events_);
      if (rc < 0) Queue::on_close(&queue_, IMSDC_TRANSPORT_CLOSED_NETWORK, 0, "connect failed");
    }
    for (auto& m : out.send)
      pending_.push_back(std::move(m));
    flush();
    if (out.transport == sip::TransportAction::kClose) port_->close(port_->ctx);
    for (const auto& e : out.events)
      report(e);
  }

  void flush() {
    while (!pending_.empty()) {
      const std::string& m = pending_.front();
      int rc = port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
      if (rc == 0) return; // queue full: again after the next poll
      if (rc > 0) ++sent_;
      pending_.erase(pending_.begin());
    }
  }

  // Services the transport for up to wait_ms and feeds its events to the registration.
  void step(std::uint32_t wait_ms) {
    (void)port_->poll(port_->ctx, wait_ms);
    std::vector<TransportEvent> events;
    events.swap(queue_.events);
    for (const auto& e : events) {
      std::uint64_t now = now_ms();
      if (e.kind == TransportEvent::kOpen) {
        print_state("connected", "");
        apply(reg_->on_transport_open(now));
      } else if (e.kind == TransportEvent::kMessage) {
        apply(reg_->on_message(ByteSpan(e.data), now));
      } else {
        pending_.clear();
        closed_detail_ = e.detail;
        print_state("closed", e.detail);
        apply(reg_->on_transport_closed(e.reason, e.http_status, now));
      }
    }
    flush();
    apply(reg_->poll(now_ms()));
  }

  bool registered_once() const { return registered_once_; }
  // Requests sent until the first registration: each is one network round trip.
  int round_trips() const { return round_trips_; }
  bool has_error() const { return has_error_; }
  const sip::RegistrationEvent& error() const { return error_; }
  const std::string& closed_detail() const { return closed_detail_; }

  void print_state(const char* state, const std::string& detail) {
    if (json_)
      std::printf("{\"state\":\"%s\",\"detail\":\"%s\"}\n", state, json_escape(detail).c_str());
    else
      std::printf("%s%s%s\n", state, detail.empty() ? "" : " ", detail.c_str());
    std::fflush(stdout);
  }

private:
  void report(const sip::RegistrationEvent& e) {
    std::string inst = "urn:uuid:" + reg_->instance_uuid();
    if (e.kind == sip::RegistrationEventKind::kRegistered) {
      if (!registered_once_) round_trips_ = sent_;
      registered_once_ = true;
      if (json_)
        std::printf("{\"state\":\"registered\",\"expires\":%u,\"contact\":\"%s\",\"pub_gruu\":"
                    "\"%s\",\"temp_gruu\":\"%s\",\"flow_timer\":%u,\"instance\":\"%s\","
                    "\"round_trips\":%d}\n",
                    e.expires_s, json_escape(e.contact).c_str(), json_escape(e.pub_gruu).c_str(),
                    json_escape(e.temp_gruu).c_str(), e.flow_timer_s, inst.c_str(), round_trips_);
      else
        std::printf("registered expires=%u instance=%s gruu=%s contact=%s round_trips=%d\n",
                    e.expires_s, inst.c_str(), e.pub_gruu.empty() ? "-" : e.pub_gruu.c_str(),
                    e.contact.c_str(), round_trips_);
    } else if (e.kind == sip::RegistrationEventKind::kUnregistered) {
      const char* why =
          e.reason == sip::UnregisterReason::kShutdown ? "shutdown" : "connection-lost";
      if (json_)
        std::printf("{\"state\":\"unregistered\",\"reason\":\"%s\"}\n", why);
      else
        std::printf("unregistered reason=%s\n", why);
    } else {
      has_error_ = true;
      error_ = e;
      if (json_)
        std::printf("{\"state\":\"error\",\"code\":\"%s\",\"sip_status\":%d,\"http_status\":%d,"
                    "\"reason\":\"%s\"}\n",
                    e.status.name(), e.sip_status, e.http_status,
                    json_escape(e.sip_reason).c_str());
      else
        std::printf("error code=%s sip_status=%d http_status=%d reason=%s\n", e.status.name(),
                    e.sip_status, e.http_status, e.sip_reason.c_str());
    }
    std::fflush(stdout);
  }

  sip::Registration* reg_;
  const imsdc_msg_transport* port_;
  imsdc_msg_transport_options opts_;
  imsdc_msg_transport_events events_{};
  Queue queue_;
  std::vector<std::string> pending_;
  bool json_;
  bool registered_once_ = false;
  int sent_ = 0;
  int round_trips_ = 0;
  bool has_error_ = false;
  sip::RegistrationEvent error_;
  std::string closed_detail_;
};

bool parse_seconds(const std::string& v, long max, long* out) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || !end || *end || n < 0 || n > max) return false;
  *out = n;
  return true;
}

} // namespace

int run_register(int argc, char** argv, int* round_trips) {
  Args a;
  if (!a.parse(argc, argv, 1, {"--json", "--help"},
               {"--server", "--origin", "--impu", "--impi", "--password-file", "--token-file",
                "--ca", "--expires", "--hold", "--state", "--backoff-max", "--timeout"}))
    return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  for (const char* req : {"--server", "--origin", "--impu", "--ca"})
    if (!a.has(req)) return usage_error(std::string("register needs ") + req);
  if (a.has("--password-file") == a.has("--token-file"))
    return usage_error("register needs exactly one of --password-file and --token-file");
  long expires = 600, hold = 0, backoff_max = 30, timeout = 120;
  if ((a.has("--expires") && !parse_seconds(a.get("--expires"), 0x7fffffff, &expires)) ||
      expires == 0)
    return usage_error("--expires takes seconds > 0");
  if (a.has("--hold") && !parse_seconds(a.get("--hold"), 86400 * 365, &hold))
    return usage_error("--hold takes seconds");
  if ((a.has("--backoff-max") && !parse_seconds(a.get("--backoff-max"), 3600, &backoff_max)) ||
      backoff_max < 1)
    return usage_error("--backoff-max takes seconds >= 1");
  if ((a.has("--timeout") && !parse_seconds(a.get("--timeout"), 86400, &timeout)) || timeout < 1)
    return usage_error("--timeout takes seconds >= 1");

  std::string state_dir = a.get("--state");
  if (state_dir.empty()) {
    const char* home = std::getenv("HOME");
    state_dir = home && *home ? std::string(home) + "/.imsdc" : std::string("/tmp/imsdc-state");
  }
  auto storage = posix::Storage::open(state_dir);
  if (!storage) return fail(storage.status(), state_dir);

  TokenFiles tokens;
  sip::RegistrationConfig cfg;
  cfg.impu = a.get("--impu");
  cfg.impi = a.get("--impi");
  cfg.expires_s = static_cast<std::uint32_t>(expires);
  cfg.backoff_max_ms = static_cast<std::uint64_t>(backoff_max) * 1000;
  cfg.backoff_initial_ms = std::min<std::uint64_t>(1000, cfg.backoff_max_ms);
  cfg.random = sip::RandomSource{fill_random, nullptr};
  cfg.storage = storage.value()->port();
  if (a.has("--password-file")) {
    auto pw = read_secret(a.get("--password-file"));
    if (!pw) return fail(pw.status(), a.get("--password-file"));
    cfg.credential = sip::CredentialKind::kDigest;
    cfg.password = std::move(pw.value());
  } else {
    tokens.files = a.all("--token-file");
    cfg.credential = sip::CredentialKind::kBearer;
    cfg.token_provider = sip::TokenProvider{TokenFiles::get, &tokens};
  }
  auto reg = sip::Registration::create(std::move(cfg));
  if (!reg) {
    if (reg.status() == Code::kInvalidArgument) return usage_error(reg.status().message());
    return fail(reg.status(), "registration");
  }
  auto transport = transport::WssTransport::create();
  if (!transport) return fail(transport.status(), "transport");

  std::string server = a.get("--server"), origin = a.get("--origin"), ca = a.get("--ca");
  imsdc_msg_transport_options opts{};
  opts.url = server.c_str();
  opts.origin = origin.c_str();
  opts.subprotocol = "sip";
  opts.ca_file = ca.c_str();
  opts.connect_timeout_ms = 10000;
  // Keepalive by WebSocket ping (PROTOCOL_PROFILE.md section 1), more often than the
  // Flow-Timer proxies grant (Kamailio's outbound default is 25 s) so the flow never lapses.
  opts.ping_interval_ms = 20000;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Runner run(&reg.value(), transport.value()->port(), opts, a.has("--json"));
  run.print_state("instance", "urn:uuid:" + reg->instance_uuid());
  std::uint64_t start = now_ms();
  std::uint64_t end_by = start + static_cast<std::uint64_t>(timeout) * 1000;
  std::uint64_t hold_until = sip::kNoDeadline;
  std::uint64_t shutdown_at = sip::kNoDeadline;
  run.apply(reg->start(start));
  while (!reg->finished()) {
    std::uint64_t now = now_ms();
    if (run.registered_once() && hold_until == sip::kNoDeadline)
      hold_until = now + static_cast<std::uint64_t>(hold) * 1000;
    bool stop = g_stop || now >= hold_until || (!run.registered_once() && now >= end_by);
    if (stop && shutdown_at == sip::kNoDeadline) {
      shutdown_at = now;
      run.apply(reg->shutdown(now));
      continue;
    }
    // The de-registration is bounded too: its transaction times out after 32 s at most.
    if (shutdown_at != sip::kNoDeadline && now >= shutdown_at + 40000) break;
    std::uint64_t wake = std::min({reg->deadline_ms(), hold_until, end_by});
    std::uint64_t wait = wake > now ? std::min<std::uint64_t>(wake - now, 200) : 0;
    run.step(static_cast<std::uint32_t>(wait));
  }
  // Let the transport finish its close (close frame, TLS close_notify); bounded.
  for (int i = 0; i < 10; ++i)
    (void)transport.value()->port()->poll(transport.value()->port()->ctx, 50);

  if (run.has_error()) {
    const sip::RegistrationEvent& e = run.error();
    std::string context;
    if (e.sip_status)
      context = "SIP " + std::to_string(e.sip_status) + " " + e.sip_reason;
    else if (e.http_status)
      context = "WebSocket upgrade answered HTTP " + std::to_string(e.http_status);
    else if (!run.closed_detail().empty())
      context = run.closed_detail();
    return fail(e.status, context);
  }
  if (!run.registered_once())
    return fail(Status(Code::kNetwork, Module::kCli, "not registered before the timeout"));
  if (round_trips) *round_trips = run.round_trips();
  return 0;
}

int cmd_register(int argc, char** argv) {
  return run_register(argc, argv, nullptr);
}

#else

int run_register(int, char**, int*) {
  return fail(Status(Code::kUnsupported, Module::kCli,
                     "this imsdc was built without libwebsockets: register is not available"));
}

int cmd_register(int argc, char** argv) {
  return run_register(argc, argv, nullptr);
}

#endif

} // namespace imsdc::cli
