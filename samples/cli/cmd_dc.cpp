// imsdc dc peer: one IMS data-channel endpoint over real UDP (PROTOCOL_PROFILE.md section
// 11): SDP offer/answer through files or stdin/stdout, ICE host checks (or --no-ice), then
// DTLS + SCTP over the selected pair, one in-band channel, messages sent, echoed, verified.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "dc/association.h"
#include "dc/bootstrap_http.h"
#include "dc/link.h"
#include "dc_link.h"
#include "ice/agent.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

namespace imsdc::cli {
namespace {

constexpr const char* kPeerUsage =
    "usage: imsdc dc peer --role offer|answer --sdp-in FILE|- --sdp-out FILE|-\n"
    "         [--bind ADDR]... [--no-ice] [--key F --cert F | --dir D] [--echo]\n"
    "         [--send TEXT]... [--send-count N --send-size BYTES[,BYTES...]] [--expect-echo]\n"
    "         [--serve DIR | --get PATH... [--get-out F]] [--timeout S] [--linger S]\n"
    "An offerer writes its offer (with host candidates) to --sdp-out, then reads the answer\n"
    "from --sdp-in; an answerer reads the offer, then writes the answer. A file is read once\n"
    "it exists (write it atomically, e.g. by rename); a FIFO or '-' is read to EOF. ICE\n"
    "selects a pair, DTLS (fingerprint from the SDP) and SCTP follow, and the offerer opens\n"
    "the in-band channel 'imsdc-peer' (DCEP), which the answerer accepts. --send and\n"
    "--send-count messages go out on it in order; with --expect-echo the command exits 0\n"
    "only when every one came back intact and in order. --echo returns every message on\n"
    "every channel with the same PPID (not the --expect-echo channel: what arrives there is\n"
    "the peer's echo). Without --key/--cert a self-signed certificate is\n"
    "made. Ends on SIGTERM, --timeout (default 30 s) or when the association closes; after a\n"
    "successful run --linger keeps it up (echoing) S more seconds before closing.\n"
    "Bootstrap channel 0 (HTTP, PROTOCOL_PROFILE section 5): --serve DIR answers GET requests\n"
    "from DIR ('/' is index.html; ETag, 304 on If-None-Match; 16 KiB messages); --get PATH\n"
    "(repeatable) fetches each in turn through an ETag cache and prints status and size,\n"
    "--get-out writes the last body; the offerer finishes when every GET is answered.\n"
    "imsdc dc relay --help describes the DC AS relay (the answer side of avatar fetch).\n";

constexpr const char* kChannel = "imsdc-peer";
constexpr std::uint32_t kMaxMessage = 262144;
constexpr std::size_t kMaxEchoQueue = 16u << 20;
volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

// Blocks until the SDP is complete: stdin or a FIFO to EOF, a regular file once it exists.
Result<std::string> read_sdp(const std::string& path, std::uint64_t deadline_ms) {
  if (path == "-") {
    std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return s;
  }
  while (access(path.c_str(), R_OK) != 0) {
    if (g_stop || imsdc_port_clock_monotonic_ms() >= deadline_ms)
      return Status(Code::kTimeout, Module::kCli, "no SDP arrived");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return read_text(path, IMSDC_MAX_SDP_SIZE);
}

Status write_sdp(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return Status::ok();
  }
  return write_file(path, ByteSpan(std::string_view(text)));
}

// The deterministic content of message `seq` of `size` bytes (the sequence in the first 4).
Bytes pattern(std::uint32_t seq, std::size_t size) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i)
    b[i] = i < 4 ? static_cast<std::uint8_t>(seq >> (24 - 8 * i))
                 : static_cast<std::uint8_t>(seq * 31 + i * 7);
  return b;
}

// The device key of dc peer and sdp offer: the keystore options (--key/--cert, --dir,
// --pkcs11), or a fresh self-signed certificate; and the SHA-256 of its leaf certificate.
struct DeviceKey {
  std::unique_ptr<DeviceKeystore> device;
  std::unique_ptr<crypto::MemoryKeystore> generated;
  const imsdc_port_keystore* ks = nullptr;
  crypto::Digest leaf_sha256{};

