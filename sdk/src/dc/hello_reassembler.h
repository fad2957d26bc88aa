// DTLS ClientHello reassembly in front of a DTLS server that cannot take a fragmented
// ClientHello (mbedTLS 2.28: "ClientHello fragmentation not supported"). Chromium sends its
// 1413-byte ClientHello as two handshake fragments in two records; an IMS network element
// may do the same. This object joins such fragments into one record before the DTLS stack
// sees the datagram:
//   - handshake header: fragment_offset 0, fragment_length = length;
//   - record header: length adjusted, the record sequence number and version of the record
//     that carried fragment_offset 0 (RFC 6347 section 4.2.6 hashes every handshake message
//     as if it were one fragment, so the transcript the server computes is unchanged).
//
// It is pure (no I/O, no clock of its own; the caller passes its monotonic time) and
// bounded: one message in progress at a time, a size cap, a completion timeout. Sets that
// exceed the cap, never complete or carry contradicting overlaps are dropped, and memory
// never grows past the cap. Everything that is not a fragmented epoch-0 ClientHello passes
// through byte for byte.
#ifndef IMSDC_SRC_DC_HELLO_REASSEMBLER_H
#define IMSDC_SRC_DC_HELLO_REASSEMBLER_H

#include <cstddef>
#include <cstdint>

#include "imsdc/bytes.h"
#include "imsdc/status.h"

namespace imsdc::dc {

// DTLS record and handshake header sizes (RFC 6347 sections 4.1 and 4.2.2).
constexpr std::size_t kDtlsRecordHeader = 13;
constexpr std::size_t kDtlsHandshakeHeader = 12;

class HelloReassembler {
public:
  struct Config {
    // Largest ClientHello body accepted (the handshake "length" field). Chromium's with a
    // post-quantum key share is about 1.4 KiB; 4 KiB leaves room without inviting abuse.
    std::size_t max_message = 4096;
    // A set still incomplete this long after its first fragment is dropped.
    std::uint64_t timeout_ms = 5000;
  };

  HelloReassembler();
  explicit HelloReassembler(const Config& config);

  // Processes one received datagram. *out receives the datagram to hand to the DTLS stack:
  // every record except fragments of an epoch-0 ClientHello, in order, plus the joined
  // ClientHello record at the position of the fragment that completed it. *out may be empty
  // (all records were fragments still waiting). A datagram whose record framing is broken is
  // copied unchanged (the DTLS stack drops it as it would without this object).
  // Errors: kInvalidArgument (out is null). Dropped fragment sets are not errors: they are
  // counted in dropped_sets().
  Status process(ByteSpan datagram, std::uint64_t now_ms, Bytes* out);

  // Drops a set whose timeout has passed (also done by process()), releasing its memory.
  void expire(std::uint64_t now_ms);

  bool in_progress() const { return active_; }
  // Bytes currently held for the set in progress (0 when none).
  std::size_t held_bytes() const { return buf_.capacity() + mask_.capacity(); }
  std::size_t dropped_sets() const { return dropped_; }
  std::size_t joined_messages() const { return joined_; }

private:
  // Handles one handshake fragment record; may append the joined record to *out.
  void take_fragment(const std::uint8_t* rec, std::size_t rec_len, std::uint64_t now_ms,
                     Bytes* out);
  void drop(bool count);

  Config config_;
  bool active_ = false;
  std::uint16_t message_seq_ = 0;
  std::uint32_t length_ = 0;
  std::uint64_t started_ms_ = 0;
  bool have_first_ = false;
  std::uint8_t first_version_[2] = {0, 0};
  std::uint8_t first_seq_[6] = {0, 0, 0, 0, 0, 0};
  std::size_t received_ = 0; // distinct bytes received so far
  Bytes buf_;                // the message body, length_ bytes
  Bytes mask_;               // one byte per body byte: 1 when received
  std::size_t dropped_ = 0;
  std::size_t joined_ = 0;
};

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_HELLO_REASSEMBLER_H
