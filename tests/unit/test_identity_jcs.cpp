// RFC 8785 canonical JSON: the RFC's own examples, byte for byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "identity/jcs.h"
#include "vectors/jcs_vectors.h"

using namespace imsdc::test_vectors; // tables shared with tests/target

namespace imsdc::identity {
namespace {

double from_bits(std::uint64_t bits) {
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

TEST(IdentityJcs, NumbersOfAppendixB) {
  for (const NumberCase& c : kNumbers) {
    auto s = jcs_number(from_bits(c.bits));
    ASSERT_TRUE(s.is_ok()) << c.text;
    EXPECT_EQ(s.value(), c.text) << std::hex << c.bits;
  }
}

TEST(IdentityJcs, NonFiniteNumbersAreRejected) {
  EXPECT_EQ(jcs_number(from_bits(0x7fffffffffffffff)).status(), Code::kMalformed);
  EXPECT_EQ(jcs_number(from_bits(0x7ff0000000000000)).status(), Code::kMalformed);
}

TEST(IdentityJcs, SmallIntegersAndFractions) {
  EXPECT_EQ(jcs_number(1).value(), "1");
  EXPECT_EQ(jcs_number(-1.5).value(), "-1.5");
  EXPECT_EQ(jcs_number(100).value(), "100");
  EXPECT_EQ(jcs_number(1e21).value(), "1e+21");
  EXPECT_EQ(jcs_number(1e-7).value(), "1e-7");
  EXPECT_EQ(jcs_number(123e-9).value(), "1.23e-7");
  EXPECT_EQ(jcs_number(0.1).value(), "0.1");
}

// RFC 8785 section 3.2.2 (the example of section 3.2.4 "Sorting of Object Properties"
// input and its canonical output).
TEST(IdentityJcs, Section322Example) {
  const char* in = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  auto out = jcs_canonicalize(in);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out.value(), "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,"
                         "4.5,0.002,1e-27],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\"
                         "\\\"/\"}");
}

// RFC 8785 section 3.2.3: names sort by UTF-16 code units, so U+1F600 (a surrogate pair,
// 0xD83D...) comes before U+FB33.
TEST(IdentityJcs, Section323SortingByUtf16) {
  const char* in = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  auto out = jcs_canonicalize(in);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out.value(), "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
                         "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
                         "\"\xE2\x82\xAC\":\"Euro Sign\","
                         "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
                         "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(IdentityJcs, RejectsWhatHasNoSingleCanonicalForm) {
  EXPECT_EQ(jcs_canonicalize(R"({"a":1,"a":2})").status(), Code::kMalformed);
  EXPECT_EQ(jcs_canonicalize("{\"a\":\"\xC0\xAF\"}").status(), Code::kMalformed);
  EXPECT_EQ(jcs_canonicalize(R"(["\u0000"])").status(), Code::kUnsupported);
  EXPECT_EQ(jcs_canonicalize("[1] x").status(), Code::kMalformed);
  EXPECT_EQ(jcs_canonicalize("{").status(), Code::kMalformed);
  EXPECT_EQ(jcs_canonicalize(std::string(100, '[') + std::string(100, ']')).status(),
            Code::kTooLarge);
  EXPECT_EQ(jcs_canonicalize(std::string(kMaxJcsInput + 1, ' ')).status(), Code::kTooLarge);
}

TEST(IdentityJcs, NestedValuesAndWhiteSpace) {
  auto out = jcs_canonicalize(" {\"b\": [ {\"d\":1, \"c\":[]} ], \"a\": {}} \n");
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out.value(), R"({"a":{},"b":[{"c":[],"d":1}]})");
}

} // namespace
} // namespace imsdc::identity
