// RFC 3261 section 17 transaction state machines, reliable-transport subset (see header).
#include "sip/transaction.h"

#include "sip/builder.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

constexpr Status invalid(const char* detail) {
  return Status(Code::kInvalidArgument, Module::kSip, detail);
}

Result<Via> top_via(const Message& m) {
  auto vias = m.header_values("Via");
  if (!vias.is_ok() || vias->empty()) return invalid("no Via");
  return parse_via(vias->front());
}

// Identity of a transaction: the branch, checked for the RFC 3261 magic cookie.
Status transaction_branch(const Message& m, std::string* branch) {
  if (!m.is_request() || m.method() == "ACK")
    return invalid("ACK or response has no transaction of its own");
  auto via = top_via(m);
  if (!via.is_ok()) return invalid("bad top Via");
  if (via->branch.substr(0, 7) != "z9hG4bK") {
    return Status(Code::kUnsupported, Module::kSip, "RFC 2543 transaction matching not supported");
  }
  branch->assign(via->branch);
  return Status::ok();
}

// sent-by as a comparable key: host case-insensitive, absent port kept as 0.
std::string sent_by_key(const Via& via) {
  std::string key;
  for (char c : via.host)
    key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return key + ":" + std::to_string(via.port);
}

Step event(TransactionEvent e, std::string send = std::string()) {
  Step s;
  s.send = std::move(send);
  s.event = e;
  return s;
}

} // namespace

Result<ClientTransaction> ClientTransaction::create(Message request, std::uint64_t now_ms) {
  ClientTransaction t;
  IMSDC_TRY(transaction_branch(request, &t.branch_));
  t.invite_ = request.method() == "INVITE";
  t.state_ = t.invite_ ? TransactionState::kCalling : TransactionState::kTrying;
  t.deadline_ = now_ms + kTransactionTimeoutMs; // Timer B or F
  t.request_ = std::move(request);
  return t;
}

bool ClientTransaction::matches(const Message& response) const {
  if (response.is_request()) return false;
  auto via = top_via(response);
  return via.is_ok() && via->branch == branch_ && response.cseq().method == request_.cseq().method;
}

Result<Step> ClientTransaction::on_response(const Message& response, std::uint64_t now_ms) {
  if (!matches(response)) return invalid("response does not match the transaction");
  int code = response.status_code();
  bool waiting = state_ == TransactionState::kCalling || state_ == TransactionState::kTrying ||
                 state_ == TransactionState::kProceeding;
  if (state_ == TransactionState::kAccepted) {
    // RFC 6026: further 2xx (other forks) still reach the TU, which ACKs each one.
    return code >= 200 && code < 300 ? event(TransactionEvent::kFinal) : Step();
  }
  if (!waiting) return Step();
  if (code < 200) {
    state_ = TransactionState::kProceeding;
    if (invite_) deadline_ = kNoDeadline; // Timer B only runs in Calling
    return event(TransactionEvent::kProvisional);
  }
  if (invite_ && code < 300) {
    state_ = TransactionState::kAccepted;
    deadline_ = now_ms + kTransactionTimeoutMs; // Timer M
    return event(TransactionEvent::kFinal);
  }
  // Final non-2xx (INVITE: Completed, then Timer D = 0) or any final (non-INVITE: Timer K = 0).
  state_ = TransactionState::kTerminated;
  deadline_ = kNoDeadline;
  if (!invite_) return event(TransactionEvent::kFinal);
  auto ack = ack_for_failure(request_, response).build();
  if (!ack.is_ok()) return ack.status();
  return event(TransactionEvent::kFinal, std::move(ack.value()));
}

Result<Step> ClientTransaction::on_timer(std::uint64_t now_ms) {
  if (deadline_ == kNoDeadline || now_ms < deadline_) return Step();
  deadline_ = kNoDeadline;
  bool accepted = state_ == TransactionState::kAccepted;
  state_ = TransactionState::kTerminated;
  return accepted ? Step() : event(TransactionEvent::kTimeout);
}

