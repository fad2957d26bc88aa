// Identity header fields (RFC 8224 section 4.1).
#include <gtest/gtest.h>

#include <string>

#include "identity/identity.h"

namespace imsdc::identity {
namespace {

constexpr const char* kJws = "eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9.c2ln";

TEST(IdentityHeader, FullForm) {
  std::string v =
      std::string(kJws) + ";info=<https://cert.example.org/passport.cer>;alg=ES256;ppt=\"shaken\"";
  auto h = parse_identity_header(v);
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  EXPECT_EQ(h->jws, kJws);
  EXPECT_EQ(h->info, "https://cert.example.org/passport.cer");
  EXPECT_EQ(h->alg, "ES256");
  EXPECT_EQ(h->ppt, "\"shaken\"");
}

TEST(IdentityHeader, SpacesAndParameterOrder) {
  std::string v = std::string(kJws) + " ; ppt=rcd ; info=<https://a.example/x;y.pem> ";
  auto h = parse_identity_header(v);
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  EXPECT_EQ(h->info, "https://a.example/x;y.pem");
  EXPECT_EQ(h->ppt, "rcd");
  EXPECT_TRUE(h->alg.empty());
}

struct BadCase {
  const char* value;
  Code code;
};

TEST(IdentityHeader, Rejects) {
  const std::string j = kJws;
  const BadCase cases[] = {
      {"", Code::kMalformed},
      {";info=<https://a.example/c>", Code::kMalformed},
      {"abc.def;info=<https://a.example/c>", Code::kMalformed},
      {"a.b.c.d;info=<https://a.example/c>", Code::kMalformed},
      {"a..c;info=<https://a.example/c>", Code::kUnsupported},
      {".b.c;info=<https://a.example/c>", Code::kMalformed},
      {"a.b.;info=<https://a.example/c>", Code::kMalformed},
      {"a.b.c", Code::kMalformed},
      {"a.b.c;info=https://a.example/c", Code::kMalformed},
      {"a.b.c;info=<https://a.example/c", Code::kMalformed},
      {"a.b.c;info=<not a uri>", Code::kMalformed},
      {"a.b.c;info=<https://a.example/c>;alg=RS256", Code::kUnsupported},
      {"a.b.c;info=<https://a.example/c>;alg=", Code::kMalformed},
      {"a.b.c;info=<https://a.example/c>;info=<https://b.example/c>", Code::kMalformed},
      {"a.b.c;info=<https://a.example/c> x", Code::kMalformed},
      {"a.b.c;info=<https://a.example/c>;a;b;c;d;e;f;g;h", Code::kMalformed},
      {"a.b.c;info=<https://a.example/c>;p@=1", Code::kMalformed},
  };
  for (const BadCase& c : cases) {
    auto h = parse_identity_header(c.value);
    EXPECT_EQ(h.status(), c.code) << c.value;
  }
  EXPECT_EQ(parse_identity_header(std::string(kMaxIdentityHeaderSize + 1, 'a')).status(),
            Code::kTooLarge);
  (void)j;
}

} // namespace
} // namespace imsdc::identity
