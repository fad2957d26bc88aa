// ECDH on P-256, the JOSE Concat KDF and streaming AES-GCM.
//
// mbedTLS 2.28's mbedtls_gcm_update accepts lengths that are multiples of 16 on every call
// but the last. AesGcm hides that: it keeps the < 16-byte tail of each update and feeds
// whole blocks only, so callers can push chunks of any size (e.g. base64url-decoded network
// messages) through fixed buffers.
#include <mbedtls/ecdh.h>
#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <cstring>

#include "crypto/internal.h"

namespace imsdc::crypto {

using internal::err;

Result<SecretBytes> ecdh_p256(const EcPrivateKey& priv, const EcPublicKey& peer) {
  mbedtls_ecp_keypair kp;
  mbedtls_ecp_keypair_init(&kp);
  mbedtls_ecp_point q;
  mbedtls_ecp_point_init(&q);
  mbedtls_mpi z;
  mbedtls_mpi_init(&z);
  Status st = internal::load_keypair(priv, &kp);
  // The peer point is checked before use (invalid-curve attacks); load_public_point does it.
  if (st.is_ok()) st = internal::load_public_point(kp.grp, peer, &q);
  SecretBytes out(32);
  if (st.is_ok() &&
      (mbedtls_ecdh_compute_shared(&kp.grp, &z, &q, &kp.d, imsdc_crypto_rng, nullptr) != 0 ||
       mbedtls_mpi_write_binary(&z, out.data(), out.size()) != 0))
    st = err(Code::kBadKey, "ECDH failed");
  mbedtls_mpi_free(&z); // zeroizes Z
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_keypair_free(&kp);
  if (!st.is_ok()) return st;
  return out;
}

namespace {

void put_be32(std::uint8_t out[4], std::uint32_t v) {
  out[0] = static_cast<std::uint8_t>(v >> 24);
  out[1] = static_cast<std::uint8_t>(v >> 16);
  out[2] = static_cast<std::uint8_t>(v >> 8);
  out[3] = static_cast<std::uint8_t>(v);
}

// Datalen || Data, the encoding of AlgorithmID, PartyUInfo and PartyVInfo (RFC 7518 4.6.2).
void update_prefixed(mbedtls_sha256_context* ctx, ByteSpan data) {
  std::uint8_t len[4];
  put_be32(len, static_cast<std::uint32_t>(data.size()));
  (void)mbedtls_sha256_update_ret(ctx, len, sizeof len);
  (void)mbedtls_sha256_update_ret(ctx, data.data(), data.size());
}

// Far above any JOSE key (A256GCM = 256 bits); keeps the counter and lengths small.
constexpr std::size_t kMaxKdfBits = 1024;
constexpr std::size_t kMaxKdfInput = 4096;

} // namespace

Result<SecretBytes> concat_kdf_sha256(ByteSpan z, std::size_t key_bits, std::string_view alg_id,
                                      ByteSpan apu, ByteSpan apv) {
  if (key_bits == 0 || key_bits % 8 != 0 || key_bits > kMaxKdfBits)
    return err(Code::kInvalidArgument, "KDF: key size must be a multiple of 8 up to 1024 bits");
  if (z.empty() || z.size() > kMaxKdfInput || alg_id.size() > kMaxKdfInput ||
      apu.size() > kMaxKdfInput || apv.size() > kMaxKdfInput)
    return err(Code::kInvalidArgument, "KDF: input sizes");
  const std::size_t key_len = key_bits / 8;
  SecretBytes out(key_len);
  std::uint8_t block[32];
  mbedtls_sha256_context ctx;
  mbedtls_sha256_init(&ctx);
  std::uint8_t be[4];
  for (std::uint32_t counter = 1, done = 0; done < key_len; ++counter) {
    (void)mbedtls_sha256_starts_ret(&ctx, 0);
    put_be32(be, counter);
    (void)mbedtls_sha256_update_ret(&ctx, be, sizeof be);
    (void)mbedtls_sha256_update_ret(&ctx, z.data(), z.size());
    update_prefixed(&ctx, ByteSpan(alg_id));
    update_prefixed(&ctx, apu);
    update_prefixed(&ctx, apv);
    put_be32(be, static_cast<std::uint32_t>(key_bits)); // SuppPubInfo: keydatalen in bits
    (void)mbedtls_sha256_update_ret(&ctx, be, sizeof be);
    (void)mbedtls_sha256_finish_ret(&ctx, block);
    const std::size_t n = key_len - done < sizeof block ? key_len - done : sizeof block;
    std::memcpy(out.data() + done, block, n);
    done += static_cast<std::uint32_t>(n);
  }
  mbedtls_platform_zeroize(block, sizeof block);
  mbedtls_sha256_free(&ctx); // zeroizes the hash state, which saw Z
  return out;
}

// --- AES-GCM -------------------------------------------------------------------------------

struct AesGcm::Impl {
  mbedtls_gcm_context gcm;
  Mode mode = Mode::kEncrypt;
  bool started = false;
  std::uint8_t tail[16] = {};
  std::size_t tail_len = 0;
  Impl() { mbedtls_gcm_init(&gcm); }
  ~Impl() { reset(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // The GCM context holds the AES key schedule; mbedtls_gcm_free zeroizes it.
  void reset() {
    mbedtls_gcm_free(&gcm);
    mbedtls_gcm_init(&gcm);
    mbedtls_platform_zeroize(tail, sizeof tail);
    tail_len = 0;
    started = false;
  }
};

AesGcm::AesGcm() : impl_(new Impl) {}
AesGcm::~AesGcm() = default;

Status AesGcm::start(Mode mode, ByteSpan key, ByteSpan iv, ByteSpan aad) {
  impl_->reset();
  if (key.size() != 16 && key.size() != 24 && key.size() != 32)
    return err(Code::kInvalidArgument, "AES-GCM: key must be 16, 24 or 32 bytes");
  if (iv.size() != 12) return err(Code::kInvalidArgument, "AES-GCM: IV must be 12 bytes");
  if (mbedtls_gcm_setkey(&impl_->gcm, MBEDTLS_CIPHER_ID_AES, key.data(),
                         static_cast<unsigned>(key.size() * 8)) != 0 ||
      mbedtls_gcm_starts(&impl_->gcm,
                         mode == Mode::kEncrypt ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT,
                         iv.data(), iv.size(), aad.data(), aad.size()) != 0) {
    impl_->reset();
    return err(Code::kInternal, "AES-GCM start failed");
  }
  impl_->mode = mode;
  impl_->started = true;
  return Status::ok();
}

Status AesGcm::update(ByteSpan in, std::uint8_t* out, std::size_t out_cap, std::size_t* out_len) {
  if (!out_len) return err(Code::kInvalidArgument, "AES-GCM: out_len is null");
  *out_len = 0;
  if (!impl_->started) return err(Code::kState, "AES-GCM: update before start");
  Impl& s = *impl_;
  const std::size_t total = s.tail_len + in.size();
  const std::size_t emit = total - total % 16;
  if (emit > out_cap || (emit > 0 && !out))
    return err(Code::kInvalidArgument, "AES-GCM: output buffer too small");
  std::size_t used = 0; // bytes of `in` consumed
  std::size_t produced = 0;
  bool ok = true;
  if (s.tail_len > 0 && total >= 16) {
    used = 16 - s.tail_len;
    std::memcpy(s.tail + s.tail_len, in.data(), used);
    ok = mbedtls_gcm_update(&s.gcm, 16, s.tail, out) == 0;
    produced = 16;
    s.tail_len = 0;
  }
  if (ok && s.tail_len == 0) {
    const std::size_t whole = (in.size() - used) / 16 * 16;
    if (whole > 0) ok = mbedtls_gcm_update(&s.gcm, whole, in.data() + used, out + produced) == 0;
    used += whole;
    produced += whole;
  }
  if (!ok) {
    s.reset();
    return err(Code::kInternal, "AES-GCM update failed");
  }
  const std::size_t rest = in.size() - used; // fits: tail_len + rest < 16
  if (rest > 0) std::memcpy(s.tail + s.tail_len, in.data() + used, rest);
  s.tail_len += rest;
  *out_len = produced;
  return Status::ok();
}

Status AesGcm::finish(std::uint8_t* out, std::size_t out_cap, std::size_t* out_len,
                      std::uint8_t* tag, std::size_t tag_len) {
  if (!out_len) return err(Code::kInvalidArgument, "AES-GCM: out_len is null");
  *out_len = 0;
  if (!impl_->started) return err(Code::kState, "AES-GCM: finish before start");
  Impl& s = *impl_;
  if (!tag || tag_len != 16) return err(Code::kInvalidArgument, "AES-GCM: tag must be 16 bytes");
  if (s.tail_len > out_cap || (s.tail_len > 0 && !out))
    return err(Code::kInvalidArgument, "AES-GCM: output buffer too small");
  std::uint8_t computed[16];
  Status st = Status::ok();
  const std::size_t n = s.tail_len;
  // The last update may be any length.
  if (mbedtls_gcm_update(&s.gcm, n, s.tail, out) != 0 ||
      mbedtls_gcm_finish(&s.gcm, computed, sizeof computed) != 0) {
    st = err(Code::kInternal, "AES-GCM finish failed");
  } else if (s.mode == Mode::kEncrypt) {
    std::memcpy(tag, computed, sizeof computed);
    *out_len = n;
  } else if (!constant_time_equal(ByteSpan(computed, sizeof computed), ByteSpan(tag, tag_len))) {
    st = err(Code::kAuthFailed, "AES-GCM: authentication tag mismatch");
  } else {
    *out_len = n;
  }
  // Never leave unauthenticated plaintext in the caller's buffer from this call.
  if (!st.is_ok() && n > 0 && out) mbedtls_platform_zeroize(out, n);
  mbedtls_platform_zeroize(computed, sizeof computed);
  s.reset();
  return st;
}

Result<Bytes> aes_gcm_encrypt(ByteSpan key, ByteSpan iv, ByteSpan aad, ByteSpan plain,
                              std::array<std::uint8_t, 16>* tag) {
  if (!tag) return err(Code::kInvalidArgument, "AES-GCM: tag output is null");
  AesGcm gcm;
  IMSDC_TRY(gcm.start(AesGcm::Mode::kEncrypt, key, iv, aad));
  Bytes out(plain.size() + 16);
  std::size_t n1 = 0, n2 = 0;
  IMSDC_TRY(gcm.update(plain, out.data(), out.size(), &n1));
  IMSDC_TRY(gcm.finish(out.data() + n1, out.size() - n1, &n2, tag->data(), tag->size()));
  out.resize(n1 + n2);
  return out;
}

Result<Bytes> aes_gcm_decrypt(ByteSpan key, ByteSpan iv, ByteSpan aad, ByteSpan cipher,
                              ByteSpan tag) {
  if (tag.size() != 16) return err(Code::kAuthFailed, "AES-GCM: tag must be 16 bytes");
  AesGcm gcm;
  IMSDC_TRY(gcm.start(AesGcm::Mode::kDecrypt, key, iv, aad));
  Bytes out(cipher.size() + 16);
  std::size_t n1 = 0, n2 = 0;
  Status st = gcm.update(cipher, out.data(), out.size(), &n1);
  if (st.is_ok()) {
    std::uint8_t t[16];
    std::memcpy(t, tag.data(), 16);
    st = gcm.finish(out.data() + n1, out.size() - n1, &n2, t, sizeof t);
  }
  if (!st.is_ok()) {
    // Unauthenticated plaintext must not survive a failed check.
    secure_zero(out.data(), out.size());
    return st;
  }
  out.resize(n1 + n2);
  return out;
}

} // namespace imsdc::crypto
