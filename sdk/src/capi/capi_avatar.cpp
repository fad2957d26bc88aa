// C API: avatar attestation, the protected representation (HTTPS fetch or relay feed into
// the streaming JWE decryptor), JWS verification, and caller identity verification.
#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <string>

#include "avatar/ephemeral.h"
#include "avatar/fetch.h"
#include "avatar/jwe_decrypt.h"
#include "avatar/tokens.h"
#include "capi/capi_internal.h"
#include "identity/identity.h"
#include "imsdc/jose.h"
#include "imsdc/port/os.h"
#include "sip/message.h"

#if defined(IMSDC_CAPI_WITH_LWS)
#include "imsdc/transport_lws.h"
#endif

using imsdc::capi::copy_out;
using imsdc::capi::to_c;

struct imsdc_avatar_fetch {
  imsdc_client* client = nullptr;
  std::optional<imsdc::avatar::EphemeralKey> key;
  imsdc::avatar::FetchOptions options;
  // Relay path
  std::optional<imsdc::avatar::JweDecryptor> decryptor;
  // Direct path
#if defined(IMSDC_CAPI_WITH_LWS)
  std::unique_ptr<imsdc::transport::HttpsClient> https;
#endif
  std::optional<imsdc::avatar::RepresentationFetch> fetch;
  bool done = false;
  imsdc::Status status;
  imsdc::avatar::JweResult result;
  int http_status = 0;

  imsdc::Status fail(imsdc::Status s) {
    if (!done) {
      done = true;
      status = s;
    }
    return status;
  }
};

namespace {

std::int64_t wall_now(std::int64_t given) {
  return given ? given : imsdc_port_clock_wall_s();
}

imsdc::Result<imsdc::crypto::TrustStore> trust_from(const char* pem) {
  imsdc::crypto::TrustStore t;
  if (!pem) return imsdc::Status(imsdc::Code::kInvalidArgument, imsdc::Module::kCrypto, "trust");
  IMSDC_TRY(t.add_pem(pem));
  if (t.size() == 0)
    return imsdc::Status(imsdc::Code::kMalformed, imsdc::Module::kCrypto, "no certificate");
  return t;
}

// CertificateFetcher over the caller's PEM text: the same resource for every URL.
int given_fetch(void* ctx, const char*, std::size_t, std::uint8_t* out, std::size_t cap,
                std::size_t* out_len) {
  const auto* pem = static_cast<const char*>(ctx);
  const std::size_t n = std::strlen(pem);
  if (n > cap) return -1;
  std::copy(pem, pem + n, out);
  *out_len = n;
  return 0;
}

} // namespace

