// Integration tests of imsdc::transport (libwebsockets on mbedTLS) against the loopback
// peers of peers.py, started by run_with_peers.py, which passes ports and certificate
// paths in IMSDC_TP_* environment variables. Hosts are addressed as "localhost": mbedTLS
// checks dNSName entries only, so 127.0.0.1 is the "wrong host name" case.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "imsdc/config_defaults.h"
#include "imsdc/transport_lws.h"

namespace {

using imsdc::transport::HttpsClient;
using imsdc::transport::WssTransport;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string port_of(const char* name) {
  return env((std::string("IMSDC_TP_PORT_") + name).c_str());
}

bool have_peers() {
  return !env("IMSDC_TP_CA").empty() && !port_of("WSS").empty();
}

#define REQUIRE_PEERS()                                                                            \
  do {                                                                                             \
    if (!have_peers()) GTEST_SKIP() << "run through run_with_peers.py (ctest)";                    \
  } while (0)

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Records transport events.
struct WssEvents {
  int opened = 0;
  std::vector<std::string> messages;
  bool closed = false;
  int reason = -1;
  int http_status = -1;
  std::string detail;

  imsdc_msg_transport_events table() {
    imsdc_msg_transport_events ev{};
    ev.user = this;
    ev.on_open = [](void* u) { static_cast<WssEvents*>(u)->opened++; };
    ev.on_message = [](void* u, const std::uint8_t* d, std::size_t n) {
      static_cast<WssEvents*>(u)->messages.emplace_back(reinterpret_cast<const char*>(d), n);
    };
    ev.on_close = [](void* u, int reason, int status, const char* detail) {
      auto* self = static_cast<WssEvents*>(u);
      self->closed = true;
      self->reason = reason;
      self->http_status = status;
      self->detail = detail != nullptr ? detail : "";
    };
    return ev;
  }
};

// Polls `port` until `done` holds or `ms` pass; returns whether `done` held.
template <typename Port>
bool poll_until(const Port* port, const std::function<bool()>& done, int ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    EXPECT_EQ(port->poll(port->ctx, 20), 0);
  }
  return true;
}

class WssTest : public ::testing::Test {
protected:
  void SetUp() override {
    REQUIRE_PEERS();
    auto t = WssTransport::create();
    ASSERT_TRUE(t.is_ok());
    transport_ = std::move(t.value());
    port_ = transport_->port();
    origin_ = env("IMSDC_TP_ORIGIN");
    ca_ = env("IMSDC_TP_CA");
  }

  imsdc_msg_transport_options options(const std::string& url) {
    url_ = url;
    imsdc_msg_transport_options o{};
    o.url = url_.c_str();
    o.origin = origin_.c_str();
    o.subprotocol = "sip";
    o.ca_file = ca_.c_str();
    o.connect_timeout_ms = 3000;
    return o;
  }

  int connect(const imsdc_msg_transport_options& o) {
    table_ = events_.table();
    return port_->connect(port_->ctx, &o, &table_);
  }

  bool open_good() {
    if (connect(options("wss://localhost:" + port_of("WSS") + "/sip")) != 0) return false;
    return poll_until(port_, [&] { return events_.opened > 0 || events_.closed; }) &&
           events_.opened == 1;
  }

  bool wait_closed(int ms = 5000) {
    return poll_until(
        port_, [&] { return events_.closed; }, ms);
  }

  std::unique_ptr<WssTransport> transport_;
  const imsdc_msg_transport* port_ = nullptr;
  WssEvents events_;
  imsdc_msg_transport_events table_{};
  std::string url_, origin_, ca_;
};

TEST_F(WssTest, OpensWhenSubprotocolEchoedAndClosesNormally) {
  ASSERT_TRUE(open_good()) << events_.detail;
  port_->close(port_->ctx);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_NORMAL);
  // The transport can be used again after on_close.
  events_ = WssEvents();
  ASSERT_TRUE(open_good()) << events_.detail;
}

TEST_F(WssTest, RefusedWhenServerDoesNotEchoSubprotocol) {
  ASSERT_EQ(connect(options("wss://localhost:" + port_of("WSS_NOECHO") + "/sip")), 0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.opened, 0);
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_REFUSED) << events_.detail;
}

