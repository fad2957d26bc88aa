// The DC application server's relay of PROTOCOL_PROFILE.md section 7 on one network-role data
// channel ('avatar-representation', protocol http), used by imsdc dc relay and imsdc mf.
//
// POST /avatar/representation (the UE's attestation, application/jwt): the relay requests
// the BAR over mutual TLS with its own certificate (whose identity the BAR compares with the
// attestation's dc_as) and streams the BAR's answer (the JWE, or its error) back on the
// channel as it arrives. It never holds the whole answer: what the channel cannot take yet
// waits in a queue bounded by kMaxQueued; beyond that the exchange is aborted and the channel
// closed, so the UE stores nothing. The relay cannot read the JWE (the key is the UE's).
//
// POST /avatar/network (only with Options::network; TR 33.790 sol. #6 network-centric
// rendering): the media function asks the BAR itself with the UE's attestation (rendering
// "network": the BAR answers the clear representation to the DC AS only), consumes it (size
// and SHA-256: what a renderer would load) and answers the UE with a JSON summary, or with the
// BAR's refusal.
//
// Options::tamper (labnet fault injection for the demo's negative run): one base64url
// character three quarters into each relayed answer is changed, as an attacker on the path
// would; the UE's decryption must refuse it.
#ifndef IMSDC_CLI_DC_RELAY_H
#define IMSDC_CLI_DC_RELAY_H

#ifdef IMSDC_CLI_WITH_LWS

#include <mbedtls/sha256.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "dc/bootstrap_http.h"
#include "dc_link.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/port/os.h"
#include "imsdc/transport_lws.h"

namespace imsdc::cli {

// One finished exchange of the Relay: "relay" or "network-fetch", the BAR's status (0: none),
// the body bytes, the milliseconds, a short detail (the BAR's error, or the digest).
using RelayReportFn = void (*)(void* ctx, const char* kind, int status, std::uint64_t bytes,
                               std::uint64_t ms, const std::string& detail);
struct RelayOptions {
  bool network = false; // also serve POST /avatar/network (imsdc mf)
  bool tamper = false;  // labnet fault injection (see above)
  RelayReportFn report = nullptr;
  void* report_ctx = nullptr;
};

class Relay : public DcApp {
public:
  static constexpr const char* kLabel = "avatar-representation";
  static constexpr const char* kProtocol = "http";
  static constexpr const char* kPath = "/avatar/representation";
  static constexpr const char* kNetworkPath = "/avatar/network";
  static constexpr std::size_t kMessage = 16384;          // answer messages
  static constexpr std::size_t kMaxQueued = 32u << 20;    // bytes waiting for the channel
  static constexpr std::uint64_t kMaxAnswer = 1ull << 34; // the UE bounds what it accepts
  static constexpr std::size_t kMaxErrorBody = 4096;

  using ReportFn = RelayReportFn;
  using Options = RelayOptions;

