#include "imsdc/alloc.h"

#include <cjson/cJSON.h>
#include <mbedtls/platform.h>

#include <cstdlib>

namespace {
imsdc_allocator g_alloc = {std::malloc, std::free};
}

extern "C" void imsdc_set_allocator(const imsdc_allocator* a) {
  if (a && a->malloc_fn && a->free_fn) {
    g_alloc = *a;
  } else {
    g_alloc = {std::malloc, std::free};
  }
  // cJSON takes the same hook, and so does mbedTLS in builds with MBEDTLS_PLATFORM_MEMORY
  // (ports/baremetal/mbedtls_config.h); Debian's host build has no such setter.
  cJSON_Hooks hooks = {g_alloc.malloc_fn, g_alloc.free_fn};
  cJSON_InitHooks(&hooks);
#if defined(MBEDTLS_PLATFORM_MEMORY) && !defined(MBEDTLS_PLATFORM_CALLOC_MACRO)
  mbedtls_platform_set_calloc_free(imsdc_calloc, imsdc_free);
#endif
}

extern "C" void* imsdc_malloc(size_t size) {
  return g_alloc.malloc_fn(size);
}

extern "C" void* imsdc_calloc(size_t n, size_t size) {
  if (size != 0 && n > static_cast<size_t>(-1) / size) return nullptr;
  unsigned char* p = static_cast<unsigned char*>(g_alloc.malloc_fn(n * size));
  if (p) {
    for (size_t i = 0; i < n * size; ++i)
      p[i] = 0;
  }
  return p;
}

extern "C" void imsdc_free(void* p) {
  g_alloc.free_fn(p);
}
