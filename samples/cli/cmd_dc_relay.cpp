// imsdc dc relay: the DC application server's relay of PROTOCOL_PROFILE.md section 7 on a
// network-role data channel. The UE sends `POST /avatar/representation` (its attestation,
// application/jwt) on the channel; the relay requests the BAR over mutual TLS with its own
// certificate (whose identity the BAR compares with the attestation's dc_as) and streams the
// BAR's answer (the JWE, or its error) back on the channel as it arrives. It never holds
// the whole answer: what the channel cannot take yet waits in a queue bounded by
// kMaxQueued; beyond that the exchange is aborted and the channel closed, so the UE stores
// nothing. The relay cannot read the JWE (the key is the UE's ephemeral one).
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "dc/bootstrap_http.h"
#include "dc_link.h"
#include "imsdc/config_defaults.h"
#include "imsdc/port/os.h"
#ifdef IMSDC_CLI_WITH_LWS
#include "imsdc/transport_lws.h"
#endif

namespace imsdc::cli {
namespace {

constexpr const char* kRelayUsage =
    "usage: imsdc dc relay --sdp-in FILE --sdp-out FILE --bar URL --ca F\n"
    "                      (--key F --cert F | --dir D) [--bind ADDR]... [--timeout S]\n"
    "The DC AS relay (PROTOCOL_PROFILE section 7): answers the UE's data-channel offer (as\n"
    "imsdc dc peer --role answer does; the certificate is also its DTLS certificate), accepts\n"
    "the channel 'avatar-representation' (protocol 'http') and relays each\n"
    "POST /avatar/representation to URL/avatar/representation over mutual TLS with that\n"
    "certificate (trusting --ca), streaming the answer back. Ends when the UE closes the\n"
    "channel, on SIGTERM or at --timeout (default 120 s).\n";

constexpr const char* kLabel = "avatar-representation";
constexpr const char* kProtocol = "http";
constexpr const char* kPath = "/avatar/representation";
constexpr std::size_t kMessage = 16384;          // answer messages
constexpr std::size_t kMaxQueued = 32u << 20;    // bytes waiting for the channel
constexpr std::uint64_t kMaxAnswer = 1ull << 34; // the UE bounds what it accepts itself

#ifdef IMSDC_CLI_WITH_LWS
class Relay : public DcApp {
public:
  Relay(std::string bar_url, std::string ca, std::string cert, std::string key,
        std::unique_ptr<transport::HttpsClient> http)
      : bar_url_(std::move(bar_url)), ca_(std::move(ca)), cert_(std::move(cert)),
        key_(std::move(key)), http_(std::move(http)) {}

