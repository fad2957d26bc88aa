/* OS primitives: mutex and clocks (link-time functions, lwIP sys_arch style). */
#ifndef IMSDC_PORT_OS_H
#define IMSDC_PORT_OS_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque mutex; the port defines struct imsdc_port_mutex. */
typedef struct imsdc_port_mutex imsdc_port_mutex;

/* Creates a non-recursive mutex. Returns NULL when out of resources.
 * A single-threaded target (superloop) MAY return a non-NULL dummy whose lock is a no-op. */
imsdc_port_mutex* imsdc_port_mutex_create(void);
/* MUST NOT be called while locked. NULL is ignored. */
void imsdc_port_mutex_destroy(imsdc_port_mutex* m);
/* Blocks until acquired. MUST NOT be called recursively by the owner. */
void imsdc_port_mutex_lock(imsdc_port_mutex* m);
void imsdc_port_mutex_unlock(imsdc_port_mutex* m);

/* Monotonic milliseconds since an arbitrary origin. MUST never go backwards and MUST keep
 * counting while the system runs (no wrap within 2^63 ms). Used for every timer. */
uint64_t imsdc_port_clock_monotonic_ms(void);

/* Wall clock: seconds since 1970-01-01T00:00:00Z (UTC). Used for iat/exp and certificate
 * validity. Returns a negative value when the time is unknown (no RTC, not yet synced): the
 * SDK then refuses every time-dependent check (Code::kExpired), it never guesses. */
int64_t imsdc_port_clock_wall_s(void);

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_OS_H */