extern "C" {

int imsdc_avatar_attest(imsdc_client* client, const imsdc_attestation_params* params, char* jws,
                        size_t cap, size_t* out_len) {
  if (!client || !params || !out_len) return IMSDC_E_INVALID_ARGUMENT;
  if (!params->avatar_id || !params->dc_as || !params->aud) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::avatar::AttestationClaims c;
  switch (params->rendering) {
  case IMSDC_RENDERING_NETWORK:
    c.rendering = imsdc::avatar::Rendering::kNetwork;
    break;
  case IMSDC_RENDERING_RECEIVING_UE:
    c.rendering = imsdc::avatar::Rendering::kReceivingUe;
    break;
  default: // sending-ue needs the fetch's own ephemeral key: imsdc_avatar_fetch_create
    return IMSDC_E_INVALID_ARGUMENT;
  }
  if ((c.rendering == imsdc::avatar::Rendering::kReceivingUe) != (params->peer_epk_xy != nullptr))
    return IMSDC_E_INVALID_ARGUMENT;
  std::optional<imsdc::crypto::EcPublicKey> epk;
  if (params->peer_epk_xy) {
    auto k = imsdc::crypto::ec_public_from_xy(imsdc::ByteSpan(params->peer_epk_xy, 64));
    if (!k) return to_c(k.status());
    epk = k.value();
    c.epk = &*epk;
  }
  c.avatar_id = params->avatar_id;
  c.dc_as = params->dc_as;
  c.aud = params->aud;
  c.times.now_s = imsdc_port_clock_wall_s();
  if (params->lifetime_s) c.times.lifetime_s = params->lifetime_s;
  auto t = imsdc::avatar::make_attestation(*client->keystore->port(), c);
  if (!t) return to_c(t.status());
  return copy_out(t.value().jws, jws, cap, out_len);
}

int imsdc_avatar_fetch_create(imsdc_client* client, const imsdc_avatar_fetch_config* config,
                              imsdc_avatar_fetch** out) {
  if (!client || !config || !out) return IMSDC_E_INVALID_ARGUMENT;
  if (!config->avatar_id || !config->dc_as || !config->bar_id || !config->blob_name)
    return IMSDC_E_INVALID_ARGUMENT;
  if (!client->storage) return IMSDC_E_STATE;
  auto* f = new (std::nothrow) imsdc_avatar_fetch();
  if (!f) return IMSDC_E_NO_MEMORY;
  std::unique_ptr<imsdc_avatar_fetch> guard(f);
  f->client = client;
  const std::int64_t now = imsdc_port_clock_wall_s();
  auto k = imsdc::avatar::EphemeralKey::generate(now);
  if (!k) return to_c(k.status());
  f->key.emplace(std::move(k.value()));
  imsdc::avatar::AttestationClaims c;
  c.avatar_id = config->avatar_id;
  c.dc_as = config->dc_as;
  c.aud = config->bar_id;
  c.rendering = imsdc::avatar::Rendering::kSendingUe;
  c.epk = &f->key->public_key();
  c.times.now_s = now;
  auto t = imsdc::avatar::make_attestation(*client->keystore->port(), c);
  if (!t) return to_c(t.status());
  imsdc::avatar::FetchOptions& o = f->options;
  o.attestation = t.value().jws;
  o.jti = t.value().jti;
  if (config->url) o.url = config->url;
  o.ca_file = client->ca_file;
  o.client_cert_file = client->cert_file;
  o.client_key_file = client->key_file;
  if (config->max_size) o.max_plaintext = config->max_size;
  if (config->timeout_ms) o.timeout_ms = config->timeout_ms;
  o.blob_name = config->blob_name;
  *out = guard.release();
  return IMSDC_OK;
}

int imsdc_avatar_fetch_attestation(const imsdc_avatar_fetch* fetch, char* out, size_t cap,
                                   size_t* out_len) {
  if (!fetch || !out_len) return IMSDC_E_INVALID_ARGUMENT;
  return copy_out(fetch->options.attestation, out, cap, out_len);
}

int imsdc_avatar_fetch_start(imsdc_avatar_fetch* fetch) {
  if (!fetch) return IMSDC_E_INVALID_ARGUMENT;
  if (fetch->fetch || fetch->decryptor || fetch->done || fetch->options.url.empty())
    return IMSDC_E_STATE;
#if !defined(IMSDC_CAPI_WITH_LWS)
  return IMSDC_E_UNSUPPORTED;
#else
  auto https = imsdc::transport::HttpsClient::create();
  if (!https) return to_c(https.status());
  fetch->https = std::move(https.value());
  fetch->fetch.emplace(*fetch->https->port(), *fetch->key, *fetch->client->storage->port());
  imsdc::avatar::FetchOptions o = fetch->options;
  o.now_s = imsdc_port_clock_wall_s();
  return to_c(fetch->fetch->start(std::move(o)));
#endif
}

int imsdc_avatar_fetch_poll(imsdc_avatar_fetch* fetch, uint32_t timeout_ms, int* done) {
  if (!fetch || !done) return IMSDC_E_INVALID_ARGUMENT;
  if (!fetch->fetch) return IMSDC_E_STATE;
  if (!fetch->fetch->done()) {
    const imsdc::Status s = fetch->fetch->poll(timeout_ms);
    if (!s) return to_c(s);
  }
  if (fetch->fetch->done() && !fetch->done) {
    auto r = fetch->fetch->result();
    fetch->http_status = fetch->fetch->http_status();
    if (r) {
      fetch->result = r.value();
      fetch->done = true;
    } else {
      (void)fetch->fail(r.status());
    }
  }
  *done = fetch->done ? 1 : 0;
  return IMSDC_OK;
}

int imsdc_avatar_fetch_feed(imsdc_avatar_fetch* fetch, const uint8_t* data, size_t len) {
  if (!fetch || (!data && len)) return IMSDC_E_INVALID_ARGUMENT;
  if (fetch->fetch || fetch->done) return fetch->done ? to_c(fetch->status) : IMSDC_E_STATE;
  if (!fetch->decryptor) {
    imsdc::avatar::JweOptions o;
    o.jti = fetch->options.jti;
    o.now_s = imsdc_port_clock_wall_s();
    o.max_plaintext = fetch->options.max_plaintext;
    o.blob_name = fetch->options.blob_name;
    fetch->decryptor.emplace(*fetch->key, *fetch->client->storage->port(), std::move(o));
  }
  const imsdc::Status s = fetch->decryptor->feed(imsdc::ByteSpan(data, len));
  if (!s) return to_c(fetch->fail(s));
  return IMSDC_OK;
}

int imsdc_avatar_fetch_finish(imsdc_avatar_fetch* fetch) {
  if (!fetch) return IMSDC_E_INVALID_ARGUMENT;
  if (fetch->done) return to_c(fetch->status);
  if (!fetch->decryptor) return IMSDC_E_STATE;
  auto r = fetch->decryptor->finish();
  if (!r) return to_c(fetch->fail(r.status()));
  fetch->result = r.value();
  fetch->done = true;
  return IMSDC_OK;
}

int imsdc_avatar_fetch_result(const imsdc_avatar_fetch* fetch, char* cty, size_t cap,
                              uint64_t* size, int* http_status) {
  if (!fetch) return IMSDC_E_INVALID_ARGUMENT;
  if (!fetch->done) return IMSDC_E_STATE;
  if (http_status) *http_status = fetch->http_status;
  if (!fetch->status) return to_c(fetch->status);
  if (size) *size = fetch->result.size;
  if (cty) {
    std::size_t n = 0;
    return copy_out(fetch->result.cty, cty, cap, &n);
  }
  return IMSDC_OK;
}

void imsdc_avatar_fetch_destroy(imsdc_avatar_fetch* fetch) {
  delete fetch;
}

int imsdc_jws_verify(const char* jws, const char* trust_pem, int64_t now_s, const char* expect_typ,
                     char* payload, size_t cap, size_t* out_len) {
  if (!jws || !trust_pem || (payload && !out_len)) return IMSDC_E_INVALID_ARGUMENT;
  auto trust = trust_from(trust_pem);
  if (!trust) return to_c(trust.status());
  imsdc::jose::VerifyOptions o;
  o.trust = &trust.value();
  o.now_s = wall_now(now_s);
  if (expect_typ) o.expect_typ = expect_typ;
  auto v = imsdc::jose::jws_verify_x5c(jws, o);
  if (!v) return to_c(v.status());
  if (!payload) return IMSDC_OK;
  return copy_out(v.value().payload_json, payload, cap, out_len);
}

int imsdc_identity_verify(const imsdc_identity_config* config, const uint8_t* request, size_t len,
                          imsdc_identity_result* result, char* card_json, size_t cap,
                          size_t* out_len) {
  if (!config || !request || !result || (card_json && !out_len)) return IMSDC_E_INVALID_ARGUMENT;
  if (!config->cert_pem && !config->fetch) return IMSDC_E_INVALID_ARGUMENT;
  auto trust = trust_from(config->trust_pem);
  if (!trust) return to_c(trust.status());
  auto msg = imsdc::sip::parse_message(imsdc::ByteSpan(request, len));
  if (!msg) return to_c(msg.status());
  imsdc::identity::VerifyConfig cfg;
  cfg.trust = &trust.value();
  cfg.now_s = wall_now(config->now_s);
  if (config->iat_window_s) cfg.iat_window_s = config->iat_window_s;
  if (config->cert_pem) {
    cfg.fetcher.fetch = given_fetch;
    cfg.fetcher.ctx = const_cast<char*>(config->cert_pem); // NOLINT: read only
  } else {
    cfg.fetcher.fetch = config->fetch;
    cfg.fetcher.ctx = config->fetch_user;
  }
  auto card = imsdc::identity::verify_request(msg.value(), cfg);
  if (!card) return to_c(card.status());
  const imsdc::identity::CallerCard& c = card.value();
  *result = imsdc_identity_result{};
  result->has_identity = c.has_identity ? 1 : 0;
  result->passport_verified = c.passport_verified ? 1 : 0;
  result->passport_status = to_c(c.passport_status);
  result->number_status = static_cast<int>(c.number.status); // mirrors FieldStatus
  if (c.attest.size() == 1) result->attest[0] = c.attest[0];
  if (!card_json) return IMSDC_OK;
  return copy_out(imsdc::identity::caller_card_json(c), card_json, cap, out_len);
}

} // extern "C"
