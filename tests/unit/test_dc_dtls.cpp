// DTLS endpoint: two endpoints in one process over an in-test datagram pipe on the fake
// port's virtual clock. Handshake in both roles, fingerprint enforcement, e2ae/e2e
// classification, Chromium-style fragmented ClientHello, loss with retransmission timers.
#include <algorithm>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "crypto/internal.h"
#include "dc/dtls.h"
#include "dc/hello_reassembler.h"
#include "dc_identity.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"
#include "sdp/sdp.h"

namespace imsdc::dc {
namespace {

using test::Identity;
using test::self_signed;

// A leaf issued by `ca` (chain leaf, ca).
Identity issued_by(const Identity& ca, const char* ca_cn, const char* cn) {
  Identity id;
  auto key = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(key.is_ok());
  crypto::internal::CertSpec spec;
  spec.subject_cn = cn;
  spec.issuer_cn = ca_cn;
  spec.subject_key = key->public_key();
  spec.not_before = fake::wall_s() - 60;
  spec.not_after = fake::wall_s() + 86400;
  id.ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
  auto der = crypto::internal::issue_cert(*ca.ks->port(), spec);
  EXPECT_TRUE(der.is_ok());
  id.der = der.value();
  EXPECT_TRUE(id.ks->set_chain({id.der, ca.der}).is_ok());
  return id;
}

Identity ca_cert(const char* cn) {
  Identity id;
  auto key = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(key.is_ok());
  crypto::internal::CertSpec spec;
  spec.subject_cn = cn;
  spec.issuer_cn = cn;
  spec.subject_key = key->public_key();
  spec.not_before = fake::wall_s() - 60;
  spec.not_after = fake::wall_s() + 86400;
  spec.is_ca = true;
  id.ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
  auto der = crypto::internal::issue_cert(*id.ks->port(), spec);
  EXPECT_TRUE(der.is_ok());
  id.der = der.value();
  EXPECT_TRUE(id.ks->set_chain({id.der}).is_ok());
  return id;
}

struct Side {
  std::unique_ptr<DtlsEndpoint> ep;
  std::vector<Bytes> received;
  int connected = 0;
  static void on_data(void* p, ByteSpan d) {
    static_cast<Side*>(p)->received.emplace_back(d.begin(), d.end());
  }
  static void on_state(void* p, DtlsState s, Status) {
    if (s == DtlsState::kConnected) ++static_cast<Side*>(p)->connected;
  }
};

// Moves datagrams both ways until both sides are quiet; when quiet, advances the virtual
// clock to the earliest timer. `filter` may drop (return false) or rewrite datagrams.
using Filter = std::function<bool(bool from_client, Bytes* d)>;
void pump(Side& c, Side& s, const Filter& filter, std::uint64_t limit_ms = 120000) {
  const std::uint64_t end = fake::now_ms() + limit_ms;
  while (fake::now_ms() < end) {
    bool moved = false;
    Bytes d;
    while (c.ep->take_datagram(&d)) {
      moved = true;
      if (filter && !filter(true, &d)) continue;
      (void)s.ep->feed(d, fake::now_ms());
    }
    while (s.ep->take_datagram(&d)) {
      moved = true;
      if (filter && !filter(false, &d)) continue;
      (void)c.ep->feed(d, fake::now_ms());
    }
    if (moved) continue;
    const bool done =
        (c.ep->state() != DtlsState::kHandshaking) && (s.ep->state() != DtlsState::kHandshaking);
    if (done) return;
    std::uint64_t next = std::min(c.ep->next_deadline(), s.ep->next_deadline());
    if (next == UINT64_MAX) return;
    if (next > fake::now_ms()) fake::set_now_ms(next);
    (void)c.ep->poll(fake::now_ms());
    (void)s.ep->poll(fake::now_ms());
  }
}

class DcDtls : public ::testing::Test {
protected:
  void SetUp() override { fake::reset(); }

