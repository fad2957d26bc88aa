// One data-channel m-line of a call, for the CLI programs that run several at once from one
// loop (imsdc mf, imsdc avatar-call): its UDP sockets, its ICE agent (host candidates) and its
// DTLS/SCTP association. Non-blocking: the program's loop calls service() whenever a socket
// may be readable or a deadline has passed; events go to a Handler.
#ifndef IMSDC_CLI_DC_ENDPOINT_H
#define IMSDC_CLI_DC_ENDPOINT_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dc/association.h"
#include "ice/agent.h"
#include "imsdc/crypto.h"
#include "imsdc/port/net.h"
#include "sdp/negotiate.h"

namespace imsdc::cli {

class DcEndpoint {
public:
  class Handler {
  public:
    virtual ~Handler() = default;
    virtual void on_state(DcEndpoint& ep, dc::AssociationState state, Status status) = 0;
    virtual void on_open(DcEndpoint& ep, const dc::ChannelInfo& channel) = 0;
    virtual void on_message(DcEndpoint& ep, std::uint16_t sid, ByteSpan data, bool binary) = 0;
    virtual void on_closed(DcEndpoint& ep, std::uint16_t sid) = 0;
    virtual void on_writable(DcEndpoint&, std::uint16_t) {}
  };

  struct Config {
    std::vector<imsdc_port_addr> binds;            // empty: 127.0.0.1
    const imsdc_port_keystore* keystore = nullptr; // the DTLS certificate (must outlive us)
    std::uint32_t max_message = 262144;
    // Access-edge classification (dc/dtls.h): peers chaining to it are e2ae.
    const crypto::TrustStore* access_edge = nullptr;
    // DEBUG builds only: append the DTLS key log here (dc/dtls.h refuses it elsewhere).
    std::string keylog_file;
    std::string name; // for log lines
  };

  // Binds the sockets and makes the local SDP fields (ICE credentials, candidates, the
  // keystore certificate's sha-256 fingerprint, a fresh tls-id).
  static Result<std::unique_ptr<DcEndpoint>> create(const Config& config);
  ~DcEndpoint();
  DcEndpoint(const DcEndpoint&) = delete;
  DcEndpoint& operator=(const DcEndpoint&) = delete;

  const sdp::LocalEndpoint& local() const { return local_; }
  // Starts ICE (controlling = the offerer) and creates the association from the negotiated
  // result; DTLS starts as soon as ICE selects a pair. policy must outlive the endpoint.
  Status start(const sdp::Negotiated& negotiated, bool controlling,
               const sdp::ChannelPolicy* policy, Handler* handler, std::uint64_t now_ms);
  // Reads every socket, runs ICE and the association, sends what they produced.
  void service(std::uint64_t now_ms);
  std::uint64_t next_deadline() const;
  void add_handles(std::vector<imsdc_port_udp*>* out) const;

  dc::Association* association() { return assoc_.get(); }
  bool is_open() const { return open_; }
  // "e2ae" or "e2e" once open (the DTLS peer's classification), else "-".
  const char* termination() const;
  const std::string& name() const { return config_.name; }
  // Milliseconds from start() to the association's open.
  std::uint64_t setup_ms() const { return open_ms_ - start_ms_; }
  // Closes the association (SCTP abort, DTLS close_notify) and flushes what that sends.
  void close();

private:
  explicit DcEndpoint(const Config& config) : config_(config) {}
  void send_from(const imsdc_port_addr& from, const imsdc_port_addr& to, const Bytes& d);
  void take_selected(std::uint64_t now);
  void flush();
  static void on_state_cb(void* p, dc::AssociationState st, Status s);
  static void on_open_cb(void* p, const dc::ChannelInfo& c);
  static void on_message_cb(void* p, std::uint16_t sid, ByteSpan d, bool binary);
  static void on_low_cb(void* p, std::uint16_t sid);
  static void on_closed_cb(void* p, std::uint16_t sid);
  static void keylog_cb(void* p, const char* line);

  struct Socket {
    imsdc_port_addr addr{};
    imsdc_port_udp* udp = nullptr;
  };
  Config config_;
  const imsdc_port_net* net_ = nullptr;
  std::vector<Socket> socks_;
  sdp::LocalEndpoint local_;
  Handler* handler_ = nullptr;
  std::unique_ptr<ice::Agent> agent_;
  std::unique_ptr<dc::Association> assoc_;
  bool path_ = false;
  imsdc_port_addr path_local_{}, path_remote_{};
  bool open_ = false;
  bool ice_failed_ = false;
  std::uint64_t start_ms_ = 0, open_ms_ = 0;
  Bytes buf_;
};

// The sha-256 of the keystore's leaf certificate (the SDP fingerprint).
Result<crypto::Digest> leaf_sha256(const imsdc_port_keystore& ks);

} // namespace imsdc::cli

#endif // IMSDC_CLI_DC_ENDPOINT_H
