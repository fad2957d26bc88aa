// Avatar ID list parser: never crash; every accepted entry satisfies the documented bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "avatar/avatar_list.h"

using namespace imsdc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto l = avatar::parse_avatar_list(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!l.is_ok()) return 0;
  if (l->size() > avatar::kMaxAvatars) std::abort();
  for (const avatar::AvatarEntry& e : l.value()) {
    if (!avatar::valid_avatar_id(e.id) || e.name.size() > 256 || e.thumbnail.size() > 1024)
      std::abort();
    if (!e.thumbnail.empty() && e.thumbnail.rfind("https://", 0) != 0) std::abort();
  }
  return 0;
}
