#include "imsdc/bytes.h"

namespace imsdc {

void secure_zero(void* p, std::size_t n) {
  // A volatile pointer keeps the stores; the barrier stops the compiler from treating the
  // memory as dead afterwards.
  volatile std::uint8_t* v = static_cast<volatile std::uint8_t*>(p);
  while (n--)
    *v++ = 0;
#if defined(__GNUC__)
  __asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

bool constant_time_equal(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace imsdc
