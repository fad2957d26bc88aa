// imsdc bench dc --in-process: two data-channel peers in this process, joined by a datagram
// queue (no sockets, no loss), driven on the real monotonic clock (usrsctp reads it anyway).
//  - Throughput of one reliable ordered channel with 64 KiB messages through imsdc's
//    Association (DTLS 1.2 + usrsctp + DCEP/dcmap), next to raw usrsctp over AF_CONN with no
//    DTLS and the same path MTU, interleaved round by round (ratio; aim >= 0.8).
//  - Heap high-water of one pair of associations (handshake, two channels open, 64 KiB sent
//    each way), counted by heap_meter for every allocator user (imsdc, mbedTLS, usrsctp).
#include <arpa/inet.h>
#include <mbedtls/gcm.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "dc/association.h"
#include "heap_meter.h"
#include "ice/agent.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"

namespace imsdc::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMessage = 64 * 1024;
// DTLS 1.2 record overhead with AES-GCM (13 header + 8 explicit nonce + 16 tag) under the
// association's 1200-byte datagrams, minus SCTP's 12-byte common header: the chunk room the
// Association gives usrsctp, so the raw baseline sends packets of the same size.
constexpr std::uint32_t kPathMtu = 1200 - 13 - 8 - 16 - 12;

std::uint64_t now_ms() {
  return imsdc_port_clock_monotonic_ms();
}

// This process's CPU seconds: a second view of each round that a busy machine does not skew
// (both sides run on this one thread).
double cpu_s() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// MB/s of one round over wall time and over CPU time; negative: the round failed.
struct Rate {
  double wall = -1;
  double cpu = -1;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// --- imsdc: two Associations ---

struct Identity {
  std::unique_ptr<crypto::MemoryKeystore> ks;
  Bytes der;
};

Result<Identity> make_identity(const char* cn) {
  Result<crypto::EcPrivateKey> key = crypto::EcPrivateKey::generate();
  if (!key.is_ok()) return key.status();
  Identity id;
  id.ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
  Result<Bytes> der =
      crypto::make_self_signed_cert(*id.ks->port(), cn, "", imsdc_port_clock_wall_s(), 1);
  if (!der.is_ok()) return der.status();
  id.der = der.value();
  IMSDC_TRY(id.ks->set_chain({id.der}));
  return id;
}

sdp::Fingerprint fingerprint(const Identity& id) {
  crypto::Digest d = crypto::sha256(ByteSpan(id.der));
  return sdp::Fingerprint{sdp::HashFunc::kSha256, Bytes(d.begin(), d.end())};
}

struct Peer {
  std::unique_ptr<dc::Association> assoc;
  int open_channels = 0;
  std::size_t received = 0;
  std::size_t messages = 0;
  bool failed = false;
  static void on_state(void* p, dc::AssociationState s, Status) {
    if (s == dc::AssociationState::kFailed) static_cast<Peer*>(p)->failed = true;
  }
  static void on_open(void* p, const dc::ChannelInfo&) { ++static_cast<Peer*>(p)->open_channels; }
  static void on_message(void* p, std::uint16_t, ByteSpan d, bool) {
    static_cast<Peer*>(p)->received += d.size();
    ++static_cast<Peer*>(p)->messages;
  }
};

// Two UDP sockets on 127.0.0.1 through the posix port, one per side, and a delay line that
// holds each datagram for delay_ms before it is handed to the kernel (the relay's delay).
struct UdpLink {
  const imsdc_port_net* net = posix::net();
  imsdc_port_udp* sock[2] = {nullptr, nullptr};
  imsdc_port_addr addr[2]{};
  std::uint64_t delay_ms = 0;
  struct Held {
    std::uint64_t at;
    int to;
    Bytes data;
  };
  std::deque<Held> line;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(65536);

