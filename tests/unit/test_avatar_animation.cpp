// Animation frames (PROTOCOL_PROFILE.md section 9): exact byte layout, bounds, drop rules.
#include <gtest/gtest.h>

#include "avatar/animation.h"

namespace imsdc {
namespace {

using avatar::AnimationFrame;
using avatar::AnimationReceiver;
using avatar::FrameKind;

TEST(AvatarAnimation, ExactLayout) {
  AnimationFrame f;
  f.kind = FrameKind::kLandmarks;
  f.sequence = 0x01020304;
  f.capture_ms = 0x1122334455667788ull;
  f.landmarks = {{-1, 2}, {16384, -16384}};
  auto b = avatar::encode_frame(f);
  ASSERT_TRUE(b.is_ok());
  const Bytes want = {1,    1,    0,    2,    1,    2,    3, 4, 0x11, 0x22, 0x33, 0x44,
                      0x55, 0x66, 0x77, 0x88, 0xff, 0xff, 0, 2, 0x40, 0,    0xc0, 0};
  EXPECT_EQ(b.value(), want);
  auto back = avatar::decode_frame(ByteSpan(b.value()));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back.value().sequence, f.sequence);
  EXPECT_EQ(back.value().capture_ms, f.capture_ms);
  ASSERT_EQ(back.value().landmarks.size(), 2u);
  EXPECT_EQ(back.value().landmarks[0].x, -1);
  EXPECT_EQ(back.value().landmarks[1].y, -16384);

  AnimationFrame w;
  w.kind = FrameKind::kBlendShapes;
  w.weights = {0, 65535, 0x1234};
  auto wb = avatar::encode_frame(w);
  ASSERT_TRUE(wb.is_ok());
  EXPECT_EQ(wb.value().size(), 16u + 6u);
  EXPECT_EQ(wb.value()[1], 2);
  EXPECT_EQ(wb.value()[20], 0x12);
  auto wback = avatar::decode_frame(ByteSpan(wb.value()));
  ASSERT_TRUE(wback.is_ok());
  EXPECT_EQ(wback.value().weights, w.weights);
}

TEST(AvatarAnimation, Bounds) {
  AnimationFrame f;
  f.kind = FrameKind::kBlendShapes;
  f.weights.assign(1024, 7);
  auto ok = avatar::encode_frame(f);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_TRUE(avatar::decode_frame(ByteSpan(ok.value())).is_ok());
  f.weights.push_back(1);
  EXPECT_EQ(avatar::encode_frame(f).status(), Code::kTooLarge);

  Bytes b = ok.value();
  EXPECT_EQ(avatar::decode_frame(ByteSpan(b.data(), 15)).status(), Code::kMalformed);
  EXPECT_EQ(avatar::decode_frame(ByteSpan(b.data(), b.size() - 1)).status(), Code::kMalformed);
  Bytes extra = b;
  extra.push_back(0);
  EXPECT_EQ(avatar::decode_frame(ByteSpan(extra)).status(), Code::kMalformed);
  Bytes big = b;
  big[2] = 0x04;
  big[3] = 0x01; // 1025
  EXPECT_EQ(avatar::decode_frame(ByteSpan(big)).status(), Code::kTooLarge);
  Bytes v2 = b;
  v2[0] = 2;
  EXPECT_EQ(avatar::decode_frame(ByteSpan(v2)).status(), Code::kUnsupported);
  Bytes k3 = b;
  k3[1] = 3;
  EXPECT_EQ(avatar::decode_frame(ByteSpan(k3)).status(), Code::kUnsupported);
}

Bytes frame(std::uint32_t seq, std::uint64_t capture) {
  AnimationFrame f;
  f.kind = FrameKind::kBlendShapes;
  f.sequence = seq;
  f.capture_ms = capture;
  f.weights = {1, 2};
  return avatar::encode_frame(f).value();
}

TEST(AvatarAnimation, ReceiverDropsStaleAndOld) {
  AnimationReceiver rx; // 200 ms
  using V = AnimationReceiver::Verdict;
  // Sender clock 1,000,000 ms ahead of ours: only relative delay matters.
  const std::uint64_t skew = 1000000;
  AnimationFrame out;
  EXPECT_EQ(rx.on_message(ByteSpan(frame(10, skew + 0)), 50, &out), V::kDeliver);
  EXPECT_EQ(out.sequence, 10u);
  EXPECT_EQ(rx.on_message(ByteSpan(frame(12, skew + 66)), 116, &out), V::kDeliver);
  EXPECT_EQ(rx.on_message(ByteSpan(frame(11, skew + 33)), 120, &out), V::kStale);
  EXPECT_EQ(rx.on_message(ByteSpan(frame(12, skew + 66)), 121, &out), V::kStale);
  // 13 captured at +100 arrives 250 ms after the delay floor: too old.
  EXPECT_EQ(rx.on_message(ByteSpan(frame(13, skew + 100)), 400, &out), V::kTooOld);
  // Exactly 200 ms late is still delivered.
  EXPECT_EQ(rx.on_message(ByteSpan(frame(14, skew + 133)), 383, &out), V::kDeliver);
  EXPECT_EQ(rx.on_message(ByteSpan(Bytes{1, 2, 3}), 400, &out), V::kMalformed);
  EXPECT_EQ(rx.counters().delivered, 3u);
  EXPECT_EQ(rx.counters().stale, 2u);
  EXPECT_EQ(rx.counters().too_old, 1u);
  EXPECT_EQ(rx.counters().malformed, 1u);

  AnimationReceiver strict(10);
  EXPECT_EQ(strict.on_message(ByteSpan(frame(1, 0)), 5, &out), V::kDeliver);
  EXPECT_EQ(strict.on_message(ByteSpan(frame(2, 10)), 26, &out), V::kTooOld);
}

} // namespace
} // namespace imsdc
