// SIP registration over a message transport (PROTOCOL_PROFILE.md section 1), sans-I/O.
//
// A Registration never touches the network, the clock or the OS. The caller feeds it the
// transport's events (open, message, close) and the time, and carries out what each call
// returns in an Output: messages to send, a request to connect or close the transport,
// events for the application and the next deadline at which poll() must run.
//
// Flow: start() asks for a connection; when it opens, a REGISTER without credentials goes
// out; the 401 (or 407) challenge picks the scheme. Digest is answered with the configured
// password (SHA-256 preferred over MD5, qop=auth); a challenge with stale=true is answered
// once more without telling the application; any other 401 after credentials were sent is a
// final kAuthRejected. Bearer is answered with a token from the TokenProvider; a 401 with
// error="invalid_token" asks the provider once for a fresh token and retries, a second one is
// final. 403 is final. 423 retries once with Min-Expires; 503 waits Retry-After (or the
// backoff delay) and retries; other final responses are a kRejected error. Each refresh runs
// the same flow (the server's nonce is not reused, so a refresh never depends on nonce
// lifetime or nonce-count tracking on the server).
//
// A lost transport (close reason NETWORK or NORMAL while not stopping) reports kUnregistered
// when a binding was active, then reconnects after an exponential backoff with jitter and
// registers again. Once a final error has been reported, the Registration asks for the
// transport to be closed and ignores everything else: a server close right after a rejection
// never starts a reconnect loop.
#ifndef IMSDC_SRC_SIP_REGISTRATION_H
#define IMSDC_SRC_SIP_REGISTRATION_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/port/storage.h"
#include "imsdc/port/transport.h"
#include "imsdc/status.h"
#include "sip/auth.h"
#include "sip/builder.h"
#include "sip/transaction.h"

