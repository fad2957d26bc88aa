// The avatar-control channel between the two UEs (PROTOCOL_PROFILE.md section 6): a reliable,
// ordered P2P application data channel labelled "avatar-control", subprotocol
// "imsdc-avatar", carrying one JSON message per DC message (at most 16 KiB):
//   {"type":"render","mode":"network|sending-ue|receiving-ue","avatar_id":"…"}  (UE-A offers)
//   {"type":"epk","jwk":{…}}            (UE-B's ephemeral public key, for receiving-ue)
//   {"type":"attestation","jws":"…"}    (UE-A's attestation naming that key)
//   {"type":"ready"}                    (the receiver has what it needs)
//   {"type":"error","code":"…"}         (the negotiation ends)
// Codec plus a small sans-I/O negotiation for each side; the caller moves the texts over the
// channel and does the BAR fetch itself.
#ifndef IMSDC_SRC_AVATAR_CONTROL_H
#define IMSDC_SRC_AVATAR_CONTROL_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "avatar/tokens.h"
#include "imsdc/crypto.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

constexpr const char* kControlLabel = "avatar-control";
constexpr const char* kControlProtocol = "imsdc-avatar";
constexpr std::size_t kMaxControlMessage = 16 * 1024;

enum class ControlType : std::uint8_t { kRender, kEpk, kAttestation, kReady, kError };

struct ControlMessage {
  ControlType type = ControlType::kReady;
  Rendering mode = Rendering::kNetwork;   // kRender
  std::string avatar_id;                  // kRender
  std::optional<crypto::EcPublicKey> epk; // kEpk (checked on P-256)
  std::string jws;                        // kAttestation (compact JWS text, not verified here)
  std::string code;                       // kError: a token of [a-z0-9_], at most 64
};

// Errors: kMalformed (not one of the shapes above, unknown type or mode, bad avatar id or
// error code, extra or duplicate members), kBadKey (epk not a P-256 point), kTooLarge.
Result<ControlMessage> parse_control(std::string_view text);
// Errors: kInvalidArgument (a field that parse_control would refuse).
Result<std::string> encode_control(const ControlMessage& message);

// UE-A: offers a rendering; for receiving-ue waits for UE-B's key and answers with an
// attestation naming it (made by the caller's `attest` step); done when UE-B says ready.
// UE-B: accepts or refuses the offer; for receiving-ue sends its fresh key, then takes the
// attestation; done after the caller fetched and sends ready (or error).
class ControlSession {
public:
  enum class Role : std::uint8_t { kSender, kReceiver };
  enum class State : std::uint8_t {
    kIdle,
    kOffered,        // sender: render sent
    kAwaitingKey,    // sender: waits for UE-B's epk
    kAwaitingReady,  // sender: attestation (or render) sent, waits for ready
    kAwaitingOffer,  // receiver: waits for render
    kAwaitingAttest, // receiver: epk sent, waits for the attestation
    kFetch,          // receiver: offer (and for receiving-ue the attestation) taken; the
                     // caller sends its key first (receiving-ue, before the attestation),
                     // fetches with the attestation, then ready() or fail()
    kDone,
    kFailed,
  };
  explicit ControlSession(Role role);

  // Sender: the render offer to send. Errors: kState, kInvalidArgument.
  Result<std::string> offer(Rendering mode, std::string_view avatar_id);
  // Receiver, after a receiving-ue offer arrived: the epk message with its fresh ephemeral
  // public key. Errors: kState.
  Result<std::string> send_key(const crypto::EcPublicKey& key);
  // Sender, after the peer's key arrived: the attestation message. Errors: kState.
  Result<std::string> send_attestation(std::string_view jws);
  // Receiver: the fetch worked (ready) or failed (error with code). Errors: kState.
  Result<std::string> ready();
  Result<std::string> fail(std::string_view code);

  // One received message. Errors: as parse_control; kState (a message this state does not
  // expect: the session fails); kRejected (the peer sent an error; code in peer_error()).
  Status receive(std::string_view text);

  State state() const { return state_; }
  Rendering mode() const { return mode_; }
  const std::string& avatar_id() const { return avatar_id_; }
  // The peer's key (sender, receiving-ue) and attestation (receiver), once received.
  const std::optional<crypto::EcPublicKey>& peer_key() const { return peer_key_; }
  const std::string& attestation() const { return attestation_; }
  const std::string& peer_error() const { return peer_error_; }

private:
  Status unexpected();
  Role role_;
  State state_;
  Rendering mode_ = Rendering::kNetwork;
  std::string avatar_id_;
  std::optional<crypto::EcPublicKey> peer_key_;
  std::string attestation_;
  std::string peer_error_;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_CONTROL_H
