// Data Channel Establishment Protocol (RFC 8832) messages and the SCTP payload protocol
// identifiers of WebRTC data channels (RFC 8831 section 8). Pure functions over byte spans:
// no I/O, bounded, fuzzable on their own.
#ifndef IMSDC_SRC_DC_DCEP_H
#define IMSDC_SRC_DC_DCEP_H

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "imsdc/bytes.h"
#include "imsdc/status.h"

namespace imsdc::dc {

// SCTP payload protocol identifiers (IANA "SCTP Payload Protocol Identifiers").
constexpr std::uint32_t kPpidDcep = 50;
constexpr std::uint32_t kPpidString = 51;
constexpr std::uint32_t kPpidBinary = 53;
constexpr std::uint32_t kPpidStringEmpty = 56;
constexpr std::uint32_t kPpidBinaryEmpty = 57;

constexpr std::uint8_t kDcepOpen = 0x03;
constexpr std::uint8_t kDcepAck = 0x02;

// Label and protocol longer than this are refused. RFC 8832 allows 65535 bytes each; a
// device has no use for more than a short name, and the bound keeps the parser's output
// small (both views point into the input, nothing is copied).
constexpr std::size_t kMaxDcepField = 1024;

// Reliability of a channel (RFC 8832 section 5.1 channel types, RFC 8864 dcmap values).
enum class Reliability : std::uint8_t { kReliable, kMaxRetransmits, kMaxLifetime };

struct DcepOpen {
  bool ordered = true;
  Reliability reliability = Reliability::kReliable;
  std::uint32_t reliability_param = 0; // retransmissions or milliseconds
  std::uint16_t priority = 0;
  std::string_view label;    // points into the parsed input
  std::string_view protocol; // points into the parsed input
};

// Parses a DATA_CHANNEL_OPEN. Errors: kMalformed (wrong type, short, lengths that do not
// add up to the message size, unknown channel type), kTooLarge (label or protocol over
// kMaxDcepField).
Result<DcepOpen> parse_dcep_open(ByteSpan msg);

// True when msg is exactly a DATA_CHANNEL_ACK.
bool is_dcep_ack(ByteSpan msg);

// Encodes a DATA_CHANNEL_OPEN. Errors: kTooLarge (label or protocol over kMaxDcepField).
Result<Bytes> encode_dcep_open(const DcepOpen& open);

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_DCEP_H