  void make(const Identity& client_id, const Identity& server_id, Side* c, Side* s,
            DtlsConfig cc = {}, DtlsConfig sc = {}) {
    cc.role = sdp::DtlsRole::kClient;
    cc.keystore = client_id.ks->port();
    if (cc.remote_fingerprints.empty()) cc.remote_fingerprints = {server_id.fp()};
    sc.role = sdp::DtlsRole::kServer;
    sc.keystore = server_id.ks->port();
    if (sc.remote_fingerprints.empty()) sc.remote_fingerprints = {client_id.fp()};
    auto ce = DtlsEndpoint::create(cc);
    auto se = DtlsEndpoint::create(sc);
    ASSERT_TRUE(ce.is_ok());
    ASSERT_TRUE(se.is_ok());
    c->ep = std::move(ce.value());
    s->ep = std::move(se.value());
    c->ep->set_callbacks(Side::on_data, Side::on_state, c);
    s->ep->set_callbacks(Side::on_data, Side::on_state, s);
    ASSERT_TRUE(s->ep->start(fake::now_ms()).is_ok());
    ASSERT_TRUE(c->ep->start(fake::now_ms()).is_ok());
  }
};

TEST_F(DcDtls, CreateChecksArguments) {
  Identity a = self_signed("a");
  DtlsConfig cfg;
  EXPECT_EQ(DtlsEndpoint::create(cfg).status(), Code::kInvalidArgument);
  cfg.role = sdp::DtlsRole::kClient;
  EXPECT_EQ(DtlsEndpoint::create(cfg).status(), Code::kInvalidArgument);
  cfg.keystore = a.ks->port();
  EXPECT_EQ(DtlsEndpoint::create(cfg).status(), Code::kInvalidArgument);
  cfg.remote_fingerprints = {a.fp()};
  auto ep = DtlsEndpoint::create(cfg);
  ASSERT_TRUE(ep.is_ok());
  EXPECT_EQ((*ep)->send(ByteSpan(std::string_view("x"))), Code::kState);
  EXPECT_EQ((*ep)->feed(ByteSpan(std::string_view("x")), 0), Code::kState);
}

TEST_F(DcDtls, HandshakeAndDataBothWaysIsE2eByDefault) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b");
  Side c, s;
  make(ci, si, &c, &s);
  pump(c, s, nullptr);
  ASSERT_EQ(c.ep->state(), DtlsState::kConnected);
  ASSERT_EQ(s.ep->state(), DtlsState::kConnected);
  EXPECT_EQ(c.connected, 1);
  EXPECT_EQ(s.connected, 1);
  const std::string suite = c.ep->ciphersuite();
  EXPECT_TRUE(suite == "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256" ||
              suite == "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256")
      << suite;
  EXPECT_EQ(c.ep->peer().termination, Termination::kE2e);
  EXPECT_NE(c.ep->peer().subject.find("ue-b"), std::string::npos);
  EXPECT_NE(s.ep->peer().subject.find("ue-a"), std::string::npos);
  EXPECT_EQ(c.ep->peer().certificate_der, si.der);

  ASSERT_TRUE(c.ep->send(ByteSpan(std::string_view("hello server"))).is_ok());
  ASSERT_TRUE(s.ep->send(ByteSpan(std::string_view("hello client"))).is_ok());
  pump(c, s, nullptr);
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(ByteSpan(s.received[0]).as_string(), "hello server");
  ASSERT_EQ(c.received.size(), 1u);
  EXPECT_EQ(ByteSpan(c.received[0]).as_string(), "hello client");
  EXPECT_EQ(c.ep->send(Bytes(c.ep->max_record_payload() + 1, 0)), Code::kTooLarge);

  c.ep->close();
  pump(c, s, nullptr);
  EXPECT_EQ(s.ep->state(), DtlsState::kClosed);
}

TEST_F(DcDtls, WrongFingerprintFailsBeforeAnyData) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b"), other = self_signed("mallory");
  DtlsConfig cc;
  cc.remote_fingerprints = {other.fp()};
  Side c, s;
  make(ci, si, &c, &s, cc);
  Status client_status;
  pump(c, s, nullptr);
  EXPECT_EQ(c.ep->state(), DtlsState::kFailed);
  EXPECT_EQ(c.ep->error(), Code::kTls);
  EXPECT_EQ(c.connected, 0);
  EXPECT_EQ(c.ep->send(ByteSpan(std::string_view("secret"))), Code::kState);
  // The server may have finished its side, but the client's alert tears it down too, and
  // nothing was delivered either way.
  if (s.ep->state() == DtlsState::kConnected) (void)s.ep->send(ByteSpan(std::string_view("x")));
  pump(c, s, nullptr);
  EXPECT_TRUE(c.received.empty());
  EXPECT_TRUE(s.received.empty());
  EXPECT_NE(s.ep->state(), DtlsState::kConnected);
}

TEST_F(DcDtls, ServerRejectsClientWithWrongFingerprint) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b"), other = self_signed("mallory");
  DtlsConfig sc;
  sc.remote_fingerprints = {other.fp()};
  Side c, s;
  make(ci, si, &c, &s, {}, sc);
  pump(c, s, nullptr);
  EXPECT_EQ(s.ep->state(), DtlsState::kFailed);
  EXPECT_EQ(s.ep->error(), Code::kTls);
  EXPECT_EQ(s.connected, 0);
  EXPECT_NE(c.ep->state(), DtlsState::kConnected);
}