  Status open(const Args& a, const char* cn) {
    if (a.has("--key") || a.has("--dir") || a.has("--pkcs11")) {
      auto d = open_keystore(a);
      if (!d.is_ok()) return d.status();
      device = std::move(d.value());
      ks = device->port();
    } else {
      auto key = crypto::EcPrivateKey::generate();
      if (!key.is_ok()) return key.status();
      generated = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
      auto der = crypto::make_self_signed_cert(*generated->port(), cn, "", now_s(), 1);
      if (!der.is_ok()) return der.status();
      IMSDC_TRY(generated->set_chain({der.value()}));
      ks = generated->port();
    }
    Bytes leaf(8192);
    std::size_t leaf_len = 0;
    if (!ks->cert_chain || ks->cert_chain(ks->ctx, 0, leaf.data(), leaf.size(), &leaf_len) != 0)
      return Status(Code::kNotFound, Module::kCli, "no device certificate");
    leaf.resize(leaf_len);
    leaf_sha256 = crypto::sha256(ByteSpan(leaf));
    return Status::ok();
  }
};

struct Outgoing {
  Bytes data;
  bool binary = true;
};

struct Echo {
  std::uint16_t sid = 0;
  Outgoing msg;
};

struct Peer : dc::Link::Handler {
  FILE* ev = stdout;
  DcApp* app = nullptr;         // owns the channel when set (dc_link.h)
  const char* label = kChannel; // the in-band channel's label and protocol
  const char* protocol = kChannel;
  bool offerer = false;
  bool echo = false;
  bool expect_echo = false;
  dc::Association* assoc = nullptr; // the link's, once started
  std::deque<Outgoing> to_send;     // not yet accepted by the association
  std::deque<Outgoing> expected;    // sent, echo not yet back
  std::deque<Echo> echoes;          // received, to be sent back in order
  std::size_t echo_bytes = 0;
  std::uint16_t channel = 0;
  bool channel_open = false;
  bool channel_closed = false;
  bool was_open = false;
  bool done = false;
  std::size_t received = 0, sent = 0;

  // Bootstrap channel 0 (PROTOCOL_PROFILE.md section 5): --serve answers GETs from a
  // directory; --get fetches paths in turn through an ETag cache.
  std::string serve_dir;
  std::deque<std::string> gets;
  bool had_gets = false;
  bool get_inflight = false;
  bool boot_open = false;
  std::string get_out;
  dc::HttpResponseParser http;
  dc::HttpCache cache;

  void start_get() {
    if (get_inflight || gets.empty() || !boot_open || done) return;
    Result<std::string> req = cache.request(gets.front(), "imsdc-peer");
    if (!req.is_ok()) return finish(req.status());
    http.reset();
    get_inflight = true;
    Status s = assoc->send(0, ByteSpan(req.value()), false);
    if (!s.is_ok()) finish(s);
  }
  void on_http(ByteSpan d) {
    if (Status s = http.feed(d); !s.is_ok()) return finish(s);
    if (!http.complete()) return;
    const int status = http.response().status;
    const std::string* etag_header = http.response().header("ETag");
    const std::string etag = etag_header ? *etag_header : std::string();
    const std::string path = gets.front();
    Result<Bytes> body = cache.take(path, http.take());
    if (!body.is_ok()) return finish(body.status());
    std::fprintf(ev, "GET %s: %d, %zu bytes%s%s\n", path.c_str(), status, body->size(),
                 etag.empty() ? "" : ", etag ", etag.c_str());
    if (!get_out.empty()) {
      if (Status s = write_file(get_out, ByteSpan(body.value())); !s.is_ok()) return finish(s);
    }
    gets.pop_front();
    get_inflight = false;
    start_get();
    pump();
  }
  void serve(ByteSpan d) {
    Result<dc::HttpRequest> g = dc::parse_request(d.as_string());
    int status = 200;
    Bytes file;
    std::vector<dc::HttpHeader> headers;
    if (!g.is_ok() || g->method != "GET") {
      status = !g.is_ok() && g.status() != Code::kUnsupported ? 400 : 405;
    } else {
      std::string path = g->path == "/" ? "/index.html" : g->path;
      path = path.substr(0, path.find_first_of("?#"));
      if (path.find("/..") != std::string::npos || path.find("//") != std::string::npos) {
        status = 404;
      } else if (Result<Bytes> f = read_file(serve_dir + path, IMSDC_MAX_HTTP_BODY); !f.is_ok()) {
        status = 404;
      } else {
        file = std::move(f.value());
        const crypto::Digest h = crypto::sha256(ByteSpan(file));
        const std::string etag = "\"" + hex_encode(ByteSpan(h.data(), 8)) + "\"";
        headers.push_back({"ETag", etag});
        if (g->if_none_match == etag) {
          status = 304;
          file.clear();
        } else {
          headers.push_back({"Content-Type", "application/octet-stream"});
        }
      }
    }
    const char* reason = status == 200   ? "OK"
                         : status == 304 ? "Not Modified"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                                         : "Bad Request";
    std::fprintf(ev, "served %s: %d\n", g.is_ok() ? g->path.c_str() : "(bad request)", status);
    auto msgs = dc::build_response(status, reason, headers, ByteSpan(file), 16384);
    if (!msgs.is_ok()) return finish(msgs.status());
    // Through the echo queue: in order, and never lost while the send buffer is full.
    for (Bytes& m : msgs.value())
      echoes.push_back(Echo{0, Outgoing{std::move(m), true}});
    pump_echo();
  }
  Status result;

