// Registration state machine on a virtual clock, against a scripted registrar: each test
// reads the REGISTER the machine sends and answers it with a response built from it.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sip/builder.h"
#include "sip/registration.h"
#include "sip/uri.h"

namespace imsdc::sip {
namespace {

// Deterministic "randomness": a counter, so identifiers differ but tests are repeatable.
Status counter_fill(void* context, std::uint8_t* out, std::size_t length) {
  auto* n = static_cast<std::uint32_t*>(context);
  for (std::size_t i = 0; i < length; ++i)
    out[i] = static_cast<std::uint8_t>((*n)++ * 37 + i);
  return Status::ok();
}

// The storage port's key-value part over a map.
struct Kv {
  std::map<std::string, std::string> values;
  imsdc_port_storage port{};
  Kv() {
    port.version = IMSDC_PORT_STORAGE_VERSION;
    port.ctx = this;
    port.kv_get = [](void* ctx, const char* key, std::uint8_t* out, std::size_t cap,
                     std::size_t* out_len) -> int {
      auto& m = static_cast<Kv*>(ctx)->values;
      auto it = m.find(key);
      if (it == m.end()) return IMSDC_PORT_ENOENT;
      *out_len = it->second.size();
      if (cap < it->second.size()) return IMSDC_PORT_ENOSPC;
      std::memcpy(out, it->second.data(), it->second.size());
      return 0;
    };
    port.kv_put = [](void* ctx, const char* key, const std::uint8_t* v, std::size_t len) -> int {
      static_cast<Kv*>(ctx)->values[key] = std::string(reinterpret_cast<const char*>(v), len);
      return 0;
    };
  }
};

struct Tokens {
  std::vector<std::string> tokens; // handed out in order; the last one repeats
  std::vector<bool> fresh_flags;
  static Status get(void* ctx, bool fresh, SecretBytes* out) {
    auto* t = static_cast<Tokens*>(ctx);
    std::size_t i = std::min(t->fresh_flags.size(), t->tokens.size() - 1);
    t->fresh_flags.push_back(fresh);
    *out = SecretBytes(ByteSpan(t->tokens[i]));
    return Status::ok();
  }
};

Message parse(const std::string& text) {
  auto m = parse_message(ByteSpan(text));
  EXPECT_TRUE(m.is_ok()) << m.status().message() << "\n" << text;
  return m.value();
}

std::string reply(const std::string& request, int code, const char* reason,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Message req = parse(request);
  MessageBuilder b = response_for(req, code, reason, "srv1");
  for (const auto& h : headers)
    b.header(h.first, h.second);
  return b.build().value();
}

// A 200 OK that echoes the request's Contact with the granted expiry and a pub-gruu.
std::string ok(const std::string& request, std::uint32_t expires) {
  Message req = parse(request);
  std::string contact(req.header("Contact"));
  contact +=
      ";expires=" + std::to_string(expires) + ";pub-gruu=\"sip:alice@ims.example;gr=urn:uuid:x\"";
  return reply(request, 200, "OK", {{"Contact", contact}, {"Flow-Timer", "25"}});
}

const char* kDigestSha256 =
    "Digest realm=\"ims.example\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"";

class RegistrationTest : public ::testing::Test {
protected:
  RegistrationConfig digest_config() {
    RegistrationConfig c;
    c.impu = "sip:alice@ims.example";
    c.password = SecretBytes(ByteSpan(std::string_view("secret")));
    c.expires_s = 600;
    c.random = RandomSource{counter_fill, &counter_};
    c.storage = &kv_.port;
    return c;
  }
  RegistrationConfig bearer_config() {
    RegistrationConfig c = digest_config();
    c.password = SecretBytes();
    c.credential = CredentialKind::kBearer;
    c.token_provider = TokenProvider{Tokens::get, &tokens_};
    return c;
  }
  Registration make(RegistrationConfig c) {
    auto r = Registration::create(std::move(c));
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return std::move(r.value());
  }
  // Starts and opens the transport; returns the first REGISTER.
  std::string open(Registration& r) {
    auto o = r.start(now_);
    EXPECT_EQ(o.transport, TransportAction::kConnect);
    o = r.on_transport_open(now_);
    EXPECT_EQ(o.send.size(), 1u);
    return o.send.empty() ? std::string() : o.send[0];
  }
  RegistrationOutput answer(Registration& r, const std::string& text) {
    return r.on_message(ByteSpan(text), now_);
  }
  // Digest registration up to the 200 OK; returns the output of the 200.
  RegistrationOutput register_digest(Registration& r, std::uint32_t granted = 600) {
    std::string req = open(r);
    auto o = answer(r, reply(req, 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
    EXPECT_EQ(o.send.size(), 1u);
    return answer(r, ok(o.send.at(0), granted));
  }

  std::uint32_t counter_ = 1;
  Kv kv_;
  Tokens tokens_;
  std::uint64_t now_ = 1000;
};

TEST_F(RegistrationTest, RefreshDelay) {
  EXPECT_EQ(Registration::refresh_delay_ms(600), 300000u);
  EXPECT_EQ(Registration::refresh_delay_ms(60), 30000u);
  EXPECT_EQ(Registration::refresh_delay_ms(40), 10000u); // expiry - 30 s is earlier
  EXPECT_EQ(Registration::refresh_delay_ms(30), 15000u);
  EXPECT_EQ(Registration::refresh_delay_ms(10), 5000u); // never negative
  EXPECT_EQ(Registration::refresh_delay_ms(1), 500u);
}

TEST_F(RegistrationTest, RejectsBadConfig) {
  RegistrationConfig c = digest_config();
  c.impu = "tel:+12025550100";
  EXPECT_EQ(Registration::create(std::move(c)).status(), Code::kInvalidArgument);
  c = digest_config();
  c.password = SecretBytes();
  EXPECT_EQ(Registration::create(std::move(c)).status(), Code::kInvalidArgument);
  c = bearer_config();
  c.token_provider = TokenProvider{};
  EXPECT_EQ(Registration::create(std::move(c)).status(), Code::kInvalidArgument);
}

TEST_F(RegistrationTest, RegisterFollowsProfile) {
  Registration r = make(digest_config());
  Message m = parse(open(r));
  EXPECT_EQ(m.method(), "REGISTER");
  EXPECT_EQ(m.request_uri(), "sip:ims.example");
  auto via = parse_via(m.header("Via"));
  ASSERT_TRUE(via.is_ok());
  EXPECT_EQ(via->transport, "WSS");
  EXPECT_NE(via->host.find(".invalid"), std::string_view::npos);
  EXPECT_EQ(via->branch.substr(0, 7), "z9hG4bK");
  std::string contact(m.header("Contact"));
  EXPECT_NE(contact.find("<sip:alice@"), std::string::npos);
  EXPECT_NE(contact.find(".invalid;transport=ws>"), std::string::npos);
  EXPECT_NE(contact.find("+sip.instance=\"<urn:uuid:" + r.instance_uuid() + ">\""),
            std::string::npos);
  EXPECT_NE(contact.find(";reg-id=1"), std::string::npos);
  EXPECT_NE(contact.find("+sip.app-subtype=\"webrtc-datachannel\""), std::string::npos);
  EXPECT_EQ(m.header("Supported"), "outbound, path, gruu");
  EXPECT_EQ(m.header("Expires"), "600");
  EXPECT_FALSE(m.has_header("Authorization"));
  EXPECT_EQ(kv_.values[kInstanceKey], r.instance_uuid());
}

TEST_F(RegistrationTest, DigestSha256Registers) {
  Registration r = make(digest_config());
  std::string req = open(r);
  auto o = answer(r, reply(req, 401, "Unauthorized",
                           {{"WWW-Authenticate", "Digest realm=\"ims.example\", nonce=\"m\", "
                                                 "algorithm=MD5, qop=\"auth\""},
                            {"WWW-Authenticate", kDigestSha256}}));
  ASSERT_EQ(o.send.size(), 1u);
  Message m = parse(o.send[0]);
  std::string auth(m.header("Authorization"));
  EXPECT_EQ(auth.rfind("Digest ", 0), 0u);
  EXPECT_NE(auth.find("username=\"alice@ims.example\""), std::string::npos);
  EXPECT_NE(auth.find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(auth.find("qop=auth"), std::string::npos);
  EXPECT_NE(auth.find("uri=\"sip:ims.example\""), std::string::npos);
  EXPECT_EQ(auth.find("secret"), std::string::npos);
  // The response value is the one digest_response computes for the same inputs.
  auto cn = auth.find("cnonce=\"");
  ASSERT_NE(cn, std::string::npos);
  std::string cnonce = auth.substr(cn + 8, auth.find('"', cn + 8) - cn - 8);
  auto ch = parse_challenge(kDigestSha256);
  DigestInput in{"alice@ims.example", "secret", "REGISTER", "sip:ims.example", cnonce, 1};
  EXPECT_NE(auth.find("response=\"" + digest_response(ch.value(), in).value() + "\""),
            std::string::npos);

  o = answer(r, ok(o.send[0], 600));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kRegistered);
  EXPECT_EQ(o.events[0].expires_s, 600u);
  EXPECT_EQ(o.events[0].pub_gruu, "sip:alice@ims.example;gr=urn:uuid:x");
  EXPECT_EQ(o.events[0].flow_timer_s, 25u);
  EXPECT_EQ(r.state(), RegistrationState::kRegistered);
  EXPECT_EQ(o.deadline_ms, now_ + 300000);
}

TEST_F(RegistrationTest, StaleNonceRetriedOnceSilently) {
  Registration r = make(digest_config());
  std::string req = open(r);
  auto o = answer(r, reply(req, 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  ASSERT_EQ(o.send.size(), 1u);
  std::string stale = std::string(kDigestSha256) + ", stale=true";
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", stale}}));
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_TRUE(o.events.empty());
  EXPECT_TRUE(parse(o.send[0]).has_header("Authorization"));
  // A second stale challenge in the same cycle is final.
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", stale}}));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kAuthRejected);
  EXPECT_EQ(o.transport, TransportAction::kClose);
}

TEST_F(RegistrationTest, WrongPasswordIsFinal) {
  Registration r = make(digest_config());
  std::string req = open(r);
  auto o = answer(r, reply(req, 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  ASSERT_EQ(o.send.size(), 1u);
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  EXPECT_TRUE(o.send.empty());
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kError);
  EXPECT_EQ(o.events[0].status, Code::kAuthRejected);
  EXPECT_EQ(o.events[0].sip_status, 401);
  EXPECT_EQ(o.transport, TransportAction::kClose);
  EXPECT_EQ(r.state(), RegistrationState::kFailed);
  // The server closing right after the rejection starts no reconnect.
  o = r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NORMAL, 0, now_);
  EXPECT_EQ(o.transport, TransportAction::kNone);
  EXPECT_TRUE(o.events.empty());
  o = r.poll(now_ + 3600000);
  EXPECT_EQ(o.transport, TransportAction::kNone);
  EXPECT_TRUE(o.send.empty());
}

TEST_F(RegistrationTest, ForbiddenIsFinal) {
  Registration r = make(digest_config());
  auto o = answer(r, reply(open(r), 403, "Forbidden"));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kAuthRejected);
  EXPECT_EQ(o.events[0].sip_status, 403);
  EXPECT_EQ(o.events[0].sip_reason, "Forbidden");
  EXPECT_EQ(o.events[0].status.exit_class(), ExitClass::kAuth);
}

TEST_F(RegistrationTest, OtherRejectionIsRejected) {
  Registration r = make(digest_config());
  auto o = answer(r, reply(open(r), 404, "Not Found"));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kRejected);
  EXPECT_EQ(o.events[0].sip_status, 404);
  EXPECT_EQ(o.events[0].status.exit_class(), ExitClass::kRefused);
}

TEST_F(RegistrationTest, BearerInvalidTokenRefreshedOnce) {
  tokens_.tokens = {"expired.token.x", "fresh.token.y"};
  Registration r = make(bearer_config());
  std::string req = open(r);
  auto o = answer(
      r, reply(req, 401, "Unauthorized", {{"WWW-Authenticate", "Bearer realm=\"ims.example\""}}));
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(parse(o.send[0]).header("Authorization"), "Bearer expired.token.x");
  o = answer(
      r, reply(o.send[0], 401, "Unauthorized",
               {{"WWW-Authenticate", "Bearer realm=\"ims.example\", error=\"invalid_token\""}}));
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(parse(o.send[0]).header("Authorization"), "Bearer fresh.token.y");
  ASSERT_EQ(tokens_.fresh_flags.size(), 2u);
  EXPECT_FALSE(tokens_.fresh_flags[0]);
  EXPECT_TRUE(tokens_.fresh_flags[1]);
  std::string second = o.send[0];
  o = answer(r, ok(second, 600));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kRegistered);
}

TEST_F(RegistrationTest, BearerSecondInvalidTokenIsFinal) {
  tokens_.tokens = {"a.b.c"};
  Registration r = make(bearer_config());
  const char* invalid = "Bearer realm=\"ims.example\", error=\"invalid_token\"";
  auto o = answer(r, reply(open(r), 401, "Unauthorized", {{"WWW-Authenticate", invalid}}));
  ASSERT_EQ(o.send.size(), 1u);
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", invalid}}));
  ASSERT_EQ(o.send.size(), 1u);
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", invalid}}));
  EXPECT_TRUE(o.send.empty());
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kAuthRejected);
  EXPECT_EQ(tokens_.fresh_flags.size(), 2u);
}

TEST_F(RegistrationTest, BearerInsufficientScopeIsFinal) {
  tokens_.tokens = {"a.b.c"};
  Registration r = make(bearer_config());
  auto o = answer(r, reply(open(r), 401, "Unauthorized",
                           {{"WWW-Authenticate", "Bearer realm=\"ims.example\""}}));
  o = answer(r, reply(o.send.at(0), 403, "Forbidden",
                      {{"WWW-Authenticate",
                        "Bearer realm=\"ims.example\", error=\"insufficient_scope\""}}));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kAuthRejected);
  EXPECT_EQ(o.events[0].sip_status, 403);
}

TEST_F(RegistrationTest, IntervalTooBriefRetriesWithMinExpires) {
  RegistrationConfig c = digest_config();
  c.expires_s = 30;
  Registration r = make(std::move(c));
  std::string req = open(r);
  auto o = answer(r, reply(req, 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  o = answer(r, reply(o.send.at(0), 423, "Interval Too Brief", {{"Min-Expires", "120"}}));
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(parse(o.send[0]).header("Expires"), "120");
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  o = answer(r, ok(o.send.at(0), 120));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].expires_s, 120u);
  EXPECT_EQ(o.deadline_ms, now_ + 60000);
}

TEST_F(RegistrationTest, ServiceUnavailableHonoursRetryAfter) {
  Registration r = make(digest_config());
  auto o = answer(r, reply(open(r), 503, "Service Unavailable", {{"Retry-After", "7"}}));
  EXPECT_TRUE(o.send.empty());
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(o.deadline_ms, now_ + 7000);
  o = r.poll(now_ + 6999);
  EXPECT_TRUE(o.send.empty());
  o = r.poll(now_ + 7000);
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(parse(o.send[0]).method(), "REGISTER");
  EXPECT_EQ(o.transport, TransportAction::kNone); // same connection
}

TEST_F(RegistrationTest, RefreshesBeforeExpiry) {
  Registration r = make(digest_config());
  auto o = register_digest(r, 40); // short expiry: refresh at expiry - 30 s
  EXPECT_EQ(o.deadline_ms, now_ + 10000);
  EXPECT_TRUE(r.poll(now_ + 9999).send.empty());
  now_ += 10000;
  o = r.poll(now_);
  ASSERT_EQ(o.send.size(), 1u);
  Message m = parse(o.send[0]);
  EXPECT_FALSE(m.has_header("Authorization"));
  EXPECT_EQ(m.cseq().number, 3u);
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  o = answer(r, ok(o.send.at(0), 10)); // very short grant: half of it
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.deadline_ms, now_ + 5000);
}

