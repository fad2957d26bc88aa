// Avatar animation frames (PROTOCOL_PROFILE.md section 9): the big-endian binary format
// carried on the unordered, unreliable "avatar-animation" data channel, and a receiver
// that drops frames that arrive too late to be useful.
#ifndef IMSDC_SRC_AVATAR_ANIMATION_H
#define IMSDC_SRC_AVATAR_ANIMATION_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

// The channel's label (PROTOCOL_PROFILE.md section 9) and the DCEP subprotocol imsdc opens it
// with (the profile names none; a peer's channel policy must allow it).
constexpr const char* kAnimationLabel = "avatar-animation";
constexpr const char* kAnimationProtocol = "imsdc-animation";
constexpr std::uint8_t kAnimationVersion = 1;
constexpr std::size_t kAnimationMaxEntries = 1024;
constexpr std::size_t kAnimationHeaderSize = 16; // version, kind, count, sequence, time
// Largest valid frame: every entry is 4 bytes at most (a landmark).
constexpr std::size_t kAnimationMaxFrame = kAnimationHeaderSize + 4 * kAnimationMaxEntries;
constexpr std::uint64_t kAnimationDefaultMaxAgeMs = 200;

enum class FrameKind : std::uint8_t {
  kLandmarks = 1,   // i16 x, i16 y in 1/16384 of the frame size
  kBlendShapes = 2, // u16 weight in 1/65535
};

struct Landmark {
  std::int16_t x = 0;
  std::int16_t y = 0;
};

// One frame. Only the vector matching `kind` is used.
struct AnimationFrame {
  FrameKind kind = FrameKind::kLandmarks;
  std::uint32_t sequence = 0;
  std::uint64_t capture_ms = 0; // sender's monotonic clock
  std::vector<Landmark> landmarks;
  std::vector<std::uint16_t> weights;
};

// Serializes a frame. Errors: kInvalidArgument (unknown kind), kTooLarge (> 1024 entries).
Result<Bytes> encode_frame(const AnimationFrame& frame);

// Parses one message; never reads past `in` and allocates at most 1024 entries.
// Errors: kMalformed (shorter than the header, or length != header + count x entry size),
// kUnsupported (version != 1 or unknown kind), kTooLarge (count > 1024).
Result<AnimationFrame> decode_frame(ByteSpan in);

// Delivery decision for received frames. The sender's capture clock is not ours, so age
// is measured against the smallest (arrival - capture) offset seen so far: that offset is
// the one-way delay floor plus the clock difference, and any frame above it by more than
// max_age_ms waited too long somewhere.
class AnimationReceiver {
public:
  enum class Verdict { kDeliver, kStale, kTooOld, kMalformed };
  struct Counters {
    std::uint64_t delivered = 0;
    std::uint64_t stale = 0;     // sequence <= the newest delivered
    std::uint64_t too_old = 0;   // age > max_age_ms
    std::uint64_t malformed = 0; // did not parse
  };

  explicit AnimationReceiver(std::uint64_t max_age_ms = kAnimationDefaultMaxAgeMs)
      : max_age_ms_(max_age_ms) {}

  // Judges one message received at now_ms (our monotonic clock); on kDeliver fills *out.
  // Sequence numbers are compared as plain u32: at 60 frames/s they wrap after 2 years.
  Verdict on_message(ByteSpan message, std::uint64_t now_ms, AnimationFrame* out);
  const Counters& counters() const { return counters_; }

private:
  std::uint64_t max_age_ms_;
  bool have_offset_ = false;
  std::int64_t min_offset_ = 0;
  bool delivered_any_ = false;
  std::uint32_t last_sequence_ = 0;
  Counters counters_;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_ANIMATION_H
