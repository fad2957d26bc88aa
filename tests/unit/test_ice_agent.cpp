// Two ICE agents in one process over an in-test datagram pipe on the fake port's virtual
// clock (delay, loss), plus a hand-written ice-lite responder built on the STUN codec.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>

#include "ice/agent.h"
#include "imsdc/port_fake.h"

namespace imsdc::ice {
namespace {

imsdc_port_addr addr(const char* ip, std::uint16_t port) {
  imsdc_port_addr a{};
  EXPECT_TRUE(parse_ip(ip, port, &a)) << ip;
  return a;
}

sdp::Candidate candidate(const char* foundation, const imsdc_port_addr& a, std::uint32_t prio) {
  sdp::Candidate c;
  c.foundation = foundation;
  c.transport = "UDP";
  c.priority = prio;
  c.address = to_string(a).substr(a.family == IMSDC_AF_INET6 ? 1 : 0);
  c.address = c.address.substr(0, c.address.rfind(a.family == IMSDC_AF_INET6 ? "]:" : ":"));
  c.port = a.port;
  c.type = "host";
  return c;
}

struct Side {
  AgentConfig config;
  std::unique_ptr<Agent> agent;
  std::vector<AgentState> states;
  static void on_state(void* p, AgentState s, Status) {
    static_cast<Side*>(p)->states.push_back(s);
  }
  std::vector<sdp::Candidate> sdp_candidates() const {
    std::vector<sdp::Candidate> out;
    std::uint32_t prio = 2130706431;
    for (const auto& a : config.local_candidates)
      out.push_back(candidate("1", a, prio--));
    return out;
  }
};

Side make_side(Role role, const char* ufrag, const char* pwd, std::vector<imsdc_port_addr> locals,
               std::optional<std::uint64_t> tie = std::nullopt) {
  Side s;
  s.config.role = role;
  s.config.local.ufrag = ufrag;
  s.config.local.pwd = pwd;
  s.config.local_candidates = std::move(locals);
  s.config.tie_breaker = tie;
  return s;
}

void create(Side* s) {
  AgentCallbacks cb;
  cb.ctx = s;
  cb.on_state = Side::on_state;
  auto a = Agent::create(s->config, cb);
  ASSERT_TRUE(a.is_ok());
  s->agent = std::move(a.value());
}

struct Flight {
  std::uint64_t at;
  bool to_b;
  Bytes data;
  imsdc_port_addr from, to;
};

// Moves datagrams between two agents (or an agent and a scripted peer) in virtual time.
class Pipe {
public:
  Pipe(Agent* a, int loss_pct, std::uint32_t seed) : a_(a), loss_(loss_pct), rng_(seed) {}
  // The far end: an Agent or a function that answers datagrams.
  Agent* b = nullptr;
  std::function<void(const Flight&)> b_handler;
  std::function<bool(const Flight&)> drop; // extra filter: true drops
  std::uint64_t delay_ms = 5;

  void send_to_a(Bytes d, const imsdc_port_addr& from, const imsdc_port_addr& to) {
    flight_.push_back(Flight{fake::now_ms() + delay_ms, false, std::move(d), from, to});
  }

