// Sans-I/O ICE agent (RFC 8445 subset) for the one component of an IMS data-channel m-line:
// the caller feeds received STUN datagrams with their addresses and the time, polls timers,
// and takes the datagrams to send with the local candidate to send them from. No socket, no
// thread, no clock here; callbacks run inside feed()/poll().
//
// What it does:
// - Host candidates only: the caller binds one UDP socket per local address and passes the
//   bound addresses. Remote candidates come from the SDP (UDP, component 1, IP literals;
//   mDNS names and TCP candidates are skipped); peer-reflexive ones are learnt from checks.
// - Connectivity checks in both roles with the tie-breaker (487 Role Conflict, RFC 8445
//   section 7.3.1.1); every pair starts Waiting (one component, so no freezing); a new check
//   every Ta, triggered checks first; retransmissions with a doubling RTO, then the pair
//   fails.
// - Regular nomination (RFC 8445 section 8.1.1), not aggressive: the controlling agent
//   waits until no higher-priority pair can still succeed (or nomination_wait_ms after the
//   first valid pair), then repeats the check of the best valid pair with USE-CANDIDATE;
//   its success selects the pair. The controlled agent selects the highest-priority pair
//   nominated to it. Against an ice-lite peer (which never checks) a full agent is always
//   controlling (RFC 8445 section 6.1.1).
// - Consent freshness (RFC 7675): once connected, a check on the selected pair every
//   consent_interval_ms (randomised +-20 %); no answer for consent_timeout_ms fails the
//   agent. Only authenticated responses refresh consent.
// - Fails cleanly (state kFailed, Code::kTimeout) when every pair failed or nothing was
//   selected within connect_timeout_ms.
//
// Security: every check and response carries MESSAGE-INTEGRITY (short-term credentials:
// the password of the agent that answers) and FINGERPRINT; messages without a valid
// FINGERPRINT are dropped, requests without valid integrity are answered 400/401 and change
// no state, responses without valid integrity are ignored. Passwords never reach the log.
// Memory is bounded by max_pairs, max_remote_candidates and the output queue.
#ifndef IMSDC_SRC_ICE_AGENT_H
#define IMSDC_SRC_ICE_AGENT_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ice/stun.h"
#include "imsdc/bytes.h"
#include "imsdc/crypto.h"
#include "imsdc/port/net.h"
#include "imsdc/status.h"
#include "sdp/negotiate.h"

