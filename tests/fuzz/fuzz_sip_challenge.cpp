// Authentication challenges: no crash on any input; a Digest challenge that parses can be
// answered, and the Authorization value built from it parses back (same auth-param syntax)
// with the same realm, nonce, opaque and algorithm.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sip/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace imsdc::sip;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto c = parse_challenge(in);
  if (!c.is_ok() || c->scheme != AuthScheme::kDigest) return 0;
  DigestInput input{"alice@ims.example", "secret", "REGISTER", "sip:ims.example", "0a4f113b", 1};
  auto value = digest_authorization(c.value(), input);
  if (!value.is_ok()) {
    // Only control characters in realm/nonce/opaque may make a challenge unanswerable.
    if (value.status().code() != imsdc::Code::kInvalidArgument) std::abort();
    return 0;
  }
  auto back = parse_challenge(value.value());
  if (!back.is_ok() || back->realm != c->realm || back->nonce != c->nonce ||
      back->opaque != c->opaque || back->algorithm != c->algorithm) {
    std::abort();
  }
  return 0;
}
