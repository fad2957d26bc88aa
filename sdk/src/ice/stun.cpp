#include "ice/stun.h"

#include <mbedtls/md.h>

#include <cstring>

namespace imsdc::ice {
namespace {

constexpr std::uint16_t kAttrUsername = 0x0006;
constexpr std::uint16_t kAttrMessageIntegrity = 0x0008;
constexpr std::uint16_t kAttrErrorCode = 0x0009;
constexpr std::uint16_t kAttrUnknownAttributes = 0x000A;
constexpr std::uint16_t kAttrXorMappedAddress = 0x0020;
constexpr std::uint16_t kAttrPriority = 0x0024;
constexpr std::uint16_t kAttrUseCandidate = 0x0025;
constexpr std::uint16_t kAttrFingerprint = 0x8028;
constexpr std::uint16_t kAttrIceControlled = 0x8029;
constexpr std::uint16_t kAttrIceControlling = 0x802A;
constexpr std::uint32_t kFingerprintXor = 0x5354554E;
constexpr std::size_t kHmacSize = 20;

Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kDc, detail);
}

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
}
std::uint64_t be64(const std::uint8_t* p) {
  return (static_cast<std::uint64_t>(be32(p)) << 32) | be32(p + 4);
}
void put16(Bytes* b, std::uint16_t v) {
  b->push_back(static_cast<std::uint8_t>(v >> 8));
  b->push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes* b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
void set16(Bytes* b, std::size_t at, std::uint16_t v) {
  (*b)[at] = static_cast<std::uint8_t>(v >> 8);
  (*b)[at + 1] = static_cast<std::uint8_t>(v);
}

// Message type bits (RFC 8489 section 5): method M0..M11 interleaved with class C0, C1.
std::uint16_t encode_type(StunClass cls, std::uint16_t method) {
  const auto c = static_cast<std::uint16_t>(cls);
  return static_cast<std::uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                                    ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
}

// XOR of address and port with the cookie (and for IPv6 the transaction id).
void xor_address(const TransactionId& tid, imsdc_port_addr* a) {
  std::uint8_t mask[16];
  const std::uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
  std::memcpy(mask, cookie, 4);
  std::memcpy(mask + 4, tid.data(), 12);
  a->port = static_cast<std::uint16_t>(a->port ^ (kMagicCookie >> 16));
  const std::size_t n = a->family == IMSDC_AF_INET4 ? 4 : 16;
  for (std::size_t i = 0; i < n; ++i)
    a->addr[i] ^= mask[i];
}

Status parse_address(ByteSpan v, const TransactionId& tid, imsdc_port_addr* out) {
  if (v.size() < 4) return malformed("XOR-MAPPED-ADDRESS too short");
  std::memset(out, 0, sizeof *out);
  const std::uint8_t family = v[1];
  if (family == 0x01 && v.size() == 8) {
    out->family = IMSDC_AF_INET4;
    std::memcpy(out->addr, v.data() + 4, 4);
  } else if (family == 0x02 && v.size() == 20) {
    out->family = IMSDC_AF_INET6;
    std::memcpy(out->addr, v.data() + 4, 16);
  } else {
    return malformed("XOR-MAPPED-ADDRESS family or length");
  }
  out->port = be16(v.data() + 2);
  xor_address(tid, out);
  return Status::ok();
}

Status hmac_sha1(ByteSpan key, ByteSpan data, std::uint8_t out[kHmacSize]) {
  const mbedtls_md_info_t* md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  if (!md || mbedtls_md_hmac(md, key.data(), key.size(), data.data(), data.size(), out) != 0)
    return Status(Code::kInternal, Module::kDc, "HMAC-SHA1 failed");
  return Status::ok();
}

struct CrcTable {
  std::uint32_t v[256];
  constexpr CrcTable() : v() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      v[i] = c;
    }
  }
};
constexpr CrcTable kCrcTable;

} // namespace

Demux classify(ByteSpan datagram) {
  if (datagram.empty()) return Demux::kOther;
  const std::uint8_t b = datagram[0];
  if (b <= 3) return Demux::kStun;
  if (b >= 20 && b <= 63) return Demux::kDtls;
  return Demux::kOther;
}

