// Transaction state machines over a reliable transport, driven by a virtual clock.
#include <gtest/gtest.h>

#include <string>

#include "sip/builder.h"
#include "sip/transaction.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

Message parse(const std::string& text) {
  auto m = parse_message(ByteSpan(text));
  EXPECT_TRUE(m.is_ok()) << m.status().message() << "\n" << text;
  return m.value();
}

Message request(const char* method, const char* branch = "z9hG4bKt1") {
  return parse(MessageBuilder::request(method, "sip:bob@ims.example")
                   .header("Via", std::string("SIP/2.0/WSS a.invalid;branch=") + branch)
                   .header("Max-Forwards", "70")
                   .header("From", "<sip:alice@ims.example>;tag=a1")
                   .header("To", "<sip:bob@ims.example>")
                   .header("Call-ID", "call-1")
                   .header("CSeq", std::string("5 ") + method)
                   .build()
                   .value());
}

Message response(const Message& req, int code, const char* reason = "X") {
  return parse(response_for(req, code, reason, "b1").build().value());
}

TEST(SipTransaction, InviteClientFailureSendsAck) {
  Message invite = request("INVITE");
  auto t = ClientTransaction::create(invite, 1000);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->state(), TransactionState::kCalling);
  EXPECT_EQ(t->deadline_ms(), 1000 + 32000u);

  auto ringing = t->on_response(response(invite, 180, "Ringing"), 1100);
  ASSERT_TRUE(ringing.is_ok());
  EXPECT_EQ(ringing->event, TransactionEvent::kProvisional);
  EXPECT_TRUE(ringing->send.empty());
  EXPECT_EQ(t->state(), TransactionState::kProceeding);
  EXPECT_EQ(t->deadline_ms(), kNoDeadline); // Timer B stops in Proceeding

  auto busy = t->on_response(response(invite, 486, "Busy Here"), 1200);
  ASSERT_TRUE(busy.is_ok());
  EXPECT_EQ(busy->event, TransactionEvent::kFinal);
  Message ack = parse(busy->send);
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.header("CSeq"), "5 ACK");
  EXPECT_EQ(parse_via(ack.header("Via"))->branch, "z9hG4bKt1");
  EXPECT_EQ(ack.header("To"), "<sip:bob@ims.example>;tag=b1");
  EXPECT_EQ(t->state(), TransactionState::kTerminated); // Timer D = 0 on WSS
}

TEST(SipTransaction, InviteClientSuccessAndForks) {
  Message invite = request("INVITE");
  auto t = ClientTransaction::create(invite, 0);
  ASSERT_TRUE(t.is_ok());
  auto ok = t->on_response(response(invite, 200, "OK"), 10);
  EXPECT_EQ(ok->event, TransactionEvent::kFinal);
  EXPECT_TRUE(ok->send.empty()); // the TU ACKs a 2xx itself
  EXPECT_EQ(t->state(), TransactionState::kAccepted);
  EXPECT_EQ(t->on_response(response(invite, 200, "OK"), 20)->event, TransactionEvent::kFinal);
  EXPECT_EQ(t->on_response(response(invite, 486, "Busy"), 30)->event, TransactionEvent::kNone);
  EXPECT_EQ(t->on_timer(10 + 31999)->event, TransactionEvent::kNone);
  EXPECT_EQ(t->state(), TransactionState::kAccepted);
  EXPECT_EQ(t->on_timer(10 + 32000)->event, TransactionEvent::kNone); // Timer M
  EXPECT_EQ(t->state(), TransactionState::kTerminated);
}

TEST(SipTransaction, ClientTimeouts) {
  for (const char* method : {"INVITE", "REGISTER"}) {
    SCOPED_TRACE(method);
    auto t = ClientTransaction::create(request(method), 500);
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ(t->on_timer(500 + 31999)->event, TransactionEvent::kNone);
    auto fired = t->on_timer(500 + 32000);
    EXPECT_EQ(fired->event, TransactionEvent::kTimeout); // Timer B / F
    EXPECT_EQ(t->state(), TransactionState::kTerminated);
    EXPECT_EQ(t->deadline_ms(), kNoDeadline);
  }
  // Timer F keeps running in Proceeding for non-INVITE.
  Message reg = request("REGISTER");
  auto t = ClientTransaction::create(reg, 0);
  EXPECT_EQ(t->on_response(response(reg, 100, "Trying"), 5)->event, TransactionEvent::kProvisional);
  EXPECT_EQ(t->deadline_ms(), 32000u);
  EXPECT_EQ(t->on_timer(32000)->event, TransactionEvent::kTimeout);
}

TEST(SipTransaction, NonInviteClientFinal) {
  Message reg = request("REGISTER");
  auto t = ClientTransaction::create(reg, 0);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->state(), TransactionState::kTrying);
  auto unauthorized = t->on_response(response(reg, 401, "Unauthorized"), 3);
  EXPECT_EQ(unauthorized->event, TransactionEvent::kFinal);
  EXPECT_TRUE(unauthorized->send.empty());              // no ACK outside INVITE
  EXPECT_EQ(t->state(), TransactionState::kTerminated); // Timer K = 0
  EXPECT_EQ(t->on_response(response(reg, 401, "Unauthorized"), 4)->event, TransactionEvent::kNone);
}

