#include "avatar/control.h"

#include <cjson/cJSON.h>

#include <cstring>

#include "avatar/avatar_list.h"
#include "crypto/internal.h"

namespace imsdc::avatar {
namespace {

Status err(Code c, const char* d) {
  return Status(c, Module::kAvatar, d);
}

bool valid_code(std::string_view c) {
  if (c.empty() || c.size() > 64) return false;
  for (char ch : c) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

// The members each type carries besides "type".
std::size_t members_of(ControlType t) {
  switch (t) {
  case ControlType::kRender:
    return 2;
  case ControlType::kEpk:
  case ControlType::kAttestation:
  case ControlType::kError:
    return 1;
  case ControlType::kReady:
    return 0;
  }
  return 0;
}

// JWS compact: three base64url parts (checked for shape only; the BAR verifies it).
bool jws_shape(std::string_view s) {
  if (s.empty() || s.size() > kMaxControlMessage) return false;
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_')) {
      return false;
    }
  }
  return dots == 2;
}

} // namespace

Result<ControlMessage> parse_control(std::string_view text) {
  crypto::internal::JsonPtr root;
  IMSDC_TRY(crypto::internal::parse_json_object(text, kMaxControlMessage, &root));
  bool bad = false;
  const char* type = crypto::internal::json_string(root.get(), "type", &bad);
  if (type == nullptr) return err(Code::kMalformed, "control message without a type");
  ControlMessage m;
  const std::string_view t(type);
  if (t == "render") {
    m.type = ControlType::kRender;
  } else if (t == "epk") {
    m.type = ControlType::kEpk;
  } else if (t == "attestation") {
    m.type = ControlType::kAttestation;
  } else if (t == "ready") {
    m.type = ControlType::kReady;
  } else if (t == "error") {
    m.type = ControlType::kError;
  } else {
    return err(Code::kMalformed, "unknown control message type");
  }
  if (static_cast<std::size_t>(cJSON_GetArraySize(root.get())) != members_of(m.type) + 1)
    return err(Code::kMalformed, "control message has other members");
  switch (m.type) {
  case ControlType::kRender: {
    const char* mode = crypto::internal::json_string(root.get(), "mode", &bad);
    const char* id = crypto::internal::json_string(root.get(), "avatar_id", &bad);
    if (mode == nullptr || id == nullptr || !valid_avatar_id(id))
      return err(Code::kMalformed, "render needs a mode and a valid avatar_id");
    Result<Rendering> r = rendering_from_name(mode);
    if (!r.is_ok()) return err(Code::kMalformed, "unknown rendering mode");
    m.mode = r.value();
    m.avatar_id = id;
    break;
  }
  case ControlType::kEpk: {
    const cJSON* jwk = cJSON_GetObjectItemCaseSensitive(root.get(), "jwk");
    if (!cJSON_IsObject(jwk)) return err(Code::kMalformed, "epk needs a jwk object");
    char* printed = cJSON_PrintUnformatted(jwk);
    if (printed == nullptr) return err(Code::kNoMemory, "jwk text");
    Result<crypto::EcPublicKey> key = crypto::jwk_to_public(printed);
    cJSON_free(printed);
    if (!key.is_ok()) return key.status();
    m.epk = key.value();
    break;
  }
  case ControlType::kAttestation: {
    const char* jws = crypto::internal::json_string(root.get(), "jws", &bad);
    if (jws == nullptr || !jws_shape(jws)) return err(Code::kMalformed, "bad attestation JWS");
    m.jws = jws;
    break;
  }
  case ControlType::kError: {
    const char* code = crypto::internal::json_string(root.get(), "code", &bad);
    if (code == nullptr || !valid_code(code)) return err(Code::kMalformed, "bad error code");
    m.code = code;
    break;
  }
  case ControlType::kReady:
    break;
  }
  return m;
}

Result<std::string> encode_control(const ControlMessage& m) {
  std::string out;
  switch (m.type) {
  case ControlType::kRender:
    if (!valid_avatar_id(m.avatar_id)) return err(Code::kInvalidArgument, "bad avatar_id");
    out = std::string(R"({"type":"render","mode":")") + rendering_name(m.mode) +
          R"(","avatar_id":")" + m.avatar_id + "\"}";
    break;
  case ControlType::kEpk:
    if (!m.epk) return err(Code::kInvalidArgument, "epk message without a key");
    out = R"({"type":"epk","jwk":)" + crypto::jwk_from_public(*m.epk) + "}";
    break;
  case ControlType::kAttestation:
    if (!jws_shape(m.jws)) return err(Code::kInvalidArgument, "bad attestation JWS");
    out = R"({"type":"attestation","jws":")" + m.jws + "\"}";
    break;
  case ControlType::kReady:
    out = R"({"type":"ready"})";
    break;
  case ControlType::kError:
    if (!valid_code(m.code)) return err(Code::kInvalidArgument, "bad error code");
    out = R"({"type":"error","code":")" + m.code + "\"}";
    break;
  }
  if (out.size() > kMaxControlMessage) return err(Code::kInvalidArgument, "message too large");
  return out;
}

