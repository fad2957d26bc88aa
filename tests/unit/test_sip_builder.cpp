// Building messages: identifiers from a caller-supplied RNG, PROTOCOL_PROFILE.md section 1
// Via/Contact, build-then-parse round trips, derived requests and header injection.
#include <gtest/gtest.h>

#include <string>

#include "sip/auth.h"
#include "sip/builder.h"
#include "sip/message.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

// Deterministic "randomness": 0x00, 0x01, 0x02... continuing across calls.
Status counter_fill(void* ctx, std::uint8_t* out, std::size_t n) {
  auto* next = static_cast<std::uint8_t*>(ctx);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = (*next)++;
  return Status::ok();
}

Status failing_fill(void*, std::uint8_t*, std::size_t) {
  return Status(Code::kEntropy, Module::kCrypto, "test entropy failure");
}

struct Rng {
  std::uint8_t next = 0;
  RandomSource source{&counter_fill, &next};
};

TEST(SipBuilder, Identifiers) {
  Rng rng;
  EXPECT_EQ(make_branch(rng.source).value(), "z9hG4bK000102030405060708090a0b");
  EXPECT_EQ(make_tag(rng.source).value(), "0c0d0e0f10111213");
  EXPECT_EQ(make_call_id(rng.source).value(), "1415161718191a1b1c1d1e1f20212223");
  EXPECT_EQ(make_invalid_host(rng.source).value(), "2425262728292a2b.invalid");
  rng.next = 0xff;
  auto uuid = make_uuid_v4(rng.source);
  ASSERT_TRUE(uuid.is_ok());
  EXPECT_EQ(uuid.value(), "ff000102-0304-4506-8708-090a0b0c0d0e");

  RandomSource broken{&failing_fill, nullptr};
  EXPECT_EQ(make_branch(broken).status().code(), Code::kEntropy);
  EXPECT_EQ(make_uuid_v4(broken).status().code(), Code::kEntropy);
  EXPECT_EQ(make_tag(RandomSource{}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(random_hex(rng.source, 65).status().code(), Code::kInvalidArgument);
}

TEST(SipBuilder, ViaAndContactFollowTheProfile) {
  EXPECT_EQ(format_via("2425262728292a2b.invalid", "z9hG4bK000102").value(),
            "SIP/2.0/WSS 2425262728292a2b.invalid;branch=z9hG4bK000102");
  EXPECT_EQ(format_via("bad host", "z9hG4bK1").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(format_via("h.invalid", "abc").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(format_via("h.invalid", "z9hG4bK;x").status().code(), Code::kInvalidArgument);

  ContactSpec spec;
  spec.user = "alice";
  spec.host = "2425262728292a2b.invalid";
  spec.instance_uuid = "0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c";
  EXPECT_EQ(format_contact(spec).value(),
            "<sip:alice@2425262728292a2b.invalid;transport=ws>;"
            "+sip.instance=\"<urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c>\";reg-id=1;"
            "+sip.app-subtype=\"webrtc-datachannel\"");
  std::string contact = format_contact(spec).value(); // parse results are views into it
  auto parsed = parse_name_addr(contact);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->param("+sip.instance").value_or(""),
            "<urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c>");
  spec.reg_id = 0;
  spec.data_channel = false;
  spec.user = "+12025550100";
  EXPECT_EQ(format_contact(spec).value(),
            "<sip:+12025550100@2425262728292a2b.invalid;transport=ws>;"
            "+sip.instance=\"<urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c>\"");
  for (const char* bad_user : {"", "a b", "a@b", "a;b", "a>b"}) {
    spec.user = bad_user;
    EXPECT_EQ(format_contact(spec).status().code(), Code::kInvalidArgument) << bad_user;
  }
  spec.user = "alice";
  spec.instance_uuid = "not-a-uuid";
  EXPECT_EQ(format_contact(spec).status().code(), Code::kInvalidArgument);
}

// The REGISTER the registration state machine will send, built and parsed back.
TEST(SipBuilder, RegisterRoundTrip) {
  Rng rng;
  std::string host = make_invalid_host(rng.source).value();
  std::string branch = make_branch(rng.source).value();
  ContactSpec spec{"alice", host, "0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c", 1, true};
  auto text = MessageBuilder::request("REGISTER", "sip:ims.example")
                  .header("Via", format_via(host, branch).value() + ";rport")
                  .header("Max-Forwards", "70")
                  .header("From", "<sip:alice@ims.example>;tag=" + make_tag(rng.source).value())
                  .header("To", "<sip:alice@ims.example>")
                  .header("Call-ID", make_call_id(rng.source).value())
                  .header("CSeq", "1 REGISTER")
                  .header("Contact", format_contact(spec).value())
                  .header("Expires", "600")
                  .header("Supported", "outbound, path, gruu")
                  .build();
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  EXPECT_EQ(text->substr(0, 33), "REGISTER sip:ims.example SIP/2.0\r");
  EXPECT_EQ(text->substr(text->size() - 23), "\r\nContent-Length: 0\r\n\r\n");
  auto m = parse_message(ByteSpan(text.value()));
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->method(), "REGISTER");
  EXPECT_EQ(m->cseq().number, 1u);
  auto via = parse_via(m->header("Via"));
  ASSERT_TRUE(via.is_ok());
  EXPECT_EQ(via->transport, "WSS");
  EXPECT_EQ(via->branch, branch);
  EXPECT_TRUE(via->has_rport);
  EXPECT_EQ(m->header_values("Supported")->size(), 3u);
  EXPECT_EQ(m->text(), text.value());
}

TEST(SipBuilder, BodyAndContentLength) {
  std::string sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
  auto text = MessageBuilder::request("INVITE", "sip:bob@ims.example")
                  .header("Via", "SIP/2.0/WSS a.invalid;branch=z9hG4bK1")
                  .header("From", "<sip:alice@ims.example>;tag=1")
                  .header("To", "<sip:bob@ims.example>")
                  .header("Call-ID", "c")
                  .header("CSeq", "1 INVITE")
                  .body("application/sdp", ByteSpan(sdp))
                  .build();
  ASSERT_TRUE(text.is_ok());
  auto m = parse_message(ByteSpan(text.value()));
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->header("Content-Length"), std::to_string(sdp.size()));
  EXPECT_EQ(m->header("c"), "application/sdp");
  EXPECT_EQ(m->body().as_string(), sdp);

  std::string big(IMSDC_MAX_SIP_MESSAGE, 'x');
  auto too_big = MessageBuilder::request("MESSAGE", "sip:bob@ims.example")
                     .body("text/plain", ByteSpan(big))
                     .build();
  EXPECT_EQ(too_big.status().code(), Code::kTooLarge);
}

TEST(SipBuilder, RejectsInjectionAndBadStartLines) {
  auto base = [] { return MessageBuilder::request("OPTIONS", "sip:a@b.example"); };
  EXPECT_EQ(base().header("X-A", "1\r\nVia: evil").build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(base().header("X-A", std::string("a\0b", 3)).build().status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(base().header("X A", "1").build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(base().header("Content-Length", "5").build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(base().header("l", "5").build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(base().body("text", ByteSpan()).build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(base().body("text/plain\r\nX: y", ByteSpan()).build().status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MessageBuilder::request("OPT IONS", "sip:a@b").build().status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MessageBuilder::request("OPTIONS", "sip:a@b SIP/2.0\r\n").build().status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MessageBuilder::response(99, "x").build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MessageBuilder::response(700, "x").build().status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MessageBuilder::response(200, "OK\r\nX: y").build().status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MessageBuilder().build().status().code(), Code::kInvalidArgument);
  // The first error sticks even if later calls are fine.
  EXPECT_EQ(base().header("X A", "1").header("X-B", "2").build().status().code(),
            Code::kInvalidArgument);
}

const char kInvite[] = "INVITE sip:bob@ims.example SIP/2.0\r\n"
                       "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKinv1;rport\r\n"
                       "Via: SIP/2.0/WSS proxy.example;branch=z9hG4bKp1\r\n"
                       "Route: <sip:127.0.0.1:8443;transport=ws;lr>\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: \"Alice\" <sip:alice@ims.example>;tag=a1\r\n"
                       "To: <sip:bob@ims.example>\r\n"
                       "Call-ID: call-1\r\n"
                       "CSeq: 7 INVITE\r\n"
                       "Content-Length: 0\r\n\r\n";

TEST(SipBuilder, ResponseForRequest) {
  auto invite = parse_message(ByteSpan(std::string_view(kInvite)));
  ASSERT_TRUE(invite.is_ok());
  auto text =
      response_for(invite.value(), 486, "Busy Here", "b2").header("Server", "imsdc").build();
  ASSERT_TRUE(text.is_ok());
  auto r = parse_message(ByteSpan(text.value()));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->status_code(), 486);
  EXPECT_EQ(r->reason(), "Busy Here");
  auto vias = r->header_values("Via");
  ASSERT_EQ(vias->size(), 2u);
  EXPECT_EQ((*vias)[1], "SIP/2.0/WSS proxy.example;branch=z9hG4bKp1");
  EXPECT_EQ(r->header("To"), "<sip:bob@ims.example>;tag=b2");
  EXPECT_EQ(r->header("CSeq"), "7 INVITE");
  EXPECT_FALSE(r->has_header("Route"));
  // 100 Trying carries no To tag (RFC 3261 section 8.2.6.2).
  auto trying =
      parse_message(ByteSpan(response_for(invite.value(), 100, "Trying", "b2").build().value()));
  EXPECT_EQ(trying->header("To"), "<sip:bob@ims.example>");
}

TEST(SipBuilder, AckAndCancel) {
  auto invite = parse_message(ByteSpan(std::string_view(kInvite)));
  ASSERT_TRUE(invite.is_ok());
  auto busy =
      parse_message(ByteSpan(response_for(invite.value(), 486, "Busy Here", "b2").build().value()));
  ASSERT_TRUE(busy.is_ok());
  auto ack_text = ack_for_failure(invite.value(), busy.value()).build();
  ASSERT_TRUE(ack_text.is_ok());
  auto ack = parse_message(ByteSpan(ack_text.value()));
  ASSERT_TRUE(ack.is_ok()) << ack.status().message();
  EXPECT_EQ(ack->method(), "ACK");
  EXPECT_EQ(ack->request_uri(), "sip:bob@ims.example");
  EXPECT_EQ(ack->header_values("Via")->size(), 1u);
  EXPECT_EQ(parse_via(ack->header("Via"))->branch, "z9hG4bKinv1");
  EXPECT_EQ(ack->header("To"), "<sip:bob@ims.example>;tag=b2");
  EXPECT_EQ(ack->header("CSeq"), "7 ACK");
  EXPECT_EQ(ack->header("Route"), "<sip:127.0.0.1:8443;transport=ws;lr>");
  EXPECT_EQ(ack_for_failure(busy.value(), invite.value()).build().status().code(),
            Code::kInvalidArgument);

  auto cancel = parse_message(ByteSpan(cancel_for(invite.value()).build().value()));
  ASSERT_TRUE(cancel.is_ok());
  EXPECT_EQ(cancel->method(), "CANCEL");
  EXPECT_EQ(cancel->header("CSeq"), "7 CANCEL");
  EXPECT_EQ(cancel->header("To"), "<sip:bob@ims.example>");
  EXPECT_EQ(cancel_for(ack.value()).build().status().code(), Code::kInvalidArgument);
}

TEST(SipBuilder, AuthorizedRegisterIsParseable) {
  // Answering the Kamailio-shaped challenge: the Authorization value survives a round trip
  // as one header value (never split at its commas).
  auto ch = parse_challenge(
      "Digest realm=\"ims.example\", nonce=\"bm9uY2U=\", qop=\"auth\", algorithm=SHA-256");
  ASSERT_TRUE(ch.is_ok());
  DigestInput in{"alice@ims.example", "secret", "REGISTER", "sip:ims.example", "0a4f113b", 1};
  auto value = digest_authorization(ch.value(), in);
  ASSERT_TRUE(value.is_ok());
  auto text = MessageBuilder::request("REGISTER", "sip:ims.example")
                  .header("Via", "SIP/2.0/WSS a.invalid;branch=z9hG4bK2")
                  .header("From", "<sip:alice@ims.example>;tag=1")
                  .header("To", "<sip:alice@ims.example>")
                  .header("Call-ID", "c")
                  .header("CSeq", "2 REGISTER")
                  .header("Authorization", value.value())
                  .build();
  ASSERT_TRUE(text.is_ok());
  auto m = parse_message(ByteSpan(text.value()));
  ASSERT_TRUE(m.is_ok());
  auto values = m->header_values("Authorization");
  ASSERT_EQ(values->size(), 1u);
  EXPECT_EQ((*values)[0], value.value());
}

} // namespace
} // namespace imsdc::sip