TEST(SipTransaction, ClientMatching) {
  Message reg = request("REGISTER");
  auto t = ClientTransaction::create(reg, 0);
  ASSERT_TRUE(t.is_ok());
  Message other_branch = response(request("REGISTER", "z9hG4bKt2"), 200, "OK");
  EXPECT_FALSE(t->matches(other_branch));
  EXPECT_EQ(t->on_response(other_branch, 1).status().code(), Code::kInvalidArgument);
  Message other_method = response(request("OPTIONS"), 200, "OK"); // same branch, CSeq OPTIONS
  EXPECT_FALSE(t->matches(other_method));
  EXPECT_FALSE(t->matches(reg)); // a request is never a response
  EXPECT_TRUE(t->matches(response(reg, 200, "OK")));

  EXPECT_EQ(ClientTransaction::create(request("ACK"), 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ClientTransaction::create(request("INVITE", "oldstyle1"), 0).status().code(),
            Code::kUnsupported);
  EXPECT_EQ(ClientTransaction::create(response(reg, 200), 0).status().code(),
            Code::kInvalidArgument);
}

TEST(SipTransaction, ClientTransportError) {
  auto t = ClientTransaction::create(request("REGISTER"), 0);
  EXPECT_EQ(t->on_transport_error().event, TransactionEvent::kTransportError);
  EXPECT_EQ(t->state(), TransactionState::kTerminated);
  EXPECT_EQ(t->on_transport_error().event, TransactionEvent::kNone);
}

TEST(SipTransaction, InviteServerFailureWaitsForAck) {
  Message invite = request("INVITE");
  Step first;
  auto t = ServerTransaction::create(invite, 0, &first);
  ASSERT_TRUE(t.is_ok());
  Message trying = parse(first.send);
  EXPECT_EQ(trying.status_code(), 100);
  EXPECT_EQ(t->state(), TransactionState::kProceeding);

  // A retransmitted INVITE gets the last provisional again.
  EXPECT_EQ(t->on_request(invite, 10)->send, first.send);

  auto ringing = t->send_response(response(invite, 180, "Ringing"), 20);
  ASSERT_TRUE(ringing.is_ok());
  EXPECT_EQ(parse(ringing->send).status_code(), 180);
  auto busy = t->send_response(response(invite, 486, "Busy Here"), 30);
  ASSERT_TRUE(busy.is_ok());
  EXPECT_EQ(t->state(), TransactionState::kCompleted);
  EXPECT_EQ(t->deadline_ms(), 30 + 32000u); // Timer H
  EXPECT_EQ(t->send_response(response(invite, 200, "OK"), 40).status().code(), Code::kState);
  EXPECT_EQ(t->on_request(invite, 50)->send, busy->send);

  Message ack = parse(ack_for_failure(invite, parse(busy->send)).build().value());
  EXPECT_TRUE(t->matches(ack));
  EXPECT_EQ(t->on_request(ack, 60)->event, TransactionEvent::kNone);
  EXPECT_EQ(t->state(), TransactionState::kTerminated); // Confirmed, Timer I = 0
}

TEST(SipTransaction, InviteServerTimerH) {
  Message invite = request("INVITE");
  Step first;
  auto t = ServerTransaction::create(invite, 0, &first);
  ASSERT_TRUE(t->send_response(response(invite, 603, "Decline"), 100).is_ok());
  EXPECT_EQ(t->on_timer(100 + 32000)->event, TransactionEvent::kTimeout);
  EXPECT_EQ(t->state(), TransactionState::kTerminated);
}

TEST(SipTransaction, InviteServerSuccess) {
  Message invite = request("INVITE");
  Step first;
  auto t = ServerTransaction::create(invite, 0, &first);
  auto ok = t->send_response(response(invite, 200, "OK"), 5);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(t->state(), TransactionState::kAccepted);
  EXPECT_TRUE(t->on_request(invite, 6)->send.empty());               // absorbed (RFC 6026)
  EXPECT_EQ(t->on_timer(5 + 32000)->event, TransactionEvent::kNone); // Timer L
  EXPECT_EQ(t->state(), TransactionState::kTerminated);
}

TEST(SipTransaction, NonInviteServer) {
  Message options = request("OPTIONS");
  Step first;
  auto t = ServerTransaction::create(options, 0, &first);
  ASSERT_TRUE(t.is_ok());
  EXPECT_TRUE(first.send.empty());
  EXPECT_EQ(t->state(), TransactionState::kTrying);
  EXPECT_TRUE(t->on_request(options, 1)->send.empty()); // nothing to repeat yet
  auto ok = t->send_response(response(options, 200, "OK"), 2);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(parse(ok->send).status_code(), 200);
  EXPECT_EQ(t->state(), TransactionState::kTerminated); // Timer J = 0

  // Matching: branch, sent-by and method.
  Step f2;
  auto t2 = ServerTransaction::create(request("MESSAGE"), 0, &f2);
  EXPECT_FALSE(t2->matches(request("MESSAGE", "z9hG4bKother")));
  EXPECT_FALSE(t2->matches(request("ACK"))); // ACK only matches INVITE transactions
  EXPECT_EQ(t2->send_response(response(request("MESSAGE", "z9hG4bKother"), 200), 1).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(t2->on_transport_error().event, TransactionEvent::kTransportError);
  EXPECT_EQ(ServerTransaction::create(request("ACK"), 0, &f2).status().code(),
            Code::kInvalidArgument);
}

} // namespace
} // namespace imsdc::sip
