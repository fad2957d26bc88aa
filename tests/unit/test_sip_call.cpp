// Calls between two CallAgents in one process ("two peers in one process"): every message
// one agent sends is parsed and fed to the other, on a virtual clock. The same flows run
// through the real Kamailio in tests/labnet/call_test.sh.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sip/builder.h"
#include "sip/call.h"
#include "sip/dialog.h"
#include "sip/message.h"
#include "sip/registration.h"

using namespace imsdc;
using sip::CallEvent;
using sip::CallEventKind;
using sip::EndReason;

namespace {

Status fill(void* ctx, std::uint8_t* out, std::size_t n) {
  auto* c = static_cast<std::uint32_t*>(ctx);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>((*c)++ * 131u >> 3);
  return Status::ok();
}

const std::string kOffer = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                           "t=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";
const std::string kAnswer = "v=0\r\no=bob 7 7 IN IP6 2001:db8::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\n"
                            "t=0 0\r\nm=audio 3456 RTP/AVP 0\r\n";
const std::string kUpdateOffer = kOffer + "m=application 5000 UDP/DTLS/SCTP webrtc-datachannel\r\n";
const std::string kUpdateAnswer =
    kAnswer + "m=application 6000 UDP/DTLS/SCTP webrtc-datachannel\r\n";

struct Side {
  std::optional<sip::CallAgent> agent;
  std::vector<CallEvent> events;
  std::vector<std::string> sent; // every message this side sent
  std::string next_answer;       // what the answerer returns for mid-call offers
  int offers_answered = 0;

  static Status answer(void* ctx, sip::CallId, ByteSpan, std::string* out) {
    auto* s = static_cast<Side*>(ctx);
    ++s->offers_answered;
    if (s->next_answer.empty()) return Status(Code::kRejected, Module::kSip, "no answer");
    *out = s->next_answer;
    return Status::ok();
  }

  const CallEvent* last(CallEventKind k) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == k) return &*it;
    return nullptr;
  }
  int count(CallEventKind k) const {
    int n = 0;
    for (const auto& e : events)
      n += e.kind == k;
    return n;
  }
  int sent_count(std::string_view start) const {
    int n = 0;
    for (const auto& m : sent)
      n += m.compare(0, start.size(), start) == 0;
    return n;
  }
};

sip::CallConfig config(const char* user, std::uint32_t* counter) {
  sip::CallConfig c;
  c.impu = std::string("sip:") + user + "@ims.example";
  c.contact_uri = std::string("sip:") + user + "@" + user + "0001.invalid;transport=ws";
  c.via_host = std::string(user) + "0001.invalid";
  c.random = sip::RandomSource{fill, counter};
  return c;
}

// Two agents joined by a perfect wire; `drop` can lose messages in either direction.
struct Pair {
  std::uint32_t ca = 1, cb = 100000;
  Side a, b;
  std::uint64_t now = 0;
  std::vector<std::string> to_a, to_b;
  std::function<bool(bool from_a, const std::string&)> drop;

