// dc::Link over the real POSIX net port: two links in one process on 127.0.0.1, SDP offer and
// answer through sdp::make_offer / make_answer / apply_answer, ICE host checks (or none),
// DTLS, SCTP and a DCEP channel carrying a message each way; and a changed fingerprint that
// must never let the association open.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dc/link.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"
#include "sdp/negotiate.h"

namespace imsdc::dc {
namespace {

constexpr const char* kProtocol = "imsdc-link-test";

// A self-signed DTLS certificate in memory.
struct Identity {
  std::unique_ptr<crypto::MemoryKeystore> ks;
};

Identity self_signed(const char* cn) {
  Identity id;
  auto key = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(key.is_ok());
  id.ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
  auto der = crypto::make_self_signed_cert(*id.ks->port(), cn, "", imsdc_port_clock_wall_s(), 1);
  EXPECT_TRUE(der.is_ok());
  EXPECT_TRUE(id.ks->set_chain({der.value()}).is_ok());
  return id;
}

// What one link reported.
struct Events : Link::Handler {
  std::vector<AssociationState> states;
  Status failure;
  bool open = false, failed = false;
  int connected = 0;
  imsdc_port_addr path_local{}, path_remote{};
  std::vector<ChannelInfo> channels;
  std::vector<std::pair<std::uint16_t, std::string>> messages;

  void on_state(Link&, AssociationState st, Status s) override {
    states.push_back(st);
    if (st == AssociationState::kOpen) open = true;
    if (st == AssociationState::kFailed) {
      failed = true;
      failure = s;
    }
  }
  void on_open(Link&, const ChannelInfo& c) override { channels.push_back(c); }
  void on_message(Link&, std::uint16_t sid, ByteSpan d, bool binary) override {
    EXPECT_FALSE(binary);
    messages.emplace_back(sid, std::string(d.as_string()));
  }
  void on_closed(Link&, std::uint16_t) override {}
  void on_connected(Link&, const imsdc_port_addr& local, const imsdc_port_addr& remote) override {
    ++connected;
    path_local = local;
    path_remote = remote;
  }
  bool has_channel(const std::string& label) const {
    return std::any_of(channels.begin(), channels.end(),
                       [&](const ChannelInfo& c) { return c.label == label; });
  }
};

// Drives both links on the real clock, waiting on their sockets, until done() holds (true)
// or limit_ms passed (false).
bool run(Link& a, Link& b, const std::function<bool()>& done, std::uint64_t limit_ms) {
  const imsdc_port_net* net = posix::net();
  std::vector<imsdc_port_udp*> handles;
  a.add_handles(&handles);
  b.add_handles(&handles);
  const std::uint64_t end = imsdc_port_clock_monotonic_ms() + limit_ms;
  while (!done()) {
    const std::uint64_t now = imsdc_port_clock_monotonic_ms();
    if (now >= end) return false;
    a.service(now);
    b.service(now);
    if (done()) return true;
    const std::uint64_t next = std::min({a.next_deadline(), b.next_deadline(), now + 20});
    (void)net->wait(net->ctx, handles.data(), handles.size(),
                    next > now ? static_cast<std::uint32_t>(next - now) : 0);
  }
  return true;
}

class DcLink : public ::testing::Test {
protected:
  void SetUp() override {
    offerer_id_ = self_signed("link-offerer");
    answerer_id_ = self_signed("link-answerer");
    policy_.allowed_subprotocols = {kProtocol};
  }

  std::unique_ptr<Link> make(const Identity& id, bool ice, const char* name) {
    Link::Config c;
    imsdc_port_addr lo{};
    EXPECT_TRUE(ice::parse_ip("127.0.0.1", 0, &lo));
    c.binds = {lo};
    c.keystore = id.ks->port();
    c.max_message = 65536;
    c.ice = ice;
    c.name = name;
    auto link = Link::create(posix::net(), c);
    EXPECT_TRUE(link.is_ok()) << link.status().message();
    return link.is_ok() ? std::move(link.value()) : nullptr;
  }

