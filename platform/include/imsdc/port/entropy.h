/* Entropy source (link-time function). */
#ifndef IMSDC_PORT_ENTROPY_H
#define IMSDC_PORT_ENTROPY_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills out[0..len) with cryptographically secure random bytes (a TRNG or an OS CSPRNG).
 * Returns 0, or a negative value when it cannot deliver all len bytes; it MUST NOT return
 * partial or predictable output as success. The SDK seeds a CTR-DRBG from it. */
int imsdc_port_entropy(uint8_t* out, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_ENTROPY_H */