TEST_F(WssTest, OriginIsDelivered) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const std::string cmd = "CMD origin";
  ASSERT_EQ(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size()),
            static_cast<int>(cmd.size()));
  ASSERT_TRUE(poll_until(port_, [&] { return !events_.messages.empty(); }));
  EXPECT_EQ(events_.messages[0], origin_);
}

TEST_F(WssTest, WrongOriginRefusedWith403) {
  origin_ = "https://evil.example";
  ASSERT_EQ(connect(options("wss://localhost:" + port_of("WSS") + "/sip")), 0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_REFUSED) << events_.detail;
  EXPECT_EQ(events_.http_status, 403);
}

TEST_F(WssTest, UntrustedCertificateIsTls) {
  ASSERT_EQ(connect(options("wss://localhost:" + port_of("WSS_OTHER") + "/sip")), 0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.opened, 0);
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_TLS) << events_.detail;
}

TEST_F(WssTest, WrongHostNameIsTls) {
  ASSERT_EQ(connect(options("wss://127.0.0.1:" + port_of("WSS") + "/sip")), 0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.opened, 0);
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_TLS) << events_.detail;
}

TEST_F(WssTest, MatchingSpkiPinOpens) {
  const auto pin = from_hex(env("IMSDC_TP_PIN"));
  ASSERT_EQ(pin.size(), 32u);
  auto o = options("wss://localhost:" + port_of("WSS") + "/sip");
  o.spki_sha256_pin = pin.data();
  ASSERT_EQ(connect(o), 0);
  ASSERT_TRUE(poll_until(port_, [&] { return events_.opened > 0 || events_.closed; }));
  EXPECT_EQ(events_.opened, 1) << events_.detail;
}

TEST_F(WssTest, SpkiPinMismatchIsTls) {
  auto pin = from_hex(env("IMSDC_TP_PIN"));
  ASSERT_EQ(pin.size(), 32u);
  pin[7] ^= 0x01;
  auto o = options("wss://localhost:" + port_of("WSS") + "/sip");
  o.spki_sha256_pin = pin.data();
  ASSERT_EQ(connect(o), 0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.opened, 0);
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_TLS);
  EXPECT_NE(events_.detail.find("pin"), std::string::npos) << events_.detail;
}

TEST_F(WssTest, RoundTripsSmallAnd60KiBMessages) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const std::string small = "OPTIONS sip:localhost SIP/2.0\r\nContent-Length: 0\r\n\r\n";
  std::string big(60 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i++)
    big[i] = static_cast<char>('a' + i % 26);
  for (const std::string* m : {&small, static_cast<const std::string*>(&big)}) {
    ASSERT_EQ(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(m->data()), m->size()),
              static_cast<int>(m->size()));
  }
  ASSERT_TRUE(poll_until(port_, [&] { return events_.messages.size() >= 2; }));
  EXPECT_EQ(events_.messages[0], small);
  EXPECT_EQ(events_.messages[1], big);
}

TEST_F(WssTest, BinaryMessageRoundTrips) {
  ASSERT_TRUE(open_good()) << events_.detail;
  std::string bin = "MESSAGE sip:a SIP/2.0\r\n\r\n";
  bin.push_back('\xff');
  bin.push_back('\0');
  bin.push_back('\x80');
  ASSERT_EQ(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(bin.data()), bin.size()),
            static_cast<int>(bin.size()));
  ASSERT_TRUE(poll_until(port_, [&] { return !events_.messages.empty(); }));
  EXPECT_EQ(events_.messages[0], bin);
}

TEST_F(WssTest, SendRejectsOversizeAndClosedState) {
  std::string m(IMSDC_MAX_SIP_MESSAGE + 1, 'x');
  EXPECT_EQ(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), 10),
            IMSDC_PORT_ECLOSED);
  ASSERT_TRUE(open_good()) << events_.detail;
  EXPECT_EQ(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), m.size()),
            IMSDC_PORT_ENOSPC);
}

TEST_F(WssTest, OverLimitIncomingMessageCloses) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const std::string cmd = "CMD big " + std::to_string(IMSDC_MAX_SIP_MESSAGE + 100);
  ASSERT_GT(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size()),
            0);
  ASSERT_TRUE(wait_closed());
  EXPECT_TRUE(events_.messages.empty());
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_NETWORK);
  EXPECT_NE(events_.detail.find("too large"), std::string::npos) << events_.detail;
}

