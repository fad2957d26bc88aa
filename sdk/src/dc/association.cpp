#include "dc/association.h"

#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "imsdc/log.h"
#include "imsdc/port/os.h"

namespace imsdc::dc {
namespace {

constexpr const char* kLog = "dc";

Status err(Code code, const char* detail) {
  return Status(Code(code), Module::kDc, detail);
}

// SCTP carries ports and PPIDs in network byte order (usrsctp expects them so in sockaddr
// and sndinfo, and returns rcv_ppid so).
std::uint32_t net32(std::uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return __builtin_bswap32(v);
#else
  return v;
#endif
}
std::uint16_t net16(std::uint16_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return __builtin_bswap16(v);
#else
  return v;
#endif
}

// Largest piece usrsctp_recvv hands over at once: the local max-message-size, between these
// bounds; longer messages and notifications arrive in several pieces and are joined (up to
// local_max_message, kMaxNotification), so a small device pays only for its own limit.
constexpr std::size_t kRecvChunkMin = 2048;
constexpr std::size_t kRecvChunkMax = 64 * 1024;
// Bound of one SCTP notification (they are a few dozen bytes; a stream reset event lists
// stream ids, at most max_streams of them).
constexpr std::size_t kMaxNotification = 8192;

int conn_output(void* addr, void* buffer, size_t length, uint8_t tos, uint8_t set_df);

// usrsctp is process-global: one reference-counted initialisation, the timer base shared by
// every association, and the list of live associations that conn_output may write to.
struct Global {
  imsdc_port_mutex* mutex = nullptr;
  int refs = 0;
  bool timer_base_set = false;
  std::uint64_t last_timer_ms = 0;
  std::vector<const void*> live;
};

Global& global() {
  // A function-local static: created once, on first use, thread-safe by the language.
  static Global g = [] {
    Global x;
    x.mutex = imsdc_port_mutex_create();
    return x;
  }();
  return g;
}

class Lock {
public:
  explicit Lock(imsdc_port_mutex* m) : m_(m) { imsdc_port_mutex_lock(m_); }
  ~Lock() { imsdc_port_mutex_unlock(m_); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

private:
  imsdc_port_mutex* m_;
};

Status global_acquire(const void* owner) {
  Global& g = global();
  if (g.mutex == nullptr) return err(Code::kPortFailure, "mutex_create failed");
  Lock lock(g.mutex);
  if (g.refs == 0) {
    usrsctp_init_nothreads(0, conn_output, nullptr);
    // Explicit congestion notification needs IP-level marks that an AF_CONN (DTLS-carried)
    // association never sees; WebRTC peers disable it too.
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    g.timer_base_set = false;
  }
  ++g.refs;
  g.live.push_back(owner);
  return Status::ok();
}

void global_forget(const void* owner) {
  Global& g = global();
  Lock lock(g.mutex);
  for (std::size_t i = 0; i < g.live.size(); ++i) {
    if (g.live[i] == owner) {
      g.live[i] = g.live.back();
      g.live.pop_back();
      break;
    }
  }
}

void global_release() {
  Global& g = global();
  bool last = false;
  {
    Lock lock(g.mutex);
    last = --g.refs == 0;
  }
  if (!last) return;
  // Sockets closed with SO_LINGER 0 are aborted at once, but usrsctp frees the endpoint
  // from a timer; without a timer thread we run the timers until it lets go (bounded).
  for (int i = 0; i < 200; ++i) {
    if (usrsctp_finish() == 0) {
      Lock lock(g.mutex);
      g.timer_base_set = false;
      return;
    }
    usrsctp_handle_timers(50);
  }
  IMSDC_LOGW(kLog, "usrsctp_finish did not complete; its memory stays allocated");
}

bool is_live(const void* owner) {
  Global& g = global();
  Lock lock(g.mutex);
  for (const void* p : g.live) {
    if (p == owner) return true;
  }
  return false;
}

void run_timers(std::uint64_t now_ms) {
  Global& g = global();
  std::uint32_t elapsed = 0;
  {
    Lock lock(g.mutex);
    if (!g.timer_base_set) {
      g.timer_base_set = true;
      g.last_timer_ms = now_ms;
    } else if (now_ms > g.last_timer_ms) {
      const std::uint64_t d = now_ms - g.last_timer_ms;
      elapsed = d > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(d);
      g.last_timer_ms = now_ms;
    }
  }
  // Outside the lock: the timers call conn_output, which takes it.
  if (elapsed != 0) usrsctp_handle_timers(elapsed);
}

enum class ChState : std::uint8_t { kOpening, kOpen, kClosing };

struct Channel {
  ChannelInfo info;
  ChState state = ChState::kOpening;
  std::size_t buffered = 0;
  std::size_t low_water = 0;
  std::size_t queued = 0; // messages of this stream in the send queue (incl. DCEP)
  bool reset_pending = false;
};

struct Pending {
  std::uint16_t sid = 0;
  std::uint32_t ppid = 0;
  Bytes data;
  bool unordered = false;
  std::uint16_t pr_policy = 0;
  std::uint32_t pr_value = 0;
  std::size_t counted = 0; // bytes counted in buffered amounts
};

} // namespace

struct Association::Impl {
  AssociationConfig config;
  AssociationCallbacks cb;
  std::unique_ptr<DtlsEndpoint> dtls;
  struct socket* sock = nullptr;
  bool registered = false;
  bool global_held = false;
  AssociationState state = AssociationState::kIdle;
  Status error;
  std::uint64_t now_ms = 0;

