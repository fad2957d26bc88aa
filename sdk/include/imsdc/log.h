// Logging facade. Lines are formatted into a bounded buffer (IMSDC_LOG_LINE_MAX), passed
// through redact(), and handed to the port's imsdc_port_log_write().
//
// Secrets must never be passed to the log in the first place; redact() is the second line
// of defence for text that embeds them (SIP headers, JSON): it masks the values of
// Authorization / Proxy-Authorization headers, Bearer tokens, digest responses, passwords
// and JWK "d" members.
#ifndef IMSDC_LOG_H
#define IMSDC_LOG_H

#include <cstddef>

#include "imsdc/port/log.h"

namespace imsdc::log {

// Lines above this level are dropped before formatting. Default IMSDC_LOG_INFO.
void set_level(int level);
int level();

// Sends every line (after redaction) to `sink` instead of the port's imsdc_port_log_write;
// null restores the port. Set before anything logs (not synchronised). The C API's
// imsdc_set_log_hook() is built on it.
using Sink = void (*)(void* user, int level, const char* module, const char* line);
void set_sink(Sink sink, void* user);

void write(int level, const char* module, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

// Masks secret values in a NUL-terminated line in place; returns the new length.
std::size_t redact(char* line, std::size_t len);

} // namespace imsdc::log

#define IMSDC_LOGE(mod, ...) ::imsdc::log::write(IMSDC_LOG_ERROR, mod, __VA_ARGS__)
#define IMSDC_LOGW(mod, ...) ::imsdc::log::write(IMSDC_LOG_WARN, mod, __VA_ARGS__)
#define IMSDC_LOGI(mod, ...) ::imsdc::log::write(IMSDC_LOG_INFO, mod, __VA_ARGS__)
#define IMSDC_LOGD(mod, ...) ::imsdc::log::write(IMSDC_LOG_DEBUG, mod, __VA_ARGS__)

#endif // IMSDC_LOG_H
