// The registration driven through a message transport (the in-memory one of the fake port),
// the way the CLI drives it through the WSS transport: connect/open/send/on_message/close,
// events only from poll(). The same behaviours run against the real Kamailio in
// tests/labnet/register_test.sh; this test keeps the transport contract honest in between.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imsdc/port_fake.h"
#include "sip/auth.h"
#include "sip/builder.h"
#include "sip/message.h"
#include "sip/registration.h"

using namespace imsdc;

namespace {

Status fill(void* ctx, std::uint8_t* out, std::size_t n) {
  auto* c = static_cast<std::uint8_t*>(ctx);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = (*c)++;
  return Status::ok();
}

std::string param(std::string_view header, std::string_view name) {
  std::string key = std::string(name) + "=";
  auto p = header.find(key);
  if (p == std::string_view::npos) return "";
  p += key.size();
  bool quoted = p < header.size() && header[p] == '"';
  if (quoted) ++p;
  auto e = header.find_first_of(quoted ? "\"" : ", ", p);
  return std::string(
      header.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p));
}

// Drives one Registration over one MemoryTransport, like samples/cli/cmd_register.cpp.
struct Harness {
  fake::MemoryTransport transport;
  sip::Registration reg;
  std::vector<sip::RegistrationEvent> events;
  struct Ev {
    int kind; // 0 open, 1 message, 2 close
    std::string data;
    int reason = 0, http = 0;
  };
  std::vector<Ev> queue;
  imsdc_msg_transport_events cb{};
  imsdc_msg_transport_options opts{};

  explicit Harness(sip::Registration r) : reg(std::move(r)) {
    cb.user = this;
    cb.on_open = [](void* u) { static_cast<Harness*>(u)->queue.push_back({0, "", 0, 0}); };
    cb.on_message = [](void* u, const std::uint8_t* d, std::size_t n) {
      static_cast<Harness*>(u)->queue.push_back(
          {1, std::string(reinterpret_cast<const char*>(d), n), 0, 0});
    };
    cb.on_close = [](void* u, int reason, int http, const char*) {
      static_cast<Harness*>(u)->queue.push_back({2, "", reason, http});
    };
    opts.url = "wss://localhost:5443";
    opts.origin = "https://wwsf.ims.example";
    opts.subprotocol = "sip";
  }
  void apply(sip::RegistrationOutput out) {
    const imsdc_msg_transport* p = transport.port();
    if (out.transport == sip::TransportAction::kConnect) {
      ASSERT_EQ(p->connect(p->ctx, &opts, &cb), 0);
    }
    for (auto& m : out.send)
      ASSERT_EQ(p->send(p->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), m.size()),
                static_cast<int>(m.size()));
    if (out.transport == sip::TransportAction::kClose) p->close(p->ctx);
    for (auto& e : out.events)
      events.push_back(e);
  }
  // One turn of the loop at virtual time now.
  void step(std::uint64_t now) {
    const imsdc_msg_transport* p = transport.port();
    ASSERT_EQ(p->poll(p->ctx, 0), 0);
    std::vector<Ev> q;
    q.swap(queue);
    for (auto& e : q) {
      if (e.kind == 0) apply(reg.on_transport_open(now));
      if (e.kind == 1) apply(reg.on_message(ByteSpan(e.data), now));
      if (e.kind == 2) apply(reg.on_transport_closed(e.reason, e.http, now));
    }
    apply(reg.poll(now));
  }
};

// A registrar: 401 with a SHA-256 digest challenge, then checks the credentials and answers
// 200 with the binding.
void answer_registers(Harness& h, const std::string& password, int* challenged, int* accepted) {
  for (const std::string& text : h.transport.take_sent()) {
    auto m = sip::parse_message(ByteSpan(text));
    ASSERT_TRUE(m.is_ok());
    ASSERT_EQ(m.value().method(), "REGISTER");
    std::string_view auth = m.value().header("Authorization");
    std::string reply;
    if (auth.empty()) {
      auto r = sip::response_for(m.value(), 401, "Unauthorized", "srv1")
                   .header("WWW-Authenticate",
                           "Digest realm=\"ims.example\", nonce=\"n0nce\", qop=\"auth\", "
                           "algorithm=SHA-256")
                   .build();
      ASSERT_TRUE(r.is_ok());
      reply = r.value();
      ++*challenged;
    } else {
      auto ch = sip::parse_challenge(
          "Digest realm=\"ims.example\", nonce=\"n0nce\", qop=\"auth\", algorithm=SHA-256");
      ASSERT_TRUE(ch.is_ok());
      std::string cnonce = param(auth, "cnonce"), uri = param(auth, "uri");
      std::string user = param(auth, "username");
      sip::DigestInput in{user, password, "REGISTER", uri, cnonce, 1};
      auto want = sip::digest_response(ch.value(), in);
      ASSERT_TRUE(want.is_ok());
      bool ok = param(auth, "response") == want.value();
      std::string contact(m.value().header("Contact"));
      auto r = ok ? sip::response_for(m.value(), 200, "OK", "srv1")
                        .header("Contact", contact + ";expires=600")
                        .build()
                  : sip::response_for(m.value(), 403, "Forbidden", "srv1").build();
      ASSERT_TRUE(r.is_ok());
      reply = r.value();
      if (ok) ++*accepted;
    }
    h.transport.deliver(reply);
  }
}

