#ifndef IMSDC_VERSION_H
#define IMSDC_VERSION_H

#define IMSDC_VERSION_MAJOR 0
#define IMSDC_VERSION_MINOR 1
#define IMSDC_VERSION_PATCH 0
#define IMSDC_VERSION_STRING "0.1.0"

#ifdef __cplusplus
namespace imsdc {
// Version of the library actually linked (may differ from the header's).
const char* version_string();
} // namespace imsdc
#endif

#endif /* IMSDC_VERSION_H */