  static sip::CallAgent make(const char* user, std::uint32_t* counter, Side* side,
                             std::function<void(sip::CallConfig&)> tweak = nullptr) {
    sip::CallConfig c = config(user, counter);
    if (side) c.answerer = sip::OfferAnswerer{Side::answer, side};
    if (tweak) tweak(c);
    auto agent = sip::CallAgent::create(std::move(c));
    EXPECT_TRUE(agent.is_ok());
    return std::move(agent.value());
  }
  Pair(std::function<void(sip::CallConfig&)> ta = nullptr,
       std::function<void(sip::CallConfig&)> tb = nullptr) {
    a.agent.emplace(make("alice", &ca, &a, ta));
    a.next_answer = kUpdateAnswer;
    b.next_answer = kUpdateAnswer;
    b.agent.emplace(make("bob", &cb, &b, [&](sip::CallConfig& c) {
      c.avatar_uri = "https://bar.ims.example/avatars/bob-1";
      if (tb) tb(c);
    }));
  }
  void take(sip::CallOutput out, bool from_a) {
    Side& s = from_a ? a : b;
    for (auto& m : out.send) {
      s.sent.push_back(m);
      if (drop && drop(from_a, m)) continue;
      (from_a ? to_b : to_a).push_back(std::move(m));
    }
    for (auto& e : out.events)
      s.events.push_back(std::move(e));
  }
  void pump() {
    for (int guard = 0; guard < 1000 && (!to_a.empty() || !to_b.empty()); ++guard) {
      std::vector<std::string> qa, qb;
      qa.swap(to_a);
      qb.swap(to_b);
      for (auto& m : qa)
        take(a.agent->on_message(ByteSpan(m), now), true);
      for (auto& m : qb)
        take(b.agent->on_message(ByteSpan(m), now), false);
    }
  }
  // Moves the virtual clock in steps of step_ms, polling both agents.
  void advance(std::uint64_t ms, std::uint64_t step_ms = 100) {
    for (std::uint64_t t = 0; t < ms; t += step_ms) {
      now += step_ms;
      take(a.agent->poll(now), true);
      take(b.agent->poll(now), false);
      pump();
    }
  }
  sip::CallId call(sip::OutgoingCall spec) {
    sip::CallOutput out;
    auto id = a.agent->invite(spec, now, &out);
    EXPECT_TRUE(id.is_ok()) << id.status().message();
    take(std::move(out), true);
    pump();
    return id.is_ok() ? id.value() : 0;
  }
  sip::CallId incoming() const {
    const CallEvent* e = b.last(CallEventKind::kIncoming);
    return e ? e->call : 0;
  }
  template <typename F> void on_a(F f) {
    sip::CallOutput out;
    ASSERT_TRUE(f(*a.agent, &out).is_ok());
    take(std::move(out), true);
    pump();
  }
  template <typename F> void on_b(F f) {
    sip::CallOutput out;
    ASSERT_TRUE(f(*b.agent, &out).is_ok());
    take(std::move(out), false);
    pump();
  }
};

sip::OutgoingCall to_bob() {
  sip::OutgoingCall spec;
  spec.to = "sip:bob@ims.example";
  spec.sdp = kOffer;
  return spec;
}

std::string header_of(const std::string& text, std::string_view name) {
  auto m = sip::parse_message(ByteSpan(text));
  return m ? std::string(m->header(name)) : std::string();
}

bool has_header_named(const CallEvent& e, std::string_view name) {
  for (const auto& h : e.headers)
    if (h.first == name) return true;
  return false;
}

} // namespace

