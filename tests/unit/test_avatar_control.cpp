// The avatar-control channel of PROTOCOL_PROFILE.md section 6: the five messages, their
// refusals, and the negotiation between UE-A (sender) and UE-B (receiver) for each rendering.
#include <gtest/gtest.h>

#include <string>

#include "avatar/control.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"

namespace imsdc::avatar {
namespace {

crypto::EcPublicKey fresh_key() {
  auto k = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(k.is_ok());
  return k->public_key();
}

class AvatarControl : public ::testing::Test {
protected:
  void SetUp() override { fake::reset(); }
};

TEST_F(AvatarControl, EveryMessageRoundTrips) {
  ControlMessage render;
  render.type = ControlType::kRender;
  render.mode = Rendering::kReceivingUe;
  render.avatar_id = "avatar-001";
  ControlMessage epk;
  epk.type = ControlType::kEpk;
  epk.epk = fresh_key();
  ControlMessage att;
  att.type = ControlType::kAttestation;
  att.jws = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln";
  ControlMessage ready;
  ControlMessage error;
  error.type = ControlType::kError;
  error.code = "not_owner";
  for (const ControlMessage& m : {render, epk, att, ready, error}) {
    Result<std::string> text = encode_control(m);
    ASSERT_TRUE(text.is_ok());
    Result<ControlMessage> back = parse_control(text.value());
    ASSERT_TRUE(back.is_ok()) << text.value() << ": " << back.status().message();
    EXPECT_EQ(back->type, m.type);
    EXPECT_EQ(back->mode, m.mode);
    EXPECT_EQ(back->avatar_id, m.avatar_id);
    EXPECT_EQ(back->jws, m.jws);
    EXPECT_EQ(back->code, m.code);
    EXPECT_EQ(back->epk.has_value(), m.epk.has_value());
    if (m.epk) {
      EXPECT_TRUE(*back->epk == *m.epk);
    }
  }
  EXPECT_EQ(encode_control(ready).value(), R"({"type":"ready"})");
}

TEST_F(AvatarControl, RefusesOtherShapes) {
  // A point that is not on P-256 (x = 1, y = 1).
  const std::string off_curve =
      R"({"type":"epk","jwk":{"kty":"EC","crv":"P-256",)"
      R"("x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}})";
  struct Case {
    std::string text;
    Code code;
  };
  const Case cases[] = {
      {R"({"type":"hello"})", Code::kMalformed},
      {R"({"kind":"ready"})", Code::kMalformed},
      {R"({"type":"ready","extra":1})", Code::kMalformed},
      {R"({"type":"ready","type":"ready"})", Code::kMalformed},
      {R"({"type":"render","mode":"hologram","avatar_id":"a"})", Code::kMalformed},
      {R"({"type":"render","mode":"network","avatar_id":"../x"})", Code::kMalformed},
      {R"({"type":"render","mode":"network"})", Code::kMalformed},
      {R"({"type":"attestation","jws":"not a jws"})", Code::kMalformed},
      {R"({"type":"attestation","jws":"a.b"})", Code::kMalformed},
      {R"({"type":"error","code":"Bad Code"})", Code::kMalformed},
      {R"({"type":"epk","jwk":"text"})", Code::kMalformed},
      {off_curve, Code::kBadKey},
      {R"({"type":"attestation","jws":")" + std::string(kMaxControlMessage, 'a') + "\"}",
       Code::kTooLarge},
  };
  for (const Case& c : cases)
    EXPECT_EQ(parse_control(c.text).status().code(), c.code) << c.text.substr(0, 80);
}

TEST_F(AvatarControl, ReceivingUeNegotiation) {
  ControlSession a(ControlSession::Role::kSender), b(ControlSession::Role::kReceiver);
  Result<std::string> offer = a.offer(Rendering::kReceivingUe, "avatar-001");
  ASSERT_TRUE(offer.is_ok());
  EXPECT_EQ(a.state(), ControlSession::State::kAwaitingKey);
  ASSERT_TRUE(b.receive(offer.value()).is_ok());
  EXPECT_EQ(b.mode(), Rendering::kReceivingUe);
  EXPECT_EQ(b.avatar_id(), "avatar-001");
  EXPECT_EQ(b.ready().status().code(), Code::kState); // no attestation yet
  const crypto::EcPublicKey ue_b = fresh_key();
  Result<std::string> key = b.send_key(ue_b);
  ASSERT_TRUE(key.is_ok());
  // The sender may not send an attestation before it has the peer's key.
  EXPECT_EQ(a.send_attestation("h.p.s").status().code(), Code::kState);
  ASSERT_TRUE(a.receive(key.value()).is_ok());
  ASSERT_TRUE(a.peer_key().has_value());
  EXPECT_TRUE(*a.peer_key() == ue_b);
  Result<std::string> att = a.send_attestation("eyJh.eyJp.c2ln");
  ASSERT_TRUE(att.is_ok());
  ASSERT_TRUE(b.receive(att.value()).is_ok());
  EXPECT_EQ(b.attestation(), "eyJh.eyJp.c2ln");
  EXPECT_EQ(b.state(), ControlSession::State::kFetch);
  Result<std::string> ready = b.ready();
  ASSERT_TRUE(ready.is_ok());
  ASSERT_TRUE(a.receive(ready.value()).is_ok());
  EXPECT_EQ(a.state(), ControlSession::State::kDone);
  EXPECT_EQ(b.state(), ControlSession::State::kDone);
}

TEST_F(AvatarControl, OtherModesNeedNoKeyAndErrorsEndTheSession) {
  ControlSession a(ControlSession::Role::kSender), b(ControlSession::Role::kReceiver);
  ASSERT_TRUE(b.receive(a.offer(Rendering::kSendingUe, "avatar-001").value()).is_ok());
  EXPECT_EQ(b.send_key(fresh_key()).status().code(), Code::kState); // not receiving-ue
  ASSERT_TRUE(a.receive(b.ready().value()).is_ok());
  EXPECT_EQ(a.state(), ControlSession::State::kDone);

  // The receiver refuses: the sender sees kRejected with the code, and the session is over.
  ControlSession c(ControlSession::Role::kSender), d(ControlSession::Role::kReceiver);
  ASSERT_TRUE(d.receive(c.offer(Rendering::kReceivingUe, "avatar-001").value()).is_ok());
  Result<std::string> no = d.fail("not_owner");
  ASSERT_TRUE(no.is_ok());
  EXPECT_EQ(c.receive(no.value()).code(), Code::kRejected);
  EXPECT_EQ(c.peer_error(), "not_owner");
  EXPECT_EQ(c.state(), ControlSession::State::kFailed);
  EXPECT_EQ(c.receive(R"({"type":"ready"})").code(), Code::kState);

  // A message out of turn fails the session (a ready before the key in receiving-ue).
  ControlSession e(ControlSession::Role::kSender);
  ASSERT_TRUE(e.offer(Rendering::kReceivingUe, "avatar-001").is_ok());
  EXPECT_EQ(e.receive(R"({"type":"ready"})").code(), Code::kState);
  EXPECT_EQ(e.state(), ControlSession::State::kFailed);
  // A receiver never takes an attestation it did not ask for.
  ControlSession f(ControlSession::Role::kReceiver);
  EXPECT_EQ(f.receive(R"({"type":"attestation","jws":"a.b.c"})").code(), Code::kState);
}

} // namespace
} // namespace imsdc::avatar