Step ClientTransaction::on_transport_error() {
  bool waiting = state_ == TransactionState::kCalling || state_ == TransactionState::kTrying ||
                 state_ == TransactionState::kProceeding;
  state_ = TransactionState::kTerminated;
  deadline_ = kNoDeadline;
  return waiting ? event(TransactionEvent::kTransportError) : Step();
}

Result<ServerTransaction> ServerTransaction::create(Message request, std::uint64_t now_ms,
                                                    Step* first) {
  (void)now_ms; // no timer runs before the TU answers
  ServerTransaction t;
  IMSDC_TRY(transaction_branch(request, &t.branch_));
  auto via = top_via(request);
  if (!via.is_ok()) return via.status();
  t.sent_by_ = sent_by_key(via.value());
  t.invite_ = request.method() == "INVITE";
  *first = Step();
  if (t.invite_) {
    t.state_ = TransactionState::kProceeding;
    auto trying = response_for(request, 100, "Trying", "").build();
    if (!trying.is_ok()) return trying.status();
    t.last_response_ = trying.value();
    first->send = std::move(trying.value());
  } else {
    t.state_ = TransactionState::kTrying;
  }
  t.request_ = std::move(request);
  return t;
}

bool ServerTransaction::matches(const Message& request) const {
  if (!request.is_request()) return false;
  auto via = top_via(request);
  if (!via.is_ok() || via->branch != branch_ || sent_by_key(via.value()) != sent_by_) return false;
  return request.method() == request_.method() || (invite_ && request.method() == "ACK");
}

Result<Step> ServerTransaction::on_request(const Message& request, std::uint64_t now_ms) {
  (void)now_ms;
  if (!matches(request)) return invalid("request does not match the transaction");
  if (request.method() == "ACK") {
    if (state_ == TransactionState::kCompleted) {
      // Confirmed, then Timer I = 0 on a reliable transport.
      state_ = TransactionState::kTerminated;
      deadline_ = kNoDeadline;
    }
    return Step();
  }
  // A retransmitted request gets the last response again (none yet in Trying; RFC 6026
  // absorbs it in Accepted, where 2xx retransmission is the TU's business).
  if ((state_ == TransactionState::kProceeding || state_ == TransactionState::kCompleted) &&
      !last_response_.empty()) {
    return event(TransactionEvent::kNone, last_response_);
  }
  return Step();
}

Result<Step> ServerTransaction::send_response(const Message& response, std::uint64_t now_ms) {
  if (response.is_request()) return invalid("not a response");
  auto via = top_via(response);
  if (!via.is_ok() || via->branch != branch_ || response.cseq().number != request_.cseq().number ||
      response.cseq().method != request_.cseq().method) {
    return invalid("response is not for this request");
  }
  if (state_ != TransactionState::kTrying && state_ != TransactionState::kProceeding) {
    return Status(Code::kState, Module::kSip, "final response already sent");
  }
  int code = response.status_code();
  last_response_.assign(response.text());
  if (code < 200) {
    state_ = TransactionState::kProceeding;
  } else if (!invite_) {
    state_ = TransactionState::kTerminated; // Completed, then Timer J = 0
  } else {
    state_ = code < 300 ? TransactionState::kAccepted : TransactionState::kCompleted;
    deadline_ = now_ms + kTransactionTimeoutMs; // Timer L or H
  }
  return event(TransactionEvent::kNone, last_response_);
}

Result<Step> ServerTransaction::on_timer(std::uint64_t now_ms) {
  if (deadline_ == kNoDeadline || now_ms < deadline_) return Step();
  deadline_ = kNoDeadline;
  bool no_ack = state_ == TransactionState::kCompleted;
  state_ = TransactionState::kTerminated;
  return no_ack ? event(TransactionEvent::kTimeout) : Step();
}

Step ServerTransaction::on_transport_error() {
  bool active = state_ != TransactionState::kTerminated;
  state_ = TransactionState::kTerminated;
  deadline_ = kNoDeadline;
  return active ? event(TransactionEvent::kTransportError) : Step();
}

} // namespace imsdc::sip