  bool open() {
    for (int i = 0; i < 2; ++i) {
      if (!ice::parse_ip("127.0.0.1", 0, &addr[i])) return false;
      if (net->udp_open(net->ctx, &addr[i], &sock[i]) != 0) return false;
    }
    return true;
  }
  ~UdpLink() {
    for (imsdc_port_udp* u : sock)
      if (u != nullptr) net->udp_close(u);
  }
  void send(int from, Bytes d) {
    if (delay_ms == 0) {
      (void)net->udp_send(sock[from], &addr[1 - from], d.data(), d.size());
      return;
    }
    line.push_back(Held{now_ms() + delay_ms, 1 - from, std::move(d)});
  }
  void flush() {
    const std::uint64_t t = now_ms();
    while (!line.empty() && line.front().at <= t) {
      const Held& h = line.front();
      (void)net->udp_send(sock[1 - h.to], &addr[h.to], h.data.data(), h.data.size());
      line.pop_front();
    }
  }
  // One received datagram for side `to`, or false.
  bool recv(int to, Bytes* out) {
    imsdc_port_addr from{};
    const int n = net->udp_recv(sock[to], &from, buf.data(), buf.size());
    if (n <= 0) return false;
    out->assign(buf.begin(), buf.begin() + n);
    return true;
  }
  void wait(std::uint32_t max_ms) {
    std::uint64_t w = max_ms;
    if (!line.empty()) {
      const std::uint64_t t = now_ms();
      w = std::min<std::uint64_t>(w, line.front().at > t ? line.front().at - t : 0);
    }
    if (net->wait) (void)net->wait(net->ctx, sock, 2, static_cast<std::uint32_t>(w));
  }
};

struct Pair {
  Peer a, b;
  UdpLink* udp = nullptr; // null: the in-process datagram queues below

  Status create(const Identity& ia, const Identity& ib, int channels) {
    for (int side = 0; side < 2; ++side) {
      const bool client = side == 0;
      dc::AssociationConfig c;
      c.dtls.role = client ? sdp::DtlsRole::kClient : sdp::DtlsRole::kServer;
      c.dtls.keystore = (client ? ia : ib).ks->port();
      c.dtls.remote_fingerprints = {fingerprint(client ? ib : ia)};
      c.local_max_message = 262144;
      c.remote_max_message = 262144;
      c.max_buffered = 1024 * 1024;
      for (int i = 0; i < channels; ++i) {
        sdp::DcMap m;
        m.stream_id = static_cast<std::uint16_t>(1000 + i);
        m.label = "bench" + std::to_string(i);
        c.channels.push_back(m);
      }
      Peer& p = client ? a : b;
      dc::AssociationCallbacks cb;
      cb.ctx = &p;
      cb.on_state = Peer::on_state;
      cb.on_channel_open = Peer::on_open;
      cb.on_message = Peer::on_message;
      Result<std::unique_ptr<dc::Association>> r = dc::Association::create(c, cb);
      if (!r.is_ok()) return r.status();
      p.assoc = std::move(r.value());
    }
    IMSDC_TRY(b.assoc->start(now_ms()));
    return a.assoc->start(now_ms());
  }

  // The "network": datagrams in flight each way. After every feed the fed side's output is
  // taken at once, as an event loop with a UDP socket does, so the endpoint's bounded output
  // queue (DtlsConfig::max_out_datagrams) is never what limits the run.
  std::deque<Bytes> to_a, to_b;

  void collect() {
    Bytes d;
    while (a.assoc->take_datagram(&d))
      to_b.push_back(std::move(d));
    while (b.assoc->take_datagram(&d))
      to_a.push_back(std::move(d));
  }

  void pump() {
    if (udp != nullptr) return pump_udp();
    const std::uint64_t t = now_ms();
    collect();
    while (!to_a.empty() || !to_b.empty()) {
      if (!to_b.empty()) {
        (void)b.assoc->feed(to_b.front(), t);
        to_b.pop_front();
      }
      collect();
      if (!to_a.empty()) {
        (void)a.assoc->feed(to_a.front(), t);
        to_a.pop_front();
      }
      collect();
    }
    (void)a.assoc->poll(t);
    (void)b.assoc->poll(t);
  }