  bool echoing = false;
  bool pumping = false; // send() may call on_buffered_low, which pumps: no re-entry

  void pump() {
    if (pumping) return;
    pumping = true;
    pump_once();
    pumping = false;
  }
  void pump_once() {
    while (channel_open && !to_send.empty()) {
      const Outgoing& o = to_send.front();
      Status s = assoc->send(channel, o.data, o.binary);
      if (s == Code::kWouldBlock) return;
      if (!s.is_ok()) {
        finish(s);
        return;
      }
      if (expect_echo) expected.push_back(o);
      to_send.pop_front();
      ++sent;
    }
    const bool gets_done = gets.empty() && !get_inflight;
    if (channel_open && to_send.empty() && expect_echo && expected.empty() && gets_done && !done) {
      std::fprintf(ev, "all %zu messages came back intact and in order\n", sent);
      finish(Status::ok());
    } else if (channel_open && to_send.empty() && !expect_echo && had_gets && gets_done && !done) {
      finish(Status::ok());
    }
  }
  void finish(Status s) {
    if (done) return;
    done = true;
    result = s;
  }

  void on_state(dc::Link&, dc::AssociationState st, Status s) override {
    if (st == dc::AssociationState::kOpen) {
      was_open = true;
      std::fprintf(ev, "association open, peer %s (%s)\n", assoc->peer().subject.c_str(),
                   assoc->peer().termination == dc::Termination::kE2ae ? "e2ae" : "e2e");
      if (offerer) {
        auto sid = assoc->open_channel(label, protocol);
        if (!sid.is_ok()) return finish(sid.status());
        channel = sid.value();
      }
    } else if (st == dc::AssociationState::kFailed) {
      finish(s.is_ok() ? Status(Code::kTls, Module::kDc, "association failed") : s);
    } else if (st == dc::AssociationState::kClosed) {
      std::fprintf(ev, "association closed\n");
      if (expect_echo && !expected.empty())
        return finish(Status(Code::kClosed, Module::kDc, "closed before every echo came"));
      finish(was_open ? Status::ok() : Status(Code::kClosed, Module::kDc, "closed before open"));
    }
  }
  void on_open(dc::Link&, const dc::ChannelInfo& c) override {
    std::fprintf(ev, "channel %u open: label=\"%s\" protocol=\"%s\"%s\n", c.stream_id,
                 c.label.c_str(), c.protocol.c_str(), c.negotiated ? " (sdp)" : "");
    if (c.label == label) {
      channel = c.stream_id;
      channel_open = true;
      if (app != nullptr) app->on_open(*assoc, c.stream_id);
      pump();
    }
    if (c.stream_id == 0) {
      boot_open = true;
      start_get();
    }
  }
  void on_message(dc::Link&, std::uint16_t sid, ByteSpan d, bool binary) override {
    ++received;
    if (binary) {
      std::fprintf(ev, "message on %u: %zu bytes binary\n", sid, d.size());
    } else {
      std::fprintf(ev, "message on %u: %.*s\n", sid, static_cast<int>(d.size()),
                   reinterpret_cast<const char*>(d.data()));
    }
    if (app != nullptr && channel_open && sid == channel) return app->on_message(d, binary);
    if (sid == 0 && !serve_dir.empty()) return serve(d);
    if (sid == 0 && get_inflight) return on_http(d);
    // What arrives on the channel we send on with --expect-echo is the peer's echo: it is
    // checked below, never echoed again (that would loop).
    if (echo && !(expect_echo && sid == channel)) {
      // Queued, not sent at once: the association refuses (kWouldBlock) while its send
      // buffer is full, and an echo must never be lost or overtaken.
      echo_bytes += d.size();
      if (echo_bytes > kMaxEchoQueue)
        return finish(Status(Code::kTooLarge, Module::kCli, "echo queue full"));
      echoes.push_back(Echo{sid, Outgoing{Bytes(d.begin(), d.end()), binary}});
      pump_echo();
    }
    if (expect_echo && sid == channel) {
      if (expected.empty() || expected.front().binary != binary ||
          !(ByteSpan(expected.front().data).as_string() == d.as_string()))
        return finish(
            Status(Code::kBinding, Module::kCli, "an echoed message differs or is out of order"));
      expected.pop_front();
      pump();
    }
  }
  void pump_echo() {
    if (echoing) return; // send() may call on_buffered_low: no re-entry
    echoing = true;
    pump_echo_once();
    echoing = false;
  }
  void pump_echo_once() {
    while (!echoes.empty()) {
      Status s =
          assoc->send(echoes.front().sid, echoes.front().msg.data, echoes.front().msg.binary);
      if (s == Code::kWouldBlock) return;
      if (!s.is_ok()) std::fprintf(ev, "echo on %u failed: %s\n", echoes.front().sid, s.message());
      echo_bytes -= echoes.front().msg.data.size();
      echoes.pop_front();
    }
  }
  void on_writable(dc::Link&, std::uint16_t) override {
    if (app != nullptr) app->on_writable();
    pump();
    pump_echo();
  }
  // The selected ICE pair carries DTLS from now on.
  void on_connected(dc::Link&, const imsdc_port_addr& local,
                    const imsdc_port_addr& remote) override {
    std::fprintf(ev, "ice connected: %s -> %s\n", ice::to_string(local).c_str(),
                 ice::to_string(remote).c_str());
  }
  // The offerer resets its channel when it is done; the answerer takes that as the end.
  void on_closed(dc::Link&, std::uint16_t sid) override {
    std::fprintf(ev, "channel %u closed\n", sid);
    if (sid != channel) return;
    channel_open = false;
    channel_closed = true;
    if (app != nullptr) app->on_closed();
    if (!offerer) finish(Status::ok());
  }
};

} // namespace

