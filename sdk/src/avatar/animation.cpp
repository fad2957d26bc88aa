#include "avatar/animation.h"

#include <utility>

namespace imsdc::avatar {
namespace {

Status err(Code code, const char* detail) {
  return Status(code, Module::kAvatar, detail);
}

void put16(Bytes* out, std::uint16_t v) {
  out->push_back(static_cast<std::uint8_t>(v >> 8));
  out->push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes* out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
}
std::uint32_t get32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(get16(p)) << 16) | get16(p + 2);
}

} // namespace

Result<Bytes> encode_frame(const AnimationFrame& frame) {
  std::size_t count = 0;
  if (frame.kind == FrameKind::kLandmarks)
    count = frame.landmarks.size();
  else if (frame.kind == FrameKind::kBlendShapes)
    count = frame.weights.size();
  else
    return err(Code::kInvalidArgument, "unknown animation frame kind");
  if (count > kAnimationMaxEntries) return err(Code::kTooLarge, "more than 1024 entries");
  Bytes out;
  out.reserve(kAnimationHeaderSize + 4 * count);
  out.push_back(kAnimationVersion);
  out.push_back(static_cast<std::uint8_t>(frame.kind));
  put16(&out, static_cast<std::uint16_t>(count));
  put32(&out, frame.sequence);
  put32(&out, static_cast<std::uint32_t>(frame.capture_ms >> 32));
  put32(&out, static_cast<std::uint32_t>(frame.capture_ms));
  if (frame.kind == FrameKind::kLandmarks) {
    for (const Landmark& l : frame.landmarks) {
      put16(&out, static_cast<std::uint16_t>(l.x));
      put16(&out, static_cast<std::uint16_t>(l.y));
    }
  } else {
    for (std::uint16_t w : frame.weights)
      put16(&out, w);
  }
  return out;
}

Result<AnimationFrame> decode_frame(ByteSpan in) {
  if (in.size() < kAnimationHeaderSize) return err(Code::kMalformed, "frame shorter than header");
  const std::uint8_t* p = in.data();
  if (p[0] != kAnimationVersion) return err(Code::kUnsupported, "animation version is not 1");
  if (p[1] != static_cast<std::uint8_t>(FrameKind::kLandmarks) &&
      p[1] != static_cast<std::uint8_t>(FrameKind::kBlendShapes))
    return err(Code::kUnsupported, "unknown animation frame kind");
  AnimationFrame f;
  f.kind = static_cast<FrameKind>(p[1]);
  const std::size_t count = get16(p + 2);
  if (count > kAnimationMaxEntries) return err(Code::kTooLarge, "more than 1024 entries");
  const std::size_t entry = f.kind == FrameKind::kLandmarks ? 4 : 2;
  // Exact length: trailing bytes would be data a different parser might interpret.
  if (in.size() != kAnimationHeaderSize + count * entry)
    return err(Code::kMalformed, "frame length does not match its entry count");
  f.sequence = get32(p + 4);
  f.capture_ms = (static_cast<std::uint64_t>(get32(p + 8)) << 32) | get32(p + 12);
  const std::uint8_t* e = p + kAnimationHeaderSize;
  if (f.kind == FrameKind::kLandmarks) {
    f.landmarks.resize(count);
    for (std::size_t i = 0; i < count; ++i, e += 4) {
      f.landmarks[i].x = static_cast<std::int16_t>(get16(e));
      f.landmarks[i].y = static_cast<std::int16_t>(get16(e + 2));
    }
  } else {
    f.weights.resize(count);
    for (std::size_t i = 0; i < count; ++i, e += 2)
      f.weights[i] = get16(e);
  }
  return f;
}

AnimationReceiver::Verdict AnimationReceiver::on_message(ByteSpan message, std::uint64_t now_ms,
                                                         AnimationFrame* out) {
  auto frame = decode_frame(message);
  if (!frame) {
    ++counters_.malformed;
    return Verdict::kMalformed;
  }
  AnimationFrame& f = frame.value();
  if (delivered_any_ && f.sequence <= last_sequence_) {
    ++counters_.stale;
    return Verdict::kStale;
  }
  // Unsigned wrap-around then a signed view: the offset may be negative when the sender's
  // clock is ahead of ours.
  const auto offset = static_cast<std::int64_t>(now_ms - f.capture_ms);
  if (!have_offset_ || offset < min_offset_) {
    min_offset_ = offset;
    have_offset_ = true;
  }
  const std::uint64_t age = static_cast<std::uint64_t>(offset - min_offset_);
  if (age > max_age_ms_) {
    ++counters_.too_old;
    return Verdict::kTooOld;
  }
  delivered_any_ = true;
  last_sequence_ = f.sequence;
  ++counters_.delivered;
  if (out) *out = std::move(f);
  return Verdict::kDeliver;
}

} // namespace imsdc::avatar
