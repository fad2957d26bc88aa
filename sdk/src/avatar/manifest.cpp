#include "avatar/manifest.h"

#include <cjson/cJSON.h>

#include <cmath>
#include <cstring>
#include <utility>

#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/jose.h"

namespace imsdc::avatar {
namespace {

Status err(Code code, const char* detail) {
  return Status(code, Module::kAvatar, detail);
}

// An integer-valued JSON number within [0, 2^53] (exact in a double).
bool json_uint(const cJSON* obj, const char* name, std::uint64_t* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!item || !cJSON_IsNumber(item)) return false;
  const double v = item->valuedouble;
  if (!(v >= 0) || v > 9007199254740992.0 || std::floor(v) != v) return false;
  *out = static_cast<std::uint64_t>(v);
  return true;
}

} // namespace

Result<Manifest> verify_manifest(std::string_view jws, const crypto::TrustStore& trust,
                                 std::string_view expect_avatar_id, std::int64_t now_s) {
  jose::VerifyOptions opt;
  opt.trust = &trust;
  opt.now_s = now_s;
  opt.expect_typ = kTypManifest;
  opt.identity_is_leaf_uri = false;
  opt.require_exp = true;
  opt.skew_s = IMSDC_CLOCK_SKEW_S;
  auto v = jose::jws_verify_x5c(jws, opt);
  if (!v) return v.status();
  crypto::internal::JsonPtr root;
  if (!crypto::internal::parse_json_object(v.value().payload_json, IMSDC_MAX_JWS_SIZE, &root))
    return err(Code::kMalformed, "manifest claims are not a JSON object");
  bool bad = false;
  const char* avatar_id = crypto::internal::json_string(root.get(), "avatar_id", &bad);
  const char* digest = crypto::internal::json_string(root.get(), "digest", &bad);
  const char* cty = crypto::internal::json_string(root.get(), "cty", &bad);
  Manifest m;
  std::uint64_t iat = 0;
  std::uint64_t exp = 0;
  if (bad || !avatar_id || !digest || !json_uint(root.get(), "size", &m.size) ||
      !json_uint(root.get(), "exp", &exp))
    return err(Code::kMalformed, "manifest lacks avatar_id, digest, size or exp");
  if (json_uint(root.get(), "iat", &iat)) m.iat = static_cast<std::int64_t>(iat);
  m.exp = static_cast<std::int64_t>(exp);
  constexpr std::string_view kPrefix = "sha256-";
  std::string_view d(digest);
  if (d.substr(0, kPrefix.size()) != kPrefix)
    return err(Code::kMalformed, "manifest digest is not sha256-<base64>");
  auto raw = base64_decode(d.substr(kPrefix.size()), 64);
  if (!raw || raw.value().size() != m.digest.size())
    return err(Code::kMalformed, "manifest digest is not 32 bytes of base64");
  std::memcpy(m.digest.data(), raw.value().data(), m.digest.size());
  m.avatar_id = avatar_id;
  m.cty = cty ? cty : "";
  if (!expect_avatar_id.empty() && m.avatar_id != expect_avatar_id)
    return err(Code::kBinding, "manifest is for another avatar_id");
  return m;
}

ManifestSink::ManifestSink(Manifest manifest, const imsdc_port_storage& storage, std::string name)
    : manifest_(std::move(manifest)), storage_(storage), name_(std::move(name)) {}

Status ManifestSink::fail(Status s) {
  if (error_.is_ok()) error_ = s;
  sink_.abort();
  done_ = true;
  return error_;
}

Status ManifestSink::feed(ByteSpan data) {
  if (!error_.is_ok()) return error_;
  if (done_) return err(Code::kState, "manifest sink already finished");
  if (!sink_.is_open()) {
    Status s = sink_.open(storage_, name_);
    if (!s) return fail(s);
  }
  // Stop as soon as the declared size is exceeded: the rest cannot be accepted anyway.
  if (data.size() > manifest_.size - size_)
    return fail(err(Code::kTooLarge, "representation is larger than the manifest says"));
  size_ += data.size();
  hash_.update(data);
  Status s = sink_.write(data);
  if (!s) return fail(s);
  return Status::ok();
}

Status ManifestSink::finish() {
  if (!error_.is_ok()) return error_;
  if (done_) return err(Code::kState, "manifest sink already finished");
  if (!sink_.is_open()) {
    Status s = sink_.open(storage_, name_);
    if (!s) return fail(s);
  }
  if (size_ != manifest_.size)
    return fail(err(Code::kAuthFailed, "representation is shorter than the manifest says"));
  const crypto::Digest got = hash_.finish();
  if (!constant_time_equal(ByteSpan(got.data(), got.size()),
                           ByteSpan(manifest_.digest.data(), manifest_.digest.size())))
    return fail(err(Code::kAuthFailed, "representation digest does not match the manifest"));
  Status s = sink_.commit();
  if (!s) return fail(s);
  done_ = true;
  return Status::ok();
}

} // namespace imsdc::avatar
