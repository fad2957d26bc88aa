#include "port/port.h"

#include <atomic>

#include "imsdc/log.h"
#include "imsdc/port/entropy.h"
#include "imsdc/port/os.h"

namespace imsdc::port {
// The contract says the port's monotonic clock never goes backwards; the core's timers rely
// on it, so a port that breaks it is reported (once) rather than silently trusted.
namespace {
std::atomic<bool> g_warned{false};

// Stores t as the last reading and returns the previous one. Cortex-M has no 64-bit atomic
// instructions (no LDREXD in M-profile) and its toolchain no libatomic: there a plain word is
// used, which is enough because only the core's own thread reads the clock (ARCHITECTURE.md,
// "Execution model"); hosts keep the atomic.
std::uint64_t exchange_last_ms(std::uint64_t t) {
  if constexpr (std::atomic<std::uint64_t>::is_always_lock_free) {
    static std::atomic<std::uint64_t> last{0};
    return last.exchange(t, std::memory_order_relaxed);
  } else {
    static std::uint64_t last = 0;
    std::uint64_t prev = last;
    last = t;
    return prev;
  }
}
} // namespace

std::uint64_t now_ms() {
  std::uint64_t t = imsdc_port_clock_monotonic_ms();
  std::uint64_t last = exchange_last_ms(t);
  if (t < last && !g_warned.exchange(true))
    IMSDC_LOGW("port", "monotonic clock went backwards (%llu -> %llu ms)",
               static_cast<unsigned long long>(last), static_cast<unsigned long long>(t));
  return t;
}

std::int64_t wall_s() {
  std::int64_t t = imsdc_port_clock_wall_s();
  return t < 0 ? -1 : t;
}

Status entropy(std::uint8_t* out, std::size_t len) {
  if (len == 0) return Status::ok();
  if (imsdc_port_entropy(out, len) != IMSDC_PORT_OK)
    return Status(Code::kEntropy, Module::kPort, "entropy port failed");
  return Status::ok();
}

} // namespace imsdc::port
