// The representation request over the HTTP client interface (PROTOCOL_PROFILE.md section
// 7): a scripted in-memory HTTP client plays the BAR; the labnet test runs the same code
// against the real one (tests/labnet/bar).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "avatar/fetch.h"
#include "avatar/tokens.h"
#include "dc/bootstrap_http.h"
#include "dc/http_channel.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/port/transport.h"
#include "imsdc/port_fake.h"

namespace imsdc {
namespace {

using avatar::EphemeralKey;
using avatar::FetchOptions;
using avatar::RepresentationFetch;

constexpr std::int64_t kNow = fake::kDefaultWallS;
constexpr const char* kJti = "jti-fetch-1";
constexpr const char* kBlob = "rep";

// A compact JWE as a BAR makes it (ECDH-ES, A256GCM, apv = jti).
std::string encrypt(const crypto::EcPublicKey& ue, const Bytes& plain) {
  auto bar = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(bar.is_ok());
  auto z = crypto::ecdh_p256(bar.value(), ue);
  EXPECT_TRUE(z.is_ok());
  auto cek = crypto::concat_kdf_sha256(z.value().span(), 256, "A256GCM", ByteSpan(),
                                       ByteSpan(std::string_view(kJti)));
  EXPECT_TRUE(cek.is_ok());
  const std::string header =
      R"({"alg":"ECDH-ES","enc":"A256GCM","cty":"model/gltf-binary","epk":)" +
      crypto::jwk_from_public(bar.value().public_key()) + R"(,"apv":")" +
      base64url_encode(ByteSpan(std::string_view(kJti))) + "\"}";
  const std::string h = base64url_encode(ByteSpan(std::string_view(header)));
  std::uint8_t iv[12];
  EXPECT_TRUE(crypto::random_bytes(iv, sizeof iv).is_ok());
  std::array<std::uint8_t, 16> tag{};
  auto ct = crypto::aes_gcm_encrypt(cek.value().span(), ByteSpan(iv, 12), ByteSpan(h),
                                    ByteSpan(plain), &tag);
  EXPECT_TRUE(ct.is_ok());
  return h + ".." + base64url_encode(ByteSpan(iv, 12)) + "." +
         base64url_encode(ByteSpan(ct.value())) + "." +
         base64url_encode(ByteSpan(tag.data(), tag.size()));
}

// An HTTP client that records the request and, on the first poll, answers from a script:
// status, content type, body in 1000-byte pieces, then on_done(result).
struct ScriptedHttp {
  int status = 200;
  std::string type = "application/jose";
  std::string body;
  int result = 0;
  // Recorded request.
  std::string method, url, content_type, req_body, cert, key;
  imsdc_http_events ev{};
  bool pending = false;
  imsdc_http_client port{};

  ScriptedHttp() {
    port.version = IMSDC_HTTP_CLIENT_VERSION;
    port.ctx = this;
    port.request = [](void* c, const imsdc_http_request* r, const imsdc_http_events* e) {
      auto* s = static_cast<ScriptedHttp*>(c);
      s->method = r->method;
      s->url = r->url;
      s->content_type = r->content_type ? r->content_type : "";
      s->req_body.assign(reinterpret_cast<const char*>(r->body), r->body_len);
      s->cert = r->client_cert_file ? r->client_cert_file : "";
      s->key = r->client_key_file ? r->client_key_file : "";
      s->ev = *e;
      s->pending = true;
      return 0;
    };
    port.cancel = [](void* c) { static_cast<ScriptedHttp*>(c)->pending = false; };
    port.poll = [](void* c, std::uint32_t) {
      auto* s = static_cast<ScriptedHttp*>(c);
      if (!s->pending) return 0;
      s->pending = false;
      s->ev.on_response(s->ev.user, s->status, s->type.c_str(),
                        static_cast<std::int64_t>(s->body.size()));
      int rc = 0;
      for (std::size_t i = 0; i < s->body.size() && rc == 0; i += 1000) {
        const std::string piece = s->body.substr(i, 1000);
        rc = s->ev.on_body(s->ev.user, reinterpret_cast<const std::uint8_t*>(piece.data()),
                           piece.size());
      }
      s->ev.on_done(s->ev.user, rc != 0 ? rc : s->result);
      return 0;
    };
  }
};

class AvatarFetch : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }

  // Runs one fetch against `http`; returns its result and leaves the key in key_.
  Result<avatar::JweResult> run(ScriptedHttp& http) {
    RepresentationFetch f(http.port, key_, *storage_.port());
    FetchOptions o;
    o.url = "https://localhost:4433/avatar/representation";
    o.attestation = "att.jws.sig";
    o.jti = kJti;
    o.ca_file = "ca.pem";
    o.client_cert_file = "dev.pem";
    o.client_key_file = "dev-key.pem";
    o.now_s = kNow;
    o.blob_name = kBlob;
    o.on_progress = [](void* u, std::uint64_t got, std::int64_t) {
      *static_cast<std::uint64_t*>(u) = got;
    };
    o.progress_user = &progress_;
    Status s = f.start(std::move(o));
    if (!s) return s;
    for (int i = 0; i < 3 && !f.done(); ++i)
      EXPECT_TRUE(f.poll(10).is_ok());
    EXPECT_TRUE(f.done());
    return f.result();
  }

  EphemeralKey key_ = std::move(EphemeralKey::generate(kNow).value());
  fake::MemoryStorage storage_;
  std::uint64_t progress_ = 0;
};

