/* imsdc porting contracts: common definitions.
 *
 * Two forms (see docs/porting.md):
 *  - link-time primitives every target has exactly one of (os.h: mutex, clocks; entropy.h;
 *    log.h) are plain C functions the port defines;
 *  - services a target may have several of or swap at run time (net.h, keystore.h,
 *    storage.h, transport.h, http.h) are versioned structs of function pointers:
 *    `version` comes first, methods are only ever appended, and a NULL method means
 *    "use the default behaviour" documented beside it.
 *
 * Return convention for every port function unless stated otherwise:
 *    0 (IMSDC_PORT_OK) on success, a negative IMSDC_PORT_E* value on failure.
 * Non-blocking I/O functions return >0 for bytes moved, 0 for "try again later" (never 0 on
 * a closed or failed endpoint), <0 for an error.
 * Port functions MUST NOT call back into imsdc, MUST NOT block longer than documented, and
 * MUST NOT log secrets handed to them. */
#ifndef IMSDC_PORT_PORT_H
#define IMSDC_PORT_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMSDC_PORT_OK 0
#define IMSDC_PORT_EFAIL (-1)   /* unspecified failure */
#define IMSDC_PORT_ENOENT (-2)  /* no such item */
#define IMSDC_PORT_ENOSPC (-3)  /* buffer or storage too small */
#define IMSDC_PORT_ENOMEM (-4)  /* out of memory */
#define IMSDC_PORT_EINVAL (-5)  /* bad argument */
#define IMSDC_PORT_EIO (-6)     /* I/O error */
#define IMSDC_PORT_ECLOSED (-7) /* endpoint closed */
#define IMSDC_PORT_EUNSUPP (-8) /* operation or address family not supported */
#define IMSDC_PORT_EDENIED (-9) /* not permitted (e.g. key not usable, PIN wrong) */

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_PORT_H */