TEST_F(RegistrationTest, ReconnectBackoffIsBoundedAndKeepsInstance) {
  RegistrationConfig c = digest_config();
  c.backoff_initial_ms = 1000;
  c.backoff_max_ms = 8000;
  Registration r = make(std::move(c));
  std::string uuid = r.instance_uuid();
  register_digest(r);
  auto o = r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NETWORK, 0, now_);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kUnregistered);
  EXPECT_EQ(o.events[0].reason, UnregisterReason::kConnectionLost);
  std::uint64_t nominal = 1000;
  for (int attempt = 0; attempt < 6; ++attempt) {
    std::uint64_t delay = o.deadline_ms - now_;
    EXPECT_GE(delay, nominal / 2) << attempt;
    EXPECT_LE(delay, nominal) << attempt;
    now_ = o.deadline_ms;
    o = r.poll(now_);
    ASSERT_EQ(o.transport, TransportAction::kConnect);
    o = r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NETWORK, 0, now_);
    nominal = std::min<std::uint64_t>(nominal * 2, 8000);
  }
  now_ = o.deadline_ms;
  o = r.poll(now_);
  ASSERT_EQ(o.transport, TransportAction::kConnect);
  o = r.on_transport_open(now_);
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_NE(std::string(parse(o.send[0]).header("Contact")).find(uuid), std::string::npos);
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  o = answer(r, ok(o.send.at(0), 600));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kRegistered);

  // A new object (a restart) reuses the stored UUID.
  Registration again = make(digest_config());
  EXPECT_EQ(again.instance_uuid(), uuid);
}