ControlSession::ControlSession(Role role)
    : role_(role), state_(role == Role::kSender ? State::kIdle : State::kAwaitingOffer) {}

Status ControlSession::unexpected() {
  state_ = State::kFailed;
  return err(Code::kState, "unexpected avatar-control message");
}

Result<std::string> ControlSession::offer(Rendering mode, std::string_view avatar_id) {
  if (role_ != Role::kSender || state_ != State::kIdle)
    return err(Code::kState, "offer: not an idle sender");
  ControlMessage m;
  m.type = ControlType::kRender;
  m.mode = mode;
  m.avatar_id = std::string(avatar_id);
  Result<std::string> text = encode_control(m);
  if (!text.is_ok()) return text;
  mode_ = mode;
  avatar_id_ = m.avatar_id;
  state_ = mode == Rendering::kReceivingUe ? State::kAwaitingKey : State::kAwaitingReady;
  return text;
}

Result<std::string> ControlSession::send_key(const crypto::EcPublicKey& key) {
  if (role_ != Role::kReceiver || state_ != State::kFetch || mode_ != Rendering::kReceivingUe ||
      !attestation_.empty() || peer_key_.has_value())
    return err(Code::kState, "send_key: no receiving-ue offer pending");
  ControlMessage m;
  m.type = ControlType::kEpk;
  m.epk = key;
  Result<std::string> text = encode_control(m);
  if (text.is_ok()) state_ = State::kAwaitingAttest;
  return text;
}

Result<std::string> ControlSession::send_attestation(std::string_view jws) {
  if (role_ != Role::kSender || state_ != State::kAwaitingReady || !peer_key_)
    return err(Code::kState, "send_attestation: no peer key yet");
  ControlMessage m;
  m.type = ControlType::kAttestation;
  m.jws = std::string(jws);
  return encode_control(m);
}

Result<std::string> ControlSession::ready() {
  if (role_ != Role::kReceiver || state_ != State::kFetch)
    return err(Code::kState, "ready: nothing to confirm");
  if (mode_ == Rendering::kReceivingUe && attestation_.empty())
    return err(Code::kState, "ready: no attestation yet");
  state_ = State::kDone;
  return encode_control(ControlMessage{});
}

Result<std::string> ControlSession::fail(std::string_view code) {
  if (state_ == State::kDone || state_ == State::kFailed)
    return err(Code::kState, "fail: session already ended");
  ControlMessage m;
  m.type = ControlType::kError;
  m.code = std::string(code);
  Result<std::string> text = encode_control(m);
  if (text.is_ok()) state_ = State::kFailed;
  return text;
}

Status ControlSession::receive(std::string_view text) {
  if (state_ == State::kDone || state_ == State::kFailed)
    return err(Code::kState, "avatar-control session ended");
  Result<ControlMessage> r = parse_control(text);
  if (!r.is_ok()) {
    state_ = State::kFailed;
    return r.status();
  }
  ControlMessage& m = r.value();
  if (m.type == ControlType::kError) {
    state_ = State::kFailed;
    peer_error_ = m.code;
    return err(Code::kRejected, "peer ended the avatar negotiation");
  }
  if (role_ == Role::kSender) {
    if (state_ == State::kAwaitingKey && m.type == ControlType::kEpk) {
      peer_key_ = m.epk;
      state_ = State::kAwaitingReady; // the caller makes and sends the attestation
      return Status::ok();
    }
    if (state_ == State::kAwaitingReady && m.type == ControlType::kReady &&
        (mode_ != Rendering::kReceivingUe || peer_key_)) {
      state_ = State::kDone;
      return Status::ok();
    }
    return unexpected();
  }
  if (state_ == State::kAwaitingOffer && m.type == ControlType::kRender) {
    mode_ = m.mode;
    avatar_id_ = m.avatar_id;
    state_ = State::kFetch; // receiving-ue: send_key() next; otherwise fetch, then ready()
    return Status::ok();
  }
  if (state_ == State::kAwaitingAttest && m.type == ControlType::kAttestation) {
    attestation_ = m.jws;
    state_ = State::kFetch;
    return Status::ok();
  }
  return unexpected();
}

} // namespace imsdc::avatar
