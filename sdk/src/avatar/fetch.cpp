#include "avatar/fetch.h"

#include <cjson/cJSON.h>

#include <cstring>
#include <memory>
#include <utility>

#include "avatar/tokens.h"
#include "imsdc/jose.h"
#include "imsdc/port/transport.h"

namespace imsdc::avatar {
namespace {

struct JsonDeleter {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};
using Json = std::unique_ptr<cJSON, JsonDeleter>;

// Status details are static strings: one per code of section 7.
struct BarCode {
  const char* code;
  const char* detail;
};
constexpr BarCode kBarCodes[] = {
    {"malformed", "BAR: malformed"},
    {"bad_signature", "BAR: bad_signature"},
    {"untrusted_certificate", "BAR: untrusted_certificate"},
    {"expired", "BAR: expired"},
    {"not_owner", "BAR: not_owner"},
    {"wrong_requester", "BAR: wrong_requester"},
    {"replayed", "BAR: replayed"},
    {"unknown_avatar", "BAR: unknown_avatar"},
};

// `want` is lower case; media types compare case-insensitively, parameters are ignored.
bool is_media_type(const char* type, const char* want) {
  if (type == nullptr) return false;
  std::size_t n = 0;
  for (; want[n] != '\0'; n++) {
    char c = type[n];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != want[n]) return false;
  }
  return type[n] == '\0' || type[n] == ';' || type[n] == ' ';
}

} // namespace

Status bar_refusal(int http_status, std::string_view body) {
  const Code code =
      http_status == 401 || http_status == 403 ? Code::kAuthRejected : Code::kRejected;
  const char* detail = http_status == 401 || http_status == 403
                           ? "BAR refused the attestation or the requester"
                           : "BAR refused the request";
  if (body.size() <= kBarErrorBodyMax) {
    Json j(cJSON_ParseWithLength(body.data(), body.size()));
    const cJSON* e = j ? cJSON_GetObjectItemCaseSensitive(j.get(), "error") : nullptr;
    if (cJSON_IsString(e)) {
      for (const BarCode& c : kBarCodes)
        if (std::strcmp(e->valuestring, c.code) == 0) detail = c.detail;
    }
  }
  return Status(code, Module::kAvatar, detail);
}

Status http_done_status(int result) {
  if (result == -100 - static_cast<int>(IMSDC_TRANSPORT_CLOSED_TLS))
    return Status(Code::kTls, Module::kAvatar, "TLS with the BAR failed");
  if (result == IMSDC_PORT_ENOSPC)
    return Status(Code::kTooLarge, Module::kAvatar, "answer above the size bound");
  return Status(Code::kNetwork, Module::kAvatar, "exchange with the BAR failed");
}

Result<std::string> receiving_attestation_jti(std::string_view attestation,
                                              const crypto::EcPublicKey& own) {
  auto jws = jose::jws_parse(attestation);
  if (!jws) return jws.status();
  if (jws->typ != kTypAttestation)
    return Status(Code::kMalformed, Module::kAvatar, "not an avatar attestation");
  const Bytes& p = jws->payload;
  Json claims(cJSON_ParseWithLength(reinterpret_cast<const char*>(p.data()), p.size()));
  if (!claims || !cJSON_IsObject(claims.get()))
    return Status(Code::kMalformed, Module::kAvatar, "attestation claims are not JSON");
  const cJSON* rendering = cJSON_GetObjectItemCaseSensitive(claims.get(), "rendering");
  const cJSON* jti = cJSON_GetObjectItemCaseSensitive(claims.get(), "jti");
  const cJSON* epk = cJSON_GetObjectItemCaseSensitive(claims.get(), "epk");
  if (!cJSON_IsString(jti) || jti->valuestring[0] == '\0')
    return Status(Code::kMalformed, Module::kAvatar, "attestation has no jti");
  if (!cJSON_IsString(rendering) ||
      std::strcmp(rendering->valuestring, rendering_name(Rendering::kReceivingUe)) != 0)
    return Status(Code::kBinding, Module::kAvatar, "attestation is not for receiving-ue");
  if (!cJSON_IsObject(epk)) return Status(Code::kMalformed, Module::kAvatar, "no epk");
  char* text = cJSON_PrintUnformatted(epk);
  if (text == nullptr) return Status(Code::kNoMemory, Module::kAvatar);
  auto key = crypto::jwk_to_public(text);
  cJSON_free(text);
  if (!key) return key.status();
  if (!(key.value() == own))
    return Status(Code::kBinding, Module::kAvatar, "attestation names another ephemeral key");
  return std::string(jti->valuestring);
}

RepresentationFetch::RepresentationFetch(const imsdc_http_client& http, EphemeralKey& key,
                                         const imsdc_port_storage& storage)
    : http_(http), key_(key), storage_(storage) {}

RepresentationFetch::~RepresentationFetch() {
  if (started_ && !done_ && http_.cancel != nullptr) http_.cancel(http_.ctx);
  decryptor_.reset(); // aborts an uncommitted blob
}