  Relay(std::string bar_url, std::string ca, std::string cert, std::string key,
        std::unique_ptr<transport::HttpsClient> http, Options options = {})
      : bar_url_(std::move(bar_url)), ca_(std::move(ca)), cert_(std::move(cert)),
        key_(std::move(key)), http_(std::move(http)), options_(options) {}
  ~Relay() override {
    if (busy_) http_->port()->cancel(http_->port()->ctx);
  }

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
    network_ = options_.network && r->path == kNetworkPath;
    if (r->path != kPath && !network_) return answer_local(404, "not_found", "unknown path");
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
    length_ = -1;
    tampered_ = false;
    error_body_.clear();
    if (network_) {
      mbedtls_sha256_init(&sha_);
      (void)mbedtls_sha256_starts_ret(&sha_, 0);
    }
    const imsdc_http_client* c = http_->port();
    if (c->request(c->ctx, &req, &ev) != IMSDC_PORT_OK)
      return answer_local(502, "bar_unreachable", "the request to the BAR could not start");
    busy_ = true;
    std::fprintf(stderr, "imsdc: relay: POST %s -> %s\n", r->path.c_str(), url_.c_str());
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
  bool busy() const { return busy_; }

private:
  static void on_response(void* u, int status, const char* type, std::int64_t length) {
    auto* self = static_cast<Relay*>(u);
    self->status_ = status;
    self->type_ = type != nullptr ? type : "";
    self->length_ = length;
    if (self->network_) return; // the media function consumes the answer itself
    std::vector<dc::HttpHeader> h;
    if (type != nullptr && *type != '\0') h.push_back({"Content-Type", type});
    self->chunked_ = length < 0;
    Result<std::string> head = dc::build_response_head(status, "BAR", h, length);
    if (!head.is_ok()) return self->abort("bad head from the BAR");
    self->head_sent_ = true;
    self->pending_ = std::move(head.value());
  }
  static int on_body(void* u, const std::uint8_t* d, std::size_t n) {
    auto* self = static_cast<Relay*>(u);
    if (self->closed_) return -1;
    const std::uint64_t before = self->relayed_;
    self->relayed_ += n;
    if (self->network_) {
      if (self->status_ == 200) {
        (void)mbedtls_sha256_update_ret(&self->sha_, d, n);
      } else if (self->error_body_.size() < kMaxErrorBody) {
        self->error_body_.append(reinterpret_cast<const char*>(d),
                                 std::min(n, kMaxErrorBody - self->error_body_.size()));
      }
      return 0;
    }
    if (self->chunked_) {
      char size[24];
      (void)std::snprintf(size, sizeof size, "%zx\r\n", n);
      self->pending_.append(size);
    }
    const std::size_t at = self->pending_.size();
    self->pending_.append(reinterpret_cast<const char*>(d), n);
    if (self->options_.tamper && self->status_ == 200 && !self->tampered_ && self->length_ > 0) {
      const std::uint64_t target = static_cast<std::uint64_t>(self->length_) * 3 / 4;
      if (target >= before && target < before + n) {
        char& c = self->pending_[at + static_cast<std::size_t>(target - before)];
        c = c == 'A' ? 'B' : 'A'; // still base64url: only the tag can tell
        self->tampered_ = true;
        std::fprintf(stderr, "imsdc: relay: TAMPERED byte %llu of the BAR's answer (test)\n",
                     static_cast<unsigned long long>(target));
      }
    }
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
    const std::uint64_t ms = imsdc_port_clock_monotonic_ms() - self->started_ms_;
    if (self->network_) return self->network_done(result, ms);
    if (result != 0) {
      self->report("relay", 0, 0, ms, "BAR exchange failed");
      // Before the head: the UE gets a 502; after it, only closing the channel is honest.
      if (!self->head_sent_)
        return self->answer_local(502, "bar_unreachable", "BAR exchange failed");
      return self->abort("the BAR's answer broke off");
    }
    if (self->chunked_) self->pending_.append("0\r\n\r\n");
    self->cut(true);
    std::fprintf(stderr, "imsdc: relay: BAR answered %d, %llu bytes relayed in %llu ms\n",
                 self->status_, static_cast<unsigned long long>(self->relayed_),
                 static_cast<unsigned long long>(ms));
    self->report("relay", self->status_, self->relayed_, ms,
                 self->tampered_ ? "answer tampered in flight (test)" : "");
    self->flush();
  }
  void network_done(int result, std::uint64_t ms) {
    std::uint8_t digest[32];
    (void)mbedtls_sha256_finish_ret(&sha_, digest);
    mbedtls_sha256_free(&sha_);
    if (result != 0) {
      report("network-fetch", 0, 0, ms, "BAR exchange failed");
      return answer_local(502, "bar_unreachable", "BAR exchange failed");
    }
    if (status_ != 200) {
      report("network-fetch", status_, 0, ms, error_body_);
      auto msgs = dc::build_response(status_, "BAR", {{"Content-Type", "application/json"}},
                                     ByteSpan(std::string_view(error_body_)), kMessage);
      if (msgs.is_ok())
        for (Bytes& m : msgs.value())
          enqueue(std::move(m));
      return flush();
    }
    const std::string hex = hex_encode(ByteSpan(digest, sizeof digest));
    report("network-fetch", 200, relayed_, ms, type_ + " sha256 " + hex.substr(0, 16));
    const std::string body = "{\"rendered\":true,\"bytes\":" + std::to_string(relayed_) +
                             ",\"cty\":\"" + json_escape(type_) + "\",\"sha256\":\"" + hex + "\"}";
    auto msgs = dc::build_response(200, "OK", {{"Content-Type", "application/json"}},
                                   ByteSpan(std::string_view(body)), kMessage);
    if (msgs.is_ok())
      for (Bytes& m : msgs.value())
        enqueue(std::move(m));
    flush();
  }
  void report(const char* kind, int status, std::uint64_t bytes, std::uint64_t ms,
              const std::string& detail) {
    if (options_.report != nullptr)
      options_.report(options_.report_ctx, kind, status, bytes, ms, detail);
  }
  void enqueue(Bytes m) {
    queued_ += m.size();
    queue_.push_back(std::move(m));
  }
  // Moves pending_ into kMessage-sized messages (all of it when `all`).
  void cut(bool all) {
    while (pending_.size() >= kMessage || (all && !pending_.empty())) {
      const std::size_t n = std::min(kMessage, pending_.size());
      enqueue(Bytes(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n)));
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
    for (Bytes& m : msgs.value())
      enqueue(std::move(m));
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
  Options options_;
  dc::Association* assoc_ = nullptr;
  std::uint16_t sid_ = 0;
  std::string body_, url_, pending_, type_, error_body_;
  std::deque<Bytes> queue_;
  std::size_t queued_ = 0;
  std::uint64_t relayed_ = 0, started_ms_ = 0;
  std::int64_t length_ = -1;
  int status_ = 0;
  mbedtls_sha256_context sha_{};
  bool flushing_ = false, busy_ = false, head_sent_ = false, chunked_ = false, closed_ = false,
       finished_ = false, network_ = false, tampered_ = false;
  Status result_;
};

} // namespace imsdc::cli

#endif // IMSDC_CLI_WITH_LWS
#endif // IMSDC_CLI_DC_RELAY_H