int run_dc_link(const Args& a, const LinkParams& p, DcApp* app) {
  const bool use_ice = !a.has("--no-ice");
  const long timeout_s = p.timeout_s;
  if (timeout_s <= 0) return usage_error("--timeout takes seconds");
  const long linger_s = std::strtol(a.get("--linger", "0").c_str(), nullptr, 10);
  if (linger_s < 0 || linger_s >= timeout_s) return usage_error("--linger takes 0..timeout-1 s");
  const std::uint64_t linger_ms = static_cast<std::uint64_t>(linger_s) * 1000;
  const std::uint64_t deadline = imsdc_port_clock_monotonic_ms() + 1000ull * timeout_s;
  Peer peer;
  peer.offerer = p.offerer;
  peer.app = app;
  if (app != nullptr) {
    peer.label = app->label();
    peer.protocol = app->protocol();
  }
  peer.echo = a.has("--echo");
  peer.expect_echo = a.has("--expect-echo");
  if (p.sdp_out == "-") peer.ev = stderr;
  for (const auto& t : a.all("--send"))
    peer.to_send.push_back(Outgoing{Bytes(t.begin(), t.end()), false});
  if (a.has("--send-count")) {
    const long n = std::strtol(a.get("--send-count").c_str(), nullptr, 10);
    std::vector<std::size_t> sizes;
    std::stringstream ss(a.get("--send-size", "1024"));
    for (std::string item; std::getline(ss, item, ',');) {
      const long v = std::strtol(item.c_str(), nullptr, 10);
      if (v < 0 || v > static_cast<long>(kMaxMessage))
        return usage_error("--send-size out of range");
      sizes.push_back(static_cast<std::size_t>(v));
    }
    if (n < 0 || n > 100000 || sizes.empty()) return usage_error("--send-count out of range");
    for (long i = 0; i < n; ++i)
      peer.to_send.push_back(Outgoing{
          pattern(static_cast<std::uint32_t>(i), sizes[static_cast<std::size_t>(i) % sizes.size()]),
          true});
  }
  if (peer.expect_echo && peer.to_send.empty())
    return usage_error("--expect-echo needs messages to send");
  peer.serve_dir = a.get("--serve");
  for (const auto& g : a.all("--get"))
    peer.gets.push_back(g);
  peer.had_gets = !peer.gets.empty();
  peer.get_out = a.get("--get-out");
  if (!peer.serve_dir.empty() && peer.had_gets)
    return usage_error("--serve and --get exclude each other");

  // Device key: the keystore options, or a fresh self-signed certificate.
  DeviceKey key;
  if (Status s = key.open(a, "imsdc-dc-peer"); !s.is_ok()) return fail(s, "keystore");

  // The link: its sockets on each --bind address, else on every local address (loopback if
  // there is no other), and our half of the SDP. Declared after `peer`, its handler.
  const imsdc_port_net* net = posix::net();
  dc::Link::Config lc;
  for (const auto& b : a.all("--bind")) {
    imsdc_port_addr x{};
    if (!ice::parse_ip(b, 0, &x)) return usage_error("--bind takes an IPv4 or IPv6 address");
    lc.binds.push_back(x);
  }
  if (lc.binds.size() > 8)
    return fail(Status(Code::kNetwork, Module::kCli, "no usable local address (1 to 8)"));
  lc.keystore = key.ks;
  lc.max_message = kMaxMessage;
  lc.ice = use_ice;
  lc.name = "dc peer";
  auto link_r = dc::Link::create(net, lc);
  if (!link_r.is_ok()) return fail(link_r.status(), "local endpoint");
  std::unique_ptr<dc::Link> link = std::move(link_r.value());
  const sdp::LocalEndpoint& local = link->local();

  sdp::ChannelPolicy policy;
  policy.allowed_subprotocols = {peer.protocol};
  sdp::Negotiated neg;
  if (peer.offerer) {
    sdp::OfferConfig oc;
    oc.local = local;
    auto offer = sdp::make_offer(oc);
    if (!offer.is_ok()) return fail(offer.status(), "offer");
    auto text = sdp::generate(offer.value());
    if (!text.is_ok()) return fail(text.status(), "offer");
    if (Status s = write_sdp(p.sdp_out, text.value()); !s.is_ok()) return fail(s, "offer");
    auto answer_text = read_sdp(p.sdp_in, deadline);
    if (!answer_text.is_ok()) return fail(answer_text.status(), "answer");
    auto answer = sdp::parse(answer_text.value());
    if (!answer.is_ok()) return fail(answer.status(), "answer");
    auto applied = sdp::apply_answer(offer.value(), answer.value());
    if (!applied.is_ok()) return fail(applied.status(), "answer");
    neg = applied.value();
  } else {
    auto offer_text = read_sdp(p.sdp_in, deadline);
    if (!offer_text.is_ok()) return fail(offer_text.status(), "offer");
    auto offer = sdp::parse(offer_text.value());
    if (!offer.is_ok()) return fail(offer.status(), "offer");
    sdp::AnswerConfig ac;
    ac.local = local;
    auto answer = sdp::make_answer(offer.value(), ac, policy);
    if (!answer.is_ok()) return fail(answer.status(), "answer");
    auto text = sdp::generate(answer->sdp);
    if (!text.is_ok()) return fail(text.status(), "answer");
    if (Status s = write_sdp(p.sdp_out, text.value()); !s.is_ok()) return fail(s, "answer");
    neg = answer->result;
  }
  if (!neg.accepted)
    return fail(
        Status(Code::kRejected, Module::kCli, neg.reject_reason ? neg.reject_reason : "rejected"),
        "sdp");

  // The association is created now; DTLS starts once ICE selected a pair (on_connected
  // prints it), or at once to the peer's c=/port with --no-ice.
  if (use_ice && neg.remote_ice.ufrag.empty())
    return fail(Status(Code::kRejected, Module::kCli, "the peer's SDP has no ICE (try --no-ice)"));
  if (Status s = link->start(neg, peer.offerer, &policy, &peer, imsdc_port_clock_monotonic_ms());
      !s.is_ok())
    return fail(s, use_ice ? "ice" : "dtls");
  peer.assoc = link->association();

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  std::vector<imsdc_port_udp*> handles;
  link->add_handles(&handles);
  bool closing = false;
  std::uint64_t close_at = 0;
  std::uint64_t linger_until = 0;
  while (!g_stop) {
    std::uint64_t now = imsdc_port_clock_monotonic_ms();
    if (now >= deadline) {
      peer.finish(Status(Code::kTimeout, Module::kCli, "--timeout reached"));
      break;
    }
    link->service(now);
    std::uint32_t app_wait = 50;
    if (app != nullptr) {
      app_wait = app->poll(now);
      Status r;
      if (app->finished(&r)) peer.finish(r);
    }
    peer.pump();
    peer.pump_echo();
    link->flush();
    // --linger: after a successful run, stay up (echoing) a while before closing.
    if (peer.done && !closing && linger_until == 0) linger_until = now + linger_ms;
    if (peer.done && !closing && (now >= linger_until || !peer.result.is_ok())) {
      // Reset our channel (the peer's cue to finish), wait up to 1 s for its reset, then
      // abort the association.
      closing = true;
      close_at = now + 1000;
      // With an application its result is its own: the channel still closes in order.
      if (peer.channel_open && (peer.result.is_ok() || app != nullptr))
        (void)peer.assoc->close_channel(peer.channel);
    }
    if (closing && (now >= close_at || peer.channel_closed)) {
      link->close();
      break;
    }
    std::uint64_t next = std::min(link->next_deadline(), now + std::min(app_wait, 50u));
    const std::uint32_t wait = next > now ? static_cast<std::uint32_t>(next - now) : 0;
    if (net->wait) (void)net->wait(net->ctx, handles.data(), handles.size(), wait);
  }
  if (g_stop && !peer.done) peer.finish(Status::ok());
  if (app != nullptr && peer.channel_open) app->on_closed(); // the association is gone
  std::fprintf(peer.ev, "sent %zu, received %zu\n", peer.sent, peer.received);
  std::fflush(peer.ev);
  return peer.result.is_ok() ? 0 : fail(peer.result, app != nullptr ? app->label() : "dc peer");
}

