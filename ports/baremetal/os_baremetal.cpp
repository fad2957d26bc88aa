// Bare-metal link-time primitives: no-op mutex (superloop), SysTick monotonic clock, wall
// clock set by the application, log lines to the semihosting console.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "imsdc/port/log.h"
#include "imsdc/port/os.h"
#include "imsdc/port_baremetal.h"

#ifndef IMSDC_BAREMETAL_CPU_HZ
// MPS2 AN386 runs the core (and SysTick with CLKSOURCE = processor clock) at 25 MHz.
#define IMSDC_BAREMETAL_CPU_HZ 25000000u
#endif

// A superloop has one thread of execution: lock and unlock only check the contract (no
// recursive locking, no unlock of an unlocked mutex), which a single thread can still break.
struct imsdc_port_mutex {
  bool locked;
};

namespace imsdc::baremetal {
void install_arena(); // arena.cpp
namespace {

constexpr std::size_t kMaxMutexes = 16;
imsdc_port_mutex g_mutexes[kMaxMutexes];
bool g_mutex_used[kMaxMutexes];

volatile std::uint32_t g_ticks_lo = 0; // written by the SysTick interrupt only
volatile std::uint32_t g_ticks_hi = 0;
bool g_started = false;

std::int64_t g_wall_base_s = -1;
std::uint64_t g_wall_base_ms = 0;

int g_log_level = IMSDC_LOG_WARN;
std::size_t g_log_written = 0;

// SysTick registers (ARMv7-M architecture reference manual, B3.3).
volatile std::uint32_t& syst_csr() {
  return *reinterpret_cast<volatile std::uint32_t*>(0xE000E010u);
}
volatile std::uint32_t& syst_rvr() {
  return *reinterpret_cast<volatile std::uint32_t*>(0xE000E014u);
}
volatile std::uint32_t& syst_cvr() {
  return *reinterpret_cast<volatile std::uint32_t*>(0xE000E018u);
}

[[noreturn]] void contract_violation(const char* what) {
  std::fprintf(stderr, "\n*** ports/baremetal: contract violation: %s\n", what);
  _exit(kExitContract);
}

} // namespace

void init() {
  if (g_started) return;
  g_started = true;
  install_arena();
  syst_csr() = 0;
  syst_rvr() = IMSDC_BAREMETAL_CPU_HZ / 1000u - 1u; // one interrupt per millisecond
  syst_cvr() = 0;
  syst_csr() = 0x7u; // ENABLE | TICKINT | CLKSOURCE (processor clock)
}

std::uint64_t uptime_ms() {
  // The interrupt may carry into the high word between two reads: read until stable.
  std::uint32_t hi, lo;
  do {
    hi = g_ticks_hi;
    lo = g_ticks_lo;
  } while (hi != g_ticks_hi);
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

void set_wall_s(std::int64_t s) {
  g_wall_base_s = s;
  g_wall_base_ms = uptime_ms();
}

void set_log_level(int max_level) {
  g_log_level = max_level;
}

std::size_t log_lines_written() {
  return g_log_written;
}

} // namespace imsdc::baremetal

extern "C" void imsdc_baremetal_systick_isr(void) {
  using namespace imsdc::baremetal;
  std::uint32_t lo = g_ticks_lo + 1u;
  if (lo == 0) g_ticks_hi = g_ticks_hi + 1u;
  g_ticks_lo = lo;
}

extern "C" imsdc_port_mutex* imsdc_port_mutex_create(void) {
  using namespace imsdc::baremetal;
  for (std::size_t i = 0; i < kMaxMutexes; ++i) {
    if (!g_mutex_used[i]) {
      g_mutex_used[i] = true;
      g_mutexes[i].locked = false;
      return &g_mutexes[i];
    }
  }
  return nullptr; // out of resources, as the contract allows
}

extern "C" void imsdc_port_mutex_destroy(imsdc_port_mutex* m) {
  using namespace imsdc::baremetal;
  if (!m) return;
  if (m->locked) contract_violation("mutex destroyed while locked");
  g_mutex_used[m - g_mutexes] = false;
}

extern "C" void imsdc_port_mutex_lock(imsdc_port_mutex* m) {
  // With one thread a second lock could never be released: that is a deadlock on any OS.
  if (m->locked) imsdc::baremetal::contract_violation("mutex locked recursively");
  m->locked = true;
}

extern "C" void imsdc_port_mutex_unlock(imsdc_port_mutex* m) {
  if (!m->locked) imsdc::baremetal::contract_violation("unlock of an unlocked mutex");
  m->locked = false;
}

extern "C" uint64_t imsdc_port_clock_monotonic_ms(void) {
  return imsdc::baremetal::uptime_ms();
}

extern "C" int64_t imsdc_port_clock_wall_s(void) {
  using namespace imsdc::baremetal;
  if (g_wall_base_s < 0) return -1;
  return g_wall_base_s + static_cast<std::int64_t>((uptime_ms() - g_wall_base_ms) / 1000u);
}

extern "C" void imsdc_port_log_write(int level, const char* module, const char* line) {
  using namespace imsdc::baremetal;
  if (level > g_log_level) return;
  static const char kLevels[] = "EWID";
  char buf[256];
  int n =
      std::snprintf(buf, sizeof buf, "%c %s: %s\n", level >= 0 && level <= 3 ? kLevels[level] : '?',
                    module ? module : "-", line ? line : "");
  if (n < 0) return;
  std::size_t len =
      static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1;
  if (len == sizeof buf - 1) buf[len - 1] = '\n'; // truncated: still one line
  ::write(2, buf, len);                           // semihosting SYS_WRITE
  ++g_log_written;
}
