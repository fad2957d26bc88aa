// The keystore port as the core sees it: contract-checking wrappers around any
// imsdc_port_keystore, and MemoryKeystore, a software keystore that implements the same
// contract so that software and hardware keys share every signing path.
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

#include <cstring>
#include <utility>

#include "crypto/internal.h"
#include "imsdc/config_defaults.h"

namespace imsdc::crypto {

using internal::err;

namespace internal {

Status check_keystore(const imsdc_port_keystore& ks) {
  if (ks.version < 1) return err(Code::kPortFailure, "keystore port: bad version");
  if (!ks.public_key || !ks.sign_digest || !ks.cert_chain)
    return err(Code::kPortFailure, "keystore port: required method missing");
  return Status::ok();
}

} // namespace internal

namespace {

Status map_port_error(int rc, const char* what) {
  if (rc == IMSDC_PORT_ENOENT) return err(Code::kNotFound, what);
  return err(Code::kPortFailure, what);
}

// r and s must both lie in [1, n-1]; a port that returns anything else is broken (or is
// being used to forge an invalid signature), and the error is clearer here than at the
// verifier.
bool signature_in_range(const RawSignature& sig) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_group_init(&grp);
  mbedtls_mpi v;
  mbedtls_mpi_init(&v);
  bool ok = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) == 0;
  for (int half = 0; ok && half < 2; ++half) {
    ok = mbedtls_mpi_read_binary(&v, sig.data() + 32 * half, 32) == 0 &&
         mbedtls_mpi_cmp_int(&v, 0) > 0 && mbedtls_mpi_cmp_mpi(&v, &grp.N) < 0;
  }
  mbedtls_mpi_free(&v);
  mbedtls_ecp_group_free(&grp);
  return ok;
}

// A chain whose leaf does not carry the device key would make every signature fail
// verification later, far from the cause.
Status check_chain(const std::vector<Bytes>& ders, const EcPublicKey& key) {
  if (ders.empty()) return err(Code::kInvalidArgument, "empty certificate chain");
  if (ders.size() > IMSDC_MAX_CHAIN_LENGTH) return err(Code::kTooLarge, "chain too long");
  for (const Bytes& d : ders)
    if (d.empty() || d.size() > IMSDC_MAX_CERT_SIZE)
      return err(Code::kTooLarge, "certificate size");
  Result<CertInfo> leaf = cert_info(ders[0]);
  if (!leaf.is_ok()) return leaf.status();
  if (!(leaf.value().public_key == key))
    return err(Code::kInvalidArgument, "leaf certificate does not carry the device key");
  return Status::ok();
}

} // namespace

Result<EcPublicKey> keystore_public_key(const imsdc_port_keystore& ks) {
  IMSDC_TRY(internal::check_keystore(ks));
  std::uint8_t xy[64] = {};
  int rc = ks.public_key(ks.ctx, xy);
  if (rc != 0) return map_port_error(rc, "keystore: no public key");
  Result<EcPublicKey> key = ec_public_from_xy(ByteSpan(xy, sizeof xy));
  if (!key.is_ok()) return err(Code::kPortFailure, "keystore returned an invalid public key");
  return key;
}

Result<RawSignature> keystore_sign_digest(const imsdc_port_keystore& ks, const Digest& digest) {
  IMSDC_TRY(internal::check_keystore(ks));
  RawSignature sig{};
  int rc = ks.sign_digest(ks.ctx, digest.data(), sig.data());
  if (rc != 0) return map_port_error(rc, "keystore: signing failed");
  if (!signature_in_range(sig))
    return err(Code::kPortFailure, "keystore returned an out-of-range signature");
  return sig;
}

