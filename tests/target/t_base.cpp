// base/ on target: status codes, base64url (RFC 4648 vectors), base64, hex, log redaction.
// Mirrors tests/unit/test_base.cpp with the same tables (tests/unit/vectors/base_vectors.h).
#include <cstdio>
#include <cstring>

#include "imsdc/codec.h"
#include "imsdc/log.h"
#include "runner.h"
#include "vectors/base_vectors.h"

using namespace imsdc;
using namespace imsdc::test_vectors;

namespace {
Bytes b(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
} // namespace

TEST_CASE(base, StatusCodesHaveStableNames) {
  CHECK_EQ(std::string(Status(Code::kAuthFailed, Module::kAvatar).name()), "auth_failed");
  CHECK_EQ(std::string(Status(Code::kMalformed, Module::kBase).name()), "malformed");
  CHECK_EQ(static_cast<int>(Code::kEntropy), 25); // ABI: values never change
  CHECK(Status::ok().is_ok());
  Result<int> odd = Status::ok(); // an ok status without a value is an internal error
  CHECK_EQ(odd.status().code(), Code::kInternal);
}

TEST_CASE(base, Base64UrlRfc4648Vectors) {
  for (const auto& c : kRfc4648) {
    CHECK_EQ(base64url_encode(ByteSpan(std::string_view(c.plain))), std::string(c.url));
    auto d = base64url_decode(c.url);
    REQUIRE_OK(d);
    CHECK(d.value() == b(c.plain));
  }
}

TEST_CASE(base, Base64UrlRejectsNonCanonicalInput) {
  CHECK_CODE(base64url_decode("Zh"), Code::kMalformed);
  CHECK_CODE(base64url_decode("Zm9="), Code::kMalformed);
  CHECK_CODE(base64url_decode("Zm9v+"), Code::kMalformed);
  CHECK_CODE(base64url_decode("Z"), Code::kMalformed);
  CHECK_CODE(base64url_decode("Zm 9v"), Code::kMalformed);
  CHECK_CODE(base64url_decode("Zm9vYmFy", 5), Code::kTooLarge);
}

TEST_CASE(base, Base64AndHex) {
  CHECK_EQ(base64_encode(ByteSpan(std::string_view("fo"))), std::string("Zm8="));
  CHECK(base64_decode("Zm9vYg==").value() == b("foob"));
  CHECK_CODE(base64_decode("Zm9vYh=="), Code::kMalformed);
  Bytes d = {0xab, 0x01, 0xff};
  CHECK_EQ(hex_encode(d), std::string("ab01ff"));
  CHECK(hex_decode("AB:01:ff", ':').value() == d);
  CHECK_CODE(hex_decode("ABC"), Code::kMalformed);
  CHECK_CODE(hex_decode("zz"), Code::kMalformed);
}

TEST_CASE(base, LogRedactsSecrets) {
  for (const auto& c : kRedact) {
    char line[256];
    std::snprintf(line, sizeof line, "%s", c.in);
    std::size_t n = log::redact(line, std::strlen(line));
    CHECK_EQ(n, std::strlen(line));
    CHECK_MSG(std::strstr(line, c.secret) == nullptr, line);
    CHECK_MSG(std::strstr(line, c.keep) != nullptr, line);
  }
}
