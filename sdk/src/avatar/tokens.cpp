#include "avatar/tokens.h"

#include <cjson/cJSON.h>

#include <memory>
#include <utility>

#include "imsdc/codec.h"
#include "imsdc/jose.h"

namespace imsdc::avatar {
namespace {

Status err(Code code, const char* detail) {
  return Status(code, Module::kAvatar, detail);
}

struct JsonDeleter {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};
using Json = std::unique_ptr<cJSON, JsonDeleter>;

// Builds the claims common to every profile; the caller adds the profile's own.
struct Draft {
  Json obj{cJSON_CreateObject()};
  std::string jti;
  std::string identity;
  bool ok = true;
  void add(const char* name, const std::string& value) {
    if (!cJSON_AddStringToObject(obj.get(), name, value.c_str())) ok = false;
  }
  void add_number(const char* name, std::int64_t value) {
    // Token times are far below 2^53, so a double holds them exactly.
    if (!cJSON_AddNumberToObject(obj.get(), name, static_cast<double>(value))) ok = false;
  }
};

Status check_times(const TokenTimes& t) {
  if (t.now_s < 0) return err(Code::kInvalidArgument, "token needs a known wall-clock time");
  if (t.lifetime_s < 1 || t.lifetime_s > 3600)
    return err(Code::kInvalidArgument, "token lifetime outside 1..3600 s");
  return Status::ok();
}

// Starts a draft: identity from the leaf, and a random jti.
Result<Draft> start(const imsdc_port_keystore& ks, const TokenTimes& times) {
  IMSDC_TRY(check_times(times));
  Draft d;
  if (!d.obj) return err(Code::kNoMemory, "JSON allocation failed");
  auto id = leaf_identity(ks);
  if (!id) return id.status();
  d.identity = std::move(id.value());
  std::uint8_t r[16];
  IMSDC_TRY(crypto::random_bytes(r, sizeof r));
  d.jti = base64url_encode(ByteSpan(r, sizeof r));
  return d;
}

Result<SignedToken> finish(const imsdc_port_keystore& ks, Draft* d, const TokenTimes& times,
                           const char* typ) {
  d->add_number("iat", times.now_s);
  d->add_number("exp", times.now_s + times.lifetime_s);
  d->add("jti", d->jti);
  if (!d->ok) return err(Code::kNoMemory, "JSON allocation failed");
  char* text = cJSON_PrintUnformatted(d->obj.get());
  if (!text) return err(Code::kNoMemory, "JSON allocation failed");
  std::string payload(text);
  cJSON_free(text);
  auto jws = jose::jws_sign(ks, ByteSpan(payload), typ, true);
  if (!jws) return jws.status();
  SignedToken t;
  t.jws = std::move(jws.value());
  t.jti = d->jti;
  t.identity = d->identity;
  return t;
}

} // namespace

const char* rendering_name(Rendering r) {
  switch (r) {
  case Rendering::kNetwork:
    return "network";
  case Rendering::kSendingUe:
    return "sending-ue";
  case Rendering::kReceivingUe:
    return "receiving-ue";
  }
  return "network";
}

Result<Rendering> rendering_from_name(const std::string& name) {
  if (name == "network") return Rendering::kNetwork;
  if (name == "sending-ue") return Rendering::kSendingUe;
  if (name == "receiving-ue") return Rendering::kReceivingUe;
  return err(Code::kInvalidArgument, "rendering is network, sending-ue or receiving-ue");
}

Result<std::string> leaf_identity(const imsdc_port_keystore& ks) {
  auto chain = crypto::keystore_chain(ks);
  if (!chain) return chain.status();
  if (chain.value().empty()) return err(Code::kNotFound, "keystore has no certificate chain");
  auto info = crypto::cert_info(chain.value().front());
  if (!info) return info.status();
  if (info.value().uri_sans.empty())
    return err(Code::kBinding, "leaf certificate has no URI subjectAltName (IMPU)");
  return info.value().uri_sans.front();
}

Result<SignedToken> make_attestation(const imsdc_port_keystore& ks, const AttestationClaims& c) {
  if (c.avatar_id.empty() || c.dc_as.empty() || c.aud.empty())
    return err(Code::kInvalidArgument, "attestation needs avatar_id, dc_as and aud");
  // The epk rule of section 6: a key for UE rendering, none for network rendering.
  if ((c.rendering == Rendering::kNetwork) != (c.epk == nullptr))
    return err(Code::kInvalidArgument, "epk is required for UE rendering and absent otherwise");
  auto d = start(ks, c.times);
  if (!d) return d.status();
  Draft& draft = d.value();
  draft.add("iss", draft.identity);
  draft.add("avatar_id", c.avatar_id);
  draft.add("dc_as", c.dc_as);
  draft.add("aud", c.aud);
  draft.add("rendering", rendering_name(c.rendering));
  if (c.epk) {
    const std::string jwk = crypto::jwk_from_public(*c.epk);
    cJSON* epk = cJSON_ParseWithLength(jwk.data(), jwk.size());
    if (!epk || !cJSON_AddItemToObject(draft.obj.get(), "epk", epk)) {
      cJSON_Delete(epk);
      return err(Code::kNoMemory, "JSON allocation failed");
    }
  }
  return finish(ks, &draft, c.times, kTypAttestation);
}

Result<SignedToken> make_avatar_token(const imsdc_port_keystore& ks, const AvatarTokenClaims& c) {
  if (c.avatar_id.empty() || c.sub.empty() || c.aud.empty())
    return err(Code::kInvalidArgument, "avatar token needs avatar_id, sub and aud");
  auto d = start(ks, c.times);
  if (!d) return d.status();
  Draft& draft = d.value();
  draft.add("avatar_id", c.avatar_id);
  draft.add("iss", draft.identity);
  draft.add("sub", c.sub);
  draft.add("aud", c.aud);
  return finish(ks, &draft, c.times, kTypAvatarToken);
}

Result<SignedToken> make_ue_token(const imsdc_port_keystore& ks, const UeTokenClaims& c) {
  if (c.aud.empty()) return err(Code::kInvalidArgument, "UE token needs aud");
  auto d = start(ks, c.times);
  if (!d) return d.status();
  Draft& draft = d.value();
  draft.add("sub", draft.identity);
  draft.add("aud", c.aud);
  return finish(ks, &draft, c.times, kTypUeToken);
}

Result<SignedToken> make_cca(const imsdc_port_keystore& ks, const CcaClaims& c) {
  if (c.aud.empty()) return err(Code::kInvalidArgument, "CCA needs aud");
  auto d = start(ks, c.times);
  if (!d) return d.status();
  Draft& draft = d.value();
  draft.add("sub", draft.identity);
  draft.add("aud", c.aud);
  return finish(ks, &draft, c.times, kTypCca);
}

} // namespace imsdc::avatar
