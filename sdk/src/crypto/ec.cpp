// P-256 keys, SHA-256 and ECDSA over mbedTLS, plus the helpers that move keys between imsdc
// types (X||Y, 32-byte scalars) and mbedTLS contexts. Every mbedTLS object that held a
// private scalar is freed with its *_free function, which zeroizes it.
#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <cstring>

#include "crypto/internal.h"

namespace imsdc::crypto {

using internal::err;

namespace internal {

Status load_p256(mbedtls_ecp_group* grp) {
  if (mbedtls_ecp_group_load(grp, MBEDTLS_ECP_DP_SECP256R1) != 0)
    return err(Code::kInternal, "P-256 group load failed");
  return Status::ok();
}

mbedtls_ecp_group* shared_p256() {
  struct Holder {
    mbedtls_ecp_group grp;
    bool ok = false;
    Holder() {
      mbedtls_ecp_group_init(&grp);
      mbedtls_ecp_point r;
      mbedtls_mpi one;
      mbedtls_ecp_point_init(&r);
      mbedtls_mpi_init(&one);
      // 1*G: the first multiplication by G stores the comb table in grp.T.
      ok = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
           mbedtls_mpi_lset(&one, 1) == 0 &&
           mbedtls_ecp_mul(&grp, &r, &one, &grp.G, imsdc_crypto_rng, nullptr) == 0 &&
           grp.T != nullptr;
      mbedtls_mpi_free(&one);
      mbedtls_ecp_point_free(&r);
    }
  };
  static Holder holder; // thread-safe initialisation (C++11 magic statics)
  return holder.ok ? &holder.grp : nullptr;
}

Status load_public_point(const mbedtls_ecp_group& grp, const EcPublicKey& key,
                         mbedtls_ecp_point* q) {
  std::uint8_t buf[65];
  buf[0] = 0x04; // uncompressed SEC1 point
  std::memcpy(buf + 1, key.xy.data(), 64);
  if (mbedtls_ecp_point_read_binary(&grp, q, buf, sizeof buf) != 0 ||
      mbedtls_ecp_check_pubkey(&grp, q) != 0)
    return err(Code::kBadKey, "not a point on P-256");
  return Status::ok();
}

Status export_public_point(const mbedtls_ecp_group& grp, const mbedtls_ecp_point& q,
                           EcPublicKey* out) {
  std::uint8_t buf[65];
  std::size_t olen = 0;
  if (mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, buf,
                                     sizeof buf) != 0 ||
      olen != 65)
    return err(Code::kInternal, "point export failed");
  std::memcpy(out->xy.data(), buf + 1, 64);
  return Status::ok();
}

Status load_keypair(const EcPrivateKey& key, mbedtls_ecp_keypair* kp) {
  if (key.empty()) return err(Code::kBadKey, "private key destroyed");
  IMSDC_TRY(load_p256(&kp->grp));
  ByteSpan d = key.scalar();
  if (mbedtls_mpi_read_binary(&kp->d, d.data(), d.size()) != 0) return err(Code::kBadKey, "scalar");
  return load_public_point(kp->grp, key.public_key(), &kp->Q);
}

Status pk_from_public(const EcPublicKey& key, mbedtls_pk_context* pk) {
  if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
    return err(Code::kInternal, "pk setup failed");
  mbedtls_ecp_keypair* kp = mbedtls_pk_ec(*pk);
  IMSDC_TRY(load_p256(&kp->grp));
  return load_public_point(kp->grp, key, &kp->Q);
}

Status raw_to_der(const std::uint8_t raw[64], std::uint8_t* buf, std::size_t cap,
                  std::size_t* der_len) {
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  Status st = Status::ok();
  // asn1write works backwards from the end of the buffer.
  unsigned char* p = buf + cap;
  std::size_t len = 0;
  int rc = mbedtls_mpi_read_binary(&r, raw, 32);
  if (rc == 0) rc = mbedtls_mpi_read_binary(&s, raw + 32, 32);
  if (rc == 0) rc = mbedtls_asn1_write_mpi(&p, buf, &s);
  if (rc >= 0) {
    len += static_cast<std::size_t>(rc);
    rc = mbedtls_asn1_write_mpi(&p, buf, &r);
  }
  if (rc >= 0) {
    len += static_cast<std::size_t>(rc);
    rc = mbedtls_asn1_write_len(&p, buf, len);
  }
  if (rc >= 0) {
    len += static_cast<std::size_t>(rc);
    rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  }
  if (rc >= 0) {
    len += static_cast<std::size_t>(rc);
    std::memmove(buf, p, len);
    *der_len = len;
  } else {
    st = err(Code::kMalformed, "signature DER encoding failed");
  }
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  return st;
}

} // namespace internal

