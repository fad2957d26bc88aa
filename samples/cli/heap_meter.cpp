// The allocator side of heap_meter.h: the executable defines malloc and friends, so by ELF
// symbol interposition every allocation in the process comes here, and goes on to glibc's own
// implementation (__libc_malloc and friends). Only with IMSDC_CLI_HEAP_METER (CMake sets it
// for glibc builds without sanitizers); otherwise the meter reports itself unavailable.
#include "heap_meter.h"

#ifdef IMSDC_CLI_HEAP_METER

#include <atomic>
#include <cerrno>
#include <malloc.h>
#include <unistd.h>

extern "C" {
void* __libc_malloc(size_t size);
void __libc_free(void* p);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {

std::atomic<std::size_t> g_current{0};
std::atomic<std::size_t> g_peak{0};

void* counted(void* p) {
  if (p != nullptr) {
    const std::size_t now = g_current.fetch_add(malloc_usable_size(p)) + malloc_usable_size(p);
    std::size_t seen = g_peak.load(std::memory_order_relaxed);
    while (now > seen && !g_peak.compare_exchange_weak(seen, now)) {
    }
  }
  return p;
}

void uncount(void* p) {
  if (p != nullptr) g_current.fetch_sub(malloc_usable_size(p));
}

} // namespace

extern "C" {

void* malloc(size_t size) {
  return counted(__libc_malloc(size));
}
void free(void* p) {
  uncount(p);
  __libc_free(p);
}
void* calloc(size_t n, size_t size) {
  return counted(__libc_calloc(n, size));
}
void* realloc(void* p, size_t size) {
  const std::size_t old = p != nullptr ? malloc_usable_size(p) : 0;
  void* q = __libc_realloc(p, size);
  if (q == nullptr && size != 0) return nullptr; // failed: p untouched, still counted
  g_current.fetch_sub(old);
  return counted(q);
}
void* memalign(size_t alignment, size_t size) {
  return counted(__libc_memalign(alignment, size));
}
void* aligned_alloc(size_t alignment, size_t size) {
  return memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  void* p = memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t size) {
  return memalign(static_cast<size_t>(sysconf(_SC_PAGESIZE)), size);
}
void* pvalloc(size_t size) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return memalign(page, (size + page - 1) / page * page);
}

} // extern "C"

namespace imsdc::cli::heap {

bool available() {
  return true;
}
std::size_t current() {
  return g_current.load();
}
std::size_t peak() {
  return g_peak.load();
}
void reset_peak() {
  g_peak.store(g_current.load());
}

} // namespace imsdc::cli::heap

#else

namespace imsdc::cli::heap {

bool available() {
  return false;
}
std::size_t current() {
  return 0;
}
std::size_t peak() {
  return 0;
}
void reset_peak() {}

} // namespace imsdc::cli::heap

#endif // IMSDC_CLI_HEAP_METER