TEST(SipCall, FullCallWith100relUpdateReinviteAndBye) {
  Pair p;
  sip::CallId a_id = p.call(to_bob());
  ASSERT_EQ(p.b.count(CallEventKind::kIncoming), 1);
  const CallEvent& inc = *p.b.last(CallEventKind::kIncoming);
  EXPECT_EQ(inc.sdp, kOffer); // the offer arrives byte for byte
  EXPECT_EQ(p.b.sent_count("SIP/2.0 100 "), 1);
  sip::CallId b_id = p.incoming();

  // 180 with 100rel carrying the answer, then the PRACK.
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.ring(b_id, kAnswer, p.now, o); });
  ASSERT_EQ(p.a.count(CallEventKind::kProgress), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kProgress)->sip_status, 180);
  EXPECT_EQ(p.a.last(CallEventKind::kProgress)->sdp, kAnswer);
  ASSERT_EQ(p.b.sent_count("SIP/2.0 180 "), 1);
  std::string ringing;
  for (const auto& m : p.b.sent)
    if (m.rfind("SIP/2.0 180 ", 0) == 0) ringing = m;
  EXPECT_EQ(header_of(ringing, "Require"), "100rel");
  EXPECT_EQ(header_of(ringing, "RSeq"), "1");
  ASSERT_EQ(p.a.sent_count("PRACK "), 1);
  std::string prack;
  for (const auto& m : p.a.sent)
    if (m.rfind("PRACK ", 0) == 0) prack = m;
  EXPECT_EQ(header_of(prack, "RAck"), "1 1 INVITE");
  EXPECT_EQ(p.b.sent_count("SIP/2.0 200 "), 1); // the PRACK's 200

  // UPDATE in the early dialog with a new offer.
  p.on_a([&](sip::CallAgent& g, sip::CallOutput* o) {
    return g.update(a_id, kUpdateOffer, p.now, o);
  });
  ASSERT_EQ(p.b.count(CallEventKind::kRemoteOffer), 1);
  EXPECT_EQ(p.b.last(CallEventKind::kRemoteOffer)->sdp, kUpdateOffer);
  ASSERT_EQ(p.a.count(CallEventKind::kOfferAnswered), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kOfferAnswered)->sdp, kUpdateAnswer);

  // 200 (no SDP again: the answer went in the reliable 180) and ACK.
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.answer(b_id, kAnswer, p.now, o); });
  ASSERT_EQ(p.a.count(CallEventKind::kAnswered), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kAnswered)->avatar_uri,
            "https://bar.ims.example/avatars/bob-1");
  EXPECT_EQ(p.a.sent_count("ACK "), 1);
  ASSERT_EQ(p.b.count(CallEventKind::kConfirmed), 1);

  // re-INVITE that changes the SDP.
  p.b.next_answer = kAnswer + "a=sendonly\r\n";
  p.on_a([&](sip::CallAgent& g, sip::CallOutput* o) {
    return g.reinvite(a_id, kOffer + "a=sendrecv\r\n", p.now, o);
  });
  ASSERT_EQ(p.b.count(CallEventKind::kRemoteOffer), 2);
  EXPECT_EQ(p.b.last(CallEventKind::kRemoteOffer)->sdp, kOffer + "a=sendrecv\r\n");
  ASSERT_EQ(p.a.count(CallEventKind::kOfferAnswered), 2);
  EXPECT_EQ(p.a.last(CallEventKind::kOfferAnswered)->sdp, kAnswer + "a=sendonly\r\n");
  EXPECT_EQ(p.a.sent_count("ACK "), 2);

  p.on_a([&](sip::CallAgent& g, sip::CallOutput* o) { return g.hangup(a_id, p.now, o); });
  ASSERT_EQ(p.b.count(CallEventKind::kEnded), 1);
  EXPECT_EQ(p.b.last(CallEventKind::kEnded)->end, EndReason::kRemoteHangup);
  ASSERT_EQ(p.a.count(CallEventKind::kEnded), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kEnded)->end, EndReason::kLocalHangup);
  EXPECT_EQ(p.b.agent->call_count(), 0u);
  EXPECT_EQ(p.a.agent->call_count(), 0u);
  // No Authorization ever leaves on a call.
  for (const auto& m : p.a.sent)
    EXPECT_EQ(m.find("\r\nAuthorization:"), std::string::npos);
}

TEST(SipCall, AnswerWaitsForThePrackOfAReliable18xWithSdp) {
  Pair p;
  p.drop = [](bool from_a, const std::string& m) { return from_a && m.rfind("PRACK ", 0) == 0; };
  p.call(to_bob());
  sip::CallId b_id = p.incoming();
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.ring(b_id, kAnswer, p.now, o); });
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.answer(b_id, {}, p.now, o); });
  EXPECT_EQ(p.b.sent_count("SIP/2.0 200 "), 0); // held back: the PRACK was lost
  EXPECT_EQ(p.a.count(CallEventKind::kAnswered), 0);
}

TEST(SipCall, CancelBeforeAnswer) {
  Pair p;
  sip::CallId a_id = p.call(to_bob());
  sip::CallId b_id = p.incoming();
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.ring(b_id, {}, p.now, o); });
  p.on_a([&](sip::CallAgent& g, sip::CallOutput* o) { return g.hangup(a_id, p.now, o); });
  EXPECT_EQ(p.a.sent_count("CANCEL "), 1);
  ASSERT_EQ(p.b.count(CallEventKind::kEnded), 1);
  EXPECT_EQ(p.b.last(CallEventKind::kEnded)->end, EndReason::kCancelled);
  ASSERT_EQ(p.a.count(CallEventKind::kEnded), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kEnded)->end, EndReason::kCancelled);
  EXPECT_EQ(p.a.last(CallEventKind::kEnded)->sip_status, 487);
  EXPECT_EQ(p.b.sent_count("SIP/2.0 487 "), 1);
  EXPECT_EQ(p.a.sent_count("ACK "), 1); // the transaction's ACK for the 487
}

TEST(SipCall, CancelWaitsForTheFirstProvisionalResponse) {
  Pair p;
  std::vector<std::string> held;
  p.drop = [&](bool from_a, const std::string& m) {
    if (!from_a && m.rfind("SIP/2.0 100 ", 0) == 0) {
      held.push_back(m);
      return true;
    }
    return false;
  };
  sip::CallId a_id = p.call(to_bob());
  p.on_a([&](sip::CallAgent& g, sip::CallOutput* o) { return g.hangup(a_id, p.now, o); });
  EXPECT_EQ(p.a.sent_count("CANCEL "), 0); // RFC 3261 section 9.1
  p.drop = nullptr;
  ASSERT_EQ(held.size(), 1u);
  p.to_a.push_back(held[0]);
  p.pump();
  EXPECT_EQ(p.a.sent_count("CANCEL "), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kEnded)->end, EndReason::kCancelled);
}