TEST_F(DcDtls, StrongestFingerprintHashIsUsed) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b");
  auto fp512 = crypto::cert_fingerprint(ByteSpan(si.der), "sha-512");
  ASSERT_TRUE(fp512.is_ok());
  auto parsed = crypto::parse_fingerprint("sha-512 " + fp512.value());
  ASSERT_TRUE(parsed.is_ok());
  DtlsConfig cc;
  // Strongest first (as sdp orders them); a wrong sha-256 entry is not consulted.
  cc.remote_fingerprints = {sdp::Fingerprint{sdp::HashFunc::kSha512, parsed->digest},
                            sdp::Fingerprint{sdp::HashFunc::kSha256, Bytes(32, 0)}};
  Side c, s;
  make(ci, si, &c, &s, cc);
  pump(c, s, nullptr);
  EXPECT_EQ(c.ep->state(), DtlsState::kConnected);
}

TEST_F(DcDtls, E2aeByAccessEdgeCaOrFingerprintSet) {
  Identity ca = ca_cert("Operator MF CA");
  Identity mf = issued_by(ca, "Operator MF CA", "eIMS-AGW");
  Identity ue = self_signed("ue-a");
  crypto::TrustStore trust;
  ASSERT_TRUE(trust.add_der(ByteSpan(ca.der)).is_ok());
  {
    DtlsConfig cc;
    cc.access_edge_trust = &trust;
    Side c, s;
    make(ue, mf, &c, &s, cc);
    pump(c, s, nullptr);
    ASSERT_EQ(c.ep->state(), DtlsState::kConnected);
    EXPECT_EQ(c.ep->peer().termination, Termination::kE2ae);
    EXPECT_NE(c.ep->peer().subject.find("eIMS-AGW"), std::string::npos);
    // The MF classifies the self-signed UE as e2e even with a trust store.
    EXPECT_EQ(s.ep->peer().termination, Termination::kE2e);
  }
  {
    // A peer that does not chain to the CA is e2e, but still connects (the SDP fingerprint
    // is what authenticates it).
    Identity as = self_signed("DC AS");
    DtlsConfig cc;
    cc.access_edge_trust = &trust;
    Side c, s;
    make(ue, as, &c, &s, cc);
    pump(c, s, nullptr);
    ASSERT_EQ(c.ep->state(), DtlsState::kConnected);
    EXPECT_EQ(c.ep->peer().termination, Termination::kE2e);
  }
  {
    Identity as = self_signed("eIMS-AGW pinned");
    auto fp = crypto::cert_fingerprint(ByteSpan(as.der));
    ASSERT_TRUE(fp.is_ok());
    auto parsed = crypto::parse_fingerprint("sha-256 " + fp.value());
    ASSERT_TRUE(parsed.is_ok());
    DtlsConfig cc;
    cc.access_edge_fingerprints = {parsed.value()};
    Side c, s;
    make(ue, as, &c, &s, cc);
    pump(c, s, nullptr);
    ASSERT_EQ(c.ep->state(), DtlsState::kConnected);
    EXPECT_EQ(c.ep->peer().termination, Termination::kE2ae);
  }
}

