// imsdc crypto core (over mbedTLS; no mbedTLS type appears here).
//
// P-256 keys, ECDSA (raw r||s), SHA-256, certificates (parse, URI SANs, chain verification
// against the port's wall clock, RFC 8122 fingerprints), CSR and self-signed certificates
// signed through the keystore port, JWK, ECDH, the JOSE Concat KDF and streaming AES-GCM.
// Every secret is held in SecretBytes or zeroized before its memory is released.
#ifndef IMSDC_CRYPTO_H
#define IMSDC_CRYPTO_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/port/keystore.h"
#include "imsdc/status.h"

namespace imsdc::crypto {

using Digest = std::array<std::uint8_t, 32>;
using RawSignature = std::array<std::uint8_t, 64>; // r||s, P-256

// Cryptographically secure random bytes from the SDK's CTR-DRBG, seeded from
// imsdc_port_entropy(). Errors: kEntropy.
Status random_bytes(std::uint8_t* out, std::size_t len);

// A P-256 public key as the uncompressed point X||Y. Only valid points are ever constructed
// by the functions below (checked on import).
struct EcPublicKey {
  std::array<std::uint8_t, 64> xy{};
  friend bool operator==(const EcPublicKey& a, const EcPublicKey& b) { return a.xy == b.xy; }
};

// Checks that X||Y is a point on P-256 (and not the point at infinity). Errors: kBadKey.
Result<EcPublicKey> ec_public_from_xy(ByteSpan xy64);

// A P-256 private scalar held in RAM (software keys, ephemeral keys). Move-only; zeroized on
// destruction. Device keys that live in a keystore never take this form.
class EcPrivateKey {
public:
  // Fresh key from the DRBG. Errors: kEntropy, kInternal.
  static Result<EcPrivateKey> generate();
  // From a 32-byte big-endian scalar in [1, n-1]. Errors: kBadKey.
  static Result<EcPrivateKey> from_scalar(ByteSpan d);
  EcPrivateKey(EcPrivateKey&&) noexcept = default;
  EcPrivateKey& operator=(EcPrivateKey&&) noexcept = default;
  const EcPublicKey& public_key() const { return pub_; }
  ByteSpan scalar() const { return d_.span(); }
  // Zeroizes the scalar now; the object is unusable afterwards (empty()).
  void destroy() { d_.clear(); }
  bool empty() const { return d_.empty(); }

private:
  EcPrivateKey() = default;
  SecretBytes d_;
  EcPublicKey pub_;
};

// PEM I/O for software keys: reads SEC1 ("EC PRIVATE KEY") or PKCS#8 P-256 keys; writes
// SEC1. The returned text holds the secret: keep it in SecretBytes. Errors: kMalformed,
// kUnsupported (not P-256).
Result<EcPrivateKey> private_key_from_pem(std::string_view pem);
Result<SecretBytes> private_key_to_pem(const EcPrivateKey& key);
// SubjectPublicKeyInfo PEM/DER of a public key.
Result<std::string> public_key_to_pem(const EcPublicKey& key);

// --- Hashing and ECDSA ------------------------------------------------------------------
Digest sha256(ByteSpan data);

// Streaming SHA-256 (for large representations).
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(ByteSpan data);
  Digest finish();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Result<RawSignature> ecdsa_sign_digest(const EcPrivateKey& key, const Digest& digest);
// Errors: kBadSignature.
Status ecdsa_verify_digest(const EcPublicKey& key, const Digest& digest, ByteSpan raw_sig64);
// DER (ASN.1 SEQUENCE of two INTEGERs) <-> raw r||s. Errors: kMalformed.
Result<Bytes> ecdsa_raw_to_der(ByteSpan raw_sig64);
Result<RawSignature> ecdsa_der_to_raw(ByteSpan der);

// --- Keystore helpers --------------------------------------------------------------------
// A keystore that holds a software key and chain in RAM; it implements the keystore port
// contract so every signing path (JWS, CSR, DTLS) is the same for software and hardware
// keys. ports/posix loads it from PEM files.
class MemoryKeystore {
public:
  explicit MemoryKeystore(EcPrivateKey key);
  ~MemoryKeystore();
  MemoryKeystore(const MemoryKeystore&) = delete;
  MemoryKeystore& operator=(const MemoryKeystore&) = delete;
  // The port struct; valid while this object lives.
  const imsdc_port_keystore* port() const { return &port_; }
  Status set_chain(std::vector<Bytes> ders_leaf_first);
  const EcPrivateKey& key() const { return key_; }

private:
  static int public_key_cb(void* ctx, std::uint8_t out_xy[64]);
  static int sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]);
  static int chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                      std::size_t* out_len);
  static int store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                      std::size_t count);
  EcPrivateKey key_;
  std::vector<Bytes> chain_;
  imsdc_port_keystore port_{};
};