  template <typename Pred> bool run(Pred done, std::uint64_t limit_ms) {
    const std::uint64_t end = fake::now_ms() + limit_ms;
    while (!done()) {
      collect(a_, true);
      if (b) collect(b, false);
      deliver();
      if (done()) return true;
      if (fake::now_ms() >= end) return false;
      std::uint64_t next = a_->next_deadline();
      if (b) next = std::min(next, b->next_deadline());
      for (const auto& f : flight_)
        next = std::min(next, f.at);
      next = std::min(std::max(next, fake::now_ms() + 1), end);
      fake::set_now_ms(next);
      EXPECT_TRUE(a_->poll(fake::now_ms()).is_ok());
      if (b) {
        EXPECT_TRUE(b->poll(fake::now_ms()).is_ok());
      }
    }
    return true;
  }
  std::size_t dropped = 0;

private:
  void collect(Agent* from_agent, bool to_b) {
    Bytes d;
    imsdc_port_addr to, from;
    while (from_agent->take_datagram(&d, &to, &from)) {
      Flight f{fake::now_ms() + delay_ms, to_b, d, from, to};
      if (static_cast<int>(rng_() % 100) < loss_ || (drop && drop(f))) {
        ++dropped;
        continue;
      }
      flight_.push_back(std::move(f));
    }
  }
  void deliver() {
    for (std::size_t i = 0; i < flight_.size();) {
      if (flight_[i].at > fake::now_ms()) {
        ++i;
        continue;
      }
      Flight f = std::move(flight_[i]);
      flight_.erase(flight_.begin() + static_cast<std::ptrdiff_t>(i));
      if (f.to_b && b) (void)b->feed(f.data, f.from, f.to, fake::now_ms());
      if (f.to_b && b_handler) b_handler(f);
      if (!f.to_b) (void)a_->feed(f.data, f.from, f.to, fake::now_ms());
    }
  }
  Agent* a_;
  int loss_;
  std::mt19937 rng_;
  std::vector<Flight> flight_;
};

struct Two {
  Side a = make_side(Role::kControlling, "ufA1", "passwordOfAgentA-0123456",
                     {addr("192.0.2.1", 40000), addr("2001:db8::1", 40001)});
  Side b = make_side(Role::kControlled, "ufB2", "passwordOfAgentB-6543210",
                     {addr("192.0.2.2", 50000), addr("2001:db8::2", 50001)});
  void start() {
    create(&a);
    create(&b);
    ASSERT_TRUE(a.agent->set_remote(b.config.local, b.sdp_candidates(), false).is_ok());
    ASSERT_TRUE(b.agent->set_remote(a.config.local, a.sdp_candidates(), false).is_ok());
    ASSERT_TRUE(a.agent->start(fake::now_ms()).is_ok());
    ASSERT_TRUE(b.agent->start(fake::now_ms()).is_ok());
  }
  bool connected() const {
    return a.agent->state() == AgentState::kConnected && b.agent->state() == AgentState::kConnected;
  }
  void expect_same_pair() const {
    ASSERT_NE(a.agent->selected(), nullptr);
    ASSERT_NE(b.agent->selected(), nullptr);
    EXPECT_TRUE(same_address(a.agent->selected()->local, b.agent->selected()->remote));
    EXPECT_TRUE(same_address(a.agent->selected()->remote, b.agent->selected()->local));
    EXPECT_TRUE(a.agent->selected()->nominated);
    EXPECT_TRUE(b.agent->selected()->nominated);
  }
};

TEST(IceAddress, ParseAndFormat) {
  imsdc_port_addr a;
  ASSERT_TRUE(parse_ip("127.0.0.1", 9, &a));
  EXPECT_EQ(to_string(a), "127.0.0.1:9");
  ASSERT_TRUE(parse_ip("::1", 5000, &a));
  EXPECT_EQ(a.family, IMSDC_AF_INET6);
  EXPECT_EQ(a.addr[15], 1);
  EXPECT_EQ(to_string(a), "[::1]:5000");
  ASSERT_TRUE(parse_ip("2001:db8:0:0:1::2", 1, &a));
  EXPECT_EQ(to_string(a), "[2001:db8::1:0:0:2]:1"); // first zero run compressed
  ASSERT_TRUE(parse_ip("fe80::", 1, &a));
  EXPECT_EQ(a.addr[0], 0xfe);
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "1.2.3.4.5", "a::b::c", "1:2:3:4:5:6:7:8:9",
                          "x.local", "0123:4567:89ab:cdef:0123:4567:89ab:cdef0", ":1", "1:"})
    EXPECT_FALSE(parse_ip(bad, 1, &a)) << bad;
}

