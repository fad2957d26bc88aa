// The avatar ID list of PROTOCOL_PROFILE.md section 5: accepted shapes, bounds and refusals.
#include <gtest/gtest.h>

#include <string>

#include "avatar/avatar_list.h"

namespace imsdc::avatar {
namespace {

TEST(AvatarList, ParsesTheProfileShape) {
  Result<std::vector<AvatarEntry>> l = parse_avatar_list(
      R"({"avatars":[{"id":"avatar-001","name":"Alice 3D","thumbnail":"https://bar.ims.example/t/1.png"},)"
      R"({"id":"a.2~x_y","future":{"x":1}}]})");
  ASSERT_TRUE(l.is_ok()) << l.status().message();
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].id, "avatar-001");
  EXPECT_EQ((*l)[0].name, "Alice 3D");
  EXPECT_EQ((*l)[0].thumbnail, "https://bar.ims.example/t/1.png");
  EXPECT_EQ((*l)[1].id, "a.2~x_y"); // unknown members ignored
  EXPECT_TRUE((*l)[1].name.empty());
  EXPECT_TRUE(parse_avatar_list(R"({"avatars":[]})")->empty());
}

TEST(AvatarList, RefusesWhatItCannotShowSafely) {
  struct Case {
    std::string json;
    Code code;
  };
  const Case cases[] = {
      {R"({"avatar":[]})", Code::kMalformed},
      {R"({"avatars":{}})", Code::kMalformed},
      {R"({"avatars":["avatar-001"]})", Code::kMalformed},
      {R"({"avatars":[{"name":"no id"}]})", Code::kMalformed},
      {R"({"avatars":[{"id":""}]})", Code::kMalformed},
      {R"({"avatars":[{"id":"../etc"}]})", Code::kMalformed},
      {R"({"avatars":[{"id":"a b"}]})", Code::kMalformed},
      {R"({"avatars":[{"id":7}]})", Code::kMalformed},
      {R"({"avatars":[{"id":"a"},{"id":"a"}]})", Code::kMalformed},
      {R"({"avatars":[{"id":"a","id":"b"}]})", Code::kMalformed},
      {R"({"avatars":[{"id":"a","thumbnail":"http://x/t.png"}]})", Code::kMalformed},
      {R"j({"avatars":[{"id":"a","thumbnail":"javascript:alert(1)"}]})j", Code::kMalformed},
      {R"({"avatars":[{"id":"a","name":"bell\u0007"}]})", Code::kMalformed},
      {R"({"avatars":[{"id":")" + std::string(129, 'x') + R"("}]})", Code::kTooLarge},
      {R"({"avatars":[{"id":"a","name":")" + std::string(257, 'n') + R"("}]})", Code::kTooLarge},
      {R"({"avatars":[]} trailing)", Code::kMalformed},
      {"[]", Code::kMalformed},
  };
  for (const Case& c : cases)
    EXPECT_EQ(parse_avatar_list(c.json).status().code(), c.code) << c.json;
  // More entries than kMaxAvatars.
  std::string many = R"({"avatars":[)";
  for (std::size_t i = 0; i <= kMaxAvatars; ++i)
    many += (i ? "," : "") + std::string(R"({"id":"a)") + std::to_string(i) + "\"}";
  many += "]}";
  EXPECT_EQ(parse_avatar_list(many).status().code(), Code::kTooLarge);
  // Over the HTTP body bound.
  const std::string big =
      R"({"avatars":[],"pad":")" + std::string(IMSDC_MAX_HTTP_BODY, 'p') + "\"}";
  EXPECT_EQ(parse_avatar_list(big).status().code(), Code::kTooLarge);
}

} // namespace
} // namespace imsdc::avatar