  std::vector<Channel> channels;
  std::deque<Pending> queue;
  std::size_t total_buffered = 0;
  std::uint32_t send_limit = 0;

  Bytes rbuf;
  Bytes message;
  bool assembling = false;
  bool oversized = false;
  std::uint16_t cur_sid = 0;
  std::uint32_t cur_ppid = 0;
  Bytes notification;
  std::size_t oversized_dropped = 0;

  ~Impl() { teardown(); }

  Channel* find(std::uint16_t sid) {
    for (Channel& c : channels) {
      if (c.info.stream_id == sid) return &c;
    }
    return nullptr;
  }
  void erase(std::uint16_t sid) {
    for (std::size_t i = 0; i < channels.size(); ++i) {
      if (channels[i].info.stream_id == sid) {
        channels.erase(channels.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
    }
  }

  void set_state(AssociationState s, Status st) {
    if (state == s) return;
    if (state == AssociationState::kFailed || state == AssociationState::kClosed) return;
    state = s;
    if (s == AssociationState::kFailed) error = st;
    if (cb.on_state) cb.on_state(cb.ctx, s, st);
  }

  void teardown() {
    if (sock != nullptr) {
      // SO_LINGER 0: usrsctp_close aborts the association at once (the ABORT goes out
      // through conn_output while this object is still live).
      usrsctp_close(sock);
      sock = nullptr;
    }
    if (registered) {
      usrsctp_deregister_address(this);
      registered = false;
    }
    if (global_held) {
      global_forget(this);
      global_release();
      global_held = false;
    }
    // Received plaintext may carry tokens (bootstrap HTTP, avatar attestations).
    if (!message.empty()) secure_zero(message.data(), message.size());
    if (!rbuf.empty()) secure_zero(rbuf.data(), rbuf.size());
  }

  // --- DTLS callbacks ---
  static void dtls_data(void* p, ByteSpan data) {
    auto* self = static_cast<Impl*>(p);
    if (self->sock == nullptr) return;
    usrsctp_conninput(self, data.data(), data.size(), 0);
  }
  static void dtls_state(void* p, DtlsState s, Status st) {
    auto* self = static_cast<Impl*>(p);
    if (s == DtlsState::kConnected) {
      Status started = self->start_sctp();
      if (!started.is_ok()) self->set_state(AssociationState::kFailed, started);
    } else if (s == DtlsState::kFailed) {
      self->set_state(AssociationState::kFailed, st);
    } else if (s == DtlsState::kClosed) {
      self->set_state(AssociationState::kClosed, st);
    }
  }

  template <typename T> bool opt(int level, int name, const T& v) {
    return usrsctp_setsockopt(sock, level, name, &v, static_cast<socklen_t>(sizeof v)) == 0;
  }

  Status start_sctp() {
    usrsctp_register_address(this);
    registered = true;
    sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
    if (sock == nullptr) return err(Code::kInternal, "usrsctp socket");
    if (usrsctp_set_non_blocking(sock, 1) != 0) return err(Code::kInternal, "non-blocking");
    struct linger lg;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    bool ok = opt(SOL_SOCKET, SO_LINGER, lg);
    const int bufsize =
        static_cast<int>(send_limit + 65536u > 262144u ? send_limit + 65536u : 262144u);
    ok = ok && opt(SOL_SOCKET, SO_SNDBUF, bufsize);
    const int rcv =
        static_cast<int>(config.local_max_message > 262144u ? config.local_max_message : 262144u);
    ok = ok && opt(SOL_SOCKET, SO_RCVBUF, rcv);
    struct sctp_assoc_value av;
    std::memset(&av, 0, sizeof av);
    av.assoc_id = SCTP_FUTURE_ASSOC;
    av.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
    ok = ok && opt(IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, av);
    const int one = 1;
    ok = ok && opt(IPPROTO_SCTP, SCTP_RECVRCVINFO, one);
    ok = ok && opt(IPPROTO_SCTP, SCTP_NODELAY, one);
    for (std::uint16_t type : {static_cast<std::uint16_t>(SCTP_ASSOC_CHANGE),
                               static_cast<std::uint16_t>(SCTP_STREAM_RESET_EVENT),
                               static_cast<std::uint16_t>(SCTP_SENDER_DRY_EVENT)}) {
      struct sctp_event ev;
      std::memset(&ev, 0, sizeof ev);
      ev.se_assoc_id = SCTP_FUTURE_ASSOC;
      ev.se_on = 1;
      ev.se_type = type;
      ok = ok && opt(IPPROTO_SCTP, SCTP_EVENT, ev);
    }
    struct sctp_initmsg init;
    std::memset(&init, 0, sizeof init);
    init.sinit_num_ostreams = config.max_streams;
    init.sinit_max_instreams = config.max_streams;
    ok = ok && opt(IPPROTO_SCTP, SCTP_INITMSG, init);
    // Retransmission timeouts as WebRTC stacks use them: the RFC 4960 defaults (1 s minimum,
    // 60 s maximum) stall a lossy radio link for too long.
    struct sctp_rtoinfo rto;
    std::memset(&rto, 0, sizeof rto);
    rto.srto_assoc_id = SCTP_FUTURE_ASSOC;
    rto.srto_initial = config.rto_initial_ms;
    rto.srto_min = config.rto_min_ms;
    rto.srto_max = config.rto_max_ms;
    ok = ok && opt(IPPROTO_SCTP, SCTP_RTOINFO, rto);
    if (!ok) return err(Code::kInternal, "usrsctp socket options");

    struct sockaddr_conn local;
    std::memset(&local, 0, sizeof local);
    local.sconn_family = AF_CONN;
    local.sconn_port = net16(config.local_sctp_port);
    local.sconn_addr = this;
    if (usrsctp_bind(sock, reinterpret_cast<struct sockaddr*>(&local), sizeof local) != 0)
      return err(Code::kInternal, "usrsctp bind");
    struct sockaddr_conn remote = local;
    remote.sconn_port = net16(config.remote_sctp_port);
    // Both ends connect (RFC 8841 section 5): SCTP resolves the INIT collision.
    if (usrsctp_connect(sock, reinterpret_cast<struct sockaddr*>(&remote), sizeof remote) != 0 &&
        errno != EINPROGRESS)
      return err(Code::kInternal, "usrsctp connect");
    // The path is one DTLS record: no path MTU discovery, packets sized to fit a record. Set
    // on the peer address once the association exists; usrsctp does not carry a pathmtu
    // given for future associations over to AF_CONN paths. usrsctp's pathmtu is the room
    // for chunks: the 12-byte SCTP common header comes on top (measured with 0.9.5).
    struct sctp_paddrparams spp;
    std::memset(&spp, 0, sizeof spp);
    std::memcpy(&spp.spp_address, &remote, sizeof remote);
    spp.spp_flags = SPP_PMTUD_DISABLE;
    constexpr std::uint32_t kSctpCommonHeader = 12;
    spp.spp_pathmtu = static_cast<std::uint32_t>(dtls->max_record_payload()) - kSctpCommonHeader;
    if (!opt(IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, spp))
      return err(Code::kInternal, "usrsctp path mtu");
    return Status::ok();
  }

  // --- sending ---
  void enqueue(Pending p) {
    if (Channel* c = find(p.sid)) ++c->queued;
    queue.push_back(std::move(p));
  }

  void flush() {
    if (sock == nullptr || state != AssociationState::kOpen) return;
    std::vector<std::uint16_t> low;
    while (!queue.empty()) {
      Pending& p = queue.front();
      struct sctp_sendv_spa spa;
      std::memset(&spa, 0, sizeof spa);
      spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
      spa.sendv_sndinfo.snd_sid = p.sid;
      spa.sendv_sndinfo.snd_ppid = net32(p.ppid);
      spa.sendv_sndinfo.snd_flags = p.unordered ? SCTP_UNORDERED : 0;
      if (p.pr_policy != 0) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = p.pr_policy;
        spa.sendv_prinfo.pr_value = p.pr_value;
      }
      const ssize_t n = usrsctp_sendv(sock, p.data.data(), p.data.size(), nullptr, 0, &spa,
                                      static_cast<socklen_t>(sizeof spa), SCTP_SENDV_SPA, 0);
      if (n < 0 && (errno == EWOULDBLOCK || errno == EAGAIN)) break;
      if (n < 0) IMSDC_LOGW(kLog, "sctp send on stream %u failed (errno %d)", p.sid, errno);
      Channel* c = find(p.sid);
      if (c != nullptr) {
        const bool was_above = c->buffered > c->low_water;
        c->buffered -= p.counted;
        --c->queued;
        if (was_above && c->buffered <= c->low_water && p.counted != 0) low.push_back(p.sid);
      }
      total_buffered -= p.counted;
      if (!p.data.empty()) secure_zero(p.data.data(), p.data.size());
      queue.pop_front();
    }
    // Resets wait until everything queued on their stream has gone to SCTP, so a close
    // never cuts off a message sent just before it.
    for (Channel& c : channels) {
      if (c.reset_pending && c.queued == 0) {
        c.reset_pending = false;
        reset_stream(c.info.stream_id);
      }
    }
    for (std::uint16_t sid : low) {
      if (cb.on_buffered_low && find(sid) != nullptr) cb.on_buffered_low(cb.ctx, sid);
    }
  }

  void reset_stream(std::uint16_t sid) {
    if (sock == nullptr) return;
    alignas(struct sctp_reset_streams)
        std::uint8_t buf[sizeof(struct sctp_reset_streams) + sizeof(std::uint16_t)];
    std::memset(buf, 0, sizeof buf);
    auto* srs = reinterpret_cast<struct sctp_reset_streams*>(buf);
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = 1;
    srs->srs_stream_list[0] = sid;
    if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs,
                           static_cast<socklen_t>(sizeof buf)) != 0)
      IMSDC_LOGW(kLog, "stream reset of %u failed (errno %d)", sid, errno);
  }

