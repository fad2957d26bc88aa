#include "dc/dcep.h"

namespace imsdc::dc {
namespace {

// RFC 8832 section 5.1: high bit = unordered, low bits = reliability kind.
constexpr std::uint8_t kUnorderedBit = 0x80;
constexpr std::size_t kOpenHeader = 12;

Status malformed(const char* d) {
  return Status(Code::kMalformed, Module::kDc, d);
}

} // namespace

Result<DcepOpen> parse_dcep_open(ByteSpan msg) {
  if (msg.size() < kOpenHeader) return malformed("DATA_CHANNEL_OPEN too short");
  const std::uint8_t* p = msg.data();
  if (p[0] != kDcepOpen) return malformed("not a DATA_CHANNEL_OPEN");
  DcepOpen o;
  o.ordered = (p[1] & kUnorderedBit) == 0;
  switch (p[1] & static_cast<std::uint8_t>(~kUnorderedBit)) {
  case 0x00:
    o.reliability = Reliability::kReliable;
    break;
  case 0x01:
    o.reliability = Reliability::kMaxRetransmits;
    break;
  case 0x02:
    o.reliability = Reliability::kMaxLifetime;
    break;
  default:
    return malformed("unknown DCEP channel type");
  }
  o.priority = static_cast<std::uint16_t>((p[2] << 8) | p[3]);
  o.reliability_param = (static_cast<std::uint32_t>(p[4]) << 24) |
                        (static_cast<std::uint32_t>(p[5]) << 16) |
                        (static_cast<std::uint32_t>(p[6]) << 8) | p[7];
  // RFC 8832 section 5.1: the parameter is ignored for reliable channels.
  if (o.reliability == Reliability::kReliable) o.reliability_param = 0;
  const std::size_t label_len = static_cast<std::size_t>((p[8] << 8) | p[9]);
  const std::size_t proto_len = static_cast<std::size_t>((p[10] << 8) | p[11]);
  if (label_len > kMaxDcepField || proto_len > kMaxDcepField)
    return Status(Code::kTooLarge, Module::kDc, "DCEP label or protocol too long");
  if (msg.size() != kOpenHeader + label_len + proto_len)
    return malformed("DATA_CHANNEL_OPEN lengths do not match its size");
  o.label = msg.sub(kOpenHeader, label_len).as_string();
  o.protocol = msg.sub(kOpenHeader + label_len, proto_len).as_string();
  return o;
}

bool is_dcep_ack(ByteSpan msg) {
  return msg.size() == 1 && msg[0] == kDcepAck;
}

Result<Bytes> encode_dcep_open(const DcepOpen& open) {
  if (open.label.size() > kMaxDcepField || open.protocol.size() > kMaxDcepField)
    return Status(Code::kTooLarge, Module::kDc, "DCEP label or protocol too long");
  Bytes m;
  m.reserve(kOpenHeader + open.label.size() + open.protocol.size());
  std::uint8_t type = 0;
  if (open.reliability == Reliability::kMaxRetransmits) type = 0x01;
  if (open.reliability == Reliability::kMaxLifetime) type = 0x02;
  if (!open.ordered) type |= kUnorderedBit;
  const std::uint32_t param =
      open.reliability == Reliability::kReliable ? 0 : open.reliability_param;
  const std::size_t ll = open.label.size(), pl = open.protocol.size();
  const std::uint8_t hdr[kOpenHeader] = {kDcepOpen,
                                         type,
                                         static_cast<std::uint8_t>(open.priority >> 8),
                                         static_cast<std::uint8_t>(open.priority),
                                         static_cast<std::uint8_t>(param >> 24),
                                         static_cast<std::uint8_t>(param >> 16),
                                         static_cast<std::uint8_t>(param >> 8),
                                         static_cast<std::uint8_t>(param),
                                         static_cast<std::uint8_t>(ll >> 8),
                                         static_cast<std::uint8_t>(ll),
                                         static_cast<std::uint8_t>(pl >> 8),
                                         static_cast<std::uint8_t>(pl)};
  m.insert(m.end(), hdr, hdr + kOpenHeader);
  m.insert(m.end(), open.label.begin(), open.label.end());
  m.insert(m.end(), open.protocol.begin(), open.protocol.end());
  return m;
}

} // namespace imsdc::dc