TEST_F(RegistrationTest, ReconnectGivesUpAfterMaxRetries) {
  RegistrationConfig c = digest_config();
  c.max_retries = 2;
  Registration r = make(std::move(c));
  register_digest(r);
  auto o = r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NETWORK, 0, now_);
  for (int i = 0; i < 2; ++i) {
    now_ = o.deadline_ms;
    o = r.poll(now_);
    ASSERT_EQ(o.transport, TransportAction::kConnect);
    o = r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NETWORK, 0, now_);
  }
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kNetwork);
  EXPECT_TRUE(r.finished());
}

TEST_F(RegistrationTest, FirstConnectFailuresAreFinal) {
  Registration r = make(digest_config());
  (void)r.start(now_);
  auto o = r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_TLS, 0, now_);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kTls);

  Registration r2 = make(digest_config());
  (void)r2.start(now_);
  o = r2.on_transport_closed(IMSDC_TRANSPORT_CLOSED_REFUSED, 403, now_);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kRejected);
  EXPECT_EQ(o.events[0].http_status, 403);

  Registration r3 = make(digest_config());
  (void)r3.start(now_);
  o = r3.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NETWORK, 0, now_);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].status, Code::kNetwork);
}

TEST_F(RegistrationTest, NoAnswerReconnects) {
  Registration r = make(digest_config());
  register_digest(r);
  now_ += 300000;
  auto o = r.poll(now_);
  ASSERT_EQ(o.send.size(), 1u);
  now_ += kTransactionTimeoutMs;
  o = r.poll(now_);
  EXPECT_EQ(o.transport, TransportAction::kClose);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kUnregistered);
  EXPECT_EQ(r.state(), RegistrationState::kWaiting);
}

