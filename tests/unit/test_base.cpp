// base/: status codes, canonical base64url, base64, hex, redaction, secret buffers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "imsdc/bytes.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/log.h"
#include "imsdc/status.h"
#include "vectors/base_vectors.h"

using namespace imsdc::test_vectors; // tables shared with tests/target

using namespace imsdc;

namespace {

Bytes b(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

} // namespace

TEST(Status, CodesHaveStableNamesAndExitClasses) {
  EXPECT_STREQ(Status(Code::kAuthFailed, Module::kAvatar).name(), "auth_failed");
  EXPECT_STREQ(Status(Code::kMalformed, Module::kBase).name(), "malformed");
  EXPECT_EQ(Status(Code::kAuthRejected, Module::kSip).exit_class(), ExitClass::kAuth);
  EXPECT_EQ(Status(Code::kTls, Module::kTransport).exit_class(), ExitClass::kTls);
  EXPECT_EQ(Status(Code::kIo, Module::kAvatar).exit_class(), ExitClass::kIo);
  EXPECT_EQ(Status(Code::kBadSignature, Module::kCrypto).exit_class(), ExitClass::kVerification);
  EXPECT_EQ(static_cast<int>(Code::kEntropy), 25); // ABI: values never change
  EXPECT_STREQ(Status(Code::kExpired, Module::kCrypto, "token expired").message(), "token expired");
  EXPECT_TRUE(Status::ok().is_ok());
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok.value(), 42);
  Result<std::string> err = Status(Code::kNotFound, Module::kPort);
  EXPECT_FALSE(err.is_ok());
  EXPECT_EQ(err.status().code(), Code::kNotFound);
  Result<int> odd = Status::ok(); // an ok status without a value is an internal error
  EXPECT_EQ(odd.status().code(), Code::kInternal);
}

TEST(Base64Url, Rfc4648Vectors) {
  for (const auto& c : kRfc4648) {
    EXPECT_EQ(base64url_encode(ByteSpan(std::string_view(c.plain))), c.url);
    auto d = base64url_decode(c.url);
    ASSERT_TRUE(d.is_ok()) << c.url;
    EXPECT_EQ(d.value(), b(c.plain));
  }
}

TEST(Base64Url, RejectsNonCanonicalInput) {
  // "Zg" is canonical for "f"; "Zh" has the same first 8 bits but non-zero unused bits.
  EXPECT_EQ(base64url_decode("Zh").status().code(), Code::kMalformed);
  EXPECT_EQ(base64url_decode("Zm9=").status().code(), Code::kMalformed);  // padding
  EXPECT_EQ(base64url_decode("Zm9v+").status().code(), Code::kMalformed); // std alphabet
  EXPECT_EQ(base64url_decode("Z").status().code(), Code::kMalformed);     // 1 mod 4
  EXPECT_EQ(base64url_decode("Zm 9v").status().code(), Code::kMalformed); // whitespace
  EXPECT_EQ(base64url_decode("Zm9vYmFy", 5).status().code(), Code::kTooLarge);
}

TEST(Base64Url, EveryLastCharacterChangeIsRejectedOrDecodesDifferently) {
  // The property JOSE tamper tests rely on: no two encodings of one byte string.
  const Bytes data = b("avatar-representation");
  std::string enc = base64url_encode(data);
  constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (const char* p = kAlphabet; *p; ++p) {
    if (*p == enc.back()) continue;
    std::string t = enc;
    t.back() = *p;
    auto d = base64url_decode(t);
    if (d.is_ok()) {
      EXPECT_NE(d.value(), data) << t;
    }
  }
}

TEST(Base64, StandardWithPadding) {
  EXPECT_EQ(base64_encode(ByteSpan(std::string_view("fo"))), "Zm8=");
  EXPECT_EQ(base64_decode("Zm9vYg==").value(), b("foob"));
  EXPECT_EQ(base64_decode("Zm9vYg=").status().code(), Code::kMalformed);
  EXPECT_EQ(base64_decode("Zm9vYh==").status().code(), Code::kMalformed);
  EXPECT_EQ(base64_decode("Zm-vYg==").status().code(), Code::kMalformed);
}

TEST(Hex, RoundTripAndSeparators) {
  Bytes d = {0xab, 0x01, 0xff};
  EXPECT_EQ(hex_encode(d), "ab01ff");
  EXPECT_EQ(hex_decode("AB:01:ff", ':').value(), d);
  EXPECT_EQ(hex_decode("ab01ff").value(), d);
  EXPECT_EQ(hex_decode("AB-01", ':').status().code(), Code::kMalformed);
  EXPECT_EQ(hex_decode("ABC").status().code(), Code::kMalformed);
  EXPECT_EQ(hex_decode("zz").status().code(), Code::kMalformed);
}

TEST(Bytes, ConstantTimeEqualAndSecureZero) {
  Bytes a = {1, 2, 3}, c = {1, 2, 4};
  EXPECT_TRUE(constant_time_equal(a, a));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, ByteSpan(a.data(), 2)));
  std::uint8_t buf[8];
  std::memset(buf, 0x5a, sizeof buf);
  secure_zero(buf, sizeof buf);
  for (auto x : buf)
    EXPECT_EQ(x, 0);
  SecretBytes s{ByteSpan(a)};
  SecretBytes moved = std::move(s);
  EXPECT_TRUE(s.empty()); // NOLINT(bugprone-use-after-move): checking the move empties it
  EXPECT_EQ(moved.size(), 3u);
  moved.clear();
  EXPECT_TRUE(moved.empty());
}

TEST(Log, RedactsSecrets) {
  for (const auto& c : kRedact) {
    char line[256];
    std::snprintf(line, sizeof line, "%s", c.in);
    std::size_t n = log::redact(line, std::strlen(line));
    EXPECT_EQ(n, std::strlen(line));
    EXPECT_EQ(std::strstr(line, c.secret), nullptr) << line;
    EXPECT_NE(std::strstr(line, c.keep), nullptr) << line;
  }
}

TEST(Log, LeavesOrdinaryTextAlone) {
  char line[] = "REGISTER sip:ims.example SIP/2.0 expires=600";
  std::size_t n = log::redact(line, std::strlen(line));
  EXPECT_STREQ(line, "REGISTER sip:ims.example SIP/2.0 expires=600");
  EXPECT_EQ(n, std::strlen(line));
}

TEST(Config, DefaultsAreWithinDocumentedRanges) {
  static_assert(IMSDC_STREAM_CHUNK % 16 == 0, "streaming AES-GCM needs 16-byte multiples");
  EXPECT_GE(IMSDC_MAX_SIP_MESSAGE, IMSDC_MAX_SDP_SIZE);
#ifndef IMSDC_CONFIG_FILE
  EXPECT_EQ(IMSDC_DC_MAX_MESSAGE_SIZE, 65536); // PROTOCOL_PROFILE.md section 3 default
  EXPECT_EQ(IMSDC_TOKEN_LIFETIME_S, 60);       // section 6 default
#else
  // A configuration preset (configs/*.h) sets its own values: they must stay in range.
  EXPECT_GE(IMSDC_DC_MAX_MESSAGE_SIZE, 1024);
  EXPECT_LE(IMSDC_DC_MAX_MESSAGE_SIZE, 1048576);
  EXPECT_GE(IMSDC_TOKEN_LIFETIME_S, 1);
  EXPECT_LE(IMSDC_TOKEN_LIFETIME_S, 3600);
#endif
}