// Calls the port's methods, checking the contract (version, required methods, lengths).
// Errors: kPortFailure, kNotFound (no key / no certificate).
Result<EcPublicKey> keystore_public_key(const imsdc_port_keystore& ks);
Result<RawSignature> keystore_sign_digest(const imsdc_port_keystore& ks, const Digest& digest);
Result<std::vector<Bytes>> keystore_chain(const imsdc_port_keystore& ks);

// --- Certificates ------------------------------------------------------------------------
struct CertInfo {
  std::string subject; // RFC 4514-ish, as mbedTLS prints it
  std::string issuer;
  std::string serial_hex;
  std::vector<std::string> uri_sans; // subjectAltName URIs (e.g. the IMPU)
  std::vector<std::string> dns_sans;
  std::int64_t not_before = 0; // seconds since the epoch (UTC)
  std::int64_t not_after = 0;
  bool is_ca = false;
  EcPublicKey public_key; // only P-256 keys are accepted
};

// Errors: kMalformed, kUnsupported (key not P-256), kTooLarge (> IMSDC_MAX_CERT_SIZE).
Result<CertInfo> cert_info(ByteSpan der);
// All "CERTIFICATE" blocks of a PEM text, in order. Errors: kMalformed, kTooLarge.
Result<std::vector<Bytes>> certs_from_pem(std::string_view pem);
std::string cert_to_pem(ByteSpan der);
// True when the text looks like PEM (has a "-----BEGIN" line).
bool is_pem(ByteSpan data);

// RFC 8122 fingerprint: upper-case hex pairs separated by ':' of hash(DER cert).
// hash is "sha-256" (default), "sha-1", "sha-384" or "sha-512". Errors: kUnsupported.
Result<std::string> cert_fingerprint(ByteSpan der, std::string_view hash = "sha-256");
// Parses "sha-256 AB:CD:..." (hash name case-insensitive). Errors: kMalformed, kUnsupported.
struct Fingerprint {
  std::string hash; // lower case
  Bytes digest;
};
Result<Fingerprint> parse_fingerprint(std::string_view text);
// Constant-time comparison of a certificate's digest with a fingerprint.
bool fingerprint_matches(ByteSpan der, const Fingerprint& fp);

// A set of trust anchors (root certificates).
class TrustStore {
public:
  TrustStore();
  ~TrustStore();
  TrustStore(TrustStore&&) noexcept;
  TrustStore& operator=(TrustStore&&) noexcept;
  Status add_der(ByteSpan der);
  Status add_pem(std::string_view pem); // every certificate in the text
  std::size_t size() const;

  struct Impl;
  Impl* impl() const { return impl_.get(); }

private:
  std::unique_ptr<Impl> impl_;
};

// Verifies chain[0] (leaf) through chain[1..] up to an anchor in `trust`, signatures and
// basic constraints by mbedTLS, and validity of every certificate against now_s (the port's
// wall clock, not libc time). Errors: kUntrusted (no path, bad signature in the chain,
// CA flag), kExpired (outside validity, or now_s < 0), kMalformed, kTooLarge.
Status verify_chain(const std::vector<Bytes>& chain_leaf_first, const TrustStore& trust,
                    std::int64_t now_s);