  void pump_udp() {
    Bytes d;
    while (a.assoc->take_datagram(&d))
      udp->send(0, std::move(d));
    while (b.assoc->take_datagram(&d))
      udp->send(1, std::move(d));
    udp->flush();
    bool got = false;
    for (int side = 0; side < 2; ++side) {
      dc::Association& to = *(side == 0 ? a : b).assoc;
      while (udp->recv(side, &d)) {
        got = true;
        (void)to.feed(d, now_ms());
        Bytes out;
        while (to.take_datagram(&out))
          udp->send(side, std::move(out));
      }
    }
    const std::uint64_t t = now_ms();
    (void)a.assoc->poll(t);
    (void)b.assoc->poll(t);
    if (!got) udp->wait(1);
  }

  // Pumps until pred() or failure or the deadline; returns pred().
  template <typename Pred> bool run_until(Pred pred, std::uint64_t limit_ms = 20000) {
    const std::uint64_t end = now_ms() + limit_ms;
    while (!pred()) {
      if (a.failed || b.failed || now_ms() > end) return false;
      pump();
    }
    return true;
  }
};

// Sends `total` bytes in kMessage messages a -> b on stream 1000; returns MB/s (-1: failed).
Rate imsdc_round(const Identity& ia, const Identity& ib, std::size_t total,
                 UdpLink* udp = nullptr) {
  Pair p;
  p.udp = udp;
  if (!p.create(ia, ib, 1).is_ok()) return {};
  if (!p.run_until([&] { return p.a.open_channels == 1 && p.b.open_channels == 1; })) return {};
  const Bytes msg(kMessage, 0x5a);
  std::size_t sent = 0;
  const auto start = Clock::now();
  const double cpu0 = cpu_s();
  const bool ok = p.run_until(
      [&] {
        while (sent < total) {
          Status s = p.a.assoc->send(1000, ByteSpan(msg));
          if (s.code() == Code::kWouldBlock) break;
          if (!s.is_ok()) return true; // reported below
          sent += msg.size();
        }
        return p.b.received >= total;
      },
      60000);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu_s() - cpu0;
  if (!ok || p.b.received != total) return {};
  return Rate{static_cast<double>(total) / secs / 1e6, static_cast<double>(total) / cpu / 1e6};
}

// Heap high-water of one pair: handshake, two channels, one 64 KiB message each way.
bool heap_round(const Identity& ia, const Identity& ib, std::size_t* before, std::size_t* peak) {
  *before = cli::heap::current();
  cli::heap::reset_peak();
  {
    Pair p;
    if (!p.create(ia, ib, 2).is_ok()) return false;
    if (!p.run_until([&] { return p.a.open_channels == 2 && p.b.open_channels == 2; }))
      return false;
    const Bytes msg(kMessage, 0x33);
    if (!p.a.assoc->send(1000, ByteSpan(msg)).is_ok()) return false;
    if (!p.b.assoc->send(1001, ByteSpan(msg)).is_ok()) return false;
    if (!p.run_until([&] { return p.a.messages == 1 && p.b.messages == 1; })) return false;
  }
  *peak = cli::heap::peak();
  return true;
}

// --- baseline: raw usrsctp, AF_CONN, no DTLS ---

struct RawSide {
  struct socket* sock = nullptr;
  std::deque<Bytes> inbox; // packets for this side
  std::size_t received = 0;
};
RawSide g_raw[2];
UdpLink* g_raw_udp = nullptr; // non-null: the raw packets go over these UDP sockets

// The second baseline seals every packet with AES-128-GCM on output and opens it on input
// (raw mbedTLS, the cipher imsdc's DTLS negotiates): usrsctp plus the bare AEAD cost, no
// record layer. Null: no sealing.
mbedtls_gcm_context* g_seal = nullptr;
std::uint64_t g_seal_counter = 0;

bool seal(Bytes* packet) {
  if (g_seal == nullptr) return true;
  std::uint8_t iv[12] = {};
  std::memcpy(iv, &++g_seal_counter, sizeof g_seal_counter);
  Bytes out(packet->size() + 12 + 16);
  std::memcpy(out.data(), iv, 12);
  if (mbedtls_gcm_crypt_and_tag(g_seal, MBEDTLS_GCM_ENCRYPT, packet->size(), iv, 12, nullptr, 0,
                                packet->data(), out.data() + 12, 16,
                                out.data() + 12 + packet->size()) != 0)
    return false;
  *packet = std::move(out);
  return true;
}

bool unseal(Bytes* packet) {
  if (g_seal == nullptr) return true;
  if (packet->size() < 28) return false;
  const std::size_t n = packet->size() - 28;
  Bytes out(n);
  if (mbedtls_gcm_auth_decrypt(g_seal, n, packet->data(), 12, nullptr, 0, packet->data() + 12 + n,
                               16, packet->data() + 12, out.data()) != 0)
    return false;
  *packet = std::move(out);
  return true;
}

int raw_output(void* addr, void* buf, size_t len, uint8_t, uint8_t) {
  // addr is the sender's sconn_addr; the packet goes to the other side.
  RawSide* from = static_cast<RawSide*>(addr);
  RawSide* to = from == &g_raw[0] ? &g_raw[1] : &g_raw[0];
  const auto* b = static_cast<const std::uint8_t*>(buf);
  Bytes packet(b, b + len);
  if (!seal(&packet)) return -1;
  if (g_raw_udp != nullptr) {
    g_raw_udp->send(from == &g_raw[0] ? 0 : 1, std::move(packet));
    return 0;
  }
  to->inbox.push_back(std::move(packet));
  return 0;
}

struct sockaddr_conn conn_addr(RawSide* s) {
  struct sockaddr_conn addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sconn_family = AF_CONN;
  addr.sconn_port = htons(5000);
  addr.sconn_addr = s;
  return addr;
}

bool raw_socket(RawSide* s) {
  usrsctp_register_address(s);
  s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (s->sock == nullptr || usrsctp_set_non_blocking(s->sock, 1) != 0) return false;
  const int snd = 1024 * 1024 + 65536, rcv = 262144, one = 1;
  // As the Association: close aborts at once, so usrsctp_finish can free everything.
  struct linger lg;
  lg.l_onoff = 1;
  lg.l_linger = 0;
  bool ok = usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0;
  ok = ok && usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd) == 0;
  ok = ok && usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) == 0;
  ok = ok && usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one) == 0;
  ok = ok && usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &one, sizeof one) == 0;
  struct sctp_initmsg init;
  std::memset(&init, 0, sizeof init);
  init.sinit_num_ostreams = 2048; // as the Association: application channel ids from 1000
  init.sinit_max_instreams = 2048;
  ok = ok && usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) == 0;
  struct sockaddr_conn addr = conn_addr(s);
  ok = ok && usrsctp_bind(s->sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0;
  return ok;
}

