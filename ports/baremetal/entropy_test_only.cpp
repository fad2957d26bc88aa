// imsdc_port_entropy for QEMU, which emulates no TRNG: a DETERMINISTIC, TEST-ONLY generator.
//
// Compiled only when IMSDC_BAREMETAL_TEST_ONLY_ENTROPY is defined (CMake option
// IMSDC_BAREMETAL_TEST_ONLY_ENTROPY, on in tests/target only). The output is SplitMix64 from a
// fixed seed: the same every run, so keys made on this "device" are public knowledge. The first
// call prints a banner to stderr, every run, so nobody mistakes a test image for a product.
// A product build leaves the option off and links entropy_trng.cpp, which asks the board's
// TRNG driver (imsdc_baremetal_trng_read) instead.
#if !defined(IMSDC_BAREMETAL_TEST_ONLY_ENTROPY)
#error "entropy_test_only.cpp is for QEMU test images only (IMSDC_BAREMETAL_TEST_ONLY_ENTROPY)"
#endif

#include <unistd.h>

#include <cstring>

#include "imsdc/port/entropy.h"
#include "imsdc/port_baremetal.h"

namespace imsdc::baremetal {
namespace {

constexpr std::uint64_t kTestOnlySeed = 0x7E57'0000'0000'0001ull; // "TEST"-only, public
std::uint64_t g_state = kTestOnlySeed;
bool g_warned = false;

std::uint64_t splitmix64() {
  std::uint64_t z = (g_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void warn_once() {
  if (g_warned) return;
  g_warned = true;
  static const char kBanner[] =
      "\n"
      "****************************************************************************\n"
      "* imsdc ports/baremetal: TEST-ONLY ENTROPY (fixed seed, SplitMix64).        *\n"
      "* QEMU has no TRNG. Every key and nonce of this image is PREDICTABLE.       *\n"
      "* NEVER ship an image built with IMSDC_BAREMETAL_TEST_ONLY_ENTROPY.         *\n"
      "****************************************************************************\n";
  ::write(2, kBanner, sizeof kBanner - 1);
}

} // namespace

void set_test_only_entropy_seed(std::uint64_t seed) {
  g_state = seed;
}

} // namespace imsdc::baremetal

extern "C" int imsdc_port_entropy(uint8_t* out, size_t len) {
  using namespace imsdc::baremetal;
  warn_once();
  while (len > 0) {
    std::uint64_t v = splitmix64();
    std::size_t n = len < sizeof v ? len : sizeof v;
    std::memcpy(out, &v, n);
    out += n;
    len -= n;
  }
  return IMSDC_PORT_OK;
}
