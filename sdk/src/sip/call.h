// SIP calls for IMS (PROTOCOL_PROFILE.md section 2), sans-I/O, over the registration's
// message transport.
//
// A CallAgent holds up to kMaxCalls calls. Like sip::Registration it never touches the
// network or the clock: the caller feeds it every message the transport delivers (the
// registration gets them too; each ignores what is not its own) and the time, and carries
// out what each call returns in a CallOutput: messages to send, events for the application,
// and the deadline at which poll() must run next.
//
// What it does, per call:
// - INVITE with the application's SDP offer; 100rel (RFC 3262): a reliable 18x is PRACKed,
//   a reliable 18x we send carries RSeq and waits for its PRACK before a 2xx that follows an
//   answer in it; 2xx is ACKed, non-2xx ACKed by the transaction; CANCEL before the answer
//   (sent after the first provisional response, as RFC 3261 section 9.1 requires);
//   BYE; incoming INVITE, CANCEL, ACK, BYE.
// - Offer/answer per dialog: UPDATE (RFC 3311) and re-INVITE carry new offers; an incoming
//   offer is answered by the application's OfferAnswerer; an offer that crosses ours gets
//   491 and a 491 we receive is retried after the random delay of RFC 3261 section 14.1.
// - Session timers (RFC 4028): Session-Expires / Min-SE on the INVITE, 422 retried once
//   with the peer's Min-SE; the refresher sends an UPDATE at half the interval; the other
//   side sends BYE when no refresh arrived by SE - min(32, SE/3).
// - Originating third-party identity: P-Preferred-Identity, the third-party token as
//   Proxy-Authorization: Bearer (pre-emptively or after a 407 Bearer challenge), and
//   Privacy: id. Authorization is never put on an INVITE. The copy of the INVITE kept for
//   CANCEL and ACK carries no token, and the wire copy is wiped once handed over.
// - The avatar reference (default Call-Info ...;purpose=avatar) on INVITE, 18x and 2xx, and
//   read from the peer's (reported unverified).
// - The MMTel ICSI feature tag (Contact, Accept-Contact, P-Preferred-Service) on request.
#ifndef IMSDC_SRC_SIP_CALL_H
#define IMSDC_SRC_SIP_CALL_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/status.h"
#include "sip/builder.h"
#include "sip/dialog.h"
#include "sip/registration.h"
#include "sip/transaction.h"

namespace imsdc::sip {

// Most simultaneous calls (each keeps its transactions' messages, at most
// IMSDC_MAX_SIP_MESSAGE each); further INVITEs get 486 Busy Here. imsdc/config_defaults.h.
constexpr std::size_t kMaxCalls = IMSDC_MAX_CALLS;
// Most requests one call has outstanding at once (PRACK, UPDATE, BYE, CANCEL...).
constexpr std::size_t kMaxPendingPerCall = IMSDC_MAX_PENDING_PER_CALL;
// RFC 4028 section 4: the smallest Min-SE a UA may use.
constexpr std::uint32_t kRfc4028MinSe = 90;
// ICSI of MMTel (TS 24.173), as a feature tag value and as a service identifier.
constexpr const char* kMmtelIcsi = "urn:urn-7:3gpp-service.ims.icsi.mmtel";

using CallId = std::uint32_t;

// Answers an offer that arrives in the middle of a call (UPDATE, re-INVITE). answer must
// write the answer SDP; an error rejects the offer with 488. Null: the current local SDP
// is the answer.
struct OfferAnswerer {
  Status (*answer)(void* context, CallId call, ByteSpan offer, std::string* answer) = nullptr;
  void* context = nullptr;
};

struct CallConfig {
  std::string impu;        // our AoR: From of our requests (must be registered)
  std::string contact_uri; // Registration::contact_uri(): sip:user@host.invalid;transport=ws
  std::string via_host;    // Registration::via_host(): the ".invalid" host of our Via
  RandomSource random;
  bool use_100rel = true; // Supported: 100rel; reliable 18x when the caller supports it
  // Session-Expires we ask for on INVITE (RFC 4028); 0: no session timer. Below
  // kRfc4028MinSe only for tests (the RFC minimum is 90 s): min_se_s must then be as low.
  std::uint32_t session_expires_s = 1800;
  std::uint32_t min_se_s = kRfc4028MinSe; // smallest interval we accept (422 below it)
  std::string avatar_header = "Call-Info";
  std::string avatar_uri; // our avatar reference (https://<bar>/avatars/<id>); empty: none
  OfferAnswerer answerer;
};

// One outgoing call.
struct OutgoingCall {
  std::string to;  // SIP or tel URI of the callee
  std::string sdp; // the offer (the application's m-lines; non-empty)
  bool mmtel = false;
  // Originating third-party identity (TR 33.790 sol. #4 option B)
  std::string preferred_identity;  // P-Preferred-Identity URI; empty: none
  TokenProvider third_party_token; // the enterprise token, sent as Proxy-Authorization
  bool preemptive_token = false;   // send it on the first INVITE instead of after a 407
  bool privacy_id = false;         // Privacy: id
  // A back-to-back user agent acting for the served user (the labnet media function): the
  // From AoR of this call and its avatar reference. Empty: CallConfig's impu / avatar_uri.
  std::string from;
  std::string avatar_uri;
};

enum class CallEventKind : std::uint8_t {
  kIncoming,      // a new INVITE (call it answers with ring/answer/reject)
  kProgress,      // caller: a 1xx other than 100 (sdp when it carried the answer)
  kAnswered,      // caller: 2xx to the INVITE, ACK sent (sdp: the answer, if in the 2xx)
  kConfirmed,     // callee: the ACK arrived (sdp when the INVITE had no offer)
  kRemoteOffer,   // the peer's UPDATE / re-INVITE offer (sdp) was answered
  kOfferAnswered, // our UPDATE / re-INVITE got its answer (sdp)
  kOfferFailed,   // our UPDATE / re-INVITE was refused (sip_status); the session is unchanged
  kRefreshed,     // the session timer was refreshed (by us or by the peer)
  kEnded,         // the call is over (end, sip_status, status)
};

enum class EndReason : std::uint8_t {
  kLocalHangup,    // we sent BYE (or rejected the incoming call)
  kRemoteHangup,   // the peer sent BYE
  kCancelled,      // CANCEL before the answer (either side)
  kRejected,       // caller: a final non-2xx response (sip_status)
  kTimeout,        // no answer, no ACK, or a request without response
  kSessionExpired, // no session refresh arrived in time: we sent BYE
  kTransportLost,  // the transport closed
  kError,          // a local failure (status)
};

struct CallEvent {
  CallEventKind kind = CallEventKind::kIncoming;
  CallId call = 0;
  int sip_status = 0;
  std::string reason;
  std::string sdp; // the SDP body the event is about, bytes as received
  // kIncoming: what the INVITE says about the caller.
  std::string from;
  std::string to;
  std::string asserted_identity; // P-Asserted-Identity (network-asserted), empty if none
  std::string privacy;           // Privacy header value, empty if none
  // The peer's avatar reference (kIncoming, kProgress, kAnswered), always unverified here:
  // only a PASSporT covering it can make it verified (PROTOCOL_PROFILE.md section 10).
  std::string avatar_uri;
  // Every header field of the message behind the event, as received, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  // kRefreshed
  std::uint32_t session_expires_s = 0;
  // kEnded
  EndReason end = EndReason::kLocalHangup;
  Status status;
};

struct CallOutput {
  std::vector<std::string> send;
  std::vector<CallEvent> events;
  std::uint64_t deadline_ms = kNoDeadline;
};

class CallAgent {
public:
  // Errors: kInvalidArgument (IMPU or contact not a sip URI, bad Via host, no random source,
  // session_expires_s below min_se_s, min_se_s 0, bad avatar URI or header name).
  static Result<CallAgent> create(CallConfig config);
  CallAgent(CallAgent&&) noexcept;
  CallAgent& operator=(CallAgent&&) noexcept;
  ~CallAgent();

