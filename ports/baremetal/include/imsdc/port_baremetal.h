// ports/baremetal: Cortex-M without an OS (superloop), newlib + semihosting, SysTick clock,
// a static arena behind the allocator hook. See ports/baremetal/README.md.
#ifndef IMSDC_PORT_BAREMETAL_H
#define IMSDC_PORT_BAREMETAL_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "imsdc/port/storage.h"

namespace imsdc::baremetal {

// Starts SysTick (1 ms tick from the core clock, IMSDC_BAREMETAL_CPU_HZ) and installs the
// static arena as imsdc's allocator (imsdc_set_allocator: the SDK, cJSON and mbedTLS). Call
// once, first thing in main. Idempotent.
void init();

// --- static arena (the allocator hook) ---------------------------------------------------
// Every SDK, cJSON and mbedTLS allocation and every C++ operator new of the program comes
// from one static array of IMSDC_BAREMETAL_ARENA_SIZE bytes. operator new that cannot be
// satisfied is fatal (the core has no exceptions): the program reports it and exits with
// kExitOutOfMemory; imsdc_malloc just returns NULL.
struct ArenaStats {
  std::size_t capacity; // usable bytes of the arena
  std::size_t in_use;   // payload bytes currently allocated
  std::size_t peak;     // high-water mark of in_use since start or reset_arena_peak()
  std::size_t blocks;   // live allocations
  std::size_t failures; // requests that could not be satisfied
};
ArenaStats arena_stats();
void reset_arena_peak();
// Fails every arena allocation from the nth one on (1 = the next) until cleared with 0: the
// bare-metal counterpart of ports/fake's fault injection, for out-of-memory paths.
void fail_allocations_from(std::size_t nth);

constexpr int kExitOutOfMemory = 3;
constexpr int kExitFault = 4;
constexpr int kExitContract = 5;

// --- clocks ----------------------------------------------------------------------------------
// Milliseconds counted by the SysTick interrupt since init().
std::uint64_t uptime_ms();
// The board has no RTC: the wall clock is unknown (-1) until set, then runs from SysTick.
// A negative value makes it unknown again.
void set_wall_s(std::int64_t s);

// --- entropy ---------------------------------------------------------------------------------
// Only in builds with IMSDC_BAREMETAL_TEST_ONLY_ENTROPY (QEMU has no TRNG): restarts the
// deterministic TEST-ONLY generator from `seed`. Not declared otherwise, so a product build
// cannot call it.
#if defined(IMSDC_BAREMETAL_TEST_ONLY_ENTROPY)
void set_test_only_entropy_seed(std::uint64_t seed);
#endif

// --- log ---------------------------------------------------------------------------------------
// Lines at a level above `max_level` (IMSDC_LOG_*) are dropped; default IMSDC_LOG_WARN.
void set_log_level(int max_level);
// Lines written (not dropped) since start.
std::size_t log_lines_written();

// --- storage in RAM ----------------------------------------------------------------------------
// An imsdc_port_storage in the arena: blobs become visible only on commit; the key-value store
// follows the contract's key and size rules. Nothing survives a reset (the board has no flash
// driver here); a product replaces it with its flash file system.
class RamStorage {
public:
  explicit RamStorage(std::size_t capacity_bytes = 64 * 1024);
  RamStorage(const RamStorage&) = delete;
  RamStorage& operator=(const RamStorage&) = delete;

  const imsdc_port_storage* port() const { return &port_; }
  // The committed blob `name`, or nullptr.
  const std::vector<std::uint8_t>* blob(const std::string& name) const;
  std::size_t open_blobs() const { return open_blobs_; }

private:
  friend struct RamStorageAccess;
  std::size_t used() const;
  imsdc_port_storage port_{};
  std::size_t capacity_;
  std::size_t open_blobs_ = 0;
  std::size_t pending_bytes_ = 0;
  std::map<std::string, std::vector<std::uint8_t>> blobs_;
  std::map<std::string, std::vector<std::uint8_t>> kv_;
};

} // namespace imsdc::baremetal

#endif // IMSDC_PORT_BAREMETAL_H
