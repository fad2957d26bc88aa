// STUN parser (RFC 8489): never crash; integrity checks stay in bounds; whatever parses
// re-serializes (with a fresh MESSAGE-INTEGRITY and FINGERPRINT) into a message that parses
// to the same fields and verifies with the key it was written with.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ice/stun.h"

using namespace imsdc;
using namespace imsdc::ice;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteSpan in(data, size);
  (void)classify(in);
  Result<StunMessage> m = parse(in);
  if (!m.is_ok()) return 0;
  (void)verify_integrity(in, m.value(), std::string_view("fuzz-password"));
  StunMessage w = m.value();
  if (w.error && (w.error->code < 300 || w.error->code > 699)) std::abort();
  if (w.ice_controlling && w.ice_controlled) w.ice_controlled.reset();
  Result<Bytes> out = serialize(w, std::string_view("fuzz-password"), true);
  if (!out.is_ok()) return 0; // e.g. the rewritten message would exceed the size bound
  Result<StunMessage> back = parse(out.value());
  if (!back.is_ok() || !back->has_fingerprint) std::abort();
  if (!verify_integrity(out.value(), back.value(), std::string_view("fuzz-password")).is_ok())
    std::abort();
  if (back->cls != w.cls || back->method != w.method || back->transaction != w.transaction ||
      back->username != w.username || back->priority != w.priority ||
      back->use_candidate != w.use_candidate || back->ice_controlling != w.ice_controlling ||
      back->ice_controlled != w.ice_controlled ||
      back->xor_mapped.has_value() != w.xor_mapped.has_value())
    std::abort();
  if (w.xor_mapped && (back->xor_mapped->port != w.xor_mapped->port ||
                       std::memcmp(back->xor_mapped->addr, w.xor_mapped->addr, 16) != 0))
    std::abort();
  if (w.error && (back->error->code != w.error->code || back->error->reason != w.error->reason))
    std::abort();
  return 0;
}