TEST(SipCall, SessionTimerRefreshesKeepTheCallAndItsAbsenceEndsIt) {
  auto short_timer = [](sip::CallConfig& c) {
    c.session_expires_s = 10;
    c.min_se_s = 5;
  };
  Pair p(short_timer, short_timer);
  sip::CallId a_id = p.call(to_bob());
  sip::CallId b_id = p.incoming();
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.answer(b_id, kAnswer, p.now, o); });
  ASSERT_EQ(p.a.count(CallEventKind::kAnswered), 1);
  std::string ok200;
  for (const auto& m : p.b.sent)
    if (m.rfind("SIP/2.0 200 ", 0) == 0) ok200 = m;
  EXPECT_EQ(header_of(ok200, "Session-Expires"), "10;refresher=uac");
  EXPECT_EQ(header_of(ok200, "Require"), "timer");

  p.advance(60000); // six intervals: the caller refreshes every 5 s
  EXPECT_EQ(p.a.count(CallEventKind::kEnded), 0);
  EXPECT_EQ(p.b.count(CallEventKind::kEnded), 0);
  EXPECT_GE(p.a.sent_count("UPDATE "), 11);
  EXPECT_GE(p.b.count(CallEventKind::kRefreshed), 11);

  // The caller's refreshes are lost from now on: the callee gives up after SE - SE/3.
  p.drop = [](bool from_a, const std::string& m) { return from_a && m.rfind("UPDATE ", 0) == 0; };
  std::uint64_t lost_at = p.now;
  while (p.b.count(CallEventKind::kEnded) == 0 && p.now - lost_at < 15000)
    p.advance(100);
  ASSERT_EQ(p.b.count(CallEventKind::kEnded), 1);
  EXPECT_EQ(p.b.last(CallEventKind::kEnded)->end, EndReason::kSessionExpired);
  EXPECT_EQ(p.b.sent_count("BYE "), 1);
  EXPECT_EQ(p.a.last(CallEventKind::kEnded)->end, EndReason::kRemoteHangup);
  EXPECT_LE(p.now - lost_at, 12000u);
  (void)a_id;
}

TEST(SipCall, SessionIntervalTooSmallIsRetriedWithMinSe) {
  Pair p([](sip::CallConfig& c) { c.session_expires_s = 10, c.min_se_s = 5; },
         [](sip::CallConfig& c) { c.min_se_s = 120; });
  p.call(to_bob());
  EXPECT_EQ(p.b.sent_count("SIP/2.0 422 "), 1);
  ASSERT_EQ(p.b.count(CallEventKind::kIncoming), 1);
  std::string second;
  for (const auto& m : p.a.sent)
    if (m.rfind("INVITE ", 0) == 0) second = m;
  EXPECT_EQ(header_of(second, "Session-Expires"), "120;refresher=uac");
  EXPECT_EQ(header_of(second, "CSeq"), "2 INVITE");
}

TEST(SipCall, GlareGets491AndBothOffersLandAfterTheRetries) {
  Pair p;
  sip::CallId a_id = p.call(to_bob());
  sip::CallId b_id = p.incoming();
  p.on_b([&](sip::CallAgent& g, sip::CallOutput* o) { return g.answer(b_id, kAnswer, p.now, o); });
  ASSERT_EQ(p.b.count(CallEventKind::kConfirmed), 1);
  // Both send an offer before either sees the other's.
  sip::CallOutput oa, ob;
  ASSERT_TRUE(p.a.agent->reinvite(a_id, kUpdateOffer, p.now, &oa).is_ok());
  ASSERT_TRUE(p.b.agent->update(b_id, kUpdateAnswer, p.now, &ob).is_ok());
  p.take(std::move(oa), true);
  p.take(std::move(ob), false);
  p.pump();
  EXPECT_EQ(p.a.sent_count("SIP/2.0 491 "), 1);
  EXPECT_EQ(p.b.sent_count("SIP/2.0 491 "), 1);
  EXPECT_EQ(p.a.count(CallEventKind::kOfferAnswered), 0);
  p.advance(4500);
  // The callee (not the Call-ID owner) retried within 2 s, the caller after 2.1-4 s.
  EXPECT_EQ(p.a.count(CallEventKind::kOfferAnswered), 1);
  EXPECT_EQ(p.b.count(CallEventKind::kOfferAnswered), 1);
  EXPECT_EQ(p.a.count(CallEventKind::kRemoteOffer), 1);
  EXPECT_EQ(p.b.count(CallEventKind::kRemoteOffer), 1);
  EXPECT_EQ(p.a.sent_count("INVITE "), 3); // the call, the re-INVITE and its retry
  EXPECT_EQ(p.b.sent_count("UPDATE "), 2);
}

