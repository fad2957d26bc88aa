/* The allocator hook: one set of functions, set once at init before any other imsdc call,
 * handed to cJSON and to mbedTLS where its build has MBEDTLS_PLATFORM_MEMORY (the
 * Cortex-M build). The SDK's own C++ containers use global operator new; targets that need
 * every byte in one arena route operator new to the same hook (ports/baremetal does). */
#ifndef IMSDC_ALLOC_H
#define IMSDC_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C API naming (imsdc_<object>), as STYLE.md sets for everything callable from C. */
typedef struct imsdc_allocator {   /* NOLINT(readability-identifier-naming) */
  void* (*malloc_fn)(size_t size); /* NULL on failure */
  void (*free_fn)(void* p);        /* accepts NULL */
} imsdc_allocator;

/* Installs the hook (NULL restores malloc/free). Not thread-safe: call before anything else. */
void imsdc_set_allocator(const imsdc_allocator* a);
void* imsdc_malloc(size_t size);
void* imsdc_calloc(size_t n, size_t size); /* overflow-checked */
void imsdc_free(void* p);

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_ALLOC_H */