bool raw_connect(RawSide* s) {
  struct sockaddr_conn addr = conn_addr(s);
  return usrsctp_connect(s->sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0 ||
         errno == EINPROGRESS;
}

// The same fixed path MTU the Association sets once its association exists.
bool raw_path_mtu(RawSide* s) {
  struct sctp_paddrparams spp;
  std::memset(&spp, 0, sizeof spp);
  struct sockaddr_conn addr = conn_addr(s);
  std::memcpy(&spp.spp_address, &addr, sizeof addr);
  spp.spp_flags = SPP_PMTUD_DISABLE;
  spp.spp_pathmtu = kPathMtu;
  return usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &spp, sizeof spp) == 0;
}

void raw_pump(std::uint64_t* last) {
  if (g_raw_udp != nullptr) {
    g_raw_udp->flush();
    Bytes d;
    bool got = false;
    for (int side = 0; side < 2; ++side) {
      while (g_raw_udp->recv(side, &d)) {
        got = true;
        if (unseal(&d)) usrsctp_conninput(&g_raw[side], d.data(), d.size(), 0);
      }
    }
    if (!got) g_raw_udp->wait(1);
  }
  for (RawSide& s : g_raw) {
    while (!s.inbox.empty()) {
      Bytes d = std::move(s.inbox.front());
      s.inbox.pop_front();
      if (unseal(&d)) usrsctp_conninput(&s, d.data(), d.size(), 0);
    }
  }
  std::vector<std::uint8_t> buf(kMessage + 1024);
  for (RawSide& s : g_raw) {
    for (;;) {
      struct sctp_rcvinfo info;
      socklen_t infolen = sizeof info;
      unsigned int infotype = 0;
      int flags = 0;
      const ssize_t n = usrsctp_recvv(s.sock, buf.data(), buf.size(), nullptr, nullptr, &info,
                                      &infolen, &infotype, &flags);
      if (n <= 0) break;
      if (!(flags & MSG_NOTIFICATION)) s.received += static_cast<std::size_t>(n);
    }
  }
  const std::uint64_t t = now_ms();
  if (t > *last) {
    usrsctp_handle_timers(static_cast<std::uint32_t>(t - *last));
    *last = t;
  }
}