namespace {
struct Tokens {
  int calls = 0;
  static Status get(void* ctx, bool, SecretBytes* out) {
    ++static_cast<Tokens*>(ctx)->calls;
    const char t[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    *out = SecretBytes(ByteSpan(reinterpret_cast<const std::uint8_t*>(t), sizeof t - 1));
    return Status::ok();
  }
};
} // namespace

TEST(SipCall, ThirdPartyIdentityAnswersA407WithABearerToken) {
  Pair p;
  Tokens tokens;
  // A proxy in front of bob: 407 Bearer for an INVITE without Proxy-Authorization; it
  // consumes the header before bob sees the INVITE.
  p.drop = [&](bool from_a, const std::string& m) {
    if (!from_a || m.rfind("INVITE ", 0) != 0) return false;
    auto inv = sip::parse_message(ByteSpan(m));
    if (!inv->has_header("Proxy-Authorization")) {
      auto r = sip::response_for(inv.value(), 407, "Proxy Authentication Required", "px1")
                   .header("Proxy-Authenticate", "Bearer realm=\"ims.example\"")
                   .build();
      p.to_a.push_back(r.value());
      return true;
    }
    EXPECT_EQ(inv->header("Proxy-Authorization"),
              "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
    std::string stripped;
    auto pos = m.find("Proxy-Authorization:");
    stripped = m.substr(0, pos) + m.substr(m.find("\r\n", pos) + 2);
    p.to_b.push_back(stripped);
    return true;
  };
  sip::OutgoingCall spec = to_bob();
  spec.preferred_identity = "sip:e12345@enterprise.example";
  spec.privacy_id = true;
  spec.third_party_token = sip::TokenProvider{Tokens::get, &tokens};
  p.call(spec);
  EXPECT_EQ(tokens.calls, 1);
  ASSERT_EQ(p.a.sent_count("INVITE "), 2);
  EXPECT_EQ(header_of(p.a.sent[0], "P-Preferred-Identity"), "<sip:e12345@enterprise.example>");
  EXPECT_EQ(header_of(p.a.sent[0], "Privacy"), "id");
  EXPECT_FALSE(sip::parse_message(ByteSpan(p.a.sent[0]))->has_header("Proxy-Authorization"));
  for (const auto& m : p.a.sent)
    EXPECT_EQ(m.find("\r\nAuthorization:"), std::string::npos);
  ASSERT_EQ(p.b.count(CallEventKind::kIncoming), 1);
  const CallEvent& inc = *p.b.last(CallEventKind::kIncoming);
  EXPECT_FALSE(has_header_named(inc, "Proxy-Authorization"));
  EXPECT_EQ(inc.privacy, "id");
  // CANCEL and ACK are built from the kept INVITE copy, which never held the token.
  p.on_a([&](sip::CallAgent& g, sip::CallOutput* o) { return g.hangup(1, p.now, o); });
  for (const auto& m : p.a.sent)
    if (m.rfind("CANCEL ", 0) == 0 || m.rfind("ACK ", 0) == 0) {
      EXPECT_EQ(m.find("Bearer"), std::string::npos);
    }
}

TEST(SipCall, PreemptiveTokenAndAvatarOnTheInvite) {
  Tokens tokens;
  Pair p([](sip::CallConfig& c) { c.avatar_uri = "https://bar.ims.example/avatars/alice-7"; });
  sip::OutgoingCall spec = to_bob();
  spec.third_party_token = sip::TokenProvider{Tokens::get, &tokens};
  spec.preemptive_token = true;
  spec.mmtel = true;
  p.call(spec);
  EXPECT_EQ(tokens.calls, 1);
  ASSERT_EQ(p.a.sent_count("INVITE "), 1);
  EXPECT_NE(header_of(p.a.sent[0], "Proxy-Authorization"), "");
  EXPECT_EQ(header_of(p.a.sent[0], "P-Preferred-Service"), sip::kMmtelIcsi);
  EXPECT_NE(header_of(p.a.sent[0], "Contact").find("+g.3gpp.icsi-ref="), std::string::npos);
  const CallEvent& inc = *p.b.last(CallEventKind::kIncoming);
  EXPECT_EQ(inc.avatar_uri, "https://bar.ims.example/avatars/alice-7");
  EXPECT_EQ(header_of(p.a.sent[0], "Call-Info"),
            "<https://bar.ims.example/avatars/alice-7>;purpose=avatar");
}

// A back-to-back user agent (the labnet media function) places the called leg for the caller:
// From and the avatar reference are the caller's, not the agent's own.
TEST(SipCall, BackToBackLegCarriesTheServedUsersFromAndAvatar) {
  Pair p([](sip::CallConfig& c) { c.avatar_uri = "https://bar.ims.example/avatars/mf-own"; });
  sip::OutgoingCall spec = to_bob();
  spec.from = "sip:alice@enterprise.example";
  spec.avatar_uri = "https://bar.ims.example/avatars/av-alice";
  p.call(spec);
  ASSERT_EQ(p.a.sent_count("INVITE "), 1);
  EXPECT_EQ(header_of(p.a.sent[0], "From").rfind("<sip:alice@enterprise.example>;tag=", 0), 0u);
  EXPECT_EQ(header_of(p.a.sent[0], "Call-Info"),
            "<https://bar.ims.example/avatars/av-alice>;purpose=avatar");
  EXPECT_EQ(p.b.last(CallEventKind::kIncoming)->from.find("sip:alice@enterprise.example"), 1u);
  sip::CallOutput out;
  sip::OutgoingCall bad = to_bob();
  bad.from = "<sip:x@y>";
  EXPECT_EQ(p.a.agent->invite(bad, p.now, &out).status(), Code::kInvalidArgument);
  bad = to_bob();
  bad.avatar_uri = "https://bar/a b";
  EXPECT_EQ(p.a.agent->invite(bad, p.now, &out).status(), Code::kInvalidArgument);
}

TEST(SipCall, UnsupportedExtensionAndTooManyCalls) {
  Pair p;
  sip::OutgoingCall spec = to_bob();
  for (std::size_t i = 0; i < sip::kMaxCalls; ++i)
    p.call(spec);
  EXPECT_EQ(p.b.agent->call_count(), sip::kMaxCalls);
  sip::CallOutput out;
  EXPECT_EQ(p.a.agent->invite(spec, p.now, &out).status(), Code::kNoMemory);
  // A fifth INVITE from elsewhere gets 486; one requiring an unknown extension gets 420.
  std::string invite = p.a.sent.back();
  auto swap = [&](std::string m, std::string_view from, std::string_view to) {
    auto pos = m.find(from);
    return m.replace(pos, from.size(), to);
  };
  std::string other =
      swap(swap(invite, "Call-ID: ", "Call-ID: x"), "branch=z9hG4bK", "branch=z9hG4bKx");
  auto r = p.b.agent->on_message(ByteSpan(other), p.now);
  ASSERT_EQ(r.send.size(), 1u);
  EXPECT_EQ(r.send[0].rfind("SIP/2.0 486 ", 0), 0u);

  Pair q;
  std::string req = swap(invite, "Allow:", "Require: foo\r\nAllow:");
  auto r2 = q.b.agent->on_message(ByteSpan(req), 0);
  ASSERT_EQ(r2.send.size(), 1u);
  EXPECT_EQ(r2.send[0].rfind("SIP/2.0 420 ", 0), 0u);
  EXPECT_EQ(header_of(r2.send[0], "Unsupported"), "foo");
}

TEST(SipDialog, BuilderWipeLeavesNothing) {
  auto b = sip::MessageBuilder::request("INVITE", "sip:bob@ims.example");
  b.header("Proxy-Authorization", "Bearer secret-token");
  ASSERT_TRUE(b.build().is_ok());
  b.wipe();
  EXPECT_FALSE(b.build().is_ok()); // nothing left, not even the start line
}

TEST(SipDialog, HeaderParsers) {
  EXPECT_EQ(sip::parse_rseq("988789").value(), 988789u);
  EXPECT_FALSE(sip::parse_rseq("0"));
  EXPECT_FALSE(sip::parse_rseq("2147483648"));
  auto rack = sip::parse_rack(" 776656 1 INVITE ");
  ASSERT_TRUE(rack);
  EXPECT_EQ(rack->rseq, 776656u);
  EXPECT_EQ(rack->cseq, 1u);
  EXPECT_EQ(rack->method, "INVITE");
  EXPECT_FALSE(sip::parse_rack("1 INVITE"));
  EXPECT_FALSE(sip::parse_rack("1 2 INVITE x"));
  auto se = sip::parse_session_expires("4000;refresher=uas");
  ASSERT_TRUE(se);
  EXPECT_EQ(se->seconds, 4000u);
  EXPECT_EQ(se->refresher, sip::Refresher::kUas);
  EXPECT_FALSE(sip::parse_session_expires("0"));
  EXPECT_FALSE(sip::parse_session_expires("90;refresher=both"));
  EXPECT_EQ(sip::parse_min_se("90;x=1").value(), 90u);
  EXPECT_FALSE(sip::format_avatar_header("https://bar/a b"));
}

// --- reg event (RFC 3680) on the registration ----------------------------------------------

namespace {

const char* kRegInfo =
    "<?xml version=\"1.0\"?>\r\n"
    "<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"1\" state=\"full\">\r\n"
    "  <registration aor=\"sip:alice@ims.example\" id=\"a7\" state=\"%s\">\r\n"
    "    <contact id=\"76\" state=\"%s\" event=\"%s\" expires=\"%s\">\r\n"
    "      <uri>%s</uri>\r\n"
    "    </contact>\r\n"
    "  </registration>\r\n"
    "</reginfo>\r\n";

std::string reginfo(const char* reg_state, const char* state, const char* event,
                    const char* expires, const std::string& uri) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, kRegInfo, reg_state, state, event, expires, uri.c_str());
  return buf;
}

// A registration that accepted every REGISTER and SUBSCRIBE, ready for NOTIFYs.
struct RegEventHarness {
  std::uint32_t counter = 7;
  std::optional<sip::Registration> reg;
  std::vector<sip::RegistrationEvent> events;
  std::vector<std::string> sent;
  std::string sub_call_id, sub_from;
  int registers = 0;
  std::uint64_t now = 0;