TEST_F(AvatarFetch, PostsTheAttestationAndCommitsTheDecryptedAnswer) {
  Bytes plain(20000);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<std::uint8_t>(i * 7);
  ScriptedHttp http;
  http.body = encrypt(key_.public_key(), plain);
  auto r = run(http);
  ASSERT_TRUE(r.is_ok()) << r.status().name() << " " << r.status().message();
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.content_type, "application/jwt");
  EXPECT_EQ(http.req_body, "att.jws.sig");
  EXPECT_EQ(http.cert, "dev.pem");
  EXPECT_EQ(http.key, "dev-key.pem");
  EXPECT_EQ(r.value().size, plain.size());
  EXPECT_EQ(r.value().cty, "model/gltf-binary");
  ASSERT_NE(storage_.blob(kBlob), nullptr);
  EXPECT_EQ(*storage_.blob(kBlob), plain);
  EXPECT_EQ(progress_, http.body.size());
  EXPECT_TRUE(key_.used());
}

TEST_F(AvatarFetch, RefusalsMapToTheirClassAndStoreNothing) {
  struct Case {
    int status;
    std::string body;
    Code code;
    const char* detail;
  };
  const std::vector<Case> cases = {
      {403, R"({"error":"not_owner","detail":"x"})", Code::kAuthRejected, "BAR: not_owner"},
      {403, R"({"error":"wrong_requester"})", Code::kAuthRejected, "BAR: wrong_requester"},
      {401, R"({"error":"expired"})", Code::kAuthRejected, "BAR: expired"},
      {401, R"({"error":"untrusted_certificate"})", Code::kAuthRejected,
       "BAR: untrusted_certificate"},
      {409, R"({"error":"replayed"})", Code::kRejected, "BAR: replayed"},
      {404, R"({"error":"unknown_avatar"})", Code::kRejected, "BAR: unknown_avatar"},
      {400, R"({"error":"malformed"})", Code::kRejected, "BAR: malformed"},
      {403, "not json", Code::kAuthRejected, "BAR refused the attestation or the requester"},
      {500, R"({"error":"something-else"})", Code::kRejected, "BAR refused the request"},
  };
  for (const Case& c : cases) {
    key_ = std::move(EphemeralKey::generate(kNow).value());
    ScriptedHttp http;
    http.status = c.status;
    http.type = "application/json";
    http.body = c.body;
    auto r = run(http);
    ASSERT_FALSE(r.is_ok()) << c.body;
    EXPECT_EQ(r.status().code(), c.code) << c.body;
    EXPECT_STREQ(r.status().message(), c.detail) << c.body;
    EXPECT_TRUE(key_.used()) << "the ephemeral key must not outlive a refusal";
    EXPECT_TRUE(storage_.blob_names().empty());
    EXPECT_EQ(storage_.open_blobs(), 0u);
  }
}