  // --- receiving ---
  void drain() {
    while (sock != nullptr) {
      struct sctp_rcvinfo info;
      std::memset(&info, 0, sizeof info);
      socklen_t infolen = static_cast<socklen_t>(sizeof info);
      unsigned int infotype = 0;
      int flags = 0;
      struct sockaddr_conn from;
      socklen_t fromlen = static_cast<socklen_t>(sizeof from);
      const ssize_t n =
          usrsctp_recvv(sock, rbuf.data(), rbuf.size(), reinterpret_cast<struct sockaddr*>(&from),
                        &fromlen, &info, &infolen, &infotype, &flags);
      if (n < 0) return; // EWOULDBLOCK: nothing more; other errors surface as notifications
      if (n == 0) {
        set_state(AssociationState::kClosed, err(Code::kClosed, "sctp association ended"));
        return;
      }
      const std::size_t len = static_cast<std::size_t>(n);
      if (flags & MSG_NOTIFICATION) {
        if (notification.size() + len <= kMaxNotification)
          notification.insert(notification.end(), rbuf.begin(), rbuf.begin() + n);
        if (flags & MSG_EOR) {
          handle_notification();
          notification.clear();
        }
        continue;
      }
      if (assembling && info.rcv_sid != cur_sid) {
        // A piece of another stream before the end of the current message: usrsctp does not
        // interleave partial deliveries on one association, so the peer (or the stack) broke
        // framing; the unfinished message cannot be trusted.
        ++oversized_dropped;
        assembling = false;
      }
      if (!assembling) {
        assembling = true;
        oversized = false;
        cur_sid = info.rcv_sid;
        cur_ppid = net32(info.rcv_ppid);
        if (!message.empty()) secure_zero(message.data(), message.size());
        message.clear();
      }
      if (!oversized) {
        if (message.size() + len > config.local_max_message) {
          // Beyond what our SDP allowed: discard as it arrives rather than buffer it.
          oversized = true;
          if (!message.empty()) secure_zero(message.data(), message.size());
          Bytes().swap(message);
        } else {
          message.insert(message.end(), rbuf.begin(), rbuf.begin() + n);
        }
      }
      if (flags & MSG_EOR) {
        assembling = false;
        if (oversized) {
          ++oversized_dropped;
          IMSDC_LOGW(kLog, "dropped a message over the local max-message-size on stream %u",
                     cur_sid);
        } else {
          dispatch(cur_sid, cur_ppid, ByteSpan(message));
        }
        // The buffer is reused: do not leave a delivered message's plaintext behind.
        if (!message.empty()) secure_zero(message.data(), message.size());
        message.clear();
      }
    }
  }