TEST_F(WssTest, MessageAtLimitIsDelivered) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const std::string cmd = "CMD big " + std::to_string(IMSDC_MAX_SIP_MESSAGE);
  ASSERT_GT(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size()),
            0);
  ASSERT_TRUE(poll_until(port_, [&] { return !events_.messages.empty() || events_.closed; }));
  ASSERT_EQ(events_.messages.size(), 1u) << events_.detail;
  EXPECT_EQ(events_.messages[0].size(), static_cast<std::size_t>(IMSDC_MAX_SIP_MESSAGE));
}

TEST_F(WssTest, ServerCloseIsNormal) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const std::string cmd = "CMD close";
  ASSERT_GT(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size()),
            0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_NORMAL) << events_.detail;
}

TEST_F(WssTest, ServerDropIsNetwork) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const std::string cmd = "CMD drop";
  ASSERT_GT(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(cmd.data()), cmd.size()),
            0);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_NETWORK) << events_.detail;
}

TEST_F(WssTest, ClosedPortIsNetworkWithinTimeout) {
  auto o = options("wss://localhost:" + port_of("CLOSED") + "/sip");
  o.connect_timeout_ms = 2000;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(connect(o), 0);
  ASSERT_TRUE(wait_closed(4000));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_NETWORK) << events_.detail;
  EXPECT_LE(ms, 2500);
}

TEST_F(WssTest, SilentServerHitsConnectTimeout) {
  auto o = options("wss://localhost:" + port_of("BLACKHOLE") + "/sip");
  o.connect_timeout_ms = 700;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(connect(o), 0);
  ASSERT_TRUE(wait_closed(4000));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_EQ(events_.reason, IMSDC_TRANSPORT_CLOSED_NETWORK);
  EXPECT_NE(events_.detail.find("timeout"), std::string::npos) << events_.detail;
  EXPECT_GE(ms, 650);
  EXPECT_LE(ms, 1500);
}

TEST_F(WssTest, PingKeepaliveKeepsConnectionOpen) {
  auto o = options("wss://localhost:" + port_of("WSS") + "/sip");
  o.ping_interval_ms = 100;
  ASSERT_EQ(connect(o), 0);
  ASSERT_TRUE(poll_until(port_, [&] { return events_.opened > 0 || events_.closed; }));
  ASSERT_EQ(events_.opened, 1);
  // Several ping/pong rounds: a missed pong would close the transport.
  EXPECT_FALSE(poll_until(
      port_, [&] { return events_.closed; }, 700))
      << events_.detail;
  const std::string m = "still there";
  ASSERT_GT(port_->send(port_->ctx, reinterpret_cast<const std::uint8_t*>(m.data()), m.size()), 0);
  ASSERT_TRUE(poll_until(port_, [&] { return !events_.messages.empty(); }));
}

TEST_F(WssTest, PollHonoursTimeout) {
  ASSERT_TRUE(open_good()) << events_.detail;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(port_->poll(port_->ctx, 150), 0);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_LE(ms, 400);
}

TEST_F(WssTest, RejectsBadOptions) {
  auto o = options("ws://localhost:" + port_of("WSS") + "/sip");
  EXPECT_EQ(connect(o), IMSDC_PORT_EINVAL); // plain without allow_plain
  o = options("ftp://localhost/");
  EXPECT_EQ(connect(o), IMSDC_PORT_EUNSUPP);
  o = options("wss://localhost:99999/");
  EXPECT_EQ(connect(o), IMSDC_PORT_EINVAL);
  o = options("wss://user@localhost/");
  EXPECT_EQ(connect(o), IMSDC_PORT_EINVAL);
  o = options("wss://localhost/");
  o.subprotocol = nullptr;
  EXPECT_EQ(connect(o), IMSDC_PORT_EINVAL);
}

// ---------------------------------------------------------------- HTTPS client

struct HttpEvents {
  int status = 0;
  std::string content_type;
  std::int64_t content_length = -2;
  std::vector<std::uint8_t> body;
  int pieces = 0;
  bool done = false;
  int result = 1;
  std::size_t abort_after = 0; // abort on_body once this many bytes came (0: never)