int cmd_dc(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "relay") return cmd_dc_relay(argc, argv);
  if (argc < 2 || std::string(argv[1]) != "peer") {
    std::fputs(kPeerUsage, argc >= 2 && std::string(argv[1]) == "--help" ? stdout : stderr);
    return argc >= 2 && std::string(argv[1]) == "--help" ? 0 : 2;
  }
  Args a;
  std::vector<std::string> valued = {"--role",   "--sdp-in",     "--sdp-out",   "--bind",
                                     "--send",   "--send-count", "--send-size", "--timeout",
                                     "--linger", "--serve",      "--get",       "--get-out"};
  valued.insert(valued.end(), kKeystoreOptions.begin(), kKeystoreOptions.end());
  if (!a.parse(argc, argv, 2, {"--no-ice", "--echo", "--expect-echo", "--help"}, valued))
    return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kPeerUsage, stdout);
    return 0;
  }
  const std::string role = a.get("--role");
  if ((role != "offer" && role != "answer") || !a.has("--sdp-in") || !a.has("--sdp-out"))
    return usage_error("dc peer needs --role offer|answer, --sdp-in and --sdp-out");
  LinkParams p;
  p.offerer = role == "offer";
  p.sdp_in = a.get("--sdp-in");
  p.sdp_out = a.get("--sdp-out");
  p.timeout_s = std::strtol(a.get("--timeout", "30").c_str(), nullptr, 10);
  return run_dc_link(a, p, nullptr);
}