namespace imsdc::ice {

// Parses an IPv4 dotted quad or an IPv6 literal (RFC 4291 text form, "::" allowed, no
// zone, no embedded IPv4) into *out with `port`. False when it is neither (e.g. an mDNS name).
bool parse_ip(std::string_view text, std::uint16_t port, imsdc_port_addr* out);
// "192.0.2.1:5000" or "[2001:db8::1]:5000" (no compression of zero runs beyond the first).
std::string to_string(const imsdc_port_addr& a);
// Same family, address and port.
bool same_address(const imsdc_port_addr& a, const imsdc_port_addr& b);
// The address alone: "192.0.2.1" or "2001:db8::1" (no port, no brackets), as SDP writes it.
std::string host_string(const imsdc_port_addr& a);

// Our half of a data-channel SDP on the bound UDP addresses `locals` (the first gives o=, c=
// and the m-line port): the sha-256 fingerprint of the device certificate, a fresh tls-id,
// max_message as a=max-message-size, and with `ice` fresh credentials (8 and 24 characters
// from the DRBG, RFC 8445 section 5.3) and one host candidate per address (foundation i+1,
// Agent::host_priority(i)). Errors: kInvalidArgument (no address, more than 8), kEntropy.
Result<sdp::LocalEndpoint> local_endpoint(const std::vector<imsdc_port_addr>& locals,
                                          const crypto::Digest& cert_sha256,
                                          std::uint32_t max_message, bool ice);

enum class Role : std::uint8_t { kControlling, kControlled };
enum class AgentState : std::uint8_t { kIdle, kChecking, kConnected, kFailed, kClosed };
enum class PairState : std::uint8_t { kWaiting, kInProgress, kSucceeded, kFailed };

struct AgentConfig {
  // Offerer: controlling; answerer: controlled (RFC 8445 section 6.1.1). May change on a
  // role conflict, and is forced to controlling against an ice-lite peer.
  Role role = Role::kControlling;
  // Our ICE credentials, as written into our SDP (ufrag >= 4, pwd >= 22 characters).
  sdp::IceParams local;
  // Bound addresses of our UDP sockets, best first (1 to 8).
  std::vector<imsdc_port_addr> local_candidates;
  // Tie-breaker; unset: 64 random bits from the SDK's DRBG.
  std::optional<std::uint64_t> tie_breaker;
  std::uint32_t ta_ms = 50;           // pacing of new checks (RFC 8445 section 14.2)
  std::uint32_t rto_initial_ms = 250; // first retransmission of a check
  std::uint32_t rto_max_ms = 2000;    // RTO doubles up to this
  std::uint32_t max_transmissions = 7;
  std::uint32_t nomination_wait_ms = 500;
  std::uint32_t connect_timeout_ms = 15000;
  std::uint32_t consent_interval_ms = 5000; // 0: no consent checks
  std::uint32_t consent_timeout_ms = 30000;
  std::size_t max_pairs = 32;
  std::size_t max_remote_candidates = 16;
  std::size_t max_out_datagrams = 64;
};

struct CandidatePair {
  imsdc_port_addr local{};
  imsdc_port_addr remote{};
  std::uint64_t priority = 0;
  PairState state = PairState::kWaiting;
  bool nominated = false;
  bool peer_reflexive = false; // remote learnt from a check, not from the SDP
};

struct AgentCallbacks {
  void* ctx = nullptr;
  // kConnected (a pair is selected), kFailed (with the reason), kClosed.
  void (*on_state)(void* ctx, AgentState state, Status status) = nullptr;
};

class Agent {
public:
  // Errors: kInvalidArgument (no or more than 8 local candidates, bad credentials, zero
  // timers or bounds), kEntropy (no random tie-breaker).
  static Result<std::unique_ptr<Agent>> create(const AgentConfig& config,
                                               const AgentCallbacks& callbacks);

  // Priority of our index-th host candidate (RFC 8445 section 5.1.2.1), as the SDP must
  // announce it: type preference 126, local preference 65535 - index, component 1.
  static std::uint32_t host_priority(std::size_t index);

  // The peer's credentials and candidates (sdp::Negotiated::remote_ice, remote_candidates,
  // remote_ice_lite). Unusable candidates are skipped, not errors. Errors: kInvalidArgument
  // (no ufrag/pwd), kState (already set).
  Status set_remote(const sdp::IceParams& ice, const std::vector<sdp::Candidate>& candidates,
                    bool ice_lite);
  Status set_remote(const sdp::Negotiated& negotiated) {
    return set_remote(negotiated.remote_ice, negotiated.remote_candidates,
                      negotiated.remote_ice_lite);
  }

  // Starts the checks (set_remote first). Errors: kState.
  Status start(std::uint64_t now_ms);

  // One STUN datagram received on the socket bound to `local` from `from` (demultiplex with
  // classify() first). Errors for this datagram only, the agent goes on: kMalformed (not
  // STUN, no FINGERPRINT), kAuthFailed (bad integrity), kNotFound (a response to no check
  // of ours), kState (closed).
  Status feed(ByteSpan datagram, const imsdc_port_addr& from, const imsdc_port_addr& local,
              std::uint64_t now_ms);
  // Runs the timers. Errors: kState after close().
  Status poll(std::uint64_t now_ms);
  // Next instant poll() has work, or UINT64_MAX.
  std::uint64_t next_deadline() const;
  // The oldest datagram to send, its destination and the local candidate (socket) to send
  // it from; false when none is queued.
  bool take_datagram(Bytes* out, imsdc_port_addr* to, imsdc_port_addr* from);