TEST(IceAddress, LocalEndpointOnBoundAddresses) {
  imsdc_port_addr a{}, b{};
  ASSERT_TRUE(parse_ip("127.0.0.1", 5000, &a));
  ASSERT_TRUE(parse_ip("::1", 5002, &b));
  crypto::Digest d{};
  d[0] = 0xab;
  auto l = local_endpoint({a, b}, d, 4096, true);
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ(host_string(b), "::1");
  EXPECT_EQ(l->connection.address, "127.0.0.1");
  EXPECT_EQ(l->port, 5000);
  EXPECT_EQ(l->max_message_size, 4096u);
  ASSERT_EQ(l->fingerprints.size(), 1u);
  EXPECT_EQ(l->fingerprints[0].digest, Bytes(d.begin(), d.end()));
  EXPECT_GE(l->tls_id.size(), 20u);
  ASSERT_TRUE(l->ice.enabled);
  EXPECT_EQ(l->ice.params.ufrag.size(), 8u);
  EXPECT_EQ(l->ice.params.pwd.size(), 24u);
  ASSERT_EQ(l->ice.candidates.size(), 2u);
  EXPECT_EQ(l->ice.candidates[1].address, "::1");
  EXPECT_EQ(l->ice.candidates[1].port, 5002);
  EXPECT_GT(l->ice.candidates[0].priority, l->ice.candidates[1].priority);
  // Fresh credentials each time; none without ICE; no address is an error.
  auto l2 = local_endpoint({a}, d, 4096, true);
  ASSERT_TRUE(l2.is_ok());
  EXPECT_NE(l2->ice.params.pwd, l->ice.params.pwd);
  EXPECT_NE(l2->tls_id, l->tls_id);
  EXPECT_FALSE(local_endpoint({a}, d, 4096, false)->ice.enabled);
  EXPECT_EQ(local_endpoint({}, d, 4096, true).status().code(), Code::kInvalidArgument);
}

TEST(IceAgent, TwoFullAgentsSelectTheSameBestPair) {
  fake::reset();
  Two t;
  t.start();
  Pipe pipe(t.a.agent.get(), 0, 1);
  pipe.b = t.b.agent.get();
  ASSERT_TRUE(pipe.run([&] { return t.connected(); }, 5000));
  t.expect_same_pair();
  // Our pairs: IPv4 x IPv4 and IPv6 x IPv6 (no cross-family pairs). The first local
  // candidate is preferred, so the IPv4 pair wins on both sides.
  EXPECT_EQ(t.a.agent->pairs().size(), 2u);
  EXPECT_EQ(t.a.agent->selected()->local.family, IMSDC_AF_INET4);
  EXPECT_EQ(t.a.agent->role(), Role::kControlling);
  EXPECT_EQ(t.b.agent->role(), Role::kControlled);
  EXPECT_EQ(t.a.states, std::vector<AgentState>{AgentState::kConnected});
  // Stays up: consent checks keep flowing for a minute of virtual time.
  const std::uint64_t until = fake::now_ms() + 60000;
  EXPECT_FALSE(pipe.run([&] { return !t.connected(); }, until - fake::now_ms()));
  EXPECT_TRUE(t.connected());
}

TEST(IceAgent, ConnectsUnderLossWithRetransmissions) {
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    fake::reset();
    Two t;
    t.start();
    Pipe pipe(t.a.agent.get(), 30, seed);
    pipe.b = t.b.agent.get();
    ASSERT_TRUE(pipe.run([&] { return t.connected(); }, 15000)) << "seed " << seed;
    t.expect_same_pair();
    EXPECT_GT(pipe.dropped, 0u);
  }
}

TEST(IceAgent, RoleConflictBothControllingResolvedByTieBreaker) {
  fake::reset();
  Two t;
  t.a.config.tie_breaker = 5;
  t.b.config.role = Role::kControlling;
  t.b.config.tie_breaker = 9;
  t.start();
  Pipe pipe(t.a.agent.get(), 0, 2);
  pipe.b = t.b.agent.get();
  ASSERT_TRUE(pipe.run([&] { return t.connected(); }, 5000));
  EXPECT_EQ(t.a.agent->role(), Role::kControlled); // smaller tie-breaker yields
  EXPECT_EQ(t.b.agent->role(), Role::kControlling);
  EXPECT_GT(t.a.agent->role_conflicts() + t.b.agent->role_conflicts(), 0u);
  t.expect_same_pair();
}

