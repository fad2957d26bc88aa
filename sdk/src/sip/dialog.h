// Dialog-level SIP (RFC 3261 section 12): the state of one dialog, and the pure parsers of
// the header fields calls depend on: option tags (Require / Supported), RSeq and RAck
// (RFC 3262), Session-Expires and Min-SE (RFC 4028), the avatar reference of
// PROTOCOL_PROFILE.md section 2, and the framing of an SDP body.
//
// Everything here is sans-I/O and bounded: a dialog keeps at most kMaxRouteSet routes and
// strings no longer than the message they came from (IMSDC_MAX_SIP_MESSAGE).
#ifndef IMSDC_SRC_SIP_DIALOG_H
#define IMSDC_SRC_SIP_DIALOG_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/status.h"
#include "sip/builder.h"
#include "sip/message.h"

namespace imsdc::sip {

// Most Record-Route entries a dialog keeps (a labnet or IMS path has a handful).
constexpr std::size_t kMaxRouteSet = 16;

// True when `header` (e.g. "Require", "Supported") lists the option tag `tag`
// (case-insensitive). Malformed lists count as absent.
bool has_option_tag(const Message& m, std::string_view header, std::string_view tag);

// The first option tag in m's Require that is not in `supported` (a comma-separated list
// such as "100rel, timer"), for a 420 Bad Extension; empty when all are supported.
std::string_view first_unsupported(const Message& m, std::string_view supported);

// RSeq (RFC 3262 section 7.1): 1..2^31-1. Errors: kMalformed.
Result<std::uint32_t> parse_rseq(std::string_view value);

// RAck (RFC 3262 section 7.2): "RSeq CSeq Method".
struct RAck {
  std::uint32_t rseq = 0;
  std::uint32_t cseq = 0;
  std::string_view method;
};
// Errors: kMalformed (not three fields, numbers out of range, method not a token).
Result<RAck> parse_rack(std::string_view value);

enum class Refresher : std::uint8_t { kNone, kUac, kUas };
// Session-Expires (RFC 4028 section 4): "delta-seconds *(;se-params)".
struct SessionExpires {
  std::uint32_t seconds = 0;
  Refresher refresher = Refresher::kNone;
};
// Errors: kMalformed (no number, 0, a bad parameter list, refresher other than uac/uas).
Result<SessionExpires> parse_session_expires(std::string_view value);
// Min-SE (RFC 4028 section 5): delta-seconds with optional parameters. Errors: kMalformed.
Result<std::uint32_t> parse_min_se(std::string_view value);

// The SDP body of m (RFC 3261 section 7.4, RFC 3264): an empty span when m has no body.
// Errors: kUnsupported (a body whose Content-Type is not application/sdp, or a
// Content-Encoding: imsdc sends and accepts plain SDP only), kTooLarge (over
// IMSDC_MAX_SDP_SIZE), kMalformed (a body that does not start with "v=").
Result<ByteSpan> sdp_body(const Message& m);

// The avatar reference (PROTOCOL_PROFILE.md section 2): the URI of the first element of
// header `header` (default "Call-Info") that has purpose=avatar, without the angle brackets.
// The caller treats it as unverified. Errors: kNotFound (none), kMalformed (the element
// with purpose=avatar does not parse).
Result<std::string_view> avatar_reference(const Message& m, std::string_view header);

// The Call-Info value that carries an avatar reference: <uri>;purpose=avatar.
// Errors: kInvalidArgument (uri not an absolute URI or containing '<', '>' or white space).
Result<std::string> format_avatar_header(std::string_view uri);

// The tag parameter of a From or To value; empty when absent or unparseable.
std::string_view tag_of(std::string_view name_addr);

// The top Via's branch; empty when absent or unparseable.
std::string_view top_branch(const Message& m);

// One dialog as seen by this UA. local/remote hold the From / To values of the requests
// this UA sends in the dialog (name-addr with tag).
struct Dialog {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;
  std::string local;         // our From value (with ;tag=)
  std::string remote;        // our To value (with ;tag=)
  std::string remote_target; // the peer's Contact URI (Request-URI of our requests)
  std::vector<std::string> route_set;
  std::uint32_t local_cseq = 0;
  std::uint32_t remote_cseq = 0;
  bool has_remote_cseq = false;

  // The dialog a UAC creates from a 1xx (with To tag) or 2xx response to its `request`
  // (section 12.1.2). Errors: kMalformed (no To tag, no usable Contact, bad Record-Route),
  // kTooLarge (more than kMaxRouteSet routes).
  static Result<Dialog> as_uac(const Message& request, const Message& response);
  // The dialog a UAS creates for `request` with our To tag (section 12.1.1).
  // Errors: as as_uac.
  static Result<Dialog> as_uas(const Message& request, std::string_view local_tag);

  // Re-reads the route set (UAC side: from a 2xx, reversed Record-Route) and the remote
  // target. Errors: as as_uac.
  Status update_from_response(const Message& response);
  // A target refresh request or response (re-INVITE, UPDATE, their 2xx): new Contact.
  // A message without Contact leaves the target unchanged. Errors: kMalformed.
  Status refresh_target(const Message& m);
  // True when request m (from the peer) belongs to this dialog: Call-ID, our tag in To,
  // the peer's in From.
  bool matches_request(const Message& m) const;

  // A new request in this dialog (section 12.2.1.1): Request-URI = remote target, Route =
  // route set, Via, Max-Forwards, From, To, Call-ID and CSeq. `cseq` 0 takes the next local
  // CSeq number (and counts it); ACK passes the INVITE's number. Errors at build(): those
  // of MessageBuilder.
  MessageBuilder request(std::string_view method, std::string_view via, std::uint32_t cseq = 0);
};

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_DIALOG_H
