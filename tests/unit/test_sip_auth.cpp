// Digest (RFC 7616 section 3.9.1 vectors, Kamailio-shaped challenges) and Bearer (RFC 6750,
// RFC 8898) authentication.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "sip/auth.h"
#include "sip/message.h"

#ifndef IMSDC_TEST_DATA_DIR
#define IMSDC_TEST_DATA_DIR "tests/unit/data"
#endif

namespace imsdc::sip {
namespace {

Message load_message(const char* name) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/sip/" + name, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto m = parse_message(ByteSpan(text));
  EXPECT_TRUE(m.is_ok()) << name;
  return m.value();
}

// RFC 7616 section 3.9.1, written as a SIP header with folded lines.
const char kRfc7616Challenge[] = "Digest\r\n"
                                 "    realm=\"http-auth@example.org\",\r\n"
                                 "    qop=\"auth, auth-int\",\r\n"
                                 "    algorithm=SHA-256,\r\n"
                                 "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
                                 "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

Challenge rfc7616_challenge(DigestAlgorithm alg) {
  // Unfold the way the message parser does before handing the value over.
  std::string v = kRfc7616Challenge;
  for (std::size_t at; (at = v.find("\r\n")) != std::string::npos;)
    v.replace(at, 2, "  ");
  auto c = parse_challenge(v);
  EXPECT_TRUE(c.is_ok()) << c.status().message();
  Challenge ch = c.value();
  ch.algorithm = alg;
  return ch;
}

DigestInput mufasa() {
  DigestInput in;
  in.username = "Mufasa";
  in.password = "Circle of Life";
  in.method = "GET";
  in.uri = "/dir/index.html";
  in.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  in.nc = 1;
  return in;
}

TEST(SipAuth, Rfc7616Vectors) {
  Challenge sha = rfc7616_challenge(DigestAlgorithm::kSha256);
  EXPECT_EQ(sha.realm, "http-auth@example.org");
  EXPECT_EQ(sha.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
  EXPECT_EQ(sha.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  EXPECT_TRUE(sha.has_opaque);
  EXPECT_TRUE(sha.qop_auth);
  EXPECT_FALSE(sha.stale);
  auto r = digest_response(sha, mufasa());
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");

  auto md5 = digest_response(rfc7616_challenge(DigestAlgorithm::kMd5), mufasa());
  ASSERT_TRUE(md5.is_ok());
  EXPECT_EQ(md5.value(), "8ca523f5e9506fed4657c9700eebdbec");

  auto header = digest_authorization(sha, mufasa());
  ASSERT_TRUE(header.is_ok());
  EXPECT_EQ(header.value(),
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
            "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", "
            "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
            "algorithm=SHA-256, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
            "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001");
}

TEST(SipAuth, KamailioRegisterExchange) {
  Message m401 = load_message("kamailio_401.sip");
  EXPECT_EQ(m401.header("Server"), "kamailio (5.6.3 (x86_64/linux))");
  auto ch = select_challenge(m401, CredentialKind::kDigest);
  ASSERT_TRUE(ch.is_ok()) << ch.status().message();
  EXPECT_EQ(ch->algorithm, DigestAlgorithm::kSha256); // preferred over the MD5 one
  EXPECT_EQ(ch->realm, "ims.example");
  EXPECT_FALSE(ch->has_opaque);

  DigestInput in;
  in.username = "alice@ims.example";
  in.password = "secret";
  in.method = "REGISTER";
  in.uri = "sip:ims.example";
  in.cnonce = "0a4f113b";
  in.nc = 2;
  // Expected values computed independently (Python hashlib).
  auto r = digest_response(ch.value(), in);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), "b9a263780c4efc0d83906d0ca122859bf925d69b371f73b551b5753d20f0d624");
  Challenge md5 = ch.value();
  md5.algorithm = DigestAlgorithm::kMd5;
  EXPECT_EQ(digest_response(md5, in).value(), "debf568dcb9e5f33bd9e6048b1e2f097");
  auto auth = digest_authorization(ch.value(), in);
  ASSERT_TRUE(auth.is_ok());
  EXPECT_NE(auth->find("nc=00000002"), std::string::npos);
  EXPECT_EQ(auth->find("opaque"), std::string::npos);

  // No qop (RFC 2069 form, still legal in RFC 3261): response = H(HA1:nonce:HA2), no nc.
  auto legacy = parse_challenge("Digest realm=\"ims.example\", nonce=\"abc\"");
  ASSERT_TRUE(legacy.is_ok());
  EXPECT_EQ(legacy->algorithm, DigestAlgorithm::kMd5);
  EXPECT_EQ(digest_response(legacy.value(), in).value(), "2a9fb8f070eeaa3fd90c5a29f8b0c7a6");
  auto legacy_header = digest_authorization(legacy.value(), in);
  ASSERT_TRUE(legacy_header.is_ok());
  EXPECT_EQ(legacy_header->find("qop"), std::string::npos);
  EXPECT_EQ(legacy_header->find("cnonce"), std::string::npos);
}

TEST(SipAuth, ChallengeParsing) {
  struct {
    const char* text;
    Code code; // kOk when it must parse
  } cases[] = {
      {"Digest realm=\"ims.example\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256", Code::kOk},
      {"digest REALM=\"r\",NONCE=\"n\",,, stale=TRUE", Code::kOk},
      {"Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess", Code::kUnsupported},
      {"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256-sess", Code::kUnsupported},
      {"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256", Code::kUnsupported},
      {"Digest realm=\"r\", nonce=\"n\", algorithm=AKAv1-MD5", Code::kUnsupported},
      {"Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", Code::kUnsupported},
      {"Basic realm=\"r\"", Code::kUnsupported},
      {"Digest realm=\"r\"", Code::kMalformed},
      {"Digest nonce=\"n\"", Code::kMalformed},
      {"Digest realm=\"r\", nonce=\"n", Code::kMalformed},
      {"Digest realm=\"r\" nonce=\"n\"", Code::kMalformed},
      {"Digest realm=\"r\", realm=\"s\", nonce=\"n\"", Code::kMalformed},
      {"Digest realm=, nonce=\"n\"", Code::kMalformed},
      {"", Code::kMalformed},
      {"Digest,realm=\"r\"", Code::kMalformed},
      {"Bearer realm=\"ims.example\"", Code::kOk},
      {"Bearer", Code::kOk},
  };
  for (const auto& c : cases) {
    auto ch = parse_challenge(c.text);
    if (c.code == Code::kOk) {
      EXPECT_TRUE(ch.is_ok()) << c.text << ": " << ch.status().message();
    } else {
      ASSERT_FALSE(ch.is_ok()) << c.text;
      EXPECT_EQ(ch.status().code(), c.code) << c.text;
    }
  }
  auto stale = parse_challenge("digest REALM=\"r\",NONCE=\"n\",,, stale=TRUE");
  EXPECT_TRUE(stale->stale);
  EXPECT_FALSE(stale->qop_auth);
}

TEST(SipAuth, BearerChallenges) {
  Message m = load_message("kamailio_401_bearer.sip");
  auto ch = select_challenge(m, CredentialKind::kBearer);
  ASSERT_TRUE(ch.is_ok());
  EXPECT_EQ(ch->scheme, AuthScheme::kBearer);
  EXPECT_EQ(ch->realm, "ims.example");
  EXPECT_EQ(ch->scope, "sip-register");
  EXPECT_EQ(ch->error, "invalid_token");
  EXPECT_EQ(ch->error_description, "The access token expired");
  // A Bearer-only 401 offers nothing to a digest client.
  EXPECT_EQ(select_challenge(m, CredentialKind::kDigest).status().code(), Code::kNotFound);

  Message m403 = load_message("kamailio_403_scope.sip");
  EXPECT_EQ(select_challenge(m403, CredentialKind::kBearer).status().code(),
            Code::kInvalidArgument);
  auto scope = parse_challenge(m403.header("WWW-Authenticate"));
  ASSERT_TRUE(scope.is_ok());
  EXPECT_EQ(scope->error, "insufficient_scope");

  auto rfc8898 = parse_challenge("Bearer realm=\"atlanta.com\", scope=\"sip:example.com\", "
                                 "authz_server=\"https://as.example.com/token\"");
  ASSERT_TRUE(rfc8898.is_ok());
  EXPECT_EQ(rfc8898->authz_server, "https://as.example.com/token");
}

TEST(SipAuth, SelectPrefersSha256AndSkipsUnusable) {
  const char* text =
      "SIP/2.0 407 Proxy Authentication Required\r\n"
      "Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n"
      "From: <sip:a@ims.example>;tag=1\r\n"
      "To: <sip:b@ims.example>;tag=2\r\n"
      "Call-ID: x\r\n"
      "CSeq: 1 INVITE\r\n"
      "Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n1\", algorithm=MD5, "
      "qop=\"auth\"\r\n"
      "Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n2\", algorithm=SHA-512-256\r\n"
      "Proxy-Authenticate: Garbage ,,, \"\r\n"
      "Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n3\", algorithm=SHA-256, "
      "qop=\"auth\"\r\n"
      "Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n4\", algorithm=SHA-256, "
      "qop=\"auth\"\r\n"
      "Content-Length: 0\r\n\r\n";
  auto m = parse_message(ByteSpan(std::string_view(text)));
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  auto ch = select_challenge(m.value(), CredentialKind::kDigest);
  ASSERT_TRUE(ch.is_ok());
  EXPECT_EQ(ch->nonce, "n3");

  std::string only_unsupported = text;
  std::size_t a =
      only_unsupported.find("Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n1\"");
  std::size_t b =
      only_unsupported.find("Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n2\"");
  only_unsupported.erase(a, b - a);
  a = only_unsupported.find("Proxy-Authenticate: Digest realm=\"ims.example\", nonce=\"n3\"");
  b = only_unsupported.find("Content-Length");
  only_unsupported.erase(a, b - a);
  auto m2 = parse_message(ByteSpan(only_unsupported));
  ASSERT_TRUE(m2.is_ok());
  EXPECT_EQ(select_challenge(m2.value(), CredentialKind::kDigest).status().code(),
            Code::kUnsupported);
}

TEST(SipAuth, CredentialValidation) {
  Challenge ch = rfc7616_challenge(DigestAlgorithm::kSha256);
  DigestInput in = mufasa();
  in.username = "";
  EXPECT_EQ(digest_response(ch, in).status().code(), Code::kInvalidArgument);
  in = mufasa();
  in.cnonce = "bad cnonce";
  EXPECT_EQ(digest_response(ch, in).status().code(), Code::kInvalidArgument);
  in = mufasa();
  in.username = "Muf\r\nX: y";
  EXPECT_EQ(digest_authorization(ch, in).status().code(), Code::kInvalidArgument);
  in.username = "M\xC3\xBC";
  EXPECT_EQ(digest_authorization(ch, in).status().code(), Code::kInvalidArgument);
  in.username = "a\"b\\c";
  auto escaped = digest_authorization(ch, in);
  ASSERT_TRUE(escaped.is_ok());
  EXPECT_EQ(escaped->substr(0, 27), "Digest username=\"a\\\"b\\\\c\", ");
  Challenge bearer;
  bearer.scheme = AuthScheme::kBearer;
  EXPECT_EQ(digest_response(bearer, mufasa()).status().code(), Code::kInvalidArgument);

  EXPECT_EQ(bearer_authorization("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.sig-_~+/==").value(),
            "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.sig-_~+/==");
  for (const char* bad : {"", "a b", "a\r\nX: y", "=abc", "ab=c", "a\"b"}) {
    EXPECT_EQ(bearer_authorization(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

} // namespace
} // namespace imsdc::sip