// Splits every ClientHello the client sends into two handshake fragments in two datagrams,
// as Chromium does; the server must still complete (both the first and the cookie hello).
TEST_F(DcDtls, FragmentedClientHelloLikeChromium) {
  Identity ci = self_signed("chromium"), si = self_signed("ue-b");
  Side c, s;
  make(ci, si, &c, &s);
  int split = 0;
  std::uint64_t extra_seq = 1000;
  Filter f = [&](bool from_client, Bytes* d) {
    if (!from_client || d->size() < 40 || (*d)[0] != 22 || (*d)[13] != 1) return true;
    const std::size_t rec_len = (static_cast<std::size_t>((*d)[11]) << 8) | (*d)[12];
    if (rec_len + kDtlsRecordHeader != d->size()) return true;
    const std::size_t body_len = rec_len - kDtlsHandshakeHeader;
    const std::size_t first = body_len / 2;
    auto make_frag = [&](std::size_t off, std::size_t len, bool keep_seq) {
      // Sized once and filled by copy: growing a 25-byte vector by insert() trips GCC 12's
      // -Warray-bounds at -O2 (a false positive in the inlined memcpy).
      constexpr std::size_t kHeaders = kDtlsRecordHeader + kDtlsHandshakeHeader;
      Bytes r(kHeaders + len);
      std::copy(d->begin(), d->begin() + kHeaders, r.begin());
      if (!keep_seq) {
        for (int i = 0; i < 6; ++i)
          r[5 + i] = static_cast<std::uint8_t>(extra_seq >> (8 * (5 - i)));
        ++extra_seq;
      }
      const std::size_t rl = kDtlsHandshakeHeader + len;
      r[11] = static_cast<std::uint8_t>(rl >> 8);
      r[12] = static_cast<std::uint8_t>(rl);
      r[13 + 6] = static_cast<std::uint8_t>(off >> 16);
      r[13 + 7] = static_cast<std::uint8_t>(off >> 8);
      r[13 + 8] = static_cast<std::uint8_t>(off);
      r[13 + 9] = static_cast<std::uint8_t>(len >> 16);
      r[13 + 10] = static_cast<std::uint8_t>(len >> 8);
      r[13 + 11] = static_cast<std::uint8_t>(len);
      const auto body = d->begin() + kHeaders;
      std::copy(body + static_cast<std::ptrdiff_t>(off),
                body + static_cast<std::ptrdiff_t>(off + len), r.begin() + kHeaders);
      return r;
    };
    Bytes a = make_frag(0, first, true);
    Bytes b = make_frag(first, body_len - first, false);
    ++split;
    // Second fragment first: order must not matter.
    (void)s.ep->feed(b, fake::now_ms());
    *d = a;
    return true;
  };
  pump(c, s, f);
  EXPECT_GE(split, 2); // the first ClientHello and the one with the cookie
  ASSERT_EQ(c.ep->state(), DtlsState::kConnected);
  ASSERT_EQ(s.ep->state(), DtlsState::kConnected);
  ASSERT_TRUE(c.ep->send(ByteSpan(std::string_view("ping"))).is_ok());
  pump(c, s, nullptr);
  ASSERT_EQ(s.received.size(), 1u);
}

std::string load_data(const std::string& name) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// What headless Chromium 156 sent (tests/interop/chromium/capture.sh): its first ClientHello,
// 1413 bytes offering DTLS 1.3 with an X25519MLKEM768 key share and DTLS 1.2, in two
// datagrams of one fragment each; and its answer SDP, which carries its fingerprint.
TEST_F(DcDtls, CapturedChromiumClientHelloGetsHelloVerifyRequest) {
  const std::string d1 = load_data("dc/chromium156_clienthello_1.bin");
  const std::string d2 = load_data("dc/chromium156_clienthello_2.bin");
  ASSERT_EQ(d1.size(), 1200u);
  ASSERT_EQ(d2.size(), 263u);
  Result<sdp::SessionDescription> answer = sdp::parse(load_data("sdp/chromium156_answer.sdp"));
  ASSERT_TRUE(answer.is_ok());
  ASSERT_NE(answer->data_channel(), nullptr);
  ASSERT_EQ(answer->data_channel()->fingerprints.size(), 1u);
  Identity si = self_signed("ue-b");

  // In both orders: nothing answers the first fragment alone, the second completes the
  // message and the server answers with one HelloVerifyRequest.
  for (const bool reversed : {false, true}) {
    DtlsConfig sc;
    sc.role = sdp::DtlsRole::kServer;
    sc.keystore = si.ks->port();
    sc.remote_fingerprints = answer->data_channel()->fingerprints;
    sc.peer_transport_id = "10.77.0.2:57137";
    auto ep = DtlsEndpoint::create(sc);
    ASSERT_TRUE(ep.is_ok());
    ASSERT_TRUE((*ep)->start(fake::now_ms()).is_ok());
    const std::string& first = reversed ? d2 : d1;
    const std::string& second = reversed ? d1 : d2;
    Bytes out;
    EXPECT_TRUE((*ep)->feed(ByteSpan(std::string_view(first)), fake::now_ms()).is_ok());
    EXPECT_FALSE((*ep)->take_datagram(&out));
    EXPECT_TRUE((*ep)->feed(ByteSpan(std::string_view(second)), fake::now_ms()).is_ok());
    ASSERT_TRUE((*ep)->take_datagram(&out));
    ASSERT_GT(out.size(), kDtlsRecordHeader + kDtlsHandshakeHeader);
    EXPECT_EQ(out[0], 22);                    // handshake record
    EXPECT_EQ(out[kDtlsRecordHeader], 3);     // hello_verify_request
    EXPECT_FALSE((*ep)->take_datagram(&out)); // one answer, no ServerHello before the cookie
    EXPECT_EQ((*ep)->state(), DtlsState::kHandshaking);
  }

  // The first fragment alone, then silence: the set is dropped at the reassembly timeout and
  // the endpoint never answers, nor holds it.
  DtlsConfig sc;
  sc.role = sdp::DtlsRole::kServer;
  sc.keystore = si.ks->port();
  sc.remote_fingerprints = answer->data_channel()->fingerprints;
  auto ep = DtlsEndpoint::create(sc);
  ASSERT_TRUE(ep.is_ok());
  ASSERT_TRUE((*ep)->start(fake::now_ms()).is_ok());
  EXPECT_TRUE((*ep)->feed(ByteSpan(std::string_view(d1)), fake::now_ms()).is_ok());
  fake::advance_ms(60000);
  (void)(*ep)->poll(fake::now_ms());
  // The second fragment, a minute later, no longer completes anything.
  EXPECT_TRUE((*ep)->feed(ByteSpan(std::string_view(d2)), fake::now_ms()).is_ok());
  Bytes out;
  EXPECT_FALSE((*ep)->take_datagram(&out));
}