Result<EcPublicKey> ec_public_from_xy(ByteSpan xy64) {
  if (xy64.size() != 64) return err(Code::kBadKey, "public key must be 64 bytes X||Y");
  EcPublicKey key;
  std::memcpy(key.xy.data(), xy64.data(), 64);
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&q);
  Status st = internal::load_p256(&grp);
  if (st.is_ok()) st = internal::load_public_point(grp, key, &q);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  if (!st.is_ok()) return st;
  return key;
}

// --- EcPrivateKey ---------------------------------------------------------------------

Result<EcPrivateKey> EcPrivateKey::generate() {
  mbedtls_ecp_group* grp = internal::shared_p256();
  if (!grp) return err(Code::kInternal, "P-256 group unavailable");
  mbedtls_mpi dm;
  mbedtls_mpi_init(&dm);
  std::uint8_t d[32];
  int rc = mbedtls_ecp_gen_privkey(grp, &dm, imsdc_crypto_rng, nullptr);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&dm, d, sizeof d);
  mbedtls_mpi_free(&dm);
  if (rc == MBEDTLS_ERR_ECP_RANDOM_FAILED || rc == MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED) {
    mbedtls_platform_zeroize(d, sizeof d);
    return err(Code::kEntropy, "key generation: no entropy");
  }
  if (rc != 0) {
    mbedtls_platform_zeroize(d, sizeof d);
    return err(Code::kInternal, "key generation failed");
  }
  // One construction path for every private key: from_scalar checks the range and
  // derives the public point.
  Result<EcPrivateKey> key = from_scalar(ByteSpan(d, sizeof d));
  mbedtls_platform_zeroize(d, sizeof d);
  if (!key.is_ok() && key.status().code() == Code::kBadKey)
    return err(Code::kInternal, "generated key rejected");
  return key;
}

Result<EcPrivateKey> EcPrivateKey::from_scalar(ByteSpan d) {
  if (d.size() != 32) return err(Code::kBadKey, "private scalar must be 32 bytes");
  mbedtls_ecp_group* grp = internal::shared_p256();
  if (!grp) return err(Code::kInternal, "P-256 group unavailable");
  mbedtls_mpi dm;
  mbedtls_ecp_point q;
  mbedtls_mpi_init(&dm);
  mbedtls_ecp_point_init(&q);
  Status st;
  if (mbedtls_mpi_read_binary(&dm, d.data(), d.size()) != 0 ||
      mbedtls_ecp_check_privkey(grp, &dm) != 0)
    st = err(Code::kBadKey, "private scalar not in [1, n-1]");
  // The RNG only blinds the multiplication against side channels.
  if (st.is_ok() && mbedtls_ecp_mul(grp, &q, &dm, &grp->G, imsdc_crypto_rng, nullptr) != 0)
    st = err(Code::kEntropy, "public point derivation failed");
  EcPrivateKey key;
  if (st.is_ok()) st = internal::export_public_point(*grp, q, &key.pub_);
  mbedtls_ecp_point_free(&q);
  mbedtls_mpi_free(&dm); // zeroizes the scalar copy
  if (!st.is_ok()) return st;
  key.d_ = SecretBytes(d);
  return key;
}

// --- PEM -------------------------------------------------------------------------------

namespace {
// Bound on key PEM input: a P-256 PKCS#8 PEM is ~250 bytes; leave room for comments.
constexpr std::size_t kMaxKeyPem = 8192;
} // namespace