  RegEventHarness() {
    sip::RegistrationConfig c;
    c.impu = "sip:alice@ims.example";
    c.password = SecretBytes(ByteSpan(std::string_view("pw")));
    c.random = sip::RandomSource{fill, &counter};
    c.subscribe_reg_event = true;
    auto r = sip::Registration::create(std::move(c));
    EXPECT_TRUE(r.is_ok());
    reg.emplace(std::move(r.value()));
    take(reg->start(now));
    take(reg->on_transport_open(now));
    serve();
  }
  void take(sip::RegistrationOutput out) {
    for (auto& e : out.events)
      events.push_back(e);
    for (auto& m : out.send)
      sent.push_back(m);
  }
  // Answers every REGISTER and SUBSCRIBE sent so far with 200.
  void serve() {
    for (std::size_t guard = 0; guard < 8; ++guard) {
      std::vector<std::string> q;
      q.swap(sent);
      if (q.empty()) return;
      for (const auto& text : q) {
        auto m = sip::parse_message(ByteSpan(text));
        if (!m || !m->is_request()) continue;
        auto b = sip::response_for(m.value(), 200, "OK", "srv");
        if (m->method() == "REGISTER") {
          ++registers;
          b.header("Contact", std::string(m->header("Contact")) + ";expires=600");
        } else if (m->method() == "SUBSCRIBE") {
          sub_call_id = std::string(m->call_id());
          sub_from = std::string(m->header("From"));
          b.header("Expires", "600");
        }
        take(reg->on_message(ByteSpan(b.build().value()), now));
      }
    }
  }
  void notify(const std::string& body, const char* sub_state = "active;expires=600") {
    std::string n = "NOTIFY " + reg->contact_uri() +
                    " SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1:5061;branch=z9hG4bKn1\r\n"
                    "Max-Forwards: 70\r\nFrom: <sip:alice@ims.example>;tag=srv\r\nTo: " +
                    sub_from + "\r\nCall-ID: " + sub_call_id +
                    "\r\nCSeq: 2 NOTIFY\r\nEvent: reg\r\nSubscription-State: " + sub_state +
                    "\r\nContent-Type: application/reginfo+xml\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
    take(reg->on_message(ByteSpan(n), now));
  }
  int count(sip::RegistrationEventKind k) const {
    int c = 0;
    for (const auto& e : events)
      c += e.kind == k;
    return c;
  }
};

} // namespace