namespace imsdc::sip {

// Storage key of the persisted +sip.instance UUID (RFC 5626 section 4.1).
constexpr const char* kInstanceKey = "sip.instance";

// Supplies bearer tokens. get writes one token into *out. `fresh` is true when the previous
// token was rejected with error="invalid_token": the provider must not return a cached token
// then. Errors: any non-ok Status, which ends the registration with that error.
struct TokenProvider {
  Status (*get)(void* context, bool fresh, SecretBytes* out) = nullptr;
  void* context = nullptr;
};

struct RegistrationConfig {
  // The AoR to register (sip: or sips: URI with a user part), e.g. sip:alice@ims.example. For
  // a third-party (enterprise) identity this is the third-party ID, with a bearer credential.
  std::string impu;
  // Digest username (IMPI). Empty: the IMPU without its scheme ("alice@ims.example").
  std::string impi;
  // Request-URI of the REGISTER. Empty: "sip:" + the IMPU's host.
  std::string registrar;
  CredentialKind credential = CredentialKind::kDigest;
  SecretBytes password;         // kDigest
  TokenProvider token_provider; // kBearer
  std::uint32_t expires_s = 600;
  // Reconnect backoff: the n-th consecutive attempt waits a uniformly jittered delay in
  // [d/2, d] with d = min(backoff_max_ms, backoff_initial_ms * 2^n).
  std::uint64_t backoff_initial_ms = 1000;
  std::uint64_t backoff_max_ms = 30000;
  // Consecutive failed connection or 503 attempts before a final kNetwork / kRejected error.
  std::uint32_t max_retries = 8;
  // When false, a first connection that fails is final (kNetwork) instead of retried: an
  // application that starts with a bad server address learns it at once.
  bool retry_first_connect = false;
  RandomSource random;
  // Where the +sip.instance UUID lives (key kInstanceKey). Null: a new UUID per object.
  const imsdc_port_storage* storage = nullptr;
  // Subscribe to the reg event package (RFC 3680) once registered, so that a
  // network-initiated de-registration or a shortened expiry is noticed (and acted on).
  bool subscribe_reg_event = false;
};

enum class RegistrationEventKind : std::uint8_t {
  kRegistered,   // a binding is active (also after each refresh)
  kUnregistered, // the binding ended: de-registered, or the connection was lost
  kError,        // final: the registration stopped (see status)
};

// kNetwork: the registrar ended the binding (reg event NOTIFY, RFC 3680); the
// registration registers again at once unless the network said "rejected".
enum class UnregisterReason : std::uint8_t { kShutdown, kConnectionLost, kNetwork };

struct RegistrationEvent {
  RegistrationEventKind kind = RegistrationEventKind::kRegistered;
  // kRegistered
  std::uint32_t expires_s = 0;
  std::string contact;   // our binding as the registrar returned it
  std::string pub_gruu;  // empty when the registrar gave none
  std::string temp_gruu; // empty when the registrar gave none
  std::uint32_t flow_timer_s = 0;
  // kUnregistered
  UnregisterReason reason = UnregisterReason::kShutdown;
  // kError: kAuthRejected (401/403 after the retries above, or no usable challenge), kTls,
  // kNetwork (connect failed, lost and not regained, no answer), kRejected (another 3xx-6xx,
  // upgrade refused), or the error of the token provider or the message builder.
  Status status;
  int sip_status = 0;  // the final SIP status behind the event, 0 when none
  int http_status = 0; // the WebSocket upgrade status for a refused upgrade
  std::string sip_reason;
};

enum class TransportAction : std::uint8_t { kNone, kConnect, kClose };

// What the caller must do after one call, in this order: act on `transport` (connect or
// close), send `send` in order (only while the transport is open), deliver `events`, and
// call poll() at `deadline_ms` at the latest.
struct RegistrationOutput {
  TransportAction transport = TransportAction::kNone;
  std::vector<std::string> send;
  std::vector<RegistrationEvent> events;
  std::uint64_t deadline_ms = kNoDeadline;
};

enum class RegistrationState : std::uint8_t {
  kIdle,          // before start()
  kConnecting,    // waiting for on_transport_open
  kRegistering,   // a REGISTER is outstanding
  kRegistered,    // binding active, waiting for the refresh time
  kWaiting,       // waiting to reconnect (transport closed) or to retry (503)
  kUnregistering, // the Expires: 0 REGISTER is outstanding
  kDone,          // stopped after shutdown (no error)
  kFailed,        // stopped after a final error
};

// The part of a reginfo document (RFC 3680 section 5.3) a UE acts on: the state of the
// registration of one AoR and its contacts. Views point into the body.
struct RegInfoContact {
  std::string_view state; // "active" | "terminated"
  std::string_view event; // "registered", "shortened", "deactivated", "rejected", ...
  std::string_view uri;
  std::uint32_t expires = 0;
  bool has_expires = false;
};
struct RegInfo {
  std::string_view state; // of the <registration> element: "init" | "active" | "terminated"
  std::vector<RegInfoContact> contacts;
};
// Most contacts read from one <registration>.
constexpr std::size_t kMaxRegInfoContacts = 16;
// Finds the <registration> element for `aor` in a reginfo+xml body. A scanner, not an XML
// parser: it reads start tags, attribute values in quotes and the <uri> text, ignores
// everything else. Errors: kNotFound (no registration for aor), kMalformed (an unterminated
// tag or element), kTooLarge (more than kMaxRegInfoContacts contacts, or a body over
// IMSDC_MAX_SIP_MESSAGE).
Result<RegInfo> parse_reginfo(std::string_view body, std::string_view aor);

class Registration {
public:
  // Validates the configuration and loads (or creates and stores) the instance UUID.
  // Errors: kInvalidArgument (IMPU not a sip/sips URI with a user, empty password for
  // digest, no token provider for bearer, no random source, expires_s 0, backoff values 0 or
  // initial > max), kIo (the storage port failed to read or store the UUID), the error of
  // the random source.
  static Result<Registration> create(RegistrationConfig config);

  // Begins: asks for the transport. Errors: none (a second call returns an empty output).
  RegistrationOutput start(std::uint64_t now_ms);
  // The transport opened: sends the REGISTER.
  RegistrationOutput on_transport_open(std::uint64_t now_ms);
  // One message from the transport. Unparseable messages, requests and responses that match
  // no outstanding REGISTER are dropped (the Client routes requests elsewhere).
  RegistrationOutput on_message(ByteSpan message, std::uint64_t now_ms);
  // The transport closed or failed to open; reason is an imsdc_transport_close_reason.
  RegistrationOutput on_transport_closed(int reason, int http_status, std::uint64_t now_ms);
  // Runs due timers (refresh, retry, reconnect, transaction timeout).
  RegistrationOutput poll(std::uint64_t now_ms);
  // Orderly end: de-registers (Expires: 0) when a binding may be active, then asks to close.
  // Reports kUnregistered (reason kShutdown) once done, also when the de-registration fails.
  RegistrationOutput shutdown(std::uint64_t now_ms);