  // Offer/answer between the two links and start both. `tamper` changes the offerer's
  // fingerprint as the answerer sees it (one bit of each a=fingerprint).
  void connect(bool ice, bool tamper) {
    offerer_ = make(offerer_id_, ice, "offerer");
    answerer_ = make(answerer_id_, ice, "answerer");
    ASSERT_TRUE(offerer_ && answerer_);
    sdp::OfferConfig oc;
    oc.local = offerer_->local();
    oc.local_bootstrap = false;
    auto offer = sdp::make_offer(oc);
    ASSERT_TRUE(offer.is_ok()) << offer.status().message();
    sdp::SessionDescription seen = offer.value();
    if (tamper) {
      for (auto& f : seen.fingerprints)
        f.digest[0] ^= 0x01;
      for (auto& m : seen.media)
        for (auto& f : m.fingerprints)
          f.digest[0] ^= 0x01;
    }
    sdp::AnswerConfig ac;
    ac.local = answerer_->local();
    auto answer = sdp::make_answer(seen, ac, policy_);
    ASSERT_TRUE(answer.is_ok()) << answer.status().message();
    ASSERT_TRUE(answer->result.accepted);
    auto neg = sdp::apply_answer(offer.value(), answer->sdp);
    ASSERT_TRUE(neg.is_ok()) << neg.status().message();
    const std::uint64_t now = imsdc_port_clock_monotonic_ms();
    ASSERT_TRUE(answerer_->start(answer->result, false, &policy_, &b_, now).is_ok());
    ASSERT_TRUE(offerer_->start(neg.value(), true, &policy_, &a_, now).is_ok());
  }

  // `text` from `from` on channel sid arrives, first, at the other link (`to` its handler).
  void send(Link& from, const Events& to, std::uint16_t sid, const std::string& text) {
    ASSERT_TRUE(from.association()->send(sid, ByteSpan(std::string_view(text)), false).is_ok());
    from.flush();
    ASSERT_TRUE(run(
        *offerer_, *answerer_, [&] { return !to.messages.empty(); }, 5000));
    EXPECT_EQ(to.messages[0], std::make_pair(sid, text));
  }

  // Both open, the offerer opens a DCEP channel, a message goes each way on it.
  void open_and_exchange() {
    ASSERT_TRUE(run(
        *offerer_, *answerer_, [&] { return a_.open && b_.open; }, 15000))
        << "offerer failed: " << a_.failed << " " << a_.failure.message()
        << "; answerer failed: " << b_.failed << " " << b_.failure.message();
    EXPECT_TRUE(offerer_->is_open());
    EXPECT_TRUE(answerer_->is_open());
    EXPECT_STREQ(offerer_->termination(), "e2e"); // no access-edge trust configured
    EXPECT_LE(offerer_->setup_ms(), 15000u);

    auto sid = offerer_->association()->open_channel("chat", kProtocol);
    ASSERT_TRUE(sid.is_ok()) << sid.status().message();
    offerer_->flush();
    ASSERT_TRUE(run(
        *offerer_, *answerer_, [&] { return a_.has_channel("chat") && b_.has_channel("chat"); },
        5000));
    ASSERT_NO_FATAL_FAILURE(send(*offerer_, b_, sid.value(), "ping"));
    ASSERT_NO_FATAL_FAILURE(send(*answerer_, a_, sid.value(), "pong"));
    EXPECT_FALSE(a_.failed || b_.failed);
  }