  imsdc_http_events table() {
    imsdc_http_events ev{};
    ev.user = this;
    ev.on_response = [](void* u, int status, const char* ct, std::int64_t len) {
      auto* self = static_cast<HttpEvents*>(u);
      self->status = status;
      self->content_type = ct != nullptr ? ct : "";
      self->content_length = len;
    };
    ev.on_body = [](void* u, const std::uint8_t* d, std::size_t n) {
      auto* self = static_cast<HttpEvents*>(u);
      self->pieces++;
      self->body.insert(self->body.end(), d, d + n);
      if (self->abort_after != 0 && self->body.size() >= self->abort_after) return -42;
      return 0;
    };
    ev.on_done = [](void* u, int result) {
      auto* self = static_cast<HttpEvents*>(u);
      self->done = true;
      self->result = result;
    };
    return ev;
  }
};

class HttpsTest : public ::testing::Test {
protected:
  void SetUp() override {
    REQUIRE_PEERS();
    auto c = HttpsClient::create();
    ASSERT_TRUE(c.is_ok());
    client_ = std::move(c.value());
    port_ = client_->port();
    ca_ = env("IMSDC_TP_CA");
  }

  imsdc_http_request get(const std::string& url) {
    url_ = url;
    imsdc_http_request r{};
    r.method = "GET";
    r.url = url_.c_str();
    r.ca_file = ca_.c_str();
    r.max_body = 4 << 20;
    r.timeout_ms = 5000;
    return r;
  }

  bool run(const imsdc_http_request& r) {
    table_ = events_.table();
    if (port_->request(port_->ctx, &r, &table_) != 0) return false;
    return poll_until(
        port_, [&] { return events_.done; }, 10000);
  }

  std::string base(const char* peer) { return "https://localhost:" + port_of(peer); }

  std::unique_ptr<HttpsClient> client_;
  const imsdc_http_client* port_ = nullptr;
  HttpEvents events_;
  imsdc_http_events table_{};
  std::string url_, ca_;
};

TEST_F(HttpsTest, GetSmall) {
  ASSERT_TRUE(run(get(base("HTTPS") + "/small")));
  EXPECT_EQ(events_.result, 0);
  EXPECT_EQ(events_.status, 200);
  EXPECT_EQ(events_.content_type, "text/plain");
  EXPECT_EQ(events_.content_length, 11);
  EXPECT_EQ(std::string(events_.body.begin(), events_.body.end()), "hello imsdc");
}

TEST_F(HttpsTest, GetOneMiBStreamedInPieces) {
  ASSERT_TRUE(run(get(base("HTTPS") + "/big")));
  EXPECT_EQ(events_.result, 0);
  EXPECT_EQ(events_.content_length, 1 << 20);
  ASSERT_EQ(events_.body.size(), static_cast<std::size_t>(1 << 20));
  EXPECT_GT(events_.pieces, 16);
  for (std::size_t i = 0; i < events_.body.size(); i++) {
    if (events_.body[i] != i % 251) {
      ADD_FAILURE() << "body differs at " << i;
      break;
    }
  }
}

TEST_F(HttpsTest, GetWithoutContentLengthReadsToClose) {
  ASSERT_TRUE(run(get(base("HTTPS") + "/big-nolength")));
  EXPECT_EQ(events_.result, 0);
  EXPECT_EQ(events_.content_length, -1);
  EXPECT_EQ(events_.body.size(), static_cast<std::size_t>(1 << 20));
}

TEST_F(HttpsTest, AnnouncedBodyOverMaxIsAborted) {
  auto r = get(base("HTTPS") + "/big");
  r.max_body = 100 * 1024;
  ASSERT_TRUE(run(r));
  EXPECT_EQ(events_.result, IMSDC_PORT_ENOSPC);
  EXPECT_TRUE(events_.body.empty());
}

TEST_F(HttpsTest, StreamedBodyOverMaxIsAborted) {
  auto r = get(base("HTTPS") + "/big-nolength");
  r.max_body = 100 * 1024;
  ASSERT_TRUE(run(r));
  EXPECT_EQ(events_.result, IMSDC_PORT_ENOSPC);
  EXPECT_LE(events_.body.size(), static_cast<std::size_t>(100 * 1024));
}

TEST_F(HttpsTest, OnBodyAbortEndsExchange) {
  events_.abort_after = 10000;
  ASSERT_TRUE(run(get(base("HTTPS") + "/big")));
  EXPECT_EQ(events_.result, -42);
  EXPECT_LT(events_.body.size(), static_cast<std::size_t>(1 << 20));
}

