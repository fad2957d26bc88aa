// One IMS data-channel association: DTLS 1.2 (DtlsEndpoint) carrying SCTP (usrsctp, AF_CONN,
// RFC 8261) carrying data channels (RFC 8831): channels negotiated in SDP (dcmap, RFC 8864)
// open on their stream ids without DCEP; other channels use DCEP (RFC 8832).
//
// Sans-I/O like DtlsEndpoint: feed() received datagrams, poll() timers, take_datagram() what
// to send; callbacks run inside those calls. No thread is started: usrsctp runs with
// usrsctp_init_nothreads and its timers are driven from poll().
//
// Messages larger than one SCTP chunk: a message is handed to usrsctp whole (its send buffer
// is sized to the largest allowed message) and SCTP fragments it; on receive the pieces that
// partial delivery hands over are joined up to local_max_message. SCTP_EXPLICIT_EOR is not
// used, so one large message never blocks the socket half-written.
//
// Safety properties:
// - SCTP starts only after the DTLS peer certificate matched the SDP fingerprint, so no
//   application byte moves on an unauthenticated association.
// - In-band (DCEP) channel opens from the peer pass the same sdp::ChannelPolicy as SDP
//   offers; a rejected open is answered by resetting the stream, nothing is delivered.
// - Memory is bounded: the send queue (max_buffered), the receive reassembly buffer (the
//   local max-message-size), the channel table (max_channels), DTLS queues.
//
// Time: usrsctp's timers run from poll() on the caller's clock, but usrsctp 0.9.5 also
// reads the real time itself (gettimeofday) for RTT samples and to decide, when its T3
// timer fires, which chunks have been outstanding for an RTO. A caller's clock that runs much
// faster than real time (a test's virtual clock) therefore sees T3 retransmit nothing; loss
// recovery needs the caller's clock to move no faster than real time.
//
// Threading: usrsctp is process-global. Its initialisation is reference counted under a
// port mutex, so associations may be created and destroyed anywhere, but all associations
// of a process must be driven (feed/poll/send) from one thread, the SDK's event thread,
// because usrsctp's timers fire for every association from whichever poll() runs them.
#ifndef IMSDC_SRC_DC_ASSOCIATION_H
#define IMSDC_SRC_DC_ASSOCIATION_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dc/dcep.h"
#include "dc/dtls.h"
#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/status.h"
#include "sdp/negotiate.h"

