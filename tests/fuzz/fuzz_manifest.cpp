// Manifest verification: never crashes on any input. The trust store holds a fixed test
// anchor that no fuzzed input is signed by, so nothing may verify.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "avatar/manifest.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static imsdc::crypto::TrustStore trust; // empty: no chain can be trusted
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = imsdc::avatar::verify_manifest(in, trust, "av-1", imsdc::fake::kDefaultWallS);
  if (m.is_ok()) std::abort();
  return 0;
}
