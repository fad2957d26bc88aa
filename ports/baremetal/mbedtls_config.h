/* Lean mbedTLS 2.28 configuration for imsdc on Cortex-M (ports/baremetal).
 *
 * Used as MBEDTLS_CONFIG_FILE by toolchains/build-cortexm-deps.sh (the library, built from
 * Debian's source package) and by every imsdc source compiled for the target, so both sides
 * see the same structures. It replaces mbedtls/config.h entirely: what is not defined here
 * is off.
 *
 * What imsdc's portable core needs, and nothing else:
 *  - DTLS 1.2 only, ECDHE-ECDSA on P-256 with AES-128-GCM or ChaCha20-Poly1305 (the two
 *    suites sdk/src/dc/dtls.cpp offers), HelloVerify cookies, anti-replay, key export.
 *  - SHA-256 (JWS ES256, fingerprints, DRBG), SHA-1 (STUN MESSAGE-INTEGRITY, RFC 8489),
 *    MD5 (SIP digest, RFC 2617 / RFC 8760 still allows it).
 *  - ECDSA (deterministic, RFC 6979) and ECDH on P-256; X.509 parse and write, CSR write;
 *    PEM for key and certificate text; AES-GCM for JWE A256GCM.
 *  - No HKDF: the SDK's key derivations are the JOSE Concat KDF (sdk/src/crypto/kdf_aead.cpp)
 *    and the TLS PRF inside mbedTLS.
 *  - MBEDTLS_PLATFORM_MEMORY: calloc/free come from imsdc's allocator hook
 *    (imsdc_set_allocator -> mbedtls_platform_set_calloc_free), i.e. the port's static arena.
 *  - No net, no file system, no time: the port's clock is authoritative (X.509 validity is
 *    compared with the port's wall clock by sdk/src/crypto/cert.cpp), and there is no RTC.
 *  - No entropy module: imsdc seeds CTR-DRBG straight from imsdc_port_entropy().
 */
#ifndef IMSDC_BAREMETAL_MBEDTLS_CONFIG_H
#define IMSDC_BAREMETAL_MBEDTLS_CONFIG_H

/* --- system ------------------------------------------------------------------------- */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_NO_PLATFORM_ENTROPY
/* Deliberately absent: MBEDTLS_HAVE_TIME, MBEDTLS_HAVE_TIME_DATE, MBEDTLS_FS_IO,
 * MBEDTLS_NET_C, MBEDTLS_TIMING_C, MBEDTLS_ENTROPY_C, MBEDTLS_THREADING_C. */

/* --- ciphers and modes ------------------------------------------------------------------ */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES /* tables in flash, not in RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CTR_DRBG_C

/* --- hashes ---------------------------------------------------------------------------- */
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_HMAC_DRBG_C /* RFC 6979 deterministic ECDSA */

/* --- public key -------------------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2
/* On (the default): sdk/src/crypto/ec.cpp keeps one shared P-256 group whose comb table for G
 * is computed once (about 2 KiB of arena) and requires it. */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_ECDH_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* --- X.509 ------------------------------------------------------------------------------- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_CSR_WRITE_C
#define MBEDTLS_X509_MAX_INTERMEDIATE_CA 4

/* --- (D)TLS -------------------------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY
#define MBEDTLS_SSL_DTLS_BADMAC_LIMIT
#define MBEDTLS_SSL_COOKIE_C
#define MBEDTLS_SSL_EXPORT_KEYS
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* the DTLS fingerprint check hashes the peer cert */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
/* Record buffers: a data-channel DTLS record carries one SCTP packet (<= path MTU), and a
 * joined ClientHello fits easily. Bounded at 4 KiB each way instead of 16 KiB. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define MBEDTLS_SSL_CIPHERSUITES                                                                   \
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                                                 \
      MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256

#include "mbedtls/check_config.h"

#endif /* IMSDC_BAREMETAL_MBEDTLS_CONFIG_H */