TEST_F(AvatarFetch, BadAnswersAndTransportFailuresStoreNothing) {
  struct Case {
    const char* what;
    std::string type;
    int result;
    bool tamper, truncate;
    Code code;
  };
  const std::vector<Case> cases = {
      {"tag changed", "application/jose", 0, true, false, Code::kAuthFailed},
      {"truncated", "application/jose", 0, false, true, Code::kMalformed},
      {"not jose", "text/html", 0, false, false, Code::kMalformed},
      {"TLS", "application/jose", -100 - IMSDC_TRANSPORT_CLOSED_TLS, false, false, Code::kTls},
      {"network", "application/jose", -100 - IMSDC_TRANSPORT_CLOSED_NETWORK, false, false,
       Code::kNetwork},
      {"too large", "application/jose", IMSDC_PORT_ENOSPC, false, false, Code::kTooLarge},
  };
  for (const Case& c : cases) {
    key_ = std::move(EphemeralKey::generate(kNow).value());
    ScriptedHttp http;
    http.type = c.type;
    http.result = c.result;
    http.body = encrypt(key_.public_key(), Bytes(5000, 0x41));
    if (c.tamper) http.body.back() = http.body.back() == 'A' ? 'Q' : 'A';
    if (c.truncate) http.body.resize(http.body.size() - 30);
    auto r = run(http);
    ASSERT_FALSE(r.is_ok()) << c.what;
    EXPECT_EQ(r.status().code(), c.code) << c.what << ": " << r.status().name();
    EXPECT_TRUE(key_.used()) << c.what;
    EXPECT_TRUE(storage_.blob_names().empty()) << c.what;
    EXPECT_EQ(storage_.open_blobs(), 0u) << c.what;
  }
}

TEST_F(AvatarFetch, ReceivingUeAttestationMustNameOurKey) {
  auto dev = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(dev.is_ok());
  crypto::MemoryKeystore ks(std::move(dev.value()));
  auto cert = crypto::make_self_signed_cert(*ks.port(), "ue-a", "sip:alice@ims.example", kNow, 1);
  ASSERT_TRUE(cert.is_ok());
  ASSERT_TRUE(ks.set_chain({cert.value()}).is_ok());
  avatar::AttestationClaims c;
  c.avatar_id = "av-1";
  c.dc_as = "dcas.ims.example";
  c.aud = "bar.ims.example";
  c.rendering = avatar::Rendering::kReceivingUe;
  const crypto::EcPublicKey peer = key_.public_key();
  c.epk = &peer;
  c.times.now_s = kNow;
  auto att = avatar::make_attestation(*ks.port(), c);
  ASSERT_TRUE(att.is_ok());

  auto jti = avatar::receiving_attestation_jti(att.value().jws, key_.public_key());
  ASSERT_TRUE(jti.is_ok()) << jti.status().message();
  EXPECT_EQ(jti.value(), att.value().jti);

  auto other = EphemeralKey::generate(kNow);
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(avatar::receiving_attestation_jti(att.value().jws, other.value().public_key())
                .status()
                .code(),
            Code::kBinding);

  c.rendering = avatar::Rendering::kSendingUe;
  auto sending = avatar::make_attestation(*ks.port(), c);
  ASSERT_TRUE(sending.is_ok());
  EXPECT_EQ(avatar::receiving_attestation_jti(sending.value().jws, peer).status().code(),
            Code::kBinding);
  EXPECT_EQ(avatar::receiving_attestation_jti("a.b", peer).status().code(), Code::kMalformed);
}

// The data-channel path: the same fetch over dc::HttpChannelClient. The test plays the DC AS:
// it parses the one request message and answers in 16 KiB messages, as the relay does.
struct DcAs {
  std::vector<std::string> requests;
  static Status send(void* u, ByteSpan m) {
    static_cast<DcAs*>(u)->requests.push_back(std::string(m.as_string()));
    return Status::ok();
  }
};

FetchOptions dc_options() {
  FetchOptions o;
  o.url = "/avatar/representation";
  o.attestation = "att.jws.sig";
  o.jti = kJti;
  o.now_s = kNow;
  o.blob_name = kBlob;
  return o;
}

std::vector<Bytes> answer(int status, const char* type, std::string_view body) {
  return dc::build_response(status, "X", {{"Content-Type", type}}, ByteSpan(body), 16384).value();
}

TEST_F(AvatarFetch, OverADataChannelToTheDcAs) {
  Bytes plain(100000);
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<std::uint8_t>(i * 13);
  const std::string jwe = encrypt(key_.public_key(), plain);
  DcAs as;
  dc::HttpChannelClient ch(DcAs::send, &as, 65536, "dc-as");
  RepresentationFetch f(*ch.port(), key_, *storage_.port());
  ASSERT_TRUE(f.start(dc_options()).is_ok());
  ASSERT_EQ(as.requests.size(), 1u);
  auto req = dc::parse_request(as.requests[0], IMSDC_MAX_JWS_SIZE);
  ASSERT_TRUE(req.is_ok());
  EXPECT_EQ(req->method, "POST");
  EXPECT_EQ(req->path, "/avatar/representation");
  EXPECT_EQ(req->content_type, "application/jwt");
  EXPECT_EQ(req->body, "att.jws.sig");
  const std::vector<Bytes> msgs = answer(200, "application/jose", jwe);
  ASSERT_GT(msgs.size(), 5u);
  for (const Bytes& m : msgs) {
    EXPECT_FALSE(f.done());
    EXPECT_TRUE(storage_.blob_names().empty()); // nothing before the tag verified
    ch.feed(ByteSpan(m));
  }
  ASSERT_TRUE(f.done());
  auto r = f.result();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value().size, plain.size());
  ASSERT_NE(storage_.blob(kBlob), nullptr);
  EXPECT_EQ(*storage_.blob(kBlob), plain);
  EXPECT_FALSE(ch.busy());
}