Result<std::vector<Bytes>> keystore_chain(const imsdc_port_keystore& ks) {
  IMSDC_TRY(internal::check_keystore(ks));
  std::vector<Bytes> chain;
  // One more index than allowed, to tell a full chain from an over-long one.
  for (std::size_t index = 0; index <= IMSDC_MAX_CHAIN_LENGTH; ++index) {
    // Most device certificates fit 1 KiB; a larger one costs one ENOSPC round trip.
    Bytes buf(1024);
    std::size_t len = 0;
    int rc = ks.cert_chain(ks.ctx, index, buf.data(), buf.size(), &len);
    if (rc == IMSDC_PORT_ENOSPC) {
      if (len <= buf.size()) return err(Code::kPortFailure, "keystore: ENOSPC without a size");
      if (len > IMSDC_MAX_CERT_SIZE) return err(Code::kTooLarge, "keystore: certificate too large");
      buf.assign(len, 0);
      std::size_t need = len;
      len = 0;
      rc = ks.cert_chain(ks.ctx, index, buf.data(), buf.size(), &len);
      if (rc == 0 && len > need) return err(Code::kPortFailure, "keystore: size changed");
    }
    if (rc == IMSDC_PORT_ENOENT) break;
    if (rc != 0) return map_port_error(rc, "keystore: reading the chain failed");
    if (len == 0 || len > buf.size()) return err(Code::kPortFailure, "keystore: bad length");
    if (index == IMSDC_MAX_CHAIN_LENGTH) return err(Code::kTooLarge, "keystore: chain too long");
    buf.resize(len);
    chain.push_back(std::move(buf));
  }
  if (chain.empty()) return err(Code::kNotFound, "keystore: no certificate");
  return chain;
}

// --- MemoryKeystore ----------------------------------------------------------------------

MemoryKeystore::MemoryKeystore(EcPrivateKey key) : key_(std::move(key)) {
  port_.version = IMSDC_PORT_KEYSTORE_VERSION;
  port_.ctx = this;
  port_.public_key = &MemoryKeystore::public_key_cb;
  port_.sign_digest = &MemoryKeystore::sign_cb;
  port_.cert_chain = &MemoryKeystore::chain_cb;
  port_.store_chain = &MemoryKeystore::store_cb;
}

// key_ zeroizes itself; the chain is public.
MemoryKeystore::~MemoryKeystore() = default;

Status MemoryKeystore::set_chain(std::vector<Bytes> ders_leaf_first) {
  IMSDC_TRY(check_chain(ders_leaf_first, key_.public_key()));
  chain_ = std::move(ders_leaf_first);
  return Status::ok();
}

int MemoryKeystore::public_key_cb(void* ctx, std::uint8_t out_xy[64]) {
  auto* self = static_cast<MemoryKeystore*>(ctx);
  if (self->key_.empty()) return IMSDC_PORT_ENOENT;
  std::memcpy(out_xy, self->key_.public_key().xy.data(), 64);
  return IMSDC_PORT_OK;
}

int MemoryKeystore::sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]) {
  auto* self = static_cast<MemoryKeystore*>(ctx);
  if (self->key_.empty()) return IMSDC_PORT_ENOENT;
  Digest d;
  std::memcpy(d.data(), digest, d.size());
  Result<RawSignature> sig = ecdsa_sign_digest(self->key_, d);
  if (!sig.is_ok()) return IMSDC_PORT_EFAIL;
  std::memcpy(out_rs, sig.value().data(), 64);
  return IMSDC_PORT_OK;
}

int MemoryKeystore::chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                             std::size_t* out_len) {
  auto* self = static_cast<MemoryKeystore*>(ctx);
  if (!out_len) return IMSDC_PORT_EINVAL;
  if (index >= self->chain_.size()) return IMSDC_PORT_ENOENT;
  const Bytes& der = self->chain_[index];
  *out_len = der.size();
  if (cap < der.size() || !out) return IMSDC_PORT_ENOSPC;
  std::memcpy(out, der.data(), der.size());
  return IMSDC_PORT_OK;
}

int MemoryKeystore::store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                             std::size_t count) {
  auto* self = static_cast<MemoryKeystore*>(ctx);
  if (!ders || !lens || count == 0 || count > IMSDC_MAX_CHAIN_LENGTH) return IMSDC_PORT_EINVAL;
  std::vector<Bytes> chain;
  for (std::size_t i = 0; i < count; ++i) {
    if (!ders[i] || lens[i] == 0 || lens[i] > IMSDC_MAX_CERT_SIZE) return IMSDC_PORT_EINVAL;
    chain.emplace_back(ders[i], ders[i] + lens[i]);
  }
  return self->set_chain(std::move(chain)).is_ok() ? IMSDC_PORT_OK : IMSDC_PORT_EINVAL;
}

} // namespace imsdc::crypto