Status RepresentationFetch::start(FetchOptions options) {
  if (started_) return Status(Code::kState, Module::kAvatar, "fetch already started");
  if (options.url.empty() || options.attestation.empty() || options.jti.empty())
    return Status(Code::kInvalidArgument, Module::kAvatar, "url, attestation and jti needed");
  if (http_.version < 1 || http_.request == nullptr || http_.poll == nullptr ||
      http_.cancel == nullptr)
    return Status(Code::kPortFailure, Module::kAvatar, "HTTP client lacks methods");
  options_ = std::move(options);
  imsdc_http_request req{};
  req.method = "POST";
  req.url = options_.url.c_str();
  req.content_type = "application/jwt";
  req.body = reinterpret_cast<const std::uint8_t*>(options_.attestation.data());
  req.body_len = options_.attestation.size();
  req.ca_file = options_.ca_file.empty() ? nullptr : options_.ca_file.c_str();
  req.client_cert_file =
      options_.client_cert_file.empty() ? nullptr : options_.client_cert_file.c_str();
  req.client_key_file =
      options_.client_key_file.empty() ? nullptr : options_.client_key_file.c_str();
  // The compact text is 4/3 of the plaintext plus a header well under 8 KiB.
  const std::uint64_t m = options_.max_plaintext;
  req.max_body = m > (UINT64_MAX - 8192) / 2 ? UINT64_MAX : m / 3 * 4 + 8192;
  req.timeout_ms = options_.timeout_ms;
  imsdc_http_events ev{};
  ev.user = this;
  ev.on_response = on_response;
  ev.on_body = on_body;
  ev.on_done = on_done;
  const int rc = http_.request(http_.ctx, &req, &ev);
  if (rc != IMSDC_PORT_OK) {
    key_.destroy();
    return rc == IMSDC_PORT_EINVAL
               ? Status(Code::kInvalidArgument, Module::kAvatar, "HTTP client refused the request")
               : Status(Code::kNetwork, Module::kAvatar, "HTTP client could not start");
  }
  started_ = true;
  return Status::ok();
}

Status RepresentationFetch::poll(std::uint32_t timeout_ms) {
  if (!started_) return Status(Code::kState, Module::kAvatar, "fetch not started");
  if (!done_) (void)http_.poll(http_.ctx, timeout_ms);
  return Status::ok();
}

Result<JweResult> RepresentationFetch::result() const {
  if (!done_) return Status(Code::kState, Module::kAvatar, "fetch not done");
  if (!status_) return status_;
  return result_;
}

void RepresentationFetch::fail(Status s) {
  if (status_) status_ = s;
  decryptor_.reset();
  key_.destroy();
}

void RepresentationFetch::on_response(void* user, int status, const char* type,
                                      std::int64_t length) {
  auto* self = static_cast<RepresentationFetch*>(user);
  self->http_status_ = status;
  self->total_ = length;
  if (status != 200 || !self->status_) return;
  if (!is_media_type(type, "application/jose")) {
    self->fail(Status(Code::kMalformed, Module::kAvatar, "answer is not application/jose"));
    return;
  }
  JweOptions o;
  o.jti = self->options_.jti;
  o.now_s = self->options_.now_s;
  o.max_plaintext = self->options_.max_plaintext;
  o.blob_name = self->options_.blob_name;
  self->decryptor_.emplace(self->key_, self->storage_, std::move(o));
}

int RepresentationFetch::on_body(void* user, const std::uint8_t* data, std::size_t len) {
  auto* self = static_cast<RepresentationFetch*>(user);
  if (!self->status_) return -1;
  self->received_ += len;
  if (self->http_status_ != 200) {
    const std::size_t room = kBarErrorBodyMax + 1 - self->error_body_.size();
    self->error_body_.append(reinterpret_cast<const char*>(data), len < room ? len : room);
    return 0;
  }
  if (!self->decryptor_) return -1;
  Status s = self->decryptor_->feed(ByteSpan(data, len));
  if (!s) {
    self->fail(s);
    return -1;
  }
  if (self->options_.on_progress != nullptr)
    self->options_.on_progress(self->options_.progress_user, self->received_, self->total_);
  return 0;
}

void RepresentationFetch::on_done(void* user, int result) {
  auto* self = static_cast<RepresentationFetch*>(user);
  self->done_ = true;
  if (!self->status_) return;
  if (result != 0) {
    self->fail(http_done_status(result));
  } else if (self->http_status_ != 200) {
    self->fail(bar_refusal(self->http_status_, self->error_body_));
  } else if (!self->decryptor_) {
    self->fail(Status(Code::kMalformed, Module::kAvatar, "no answer body"));
  } else {
    auto r = self->decryptor_->finish();
    if (!r) {
      self->fail(r.status());
    } else {
      self->result_ = r.value();
    }
  }
}

} // namespace imsdc::avatar