TEST(IceAgent, RoleConflictBothControlledResolvedByTieBreaker) {
  fake::reset();
  Two t;
  t.a.config.role = Role::kControlled;
  t.a.config.tie_breaker = 77;
  t.b.config.tie_breaker = 3;
  t.start();
  Pipe pipe(t.a.agent.get(), 0, 3);
  pipe.b = t.b.agent.get();
  ASSERT_TRUE(pipe.run([&] { return t.connected(); }, 5000));
  EXPECT_EQ(t.a.agent->role(), Role::kControlling); // larger tie-breaker takes control
  EXPECT_EQ(t.b.agent->role(), Role::kControlled);
  t.expect_same_pair();
}

TEST(IceAgent, FailsCleanlyWhenNoPairWorks) {
  fake::reset();
  Two t;
  t.start();
  Pipe pipe(t.a.agent.get(), 100, 4);
  pipe.b = t.b.agent.get();
  const std::uint64_t start = fake::now_ms();
  ASSERT_TRUE(pipe.run([&] { return t.a.agent->state() == AgentState::kFailed; }, 60000));
  EXPECT_EQ(t.a.agent->error(), Code::kTimeout);
  EXPECT_LE(fake::now_ms() - start, 15000u);
  for (const auto& p : t.a.agent->pairs())
    EXPECT_EQ(p.state, PairState::kFailed);
  EXPECT_EQ(t.a.agent->selected(), nullptr);
  EXPECT_EQ(t.a.states, std::vector<AgentState>{AgentState::kFailed});
}

TEST(IceAgent, WrongPasswordNeverConnectsAndNoPasswordIsLogged) {
  fake::reset();
  fake::set_log_echo(false);
  Two t;
  create(&t.a);
  create(&t.b);
  sdp::IceParams wrong = t.b.config.local;
  wrong.pwd[0] ^= 1; // A signs its checks with a password B does not have
  ASSERT_TRUE(t.a.agent->set_remote(wrong, t.b.sdp_candidates(), false).is_ok());
  ASSERT_TRUE(t.b.agent->set_remote(t.a.config.local, t.a.sdp_candidates(), false).is_ok());
  ASSERT_TRUE(t.a.agent->start(fake::now_ms()).is_ok());
  ASSERT_TRUE(t.b.agent->start(fake::now_ms()).is_ok());
  Pipe pipe(t.a.agent.get(), 0, 5);
  pipe.b = t.b.agent.get();
  ASSERT_TRUE(pipe.run([&] { return t.a.agent->state() == AgentState::kFailed; }, 60000));
  // A's checks are answered 401 without integrity, which A ignores: its pairs time out.
  // B's checks verify at A and their answers at B, but B is controlled and A never
  // nominates, so neither side selects a pair.
  EXPECT_NE(t.a.agent->state(), AgentState::kConnected);
  EXPECT_NE(t.b.agent->state(), AgentState::kConnected);
  for (const auto& line : fake::log_lines()) {
    EXPECT_EQ(line.find(t.a.config.local.pwd), std::string::npos) << line;
    EXPECT_EQ(line.find(t.b.config.local.pwd), std::string::npos) << line;
  }
}

TEST(IceAgent, ConsentExpiresWhenThePeerGoesSilent) {
  fake::reset();
  Two t;
  t.start();
  Pipe pipe(t.a.agent.get(), 0, 6);
  pipe.b = t.b.agent.get();
  ASSERT_TRUE(pipe.run([&] { return t.connected(); }, 5000));
  bool silent = true;
  pipe.drop = [&](const Flight& f) { return silent && !f.to_b; }; // B's datagrams vanish
  const std::uint64_t cut = fake::now_ms();
  ASSERT_TRUE(pipe.run([&] { return t.a.agent->state() == AgentState::kFailed; }, 60000));
  EXPECT_EQ(t.a.agent->error(), Code::kTimeout);
  EXPECT_GE(fake::now_ms() - cut, 25000u); // about consent_timeout_ms, not before
  EXPECT_LE(fake::now_ms() - cut, 31000u);
}