TEST(SipRegEvent, SubscribesAfterRegisteringAndReRegistersWhenDeactivated) {
  RegEventHarness h;
  ASSERT_EQ(h.count(sip::RegistrationEventKind::kRegistered), 1);
  ASSERT_FALSE(h.sub_call_id.empty()); // a SUBSCRIBE went out and was accepted
  std::string uri = h.reg->contact_uri();
  h.notify(reginfo("active", "active", "registered", "600", uri));
  EXPECT_EQ(h.count(sip::RegistrationEventKind::kUnregistered), 0);
  ASSERT_EQ(h.sent.size(), 1u); // the 200 to the NOTIFY
  EXPECT_EQ(h.sent[0].rfind("SIP/2.0 200 ", 0), 0u);
  h.sent.clear();

  // Another UE's contact terminated: not ours, nothing happens.
  h.notify(reginfo("active", "terminated", "deactivated", "0", "sip:alice@other.invalid"));
  EXPECT_EQ(h.count(sip::RegistrationEventKind::kUnregistered), 0);
  h.sent.clear();

  h.notify(reginfo("terminated", "terminated", "deactivated", "0", uri), "terminated");
  ASSERT_EQ(h.count(sip::RegistrationEventKind::kUnregistered), 1);
  EXPECT_EQ(h.events.back().reason, sip::UnregisterReason::kNetwork);
  ASSERT_EQ(h.sent.size(), 2u); // 200 OK, then a new REGISTER at once
  EXPECT_EQ(h.sent[1].rfind("REGISTER ", 0), 0u);
  int before = h.registers;
  h.serve();
  EXPECT_EQ(h.registers, before + 1);
  EXPECT_EQ(h.count(sip::RegistrationEventKind::kRegistered), 2);
}