// The debug key log (PROTOCOL_PROFILE.md section 4): where compiled in, both ends of one
// handshake log the same NSS line (same client random, same master secret); elsewhere a key
// log sink is refused outright rather than silently ignored.
TEST_F(DcDtls, DebugKeyLogOnlyWhereCompiledIn) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b");
  std::vector<std::string> client_lines, server_lines;
  auto sink = [](void* ctx, const char* line) {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(line);
  };
  DtlsConfig cc, sc;
  cc.key_log = sink;
  cc.key_log_ctx = &client_lines;
  sc.key_log = sink;
  sc.key_log_ctx = &server_lines;
#if IMSDC_WITH_DTLS_KEYLOG
  Side c, s;
  make(ci, si, &c, &s, cc, sc);
  pump(c, s, nullptr);
  ASSERT_EQ(c.ep->state(), DtlsState::kConnected);
  ASSERT_EQ(client_lines.size(), 1u);
  ASSERT_EQ(server_lines.size(), 1u);
  EXPECT_EQ(client_lines[0], server_lines[0]);
  const std::string& l = client_lines[0];
  ASSERT_EQ(l.size(), 14u + 64 + 1 + 96 + 1);
  EXPECT_EQ(l.compare(0, 14, "CLIENT_RANDOM "), 0);
  EXPECT_EQ(l[14 + 64], ' ');
  EXPECT_EQ(l.back(), '\n');
  EXPECT_EQ(l.find_first_not_of("0123456789abcdef", 14), 14u + 64);
  // The endpoint says so: a warning at creation.
  bool warned = false;
  for (const std::string& line : fake::log_lines())
    warned = warned || line.find("KEY LOG IS ON") != std::string::npos;
  EXPECT_TRUE(warned);
#else
  cc.role = sdp::DtlsRole::kClient;
  cc.keystore = ci.ks->port();
  cc.remote_fingerprints = {si.fp()};
  EXPECT_EQ(DtlsEndpoint::create(cc).status().code(), Code::kUnsupported);
  EXPECT_TRUE(client_lines.empty());
#endif
}

TEST_F(DcDtls, HandshakeSurvivesLossThroughRetransmission) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b");
  DtlsConfig cc, sc;
  cc.retransmit_min_ms = sc.retransmit_min_ms = 200;
  Side c, s;
  make(ci, si, &c, &s, cc, sc);
  int n = 0;
  const std::uint64_t t0 = fake::now_ms();
  Filter f = [&](bool, Bytes*) { return (++n % 3) != 0; };
  pump(c, s, f);
  EXPECT_EQ(c.ep->state(), DtlsState::kConnected);
  EXPECT_EQ(s.ep->state(), DtlsState::kConnected);
  EXPECT_GT(fake::now_ms(), t0); // time had to move: retransmissions ran on the virtual clock
}

TEST_F(DcDtls, HandshakeTimesOutWhenPeerIsSilent) {
  Identity ci = self_signed("ue-a"), si = self_signed("ue-b");
  DtlsConfig cc, sc;
  cc.retransmit_min_ms = 100;
  cc.retransmit_max_ms = 800;
  Side c, s;
  make(ci, si, &c, &s, cc, sc);
  pump(c, s, [](bool, Bytes*) { return false; });
  EXPECT_EQ(c.ep->state(), DtlsState::kFailed);
  EXPECT_EQ(c.ep->error(), Code::kTimeout);
}

} // namespace
} // namespace imsdc::dc