  void handle_notification() {
    if (notification.size() < sizeof(std::uint16_t) * 2 + sizeof(std::uint32_t)) return;
    std::uint16_t type = 0;
    std::memcpy(&type, notification.data(), sizeof type);
    if (type == SCTP_ASSOC_CHANGE && notification.size() >= sizeof(struct sctp_assoc_change)) {
      struct sctp_assoc_change sac;
      std::memcpy(&sac, notification.data(), sizeof sac);
      if (sac.sac_state == SCTP_COMM_UP || sac.sac_state == SCTP_RESTART) {
        if (state == AssociationState::kConnecting) {
          set_state(AssociationState::kOpen, Status::ok());
          for (Channel& c : channels) {
            if (c.info.negotiated && c.state == ChState::kOpening) {
              c.state = ChState::kOpen;
              if (cb.on_channel_open) cb.on_channel_open(cb.ctx, c.info);
            }
          }
        }
      } else if (sac.sac_state == SCTP_COMM_LOST || sac.sac_state == SCTP_CANT_STR_ASSOC) {
        set_state(AssociationState::kFailed, err(Code::kNetwork, "sctp association lost"));
      } else if (sac.sac_state == SCTP_SHUTDOWN_COMP) {
        set_state(AssociationState::kClosed, err(Code::kClosed, "sctp shutdown"));
      }
    } else if (type == SCTP_STREAM_RESET_EVENT &&
               notification.size() >= sizeof(struct sctp_stream_reset_event)) {
      struct sctp_stream_reset_event ev;
      std::memcpy(&ev, notification.data(), sizeof ev);
      std::size_t count = 0;
      if (ev.strreset_length > sizeof ev && ev.strreset_length <= notification.size())
        count = (ev.strreset_length - sizeof ev) / sizeof(std::uint16_t);
      if ((ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) &&
          !(ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED))) {
        for (std::size_t i = 0; i < count; ++i) {
          std::uint16_t sid = 0;
          std::memcpy(&sid, notification.data() + sizeof ev + i * sizeof sid, sizeof sid);
          peer_reset(sid);
        }
      }
    } else if (type == SCTP_SENDER_DRY_EVENT) {
      flush();
    }
  }

