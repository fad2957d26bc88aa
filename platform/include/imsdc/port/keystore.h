/* Keystore port: the device key and its certificate chain.
 *
 * The device key is a P-256 (secp256r1) key. It signs DTLS handshakes and UE-signed JWS
 * (attestations, tokens). The private key MUST NOT leave the keystore: there is no method
 * to read it. Implementations: ports/posix (PEM files), ports/pkcs11 (a token or secure
 * element via C_Sign), a phone's hardware keystore. */
#ifndef IMSDC_PORT_KEYSTORE_H
#define IMSDC_PORT_KEYSTORE_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMSDC_PORT_KEYSTORE_VERSION 1

typedef struct imsdc_port_keystore {
  int version; /* IMSDC_PORT_KEYSTORE_VERSION */
  void* ctx;   /* passed back to every method */

  /* Writes the device public key as the uncompressed point X||Y (64 bytes, big-endian).
   * Returns 0, IMSDC_PORT_ENOENT when there is no key. Required. */
  int (*public_key)(void* ctx, uint8_t out_xy[64]);

  /* Signs a 32-byte SHA-256 digest with ECDSA P-256 and writes the raw signature r||s
   * (64 bytes, each half big-endian, left-padded). The key MUST stay inside the keystore.
   * Returns 0, IMSDC_PORT_ENOENT (no key), IMSDC_PORT_EDENIED (locked), or another error.
   * Required. */
  int (*sign_digest)(void* ctx, const uint8_t digest[32], uint8_t out_rs[64]);

  /* Copies certificate `index` of the device chain (0 = leaf, then issuers) as DER.
   * Sets *out_len. Returns 0, IMSDC_PORT_ENOENT past the last certificate (or when none is
   * stored), IMSDC_PORT_ENOSPC when cap is too small (with *out_len = the size needed).
   * Required. */
  int (*cert_chain)(void* ctx, size_t index, uint8_t* out, size_t cap, size_t* out_len);

  /* Replaces the stored chain with `count` DER certificates, leaf first (the CA-issued
   * device certificate and optionally its issuers). The leaf's public key MUST equal the
   * device key; the port may check and return IMSDC_PORT_EINVAL. NULL: read-only keystore. */
  int (*store_chain)(void* ctx, const uint8_t* const* ders, const size_t* lens, size_t count);
} imsdc_port_keystore;

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_KEYSTORE_H */
