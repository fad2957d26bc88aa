#include "avatar/jwe_decrypt.h"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "crypto/internal.h"
#include "imsdc/codec.h"

namespace imsdc::avatar {
namespace {

Status err(Code code, const char* detail) {
  return Status(code, Module::kAvatar, detail);
}

constexpr std::size_t kIvChars = 16;  // 12 bytes
constexpr std::size_t kTagChars = 22; // 16 bytes
// Bound of the encrypted-key segment we are willing to buffer only to reject it.
constexpr std::size_t kMaxSmallChars = 64;

// Decoded optional base64url header member into *out; absent leaves it empty.
Status header_b64_member(const cJSON* root, const char* name, Bytes* out, bool* present) {
  bool bad = false;
  const char* v = crypto::internal::json_string(root, name, &bad);
  if (bad) return err(Code::kMalformed, "JWE header member is not a string");
  *present = v != nullptr;
  if (!v) return Status::ok();
  auto b = base64url_decode(v, 1024);
  if (!b) return err(Code::kMalformed, "JWE header apu/apv is not base64url");
  *out = std::move(b.value());
  return Status::ok();
}

} // namespace

JweDecryptor::JweDecryptor(EphemeralKey& key, const imsdc_port_storage& storage, JweOptions options)
    : key_(key), storage_(storage), options_(std::move(options)) {}

JweDecryptor::~JweDecryptor() {
  // The sink aborts itself; the buffers may hold unauthenticated plaintext.
  secure_zero(plain_.data(), plain_.size());
  secure_zero(cipher_.data(), cipher_.size());
}

Status JweDecryptor::fail(Status s) {
  if (stage_ == Stage::kFailed) return error_;
  stage_ = Stage::kFailed;
  error_ = s;
  sink_.abort();
  gcm_.reset();
  cek_.clear();
  key_.destroy();
  secure_zero(plain_.data(), plain_.size());
  secure_zero(cipher_.data(), cipher_.size());
  return s;
}

Status JweDecryptor::append_small(std::string* to, std::size_t max, ByteSpan chars) {
  if (to->size() + chars.size() > max) {
    if (stage_ == Stage::kHeader) return err(Code::kTooLarge, "JWE protected header too long");
    return err(Code::kMalformed, "JWE segment too long");
  }
  to->append(reinterpret_cast<const char*>(chars.data()), chars.size());
  return Status::ok();
}

Status JweDecryptor::feed(ByteSpan piece) {
  if (stage_ == Stage::kFailed) return error_;
  if (stage_ == Stage::kDone) return err(Code::kState, "JWE already finished");
  std::size_t i = 0;
  while (i < piece.size()) {
    const void* dot = std::memchr(piece.data() + i, '.', piece.size() - i);
    const std::size_t end =
        dot ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(dot) - piece.data())
            : piece.size();
    ByteSpan run = piece.sub(i, end - i);
    Status s;
    switch (stage_) {
    case Stage::kHeader:
      s = append_small(&header_b64_, kJweMaxHeaderChars, run);
      break;
    case Stage::kEncryptedKey:
      s = append_small(&small_, kMaxSmallChars, run);
      break;
    case Stage::kIv:
      s = append_small(&small_, kIvChars, run);
      break;
    case Stage::kTag:
      s = append_small(&small_, kTagChars, run);
      break;
    case Stage::kCiphertext:
      while (!run.empty() && s.is_ok()) {
        const std::size_t n = std::min(run.size(), text_.size() - text_len_);
        std::memcpy(text_.data() + text_len_, run.data(), n);
        text_len_ += n;
        run = run.sub(n);
        if (text_len_ == text_.size()) s = flush_cipher();
      }
      break;
    case Stage::kDone:
    case Stage::kFailed:
      break;
    }
    if (!s) return fail(s);
    i = end;
    if (dot) {
      ++i;
      s = end_segment();
      if (!s) return fail(s);
    }
  }
  return Status::ok();
}

Status JweDecryptor::end_segment() {
  switch (stage_) {
  case Stage::kHeader:
    IMSDC_TRY(process_header());
    stage_ = Stage::kEncryptedKey;
    return Status::ok();
  case Stage::kEncryptedKey:
    // Direct key agreement has no encrypted key (RFC 7518 section 4.6).
    if (!small_.empty()) return err(Code::kMalformed, "ECDH-ES JWE has an encrypted key");
    stage_ = Stage::kIv;
    return Status::ok();
  case Stage::kIv:
    IMSDC_TRY(start_cipher());
    stage_ = Stage::kCiphertext;
    return Status::ok();
  case Stage::kCiphertext:
    IMSDC_TRY(flush_cipher());
    stage_ = Stage::kTag;
    return Status::ok();
  case Stage::kTag:
  case Stage::kDone:
  case Stage::kFailed:
    break;
  }
  return err(Code::kMalformed, "JWE has more than five segments");
}

