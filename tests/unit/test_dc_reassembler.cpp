// ClientHello reassembly: synthetic fragment sets (order, overlap, duplicates, bounds,
// timeout) and a real mbedTLS DTLS ClientHello, fragmented here and joined again, which an
// mbedTLS 2.28 DTLS server must answer with HelloVerifyRequest.
#include <gtest/gtest.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/timing.h>
#include <mbedtls/x509_crt.h>

#include <cstring>
#include <deque>

#include "crypto/internal.h"
#include "dc/hello_reassembler.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"

namespace imsdc::dc {
namespace {

// A record holding one handshake fragment of a ClientHello whose body is `body`.
Bytes fragment(const Bytes& body, std::uint32_t offset, std::uint32_t len, std::uint64_t seq,
               std::uint16_t msg_seq = 0, std::uint16_t epoch = 0,
               std::uint8_t version_minor = 0xfd) {
  Bytes r;
  const std::size_t rl = kDtlsHandshakeHeader + len;
  r.push_back(22);
  r.push_back(0xfe);
  r.push_back(version_minor);
  r.push_back(static_cast<std::uint8_t>(epoch >> 8));
  r.push_back(static_cast<std::uint8_t>(epoch));
  for (int i = 5; i >= 0; --i)
    r.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  r.push_back(static_cast<std::uint8_t>(rl >> 8));
  r.push_back(static_cast<std::uint8_t>(rl));
  r.push_back(1);
  const std::uint32_t total = static_cast<std::uint32_t>(body.size());
  for (std::uint32_t v : {total}) {
    r.push_back(static_cast<std::uint8_t>(v >> 16));
    r.push_back(static_cast<std::uint8_t>(v >> 8));
    r.push_back(static_cast<std::uint8_t>(v));
  }
  r.push_back(static_cast<std::uint8_t>(msg_seq >> 8));
  r.push_back(static_cast<std::uint8_t>(msg_seq));
  for (std::uint32_t v : {offset, len}) {
    r.push_back(static_cast<std::uint8_t>(v >> 16));
    r.push_back(static_cast<std::uint8_t>(v >> 8));
    r.push_back(static_cast<std::uint8_t>(v));
  }
  r.insert(r.end(), body.begin() + offset, body.begin() + offset + len);
  return r;
}

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

// The record the reassembler must produce for `body` (seq of the offset-0 fragment).
Bytes joined(const Bytes& body, std::uint64_t seq, std::uint16_t msg_seq = 0) {
  return fragment(body, 0, static_cast<std::uint32_t>(body.size()), seq, msg_seq);
}

TEST(DcReassembler, PassesThroughOtherRecords) {
  HelloReassembler r;
  Bytes whole = joined(pattern(100), 3);
  Bytes other = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 2, 0xaa, 0xbb};
  Bytes dgram = whole;
  dgram.insert(dgram.end(), other.begin(), other.end());
  Bytes out;
  ASSERT_TRUE(r.process(dgram, 0, &out).is_ok());
  EXPECT_EQ(out, dgram);
  // Broken framing: copied unchanged.
  Bytes broken = {22, 0xfe, 0xfd, 0, 0};
  ASSERT_TRUE(r.process(broken, 0, &out).is_ok());
  EXPECT_EQ(out, broken);
  // A fragment in epoch 1 is not a first-flight ClientHello: untouched.
  Bytes e1 = fragment(pattern(100), 0, 50, 0, 0, 1);
  ASSERT_TRUE(r.process(e1, 0, &out).is_ok());
  EXPECT_EQ(out, e1);
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.process(e1, 0, nullptr), Code::kInvalidArgument);
}