namespace imsdc::dc {

struct AssociationConfig {
  DtlsConfig dtls;
  std::uint16_t local_sctp_port = 5000;
  std::uint16_t remote_sctp_port = 5000;
  // Largest message accepted from the peer (what our SDP announced); larger ones are
  // discarded while they arrive, never buffered whole.
  std::uint32_t local_max_message = IMSDC_DC_MAX_MESSAGE_SIZE;
  // The peer's a=max-message-size; 0 = no limit (then max_buffered bounds a message).
  std::uint32_t remote_max_message = 65536;
  // Channels from the SDP (Negotiated::channels): open without DCEP.
  std::vector<sdp::DcMap> channels;
  // Decides on in-band channel opens from the peer. Null: every such open is refused.
  // Must outlive the association.
  const sdp::ChannelPolicy* policy = nullptr;
  std::size_t max_channels = IMSDC_DC_MAX_CHANNELS;
  // Bytes accepted by send() and not yet taken by SCTP, over all channels.
  std::size_t max_buffered = 1024 * 1024;
  // SCTP streams each way; stream ids must stay below. Each costs usrsctp some bytes of
  // state; application channels use ids from 1000 (TS 26.114), hence the default.
  std::uint16_t max_streams = 2048;
  // Granularity of usrsctp's timers as reported by next_deadline().
  std::uint32_t timer_tick_ms = 10;
  // SCTP retransmission timeout bounds (RFC 4960 section 6.3.1), min <= initial <= max.
  std::uint32_t rto_min_ms = 200;
  std::uint32_t rto_initial_ms = 1000;
  std::uint32_t rto_max_ms = 10000;
};

// Builds the configuration from an SDP offer/answer result. The DTLS key, trust settings,
// policy and limits are the caller's to fill in.
AssociationConfig association_config(const sdp::Negotiated& negotiated);

enum class AssociationState : std::uint8_t { kIdle, kConnecting, kOpen, kClosed, kFailed };

struct ChannelInfo {
  std::uint16_t stream_id = 0;
  std::string label;
  std::string protocol;
  bool ordered = true;
  Reliability reliability = Reliability::kReliable;
  std::uint32_t reliability_param = 0;
  std::uint16_t priority = 0;
  bool negotiated = false; // from SDP (no DCEP)
};

struct AssociationCallbacks {
  void* ctx = nullptr;
  void (*on_state)(void* ctx, AssociationState state, Status status) = nullptr;
  // A channel is usable (negotiated ones when SCTP is up; DCEP ones on ACK or accepted OPEN).
  void (*on_channel_open)(void* ctx, const ChannelInfo& channel) = nullptr;
  // One whole message (binary false: a UTF-8 string by PPID). Empty messages have size 0.
  void (*on_message)(void* ctx, std::uint16_t stream_id, ByteSpan data, bool binary) = nullptr;
  void (*on_channel_closed)(void* ctx, std::uint16_t stream_id) = nullptr;
  // buffered_amount(stream) fell to or below the channel's low-water mark. May run inside
  // send() (when the queue drains at once): a send loop driven from this callback must not
  // recurse into itself.
  void (*on_buffered_low)(void* ctx, std::uint16_t stream_id) = nullptr;
};

class Association {
public:
  // Errors: as DtlsEndpoint::create; kInvalidArgument (a negotiated stream id not below
  // max_streams, duplicate ids, more channels than max_channels, zero limits); kNoMemory,
  // kInternal (usrsctp could not be initialised).
  static Result<std::unique_ptr<Association>> create(const AssociationConfig& config,
                                                     const AssociationCallbacks& callbacks);
  ~Association();
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  // Starts DTLS (the client sends its ClientHello); SCTP follows once DTLS is verified.
  // Errors: kState.
  Status start(std::uint64_t now_ms);
  // One datagram from the network. Errors: as DtlsEndpoint::feed; the association fails
  // (kTls, kTimeout) and reports it through on_state too.
  Status feed(ByteSpan datagram, std::uint64_t now_ms);
  Status poll(std::uint64_t now_ms);
  std::uint64_t next_deadline() const;
  bool take_datagram(Bytes* out);

  // Opens an in-band channel with DCEP on the next free stream id of our parity (DTLS
  // client even, server odd; RFC 8832 section 6). Errors: kState (not open), kTooLarge
  // (channel table full or no free stream id), kInvalidArgument (label/protocol too long,
  // max-retr with max-time).
  Result<std::uint16_t> open_channel(std::string_view label, std::string_view protocol,
                                     bool ordered = true,
                                     std::optional<std::uint32_t> max_retr = std::nullopt,
                                     std::optional<std::uint32_t> max_time_ms = std::nullopt);

  // Queues one message. Errors: kNotFound (no such open channel), kTooLarge (over the
  // peer's max-message-size), kWouldBlock (max_buffered would be exceeded), kState.
  Status send(std::uint16_t stream_id, ByteSpan data, bool binary = true);

  // Closes a channel by resetting its outgoing stream (RFC 8831 section 6.7); on_channel_closed
  // follows when the peer has reset its side. Errors: kNotFound.
  Status close_channel(std::uint16_t stream_id);

  std::size_t buffered_amount(std::uint16_t stream_id) const;
  void set_buffered_low_threshold(std::uint16_t stream_id, std::size_t bytes);

  // Aborts the association (SCTP ABORT, DTLS close_notify). Idempotent.
  void close();

  AssociationState state() const;
  Status error() const;
  const PeerIdentity& peer() const;
  std::vector<ChannelInfo> channels() const;
  // Messages discarded on receive because they exceeded local_max_message (or arrived with
  // broken framing).
  std::size_t oversized_dropped() const;

  struct Impl;

private:
  explicit Association(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_ASSOCIATION_H
