// imsdc_port_entropy for a real board: all bytes from the board's TRNG driver.
//
// The board support package defines imsdc_baremetal_trng_read (for example on top of an
// STM32 RNG, an nRF RNG or a secure element). There is deliberately no default: an image
// without a TRNG driver fails to link instead of running with weak keys.
#include <cstring>

#include "imsdc/port/entropy.h"

extern "C" int imsdc_baremetal_trng_read(uint8_t* out, size_t len); // 0 or negative

extern "C" int imsdc_port_entropy(uint8_t* out, size_t len) {
  int rc = imsdc_baremetal_trng_read(out, len);
  if (rc != 0) {
    std::memset(out, 0, len); // never partial output as success
    return rc < 0 ? rc : IMSDC_PORT_EIO;
  }
  return IMSDC_PORT_OK;
}