TEST(SipRegEvent, ShortenedMovesTheRefreshAndRejectedIsFinal) {
  RegEventHarness h;
  std::string uri = h.reg->contact_uri();
  std::uint64_t before = h.reg->deadline_ms();
  h.notify(reginfo("active", "active", "shortened", "60", uri));
  ASSERT_EQ(h.count(sip::RegistrationEventKind::kRegistered), 2);
  EXPECT_EQ(h.events.back().expires_s, 60u);
  h.take(h.reg->poll(h.now));
  EXPECT_LT(h.reg->deadline_ms(), before);
  EXPECT_EQ(h.reg->deadline_ms(), 30000u);

  h.notify(reginfo("terminated", "terminated", "rejected", "0", uri), "terminated");
  EXPECT_EQ(h.count(sip::RegistrationEventKind::kUnregistered), 1);
  EXPECT_EQ(h.count(sip::RegistrationEventKind::kError), 1);
  EXPECT_TRUE(h.reg->finished());
}

TEST(SipRegEvent, ParseRegInfo) {
  std::string doc = reginfo("active", "active", "registered", "3600", "sip:a@b.invalid");
  auto info = sip::parse_reginfo(doc, "sip:alice@ims.example");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->state, "active");
  ASSERT_EQ(info->contacts.size(), 1u);
  EXPECT_EQ(info->contacts[0].uri, "sip:a@b.invalid");
  EXPECT_EQ(info->contacts[0].expires, 3600u);
  EXPECT_EQ(sip::parse_reginfo(doc, "sip:bob@ims.example").status(), Code::kNotFound);
  EXPECT_EQ(
      sip::parse_reginfo(doc.substr(0, doc.find("</contact>")), "sip:alice@ims.example").status(),
      Code::kMalformed);
  std::string many = "<reginfo><registration aor='x' state='active'>";
  for (int i = 0; i < 17; ++i)
    many += "<contact state='active'/>";
  many += "</registration></reginfo>";
  EXPECT_EQ(sip::parse_reginfo(many, "x").status(), Code::kTooLarge);
}
