#include "dc/hello_reassembler.h"

#include <cstring>

namespace imsdc::dc {
namespace {

constexpr std::uint8_t kContentHandshake = 22;
constexpr std::uint8_t kClientHello = 1;

std::uint32_t be24(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 16) | (static_cast<std::uint32_t>(p[1]) << 8) | p[2];
}
std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void put24(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 16);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v);
}

} // namespace

HelloReassembler::HelloReassembler() : HelloReassembler(Config{}) {}
HelloReassembler::HelloReassembler(const Config& config) : config_(config) {}

void HelloReassembler::drop(bool count) {
  if (active_ && count) ++dropped_;
  active_ = false;
  have_first_ = false;
  received_ = 0;
  length_ = 0;
  // Release, not just clear: a dropped set must not keep its memory.
  Bytes().swap(buf_);
  Bytes().swap(mask_);
}

void HelloReassembler::expire(std::uint64_t now_ms) {
  if (active_ && now_ms - started_ms_ >= config_.timeout_ms) drop(true);
}

void HelloReassembler::take_fragment(const std::uint8_t* rec, std::size_t rec_len,
                                     std::uint64_t now_ms, Bytes* out) {
  const std::uint8_t* hs = rec + kDtlsRecordHeader;
  const std::uint32_t length = be24(hs + 1);
  const std::uint16_t msg_seq = be16(hs + 4);
  const std::uint32_t offset = be24(hs + 6);
  const std::uint32_t frag_len = be24(hs + 9);
  (void)rec_len;

  if (length > config_.max_message || static_cast<std::uint64_t>(offset) + frag_len > length) {
    // Oversized or inconsistent: drop the fragment, and the set it would belong to.
    if (active_ && msg_seq == message_seq_)
      drop(true);
    else
      ++dropped_;
    return;
  }
  if (active_ && (msg_seq != message_seq_ || length != length_)) {
    // One message at a time: a newer ClientHello (e.g. the one carrying the cookie)
    // replaces a set that never completed; an older one is ignored.
    // A different length under the same message_seq is a contradiction: restart with it.
    if (static_cast<std::int16_t>(msg_seq - message_seq_) < 0) return;
    drop(true);
  }
  if (!active_) {
    active_ = true;
    message_seq_ = msg_seq;
    length_ = length;
    started_ms_ = now_ms;
    received_ = 0;
    buf_.assign(length, 0);
    mask_.assign(length, 0);
  }
  const std::uint8_t* body = hs + kDtlsHandshakeHeader;
  for (std::uint32_t i = 0; i < frag_len; ++i) {
    const std::size_t at = offset + i;
    if (mask_[at]) {
      // Overlaps must repeat the same bytes; a contradiction means one of the senders is
      // not the peer, and keeping either version would let it steer the transcript.
      if (buf_[at] != body[i]) {
        drop(true);
        return;
      }
      continue;
    }
    buf_[at] = body[i];
    mask_[at] = 1;
    ++received_;
  }
  if (offset == 0) {
    have_first_ = true;
    std::memcpy(first_version_, rec + 1, 2);
    std::memcpy(first_seq_, rec + 5, 6);
  }
  if (received_ != length_ || !have_first_) return;

  const std::size_t body_len = kDtlsHandshakeHeader + length_;
  const std::size_t at = out->size();
  out->resize(at + kDtlsRecordHeader + body_len);
  std::uint8_t* r = out->data() + at;
  r[0] = kContentHandshake;
  std::memcpy(r + 1, first_version_, 2);
  r[3] = 0; // epoch 0: only such records are ever reassembled
  r[4] = 0;
  std::memcpy(r + 5, first_seq_, 6);
  r[11] = static_cast<std::uint8_t>(body_len >> 8);
  r[12] = static_cast<std::uint8_t>(body_len);
  std::uint8_t* h = r + kDtlsRecordHeader;
  h[0] = kClientHello;
  put24(h + 1, length_);
  h[4] = static_cast<std::uint8_t>(message_seq_ >> 8);
  h[5] = static_cast<std::uint8_t>(message_seq_);
  put24(h + 6, 0);
  put24(h + 9, length_);
  std::memcpy(h + kDtlsHandshakeHeader, buf_.data(), length_);
  ++joined_;
  drop(false);
}

Status HelloReassembler::process(ByteSpan datagram, std::uint64_t now_ms, Bytes* out) {
  if (out == nullptr) return Status(Code::kInvalidArgument, Module::kDc, "out is null");
  out->clear();
  expire(now_ms);

  // First pass: check the record framing. A broken datagram goes through untouched so the
  // DTLS stack treats it exactly as it would without reassembly.
  std::size_t pos = 0;
  while (pos < datagram.size()) {
    if (datagram.size() - pos < kDtlsRecordHeader) break;
    const std::size_t len = be16(datagram.data() + pos + 11);
    if (datagram.size() - pos - kDtlsRecordHeader < len) break;
    pos += kDtlsRecordHeader + len;
  }
  if (pos != datagram.size()) {
    out->assign(datagram.begin(), datagram.end());
    return Status::ok();
  }

  out->reserve(datagram.size());
  pos = 0;
  while (pos < datagram.size()) {
    const std::uint8_t* rec = datagram.data() + pos;
    const std::size_t len = be16(rec + 11);
    const std::size_t rec_len = kDtlsRecordHeader + len;
    pos += rec_len;
    const bool epoch0 = rec[3] == 0 && rec[4] == 0;
    // Only a record holding exactly one ClientHello fragment is ours; a record with several
    // handshake messages or a whole ClientHello is left to the DTLS stack.
    if (rec[0] == kContentHandshake && epoch0 && len >= kDtlsHandshakeHeader &&
        rec[kDtlsRecordHeader] == kClientHello) {
      const std::uint8_t* hs = rec + kDtlsRecordHeader;
      const std::uint32_t length = be24(hs + 1);
      const std::uint32_t offset = be24(hs + 6);
      const std::uint32_t frag_len = be24(hs + 9);
      const bool one_fragment = kDtlsHandshakeHeader + frag_len == len;
      const bool whole = offset == 0 && frag_len == length;
      if (one_fragment && !whole) {
        take_fragment(rec, rec_len, now_ms, out);
        continue;
      }
    }
    out->insert(out->end(), rec, rec + rec_len);
  }
  return Status::ok();
}

} // namespace imsdc::dc