  // The peer reset its outgoing stream `sid` (our incoming): either it closes the channel
  // (we answer by resetting ours, RFC 8831 section 6.7) or it completes our close.
  void peer_reset(std::uint16_t sid) {
    Channel* c = find(sid);
    if (c == nullptr) return;
    // Our reset is still owed when the peer started the close, or when our own close was
    // waiting for queued messages: the channel is gone, so they are dropped, not sent.
    const bool answer = c->state != ChState::kClosing || c->reset_pending;
    for (auto it = queue.begin(); it != queue.end();) {
      if (it->sid == sid) {
        total_buffered -= it->counted;
        it = queue.erase(it);
      } else {
        ++it;
      }
    }
    erase(sid);
    if (answer) reset_stream(sid);
    if (cb.on_channel_closed) cb.on_channel_closed(cb.ctx, sid);
  }

  bool peer_parity(std::uint16_t sid) const {
    // RFC 8832 section 6: the DTLS client uses even stream ids, the server odd ones.
    const bool peer_is_server = config.dtls.role == sdp::DtlsRole::kClient;
    return (sid % 2 == 1) == peer_is_server;
  }

  void dispatch(std::uint16_t sid, std::uint32_t ppid, ByteSpan data) {
    if (ppid == kPpidDcep) {
      handle_dcep(sid, data);
      return;
    }
    Channel* c = find(sid);
    // Data on a channel we opened by DCEP is an implicit ACK (RFC 8832 section 6): the
    // peer may send as soon as it has accepted, and unordered data can overtake the ACK.
    if (c != nullptr && c->state == ChState::kOpening && !c->info.negotiated) {
      c->state = ChState::kOpen;
      if (cb.on_channel_open) cb.on_channel_open(cb.ctx, c->info);
      c = find(sid);
    }
    // Nothing is delivered on a stream without an accepted channel (unknown, refused or
    // closing): the policy decision must not be bypassed by sending data first.
    if (c == nullptr || c->state != ChState::kOpen) return;
    switch (ppid) {
    case kPpidString:
    case kPpidBinary:
      if (cb.on_message) cb.on_message(cb.ctx, sid, data, ppid == kPpidBinary);
      break;
    case kPpidStringEmpty:
    case kPpidBinaryEmpty:
      if (cb.on_message) cb.on_message(cb.ctx, sid, ByteSpan(), ppid == kPpidBinaryEmpty);
      break;
    default:
      break; // deprecated partial PPIDs (52, 54) and unknown ones are ignored
    }
  }

