// ClientHello reassembler: the input is split into datagrams (a 2-byte big-endian length
// before each, plus a 1-byte clock step), fed in order. Never crash, never hold more than
// the size cap, and every joined record is a well-formed single-fragment ClientHello.
#include <cstdint>
#include <cstdlib>

#include "dc/hello_reassembler.h"

using namespace imsdc;
using namespace imsdc::dc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  HelloReassembler::Config cfg;
  cfg.max_message = 2048;
  cfg.timeout_ms = 100;
  HelloReassembler r(cfg);
  std::uint64_t now = 0;
  std::size_t pos = 0;
  Bytes out;
  while (size - pos >= 3) {
    const std::size_t len = static_cast<std::size_t>((data[pos] << 8) | data[pos + 1]);
    now += data[pos + 2];
    pos += 3;
    const std::size_t take = len < size - pos ? len : size - pos;
    if (!r.process(ByteSpan(data + pos, take), now, &out).is_ok()) std::abort();
    pos += take;
    if (r.held_bytes() > 2 * cfg.max_message + 64) std::abort();
    // Output never exceeds input plus one joined record's headers.
    if (out.size() > take + cfg.max_message + kDtlsRecordHeader + kDtlsHandshakeHeader)
      std::abort();
  }
  return 0;
}
