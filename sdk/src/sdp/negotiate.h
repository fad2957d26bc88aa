// Offer/answer for the IMS data-channel m-line (RFC 8841, 8842, 8864; RFC 5763/4145 setup
// rules; TS 26.114 bootstrap stream ids) and the channel policy of PROTOCOL_PROFILE.md
// section 3 (TR 33.790 KI#3: no channel reaches the device unnoticed).
//
// The functions build and read SessionDescription models; sdp.h turns them into text. The
// result type Negotiated is everything the DTLS/SCTP layer needs afterwards.
#ifndef IMSDC_SRC_SDP_NEGOTIATE_H
#define IMSDC_SRC_SDP_NEGOTIATE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/sdp.h"

namespace imsdc::sdp {

// Bootstrap stream ids (TS 26.114 section 6.2.10): 0 and 10 reach the local network's data
// channel server, 100 and 110 the remote network's.
constexpr std::uint16_t kLocalBootstrapIds[] = {0, 10};
constexpr std::uint16_t kRemoteBootstrapIds[] = {100, 110};
// Application data channels use stream ids from here on.
constexpr std::uint16_t kFirstAppStreamId = 1000;

// True for the four bootstrap stream ids above.
bool is_bootstrap_stream(std::uint16_t stream_id);

// DTLS role that follows from the negotiated setup (active = client, passive = server).
enum class DtlsRole : std::uint8_t { kNone, kClient, kServer };

// ICE as this endpoint runs it. Disabled: no ICE lines (IMS access without ICE).
struct LocalIce {
  bool enabled = false;
  bool lite = false; // adds a=ice-lite at session level
  IceParams params;  // ufrag >= 4 and pwd >= 22 ice-chars (RFC 8839 section 5.4)
  std::vector<Candidate> candidates;
};

// What this endpoint writes into its data-channel m-line.
struct LocalEndpoint {
  Origin origin;
  Connection connection; // c= of the data-channel m-line
  std::uint16_t port = 9;
  std::vector<Fingerprint> fingerprints; // must include the device certificate's sha-256
  std::string tls_id;                    // from make_tls_id(); >= 20 characters
  std::uint32_t max_message_size = IMSDC_DC_MAX_MESSAGE_SIZE;
  LocalIce ice;
  std::string mid; // empty: no a=mid (and no BUNDLE group in offers)
};

struct OfferConfig {
  LocalEndpoint local;
  bool local_bootstrap = true;   // dcmap 0 and 10, subprotocol "http"
  bool remote_bootstrap = false; // dcmap 100 and 110 with a=3gpp-bdc-used-by
  BdcUsedBy remote_bdc_used_by = BdcUsedBy::kSender;
  std::vector<DcMap> app_channels;       // stream ids >= kFirstAppStreamId
  std::vector<MediaSection> other_media; // the application's m-lines (speech first)
  // One association per kind (sdp/mf.h): when set, the bootstrap channels go in an m-line of
  // their own on this endpoint (its own port, tls-id and ICE), before the application line on
  // `local`, so the network's media function can anchor the bootstrap line (e2ae) while the
  // application line stays between the UEs (e2e). Each line is answered and run as its own
  // association (AnswerConfig::data_channel_index, apply_answer's data_channel_index).
  std::optional<LocalEndpoint> bootstrap_local;
};

// One channel an incoming offer adds, as the policy sees it. The views point into the offer
// and are valid only during the policy call.
struct ChannelRequest {
  std::uint16_t stream_id = 0;
  std::string_view label;
  std::string_view subprotocol;
  std::string_view req_app; // a=3gpp-req-app, empty when absent
  bool bootstrap = false;
};

enum class Verdict : std::uint8_t { kAccept, kReject };

// Application hook; receives the default verdict of the allow-lists and has the last word.
using PolicyFn = Verdict (*)(void* ctx, const ChannelRequest& request, Verdict default_verdict);

// Default: bootstrap channels yes; application channels only when their subprotocol or
// their 3gpp-req-app is on an allow-list (both lists empty: every application channel is
// rejected, so nothing is pushed onto the device without configuration).
struct ChannelPolicy {
  bool accept_bootstrap = true;
  std::vector<std::string> allowed_subprotocols;
  std::vector<std::string> allowed_apps;
  PolicyFn callback = nullptr;
  void* ctx = nullptr;
};

// The verdict for one request: allow-lists first, then the callback if set.
Verdict evaluate(const ChannelPolicy& policy, const ChannelRequest& request);

struct AnswerConfig {
  LocalEndpoint local;
  // Our setup when the offer says actpass: kActive (default, we are the DTLS client) or
  // kPassive. Never actpass in an answer.
  Setup setup_for_actpass = Setup::kActive;
  // The application's answers to the offer's other m-lines, in offer order. Missing ones are
  // answered as rejected (port 0), as RFC 3264 requires one answer line per offer line.
  std::vector<MediaSection> other_media;
  // Which data-channel m-line of the offer is answered (0: the first). The others are answered
  // with port 0; an endpoint that runs one association per line (the bootstrap line beside an
  // application line, sdp/mf.h) answers each with its own call and keeps that line of each.
  std::size_t data_channel_index = 0;
};

// Outcome of one offer/answer exchange, for the DTLS/SCTP layer.
struct Negotiated {
  bool accepted = false;               // an association is to be (or stays) established
  const char* reject_reason = nullptr; // static text when !accepted, else null
  DtlsRole role = DtlsRole::kNone;
  Setup local_setup = Setup::kNone;
  Setup remote_setup = Setup::kNone;
  // Trust anchor of the association: the peer certificate's digest must equal one of these
  // (strongest hash first; check with fingerprint_matches()).
  std::vector<Fingerprint> remote_fingerprints;
  std::string local_tls_id;
  std::string remote_tls_id;
  // True when a new DTLS association is needed (first exchange, tls-id or fingerprint
  // changed); false when the existing one is kept.
  bool new_association = true;
  std::uint16_t remote_sctp_port = kDefaultSctpPort;
  std::uint32_t remote_max_message_size = kDefaultMaxMessageSize; // 0: no limit
  Connection remote_connection;
  std::uint16_t remote_port = 0;
  IceParams remote_ice;
  std::vector<Candidate> remote_candidates;
  bool remote_ice_lite = false;
  std::string mid;
  std::vector<DcMap> channels;         // accepted channels with their parameters
  std::vector<std::uint16_t> added;    // channels new in this exchange
  std::vector<std::uint16_t> removed;  // channels of the previous exchange that are gone
  std::vector<std::uint16_t> rejected; // offered but refused (by policy or by the answerer)
};

struct Answer {
  SessionDescription sdp;
  Negotiated result;
};

// Builds an initial offer: the application's m-lines first, then one data-channel m-line
// with setup:actpass, the local fingerprints and tls-id, and the bootstrap and application
// dcmap lines (with bootstrap_local: a bootstrap line, then the application line). Errors:
// kInvalidArgument (no sha-256 fingerprint, tls-id shorter than 20 or with other
// characters, ICE enabled without valid credentials, an application channel below
// kFirstAppStreamId, duplicate stream ids, max-retr with max-time, a data-channel m-line
// among other_media, the same tls-id on both lines); kTooLarge (more than
// IMSDC_DC_MAX_CHANNELS channels).
Result<SessionDescription> make_offer(const OfferConfig& config);

// Answers an incoming offer or re-offer. Each channel the offer adds (all of them when
// `previous` is null or a new association starts) passes `policy`; rejected channels are
// left out, and the m-line is answered with port 0 when the offer listed channels and none
// remains. An offer without fingerprint, or with its data-channel m-line disabled, is
// answered with port 0 (result.reject_reason says why). Errors: kInvalidArgument (the offer
// has no data-channel m-line; other_media holds more lines than the offer or a
// data-channel line; invalid local fields as in make_offer; a new association with the
// previous local tls-id).
Result<Answer> make_answer(const SessionDescription& offer, const AnswerConfig& config,
                           const ChannelPolicy& policy, const Negotiated* previous = nullptr);

struct ReofferOptions {
  std::vector<std::uint16_t> remove; // stream ids to drop
  // Non-empty: start a new DTLS association with this tls-id (and these fingerprints when
  // given, e.g. after a certificate change). Empty: keep the association (same tls-id).
  std::string new_tls_id;
  std::vector<Fingerprint> new_fingerprints;
};

// Builds a re-offer from this endpoint's previous local description (offer or answer):
// same m-lines, setup:actpass, the o= version incremented, `add` channels appended.
// Errors: kInvalidArgument (no data-channel m-line, a channel below kFirstAppStreamId or
// already present, an o= version that is not a number, a bad new tls-id); kState (the
// data-channel m-line was disabled, port 0); kTooLarge (channel count bound).
Result<SessionDescription> make_reoffer(const SessionDescription& previous_local,
                                        const std::vector<DcMap>& add,
                                        const ReofferOptions& options = {});

// RFC 3264 section 6: the answer line for an offered m-line we do not take (port 0, same
// media, proto, format and mid), also the disabled placeholder that keeps indices aligned.
MediaSection rejected_copy(const MediaSection& offered);

// Reads the answer to our offer (or re-offer) for our data-channel m-line number
// `data_channel_index` (0: the first). Channels the answer lists but we did not offer are
// ignored: an answerer cannot add channels. Errors: kInvalidArgument (no such data-channel
// m-line in our offer); kMalformed (m-line count differs, the answer's line is not a data
// channel, or setup:actpass in the answer).
Result<Negotiated> apply_answer(const SessionDescription& local_offer,
                                const SessionDescription& answer,
                                const Negotiated* previous = nullptr,
                                std::size_t data_channel_index = 0);

// True when `digest` (computed with `hash` over the peer certificate's DER) equals one of the
// remote fingerprints with that hash. RFC 8122 section 5: compute with the strongest hash
// in the list (remote_fingerprints.front().hash).
bool fingerprint_matches(const std::vector<Fingerprint>& remote, HashFunc hash, ByteSpan digest);

} // namespace imsdc::sdp

#endif // IMSDC_SRC_SDP_NEGOTIATE_H