  void handle_dcep(std::uint16_t sid, ByteSpan data) {
    if (is_dcep_ack(data)) {
      Channel* c = find(sid);
      if (c != nullptr && c->state == ChState::kOpening && !c->info.negotiated) {
        c->state = ChState::kOpen;
        if (cb.on_channel_open) cb.on_channel_open(cb.ctx, c->info);
      }
      return;
    }
    Result<DcepOpen> open = parse_dcep_open(data);
    if (!open.is_ok()) return;
    if (find(sid) != nullptr) return; // stream in use: a confused or hostile peer
    sdp::ChannelRequest req;
    req.stream_id = sid;
    req.label = open->label;
    req.subprotocol = open->protocol;
    req.bootstrap = sdp::is_bootstrap_stream(sid);
    bool accept =
        config.policy != nullptr && sdp::evaluate(*config.policy, req) == sdp::Verdict::kAccept;
    if (accept &&
        (!peer_parity(sid) || sid >= config.max_streams || channels.size() >= config.max_channels))
      accept = false;
    if (!accept) {
      IMSDC_LOGI(kLog, "refused in-band channel on stream %u", sid);
      reset_stream(sid);
      return;
    }
    Channel c;
    c.info.stream_id = sid;
    c.info.label.assign(open->label);
    c.info.protocol.assign(open->protocol);
    c.info.ordered = open->ordered;
    c.info.reliability = open->reliability;
    c.info.reliability_param = open->reliability_param;
    c.info.priority = open->priority;
    c.state = ChState::kOpen;
    channels.push_back(c);
    Pending ack;
    ack.sid = sid;
    ack.ppid = kPpidDcep;
    ack.data = Bytes{kDcepAck};
    enqueue(std::move(ack));
    const ChannelInfo info = channels.back().info;
    if (cb.on_channel_open) cb.on_channel_open(cb.ctx, info);
    flush();
  }

  void after_io() {
    drain();
    flush();
  }
};

AssociationConfig association_config(const sdp::Negotiated& n) {
  AssociationConfig c;
  c.dtls.role = n.role;
  c.dtls.remote_fingerprints = n.remote_fingerprints;
  c.remote_sctp_port = n.remote_sctp_port;
  c.remote_max_message = n.remote_max_message_size;
  c.channels = n.channels;
  return c;
}

Association::Association(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Association::~Association() = default;

Result<std::unique_ptr<Association>> Association::create(const AssociationConfig& config,
                                                         const AssociationCallbacks& callbacks) {
  if (config.max_channels == 0 || config.max_buffered == 0 || config.max_streams == 0 ||
      config.local_max_message == 0 || config.timer_tick_ms == 0 || config.rto_min_ms == 0 ||
      config.rto_min_ms > config.rto_initial_ms || config.rto_initial_ms > config.rto_max_ms)
    return err(Code::kInvalidArgument, "association limits");
  if (config.channels.size() > config.max_channels)
    return err(Code::kInvalidArgument, "more channels than max_channels");
  for (std::size_t i = 0; i < config.channels.size(); ++i) {
    const sdp::DcMap& m = config.channels[i];
    if (m.stream_id >= config.max_streams)
      return err(Code::kInvalidArgument, "stream id not below max_streams");
    if (m.max_retr && m.max_time) return err(Code::kInvalidArgument, "max-retr with max-time");
    for (std::size_t j = 0; j < i; ++j) {
      if (config.channels[j].stream_id == m.stream_id)
        return err(Code::kInvalidArgument, "duplicate stream id");
    }
  }
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl());
  if (!impl) return err(Code::kNoMemory, "association");
  Impl& a = *impl;
  a.config = config;
  a.cb = callbacks;
  a.send_limit = config.remote_max_message == 0 || config.remote_max_message > config.max_buffered
                     ? static_cast<std::uint32_t>(config.max_buffered)
                     : config.remote_max_message;
  for (const sdp::DcMap& m : config.channels) {
    Channel c;
    c.info.stream_id = m.stream_id;
    c.info.label = m.label;
    c.info.protocol = m.subprotocol;
    c.info.ordered = m.is_ordered();
    if (m.max_retr) {
      c.info.reliability = Reliability::kMaxRetransmits;
      c.info.reliability_param = *m.max_retr;
    } else if (m.max_time) {
      c.info.reliability = Reliability::kMaxLifetime;
      c.info.reliability_param = *m.max_time;
    }
    c.info.priority = m.priority.value_or(0);
    c.info.negotiated = true;
    a.channels.push_back(c);
  }
  Result<std::unique_ptr<DtlsEndpoint>> dtls = DtlsEndpoint::create(config.dtls);
  if (!dtls.is_ok()) return dtls.status();
  a.dtls = std::move(dtls.value());
  a.dtls->set_callbacks(Impl::dtls_data, Impl::dtls_state, &a);
  a.rbuf.assign(std::clamp<std::size_t>(config.local_max_message, kRecvChunkMin, kRecvChunkMax), 0);
  IMSDC_TRY(global_acquire(&a));
  a.global_held = true;
  std::unique_ptr<Association> out(new (std::nothrow) Association(std::move(impl)));
  if (!out) return err(Code::kNoMemory, "association");
  return out;
}

