// identity/ on target: RFC 8785 number serialization (appendix B bit patterns, shared with
// tests/unit/test_identity_jcs.cpp) and canonicalization, which lean on the C library's
// floating-point formatting and so are exactly what differs between libcs.
#include <cstring>

#include "identity/jcs.h"
#include "runner.h"
#include "vectors/jcs_vectors.h"

using namespace imsdc;
using namespace imsdc::identity;
using namespace imsdc::test_vectors;

namespace {
double from_bits(std::uint64_t bits) {
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
} // namespace

TEST_CASE(identity, JcsNumbersOfAppendixB) {
  for (const NumberCase& c : kNumbers) {
    auto s = jcs_number(from_bits(c.bits));
    CHECK_MSG(s.is_ok(), c.text);
    if (s.is_ok()) CHECK_EQ(s.value(), std::string(c.text));
  }
}

TEST_CASE(identity, JcsNonFiniteNumbersAreRejected) {
  CHECK_CODE(jcs_number(from_bits(0x7fffffffffffffff)), Code::kMalformed);
  CHECK_CODE(jcs_number(from_bits(0x7ff0000000000000)), Code::kMalformed);
}

// RFC 8785 section 3.2.2 input and canonical output (also in test_identity_jcs.cpp).
TEST_CASE(identity, JcsSection322Example) {
  const char* in = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  auto out = jcs_canonicalize(in);
  REQUIRE_OK(out);
  CHECK_EQ(out.value(),
           std::string("{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,"
                       "1e+30,4.5,0.002,1e-27],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B"
                       "\\\"\\\\\\\\\\\"/\"}"));
}