std::uint32_t crc32(ByteSpan data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : data)
    c = kCrcTable.v[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<StunMessage> parse(ByteSpan d) {
  if (d.size() > kMaxStunMessage) return Status(Code::kTooLarge, Module::kDc, "STUN too large");
  if (d.size() < kStunHeaderSize || (d[0] & 0xC0) != 0) return malformed("not STUN");
  if (be32(d.data() + 4) != kMagicCookie) return malformed("no STUN magic cookie");
  const std::size_t length = be16(d.data() + 2);
  if (length % 4 != 0 || length + kStunHeaderSize != d.size()) return malformed("STUN length");

  StunMessage m;
  const std::uint16_t type = be16(d.data());
  m.method =
      static_cast<std::uint16_t>((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
  m.cls = static_cast<StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
  std::memcpy(m.transaction.data(), d.data() + 8, 12);

  std::size_t pos = kStunHeaderSize;
  while (pos < d.size()) {
    if (d.size() - pos < 4) return malformed("truncated attribute header");
    const std::uint16_t at = be16(d.data() + pos);
    const std::size_t len = be16(d.data() + pos + 2);
    const std::size_t padded = (len + 3) & ~static_cast<std::size_t>(3);
    if (padded > d.size() - pos - 4) return malformed("attribute overruns the message");
    const ByteSpan v = d.sub(pos + 4, len);
    if (at == kAttrFingerprint) {
      if (len != 4 || pos + 8 != d.size()) return malformed("FINGERPRINT not last");
      if ((crc32(d.sub(0, pos)) ^ kFingerprintXor) != be32(v.data()))
        return malformed("FINGERPRINT mismatch");
      m.has_fingerprint = true;
    } else if (m.integrity_offset != 0) {
      // RFC 8489 section 14.5: only FINGERPRINT may follow MESSAGE-INTEGRITY.
    } else if (at == kAttrMessageIntegrity) {
      if (len != kHmacSize) return malformed("MESSAGE-INTEGRITY length");
      m.integrity_offset = pos;
    } else if (at == kAttrUsername) {
      if (len > kMaxUsername) return Status(Code::kTooLarge, Module::kDc, "USERNAME too long");
      m.username = std::string(v.as_string());
    } else if (at == kAttrPriority) {
      if (len != 4) return malformed("PRIORITY length");
      m.priority = be32(v.data());
    } else if (at == kAttrUseCandidate) {
      if (len != 0) return malformed("USE-CANDIDATE length");
      m.use_candidate = true;
    } else if (at == kAttrIceControlling || at == kAttrIceControlled) {
      if (len != 8) return malformed("ICE-CONTROLLING/ICE-CONTROLLED length");
      (at == kAttrIceControlling ? m.ice_controlling : m.ice_controlled) = be64(v.data());
    } else if (at == kAttrXorMappedAddress) {
      imsdc_port_addr a;
      IMSDC_TRY(parse_address(v, m.transaction, &a));
      m.xor_mapped = a;
    } else if (at == kAttrErrorCode) {
      if (len < 4) return malformed("ERROR-CODE length");
      if (len - 4 > kMaxReason) return Status(Code::kTooLarge, Module::kDc, "reason too long");
      const unsigned cls = v[2] & 0x07, number = v[3];
      if (cls < 3 || cls > 6 || number > 99) return malformed("ERROR-CODE value");
      m.error = ErrorCode{static_cast<std::uint16_t>(cls * 100 + number),
                          std::string(v.sub(4).as_string())};
    } else if (at == kAttrUnknownAttributes) {
      if (len % 2 != 0) return malformed("UNKNOWN-ATTRIBUTES length");
      for (std::size_t i = 0; i + 1 < len && m.unknown_required.size() < kMaxUnknownListed; i += 2)
        m.unknown_required.push_back(be16(v.data() + i));
    } else if (at < 0x8000 && m.unknown_required.size() < kMaxUnknownListed) {
      m.unknown_required.push_back(at);
    }
    pos += 4 + padded;
  }
  return m;
}

Status verify_integrity(ByteSpan d, const StunMessage& m, ByteSpan key) {
  const Status fail(Code::kAuthFailed, Module::kDc, "MESSAGE-INTEGRITY mismatch");
  const std::size_t at = m.integrity_offset;
  if (at < kStunHeaderSize || at + 4 + kHmacSize > d.size() || d.size() > kMaxStunMessage)
    return fail;
  // The HMAC covers the message up to the attribute, with the header's length counting
  // through the end of MESSAGE-INTEGRITY (RFC 8489 section 14.5).
  std::uint8_t covered[kMaxStunMessage];
  std::memcpy(covered, d.data(), at);
  const std::size_t length = at + 4 + kHmacSize - kStunHeaderSize;
  covered[2] = static_cast<std::uint8_t>(length >> 8);
  covered[3] = static_cast<std::uint8_t>(length);
  std::uint8_t mac[kHmacSize];
  IMSDC_TRY(hmac_sha1(key, ByteSpan(covered, at), mac));
  const bool ok = constant_time_equal(ByteSpan(mac, kHmacSize), d.sub(at + 4, kHmacSize));
  return ok ? Status::ok() : fail;
}

Result<Bytes> serialize(const StunMessage& m, ByteSpan integrity_key, bool fingerprint) {
  const Status bad(Code::kInvalidArgument, Module::kDc, "STUN attribute value");
  if (m.ice_controlling && m.ice_controlled) return bad;
  Bytes b;
  b.reserve(256);
  put16(&b, encode_type(m.cls, m.method));
  put16(&b, 0);
  put32(&b, kMagicCookie);
  b.insert(b.end(), m.transaction.begin(), m.transaction.end());
  auto attr = [&b](std::uint16_t type, ByteSpan value) {
    put16(&b, type);
    put16(&b, static_cast<std::uint16_t>(value.size()));
    b.insert(b.end(), value.begin(), value.end());
    while (b.size() % 4 != 0)
      b.push_back(0);
  };
  auto u64 = [](std::uint64_t v, std::uint8_t out[8]) {
    for (int i = 0; i < 8; ++i)
      out[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
  };
  if (m.username) {
    if (m.username->size() > kMaxUsername) return bad;
    attr(kAttrUsername, std::string_view(*m.username));
  }
  if (m.priority) {
    const std::uint8_t p[4] = {
        static_cast<std::uint8_t>(*m.priority >> 24), static_cast<std::uint8_t>(*m.priority >> 16),
        static_cast<std::uint8_t>(*m.priority >> 8), static_cast<std::uint8_t>(*m.priority)};
    attr(kAttrPriority, ByteSpan(p, 4));
  }
  if (m.use_candidate) attr(kAttrUseCandidate, ByteSpan());
  if (m.ice_controlling || m.ice_controlled) {
    std::uint8_t t[8];
    u64(m.ice_controlling ? *m.ice_controlling : *m.ice_controlled, t);
    attr(m.ice_controlling ? kAttrIceControlling : kAttrIceControlled, ByteSpan(t, 8));
  }
  if (m.xor_mapped) {
    imsdc_port_addr a = *m.xor_mapped;
    if (a.family != IMSDC_AF_INET4 && a.family != IMSDC_AF_INET6) return bad;
    xor_address(m.transaction, &a);
    std::uint8_t v[20] = {0, static_cast<std::uint8_t>(a.family == IMSDC_AF_INET4 ? 1 : 2),
                          static_cast<std::uint8_t>(a.port >> 8),
                          static_cast<std::uint8_t>(a.port)};
    const std::size_t n = a.family == IMSDC_AF_INET4 ? 4 : 16;
    std::memcpy(v + 4, a.addr, n);
    attr(kAttrXorMappedAddress, ByteSpan(v, 4 + n));
  }
  if (m.error) {
    if (m.error->code < 300 || m.error->code > 699 || m.error->reason.size() > kMaxReason)
      return bad;
    Bytes v = {0, 0, static_cast<std::uint8_t>(m.error->code / 100),
               static_cast<std::uint8_t>(m.error->code % 100)};
    v.insert(v.end(), m.error->reason.begin(), m.error->reason.end());
    attr(kAttrErrorCode, v);
    if (!m.unknown_required.empty()) {
      Bytes u;
      for (std::size_t i = 0; i < m.unknown_required.size() && i < kMaxUnknownListed; ++i)
        put16(&u, m.unknown_required[i]);
      attr(kAttrUnknownAttributes, u);
    }
  }
  if (b.size() + 24 + 8 > kMaxStunMessage)
    return Status(Code::kTooLarge, Module::kDc, "STUN message too large");
  if (!integrity_key.empty()) {
    set16(&b, 2, static_cast<std::uint16_t>(b.size() + 4 + kHmacSize - kStunHeaderSize));
    std::uint8_t mac[kHmacSize];
    IMSDC_TRY(hmac_sha1(integrity_key, b, mac));
    attr(kAttrMessageIntegrity, ByteSpan(mac, kHmacSize));
  }
  if (fingerprint) {
    set16(&b, 2, static_cast<std::uint16_t>(b.size() + 8 - kStunHeaderSize));
    const std::uint32_t crc = crc32(b) ^ kFingerprintXor;
    const std::uint8_t v[4] = {static_cast<std::uint8_t>(crc >> 24),
                               static_cast<std::uint8_t>(crc >> 16),
                               static_cast<std::uint8_t>(crc >> 8), static_cast<std::uint8_t>(crc)};
    attr(kAttrFingerprint, ByteSpan(v, 4));
  }
  set16(&b, 2, static_cast<std::uint16_t>(b.size() - kStunHeaderSize));
  return b;
}

} // namespace imsdc::ice