Result<EcPrivateKey> private_key_from_pem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxKeyPem) return err(Code::kMalformed, "key PEM size");
  // mbedtls_pk_parse_key wants PEM NUL-terminated with the NUL counted in the length.
  SecretBytes text(pem.size() + 1);
  std::memcpy(text.data(), pem.data(), pem.size());
  text.data()[pem.size()] = 0;
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  int rc = mbedtls_pk_parse_key(&pk, text.data(), text.size(), nullptr, 0);
  Result<EcPrivateKey> out = err(Code::kMalformed, "not a PEM private key");
  if (rc == 0) {
    mbedtls_pk_type_t type = mbedtls_pk_get_type(&pk);
    if (type != MBEDTLS_PK_ECKEY && type != MBEDTLS_PK_ECKEY_DH && type != MBEDTLS_PK_ECDSA) {
      out = err(Code::kUnsupported, "private key is not EC");
    } else if (mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
      out = err(Code::kUnsupported, "private key is not P-256");
    } else {
      std::uint8_t d[32];
      if (mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->d, d, sizeof d) == 0)
        out = EcPrivateKey::from_scalar(ByteSpan(d, sizeof d));
      mbedtls_platform_zeroize(d, sizeof d);
    }
  } else if (rc == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || rc == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE) {
    out = err(Code::kUnsupported, "private key algorithm or curve not supported");
  }
  mbedtls_pk_free(&pk);
  return out;
}

Result<SecretBytes> private_key_to_pem(const EcPrivateKey& key) {
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  Status st = Status::ok();
  if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
    st = err(Code::kInternal, "pk setup failed");
  if (st.is_ok()) st = internal::load_keypair(key, mbedtls_pk_ec(pk));
  unsigned char buf[512];
  Result<SecretBytes> out = st;
  if (st.is_ok()) {
    if (mbedtls_pk_write_key_pem(&pk, buf, sizeof buf) != 0) {
      out = err(Code::kInternal, "key PEM write failed");
    } else {
      out = SecretBytes(ByteSpan(buf, std::strlen(reinterpret_cast<char*>(buf))));
    }
  }
  mbedtls_platform_zeroize(buf, sizeof buf);
  mbedtls_pk_free(&pk);
  return out;
}

Result<std::string> public_key_to_pem(const EcPublicKey& key) {
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  Status st = internal::pk_from_public(key, &pk);
  unsigned char buf[512];
  Result<std::string> out = st;
  if (st.is_ok()) {
    if (mbedtls_pk_write_pubkey_pem(&pk, buf, sizeof buf) != 0)
      out = err(Code::kInternal, "public key PEM write failed");
    else
      out = std::string(reinterpret_cast<char*>(buf));
  }
  mbedtls_pk_free(&pk);
  return out;
}

// --- SHA-256 ---------------------------------------------------------------------------

Digest sha256(ByteSpan data) {
  Digest d{};
  // mbedtls_sha256_ret only fails on bad parameters, which cannot happen here.
  (void)mbedtls_sha256_ret(data.data(), data.size(), d.data(), 0);
  return d;
}

struct Sha256::Impl {
  mbedtls_sha256_context ctx;
};

Sha256::Sha256() : impl_(new Impl) {
  mbedtls_sha256_init(&impl_->ctx);
  (void)mbedtls_sha256_starts_ret(&impl_->ctx, 0);
}

Sha256::~Sha256() {
  mbedtls_sha256_free(&impl_->ctx);
}

void Sha256::update(ByteSpan data) {
  (void)mbedtls_sha256_update_ret(&impl_->ctx, data.data(), data.size());
}

Digest Sha256::finish() {
  Digest d{};
  (void)mbedtls_sha256_finish_ret(&impl_->ctx, d.data());
  // Ready for the next message, so a finished object is never in an undefined state.
  (void)mbedtls_sha256_starts_ret(&impl_->ctx, 0);
  return d;
}

// --- ECDSA -----------------------------------------------------------------------------

