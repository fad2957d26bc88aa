// DTLS with the device key inside a PKCS#11 token (SoftHSM2): the endpoint's mbedTLS signs
// the handshake through the token's keystore port, i.e. C_Sign, while the peer uses a
// software key. Both roles are run, and fingerprint enforcement is checked to be unchanged
// when the local key is in hardware. The real POSIX port is linked, so time is the real
// monotonic clock and loops are bounded by iteration counts instead of virtual time.
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "dc/dtls.h"
#include "imsdc/crypto.h"
#include "imsdc/port/os.h"
#include "imsdc/port_pkcs11.h"
#include "test_util.h"

namespace imsdc {
namespace {

constexpr const char* kModule = IMSDC_SOFTHSM2_MODULE;
constexpr const char* kTokenLabel = "imsdc-dtls";
constexpr const char* kPin = "1234";
constexpr const char* kKeyLabel = "imsdc-dtls-device";

using testutil::file_exists;
using testutil::have_tool;
using testutil::remove_tree;
using testutil::run;

// Forwards every keystore method to the token's port and counts signatures, so the test can
// tell that the handshake signature really came from the token and not from some software
// key that mbedTLS might have been given instead.
struct CountingKeystore {
  explicit CountingKeystore(const imsdc_port_keystore* inner) : inner(inner) {
    port.version = IMSDC_PORT_KEYSTORE_VERSION;
    port.ctx = this;
    port.public_key = [](void* ctx, std::uint8_t out_xy[64]) {
      const imsdc_port_keystore* in = static_cast<CountingKeystore*>(ctx)->inner;
      return in->public_key(in->ctx, out_xy);
    };
    port.sign_digest = [](void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]) {
      auto* self = static_cast<CountingKeystore*>(ctx);
      ++self->signs;
      return self->inner->sign_digest(self->inner->ctx, digest, out_rs);
    };
    port.cert_chain = [](void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                         std::size_t* out_len) {
      const imsdc_port_keystore* in = static_cast<CountingKeystore*>(ctx)->inner;
      return in->cert_chain(in->ctx, index, out, cap, out_len);
    };
    port.store_chain = nullptr; // the DTLS endpoint only reads
  }
  const imsdc_port_keystore* inner;
  imsdc_port_keystore port{};
  std::atomic<int> signs{0};
};

struct Side {
  std::unique_ptr<dc::DtlsEndpoint> ep;
  std::vector<Bytes> received;
  int connected = 0;
  static void on_data(void* p, ByteSpan d) {
    static_cast<Side*>(p)->received.emplace_back(d.begin(), d.end());
  }
  static void on_state(void* p, dc::DtlsState s, Status) {
    if (s == dc::DtlsState::kConnected) ++static_cast<Side*>(p)->connected;
  }
};

bool settled(const Side& s) {
  return s.ep->state() != dc::DtlsState::kHandshaking && s.ep->state() != dc::DtlsState::kIdle;
}

// Moves datagrams both ways until both sides have left the handshake and the pipe is empty.
// With no loss no retransmission timer is needed; when quiet yet unfinished (a slow token
// sign can outlast the first timeout), the timers are run on the real clock after a short
// sleep. The iteration bound keeps a broken handshake from hanging the test.
void pump(Side& a, Side& b) {
  for (int i = 0; i < 2000; ++i) {
    bool moved = false;
    Bytes d;
    while (a.ep->take_datagram(&d)) {
      moved = true;
      (void)b.ep->feed(d, imsdc_port_clock_monotonic_ms());
    }
    while (b.ep->take_datagram(&d)) {
      moved = true;
      (void)a.ep->feed(d, imsdc_port_clock_monotonic_ms());
    }
    if (moved) continue;
    if (settled(a) && settled(b)) return;
    ::usleep(10 * 1000);
    (void)a.ep->poll(imsdc_port_clock_monotonic_ms());
    (void)b.ep->poll(imsdc_port_clock_monotonic_ms());
  }
}

// The SDP form of a certificate's SHA-256 fingerprint, built through the RFC 8122 text the
// SDK would put in a=fingerprint.
sdp::Fingerprint sha256_fingerprint(const Bytes& der) {
  auto text = crypto::cert_fingerprint(ByteSpan(der), "sha-256");
  EXPECT_TRUE(text.is_ok());
  auto parsed = crypto::parse_fingerprint("sha-256 " + text.value());
  EXPECT_TRUE(parsed.is_ok());
  return sdp::Fingerprint{sdp::HashFunc::kSha256, parsed.value().digest};
}

Status store_leaf(const imsdc_port_keystore& ks, const Bytes& der) {
  const std::uint8_t* ders[] = {der.data()};
  const std::size_t lens[] = {der.size()};
  return ks.store_chain(ks.ctx, ders, lens, 1) == 0 ? Status::ok()
                                                    : Status(Code::kPortFailure, Module::kPort);
}

// A SoftHSM2 token of our own (own SOFTHSM2_CONF and token directory) holding a
// non-extractable device key with a self-signed certificate made in the token, and a
// software peer with its own self-signed certificate.
class Pkcs11Dtls : public testing::Test {
protected:
  void SetUp() override {
    if (!file_exists(kModule) || !have_tool("softhsm2-util"))
      GTEST_SKIP() << "SoftHSM2 is not installed (" << kModule << ")";
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/imsdc-p11dtls-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(::mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
    ASSERT_EQ(::mkdir((dir_ + "/tokens").c_str(), 0700), 0);
    const std::string conf = dir_ + "/softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << dir_ << "/tokens\n"
                        << "objectstore.backend = file\n"
                        << "log.level = ERROR\n"
                        << "slots.removable = false\n";
    ASSERT_EQ(::setenv("SOFTHSM2_CONF", conf.c_str(), 1), 0);
    std::string out;
    ASSERT_EQ(run(std::string("softhsm2-util --init-token --free --label ") + kTokenLabel +
                      " --pin " + kPin + " --so-pin 5678",
                  &out),
              0)
        << out;

    auto tok = pkcs11::Token::open(kModule, kTokenLabel, kPin, kKeyLabel);
    ASSERT_TRUE(tok.is_ok()) << tok.status().message();
    token_ = std::move(tok.value());
    ASSERT_TRUE(token_->generate_key().is_ok());
    // The point of the test is a key that cannot leave the token.
    auto extractable = token_->is_private_key_extractable();
    ASSERT_TRUE(extractable.is_ok());
    ASSERT_FALSE(extractable.value());
    auto cert = crypto::make_self_signed_cert(*token_->port(), "hsm-device", "",
                                              imsdc_port_clock_wall_s(), 1);
    ASSERT_TRUE(cert.is_ok()) << cert.status().message();
    token_der_ = cert.value();
    ASSERT_TRUE(store_leaf(*token_->port(), token_der_).is_ok());
    counting_ = std::make_unique<CountingKeystore>(token_->port());

    auto key = crypto::EcPrivateKey::generate();
    ASSERT_TRUE(key.is_ok());
    soft_ = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
    auto soft_cert = crypto::make_self_signed_cert(*soft_->port(), "soft-peer", "",
                                                   imsdc_port_clock_wall_s(), 1);
    ASSERT_TRUE(soft_cert.is_ok());
    soft_der_ = soft_cert.value();
    ASSERT_TRUE(soft_->set_chain({soft_der_}).is_ok());
  }
  void TearDown() override {
    // The endpoints hold the keystore pointers; the token goes before its directory.
    counting_.reset();
    token_.reset();
    if (!dir_.empty()) remove_tree(dir_);
  }

  // Creates and starts both endpoints; the token side takes `token_role`. The software side
  // expects `soft_expects` as the token's fingerprint.
  void make(sdp::DtlsRole token_role, const sdp::Fingerprint& soft_expects, Side* tok, Side* soft) {
    dc::DtlsConfig tc;
    tc.role = token_role;
    tc.keystore = &counting_->port;
    tc.remote_fingerprints = {sha256_fingerprint(soft_der_)};
    dc::DtlsConfig sc;
    sc.role =
        token_role == sdp::DtlsRole::kServer ? sdp::DtlsRole::kClient : sdp::DtlsRole::kServer;
    sc.keystore = soft_->port();
    sc.remote_fingerprints = {soft_expects};
    auto te = dc::DtlsEndpoint::create(tc);
    ASSERT_TRUE(te.is_ok()) << te.status().message();
    auto se = dc::DtlsEndpoint::create(sc);
    ASSERT_TRUE(se.is_ok()) << se.status().message();
    tok->ep = std::move(te.value());
    soft->ep = std::move(se.value());
    tok->ep->set_callbacks(Side::on_data, Side::on_state, tok);
    soft->ep->set_callbacks(Side::on_data, Side::on_state, soft);
    // The server first, so the ClientHello finds it listening.
    Side* server = token_role == sdp::DtlsRole::kServer ? tok : soft;
    Side* client = server == tok ? soft : tok;
    ASSERT_TRUE(server->ep->start(imsdc_port_clock_monotonic_ms()).is_ok());
    ASSERT_TRUE(client->ep->start(imsdc_port_clock_monotonic_ms()).is_ok());
  }

  std::string dir_;
  std::unique_ptr<pkcs11::Token> token_;
  std::unique_ptr<CountingKeystore> counting_;
  Bytes token_der_;
  std::unique_ptr<crypto::MemoryKeystore> soft_;
  Bytes soft_der_;
};

TEST_F(Pkcs11Dtls, HandshakeSignedInTheToken) {
  for (sdp::DtlsRole role : {sdp::DtlsRole::kServer, sdp::DtlsRole::kClient}) {
    SCOPED_TRACE(role == sdp::DtlsRole::kServer ? "token is DTLS server" : "token is DTLS client");
    Side tok, soft;
    const int signs_before = counting_->signs.load();
    make(role, sha256_fingerprint(token_der_), &tok, &soft);
    pump(tok, soft);
    ASSERT_EQ(tok.ep->state(), dc::DtlsState::kConnected) << tok.ep->error().message();
    ASSERT_EQ(soft.ep->state(), dc::DtlsState::kConnected) << soft.ep->error().message();
    EXPECT_EQ(tok.connected, 1);
    EXPECT_EQ(soft.connected, 1);
    // As server the token signs ServerKeyExchange, as client CertificateVerify.
    EXPECT_GT(counting_->signs.load(), signs_before);
    EXPECT_EQ(soft.ep->peer().certificate_der, token_der_);
    EXPECT_EQ(tok.ep->peer().certificate_der, soft_der_);

    // Every byte value, so a text-only path could not pass by accident.
    Bytes to_soft(256), to_token(300);
    for (std::size_t i = 0; i < to_soft.size(); ++i)
      to_soft[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < to_token.size(); ++i)
      to_token[i] = static_cast<std::uint8_t>(255 - i % 256);
    ASSERT_TRUE(tok.ep->send(to_soft).is_ok());
    ASSERT_TRUE(soft.ep->send(to_token).is_ok());
    pump(tok, soft);
    ASSERT_EQ(soft.received.size(), 1u);
    EXPECT_EQ(soft.received[0], to_soft);
    ASSERT_EQ(tok.received.size(), 1u);
    EXPECT_EQ(tok.received[0], to_token);
  }
}

TEST_F(Pkcs11Dtls, WrongFingerprintStillRejected) {
  // A fingerprint of a different certificate: the software peer must refuse the token side.
  const sdp::Fingerprint wrong = sha256_fingerprint(soft_der_);
  for (sdp::DtlsRole role : {sdp::DtlsRole::kServer, sdp::DtlsRole::kClient}) {
    SCOPED_TRACE(role == sdp::DtlsRole::kServer ? "token is DTLS server" : "token is DTLS client");
    Side tok, soft;
    make(role, wrong, &tok, &soft);
    pump(tok, soft);
    EXPECT_EQ(soft.ep->state(), dc::DtlsState::kFailed);
    EXPECT_EQ(soft.ep->error(), Code::kTls);
    EXPECT_EQ(soft.connected, 0);
    EXPECT_EQ(soft.ep->send(ByteSpan(std::string_view("secret"))), Code::kState);
    // The token side may have finished before the alert arrived; whatever it sends now must
    // not be delivered, and the alert tears it down.
    if (tok.ep->state() == dc::DtlsState::kConnected)
      (void)tok.ep->send(ByteSpan(std::string_view("x")));
    pump(tok, soft);
    EXPECT_TRUE(soft.received.empty());
    EXPECT_TRUE(tok.received.empty());
    EXPECT_NE(tok.ep->state(), dc::DtlsState::kConnected);
  }
}

} // namespace
} // namespace imsdc
