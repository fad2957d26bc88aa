// jwk_to_public: never crashes; whatever imports is a valid P-256 point and re-exports to a
// JWK that imports to the same key.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "imsdc/crypto.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = imsdc::crypto::jwk_to_public(in);
  if (r.is_ok()) {
    auto again = imsdc::crypto::jwk_to_public(imsdc::crypto::jwk_from_public(r.value()));
    if (!again.is_ok() || !(again.value() == r.value())) std::abort();
  }
  auto priv = imsdc::crypto::jwk_to_private(in);
  if (priv.is_ok() && !r.is_ok()) std::abort();  // a private JWK is also a public one
  return 0;
}