  // Sends an INVITE. Errors: kInvalidArgument (bad To, empty SDP, bad identity), kNoMemory
  // (kMaxCalls calls), the token provider's error, builder errors.
  Result<CallId> invite(const OutgoingCall& call, std::uint64_t now_ms, CallOutput* out);
  // Callee: a 180 Ringing, reliable (100rel) when the caller supports it; `sdp` (the answer
  // to the INVITE's offer) may go in it. Errors: kNotFound, kState (not an unanswered
  // incoming call, or a reliable 18x still waits for its PRACK).
  Status ring(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out);
  // Callee: 200 OK with `sdp` (may be empty when the answer went in a reliable 18x). Held
  // back until the PRACK when a reliable 18x with an answer is unacknowledged.
  // Errors: kNotFound, kState, kInvalidArgument (no SDP where one is needed).
  Status answer(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out);
  // Callee: a final 3xx-6xx (e.g. 486, 603). Errors: kNotFound, kState, kInvalidArgument.
  Status reject(CallId id, int status_code, std::uint64_t now_ms, CallOutput* out);
  // A new offer in an UPDATE (early or confirmed dialog) or a re-INVITE (confirmed only).
  // Errors: kNotFound, kState (no dialog, or an offer of ours is outstanding),
  // kInvalidArgument (empty SDP).
  Status update(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out);
  Status reinvite(CallId id, std::string_view sdp, std::uint64_t now_ms, CallOutput* out);
  // Ends the call the right way for its state: CANCEL (caller, before the answer; held
  // until the first provisional response), 603 Decline (callee, before answering) or BYE.
  // Errors: kNotFound, or the builder's error.
  Status hangup(CallId id, std::uint64_t now_ms, CallOutput* out);

  // One message from the transport. Messages that are not the CallAgent's (REGISTER
  // responses, NOTIFY...) are ignored.
  CallOutput on_message(ByteSpan message, std::uint64_t now_ms);
  // Runs due timers (transactions, session timers, 491 retries, ACK wait).
  CallOutput poll(std::uint64_t now_ms);
  // The transport closed: every call ends (kTransportLost).
  CallOutput on_transport_closed(std::uint64_t now_ms);

  std::size_t call_count() const;
  std::uint64_t deadline_ms() const;

  struct Call;

private:
  explicit CallAgent(CallConfig config);
  CallConfig config_;
  std::vector<std::unique_ptr<Call>> calls_;
  CallId next_id_ = 1;
  std::string contact_;       // <contact_uri;ob>
  std::string mmtel_contact_; // contact_ with the ICSI feature tag

  friend struct CallOps;
};

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_CALL_H
