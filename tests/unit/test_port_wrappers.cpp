// sdk/src/port: the wrappers through which the core reaches link-time port functions.
#include <gtest/gtest.h>

#include <cstring>

#include "imsdc/port_fake.h"
#include "port/port.h"

using namespace imsdc;

TEST(PortWrappers, EntropyFailureIsAnErrorNeverPartialOutput) {
  fake::reset();
  std::uint8_t buf[32];
  std::memset(buf, 0xee, sizeof buf);
  fake::fail_nth(fake::Fn::kEntropy, 1);
  Status s = port::entropy(buf, sizeof buf);
  EXPECT_EQ(s.code(), Code::kEntropy);
  EXPECT_EQ(s.module(), Module::kPort);
  ASSERT_TRUE(port::entropy(buf, sizeof buf).is_ok());  // the fault was for one call only
  std::uint8_t zero[32] = {};
  EXPECT_NE(std::memcmp(buf, zero, sizeof buf), 0);
  fake::reset();
}

TEST(PortWrappers, ClocksComeFromThePort) {
  fake::reset();
  fake::set_wall_s(1767225600);
  EXPECT_EQ(port::wall_s(), 1767225600);
  fake::set_wall_s(-5);  // the port does not know the time
  EXPECT_EQ(port::wall_s(), -1);
  std::uint64_t t0 = port::now_ms();
  fake::advance_ms(250);
  EXPECT_EQ(port::now_ms(), t0 + 250);
  fake::reset();
}
