// STUN messages for ICE connectivity checks (RFC 8489, formerly RFC 5389; ICE attributes of
// RFC 8445 section 16.1): a bounded parser and a strict writer over byte spans, no I/O.
//
// What is modelled: the Binding method in all four classes (request, indication, success and
// error response) and the attributes ICE needs: USERNAME, MESSAGE-INTEGRITY (HMAC-SHA1 with
// a short-term credential, i.e. the key is the ICE password), FINGERPRINT (CRC-32 XOR
// 0x5354554e), XOR-MAPPED-ADDRESS (IPv4 and IPv6), PRIORITY, USE-CANDIDATE, ICE-CONTROLLING,
// ICE-CONTROLLED, ERROR-CODE and UNKNOWN-ATTRIBUTES. Unknown comprehension-optional
// attributes (0x8000..0xFFFF) are skipped; unknown comprehension-required ones
// (0x0000..0x7FFF) are listed in unknown_required so a server can answer 420.
//
// Integrity is checked separately (verify_integrity) because the key depends on the message
// (requests to us use our password, responses to our requests the peer's). Attributes after
// MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 section 14.5). A message
// with a FINGERPRINT that does not match is refused by parse().
#ifndef IMSDC_SRC_ICE_STUN_H
#define IMSDC_SRC_ICE_STUN_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/port/net.h"
#include "imsdc/status.h"

namespace imsdc::ice {

constexpr std::uint32_t kMagicCookie = 0x2112A442;
constexpr std::size_t kStunHeaderSize = 20;
// Largest STUN message parsed or written: ICE checks are far smaller, and RFC 8489 section
// 6.1 keeps messages below the path MTU anyway.
constexpr std::size_t kMaxStunMessage = 1280;
// Bounds of the variable attributes (RFC 8489 sections 14.3 and 14.8).
constexpr std::size_t kMaxUsername = 513;
constexpr std::size_t kMaxReason = 763;
constexpr std::size_t kMaxUnknownListed = 8;

constexpr std::uint16_t kMethodBinding = 0x001;

enum class StunClass : std::uint8_t { kRequest, kIndication, kSuccess, kError };

// What a received datagram is, by its first byte (RFC 7983 section 7): 0..3 STUN,
// 20..63 DTLS; everything else is not for the data-channel stack.
enum class Demux : std::uint8_t { kStun, kDtls, kOther };
Demux classify(ByteSpan datagram);

using TransactionId = std::array<std::uint8_t, 12>;

struct ErrorCode {
  std::uint16_t code = 0; // 300..699, e.g. 400, 401, 420, 487
  std::string reason;     // UTF-8, at most kMaxReason bytes
};

struct StunMessage {
  StunClass cls = StunClass::kRequest;
  std::uint16_t method = kMethodBinding;
  TransactionId transaction{};
  std::optional<std::string> username;
  std::optional<std::uint32_t> priority;
  bool use_candidate = false;
  std::optional<std::uint64_t> ice_controlling; // tie-breaker
  std::optional<std::uint64_t> ice_controlled;  // tie-breaker
  std::optional<imsdc_port_addr> xor_mapped;
  std::optional<ErrorCode> error;
  // Parse: comprehension-required types this parser does not know. Write: with a 420 error,
  // the UNKNOWN-ATTRIBUTES list.
  std::vector<std::uint16_t> unknown_required;
  // Set by parse(): byte offset of the MESSAGE-INTEGRITY attribute (0 when absent) and
  // whether a (valid) FINGERPRINT was present.
  std::size_t integrity_offset = 0;
  bool has_fingerprint = false;
};

// Parses one datagram as a STUN message. Errors: kMalformed (not STUN: wrong first bits or
// magic cookie, length not a multiple of 4 or not matching the datagram, an attribute that
// overruns, a known attribute with a bad length or value, FINGERPRINT not last or not
// matching), kTooLarge (over kMaxStunMessage, a USERNAME or reason over its bound).
Result<StunMessage> parse(ByteSpan datagram);

// Checks MESSAGE-INTEGRITY of `datagram` (as parsed into `message`) with a short-term
// credential `key` (the ICE password), in constant time. Errors: kAuthFailed (absent or
// wrong).
Status verify_integrity(ByteSpan datagram, const StunMessage& message, ByteSpan key);

// Writes `message`: the attributes it holds, then MESSAGE-INTEGRITY when `integrity_key` is
// not empty, then FINGERPRINT when `fingerprint`. Errors: kInvalidArgument (a USERNAME or
// reason over its bound, an error code outside 300..699, an address of unknown family,
// both ICE-CONTROLLING and ICE-CONTROLLED), kTooLarge (over kMaxStunMessage), kInternal
// (HMAC failed).
Result<Bytes> serialize(const StunMessage& message, ByteSpan integrity_key, bool fingerprint);

// CRC-32 (ISO-HDLC, the zlib one) over `data`; FINGERPRINT is this XOR 0x5354554e.
std::uint32_t crc32(ByteSpan data);

} // namespace imsdc::ice

#endif // IMSDC_SRC_ICE_STUN_H
