// Avatar animation frames of the demo (TR 33.790 sol. #6: "animation data" after the
// representation): small binary messages on an unordered channel without retransmissions
// (RFC 8831 partial reliability, maxRetransmits 0), so a late frame is dropped rather than
// delaying the next one. Frame: "IMAF", sequence (u32 BE), sender time in ms (u32 BE), then
// 6 pose values (u16 BE each: head yaw/pitch/roll, mouth, eyes, hands), 24 bytes in all.
#ifndef IMSDC_CLI_DEMO_FRAMES_H
#define IMSDC_CLI_DEMO_FRAMES_H

#include <cstdint>
#include <string>

#include "imsdc/bytes.h"

namespace imsdc::cli {

constexpr const char* kAnimationLabel = "avatar-animation";
constexpr const char* kAnimationProtocol = "imsdc-animation";
constexpr std::size_t kFrameSize = 24;

inline Bytes make_frame(std::uint32_t seq, std::uint32_t t_ms) {
  Bytes f(kFrameSize);
  f[0] = 'I';
  f[1] = 'M';
  f[2] = 'A';
  f[3] = 'F';
  for (int i = 0; i < 4; ++i) {
    f[4 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
    f[8 + i] = static_cast<std::uint8_t>(t_ms >> (24 - 8 * i));
  }
  for (std::size_t k = 0; k < 6; ++k) { // a slow nod and blink: deterministic per frame
    const std::uint16_t v = static_cast<std::uint16_t>((seq * (k + 3) * 977u) & 0xffffu);
    f[12 + 2 * k] = static_cast<std::uint8_t>(v >> 8);
    f[13 + 2 * k] = static_cast<std::uint8_t>(v);
  }
  return f;
}

// Counts received frames: valid ones, malformed ones, those arriving after a later one.
class FrameCounter {
public:
  void add(ByteSpan d) {
    if (d.size() != kFrameSize || d[0] != 'I' || d[1] != 'M' || d[2] != 'A' || d[3] != 'F') {
      ++bad_;
      return;
    }
    std::uint32_t seq = 0;
    for (int i = 0; i < 4; ++i)
      seq = (seq << 8) | d[4 + i];
    if (count_ > 0 && seq < max_seq_) ++late_;
    if (count_ == 0 || seq > max_seq_) max_seq_ = seq;
    ++count_;
  }
  std::uint32_t count() const { return count_; }
  std::uint32_t bad() const { return bad_; }
  std::string summary() const {
    const std::uint32_t expected = count_ ? max_seq_ + 1 : 0;
    return std::to_string(count_) + " frames, " +
           std::to_string(expected > count_ ? expected - count_ : 0) + " lost, " +
           std::to_string(late_) + " out of order, " + std::to_string(bad_) + " malformed";
  }

private:
  std::uint32_t count_ = 0, max_seq_ = 0, late_ = 0, bad_ = 0;
};

} // namespace imsdc::cli

#endif // IMSDC_CLI_DEMO_FRAMES_H
