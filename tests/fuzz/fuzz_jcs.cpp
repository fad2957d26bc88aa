// RFC 8785 canonicalization: no crash on any input, and the canonical form is a fixed point
// (canonicalizing it again gives the same bytes).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "identity/jcs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto c = imsdc::identity::jcs_canonicalize(in);
  if (!c.is_ok()) return 0;
  auto again = imsdc::identity::jcs_canonicalize(c.value());
  if (!again.is_ok() || again.value() != c.value()) std::abort();
  return 0;
}
