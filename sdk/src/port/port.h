// Thin wrappers through which the core reaches the link-time port primitives. They check
// the contracts the core relies on, so a misbehaving port shows up as a clear error rather
// than as a corrupted timer or a weak key.
#ifndef IMSDC_SRC_PORT_PORT_H
#define IMSDC_SRC_PORT_PORT_H

#include <cstddef>
#include <cstdint>

#include "imsdc/status.h"

namespace imsdc::port {

// Monotonic ms; never goes backwards even if the port's clock does (the wrapper clamps
// and logs once).
std::uint64_t now_ms();
// Wall-clock seconds, or -1 when the port does not know the time.
std::int64_t wall_s();
// All len bytes from the port's entropy source or kEntropy.
Status entropy(std::uint8_t* out, std::size_t len);

} // namespace imsdc::port

#endif // IMSDC_SRC_PORT_PORT_H