Rate raw_round(std::size_t total, mbedtls_gcm_context* gcm, UdpLink* udp = nullptr) {
  g_seal = gcm;
  g_raw_udp = udp;
  usrsctp_init_nothreads(0, raw_output, nullptr);
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  Rate result;
  std::uint64_t last = now_ms();
  for (RawSide& s : g_raw) {
    s.inbox.clear();
    s.received = 0;
  }
  bool ok = raw_socket(&g_raw[0]) && raw_socket(&g_raw[1]) && raw_connect(&g_raw[0]) &&
            raw_connect(&g_raw[1]);
  // Established when a 1-byte probe goes through.
  const std::uint8_t probe = 1;
  const std::uint64_t end = now_ms() + 10000;
  bool up = false;
  while (ok && !up && now_ms() < end) {
    raw_pump(&last);
    up = usrsctp_sendv(g_raw[0].sock, &probe, 1, nullptr, 0, nullptr, 0, SCTP_SENDV_NOINFO, 0) == 1;
  }
  while (up && g_raw[1].received < 1 && now_ms() < end)
    raw_pump(&last);
  up = up && raw_path_mtu(&g_raw[0]) && raw_path_mtu(&g_raw[1]);
  if (up && g_raw[1].received == 1) {
    g_raw[1].received = 0;
    const Bytes msg(kMessage, 0x5a);
    struct sctp_sndinfo snd;
    std::memset(&snd, 0, sizeof snd);
    snd.snd_sid = 1000;
    snd.snd_ppid = htonl(53);
    std::size_t sent = 0;
    const auto start = Clock::now();
    const double cpu0 = cpu_s();
    const std::uint64_t stop = now_ms() + 60000;
    while (g_raw[1].received < total && now_ms() < stop) {
      while (sent < total) {
        const ssize_t n = usrsctp_sendv(g_raw[0].sock, msg.data(), msg.size(), nullptr, 0, &snd,
                                        sizeof snd, SCTP_SENDV_SNDINFO, 0);
        if (n < 0) break;
        sent += msg.size();
      }
      raw_pump(&last);
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpu_s() - cpu0;
    if (g_raw[1].received == total)
      result =
          Rate{static_cast<double>(total) / secs / 1e6, static_cast<double>(total) / cpu / 1e6};
  }
  for (RawSide& s : g_raw) {
    if (s.sock != nullptr) {
      usrsctp_close(s.sock);
      s.sock = nullptr;
    }
    usrsctp_deregister_address(&s);
  }
  for (int i = 0; i < 200 && usrsctp_finish() != 0; ++i)
    usrsctp_handle_timers(50);
  g_raw_udp = nullptr;
  return result;
}

static_assert(kPathMtu == 1151, "DTLS/SCTP overhead arithmetic changed");

// Milliseconds from the answer (both ends start) to the first message delivered on a
// dcmap-negotiated channel, over UDP with delay_ms each way: ICE is not part of it (the
// association runs straight on the sockets), DTLS and SCTP set-up are. -1 on failure.
double first_message_ms(const Identity& ia, const Identity& ib, std::uint64_t delay_ms) {
  UdpLink link;
  link.delay_ms = delay_ms;
  if (!link.open()) return -1;
  Pair p;
  p.udp = &link;
  const std::uint64_t t0 = now_ms();
  if (!p.create(ia, ib, 1).is_ok()) return -1;
  bool sent = false;
  const Bytes one{1};
  const bool ok = p.run_until(
      [&] {
        if (!sent && p.a.open_channels == 1) sent = p.a.assoc->send(1000, ByteSpan(one)).is_ok();
        return p.b.messages >= 1;
      },
      30000);
  return ok ? static_cast<double>(now_ms() - t0) : -1;
}

} // namespace