  const char* label() const override { return kLabel; }
  const char* protocol() const override { return kProtocol; }
  void on_open(dc::Association& assoc, std::uint16_t sid) override {
    assoc_ = &assoc;
    sid_ = sid;
  }
  void on_message(ByteSpan data, bool) override {
    if (busy_) return answer_local(429, "busy", "one request at a time");
    Result<dc::HttpRequest> r = dc::parse_request(data.as_string(), IMSDC_MAX_JWS_SIZE);
    if (!r.is_ok())
      return answer_local(r.status() == Code::kUnsupported ? 405
                          : r.status() == Code::kTooLarge  ? 413
                                                           : 400,
                          "malformed", r.status().message());
    if (r->method != "POST") return answer_local(405, "malformed", "only POST");
    if (r->path != kPath) return answer_local(404, "not_found", "unknown path");
    if (r->content_type != "application/jwt")
      return answer_local(415, "malformed", "the body must be application/jwt");
    body_ = std::move(r->body);
    url_ = bar_url_ + kPath;
    imsdc_http_request req{};
    req.method = "POST";
    req.url = url_.c_str();
    req.content_type = "application/jwt";
    req.body = reinterpret_cast<const std::uint8_t*>(body_.data());
    req.body_len = body_.size();
    req.ca_file = ca_.c_str();
    req.client_cert_file = cert_.c_str();
    req.client_key_file = key_.c_str();
    req.max_body = kMaxAnswer;
    req.timeout_ms = 60000;
    imsdc_http_events ev{};
    ev.user = this;
    ev.on_response = on_response;
    ev.on_body = on_body;
    ev.on_done = on_done;
    head_sent_ = false;
    chunked_ = false;
    started_ms_ = imsdc_port_clock_monotonic_ms();
    relayed_ = 0;
    const imsdc_http_client* c = http_->port();
    if (c->request(c->ctx, &req, &ev) != IMSDC_PORT_OK)
      return answer_local(502, "bar_unreachable", "the request to the BAR could not start");
    busy_ = true;
    std::fprintf(stderr, "imsdc: relay: POST %s -> %s\n", kPath, url_.c_str());
  }
  void on_writable() override { flush(); }
  void on_closed() override {
    closed_ = true;
    if (busy_) http_->port()->cancel(http_->port()->ctx);
    busy_ = false;
    finished_ = true;
  }
  std::uint32_t poll(std::uint64_t) override {
    if (busy_) (void)http_->port()->poll(http_->port()->ctx, 0);
    flush();
    // While the BAR answers, come back soon: its socket is not among the loop's.
    return busy_ && queued_ < kMaxQueued / 2 ? 1 : 50;
  }
  bool finished(Status* result) const override {
    if (finished_) *result = result_;
    return finished_;
  }

private:
  static void on_response(void* u, int status, const char* type, std::int64_t length) {
    auto* self = static_cast<Relay*>(u);
    std::vector<dc::HttpHeader> h;
    if (type != nullptr && *type != '\0') h.push_back({"Content-Type", type});
    self->chunked_ = length < 0;
    Result<std::string> head = dc::build_response_head(status, "BAR", h, length);
    if (!head.is_ok()) return self->abort("bad head from the BAR");
    self->status_ = status;
    self->head_sent_ = true;
    self->pending_ = std::move(head.value());
  }
  static int on_body(void* u, const std::uint8_t* d, std::size_t n) {
    auto* self = static_cast<Relay*>(u);
    if (self->closed_) return -1;
    self->relayed_ += n;
    if (self->chunked_) {
      char size[24];
      (void)std::snprintf(size, sizeof size, "%zx\r\n", n);
      self->pending_.append(size);
    }
    self->pending_.append(reinterpret_cast<const char*>(d), n);
    if (self->chunked_) self->pending_.append("\r\n");
    self->cut(false);
    if (self->queued_ > kMaxQueued) {
      self->abort("the UE does not take the answer fast enough");
      return -1;
    }
    return 0;
  }
  static void on_done(void* u, int result) {
    auto* self = static_cast<Relay*>(u);
    self->busy_ = false;
    if (self->closed_) return;
    if (result != 0) {
      // Before the head: the UE gets a 502; after it, only closing the channel is honest.
      if (!self->head_sent_)
        return self->answer_local(502, "bar_unreachable", "BAR exchange failed");
      return self->abort("the BAR's answer broke off");
    }
    if (self->chunked_) self->pending_.append("0\r\n\r\n");
    self->cut(true);
    std::fprintf(
        stderr, "imsdc: relay: BAR answered %d, %llu bytes relayed in %llu ms\n", self->status_,
        static_cast<unsigned long long>(self->relayed_),
        static_cast<unsigned long long>(imsdc_port_clock_monotonic_ms() - self->started_ms_));
    self->flush();
  }
  // Moves pending_ into kMessage-sized messages (all of it when `all`).
  void cut(bool all) {
    while (pending_.size() >= kMessage || (all && !pending_.empty())) {
      const std::size_t n = std::min(kMessage, pending_.size());
      queue_.emplace_back(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      queued_ += n;
      pending_.erase(0, n);
    }
  }
  // send() may call on_buffered_low, which flushes: no re-entry.
  void flush() {
    if (flushing_) return;
    flushing_ = true;
    flush_once();
    flushing_ = false;
  }
  void flush_once() {
    while (assoc_ != nullptr && !closed_ && !queue_.empty()) {
      Status s = assoc_->send(sid_, ByteSpan(queue_.front()), true);
      if (s == Code::kWouldBlock) return;
      if (!s.is_ok()) return abort("send on the channel failed");
      queued_ -= queue_.front().size();
      queue_.pop_front();
    }
  }
  void answer_local(int status, const char* code, const char* detail) {
    std::fprintf(stderr, "imsdc: relay: answered %d %s (%s)\n", status, code, detail);
    const std::string body =
        std::string("{\"error\":\"") + code + "\",\"detail\":\"" + json_escape(detail) + "\"}";
    auto msgs = dc::build_response(status, "relay", {{"Content-Type", "application/json"}},
                                   ByteSpan(std::string_view(body)), kMessage);
    if (!msgs.is_ok()) return;
    for (Bytes& m : msgs.value()) {
      queued_ += m.size();
      queue_.push_back(std::move(m));
    }
    flush();
  }
  void abort(const char* why) {
    std::fprintf(stderr, "imsdc: relay: aborted: %s\n", why);
    queue_.clear();
    pending_.clear();
    queued_ = 0;
    if (busy_) http_->port()->cancel(http_->port()->ctx);
    busy_ = false;
    if (assoc_ != nullptr && !closed_) (void)assoc_->close_channel(sid_);
    closed_ = true;
    finished_ = true;
    result_ = Status(Code::kNetwork, Module::kCli, why);
  }

  std::string bar_url_, ca_, cert_, key_;
  std::unique_ptr<transport::HttpsClient> http_;
  dc::Association* assoc_ = nullptr;
  std::uint16_t sid_ = 0;
  std::string body_, url_, pending_;
  std::deque<Bytes> queue_;
  std::size_t queued_ = 0;
  std::uint64_t relayed_ = 0, started_ms_ = 0;
  int status_ = 0;
  bool flushing_ = false, busy_ = false, head_sent_ = false, chunked_ = false, closed_ = false,
       finished_ = false;
  Status result_;
};
#endif

} // namespace

int cmd_dc_relay(int argc, char** argv) {
  Args a;
  std::vector<std::string> valued = {"--sdp-in", "--sdp-out", "--bar",
                                     "--ca",     "--bind",    "--timeout"};
  valued.insert(valued.end(), kKeystoreOptions.begin(), kKeystoreOptions.end());
  if (!a.parse(argc, argv, 2, {"--help", "--no-ice"}, valued)) return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kRelayUsage, stdout);
    return 0;
  }
#ifndef IMSDC_CLI_WITH_LWS
  return usage_error("this imsdc is built without HTTPS");
#else
  for (const char* o : {"--sdp-in", "--sdp-out", "--bar", "--ca"})
    if (!a.has(o)) return usage_error(std::string("dc relay needs ") + o);
  std::string cert = a.get("--cert");
  std::string key = a.get("--key");
  if (a.has("--dir")) {
    key = a.get("--dir") + "/device-key.pem";
    cert = a.get("--dir") + "/device-cert.pem";
  }
  if (cert.empty() || key.empty())
    return usage_error("the relay's TLS identity is a PEM pair: --key F --cert F or --dir D");
  std::string bar = a.get("--bar");
  while (!bar.empty() && bar.back() == '/')
    bar.pop_back();
  auto http = transport::HttpsClient::create();
  if (!http.is_ok()) return fail(http.status(), "HTTPS client");
  Relay relay(bar, a.get("--ca"), cert, key, std::move(http.value()));
  LinkParams p;
  p.offerer = false;
  p.sdp_in = a.get("--sdp-in");
  p.sdp_out = a.get("--sdp-out");
  p.timeout_s = std::strtol(a.get("--timeout", "120").c_str(), nullptr, 10);
  return run_dc_link(a, p, &relay);
#endif
}

} // namespace imsdc::cli
