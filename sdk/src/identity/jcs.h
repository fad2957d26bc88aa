// JSON Canonicalization Scheme (RFC 8785) for the rcdi digests of Rich Call Data (RFC 9795).
//
// The canonical form is what both signer and verifier hash, so it must be byte-exact:
// members sorted by their names' UTF-16 code units, strings with the minimal escaping of
// RFC 8785 section 3.2.2.2, numbers in the ECMAScript Number.prototype.toString form
// (section 3.2.2.3), no white space.
#ifndef IMSDC_SRC_IDENTITY_JCS_H
#define IMSDC_SRC_IDENTITY_JCS_H

#include <cstddef>
#include <string>
#include <string_view>

#include "imsdc/status.h"

// cJSON stays out of headers; callers that hold a parsed tree pass it through this
// incomplete type.
struct cJSON;

namespace imsdc::identity {

// Largest JSON text jcs_canonicalize() accepts, bytes.
constexpr std::size_t kMaxJcsInput = 65536;
// Deepest nesting of arrays and objects accepted.
constexpr int kMaxJcsDepth = 32;

// Canonical form of a JSON text. Errors: kTooLarge (input over kMaxJcsInput, nesting over
// kMaxJcsDepth), kMalformed (not JSON, invalid UTF-8, duplicate member names, a number that
// is not finite), kUnsupported (a \u0000 escape, which the JSON parser cannot represent).
Result<std::string> jcs_canonicalize(std::string_view json);

// Appends the canonical form of a parsed tree to *out. Errors as jcs_canonicalize().
Status jcs_append(const cJSON* node, std::string* out);

// The ECMAScript string form of a finite double (RFC 8785 section 3.2.2.3): shortest
// round-trip digits, "-0" written as "0", exponent form outside [1e-6, 1e21).
// Errors: kMalformed (NaN or infinity).
Result<std::string> jcs_number(double value);

} // namespace imsdc::identity

#endif // IMSDC_SRC_IDENTITY_JCS_H
