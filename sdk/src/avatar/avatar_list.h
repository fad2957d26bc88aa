// The avatar ID list (PROTOCOL_PROFILE.md section 5): what `GET /avatars` on the bootstrap
// channel returns, or what the application pre-configures:
//   {"avatars":[{"id":"…","name":"…","thumbnail":"<url>"}]}
// Bounded parsing; the application shows the entries and picks one id for the attestation.
#ifndef IMSDC_SRC_AVATAR_AVATAR_LIST_H
#define IMSDC_SRC_AVATAR_AVATAR_LIST_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/config_defaults.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

struct AvatarEntry {
  std::string id;        // 1..128 characters of [A-Za-z0-9._~-] (it goes into BAR URLs)
  std::string name;      // display name, at most 256 bytes, may be empty
  std::string thumbnail; // an https:// URL of at most 1024 bytes, or empty
};

constexpr std::size_t kMaxAvatars = 64;

// Errors: kMalformed (not the object above, an entry without a valid id, a duplicate id,
// a thumbnail that is not https, control characters in a name), kTooLarge (over
// IMSDC_MAX_HTTP_BODY bytes, more than kMaxAvatars entries, a field over its bound).
// Unknown members are ignored (forward compatibility).
Result<std::vector<AvatarEntry>> parse_avatar_list(std::string_view json);

// True when id is a valid avatar ID (see AvatarEntry::id).
bool valid_avatar_id(std::string_view id);

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_AVATAR_LIST_H
