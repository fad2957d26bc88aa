// Session description model, bounded parser and strict generator for the IMS data-channel
// m-line (PROTOCOL_PROFILE.md section 3; RFC 8866, 8841, 8842, 8864, 8122, 8839).
//
// Sans-I/O: pure functions over text, no globals, no OS calls. Only the data-channel m-line
// is modelled attribute by attribute; every other m-line (speech, video) is kept as verbatim
// lines so the application's media round-trips untouched. Parsing is lenient where the
// profile says so; generation always emits the profile's exact line order.
#ifndef IMSDC_SRC_SDP_SDP_H
#define IMSDC_SRC_SDP_SDP_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/status.h"

namespace imsdc::sdp {

// Structural bounds beyond IMSDC_MAX_SDP_SIZE, so one hostile SDP cannot make the parser
// build large vectors out of many small lines. Exceeding any of them is kTooLarge.
constexpr std::size_t kMaxLineLength = 1024;
constexpr std::size_t kMaxMediaSections = 16;
constexpr std::size_t kMaxCandidates = 32;
constexpr std::size_t kMaxFingerprints = 8;
constexpr std::size_t kMaxDcsaPerChannel = 8;
// Defaults when the remote leaves a value out (RFC 8841 section 5, RFC 8841 section 6).
constexpr std::uint16_t kDefaultSctpPort = 5000;
constexpr std::uint32_t kDefaultMaxMessageSize = 65536;
// Largest legal dcmap stream id (RFC 8864 section 5.1.1: 0..65534).
constexpr std::uint32_t kMaxStreamId = 65534;

enum class AddrType : std::uint8_t { kIp4, kIp6 };

// "c=IN IP4|IP6 <address>". An empty address means the line is absent.
struct Connection {
  AddrType type = AddrType::kIp4;
  std::string address;
};

// "o=<username> <sess-id> <sess-version> IN IP4|IP6 <address>".
struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  AddrType type = AddrType::kIp4;
  std::string address = "0.0.0.0";
};

// RFC 4145 / RFC 8842 a=setup. kNone: the attribute was absent.
enum class Setup : std::uint8_t { kNone, kActpass, kActive, kPassive, kHoldconn };

// Hash functions of a=fingerprint that a DTLS stack can check (RFC 8122 section 5). The
// numeric order is the strength order. md2/md5 and unknown names are ignored when parsing.
enum class HashFunc : std::uint8_t { kSha1 = 1, kSha224, kSha256, kSha384, kSha512 };

struct Fingerprint {
  HashFunc hash = HashFunc::kSha256;
  Bytes digest; // length always matches the hash function
};

// "a=candidate:" (RFC 8839 section 5.1). `extensions` keeps everything after the type
// (raddr/rport, generation, network-id, ...) as text so nothing is lost on re-generation.
struct Candidate {
  std::string foundation;
  std::uint16_t component = 1;
  std::string transport; // as received ("udp", "UDP")
  std::uint32_t priority = 0;
  std::string address; // IPv4, IPv6 or an mDNS name
  std::uint16_t port = 0;
  std::string type; // host, srflx, prflx, relay
  std::string extensions;
};

// ICE credentials (RFC 8839 section 5.4). Empty ufrag: no ICE.
struct IceParams {
  std::string ufrag;
  std::string pwd;
  std::vector<std::string> options; // a=ice-options tokens, e.g. "trickle", "ice2"
};

// a=3gpp-bdc-used-by (TS 26.114): who uses a remote network's bootstrap channel.
enum class BdcUsedBy : std::uint8_t { kNone, kSender, kReceiver };

// One data channel: a=dcmap (RFC 8864 section 5.1) plus the a=dcsa lines for its stream.
// The two 3GPP attributes are lifted out of dcsa into typed fields; other dcsa attributes
// stay as text. Unset optionals were absent in the SDP (ordered then defaults to true).
struct DcMap {
  std::uint16_t stream_id = 0;
  std::string label;
  std::string subprotocol;
  std::optional<bool> ordered;
  std::optional<std::uint32_t> max_retr;
  std::optional<std::uint32_t> max_time;
  std::optional<std::uint16_t> priority;
  BdcUsedBy bdc_used_by = BdcUsedBy::kNone;
  std::string req_app;           // a=3gpp-req-app value; empty when absent
  std::vector<std::string> dcsa; // other "a=dcsa:<id> <attr>" values, without "<id> "

  bool is_ordered() const { return !ordered.has_value() || *ordered; }
};

