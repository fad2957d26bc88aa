#include "port/port.h"

#include <atomic>

#include "imsdc/log.h"
#include "imsdc/port/entropy.h"
#include "imsdc/port/os.h"

namespace imsdc::port {
// The contract says the port's monotonic clock never goes backwards; the core's timers rely
// on it, so a port that breaks it is reported (once) rather than silently trusted.
namespace {
std::atomic<std::uint64_t> g_last_ms{0};
std::atomic<bool> g_warned{false};
} // namespace

std::uint64_t now_ms() {
  std::uint64_t t = imsdc_port_clock_monotonic_ms();
  std::uint64_t last = g_last_ms.exchange(t, std::memory_order_relaxed);
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
