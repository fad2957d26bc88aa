// cert_info over DER and certs_from_pem over text: never crash, stay within the bounds, and
// every certificate PEM yields is re-encoded identically.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  imsdc::ByteSpan in(data, size);
  auto info = imsdc::crypto::cert_info(in);
  if (info.is_ok()) {
    if (size > IMSDC_MAX_CERT_SIZE) std::abort();
    (void)imsdc::crypto::cert_fingerprint(in);
  }
  auto certs = imsdc::crypto::certs_from_pem(in.as_string());
  if (certs.is_ok()) {
    for (const auto& der : certs.value()) {
      if (der.empty() || der.size() > IMSDC_MAX_CERT_SIZE) std::abort();
      auto back = imsdc::crypto::certs_from_pem(imsdc::crypto::cert_to_pem(der));
      if (!back.is_ok() || back.value().size() != 1 || back.value()[0] != der) std::abort();
      (void)imsdc::crypto::cert_info(der);
    }
  }
  (void)imsdc::crypto::parse_fingerprint(in.as_string());
  return 0;
}