Status JweDecryptor::process_header() {
  auto raw = base64url_decode(header_b64_, kJweMaxHeaderChars);
  if (!raw) return err(Code::kMalformed, "JWE header is not base64url");
  crypto::internal::JsonPtr root;
  Status ps = crypto::internal::parse_json_object(
      std::string_view(reinterpret_cast<const char*>(raw.value().data()), raw.value().size()),
      kJweMaxHeaderChars, &root);
  if (!ps) return err(Code::kMalformed, "JWE header is not a JSON object");
  bool bad = false;
  const char* alg = crypto::internal::json_string(root.get(), "alg", &bad);
  const char* enc = crypto::internal::json_string(root.get(), "enc", &bad);
  const char* cty = crypto::internal::json_string(root.get(), "cty", &bad);
  if (bad || !alg || !enc) return err(Code::kMalformed, "JWE header lacks alg or enc");
  // Exact match: a downgrade to another algorithm is a binding failure, not a parse error.
  if (std::strcmp(alg, "ECDH-ES") != 0 || std::strcmp(enc, "A256GCM") != 0)
    return err(Code::kBinding, "JWE alg/enc is not ECDH-ES/A256GCM");
  if (cJSON_GetObjectItemCaseSensitive(root.get(), "crit") ||
      cJSON_GetObjectItemCaseSensitive(root.get(), "zip"))
    return err(Code::kMalformed, "JWE header uses crit or zip");
  const cJSON* epk_item = cJSON_GetObjectItemCaseSensitive(root.get(), "epk");
  if (!epk_item || !cJSON_IsObject(epk_item))
    return err(Code::kMalformed, "JWE header lacks an epk object");
  char* epk_text = cJSON_PrintUnformatted(epk_item);
  if (!epk_text) return err(Code::kNoMemory, "JSON allocation failed");
  auto epk = crypto::jwk_to_public(epk_text);
  cJSON_free(epk_text);
  if (!epk) {
    if (epk.status() == Code::kMalformed) return err(Code::kMalformed, "JWE epk is malformed");
    return err(Code::kBadKey, "JWE epk is not a P-256 point on the curve");
  }
  Bytes apu;
  Bytes apv;
  bool has_apu = false;
  bool has_apv = false;
  IMSDC_TRY(header_b64_member(root.get(), "apu", &apu, &has_apu));
  IMSDC_TRY(header_b64_member(root.get(), "apv", &apv, &has_apv));
  // apv binds the answer to our request: it must be exactly the attestation's jti.
  if (!has_apv || !constant_time_equal(ByteSpan(apv), ByteSpan(options_.jti)))
    return err(Code::kBinding, "JWE apv does not match the attestation's jti");
  cty_ = cty ? cty : "";
  auto z = key_.consume(epk.value(), options_.now_s);
  if (!z) return z.status();
  auto cek =
      crypto::concat_kdf_sha256(z.value().span(), 256, "A256GCM", ByteSpan(apu), ByteSpan(apv));
  if (!cek) return cek.status();
  cek_ = std::move(cek.value());
  return Status::ok();
}

Status JweDecryptor::start_cipher() {
  if (small_.size() != kIvChars) return err(Code::kMalformed, "JWE IV is not 96 bits");
  auto n = base64url_decode_to(small_, iv_.data(), iv_.size());
  small_.clear();
  if (!n || n.value() != iv_.size()) return err(Code::kMalformed, "JWE IV is not base64url");
  gcm_.emplace();
  // AAD is the ASCII of the protected header as received (RFC 7516 section 5.2 step 14).
  IMSDC_TRY(gcm_->start(crypto::AesGcm::Mode::kDecrypt, cek_.span(), ByteSpan(iv_.data(), 12),
                        ByteSpan(header_b64_)));
  cek_.clear();
  return sink_.open(storage_, options_.blob_name);
}

Status JweDecryptor::flush_cipher() {
  if (text_len_ == 0) return Status::ok();
  // Mid-stream the buffer is full and a multiple of 4 characters, so each flush decodes
  // whole quanta and only the last one can carry (checked) unused bits.
  auto n = base64url_decode_to(std::string_view(text_.data(), text_len_), cipher_.data(),
                               cipher_.size());
  if (!n) return err(Code::kMalformed, "JWE ciphertext is not base64url");
  text_len_ = 0;
  plain_size_ += n.value();
  if (plain_size_ > options_.max_plaintext)
    return err(Code::kTooLarge, "avatar representation exceeds the configured size");
  std::size_t out = 0;
  IMSDC_TRY(gcm_->update(ByteSpan(cipher_.data(), n.value()), plain_.data(), plain_.size(), &out));
  return sink_.write(ByteSpan(plain_.data(), out));
}

Result<JweResult> JweDecryptor::finish() {
  if (stage_ == Stage::kFailed) return error_;
  if (stage_ == Stage::kDone) return err(Code::kState, "JWE already finished");
  if (stage_ != Stage::kTag) return fail(err(Code::kMalformed, "JWE is truncated"));
  std::array<std::uint8_t, 16> tag{};
  if (small_.size() != kTagChars) return fail(err(Code::kMalformed, "JWE tag is not 128 bits"));
  auto n = base64url_decode_to(small_, tag.data(), tag.size());
  if (!n || n.value() != tag.size()) return fail(err(Code::kMalformed, "JWE tag not base64url"));
  std::size_t out = 0;
  Status s = gcm_->finish(plain_.data(), plain_.size(), &out, tag.data(), tag.size());
  if (!s)
    return fail(s.code() == Code::kAuthFailed
                    ? err(Code::kAuthFailed, "JWE authentication tag does not verify")
                    : s);
  s = sink_.write(ByteSpan(plain_.data(), out));
  if (s) s = sink_.commit();
  if (!s) return fail(s);
  stage_ = Stage::kDone;
  gcm_.reset();
  secure_zero(plain_.data(), plain_.size());
  JweResult r;
  r.cty = cty_;
  r.size = plain_size_;
  return r;
}

} // namespace imsdc::avatar
