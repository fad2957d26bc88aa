// DCEP (RFC 8832) parser and encoder, driven by tests/unit/data/dc/dcep.data.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dc/dcep.h"

namespace imsdc::dc {
namespace {

Bytes unhex(const std::string& h) {
  Bytes b;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    b.push_back(static_cast<std::uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
  return b;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

TEST(DcDcep, DataVectors) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/dc/dcep.data");
  ASSERT_TRUE(f.good());
  std::string line;
  int cases = 0;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string expect, hex, part;
    in >> expect;
    while (in >> part)
      hex += part;
    const Bytes msg = unhex(hex);
    Result<DcepOpen> r = parse_dcep_open(msg);
    ++cases;
    if (expect.rfind("ok:", 0) != 0) {
      ASSERT_FALSE(r.is_ok()) << line;
      EXPECT_STREQ(r.status().name(), expect.c_str()) << line;
      continue;
    }
    ASSERT_TRUE(r.is_ok()) << line << ": " << r.status().message();
    const std::vector<std::string> v = split(expect, ':');
    ASSERT_EQ(v.size(), 7u) << line;
    EXPECT_EQ(r->ordered, v[1] == "1") << line;
    const Reliability rel = v[2] == "x"   ? Reliability::kMaxRetransmits
                            : v[2] == "t" ? Reliability::kMaxLifetime
                                          : Reliability::kReliable;
    EXPECT_EQ(r->reliability, rel) << line;
    EXPECT_EQ(r->reliability_param, std::stoul(v[3])) << line;
    EXPECT_EQ(r->priority, std::stoul(v[4])) << line;
    EXPECT_EQ(r->label, v[5]) << line;
    EXPECT_EQ(r->protocol, v[6]) << line;
    // Round trip (a reliable channel's ignored parameter is written as 0).
    Result<Bytes> enc = encode_dcep_open(r.value());
    ASSERT_TRUE(enc.is_ok());
    Bytes expect_bytes = msg;
    if (rel == Reliability::kReliable)
      for (int i = 4; i < 8; ++i)
        expect_bytes[static_cast<std::size_t>(i)] = 0;
    EXPECT_EQ(enc.value(), expect_bytes) << line;
  }
  EXPECT_GE(cases, 10);
}

TEST(DcDcep, AckAndEncodeBounds) {
  EXPECT_TRUE(is_dcep_ack(Bytes{0x02}));
  EXPECT_FALSE(is_dcep_ack(Bytes{0x02, 0x00}));
  EXPECT_FALSE(is_dcep_ack(Bytes{0x03}));
  EXPECT_FALSE(is_dcep_ack(ByteSpan()));
  DcepOpen o;
  const std::string big(kMaxDcepField + 1, 'a');
  o.label = big;
  EXPECT_EQ(encode_dcep_open(o).status(), Code::kTooLarge);
  o.label = "x";
  o.protocol = big;
  EXPECT_EQ(encode_dcep_open(o).status(), Code::kTooLarge);
  o.protocol = std::string_view(big).substr(0, kMaxDcepField);
  EXPECT_TRUE(encode_dcep_open(o).is_ok());
}

} // namespace
} // namespace imsdc::dc