namespace {
constexpr const char* kSdpUsage =
    "usage: imsdc sdp offer [--bootstrap] [--app-channel LABEL[:SUBPROTOCOL]]...\n"
    "                       [--address ADDR] [--port N] [--key F --cert F | --dir D | --pkcs11 "
    "...]\n"
    "Prints an IMS data-channel SDP offer (PROTOCOL_PROFILE section 3) without ICE: c= and o=\n"
    "at --address (default 127.0.0.1; IPv6 allowed), the m-line at --port (default 9), the\n"
    "device certificate's sha-256 fingerprint (a fresh self-signed one without key options),\n"
    "a=setup:actpass, a fresh tls-id, max-message-size; --bootstrap adds the local bootstrap\n"
    "channels (dcmap 0 and 10, subprotocol http); each --app-channel adds an application\n"
    "channel on stream 1000, 1002, ... negotiated by a=dcmap.\n";

} // namespace

int cmd_sdp(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "offer") {
    std::fputs(kSdpUsage, argc >= 2 && std::string(argv[1]) == "--help" ? stdout : stderr);
    return argc >= 2 && std::string(argv[1]) == "--help" ? 0 : 2;
  }
  Args a;
  std::vector<std::string> valued = {"--app-channel", "--address", "--port"};
  valued.insert(valued.end(), kKeystoreOptions.begin(), kKeystoreOptions.end());
  if (!a.parse(argc, argv, 2, {"--bootstrap", "--help"}, valued)) return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kSdpUsage, stdout);
    return 0;
  }
  const std::string address = a.get("--address", "127.0.0.1");
  imsdc_port_addr parsed{};
  if (!ice::parse_ip(address, 0, &parsed)) return usage_error("--address takes an IP address");
  const long port = std::strtol(a.get("--port", "9").c_str(), nullptr, 10);
  if (port < 1 || port > 65535) return usage_error("--port takes 1..65535");
  DeviceKey key;
  if (Status s = key.open(a, "imsdc-sdp-offer"); !s.is_ok()) return fail(s, "keystore");
  const bool v6 = parsed.family == IMSDC_AF_INET6;
  const sdp::AddrType type = v6 ? sdp::AddrType::kIp6 : sdp::AddrType::kIp4;
  sdp::OfferConfig oc;
  oc.local.origin = sdp::Origin{"-", "1", "1", type, address};
  oc.local.connection = sdp::Connection{type, address};
  oc.local.port = static_cast<std::uint16_t>(port);
  oc.local.fingerprints = {sdp::Fingerprint{sdp::HashFunc::kSha256,
                                            Bytes(key.leaf_sha256.begin(), key.leaf_sha256.end())}};
  auto tls_id = sdp::make_tls_id(fill_random, nullptr);
  if (!tls_id.is_ok()) return fail(tls_id.status(), "tls-id");
  oc.local.tls_id = tls_id.value();
  oc.local.max_message_size = kMaxMessage;
  oc.local_bootstrap = a.has("--bootstrap");
  std::uint16_t sid = sdp::kFirstAppStreamId;
  for (const std::string& spec : a.all("--app-channel")) {
    sdp::DcMap m;
    const std::size_t colon = spec.find(':');
    m.label = spec.substr(0, colon);
    if (colon != std::string::npos) m.subprotocol = spec.substr(colon + 1);
    if (m.label.empty()) return usage_error("--app-channel takes LABEL[:SUBPROTOCOL]");
    m.stream_id = sid;
    sid = static_cast<std::uint16_t>(sid + 2);
    oc.app_channels.push_back(m);
  }
  auto offer = sdp::make_offer(oc);
  if (!offer.is_ok()) return fail(offer.status(), "offer");
  auto text = sdp::generate(offer.value());
  if (!text.is_ok()) return fail(text.status(), "offer");
  std::fputs(text.value().c_str(), stdout);
  return 0;
}

} // namespace imsdc::cli