int bench_dc(const Args& a, int rounds) {
  // Without --in-process the datagrams go through two UDP sockets on 127.0.0.1.
  const bool over_udp = !a.has("--in-process");
  const long delay = std::strtol(a.get("--delay-ms", "25").c_str(), nullptr, 10);
  if (delay < 1 || delay > 1000) return usage_error("--delay-ms takes 1..1000");
  const int mib = std::max(1, std::atoi(a.get("--size-mib", "16").c_str()));
  const std::size_t total = static_cast<std::size_t>(mib) << 20;
  Result<Identity> ia = make_identity("bench-a");
  Result<Identity> ib = make_identity("bench-b");
  if (!ia.is_ok()) return fail(ia.status(), "keys");
  if (!ib.is_ok()) return fail(ib.status(), "keys");

  // Key for the sealed baseline (random, this process only).
  std::uint8_t key[16];
  if (!crypto::random_bytes(key, sizeof key).is_ok())
    return fail(Status(Code::kEntropy, Module::kCli, "bench key"), "bench");
  mbedtls_gcm_context gcm;
  mbedtls_gcm_init(&gcm);
  const bool gcm_ok = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128) == 0;
  secure_zero(key, sizeof key);
  // Per series: wall MB/s and MB per CPU second.
  std::vector<double> sdk, raw, sealed, sdk_cpu, raw_cpu, sealed_cpu;
  for (int r = 0; gcm_ok && r < rounds; ++r) {
    UdpLink l1, l2, l3;
    if (over_udp && !(l1.open() && l2.open() && l3.open())) {
      mbedtls_gcm_free(&gcm);
      return fail(Status(Code::kNetwork, Module::kCli, "UDP sockets on 127.0.0.1"), "bench");
    }
    const Rate s = imsdc_round(ia.value(), ib.value(), total, over_udp ? &l1 : nullptr);
    const Rate w = raw_round(total, nullptr, over_udp ? &l2 : nullptr);
    const Rate g = raw_round(total, &gcm, over_udp ? &l3 : nullptr);
    if (s.wall < 0 || w.wall < 0 || g.wall < 0) {
      mbedtls_gcm_free(&gcm);
      return fail(Status(Code::kInternal, Module::kCli, "a benchmark round failed"), "bench");
    }
    sdk.push_back(s.wall);
    raw.push_back(w.wall);
    sealed.push_back(g.wall);
    sdk_cpu.push_back(s.cpu);
    raw_cpu.push_back(w.cpu);
    sealed_cpu.push_back(g.cpu);
  }
  mbedtls_gcm_free(&gcm);
  if (!gcm_ok) return fail(Status(Code::kInternal, Module::kCli, "gcm key"), "bench");
  std::size_t before = 0, peak = 0;
  const bool have_heap = cli::heap::available();
  if (have_heap && !heap_round(ia.value(), ib.value(), &before, &peak))
    return fail(Status(Code::kInternal, Module::kCli, "heap round failed"), "bench");
  const double s = median(sdk), w = median(raw), g = median(sealed);
  const double sc = median(sdk_cpu), wc = median(raw_cpu), gc = median(sealed_cpu);
  auto ratio = [](double x, double y) { return y > 0 ? x / y : 0; };
  const double heap_kib = static_cast<double>(peak - before) / 1024.0;
  // Over UDP: the set-up time with the given one-way delay (median of the rounds).
  std::vector<double> first;
  for (int r = 0; over_udp && r < rounds; ++r) {
    const double ms = first_message_ms(ia.value(), ib.value(), static_cast<std::uint64_t>(delay));
    if (ms < 0) return fail(Status(Code::kTimeout, Module::kCli, "first message round"), "bench");
    first.push_back(ms);
  }
  const double first_ms = median(first);
  const double rtt_ms = 2.0 * static_cast<double>(delay);
  if (a.has("--json")) {
    std::printf("{\"rounds\":%d,\"bytes\":%zu,\"message\":%zu,\"imsdc_mbps\":%.1f,"
                "\"raw_usrsctp_mbps\":%.1f,\"ratio\":%.3f,\"usrsctp_gcm_mbps\":%.1f,"
                "\"ratio_vs_gcm\":%.3f,\"cpu_ratio\":%.3f,\"cpu_ratio_vs_gcm\":%.3f",
                rounds, total, kMessage, s, w, ratio(s, w), g, ratio(s, g), ratio(sc, wc),
                ratio(sc, gc));
    if (have_heap) std::printf(",\"pair_heap_peak_kib\":%.1f", heap_kib);
    if (over_udp)
      std::printf(",\"udp\":true,\"delay_ms\":%ld,\"first_message_ms\":%.1f,"
                  "\"first_message_rtts\":%.2f",
                  delay, first_ms, first_ms / rtt_ms);
    std::printf("}\n");
    return 0;
  }
  std::printf("imsdc bench dc%s: %d MiB per round in %zu KiB messages, one reliable ordered "
              "channel, median of %d interleaved rounds\n",
              over_udp ? " (UDP on 127.0.0.1)" : " --in-process", mib, kMessage / 1024, rounds);
  std::printf("  %-44s %9s %9s %7s %9s\n",
              over_udp ? "MB/s (both peers in this process, real UDP)"
                       : "MB/s (both peers in this process)",
              "imsdc", "baseline", "ratio", "cpu ratio");
  std::printf("  %-44s %9.1f %9.1f %7.3f %9.3f%s\n", "DTLS+SCTP vs raw usrsctp, no encryption", s,
              w, ratio(s, w), ratio(sc, wc), over_udp ? "" : "   (aim >= 0.8)");
  std::printf("  %-44s %9.1f %9.1f %7.3f %9.3f\n", "DTLS+SCTP vs usrsctp + raw AES-GCM per packet",
              s, g, ratio(s, g), ratio(sc, gc));
  if (over_udp) {
    std::printf("  answer to first delivered message, %ld ms each way (RTT %.0f ms): %.1f ms = "
                "%.2f round trips (DTLS with cookie exchange, then SCTP)\n",
                delay, rtt_ms, first_ms, first_ms / rtt_ms);
  }
  if (have_heap) {
    std::printf("  heap high-water, two associations with two channels each (both peers of "
                "the pair): %.1f KiB, %.1f KiB per association\n",
                heap_kib, heap_kib / 2);
  } else {
    std::printf("  heap high-water: not measured in this build (sanitizer or non-glibc "
                "allocator)\n");
  }
  return 0;
}

} // namespace imsdc::cli