sip::RegistrationConfig config(const char* password, std::uint8_t* counter,
                               const imsdc_port_storage* storage) {
  sip::RegistrationConfig c;
  c.impu = "sip:alice@ims.example";
  c.credential = sip::CredentialKind::kDigest;
  c.password = SecretBytes(ByteSpan(std::string_view(password)));
  c.random = sip::RandomSource{fill, counter};
  c.storage = storage;
  return c;
}

} // namespace

TEST(RegistrationOverTransport, DigestRegistersAndReconnectsWithTheSameInstance) {
  fake::MemoryStorage storage;
  std::uint8_t counter = 1;
  auto reg = sip::Registration::create(config("s3cret", &counter, storage.port()));
  ASSERT_TRUE(reg.is_ok());
  Harness h(std::move(reg.value()));
  int challenged = 0, accepted = 0;
  std::uint64_t now = 1000;
  h.apply(h.reg.start(now));
  for (int i = 0; i < 6 && accepted == 0; ++i) {
    h.step(now);
    answer_registers(h, "s3cret", &challenged, &accepted);
  }
  h.step(now);
  EXPECT_EQ(h.transport.last_origin(), "https://wwsf.ims.example");
  EXPECT_EQ(challenged, 1);
  EXPECT_EQ(accepted, 1);
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back().kind, sip::RegistrationEventKind::kRegistered);
  EXPECT_EQ(h.reg.state(), sip::RegistrationState::kRegistered);
  std::string uuid = h.reg.instance_uuid();

  // The far end drops the connection: connection lost, then a reconnect after the backoff
  // (at most backoff_initial_ms = 1 s for the first attempt) and a new registration.
  h.transport.server_close();
  h.step(now);
  EXPECT_EQ(h.events.back().kind, sip::RegistrationEventKind::kUnregistered);
  EXPECT_EQ(h.transport.connects(), 1);
  for (std::uint64_t t = now; t <= now + 1000 && accepted < 2; t += 100) {
    h.step(t);
    answer_registers(h, "s3cret", &challenged, &accepted);
    h.step(t);
  }
  EXPECT_EQ(h.transport.connects(), 2);
  EXPECT_EQ(accepted, 2);
  EXPECT_EQ(h.events.back().kind, sip::RegistrationEventKind::kRegistered);
  EXPECT_EQ(h.reg.instance_uuid(), uuid);
}

TEST(RegistrationOverTransport, RefusedUpgradeIsFinalWithItsHttpStatus) {
  std::uint8_t counter = 1;
  auto reg = sip::Registration::create(config("s3cret", &counter, nullptr));
  ASSERT_TRUE(reg.is_ok());
  Harness h(std::move(reg.value()));
  h.transport.answer_next_connect(IMSDC_TRANSPORT_CLOSED_REFUSED, 403);
  h.apply(h.reg.start(0));
  for (std::uint64_t t = 0; t < 120000; t += 5000)
    h.step(t); // two minutes: no retry
  EXPECT_EQ(h.transport.connects(), 1);
  ASSERT_FALSE(h.events.empty());
  const auto& e = h.events.back();
  EXPECT_EQ(e.kind, sip::RegistrationEventKind::kError);
  EXPECT_EQ(e.status.code(), Code::kRejected);
  EXPECT_EQ(e.http_status, 403);
  EXPECT_TRUE(h.reg.finished());
}

TEST(RegistrationOverTransport, WrongPasswordIsFinalAndNothingLoops) {
  std::uint8_t counter = 1;
  auto reg = sip::Registration::create(config("wrong", &counter, nullptr));
  ASSERT_TRUE(reg.is_ok());
  Harness h(std::move(reg.value()));
  int challenged = 0, accepted = 0;
  h.apply(h.reg.start(0));
  for (int i = 0; i < 10; ++i) {
    h.step(0);
    answer_registers(h, "s3cret", &challenged, &accepted);
  }
  EXPECT_EQ(accepted, 0);
  EXPECT_EQ(challenged, 1); // no second round of credentials after the 403
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back().status.code(), Code::kAuthRejected);
  EXPECT_EQ(h.transport.connects(), 1);
}