  Identity offerer_id_, answerer_id_;
  sdp::ChannelPolicy policy_;
  Events a_, b_;                  // before the links: they outlive them
  std::unique_ptr<Link> offerer_; // handler a_
  std::unique_ptr<Link> answerer_;
};

TEST_F(DcLink, TwoLinksOnLoopbackOpenAndCarryAMessageBothWays) {
  ASSERT_NO_FATAL_FAILURE(connect(true, false));
  EXPECT_FALSE(offerer_->local().ice.candidates.empty());
  ASSERT_NO_FATAL_FAILURE(open_and_exchange());
  // ICE selected the pair between the two sockets, once on each side, before DTLS.
  EXPECT_EQ(a_.connected, 1);
  EXPECT_EQ(b_.connected, 1);
  EXPECT_TRUE(ice::same_address(a_.path_local, b_.path_remote));
  EXPECT_TRUE(ice::same_address(a_.path_remote, b_.path_local));
  EXPECT_EQ(ice::to_string(a_.path_local).rfind("127.0.0.1:", 0), 0u);

  // close() aborts the association (SCTP ABORT, DTLS close_notify); the peer hears of it.
  offerer_->close();
  EXPECT_FALSE(offerer_->association()->state() == AssociationState::kOpen);
  const auto ended = [&] {
    const AssociationState st = answerer_->association()->state();
    return st == AssociationState::kClosed || st == AssociationState::kFailed;
  };
  EXPECT_TRUE(run(*offerer_, *answerer_, ended, 5000));
  EXPECT_NE(b_.states.back(), AssociationState::kOpen);
}

TEST_F(DcLink, WithoutIceTheSdpAddressIsThePath) {
  ASSERT_NO_FATAL_FAILURE(connect(false, false));
  EXPECT_FALSE(offerer_->local().ice.enabled);
  EXPECT_TRUE(offerer_->local().ice.candidates.empty());
  ASSERT_NO_FATAL_FAILURE(open_and_exchange());
  EXPECT_EQ(a_.connected, 0); // on_connected is for ICE only
  EXPECT_EQ(b_.connected, 0);
}

TEST_F(DcLink, WrongFingerprintNeverOpens) {
  ASSERT_NO_FATAL_FAILURE(connect(true, true));
  // The answerer is the DTLS client (a=setup:active) and checks the offerer's certificate
  // against the changed fingerprint.
  EXPECT_TRUE(run(
      *offerer_, *answerer_, [&] { return b_.failed; }, 15000));
  EXPECT_EQ(b_.failure.code(), Code::kTls) << b_.failure.message();
  // A little longer: nothing may open late on either side.
  (void)run(
      *offerer_, *answerer_, [] { return false; }, 500);
  EXPECT_FALSE(a_.open || b_.open);
  EXPECT_FALSE(offerer_->is_open() || answerer_->is_open());
  EXPECT_TRUE(a_.channels.empty() && b_.channels.empty());
  EXPECT_TRUE(a_.messages.empty() && b_.messages.empty());
  EXPECT_STREQ(answerer_->termination(), "-");
}

TEST_F(DcLink, CreateChecksItsArguments) {
  Link::Config c;
  EXPECT_EQ(Link::create(posix::net(), c).status().code(), Code::kInvalidArgument); // no keys
  c.keystore = offerer_id_.ks->port();
  EXPECT_EQ(Link::create(nullptr, c).status().code(), Code::kInvalidArgument);
  imsdc_port_addr lo{};
  ASSERT_TRUE(ice::parse_ip("127.0.0.1", 0, &lo));
  c.binds.assign(9, lo);
  EXPECT_EQ(Link::create(posix::net(), c).status().code(), Code::kInvalidArgument);
  // No binds: every local address the port lists (loopback when alone).
  c.binds.clear();
  auto any = Link::create(posix::net(), c);
  ASSERT_TRUE(any.is_ok()) << any.status().message();
  std::vector<imsdc_port_udp*> handles;
  any.value()->add_handles(&handles);
  EXPECT_FALSE(handles.empty());
  EXPECT_EQ(any.value()->association(), nullptr);        // not started
  any.value()->service(imsdc_port_clock_monotonic_ms()); // nothing to do before start()
  EXPECT_EQ(any.value()->next_deadline(), ~0ull);
}

} // namespace
} // namespace imsdc::dc
