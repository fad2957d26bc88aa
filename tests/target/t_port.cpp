// ports/baremetal itself: SysTick clock against the host's clock, wall clock, arena, RAM
// storage, the no-op mutex and the TEST-ONLY entropy source, each through the contract.
#include <cstring>
#include <ctime>

#include <mbedtls/platform.h>

#include "imsdc/alloc.h"
#include "imsdc/port/entropy.h"
#include "imsdc/port/os.h"
#include "imsdc/port_baremetal.h"
#include "port/port.h"
#include "runner.h"

using namespace imsdc;
namespace bm = imsdc::baremetal;

TEST_CASE(port, SysTickClockAdvancesWithHostTime) {
  // semihosting SYS_CLOCK (newlib clock()) counts the host's centiseconds: an independent
  // reference for the SysTick interrupt's milliseconds.
  std::clock_t c0 = std::clock();
  std::uint64_t t0 = imsdc_port_clock_monotonic_ms();
  std::uint64_t prev = t0;
  while (imsdc_port_clock_monotonic_ms() - t0 < 300) {
    std::uint64_t now = imsdc_port_clock_monotonic_ms();
    CHECK(now >= prev);
    prev = now;
    if (std::clock() - c0 > 5 * CLOCKS_PER_SEC) break; // SysTick stopped
  }
  long host_ms = static_cast<long>((std::clock() - c0) * 1000 / CLOCKS_PER_SEC);
  CHECK_MSG(imsdc_port_clock_monotonic_ms() - t0 >= 300, "SysTick did not reach 300 ms");
  // 300 ms of SysTick is 300 ms of the host's clock, within generous emulator slack.
  CHECK_MSG(host_ms >= 200 && host_ms <= 1500, "host clock " + target::to_text(host_ms) + " ms");
}

TEST_CASE(port, WallClockUnknownUntilSet) {
  bm::set_wall_s(-1);
  CHECK_EQ(imsdc_port_clock_wall_s(), -1);
  CHECK_EQ(port::wall_s(), -1);
  bm::set_wall_s(1767225600);
  std::int64_t w = imsdc_port_clock_wall_s();
  CHECK(w >= 1767225600 && w <= 1767225601);
  bm::set_wall_s(-1);
}

TEST_CASE(port, ArenaBacksTheAllocatorHook) {
  bm::ArenaStats before = bm::arena_stats();
  void* p = imsdc_malloc(1000);
  REQUIRE(p != nullptr);
  CHECK(bm::arena_stats().in_use >= before.in_use + 1000);
  std::uint8_t* z = static_cast<std::uint8_t*>(imsdc_calloc(10, 10));
  REQUIRE(z != nullptr);
  bool zero = true;
  for (int i = 0; i < 100; ++i)
    zero = zero && z[i] == 0;
  CHECK(zero);
  imsdc_free(z);
  imsdc_free(p);
  CHECK_EQ(bm::arena_stats().in_use, before.in_use);
  CHECK(imsdc_malloc(16u * 1024u * 1024u) == nullptr);                 // larger than the arena
  CHECK(imsdc_calloc(static_cast<std::size_t>(-1) / 2, 4) == nullptr); // overflow
  // Fault injection: the second allocation from now fails, then allocations work again.
  bm::fail_allocations_from(2);
  void* a = imsdc_malloc(8);
  void* b = imsdc_malloc(8);
  bm::fail_allocations_from(0);
  CHECK(a != nullptr);
  CHECK(b == nullptr);
  imsdc_free(a);
}

TEST_CASE(port, ArenaCoalescesFreedBlocks) {
  // Fragment, free in an order that needs both-side merging, then fit one large block.
  const std::size_t kBig = bm::arena_stats().capacity / 2;
  void* blocks[8];
  for (auto& p : blocks)
    p = imsdc_malloc(kBig / 8 - 64);
  for (auto* p : blocks)
    CHECK(p != nullptr);
  int order[8] = {1, 3, 5, 7, 0, 2, 6, 4};
  for (int i : order)
    imsdc_free(blocks[i]);
  void* big = imsdc_malloc(kBig - 1024);
  CHECK(big != nullptr);
  imsdc_free(big);
}