TEST(DcReassembler, JoinsTwoFragmentsInOrderLikeChromium) {
  HelloReassembler r;
  const Bytes body = pattern(1401); // 1413 bytes with the handshake header
  Bytes out;
  ASSERT_TRUE(r.process(fragment(body, 0, 1000, 7), 0, &out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(r.in_progress());
  ASSERT_TRUE(r.process(fragment(body, 1000, 401, 8), 10, &out).is_ok());
  EXPECT_EQ(out, joined(body, 7));
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.held_bytes(), 0u);
  EXPECT_EQ(r.joined_messages(), 1u);
}

TEST(DcReassembler, JoinsOutOfOrderOverlappingAndDuplicateFragments) {
  HelloReassembler r;
  const Bytes body = pattern(900);
  Bytes out;
  ASSERT_TRUE(r.process(fragment(body, 600, 300, 12), 0, &out).is_ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(r.process(fragment(body, 600, 300, 12), 0, &out).is_ok()); // duplicate
  ASSERT_TRUE(r.process(fragment(body, 200, 500, 11), 0, &out).is_ok()); // overlaps
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(r.process(fragment(body, 0, 250, 10), 0, &out).is_ok());
  EXPECT_EQ(out, joined(body, 10));
}

TEST(DcReassembler, TwoFragmentsInOneDatagramAndOtherRecordsKept) {
  HelloReassembler r;
  const Bytes body = pattern(300);
  Bytes dgram = fragment(body, 0, 100, 1);
  Bytes f2 = fragment(body, 100, 200, 2);
  Bytes alert = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 3, 0, 2, 1, 0};
  dgram.insert(dgram.end(), f2.begin(), f2.end());
  dgram.insert(dgram.end(), alert.begin(), alert.end());
  Bytes out;
  ASSERT_TRUE(r.process(dgram, 0, &out).is_ok());
  Bytes expect = joined(body, 1);
  expect.insert(expect.end(), alert.begin(), alert.end());
  EXPECT_EQ(out, expect);
}

TEST(DcReassembler, ContradictingOverlapDropsTheSet) {
  HelloReassembler r;
  const Bytes body = pattern(400);
  Bytes other = body;
  other[150] ^= 0xff;
  Bytes out;
  ASSERT_TRUE(r.process(fragment(body, 0, 200, 1), 0, &out).is_ok());
  ASSERT_TRUE(r.process(fragment(other, 100, 300, 2), 0, &out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.dropped_sets(), 1u);
  EXPECT_EQ(r.held_bytes(), 0u);
}

TEST(DcReassembler, OversizedAndInconsistentFragmentsAreDropped) {
  HelloReassembler::Config cfg;
  cfg.max_message = 1024;
  HelloReassembler r(cfg);
  Bytes out;
  ASSERT_TRUE(r.process(fragment(pattern(1025), 0, 500, 1), 0, &out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.held_bytes(), 0u);
  // offset + fragment_length beyond length.
  Bytes bad = fragment(pattern(200), 100, 100, 1);
  bad[kDtlsRecordHeader + 3] = 150; // length := 150
  ASSERT_TRUE(r.process(bad, 0, &out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.dropped_sets(), 2u);
}

TEST(DcReassembler, IncompleteSetTimesOutAndNewerMessageReplaces) {
  HelloReassembler::Config cfg;
  cfg.timeout_ms = 1000;
  HelloReassembler r(cfg);
  const Bytes body = pattern(500);
  Bytes out;
  ASSERT_TRUE(r.process(fragment(body, 0, 100, 1), 0, &out).is_ok());
  EXPECT_TRUE(r.in_progress());
  r.expire(999);
  EXPECT_TRUE(r.in_progress());
  r.expire(1000);
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.held_bytes(), 0u);
  // The late remainder alone never completes (offset 0 is gone).
  ASSERT_TRUE(r.process(fragment(body, 100, 400, 2), 1001, &out).is_ok());
  EXPECT_TRUE(out.empty());
  // A newer message_seq (ClientHello with cookie) replaces the stale set.
  const Bytes body2 = pattern(520);
  ASSERT_TRUE(r.process(fragment(body2, 0, 300, 3, 1), 1002, &out).is_ok());
  ASSERT_TRUE(r.process(fragment(body, 0, 100, 4, 0), 1003, &out).is_ok()); // older: ignored
  ASSERT_TRUE(r.process(fragment(body2, 300, 220, 5, 1), 1004, &out).is_ok());
  EXPECT_EQ(out, joined(body2, 3, 1));
  EXPECT_EQ(r.dropped_sets(), 2u);
}

TEST(DcReassembler, ManySetsNeverGrowMemory) {
  HelloReassembler r;
  Bytes out;
  for (int i = 0; i < 200; ++i) {
    const Bytes body = pattern(3000 + static_cast<std::size_t>(i));
    ASSERT_TRUE(r.process(fragment(body, 0, 1000, static_cast<std::uint64_t>(i)), 0, &out).is_ok());
    EXPECT_LE(r.held_bytes(), 2u * 4096u);
  }
  EXPECT_EQ(r.dropped_sets(), 199u);
}

// --- A real mbedTLS ClientHello ------------------------------------------------------------

struct Timer {
  std::uint64_t now = 0, int_at = 0, fin_at = 0;
  bool armed = false;
  static void set(void* p, std::uint32_t int_ms, std::uint32_t fin_ms) {
    auto* t = static_cast<Timer*>(p);
    t->armed = fin_ms != 0;
    t->int_at = t->now + int_ms;
    t->fin_at = t->now + fin_ms;
  }
  static int get(void* p) {
    auto* t = static_cast<Timer*>(p);
    if (!t->armed) return -1;
    if (t->now >= t->fin_at) return 2;
    if (t->now >= t->int_at) return 1;
    return 0;
  }
};

struct Pipe {
  std::deque<Bytes> in;
  std::vector<Bytes> sent;
  static int send(void* p, const unsigned char* b, size_t n) {
    static_cast<Pipe*>(p)->sent.emplace_back(b, b + n);
    return static_cast<int>(n);
  }
  static int recv(void* p, unsigned char* b, size_t n) {
    auto* self = static_cast<Pipe*>(p);
    if (self->in.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
    Bytes d = std::move(self->in.front());
    self->in.pop_front();
    if (d.size() > n) return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    std::memcpy(b, d.data(), d.size());
    return static_cast<int>(d.size());
  }
};

const int kSuites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0};

// Captures the ClientHello record of a fresh mbedTLS DTLS 1.2 client.
Bytes capture_client_hello() {
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config_init(&conf);
  mbedtls_ssl_init(&ssl);
  Pipe pipe;
  Timer timer;
  EXPECT_EQ(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                        MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT),
            0);
  mbedtls_ssl_conf_rng(&conf, imsdc_crypto_rng, nullptr);
  mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
  mbedtls_ssl_conf_ciphersuites(&conf, kSuites);
  EXPECT_EQ(mbedtls_ssl_setup(&ssl, &conf), 0);
  mbedtls_ssl_set_bio(&ssl, &pipe, Pipe::send, Pipe::recv, nullptr);
  mbedtls_ssl_set_timer_cb(&ssl, &timer, Timer::set, Timer::get);
  EXPECT_EQ(mbedtls_ssl_handshake(&ssl), MBEDTLS_ERR_SSL_WANT_READ);
  mbedtls_ssl_free(&ssl);
  mbedtls_ssl_config_free(&conf);
  EXPECT_EQ(pipe.sent.size(), 1u);
  return pipe.sent.empty() ? Bytes() : pipe.sent[0];
}

struct Server {
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_cookie_ctx cookie;
  mbedtls_x509_crt crt;
  mbedtls_pk_context pk;
  Pipe pipe;
  Timer timer;
  std::unique_ptr<crypto::MemoryKeystore> ks;

  Server() {
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_cookie_init(&cookie);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    auto key = crypto::EcPrivateKey::generate();
    EXPECT_TRUE(key.is_ok());
    ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
    auto der = crypto::make_self_signed_cert(*ks->port(), "dtls server", "", fake::wall_s(), 1);
    EXPECT_TRUE(der.is_ok());
    EXPECT_EQ(mbedtls_x509_crt_parse_der(&crt, der->data(), der->size()), 0);
    EXPECT_TRUE(crypto::internal::keystore_pk_setup(&pk, *ks->port()).is_ok());
    EXPECT_EQ(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT),
              0);
    mbedtls_ssl_conf_rng(&conf, imsdc_crypto_rng, nullptr);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_ciphersuites(&conf, kSuites);
    EXPECT_EQ(mbedtls_ssl_conf_own_cert(&conf, &crt, &pk), 0);
    EXPECT_EQ(mbedtls_ssl_cookie_setup(&cookie, imsdc_crypto_rng, nullptr), 0);
    mbedtls_ssl_conf_dtls_cookies(&conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                  &cookie);
    EXPECT_EQ(mbedtls_ssl_setup(&ssl, &conf), 0);
    mbedtls_ssl_set_bio(&ssl, &pipe, Pipe::send, Pipe::recv, nullptr);
    mbedtls_ssl_set_timer_cb(&ssl, &timer, Timer::set, Timer::get);
    static const unsigned char kId[] = "peer";
    EXPECT_EQ(mbedtls_ssl_set_client_transport_id(&ssl, kId, sizeof kId), 0);
  }
  ~Server() {
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ssl_cookie_free(&cookie);
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&pk);
  }
  int step() { return mbedtls_ssl_handshake(&ssl); }
};

