// The media function's (MF) SDP transformation for the labnet B2BUA of the avatar call demo
// (issue 9): the MF sits on the call path as a SIP back-to-back user agent (the role TS 23.228
// annex AC gives the IMS AS with the DCSF), answers the bootstrap data channel itself on each
// leg, and passes the peer-to-peer application data channels through untouched.
//
// Design notes
// - One SCTP association per data-channel m-line (RFC 8841 section 5, RFC 8864): the dcmap
//   lines of an m-line share one DTLS association and so one certificate fingerprint. A
//   bootstrap channel terminated at the MF (e2ae: the fingerprint is the MF's, TR 33.890
//   sol. #4 "the eP-CSCF should include the certificate fingerprint of the DCMF in the SDP
//   answer") and an application channel between the UEs (e2e: the fingerprint is the peer
//   UE's, TR 33.890 sol. #5) therefore cannot share an m-line. TS 26.114 section 6.2.10.1
//   allows "one or more data channel SDP media descriptions"; the MF needs the UE to put the
//   bootstrap streams (TS 26.114 ids 0, 10, 100, 110) in an m-line of their own and the
//   application streams (ids >= 1000, or none: DCEP only) in another.
// - Classification of the calling UE's m-lines: a data-channel m-line whose dcmap streams are
//   all bootstrap ids is the bootstrap line: anchored at the MF. Every other m-line (speech,
//   video, application data channels) is a pass-through line: the MF copies its model
//   unchanged (attributes, fingerprints, tls-id, ICE credentials and candidates, unknown lines)
//   to the called leg, and copies the callee's answer line back unchanged, so the DTLS
//   handshake on it runs between the UEs and each UE checks the other's fingerprint (e2e).
//   An m-line mixing bootstrap and application streams (what make_offer builds today from one
//   OfferConfig) is kUnsupported: splitting it would make the application channels e2ae.
// - Text: the pass-through lines are regenerated from the model with sdp::generate, so their
//   text is identical to the UE's when the UE wrote the profile's canonical order (any imsdc
//   UE does); for other writers the same lines come out in the profile's order (nothing is
//   lost: the parser keeps every line it does not model, see sdp.h).
// - m-line order and count are kept (RFC 3264 section 6: the answer has one line per offered
//   line, in order): the callee offer has the caller's lines at the same indices, the
//   caller's bootstrap line replaced by the MF's own bootstrap offer (stream ids 0 and 10:
//   the MF is the callee's local network). When the caller offers no bootstrap line, the MF
//   appends its line at the end (after any speech line, TS 26.114 section 6.2.10.1) and
//   drops the callee's answer to it from the caller's answer.
// - Session-level attributes of the peer (c=, a=fingerprint, ICE, other lines) are kept at
//   session level, so pass-through lines that rely on them keep their meaning. The MF's line
//   always carries media-level c=, fingerprint and (when it runs ICE) ICE credentials, which
//   take precedence (RFC 8122 section 5, RFC 8839 section 5.4). What cannot be expressed that
//   way is kUnsupported: peer session-level ICE credentials while the MF's line has none;
//   a=ice-lite (session level only) that differs between the MF and a peer that runs ICE; a
//   BUNDLE group that puts the bootstrap line with other lines on one transport (RFC 8843).
// - Limits: at most kMaxMediaSections m-lines including the MF's appended one (kTooLarge),
//   one bootstrap line per offer (kUnsupported), and the generated SDP within
//   IMSDC_MAX_SDP_SIZE (kTooLarge from sdp::generate). Re-offers: pass the previous
//   Negotiated of each leg in MfConfig and keep the MF's tls-ids to keep its associations.
//
// Sans-I/O: pure functions over SessionDescription models; the B2BUA owns the SIP legs, the
// MF's certificate, its ICE agent and DTLS/SCTP associations (fed from the Negotiated results).
#ifndef IMSDC_SRC_SDP_MF_H
#define IMSDC_SRC_SDP_MF_H

#include <cstddef>
#include <string>

#include "sdp/negotiate.h"