TEST_F(HttpsTest, PostEchoesBody) {
  auto r = get(base("HTTPS") + "/echo");
  const std::string body = "{\"csr\":\"MIIB...\"}";
  r.method = "POST";
  r.content_type = "application/json";
  r.body = reinterpret_cast<const std::uint8_t*>(body.data());
  r.body_len = body.size();
  ASSERT_TRUE(run(r));
  EXPECT_EQ(events_.result, 0);
  EXPECT_EQ(events_.status, 200);
  EXPECT_EQ(events_.content_type, "application/json");
  EXPECT_EQ(std::string(events_.body.begin(), events_.body.end()), body);
}

TEST_F(HttpsTest, NotFoundIsAResponseNotAnError) {
  ASSERT_TRUE(run(get(base("HTTPS") + "/nope")));
  EXPECT_EQ(events_.result, 0);
  EXPECT_EQ(events_.status, 404);
}

TEST_F(HttpsTest, UntrustedServerIsTls) {
  ca_ = env("IMSDC_TP_OTHER_CA");
  ASSERT_TRUE(run(get(base("HTTPS") + "/small")));
  EXPECT_EQ(events_.result, -100 - IMSDC_TRANSPORT_CLOSED_TLS);
  EXPECT_EQ(events_.status, 0);
}

TEST_F(HttpsTest, ClosedPortIsNetwork) {
  ASSERT_TRUE(run(get(base("CLOSED") + "/small")));
  EXPECT_EQ(events_.result, -100 - IMSDC_TRANSPORT_CLOSED_NETWORK);
}

TEST_F(HttpsTest, TimeoutIsNetwork) {
  auto r = get(base("BLACKHOLE") + "/small");
  r.timeout_ms = 500;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run(r));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_EQ(events_.result, -100 - IMSDC_TRANSPORT_CLOSED_NETWORK);
  EXPECT_LE(ms, 1500);
}

TEST_F(HttpsTest, MutualTlsWithClientCertificate) {
  auto r = get(base("HTTPS_MTLS") + "/whoami");
  const std::string cert = env("IMSDC_TP_CLIENT_CERT");
  const std::string key = env("IMSDC_TP_CLIENT_KEY");
  r.client_cert_file = cert.c_str();
  r.client_key_file = key.c_str();
  ASSERT_TRUE(run(r));
  EXPECT_EQ(events_.result, 0);
  EXPECT_EQ(events_.status, 200);
  EXPECT_NE(std::string(events_.body.begin(), events_.body.end()).find("commonName"),
            std::string::npos);
}

TEST_F(HttpsTest, MutualTlsWithoutClientCertificateFails) {
  ASSERT_TRUE(run(get(base("HTTPS_MTLS") + "/whoami")));
  EXPECT_NE(events_.result, 0);
  EXPECT_EQ(events_.status, 0);
}

TEST_F(HttpsTest, RejectsBadRequests) {
  table_ = events_.table();
  auto r = get("http://localhost:" + port_of("HTTPS") + "/small");
  EXPECT_EQ(port_->request(port_->ctx, &r, &table_), IMSDC_PORT_EINVAL);
  r = get(base("HTTPS") + "/small");
  r.method = "DELETE";
  EXPECT_EQ(port_->request(port_->ctx, &r, &table_), IMSDC_PORT_EINVAL);
  r = get(base("HTTPS") + "/small");
  r.client_cert_file = "/nonexistent.pem";
  EXPECT_EQ(port_->request(port_->ctx, &r, &table_), IMSDC_PORT_EINVAL);
}

TEST_F(HttpsTest, CancelEndsWithoutEvent) {
  table_ = events_.table();
  auto r = get(base("HTTPS") + "/big");
  ASSERT_EQ(port_->request(port_->ctx, &r, &table_), 0);
  ASSERT_EQ(port_->poll(port_->ctx, 10), 0);
  port_->cancel(port_->ctx);
  for (int i = 0; i < 5; i++)
    ASSERT_EQ(port_->poll(port_->ctx, 10), 0);
  EXPECT_FALSE(events_.done);
  // The client is idle again.
  ASSERT_TRUE(run(get(base("HTTPS") + "/small")));
  EXPECT_EQ(events_.result, 0);
}

} // namespace