TEST_F(RegistrationTest, ShutdownDeregisters) {
  Registration r = make(digest_config());
  register_digest(r);
  auto o = r.shutdown(now_);
  ASSERT_EQ(o.send.size(), 1u);
  Message m = parse(o.send[0]);
  EXPECT_EQ(m.header("Expires"), "0");
  EXPECT_TRUE(m.has_header("Contact"));
  o = answer(r, reply(o.send[0], 401, "Unauthorized", {{"WWW-Authenticate", kDigestSha256}}));
  ASSERT_EQ(o.send.size(), 1u);
  EXPECT_EQ(parse(o.send[0]).header("Expires"), "0");
  EXPECT_TRUE(parse(o.send[0]).has_header("Authorization"));
  o = answer(r, reply(o.send[0], 200, "OK"));
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kUnregistered);
  EXPECT_EQ(o.events[0].reason, UnregisterReason::kShutdown);
  EXPECT_EQ(o.transport, TransportAction::kClose);
  EXPECT_EQ(r.state(), RegistrationState::kDone);
}

TEST_F(RegistrationTest, ShutdownWhileDisconnectedEndsAtOnce) {
  Registration r = make(digest_config());
  register_digest(r);
  (void)r.on_transport_closed(IMSDC_TRANSPORT_CLOSED_NETWORK, 0, now_);
  auto o = r.shutdown(now_);
  EXPECT_TRUE(o.send.empty());
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].kind, RegistrationEventKind::kUnregistered);
  EXPECT_TRUE(r.finished());
}

} // namespace
} // namespace imsdc::sip
