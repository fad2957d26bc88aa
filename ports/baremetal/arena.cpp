// The static arena behind imsdc's allocator hook (and every operator new of the program).
//
// A first-fit heap over one static array with boundary tags: each block starts with an
// 8-byte header holding its own size and the previous block's size, so a freed block merges
// with both neighbours in O(1). The search is linear, which is fine for the few hundred live
// blocks of the portable core; a product with a hotter allocation path would use TLSF.
#include <unistd.h>

#include <cstdio>
#include <new>

#include "imsdc/alloc.h"
#include "imsdc/port_baremetal.h"

#ifndef IMSDC_BAREMETAL_ARENA_SIZE
#define IMSDC_BAREMETAL_ARENA_SIZE (512u * 1024u)
#endif

namespace imsdc::baremetal {
namespace {

struct Header {
  std::uint32_t size;      // bytes of this block including the header; bit 0 = in use
  std::uint32_t prev_size; // bytes of the previous block (0 for the first)
};
constexpr std::uint32_t kUsed = 1u;
constexpr std::uint32_t kHeader = sizeof(Header);
constexpr std::uint32_t kAlign = 8;
static_assert(IMSDC_BAREMETAL_ARENA_SIZE % kAlign == 0, "arena size must be a multiple of 8");

alignas(8) std::uint8_t g_arena[IMSDC_BAREMETAL_ARENA_SIZE];
bool g_ready = false;
ArenaStats g_stats = {IMSDC_BAREMETAL_ARENA_SIZE - kHeader, 0, 0, 0, 0};
std::size_t g_alloc_count = 0;
std::size_t g_fail_from = 0;

Header* at(std::uint32_t offset) {
  return reinterpret_cast<Header*>(g_arena + offset);
}
std::uint32_t size_of(const Header* h) {
  return h->size & ~kUsed;
}
std::uint32_t offset_of(const Header* h) {
  return static_cast<std::uint32_t>(reinterpret_cast<const std::uint8_t*>(h) - g_arena);
}

void setup() {
  Header* h = at(0);
  h->size = IMSDC_BAREMETAL_ARENA_SIZE;
  h->prev_size = 0;
  g_ready = true;
}

void* arena_alloc(std::size_t n) {
  if (!g_ready) setup();
  ++g_alloc_count;
  if (n == 0) n = 1;
  if (n > IMSDC_BAREMETAL_ARENA_SIZE || (g_fail_from != 0 && g_alloc_count >= g_fail_from)) {
    ++g_stats.failures;
    return nullptr;
  }
  std::uint32_t need = static_cast<std::uint32_t>((n + kHeader + kAlign - 1) & ~(kAlign - 1));
  for (std::uint32_t off = 0; off < IMSDC_BAREMETAL_ARENA_SIZE;) {
    Header* h = at(off);
    std::uint32_t sz = size_of(h);
    if (!(h->size & kUsed) && sz >= need) {
      if (sz - need >= kHeader + kAlign) { // split off the tail as a free block
        Header* rest = at(off + need);
        rest->size = sz - need;
        rest->prev_size = need;
        if (off + sz < IMSDC_BAREMETAL_ARENA_SIZE) at(off + sz)->prev_size = sz - need;
        sz = need;
      }
      h->size = sz | kUsed;
      g_stats.in_use += sz - kHeader;
      if (g_stats.in_use > g_stats.peak) g_stats.peak = g_stats.in_use;
      ++g_stats.blocks;
      return h + 1;
    }
    off += sz;
  }
  ++g_stats.failures;
  return nullptr;
}

void arena_free(void* p) {
  if (!p) return;
  Header* h = static_cast<Header*>(p) - 1;
  std::uint32_t off = offset_of(h);
  if (off >= IMSDC_BAREMETAL_ARENA_SIZE || !(h->size & kUsed)) {
    std::fprintf(stderr, "\n*** ports/baremetal: free of a pointer the arena did not give\n");
    _exit(kExitContract);
  }
  std::uint32_t sz = size_of(h);
  g_stats.in_use -= sz - kHeader;
  --g_stats.blocks;
  // Merge with the next block, then with the previous one.
  if (off + sz < IMSDC_BAREMETAL_ARENA_SIZE) {
    Header* next = at(off + sz);
    if (!(next->size & kUsed)) sz += size_of(next);
  }
  if (h->prev_size != 0) {
    Header* prev = at(off - h->prev_size);
    if (!(prev->size & kUsed)) {
      sz += size_of(prev);
      off -= h->prev_size;
      h = prev;
    }
  }
  h->size = sz;
  if (off + sz < IMSDC_BAREMETAL_ARENA_SIZE) at(off + sz)->prev_size = sz;
}

[[noreturn]] void out_of_memory(std::size_t n) {
  std::fprintf(stderr,
               "\n*** ports/baremetal: arena exhausted (operator new of %u bytes; %u in use of "
               "%u)\n",
               static_cast<unsigned>(n), static_cast<unsigned>(g_stats.in_use),
               static_cast<unsigned>(g_stats.capacity));
  _exit(kExitOutOfMemory);
}

} // namespace

void install_arena() {
  static const imsdc_allocator kArena = {arena_alloc, arena_free};
  imsdc_set_allocator(&kArena);
}

ArenaStats arena_stats() {
  return g_stats;
}

void reset_arena_peak() {
  g_stats.peak = g_stats.in_use;
}

void fail_allocations_from(std::size_t nth) {
  g_fail_from = nth == 0 ? 0 : g_alloc_count + nth;
}

} // namespace imsdc::baremetal

// The core has no exceptions: a failed operator new cannot throw, so it ends the program with
// a clear message rather than return a null the caller never checks.
void* operator new(std::size_t n) {
  void* p = imsdc::baremetal::arena_alloc(n);
  if (!p) imsdc::baremetal::out_of_memory(n);
  return p;
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return imsdc::baremetal::arena_alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return imsdc::baremetal::arena_alloc(n);
}
void operator delete(void* p) noexcept {
  imsdc::baremetal::arena_free(p);
}
void operator delete[](void* p) noexcept {
  imsdc::baremetal::arena_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  imsdc::baremetal::arena_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  imsdc::baremetal::arena_free(p);
}