  RegistrationState state() const { return state_; }
  bool finished() const {
    return state_ == RegistrationState::kDone || state_ == RegistrationState::kFailed;
  }
  // The instance UUID (without "urn:uuid:").
  const std::string& instance_uuid() const { return uuid_; }
  // Our contact URI without parameters of the binding ("sip:alice@<random>.invalid;
  // transport=ws") and the random host of our Via: calls over the same transport use both.
  std::string contact_uri() const { return "sip:" + user_ + "@" + host_ + ";transport=ws"; }
  const std::string& via_host() const { return host_; }
  // The deadline of the last output (kNoDeadline when none).
  std::uint64_t deadline_ms() const { return deadline_; }

  // Delay before refreshing a binding granted for expires_s seconds: the earlier of half
  // the expiry and expiry - 30 s; for expiries of 30 s and less, half the expiry.
  static std::uint64_t refresh_delay_ms(std::uint32_t expires_s);

private:
  explicit Registration(RegistrationConfig config);
  Status load_instance();
  RegistrationOutput begin_output() const;
  void finish(RegistrationOutput* out);
  Status send_register(RegistrationOutput* out, std::uint64_t now_ms, std::uint32_t expires,
                       const std::string& authorization_header, const std::string& authorization);
  void handle_response(const Message& response, RegistrationOutput* out, std::uint64_t now_ms);
  void handle_challenge(const Message& response, RegistrationOutput* out, std::uint64_t now_ms);
  void handle_success(const Message& response, RegistrationOutput* out, std::uint64_t now_ms);
  void fail(RegistrationOutput* out, Status status, int sip_status, std::string_view reason,
            int http_status = 0);
  void lose_transport(RegistrationOutput* out, std::uint64_t now_ms, Status why);
  void schedule_retry(RegistrationOutput* out, std::uint64_t now_ms, std::uint64_t delay_ms,
                      bool reconnect);
  std::uint64_t backoff_delay_ms();
  void new_cycle();
  std::uint64_t next_deadline() const;
  void send_subscribe(RegistrationOutput* out, std::uint64_t now_ms);
  void handle_notify(const Message& notify, RegistrationOutput* out, std::uint64_t now_ms);
  std::uint32_t current_expires() const;

  RegistrationConfig config_;
  std::string uuid_;
  std::string host_; // random ".invalid" host of Via and Contact
  std::string user_; // user part of the IMPU
  std::string aor_;  // "<impu>"
  std::string call_id_;
  std::string from_tag_;
  std::string contact_;
  std::uint32_t cseq_ = 0;
  std::uint32_t expires_s_ = 0; // requested in the next REGISTER
  RegistrationState state_ = RegistrationState::kIdle;
  std::optional<ClientTransaction> transaction_;
  bool transport_open_ = false;
  bool bound_ = false; // a binding was reported and not yet reported as ended
  bool ever_registered_ = false;
  bool retry_reconnects_ = false; // the pending kWaiting timer reconnects (else re-sends)
  bool stopping_ = false;         // shutdown() was called
  // Per registration cycle (reset by a 2xx and by each new refresh)
  bool credentials_sent_ = false;
  bool stale_retry_used_ = false;
  bool fresh_token_used_ = false;
  bool interval_retry_used_ = false;
  std::uint32_t retries_ = 0; // consecutive failed connects / 503s
  std::uint64_t timer_ = kNoDeadline;
  std::uint64_t deadline_ = kNoDeadline;
  // reg event subscription (RFC 3680): a dialog of its own
  std::optional<ClientTransaction> sub_tx_;
  std::string sub_call_id_;
  std::string sub_tag_;        // our From tag
  std::string sub_remote_tag_; // the notifier's tag, from the 2xx or the first NOTIFY
  std::uint32_t sub_cseq_ = 0;
  bool subscribed_ = false;
};

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_REGISTRATION_H
