// Internal helpers shared by the crypto module's files. Only sdk/src/crypto (and white-box
// tests) include this: it is where mbedTLS types meet imsdc types, so the public headers can
// stay free of dependency headers.
#ifndef IMSDC_SRC_CRYPTO_INTERNAL_H
#define IMSDC_SRC_CRYPTO_INTERNAL_H

#include <cjson/cJSON.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "imsdc/crypto.h"
#include "imsdc/port/keystore.h"
#include "imsdc/status.h"

// mbedTLS-style f_rng over the SDK's process-wide CTR-DRBG (drbg.cpp). p_rng is ignored.
// Returns 0 or MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED.
int imsdc_crypto_rng(void* p_rng, unsigned char* out, std::size_t len);

namespace imsdc::crypto::internal {

// Shorthand for a crypto-module status.
inline Status err(Code code, const char* detail = nullptr) {
  return Status(code, Module::kCrypto, detail);
}

// Largest DER ECDSA P-256 signature: SEQUENCE(2) + 2 * INTEGER(2 + 33).
constexpr std::size_t kMaxDerSignature = 72;

// Loads the P-256 group. Errors: kInternal.
Status load_p256(mbedtls_ecp_group* grp);

// The process-wide P-256 group with the generator's comb table already computed, or null if
// mbedTLS could not build it. Read-only after construction: signing and verification with
// it never modify it, so callers on any thread may share it. A group loaded per call would
// recompute that table on every signature (it roughly doubled their cost).
mbedtls_ecp_group* shared_p256();

// Reads X||Y into `q` and checks it is a valid point of `grp`. Errors: kBadKey.
Status load_public_point(const mbedtls_ecp_group& grp, const EcPublicKey& key,
                         mbedtls_ecp_point* q);

// Writes a point as X||Y. Errors: kInternal.
Status export_public_point(const mbedtls_ecp_group& grp, const mbedtls_ecp_point& q,
                           EcPublicKey* out);

// Fills an initialised keypair with P-256, the key's scalar d and its public point Q.
// The caller frees it with mbedtls_ecp_keypair_free (which zeroizes d). Errors: kBadKey.
Status load_keypair(const EcPrivateKey& key, mbedtls_ecp_keypair* kp);

// Sets up an initialised pk context as a public-only ECKEY (for x509write subject keys and
// signature verification). Errors: kBadKey, kInternal.
Status pk_from_public(const EcPublicKey& key, mbedtls_pk_context* pk);

// Raw r||s (64 bytes) to DER into buf; *der_len receives the length. Errors: kMalformed
// (cap too small or r/s unusable).
Status raw_to_der(const std::uint8_t raw[64], std::uint8_t* buf, std::size_t cap,
                  std::size_t* der_len);

// Sets up an initialised pk context whose private-key operations go to the keystore port
// (keystore_pk.cpp, the only user of mbedtls/pk_internal.h). The port struct is copied;
// ks.ctx must outlive the pk context. The public key is read from the port. The result
// works with mbedtls_x509write_csr/crt and mbedtls_ssl_conf_own_cert; free it with
// mbedtls_pk_free. Errors: as keystore_public_key, kInternal.
Status keystore_pk_setup(mbedtls_pk_context* pk, const imsdc_port_keystore& ks);
// The keystore error behind the last failed signature of such a context (ok if none, or if
// pk is not keystore-backed), so callers can report kNotFound/kPortFailure, not kInternal.
Status keystore_pk_last_error(const mbedtls_pk_context* pk);

// Checks the keystore port contract shared by every wrapper: version >= 1 and the required
// methods present. Errors: kPortFailure.
Status check_keystore(const imsdc_port_keystore& ks);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), and back. Pure
// arithmetic so that neither libc's timegm nor a TZ database is needed on targets.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t* y, unsigned* m, unsigned* d);

// "YYYYMMDDhhmmss" (UTC) as mbedtls_x509write_crt_set_validity wants it. Errors:
// kInvalidArgument (year outside 1950..9999, the range X.509 time types can express).
Status format_x509_validity(std::int64_t epoch_s, char out[15]);

// DER of a subjectAltName extension value: SEQUENCE { [6] uri, [2] dns } (each optional,
// at least one). Errors: kInvalidArgument (not IA5/printable ASCII, too long).
Result<Bytes> build_san(std::string_view uri, std::string_view dns);

// Issues a certificate signed through the keystore port `issuer` (self-signed when
// subject_key is the issuer's own key and the names match). Used by make_self_signed_cert
// and by tests to build small chains without an external CA.
struct CertSpec {
  std::string_view subject_cn;
  std::string_view issuer_cn;
  std::string_view uri_san; // empty: none
  std::string_view dns_san; // empty: none
  EcPublicKey subject_key;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  bool is_ca = false;
};
Result<Bytes> issue_cert(const imsdc_port_keystore& issuer, const CertSpec& spec);

// PEM armour ("-----BEGIN <label>-----", 64-column base64) around DER.
std::string pem_encode(ByteSpan der, std::string_view label);

// RFC 4514-ish name "CN=<cn>" in the syntax mbedtls_x509_string_to_names accepts (a ','
// is escaped). Errors: kInvalidArgument (empty, too long, control characters or '\').
Result<std::string> cn_to_name(std::string_view cn);

// --- JSON (cJSON) ---------------------------------------------------------------------------
struct JsonDeleter {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

// Parses text that must be exactly one JSON object (trailing whitespace allowed) with
// unique member names at its top level, nesting at most kMaxJsonDepth, no member count over
// kMaxJsonMembers and no "\u0000" escape (cJSON's C strings would silently truncate at it,
// so "ES256\u0000x" would read as "ES256"). Errors: kMalformed, kTooLarge (> max_size).
constexpr int kMaxJsonDepth = 16;
constexpr std::size_t kMaxJsonMembers = 64;
Status parse_json_object(std::string_view text, std::size_t max_size, JsonPtr* out);

// Member `name` of object `obj` when it is a string; nullptr when absent; *bad set when it
// exists with another type.
const char* json_string(const cJSON* obj, const char* name, bool* bad);

} // namespace imsdc::crypto::internal

#endif // IMSDC_SRC_CRYPTO_INTERNAL_H