Status Association::start(std::uint64_t now_ms) {
  Impl& a = *impl_;
  if (a.state != AssociationState::kIdle) return err(Code::kState, "association started");
  a.now_ms = now_ms;
  a.state = AssociationState::kConnecting;
  run_timers(now_ms);
  Status s = a.dtls->start(now_ms);
  a.after_io();
  return s;
}

Status Association::feed(ByteSpan datagram, std::uint64_t now_ms) {
  Impl& a = *impl_;
  a.now_ms = now_ms;
  Status s = a.dtls->feed(datagram, now_ms);
  a.after_io();
  return s;
}

Status Association::poll(std::uint64_t now_ms) {
  Impl& a = *impl_;
  a.now_ms = now_ms;
  Status s = a.dtls->poll(now_ms);
  if (a.sock != nullptr) run_timers(now_ms);
  a.after_io();
  return s;
}

std::uint64_t Association::next_deadline() const {
  const Impl& a = *impl_;
  std::uint64_t d = a.dtls->next_deadline();
  if (a.sock != nullptr &&
      (a.state == AssociationState::kConnecting || a.state == AssociationState::kOpen)) {
    const std::uint64_t t = a.now_ms + a.config.timer_tick_ms;
    if (t < d) d = t;
  }
  return d;
}

bool Association::take_datagram(Bytes* out) {
  return impl_->dtls->take_datagram(out);
}

Result<std::uint16_t> Association::open_channel(std::string_view label, std::string_view protocol,
                                                bool ordered, std::optional<std::uint32_t> max_retr,
                                                std::optional<std::uint32_t> max_time_ms) {
  Impl& a = *impl_;
  if (a.state != AssociationState::kOpen) return err(Code::kState, "association not open");
  if (max_retr && max_time_ms) return err(Code::kInvalidArgument, "max-retr with max-time");
  if (label.size() > kMaxDcepField || protocol.size() > kMaxDcepField)
    return err(Code::kInvalidArgument, "label or protocol too long");
  if (a.channels.size() >= a.config.max_channels) return err(Code::kTooLarge, "channel table full");
  std::uint32_t sid = a.config.dtls.role == sdp::DtlsRole::kClient ? 0 : 1;
  while (sid < a.config.max_streams && a.find(static_cast<std::uint16_t>(sid)) != nullptr)
    sid += 2;
  if (sid >= a.config.max_streams) return err(Code::kTooLarge, "no free stream id");
  DcepOpen o;
  o.ordered = ordered;
  if (max_retr) {
    o.reliability = Reliability::kMaxRetransmits;
    o.reliability_param = *max_retr;
  } else if (max_time_ms) {
    o.reliability = Reliability::kMaxLifetime;
    o.reliability_param = *max_time_ms;
  }
  o.label = label;
  o.protocol = protocol;
  Result<Bytes> msg = encode_dcep_open(o);
  if (!msg.is_ok()) return msg.status();
  Channel c;
  c.info.stream_id = static_cast<std::uint16_t>(sid);
  c.info.label.assign(label);
  c.info.protocol.assign(protocol);
  c.info.ordered = ordered;
  c.info.reliability = o.reliability;
  c.info.reliability_param = o.reliability_param;
  c.state = ChState::kOpening;
  a.channels.push_back(c);
  Pending p;
  p.sid = static_cast<std::uint16_t>(sid);
  p.ppid = kPpidDcep;
  p.data = std::move(msg.value());
  a.enqueue(std::move(p));
  a.flush();
  return static_cast<std::uint16_t>(sid);
}