// One m= section. For the data-channel m-line (is_data_channel) the attributes are parsed
// into fields and unknown lines stay in `extra`; for any other media every line after m=
// stays in `extra` verbatim and only `mid` is read (for BUNDLE bookkeeping).
struct MediaSection {
  std::string media; // "application", "audio", ...
  std::uint16_t port = 0;
  std::string proto; // "UDP/DTLS/SCTP", legacy "DTLS/SCTP", "RTP/AVP", ...
  std::string fmt;   // everything after proto on the m= line
  bool is_data_channel = false;
  std::string mid;
  std::vector<std::string> extra; // verbatim lines ("b=AS:500", "a=rtcp-mux")
  // Data-channel fields (ignored unless is_data_channel).
  Connection connection;
  Setup setup = Setup::kNone;
  std::vector<Fingerprint> fingerprints;
  std::string tls_id;
  std::uint16_t sctp_port = kDefaultSctpPort;
  std::uint32_t max_message_size = kDefaultMaxMessageSize; // 0: no limit
  IceParams ice;
  std::vector<Candidate> candidates;
  std::vector<DcMap> channels;

  // True for the legacy draft form "m=application <port> DTLS/SCTP <sctp-port>".
  bool is_legacy() const { return proto == "DTLS/SCTP"; }
};

// A whole session description.
struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  Connection connection; // session-level c=, may be absent
  std::string timing = "0 0";
  bool ice_lite = false;
  IceParams ice;                         // session-level ICE attributes
  std::vector<Fingerprint> fingerprints; // session-level a=fingerprint (RFC 8122)
  std::vector<std::string> bundle;       // a=group:BUNDLE mids
  std::vector<std::string> extra;        // other session-level lines, verbatim
  std::vector<MediaSection> media;

  // The first data-channel m-line, or null.
  const MediaSection* data_channel() const;
  MediaSection* data_channel();
};

// Field-wise equality, so tests and the fuzz target can check parse(generate(x)) == x.
bool operator==(const Connection& a, const Connection& b);
bool operator==(const Origin& a, const Origin& b);
bool operator==(const Fingerprint& a, const Fingerprint& b);
bool operator==(const Candidate& a, const Candidate& b);
bool operator==(const IceParams& a, const IceParams& b);
bool operator==(const DcMap& a, const DcMap& b);
bool operator==(const MediaSection& a, const MediaSection& b);
bool operator==(const SessionDescription& a, const SessionDescription& b);

// Parses a complete SDP (CRLF or LF line ends; blank lines are skipped).
// Errors: kTooLarge (more than IMSDC_MAX_SDP_SIZE bytes, a line over kMaxLineLength, more
// than kMaxMediaSections m-lines, kMaxCandidates candidates, kMaxFingerprints fingerprints
// or IMSDC_DC_MAX_CHANNELS dcmap lines in one m-line); kMalformed (missing v=0/o=, a line
// that is not "<letter>=", or a bad value in a line the model parses), with a static detail.
Result<SessionDescription> parse(std::string_view text);

// Parses one or more verbatim m= sections as the application supplies them (e.g. the
// speech m-line with its attributes), to place beside the data-channel m-line.
// Errors: as parse(); kMalformed also when the text does not start with "m=".
Result<std::vector<MediaSection>> parse_media(std::string_view text);

// Parses the value of an a=dcmap attribute ("1000 label=\"x\";ordered=false"), quoted
// strings percent-decoded (RFC 8864 section 5.1.1). Unknown options are ignored.
// Errors: kMalformed (bad stream id, bad option value, max-retr together with max-time).
Result<DcMap> parse_dcmap(std::string_view value);

// Generates the SDP text with CRLF line ends, in the profile's strict order.
// Errors: kInvalidArgument (a value that cannot be written safely: line breaks or empty
// required fields, a digest whose length does not match its hash, stream id > 65534);
// kTooLarge (the result exceeds IMSDC_MAX_SDP_SIZE, or a line exceeds kMaxLineLength, e.g. a
// long label after percent-encoding).
Result<std::string> generate(const SessionDescription& sdp);

// "sha-256" etc. (lower case, RFC 8122 hash-func token).
const char* hash_name(HashFunc hash);
// Digest length in bytes of `hash`.
std::size_t hash_size(HashFunc hash);
// "AB:CD:..." upper-case hex, the form the profile generates.
std::string format_fingerprint(ByteSpan digest);

// Fills `len` bytes with random data from a caller-supplied source (the DRBG or the
// entropy port); returns kOk or the source's error.
using RandomFn = Status (*)(void* ctx, std::uint8_t* out, std::size_t len);

// A fresh tls-id: 24 characters of [A-Za-z0-9+/] carrying 144 random bits, more than the
// 120 bits RFC 8842 section 4 asks for. Errors: kInvalidArgument (null source); whatever
// the source returns when it fails (e.g. kEntropy).
Result<std::string> make_tls_id(RandomFn random, void* ctx);

} // namespace imsdc::sdp

#endif // IMSDC_SRC_SDP_SDP_H
