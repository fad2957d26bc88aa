// jCard parser (RFC 7095, as Rich Call Data links it): no crash on any input; photo/logo
// links point inside the examined properties, in order, and name what they are.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "identity/identity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto j = imsdc::identity::parse_jcard(in);
  if (!j.is_ok()) return 0;
  std::size_t last = 0;
  bool first = true;
  for (const auto& link : j->links) {
    if (link.index >= imsdc::identity::kMaxJCardProperties) std::abort();
    if (!first && link.index <= last) std::abort();
    if (link.name != "photo" && link.name != "logo") std::abort();
    last = link.index;
    first = false;
  }
  return 0;
}