// A minimal ice-lite peer (RFC 8445 section 2.5): never checks, answers checks with its
// password, takes the pair a USE-CANDIDATE check arrives on.
struct LitePeer {
  std::string ufrag = "lite", pwd = "litePasswordLitePassword";
  imsdc_port_addr address = addr("198.51.100.7", 3478);
  bool nominated = false;
  std::size_t requests = 0;
  void on_datagram(Pipe* pipe, const Flight& f) {
    auto m = parse(f.data);
    if (!m.is_ok() || m->cls != StunClass::kRequest) return;
    ASSERT_TRUE(m->has_fingerprint);
    ASSERT_TRUE(verify_integrity(f.data, m.value(), std::string_view(pwd)).is_ok());
    ASSERT_EQ(m->username->substr(0, ufrag.size() + 1), ufrag + ":");
    EXPECT_TRUE(m->ice_controlling.has_value()); // a full agent controls a lite peer
    ++requests;
    if (m->use_candidate) nominated = true;
    StunMessage r;
    r.cls = StunClass::kSuccess;
    r.transaction = m->transaction;
    r.xor_mapped = f.from;
    auto bytes = serialize(r, std::string_view(pwd), true);
    ASSERT_TRUE(bytes.is_ok());
    pipe->send_to_a(bytes.value(), address, f.from);
  }
};

TEST(IceAgent, ControlsAndNominatesAgainstAnIceLitePeer) {
  fake::reset();
  // Configured controlled (e.g. answering the lite peer's offer): must become controlling.
  Side a =
      make_side(Role::kControlled, "ufA1", "passwordOfAgentA-0123456", {addr("192.0.2.1", 40000)});
  create(&a);
  LitePeer lite;
  sdp::IceParams lite_ice;
  lite_ice.ufrag = lite.ufrag;
  lite_ice.pwd = lite.pwd;
  sdp::Candidate mdns = candidate("2", lite.address, 100);
  mdns.address = "0b7a1f2c.local"; // unresolvable: skipped, not fatal
  ASSERT_TRUE(a.agent->set_remote(lite_ice, {candidate("1", lite.address, 2130706431), mdns}, true)
                  .is_ok());
  EXPECT_EQ(a.agent->role(), Role::kControlling);
  ASSERT_TRUE(a.agent->start(fake::now_ms()).is_ok());
  Pipe pipe(a.agent.get(), 20, 7);
  pipe.b_handler = [&](const Flight& f) { lite.on_datagram(&pipe, f); };
  ASSERT_TRUE(pipe.run([&] { return a.agent->state() == AgentState::kConnected; }, 10000));
  EXPECT_TRUE(lite.nominated);
  ASSERT_NE(a.agent->selected(), nullptr);
  EXPECT_TRUE(same_address(a.agent->selected()->remote, lite.address));
  EXPECT_EQ(a.agent->pairs().size(), 1u);
}

TEST(IceAgent, UnauthenticatedChecksChangeNothing) {
  fake::reset();
  Two t;
  t.start();
  // A check with the right username but signed with a wrong password: 401, no pair learnt.
  StunMessage m;
  m.username = t.b.config.local.ufrag + ":" + t.a.config.local.ufrag;
  m.ice_controlling = 1;
  m.use_candidate = true;
  auto bytes = serialize(m, std::string_view("not-the-password-at-all"), true);
  ASSERT_TRUE(bytes.is_ok());
  const imsdc_port_addr stranger = addr("203.0.113.9", 999);
  ASSERT_TRUE(t.b.agent->feed(bytes.value(), stranger, t.b.config.local_candidates[0], 0).is_ok());
  EXPECT_EQ(t.b.agent->pairs().size(), 2u);
  Bytes out;
  imsdc_port_addr to, from;
  ASSERT_TRUE(t.b.agent->take_datagram(&out, &to, &from));
  auto r = parse(out);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->cls, StunClass::kError);
  EXPECT_EQ(r->error->code, 401);
  EXPECT_TRUE(same_address(to, stranger));
  // Without FINGERPRINT the datagram is dropped outright.
  auto no_fp = serialize(m, std::string_view(t.b.config.local.pwd), false);
  ASSERT_TRUE(no_fp.is_ok());
  EXPECT_EQ(t.b.agent->feed(no_fp.value(), stranger, t.b.config.local_candidates[0], 0),
            Code::kMalformed);
}

} // namespace
} // namespace imsdc::ice
