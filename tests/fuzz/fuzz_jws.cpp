// jws_parse: never crashes on any input, and whatever parses satisfies the invariants the
// verifier relies on (ES256 only, 64-byte signature, bounded x5c, signing input is a prefix
// of the input).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "imsdc/config_defaults.h"
#include "imsdc/jose.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = imsdc::jose::jws_parse(in);
  if (!r.is_ok()) return 0;
  const imsdc::jose::JwsParts& p = r.value();
  if (p.alg != "ES256") std::abort();
  if (p.x5c.size() > IMSDC_MAX_CHAIN_LENGTH) std::abort();
  if (in.substr(0, p.signing_input.size()) != p.signing_input) std::abort();
  if (in.size() != p.signing_input.size() + 1 + 86) std::abort();
  // Verification with an arbitrary (valid) key must fail cleanly, not crash.
  imsdc::crypto::EcPublicKey key;
  (void)imsdc::jose::jws_verify(p, key);
  return 0;
}
