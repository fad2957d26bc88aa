// One IMS data-channel m-line over UDP: its sockets (from the net port), its ICE agent (host
// candidates, ice/agent.h) and its DTLS/SCTP association (dc/association.h), demultiplexed
// as RFC 7983 says (STUN to the agent, DTLS to the association, anything else dropped).
//
// Non-blocking and single-threaded like the rest of the core: the caller's loop calls
// service() whenever a socket may be readable or next_deadline() has passed, and waits on
// add_handles() in between (the net port's wait()). Events arrive on a Handler from inside
// service() (and from the association calls the caller makes). Time comes from the caller.
//
// The DTLS path: with ICE (Config::ice), the pair the agent selects; DTLS starts as soon as
// there is one, also when the peer's first DTLS flight arrives in the same batch of datagrams
// as the STUN answer that completes our selection (it is fed, not dropped). Without ICE,
// the peer's c= address and m= port (Negotiated::remote_connection, remote_port) from the
// first local socket of the same family; DTLS starts in start(). DTLS datagrams from any
// other address than the path's remote end are dropped.
//
// Several Links may run in one process (one per m-line of a call, several calls): the
// associations share usrsctp, so all of them must be driven from the same thread.
#ifndef IMSDC_SRC_DC_LINK_H
#define IMSDC_SRC_DC_LINK_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dc/association.h"
#include "dc/dtls.h"
#include "ice/agent.h"
#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/port/keystore.h"
#include "imsdc/port/net.h"
#include "imsdc/status.h"
#include "sdp/negotiate.h"

namespace imsdc::dc {

class Link {
public:
  // Events of one link. All run on the thread that drives the link.
  class Handler {
  public:
    virtual ~Handler() = default;
    // The association's state (dc/association.h), and kFailed when ICE fails (no pair was
    // selected in time, or consent expired, RFC 7675) or DTLS cannot start on the pair.
    virtual void on_state(Link& link, AssociationState state, Status status) = 0;
    virtual void on_open(Link& link, const ChannelInfo& channel) = 0;
    virtual void on_message(Link& link, std::uint16_t sid, ByteSpan data, bool binary) = 0;
    virtual void on_closed(Link& link, std::uint16_t sid) = 0;
    // The channel's send buffer drained to its low-water mark (after kWouldBlock). May run
    // inside Association::send(): a send loop driven from here must not recurse.
    virtual void on_writable(Link&, std::uint16_t) {}
    // ICE selected the pair that carries DTLS: `local` (ours) to `remote`. Once, just
    // before DTLS starts; never without ICE.
    virtual void on_connected(Link&, const imsdc_port_addr& local, const imsdc_port_addr& remote) {
      (void)local;
      (void)remote;
    }
  };

  struct Config {
    // Local addresses to bind one UDP socket each (port 0: any), best first, 1 to 8. Empty:
    // every local address the net port lists (loopback only when there is no other).
    std::vector<imsdc_port_addr> binds;
    // The DTLS certificate and key; its leaf's sha-256 is our SDP fingerprint. Must outlive
    // the link.
    const imsdc_port_keystore* keystore = nullptr;
    // Our a=max-message-size: the largest message accepted from the peer.
    std::uint32_t max_message = IMSDC_DC_MAX_MESSAGE_SIZE;
    // Access-edge classification (dc/dtls.h): peers chaining to it are e2ae. Must outlive
    // the link.
    const crypto::TrustStore* access_edge = nullptr;
    // ICE host checks pick the path (and the SDP carries ICE lines); false: no ICE, DTLS
    // goes to the peer's c=/m= port.
    bool ice = true;
    // DEBUG builds only (DtlsConfig::key_log, which refuses it elsewhere): the DTLS key log.
    DtlsConfig::KeyLogFn key_log = nullptr;
    void* key_log_ctx = nullptr;
    std::string name; // for the caller's log lines
  };

  // Binds the sockets through `net` (which must outlive the link) and makes our half of the
  // SDP (ICE credentials and host candidates unless !ice, the keystore certificate's sha-256
  // fingerprint, a fresh tls-id). Errors: kInvalidArgument (no net port or one without UDP,
  // no keystore, more than 8 addresses), kNetwork (a socket cannot be bound, no local
  // address), kNotFound (no certificate in the keystore), kPortFailure, kEntropy.
  static Result<std::unique_ptr<Link>> create(const imsdc_port_net* net, const Config& config);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Our half of the SDP (for sdp::make_offer / make_answer).
  const sdp::LocalEndpoint& local() const { return local_; }
  const Config& config() const { return config_; }
  const std::string& name() const { return config_.name; }

  // Creates the association from the negotiated result and starts ICE (controlling: the
  // offerer) or, without ICE, DTLS at once. `policy` decides on the peer's channel opens
  // (null: all refused) and, like `handler`, must outlive the link. Errors: kRejected (the
  // data channel was refused, or the peer's line has no ICE), kMalformed (without ICE: the
  // peer's c= is not an IP address), kNetwork (no local socket of its family), kState
  // (started already), and those of Association::create and Agent::create.
  Status start(const sdp::Negotiated& negotiated, bool controlling,
               const sdp::ChannelPolicy* policy, Handler* handler, std::uint64_t now_ms);
  // Reads every socket, runs ICE and the association, sends what they produced. Does
  // nothing before start().
  void service(std::uint64_t now_ms);
  // Sends what the association has queued; for sends made outside service().
  void flush();
  // The next time service() has timer work (UINT64_MAX: none).
  std::uint64_t next_deadline() const;
  // Appends our sockets (for the net port's wait()).
  void add_handles(std::vector<imsdc_port_udp*>* out) const;

  // Null before start().
  Association* association() { return assoc_.get(); }
  bool is_open() const { return open_; }
  // "e2ae" or "e2e" once open (the DTLS peer's classification), else "-".
  const char* termination() const;
  // Milliseconds from start() to the association's open (on the caller's clock).
  std::uint64_t setup_ms() const { return open_ms_ - start_ms_; }
  // Closes the association (SCTP ABORT, DTLS close_notify) and sends what that produced.
  void close();

private:
  struct Socket {
    imsdc_port_addr addr{};
    imsdc_port_udp* udp = nullptr;
  };
  Link(const imsdc_port_net* net, const Config& config) : config_(config), net_(net) {}
  Status start_without_ice(const sdp::Negotiated& negotiated, std::uint64_t now);
  void send_from(const imsdc_port_addr& from, const imsdc_port_addr& to, const Bytes& d);
  void take_selected(std::uint64_t now);
  static void on_state_cb(void* p, AssociationState st, Status s);
  static void on_open_cb(void* p, const ChannelInfo& c);
  static void on_message_cb(void* p, std::uint16_t sid, ByteSpan d, bool binary);
  static void on_low_cb(void* p, std::uint16_t sid);
  static void on_closed_cb(void* p, std::uint16_t sid);

  Config config_;
  const imsdc_port_net* net_;
  std::vector<Socket> socks_;
  sdp::LocalEndpoint local_;
  Handler* handler_ = nullptr;
  std::unique_ptr<ice::Agent> agent_;
  std::unique_ptr<Association> assoc_;
  bool path_ = false;
  imsdc_port_addr path_local_{}, path_remote_{};
  bool open_ = false;
  bool ice_failed_ = false;
  std::uint64_t now_ = 0; // of the running service()
  std::uint64_t start_ms_ = 0, open_ms_ = 0;
  Bytes buf_;
};

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_LINK_H
