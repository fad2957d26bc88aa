/* Storage port: a blob sink for large downloads and a small key-value store.
 *
 * Blob sink contract: nothing written is visible under `name` before commit() returns 0;
 * abort() (or a failed commit) leaves no trace of the partial data, and a crash before
 * commit leaves at most an unnamed temporary that the port cleans up. */
#ifndef IMSDC_PORT_STORAGE_H
#define IMSDC_PORT_STORAGE_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMSDC_PORT_STORAGE_VERSION 1

typedef struct imsdc_port_blob imsdc_port_blob; /* port-defined */

typedef struct imsdc_port_storage {
  int version; /* IMSDC_PORT_STORAGE_VERSION */
  void* ctx;

  /* Begins a new blob that will be published as `name` on commit. Returns 0 and *out. */
  int (*blob_open)(void* ctx, const char* name, imsdc_port_blob** out);
  /* Appends len bytes. Returns 0 or an error (the caller then aborts). */
  int (*blob_write)(imsdc_port_blob* blob, const uint8_t* data, size_t len);
  /* Makes the blob durable and visible atomically, replacing any older one; frees it. */
  int (*blob_commit)(imsdc_port_blob* blob);
  /* Discards everything written and frees the blob. Never fails. */
  void (*blob_abort)(imsdc_port_blob* blob);

  /* Small values (<= 4 KiB) that survive a reboot: the +sip.instance UUID, caches, replay
   * records. Keys are [A-Za-z0-9._-]{1,64}.
   * kv_get: copies the value, sets *out_len; IMSDC_PORT_ENOENT if absent, IMSDC_PORT_ENOSPC
   * if cap is too small (*out_len = size needed). */
  int (*kv_get)(void* ctx, const char* key, uint8_t* out, size_t cap, size_t* out_len);
  /* kv_put: stores atomically (old value or new value after a crash, never a mix). */
  int (*kv_put)(void* ctx, const char* key, const uint8_t* value, size_t len);
  /* kv_delete: 0 also when absent. */
  int (*kv_delete)(void* ctx, const char* key);
} imsdc_port_storage;

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_STORAGE_H */