TEST_F(AvatarFetch, OverADataChannelFailuresStoreNothing) {
  const Bytes plain(50000, 0x5a);
  struct Case {
    const char* what;
    Code want;
  };
  for (const Case c : {Case{"refused", Code::kAuthRejected}, Case{"closed midway", Code::kNetwork},
                       Case{"timeout", Code::kNetwork}, Case{"over max-size", Code::kTooLarge},
                       Case{"tampered byte", Code::kAuthFailed}}) {
    auto k = EphemeralKey::generate(kNow);
    ASSERT_TRUE(k.is_ok());
    EphemeralKey key = std::move(k.value());
    std::string jwe = encrypt(key.public_key(), plain);
    DcAs as;
    dc::HttpChannelClient ch(DcAs::send, &as, 65536, "dc-as");
    RepresentationFetch f(*ch.port(), key, *storage_.port());
    FetchOptions o = dc_options();
    o.timeout_ms = 5000;
    if (std::string(c.what) == "over max-size") o.max_plaintext = 1000;
    ASSERT_TRUE(f.start(std::move(o)).is_ok()) << c.what;
    const std::string what = c.what;
    if (what == "tampered byte") jwe[jwe.size() / 2] = jwe[jwe.size() / 2] == 'A' ? 'B' : 'A';
    std::vector<Bytes> msgs = what == "refused"
                                  ? answer(403, "application/json", R"({"error":"not_owner"})")
                                  : answer(200, "application/jose", jwe);
    if (what == "closed midway" || what == "timeout") msgs.resize(2);
    for (const Bytes& m : msgs)
      ch.feed(ByteSpan(m));
    if (what == "closed midway") ch.closed();
    if (what == "timeout") {
      ASSERT_TRUE(f.poll(0).is_ok());
      EXPECT_FALSE(f.done()) << c.what;
      fake::advance_ms(5001);
      ASSERT_TRUE(f.poll(0).is_ok());
    }
    ASSERT_TRUE(f.done()) << c.what;
    EXPECT_EQ(f.result().status().code(), c.want)
        << c.what << ": " << f.result().status().message();
    EXPECT_TRUE(storage_.blob_names().empty()) << c.what;
    EXPECT_EQ(storage_.open_blobs(), 0u) << c.what;
    EXPECT_TRUE(key.used()) << c.what; // consumed or destroyed either way
  }
}

TEST(HttpChannelClient, RefusesWhatCannotBeOneRequestMessage) {
  DcAs as;
  dc::HttpChannelClient ch(DcAs::send, &as, 512, "dc-as");
  imsdc_http_events ev{};
  imsdc_http_request r{};
  r.method = "POST";
  r.content_type = "application/jwt";
  const std::string big(600, 'x');
  r.body = reinterpret_cast<const std::uint8_t*>(big.data());
  r.body_len = big.size();
  r.url = "/avatar/representation";
  EXPECT_EQ(ch.port()->request(ch.port()->ctx, &r, &ev), IMSDC_PORT_EINVAL); // > one message
  r.body_len = 10;
  r.url = "https://bar/avatar/representation";
  EXPECT_EQ(ch.port()->request(ch.port()->ctx, &r, &ev), IMSDC_PORT_EINVAL); // not a path
  r.url = "/x";
  r.method = "DELETE";
  EXPECT_EQ(ch.port()->request(ch.port()->ctx, &r, &ev), IMSDC_PORT_EINVAL);
  r.method = "POST";
  EXPECT_EQ(ch.port()->request(ch.port()->ctx, &r, &ev), IMSDC_PORT_OK);
  EXPECT_EQ(ch.port()->request(ch.port()->ctx, &r, &ev), IMSDC_PORT_EINVAL); // one at a time
  EXPECT_EQ(as.requests.size(), 1u);
}

} // namespace
} // namespace imsdc