namespace imsdc::sdp {

// Index value meaning "no such m-line".
constexpr std::size_t kNoMediaLine = static_cast<std::size_t>(-1);

struct MfConfig {
  // The MF's end of the bootstrap association on the calling leg (it answers) and on the
  // called leg (it offers). Each needs the MF's sha-256 fingerprint, a tls-id and a c= line.
  LocalEndpoint caller_leg;
  LocalEndpoint callee_leg;
  // The MF's setup when the calling UE offers actpass (RFC 5763 section 5 recommends active).
  Setup setup_for_actpass = Setup::kActive;
  // Which bootstrap streams of the caller the MF accepts (default: every bootstrap stream).
  ChannelPolicy bootstrap_policy;
  // Offer the MF's bootstrap line to the callee even when the caller offered none (issue 9:
  // "on each leg it adds the bootstrap data channel"). False: the caller's bootstrap line is
  // replaced by a disabled line (port 0) on the called leg.
  bool offer_bootstrap_to_callee = true;
  // Previous results of each leg's bootstrap association on a re-offer; null on the first.
  const Negotiated* caller_previous = nullptr;
  const Negotiated* callee_previous = nullptr;
};

// What split_offer gives the B2BUA.
struct MfSplit {
  // The offer the MF sends to the called UE, as a model and as text.
  SessionDescription callee_offer;
  std::string callee_offer_text;
  // Index of the caller's bootstrap line in the caller's offer, or kNoMediaLine.
  std::size_t caller_bootstrap_index = kNoMediaLine;
  // The MF's answer line for it (port 0 when refused) and the calling-leg association the
  // MF runs (result.remote_fingerprints are the calling UE's).
  MediaSection caller_bootstrap_answer;
  bool caller_bootstrap_ice_lite = false;
  Negotiated caller_bootstrap;
  // Index of the MF's bootstrap line in callee_offer, or kNoMediaLine.
  std::size_t callee_bootstrap_index = kNoMediaLine;
  // True when that line was appended (the caller offered no bootstrap line).
  bool callee_bootstrap_appended = false;
};

struct MfMerged {
  // The answer the MF sends back to the calling UE, as a model and as text.
  SessionDescription caller_answer;
  std::string caller_answer_text;
  // The called-leg bootstrap association the MF runs (accepted=false when none).
  Negotiated callee_bootstrap;
};

// Splits the calling UE's offer: answers its bootstrap line as the MF, and builds the offer
// for the called UE (pass-through lines unchanged, the MF's own bootstrap line in place of the
// caller's). Errors: kInvalidArgument (an MfConfig endpoint without sha-256 fingerprint, valid
// tls-id, c= address or ICE credentials; the MF's mid already used by the caller);
// kUnsupported (an m-line mixing bootstrap and application streams, two bootstrap lines, a
// BUNDLE group joining the bootstrap line with others, session-level ICE or ice-lite that
// would apply to the MF's line); kTooLarge (more than kMaxMediaSections m-lines with the MF's,
// or a generated SDP over IMSDC_MAX_SDP_SIZE); kInvalidArgument also for a hand-built model
// that sdp::generate refuses (a parsed one never is).
Result<MfSplit> split_offer(const SessionDescription& ue_offer, const MfConfig& config);

// Builds the calling UE's answer from the called UE's answer to split.callee_offer: the
// pass-through lines' answers copied unchanged, the bootstrap line answered by the MF
// (split.caller_bootstrap_answer), the MF's appended line left out. Also reads the callee's
// answer to the MF's own bootstrap offer (callee_bootstrap). Errors: kMalformed (m-line count
// or media type differs from the callee offer, a data-channel line answered by something
// else, setup:actpass in the answer, a BUNDLE mid the offer did not group); kUnsupported
// (session-level ICE or ice-lite of the callee that would apply to the MF's line);
// kInvalidArgument (split and ue_offer do not belong together); kTooLarge (generated SDP
// over IMSDC_MAX_SDP_SIZE).
Result<MfMerged> merge_answer(const SessionDescription& ue_offer, const MfSplit& split,
                              const SessionDescription& callee_answer, const MfConfig& config);

} // namespace imsdc::sdp

#endif // IMSDC_SRC_SDP_MF_H
