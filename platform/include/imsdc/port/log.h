/* Log sink (link-time function). */
#ifndef IMSDC_PORT_LOG_H
#define IMSDC_PORT_LOG_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

enum imsdc_log_level {
  IMSDC_LOG_ERROR = 0,
  IMSDC_LOG_WARN = 1,
  IMSDC_LOG_INFO = 2,
  IMSDC_LOG_DEBUG = 3,
};

/* Writes one complete, already redacted log line (no trailing newline). `module` is a short
 * static name such as "sip". MUST NOT block for long; MAY drop lines under pressure. */
void imsdc_port_log_write(int level, const char* module, const char* line);

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_LOG_H */
