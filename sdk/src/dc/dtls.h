// DTLS 1.2 endpoint for IMS data channels (RFC 8261, PROTOCOL_PROFILE.md section 4) on
// mbedTLS, sans-I/O: the caller feeds received datagrams and the current monotonic time, and
// takes the datagrams to send; there is no socket, no thread and no libc clock here.
//
// Trust follows RFC 8122/8842: the peer certificate is not validated against CAs for the
// handshake; after it, its digest (computed with the strongest hash the SDP named) must
// equal one of the SDP's remote fingerprints, compared in constant time. On mismatch the
// endpoint sends a fatal alert and fails with Code::kTls before a single application byte
// can be sent or delivered (send() refuses and nothing reaches the data callback until the
// check has passed). Separately the peer is classified e2ae / e2e (TR 33.890): e2ae when its
// chain leads to a configured access-edge trust anchor (checked with the port's wall clock)
// or its certificate matches a configured fingerprint, e2e otherwise.
//
// As DTLS server a fragmented ClientHello is joined by HelloReassembler first (mbedTLS 2.28
// cannot take one), and HelloVerifyRequest cookies are used (RFC 6347 section 4.2.1).
#ifndef IMSDC_SRC_DC_DTLS_H
#define IMSDC_SRC_DC_DTLS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/crypto.h"
#include "imsdc/port/keystore.h"
#include "imsdc/status.h"
#include "sdp/negotiate.h"

namespace imsdc::dc {

// Who terminates the association (TR 33.890 sol. #4/#5).
enum class Termination : std::uint8_t { kUnknown, kE2ae, kE2e };

struct DtlsConfig {
  sdp::DtlsRole role = sdp::DtlsRole::kNone;
  // Device key and certificate chain; the key signs through the port. Must outlive the
  // endpoint.
  const imsdc_port_keystore* keystore = nullptr;
  // The SDP's remote fingerprints (Negotiated::remote_fingerprints).
  std::vector<sdp::Fingerprint> remote_fingerprints;
  // Access-edge classification; both empty: every peer is e2e. Must outlive the endpoint.
  const crypto::TrustStore* access_edge_trust = nullptr;
  std::vector<crypto::Fingerprint> access_edge_fingerprints;
  // Largest datagram written (IPv6 minimum MTU minus IP/UDP headers leaves room).
  std::uint16_t mtu = 1200;
  // Handshake retransmission (RFC 6347 section 4.2.4.1): initial and final timeout.
  std::uint32_t retransmit_min_ms = 1000;
  std::uint32_t retransmit_max_ms = 32000;
  // Bounds of the in-memory queues (datagrams).
  std::size_t max_out_datagrams = 256;
  std::size_t max_in_datagrams = 32;
  // Stable id of the peer's transport address for HelloVerify cookies (server only), e.g.
  // "ip:port"; may be empty when the association has one fixed peer.
  std::string peer_transport_id;
  // DEBUG ONLY (PROTOCOL_PROFILE.md section 4): receives one NSS key log line per handshake,
  // "CLIENT_RANDOM <64 hex> <96 hex>\n", which lets Wireshark decrypt the association. The
  // line holds the master secret; the buffer is zeroized after the call. Honoured only in
  // builds with IMSDC_WITH_DTLS_KEYLOG (CMake option IMSDC_DTLS_KEYLOG, never in release
  // presets); elsewhere create() refuses a non-null key_log with kUnsupported. The endpoint
  // logs a warning at creation whenever a key log is active.
  using KeyLogFn = void (*)(void* ctx, const char* line);
  KeyLogFn key_log = nullptr;
  void* key_log_ctx = nullptr;
};

enum class DtlsState : std::uint8_t { kIdle, kHandshaking, kConnected, kClosed, kFailed };

struct PeerIdentity {
  Termination termination = Termination::kUnknown;
  std::string subject;   // peer certificate subject, as mbedTLS prints it
  Bytes certificate_der; // peer leaf certificate
};

class DtlsEndpoint {
public:
  // Application data from the peer (one DTLS record's plaintext). Called from feed()/poll()
  // only after the fingerprint check has passed.
  using DataFn = void (*)(void* ctx, ByteSpan data);
  // State change to kConnected, kClosed or kFailed.
  using StateFn = void (*)(void* ctx, DtlsState state, Status status);

  // Builds the endpoint; nothing is sent before start(). Errors: kInvalidArgument (role
  // kNone, no keystore, no remote fingerprint), kNotFound / kPortFailure (keystore has no
  // key or chain), kMalformed (chain does not parse), kInternal.
  static Result<std::unique_ptr<DtlsEndpoint>> create(const DtlsConfig& config);
  ~DtlsEndpoint();
  DtlsEndpoint(const DtlsEndpoint&) = delete;
  DtlsEndpoint& operator=(const DtlsEndpoint&) = delete;

  void set_callbacks(DataFn on_data, StateFn on_state, void* ctx);

  // Starts the handshake (the client writes its ClientHello). Errors: kState (started
  // twice), kTls.
  Status start(std::uint64_t now_ms);

  // One received datagram. Drives the handshake or delivers application data. Errors:
  // kState (not started, or closed/failed), kTooLarge (datagram over the record limit),
  // kWouldBlock (input queue full; the datagram is dropped, as a network would), kTls
  // (handshake or fingerprint failure; the endpoint is failed), kTimeout.
  Status feed(ByteSpan datagram, std::uint64_t now_ms);

  // Runs retransmission timers. Returns the failure status once, as feed() does.
  Status poll(std::uint64_t now_ms);

  // Next instant poll() has work, or UINT64_MAX when no timer runs.
  std::uint64_t next_deadline() const;

  // Takes the oldest datagram to send; false when none is queued.
  bool take_datagram(Bytes* out);

  // Sends application data as one record (at most max_record_payload() bytes). Errors:
  // kState (not connected or not yet verified), kTooLarge, kWouldBlock (output queue full),
  // kTls.
  Status send(ByteSpan data);
  std::size_t max_record_payload() const;

  // Sends close_notify and closes. Idempotent.
  void close();

  DtlsState state() const;
  Status error() const;
  // Valid once connected.
  const PeerIdentity& peer() const;
  // Name of the negotiated ciphersuite (static string), or "".
  const char* ciphersuite() const;

  struct Impl;

private:
  explicit DtlsEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_DTLS_H