  // Stops all checks; state kClosed. Idempotent.
  void close();

  AgentState state() const { return state_; }
  Role role() const { return role_; }
  Status error() const { return error_; }
  // The selected pair once connected, else null.
  const CandidatePair* selected() const;
  const std::vector<CandidatePair>& pairs() const { return pairs_; }
  // Counters for tests and diagnostics.
  std::size_t checks_sent() const { return checks_sent_; }
  std::size_t role_conflicts() const { return role_conflicts_; }

  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

private:
  struct Transaction {
    TransactionId id{};
    std::size_t pair = 0;
    Bytes request;
    std::uint64_t next_at = 0;
    std::uint32_t rto = 0;
    std::uint32_t sent = 0;
    bool use_candidate = false;
    bool consent = false;
    bool controlling = false; // role the request was sent in
  };
  struct Outgoing {
    Bytes data;
    imsdc_port_addr to{};
    imsdc_port_addr from{};
  };
  struct PairExtra {
    std::uint32_t remote_priority = 0;
    bool nominate_on_success = false; // controlled: USE-CANDIDATE seen before success
    bool nominating = false;          // controlling: USE-CANDIDATE check in flight
  };

  Agent(const AgentConfig& config, const AgentCallbacks& callbacks);
  std::uint64_t pair_priority(std::size_t local_index, std::uint32_t remote_priority) const;
  void recompute_priorities();
  std::optional<std::size_t> local_index(const imsdc_port_addr& a) const;
  std::optional<std::size_t> find_pair(std::size_t local, const imsdc_port_addr& remote) const;
  std::optional<std::size_t> add_pair(std::size_t local, const imsdc_port_addr& remote,
                                      std::uint32_t remote_priority, bool prflx);
  void handle_request(ByteSpan d, const StunMessage& m, const imsdc_port_addr& from,
                      std::size_t local, std::uint64_t now);
  Status handle_response(ByteSpan d, const StunMessage& m, const imsdc_port_addr& from,
                         const imsdc_port_addr& local, std::uint64_t now);
  void send_error(const StunMessage& req, std::uint16_t code, const char* reason,
                  const imsdc_port_addr& to, std::size_t local, bool with_integrity);
  Status send_check(std::size_t pair, bool use_candidate, bool consent, std::uint64_t now);
  void queue(Bytes data, const imsdc_port_addr& to, const imsdc_port_addr& from);
  void maybe_nominate(std::uint64_t now);
  void select(std::size_t pair, std::uint64_t now);
  void fail(Status why);
  void check_failure(std::uint64_t now);
  void schedule_consent(std::uint64_t now);

  AgentConfig config_;
  AgentCallbacks callbacks_;
  Role role_;
  std::uint64_t tie_breaker_ = 0;
  sdp::IceParams remote_;
  bool remote_set_ = false;
  bool remote_lite_ = false;
  AgentState state_ = AgentState::kIdle;
  Status error_;
  std::vector<CandidatePair> pairs_;
  std::vector<PairExtra> extra_;
  std::vector<std::size_t> triggered_;
  std::vector<Transaction> transactions_;
  std::vector<Outgoing> out_;
  std::size_t remote_candidates_ = 0;
  std::optional<std::size_t> selected_;
  std::uint64_t started_at_ = 0;
  std::uint64_t next_check_at_ = 0;
  std::uint64_t first_valid_at_ = 0;
  std::uint64_t next_consent_at_ = 0;
  std::uint64_t last_consent_ = 0;
  std::size_t checks_sent_ = 0;
  std::size_t role_conflicts_ = 0;
};

} // namespace imsdc::ice

#endif // IMSDC_SRC_ICE_AGENT_H
