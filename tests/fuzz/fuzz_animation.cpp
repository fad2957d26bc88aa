// Animation frame parser and receiver: never crashes, never accepts more than 1024
// entries, and every frame it accepts re-encodes to exactly the input bytes.
#include <cstdint>
#include <cstdlib>

#include "avatar/animation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  imsdc::ByteSpan in(data, size);
  auto f = imsdc::avatar::decode_frame(in);
  if (f) {
    const auto& fr = f.value();
    if (fr.landmarks.size() > imsdc::avatar::kAnimationMaxEntries ||
        fr.weights.size() > imsdc::avatar::kAnimationMaxEntries)
      std::abort();
    auto back = imsdc::avatar::encode_frame(fr);
    if (!back || back.value() != imsdc::Bytes(data, data + size)) std::abort();
  }
  imsdc::avatar::AnimationReceiver rx;
  imsdc::avatar::AnimationFrame out;
  (void)rx.on_message(in, 1000, &out);
  (void)rx.on_message(in, 1000, &out); // a duplicate is never delivered twice
  if (rx.counters().delivered > 1) std::abort();
  return 0;
}
