// Streaming JWE decryptor: never crashes on any input, in any split, and never commits a
// blob unless decryption succeeded. The input's first byte chooses the piece size, so the
// fuzzer also explores segment and base64 boundaries falling across feed() calls.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "avatar/ephemeral.h"
#include "avatar/jwe_decrypt.h"
#include "imsdc/port_fake.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  ++data;
  --size;
  auto key = imsdc::avatar::EphemeralKey::generate(imsdc::fake::kDefaultWallS);
  if (!key) return 0;
  imsdc::fake::MemoryStorage storage;
  imsdc::avatar::JweOptions opt;
  opt.jti = "jti-1";
  opt.now_s = imsdc::fake::kDefaultWallS;
  opt.max_plaintext = 1 << 20;
  opt.blob_name = "rep";
  bool ok = true;
  {
    imsdc::avatar::JweDecryptor dec(key.value(), *storage.port(), opt);
    for (std::size_t i = 0; i < size && ok; i += piece)
      ok = dec.feed(imsdc::ByteSpan(data + i, std::min(piece, size - i))).is_ok();
    if (ok) ok = dec.finish().is_ok();
  }
  // Without the BAR's cooperation a random input cannot authenticate; either way nothing
  // may stay open, and a failure must leave no blob.
  if (storage.open_blobs() != 0) std::abort();
  if (!ok && storage.blob("rep") != nullptr) std::abort();
  if (!key.value().used()) {
    // Only inputs that never reached a valid header may leave the key unused.
    if (ok) std::abort();
  }
  return 0;
}
