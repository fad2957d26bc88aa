// An mbedTLS pk context whose private key lives in the keystore port.
//
// mbedTLS 2.28 as Debian builds it has no PSA opaque keys, so the only way to let x509write
// and the (D)TLS handshake sign with a key they cannot read is a custom mbedtls_pk_info_t.
// That struct is declared in mbedtls/pk_internal.h, an internal header that changes in
// mbedTLS 3 and 4; this file is the ONLY one that includes it, so a port to a newer mbedTLS
// (where mbedtls_pk_setup_opaque + a PSA driver replaces it) touches this file alone.
//
// The context starts with an mbedtls_ecp_keypair holding only the public key. The info's
// type is MBEDTLS_PK_ECKEY, so mbedtls_pk_ec() (used by x509write to write the
// SubjectPublicKeyInfo and by TLS to check the curve) sees a normal EC public key; verify,
// can_do, bit length and debug output delegate to mbedTLS's own ECKEY implementation.
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/pk_internal.h>
#include <mbedtls/platform_util.h>

#include <cstddef>
#include <cstring>
#include <new>

#include "crypto/internal.h"
#include "imsdc/alloc.h"

namespace imsdc::crypto {
namespace {

struct KeystorePk {
  mbedtls_ecp_keypair pub; // MUST stay first: mbedtls_pk_ec() casts pk_ctx to it
  imsdc_port_keystore ks;
  // mbedTLS only carries an int back to x509write/TLS; the precise keystore error (e.g.
  // kNotFound vs kPortFailure) is kept here for keystore_pk_last_error().
  Status last_error;
};
static_assert(offsetof(KeystorePk, pub) == 0, "mbedtls_pk_ec() relies on this layout");

std::size_t ks_get_bitlen(const void* ctx) {
  return mbedtls_eckey_info.get_bitlen(ctx);
}

int ks_can_do(mbedtls_pk_type_t type) {
  return mbedtls_eckey_info.can_do(type);
}

int ks_verify(void* ctx, mbedtls_md_type_t md_alg, const unsigned char* hash, std::size_t hash_len,
              const unsigned char* sig, std::size_t sig_len) {
  return mbedtls_eckey_info.verify_func(ctx, md_alg, hash, hash_len, sig, sig_len);
}

// mbedtls_pk_sign hands us the message hash (x509write and TLS hash first). The keystore
// signs exactly 32 bytes. ECDSA uses the leftmost bit-length-of-n bits of the hash as an
// integer (SEC1 4.1.3 step 5), so for P-256 a longer hash (SHA-384/512) is truncated to its
// first 32 bytes and a shorter one (SHA-1) is left-padded with zeros: both give exactly the
// integer ECDSA-with-that-hash would use.
int ks_sign(void* ctx, mbedtls_md_type_t, const unsigned char* hash, std::size_t hash_len,
            unsigned char* sig, std::size_t* sig_len, int (*)(void*, unsigned char*, std::size_t),
            void*) {
  auto* k = static_cast<KeystorePk*>(ctx);
  if (hash_len == 0 || hash_len > MBEDTLS_MD_MAX_SIZE) return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  Digest digest{};
  if (hash_len >= digest.size()) {
    std::memcpy(digest.data(), hash, digest.size());
  } else {
    std::memcpy(digest.data() + (digest.size() - hash_len), hash, hash_len);
  }
  Result<RawSignature> raw = keystore_sign_digest(k->ks, digest);
  if (!raw.is_ok()) {
    k->last_error = raw.status();
    // PK_HW_ACCEL_FAILED would fit but is deprecated in 2.28; the real cause is in last_error.
    return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  }
  // The caller's buffer is MBEDTLS_PK_SIGNATURE_MAX_SIZE bytes (at least 72 for ECDSA).
  std::size_t len = 0;
  Status st = internal::raw_to_der(raw.value().data(), sig, internal::kMaxDerSignature, &len);
  if (!st.is_ok()) {
    k->last_error = st;
    return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  }
  *sig_len = len;
  return 0;
}

// The "pair" is consistent when the other side's public point equals ours; there is no
// private scalar to compare.
int ks_check_pair(const void* pub, const void* prv) {
  const auto* a = static_cast<const mbedtls_ecp_keypair*>(pub);
  const auto* b = static_cast<const mbedtls_ecp_keypair*>(prv);
  if (a->grp.id != b->grp.id || mbedtls_ecp_point_cmp(&a->Q, &b->Q) != 0)
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  return 0;
}

void* ks_alloc() {
  // mbedTLS frees what this returns through ks_free, so the pair stays symmetric. The SDK's
  // allocator hook, zero-filled like mbedTLS's own contexts; placement-new gives the C++
  // object its lifetime.
  void* mem = imsdc_calloc(1, sizeof(KeystorePk));
  if (!mem) return nullptr;
  auto* k = new (mem) KeystorePk;
  mbedtls_ecp_keypair_init(&k->pub);
  k->ks = imsdc_port_keystore{};
  k->last_error = Status::ok();
  return k;
}

void ks_free(void* ctx) {
  auto* k = static_cast<KeystorePk*>(ctx);
  mbedtls_ecp_keypair_free(&k->pub);
  k->~KeystorePk();
  mbedtls_platform_zeroize(k, sizeof(KeystorePk));
  imsdc_free(k);
}

void ks_debug(const void* ctx, mbedtls_pk_debug_item* items) {
  mbedtls_eckey_info.debug_func(ctx, items);
}

// Constant table, positional because C++17 has no designated initialisers; the optional
// members follow pk_internal.h's own #if.
const mbedtls_pk_info_t kKeystorePkInfo = {
    MBEDTLS_PK_ECKEY, "EC (keystore)", ks_get_bitlen, ks_can_do, ks_verify, ks_sign,
#if defined(MBEDTLS_ECDSA_C) && defined(MBEDTLS_ECP_RESTARTABLE)
    nullptr, // verify_rs_func: mbedTLS falls back to verify_func
    nullptr, // sign_rs_func: falls back to sign_func
#endif
    nullptr, // decrypt_func: EC keys do not decrypt
    nullptr, // encrypt_func
    ks_check_pair,    ks_alloc,        ks_free,
#if defined(MBEDTLS_ECDSA_C) && defined(MBEDTLS_ECP_RESTARTABLE)
    nullptr, // rs_alloc_func
    nullptr, // rs_free_func
#endif
    ks_debug,
};

} // namespace

namespace internal {

Status keystore_pk_setup(mbedtls_pk_context* pk, const imsdc_port_keystore& ks) {
  Result<EcPublicKey> pub = keystore_public_key(ks);
  if (!pub.is_ok()) return pub.status();
  if (mbedtls_pk_setup(pk, &kKeystorePkInfo) != 0)
    return err(Code::kNoMemory, "keystore pk: allocation failed");
  auto* k = static_cast<KeystorePk*>(pk->pk_ctx);
  k->ks = ks;
  IMSDC_TRY(load_p256(&k->pub.grp));
  return load_public_point(k->pub.grp, pub.value(), &k->pub.Q);
}

Status keystore_pk_last_error(const mbedtls_pk_context* pk) {
  if (!pk || pk->pk_info != &kKeystorePkInfo || !pk->pk_ctx) return Status::ok();
  return static_cast<const KeystorePk*>(pk->pk_ctx)->last_error;
}

} // namespace internal
} // namespace imsdc::crypto
