// SIP transactions (RFC 3261 section 17, with the RFC 6026 "Accepted" state) for a reliable
// transport: imsdc only speaks SIP over (secure) WebSocket, so there are no retransmission
// timers (A, E, G), and the wait timers D, I, J, K are zero. Timers B, F, H, L and M are
// 64*T1 = 32 s.
//
// Sans-I/O: a transaction never sends, reads a clock or calls back. Each input (a message,
// the time, a transport error) returns a Step: at most one message for the caller to send
// and at most one event for the transaction user (TU). The caller arms one timer at
// deadline_ms() and calls on_timer() when it passes. A Terminated transaction can be
// dropped. Matching (section 17.1.3 / 17.2.3) needs the RFC 3261 branch magic cookie;
// RFC 2543 peers are not supported.
#ifndef IMSDC_SRC_SIP_TRANSACTION_H
#define IMSDC_SRC_SIP_TRANSACTION_H

#include <cstdint>
#include <string>

#include "imsdc/status.h"
#include "sip/message.h"

namespace imsdc::sip {

constexpr std::uint64_t kT1Ms = 500;
constexpr std::uint64_t kTransactionTimeoutMs = 64 * kT1Ms; // Timers B, F, H, L, M
constexpr std::uint64_t kNoDeadline = ~std::uint64_t{0};

enum class TransactionState : std::uint8_t {
  kCalling,
  kTrying,
  kProceeding,
  kCompleted,
  kConfirmed,
  kAccepted,
  kTerminated,
};

enum class TransactionEvent : std::uint8_t {
  kNone,
  kProvisional,    // client: a 1xx for the TU (the input message)
  kFinal,          // client: a final response for the TU (the input message)
  kTimeout,        // client: Timer B/F, no final response; server: Timer H, no ACK
  kTransportError, // the caller reported that the transport failed
};

// What the caller must do after one input.
struct Step {
  std::string send; // a message to send now; empty when none
  TransactionEvent event = TransactionEvent::kNone;
};

// Client transaction for one request the TU sends (INVITE or non-INVITE, not ACK).
class ClientTransaction {
public:
  // Takes the parsed request the TU built; the caller sends request().text() right away.
  // Errors: kInvalidArgument (a response or an ACK), kUnsupported (top Via branch without
  // the z9hG4bK magic cookie).
  static Result<ClientTransaction> create(Message request, std::uint64_t now_ms);

  // RFC 3261 section 17.1.3: same top Via branch and same CSeq method.
  bool matches(const Message& response) const;
  // Feeds a matching response. 1xx -> kProvisional; 2xx -> kFinal (INVITE: Accepted state,
  // later 2xx from other forks are also kFinal); 3xx-6xx -> kFinal, and for INVITE the step
  // carries the ACK to send. Responses the state no longer expects give an empty step.
  // Errors: kInvalidArgument (not a response, or not matching).
  Result<Step> on_response(const Message& response, std::uint64_t now_ms);
  // Fires due timers. Errors: none today; Result keeps the interface uniform.
  Result<Step> on_timer(std::uint64_t now_ms);
  // The transport failed (section 17.1.4): terminate and tell the TU, unless already done.
  Step on_transport_error();

  TransactionState state() const { return state_; }
  std::uint64_t deadline_ms() const { return deadline_; }
  const Message& request() const { return request_; }

private:
  ClientTransaction() = default;
  Message request_;
  std::string branch_;
  bool invite_ = false;
  TransactionState state_ = TransactionState::kTerminated;
  std::uint64_t deadline_ = kNoDeadline;
};

// Server transaction for one request received (INVITE or non-INVITE, not ACK).
class ServerTransaction {
public:
  // Takes the parsed request. For INVITE, *first carries a 100 Trying to send at once
  // (section 17.2.1: the TU may take longer than 200 ms). Errors: kInvalidArgument (a
  // response or an ACK), kUnsupported (no z9hG4bK branch).
  static Result<ServerTransaction> create(Message request, std::uint64_t now_ms, Step* first);

  // RFC 3261 section 17.2.3: same branch and sent-by, and the same method (an ACK matches
  // the INVITE transaction).
  bool matches(const Message& request) const;
  // Feeds a matching retransmission or ACK: a retransmission gets the last response again,
  // an ACK confirms a non-2xx final response. Errors: kInvalidArgument (not matching).
  Result<Step> on_request(const Message& request, std::uint64_t now_ms);
  // Sends the TU's response (built with response_for and parsed). Errors: kInvalidArgument
  // (not a response to this request), kState (a final response was already sent).
  Result<Step> send_response(const Message& response, std::uint64_t now_ms);
  // Fires due timers (Timer H -> kTimeout, Timer L -> terminated). Errors: none today.
  Result<Step> on_timer(std::uint64_t now_ms);
  Step on_transport_error();

  TransactionState state() const { return state_; }
  std::uint64_t deadline_ms() const { return deadline_; }
  const Message& request() const { return request_; }

private:
  ServerTransaction() = default;
  Message request_;
  std::string branch_;
  std::string sent_by_;
  std::string last_response_;
  bool invite_ = false;
  TransactionState state_ = TransactionState::kTerminated;
  std::uint64_t deadline_ = kNoDeadline;
};

} // namespace imsdc::sip

#endif // IMSDC_SRC_SIP_TRANSACTION_H