// Builds a PKCS#10 CSR for the keystore's key: subject "CN=<common_name>", subjectAltName
// URI = impu, signed through the keystore port. Returns DER.
Result<Bytes> make_csr(const imsdc_port_keystore& ks, std::string_view common_name,
                       std::string_view impu);
// A self-signed certificate (DTLS-only fallback), SAN URI = impu when not empty, validity
// [now_s - 60, now_s + days*86400]. Signed through the keystore port. Returns DER.
Result<Bytes> make_self_signed_cert(const imsdc_port_keystore& ks, std::string_view common_name,
                                    std::string_view impu, std::int64_t now_s, int days);
std::string csr_to_pem(ByteSpan der);

// --- JWK (RFC 7517/7518, P-256 only) --------------------------------------------------
// {"kty":"EC","crv":"P-256","x":"…","y":"…"} with canonical base64url coordinates.
std::string jwk_from_public(const EcPublicKey& key);
// Includes "d": a secret; returned in SecretBytes.
SecretBytes jwk_from_private(const EcPrivateKey& key);
// Errors: kMalformed (JSON, missing members, base64), kUnsupported (kty/crv), kBadKey (not
// on the curve or wrong coordinate length).
Result<EcPublicKey> jwk_to_public(std::string_view json);
Result<EcPrivateKey> jwk_to_private(std::string_view json); // also checks d matches x,y

// --- ECDH, Concat KDF, AES-GCM -----------------------------------------------------------
// Shared secret Z (32 bytes). Errors: kBadKey.
Result<SecretBytes> ecdh_p256(const EcPrivateKey& priv, const EcPublicKey& peer);
// NIST SP 800-56A Concat KDF with SHA-256 as JOSE uses it (RFC 7518 section 4.6.2):
// AlgorithmID, PartyUInfo, PartyVInfo each length-prefixed; SuppPubInfo = keydatalen bits.
Result<SecretBytes> concat_kdf_sha256(ByteSpan z, std::size_t key_bits, std::string_view alg_id,
                                      ByteSpan apu, ByteSpan apv);

// Streaming AES-GCM (128/192/256-bit keys, 96-bit IV). update() accepts any length; output
// lags input by less than 16 bytes (the remainder is emitted by finish()). For decryption,
// the plaintext released by update() is UNAUTHENTICATED until finish() succeeds: callers
// must not release it before then (the avatar code writes it to an uncommitted sink).
class AesGcm {
public:
  enum class Mode { kEncrypt, kDecrypt };
  AesGcm();
  ~AesGcm();
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;
  // Errors: kInvalidArgument (key or IV size).
  Status start(Mode mode, ByteSpan key, ByteSpan iv, ByteSpan aad);
  // Writes up to in.size() + 15 bytes to out (out_cap must allow it); sets *out_len.
  Status update(ByteSpan in, std::uint8_t* out, std::size_t out_cap, std::size_t* out_len);
  // Encrypt: writes the remaining bytes (<16) to out and the 16-byte tag to tag_out.
  // Decrypt: writes the remaining bytes and checks the tag. Errors: kAuthFailed.
  Status finish(std::uint8_t* out, std::size_t out_cap, std::size_t* out_len, std::uint8_t* tag,
                std::size_t tag_len);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot helpers (tests, small payloads).
Result<Bytes> aes_gcm_encrypt(ByteSpan key, ByteSpan iv, ByteSpan aad, ByteSpan plain,
                              std::array<std::uint8_t, 16>* tag);
Result<Bytes> aes_gcm_decrypt(ByteSpan key, ByteSpan iv, ByteSpan aad, ByteSpan cipher,
                              ByteSpan tag);

} // namespace imsdc::crypto

#endif // IMSDC_CRYPTO_H