Status Association::send(std::uint16_t stream_id, ByteSpan data, bool binary) {
  Impl& a = *impl_;
  if (a.state != AssociationState::kOpen) return err(Code::kState, "association not open");
  Channel* c = a.find(stream_id);
  if (c == nullptr || c->state == ChState::kClosing ||
      (c->state == ChState::kOpening && c->info.negotiated))
    return err(Code::kNotFound, "no open channel on this stream");
  if (data.size() > a.send_limit) return err(Code::kTooLarge, "message over max-message-size");
  if (a.total_buffered + data.size() > a.config.max_buffered)
    return err(Code::kWouldBlock, "send buffer full");
  Pending p;
  p.sid = stream_id;
  if (data.empty()) {
    // RFC 8831 section 6.6: an empty message is one zero byte with the "empty" PPID.
    p.ppid = binary ? kPpidBinaryEmpty : kPpidStringEmpty;
    p.data = Bytes{0};
  } else {
    p.ppid = binary ? kPpidBinary : kPpidString;
    p.data.assign(data.begin(), data.end());
  }
  // Until the DCEP ACK arrives, messages go ordered so they cannot overtake the OPEN
  // (RFC 8832 section 6).
  p.unordered = !c->info.ordered && c->state == ChState::kOpen;
  if (c->info.reliability == Reliability::kMaxRetransmits) {
    p.pr_policy = SCTP_PR_SCTP_RTX;
    p.pr_value = c->info.reliability_param;
  } else if (c->info.reliability == Reliability::kMaxLifetime) {
    p.pr_policy = SCTP_PR_SCTP_TTL;
    p.pr_value = c->info.reliability_param;
  }
  p.counted = data.size();
  c->buffered += data.size();
  a.total_buffered += data.size();
  a.enqueue(std::move(p));
  a.flush();
  return Status::ok();
}

Status Association::close_channel(std::uint16_t stream_id) {
  Impl& a = *impl_;
  Channel* c = a.find(stream_id);
  if (c == nullptr) return err(Code::kNotFound, "no channel on this stream");
  if (c->state == ChState::kClosing) return Status::ok();
  c->state = ChState::kClosing;
  c->reset_pending = true;
  a.flush();
  return Status::ok();
}

std::size_t Association::buffered_amount(std::uint16_t stream_id) const {
  const Channel* c = const_cast<Impl&>(*impl_).find(stream_id);
  return c ? c->buffered : 0;
}

void Association::set_buffered_low_threshold(std::uint16_t stream_id, std::size_t bytes) {
  if (Channel* c = impl_->find(stream_id)) c->low_water = bytes;
}

void Association::close() {
  Impl& a = *impl_;
  if (a.state == AssociationState::kClosed || a.state == AssociationState::kFailed) return;
  if (a.sock != nullptr) {
    usrsctp_close(a.sock); // SO_LINGER 0: ABORT
    a.sock = nullptr;
  }
  a.dtls->close();
  a.set_state(AssociationState::kClosed, err(Code::kClosed, "closed"));
}

AssociationState Association::state() const {
  return impl_->state;
}
Status Association::error() const {
  return impl_->error;
}
const PeerIdentity& Association::peer() const {
  return impl_->dtls->peer();
}
std::vector<ChannelInfo> Association::channels() const {
  std::vector<ChannelInfo> out;
  for (const Channel& c : impl_->channels)
    out.push_back(c.info);
  return out;
}
std::size_t Association::oversized_dropped() const {
  return impl_->oversized_dropped;
}

namespace {

int conn_output(void* addr, void* buffer, size_t length, uint8_t, uint8_t) {
  // addr is the sconn_addr we bound: the association. A packet for one that is already gone
  // (a late timer) is dropped, as a network would.
  if (!is_live(addr)) return -1;
  auto* a = static_cast<Association::Impl*>(addr);
  if (a->dtls == nullptr) return -1;
  Status s = a->dtls->send(ByteSpan(static_cast<const std::uint8_t*>(buffer), length));
  if (!s.is_ok()) {
    if (s == Code::kTooLarge)
      IMSDC_LOGW(kLog, "sctp packet of %zu bytes exceeds the dtls record size", length);
    return -1;
  }
  return 0;
}

} // namespace
} // namespace imsdc::dc
