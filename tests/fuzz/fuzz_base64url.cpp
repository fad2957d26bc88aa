// Canonical base64url: decode never crashes, and whatever decodes re-encodes to the same
// text (the canonical-form property that JOSE tamper detection relies on).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "imsdc/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = imsdc::base64url_decode(in, 1 << 20);
  if (r.is_ok() && imsdc::base64url_encode(r.value()) != in) std::abort();
  auto s = imsdc::base64_decode(in, 1 << 20);
  if (s.is_ok() && imsdc::base64_encode(s.value()) != in) std::abort();
  auto h = imsdc::hex_decode(in, ':');
  (void)h;
  return 0;
}
