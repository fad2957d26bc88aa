// DCEP parser (RFC 8832): never crash, views stay inside the input, and whatever parses
// re-encodes to exactly the same bytes (channel type, priority, parameter, label, protocol).
#include <cstdint>
#include <cstdlib>

#include "dc/dcep.h"

using namespace imsdc;
using namespace imsdc::dc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteSpan in(data, size);
  (void)is_dcep_ack(in);
  Result<DcepOpen> open = parse_dcep_open(in);
  if (!open.is_ok()) return 0;
  const char* lo = reinterpret_cast<const char*>(data);
  if (open->label.data() < lo || open->label.data() + open->label.size() > lo + size) std::abort();
  if (open->protocol.data() < lo || open->protocol.data() + open->protocol.size() > lo + size)
    std::abort();
  Result<Bytes> again = encode_dcep_open(open.value());
  if (!again.is_ok()) std::abort();
  // Reliable channels carry a parameter the parser ignores (RFC 8832 section 5.1): compare
  // everything else.
  Bytes expect(data, data + size);
  if (open->reliability == Reliability::kReliable) {
    for (int i = 4; i < 8; ++i)
      expect[static_cast<std::size_t>(i)] = 0;
  }
  if (again.value() != expect) std::abort();
  return 0;
}