TEST_CASE(port, MutexIsACheckedNoOp) {
  imsdc_port_mutex* m = imsdc_port_mutex_create();
  REQUIRE(m != nullptr);
  imsdc_port_mutex_lock(m);
  imsdc_port_mutex_unlock(m);
  imsdc_port_mutex_destroy(m);
}

TEST_CASE(port, TestOnlyEntropyIsDeterministicAndFull) {
  std::uint8_t a[48] = {}, b[48] = {};
  bm::set_test_only_entropy_seed(42);
  CHECK_EQ(imsdc_port_entropy(a, sizeof a), 0);
  bm::set_test_only_entropy_seed(42);
  CHECK_OK(port::entropy(b, sizeof b));
  CHECK(std::memcmp(a, b, sizeof a) == 0); // same seed, same bytes: TEST-ONLY
  int zeros = 0;
  for (auto x : a)
    zeros += x == 0;
  CHECK(zeros < 8); // all 48 bytes written
}

TEST_CASE(port, RamStorageBlobsAppearOnlyOnCommit) {
  bm::RamStorage st(256);
  const imsdc_port_storage* p = st.port();
  imsdc_port_blob* blob = nullptr;
  REQUIRE(p->blob_open(p->ctx, "avatar", &blob) == 0);
  const std::uint8_t data[100] = {1, 2, 3};
  CHECK_EQ(p->blob_write(blob, data, sizeof data), 0);
  CHECK(st.blob("avatar") == nullptr);
  CHECK_EQ(p->blob_commit(blob), 0);
  REQUIRE(st.blob("avatar") != nullptr);
  CHECK_EQ(st.blob("avatar")->size(), 100u);
  // Over capacity: the write fails, abort leaves the committed blob untouched.
  REQUIRE(p->blob_open(p->ctx, "avatar", &blob) == 0);
  CHECK_EQ(p->blob_write(blob, data, sizeof data), 0);
  CHECK_EQ(p->blob_write(blob, data, sizeof data), IMSDC_PORT_ENOSPC);
  p->blob_abort(blob);
  CHECK_EQ(st.blob("avatar")->size(), 100u);
  CHECK_EQ(st.open_blobs(), 0u);
  // Key-value store.
  std::uint8_t out[8];
  std::size_t n = 0;
  CHECK_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), IMSDC_PORT_ENOENT);
  CHECK_EQ(p->kv_put(p->ctx, "sip.instance", data, 5), 0);
  CHECK_EQ(p->kv_get(p->ctx, "sip.instance", out, 2, &n), IMSDC_PORT_ENOSPC);
  CHECK_EQ(n, 5u);
  CHECK_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), 0);
  CHECK_EQ(p->kv_put(p->ctx, "bad/key", data, 1), IMSDC_PORT_EINVAL);
  CHECK_EQ(p->kv_delete(p->ctx, "sip.instance"), 0);
  CHECK_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), IMSDC_PORT_ENOENT);
}

TEST_CASE(port, CoreClockWrapperFollowsSysTick) {
  // sdk/src/port's now_ms (a plain word on Cortex-M, which has no 64-bit atomics).
  std::uint64_t a = port::now_ms();
  std::uint64_t t0 = bm::uptime_ms();
  while (bm::uptime_ms() - t0 < 20) {
  }
  std::uint64_t b = port::now_ms();
  CHECK(b >= a + 20);
  CHECK(b <= bm::uptime_ms());
}

TEST_CASE(port, MbedtlsAllocatesFromTheArena) {
  // MBEDTLS_PLATFORM_MEMORY: imsdc_set_allocator handed the arena to mbedTLS.
  bm::ArenaStats before = bm::arena_stats();
  void* p = mbedtls_calloc(1, 2048);
  REQUIRE(p != nullptr);
  CHECK(bm::arena_stats().in_use >= before.in_use + 2048);
  mbedtls_free(p);
  CHECK_EQ(bm::arena_stats().in_use, before.in_use);
}