TEST(DcReassembler, MbedtlsServerAnswersJoinedFragmentedClientHello) {
  fake::reset();
  const Bytes hello = capture_client_hello();
  ASSERT_GT(hello.size(), kDtlsRecordHeader + kDtlsHandshakeHeader + 40);
  ASSERT_EQ(hello[0], 22);
  ASSERT_EQ(hello[kDtlsRecordHeader], 1);
  const Bytes body(hello.begin() + kDtlsRecordHeader + kDtlsHandshakeHeader, hello.end());
  const std::uint32_t n = static_cast<std::uint32_t>(body.size());
  const std::uint64_t seq = 0; // the client's first record
  // mbedTLS, like most clients, sends its first flight with the DTLS 1.0 record version.
  const std::uint8_t vmin = hello[2];
  auto fragment = [vmin](const Bytes& b, std::uint32_t off, std::uint32_t len, std::uint64_t sq) {
    return ::imsdc::dc::fragment(b, off, len, sq, 0, 0, vmin);
  };

  // Without reassembly mbedTLS 2.28 refuses the fragment (the reason this object exists).
  {
    Server s;
    s.pipe.in.push_back(fragment(body, 0, n / 2, seq));
    const int rc = s.step();
    EXPECT_NE(rc, MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED);
    EXPECT_TRUE(s.pipe.sent.empty());
  }
  // Three fragments, out of order with an overlap, joined: HelloVerifyRequest.
  {
    Server s;
    HelloReassembler r;
    Bytes out;
    const Bytes f[] = {fragment(body, n / 3, n / 3 + 5, seq + 1),
                       fragment(body, 2 * (n / 3), n - 2 * (n / 3), seq + 2),
                       fragment(body, 0, n / 3, seq)};
    for (const Bytes& d : f) {
      ASSERT_TRUE(r.process(d, 0, &out).is_ok());
      if (!out.empty()) s.pipe.in.push_back(out);
    }
    ASSERT_EQ(s.pipe.in.size(), 1u);
    EXPECT_EQ(s.pipe.in.front(), hello); // byte-identical to the unfragmented original
    EXPECT_EQ(s.step(), MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED);
    ASSERT_EQ(s.pipe.sent.size(), 1u);
    const Bytes& hvr = s.pipe.sent[0];
    ASSERT_GT(hvr.size(), kDtlsRecordHeader + 1);
    EXPECT_EQ(hvr[0], 22);
    EXPECT_EQ(hvr[kDtlsRecordHeader], 3); // hello_verify_request
  }
}

} // namespace
} // namespace imsdc::dc