Result<RawSignature> ecdsa_sign_digest(const EcPrivateKey& key, const Digest& digest) {
  if (key.empty()) return err(Code::kBadKey, "private key destroyed");
  mbedtls_ecp_group* grp = internal::shared_p256();
  if (!grp) return err(Code::kInternal, "P-256 group unavailable");
  mbedtls_mpi d, r, s;
  mbedtls_mpi_init(&d);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  Status st;
  if (mbedtls_mpi_read_binary(&d, key.scalar().data(), key.scalar().size()) != 0)
    st = err(Code::kBadKey, "scalar");
  RawSignature sig{};
  // RFC 6979 deterministic nonces: a weak RNG cannot leak the key through k; the RNG is
  // still used to blind the computation.
  if (st.is_ok() && mbedtls_ecdsa_sign_det_ext(grp, &r, &s, &d, digest.data(), digest.size(),
                                               MBEDTLS_MD_SHA256, imsdc_crypto_rng, nullptr) != 0)
    st = err(Code::kInternal, "ECDSA sign failed");
  if (st.is_ok() && (mbedtls_mpi_write_binary(&r, sig.data(), 32) != 0 ||
                     mbedtls_mpi_write_binary(&s, sig.data() + 32, 32) != 0))
    st = err(Code::kInternal, "ECDSA signature export failed");
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&d); // zeroizes the scalar copy
  if (!st.is_ok()) return st;
  return sig;
}

Status ecdsa_verify_digest(const EcPublicKey& key, const Digest& digest, ByteSpan raw_sig64) {
  if (raw_sig64.size() != 64) return err(Code::kBadSignature, "signature must be 64 bytes");
  mbedtls_ecp_group* grp = internal::shared_p256();
  if (!grp) return err(Code::kInternal, "P-256 group unavailable");
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
  mbedtls_ecp_point_init(&q);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  Status st = internal::load_public_point(*grp, key, &q);
  if (st.is_ok()) {
    // mbedtls_ecdsa_verify rejects r or s outside [1, n-1].
    if (mbedtls_mpi_read_binary(&r, raw_sig64.data(), 32) != 0 ||
        mbedtls_mpi_read_binary(&s, raw_sig64.data() + 32, 32) != 0 ||
        mbedtls_ecdsa_verify(grp, digest.data(), digest.size(), &q, &r, &s) != 0)
      st = err(Code::kBadSignature, "ECDSA signature does not verify");
  } else {
    st = err(Code::kBadSignature, "verification key unusable");
  }
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_ecp_point_free(&q);
  return st;
}

Result<Bytes> ecdsa_raw_to_der(ByteSpan raw_sig64) {
  if (raw_sig64.size() != 64) return err(Code::kMalformed, "raw signature must be 64 bytes");
  std::uint8_t buf[internal::kMaxDerSignature];
  std::size_t len = 0;
  IMSDC_TRY(internal::raw_to_der(raw_sig64.data(), buf, sizeof buf, &len));
  return Bytes(buf, buf + len);
}

Result<RawSignature> ecdsa_der_to_raw(ByteSpan der) {
  if (der.empty() || der.size() > internal::kMaxDerSignature)
    return err(Code::kMalformed, "DER signature size");
  unsigned char* p = const_cast<unsigned char*>(der.data());
  const unsigned char* end = der.data() + der.size();
  std::size_t len = 0;
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  RawSignature raw{};
  Status st = Status::ok();
  // asn1 get functions never write through p; the cast is their 2.28 signature.
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
      p + len != end || mbedtls_asn1_get_mpi(&p, end, &r) != 0 ||
      mbedtls_asn1_get_mpi(&p, end, &s) != 0 || p != end)
    st = err(Code::kMalformed, "not a DER ECDSA signature");
  if (st.is_ok() && (mbedtls_mpi_size(&r) > 32 || mbedtls_mpi_size(&s) > 32 ||
                     mbedtls_mpi_write_binary(&r, raw.data(), 32) != 0 ||
                     mbedtls_mpi_write_binary(&s, raw.data() + 32, 32) != 0))
    st = err(Code::kMalformed, "signature integer too large for P-256");
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  if (!st.is_ok()) return st;
  return raw;
}

} // namespace imsdc::crypto
