#include "avatar/avatar_list.h"

#include <cjson/cJSON.h>

#include <cstring>

#include "crypto/internal.h"

namespace imsdc::avatar {
namespace {

Status err(Code c, const char* d) {
  return Status(c, Module::kAvatar, d);
}

bool printable(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

// Member `name` as a string of at most `max` bytes; absent gives "". Errors as the list.
Status field(const cJSON* obj, const char* name, std::size_t max, std::string* out) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (v == nullptr) return Status::ok();
  if (!cJSON_IsString(v) || v->valuestring == nullptr)
    return err(Code::kMalformed, "avatar entry field is not a string");
  const std::string_view s(v->valuestring);
  if (s.size() > max) return err(Code::kTooLarge, "avatar entry field too long");
  if (!printable(s)) return err(Code::kMalformed, "control character in avatar entry");
  out->assign(s);
  return Status::ok();
}

} // namespace

bool valid_avatar_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '.' || c == '_' || c == '~' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<AvatarEntry>> parse_avatar_list(std::string_view json) {
  crypto::internal::JsonPtr root;
  IMSDC_TRY(crypto::internal::parse_json_object(json, IMSDC_MAX_HTTP_BODY, &root));
  const cJSON* list = cJSON_GetObjectItemCaseSensitive(root.get(), "avatars");
  if (!cJSON_IsArray(list)) return err(Code::kMalformed, "no \"avatars\" array");
  std::vector<AvatarEntry> out;
  for (const cJSON* e = list->child; e != nullptr; e = e->next) {
    if (out.size() >= kMaxAvatars) return err(Code::kTooLarge, "too many avatars");
    if (!cJSON_IsObject(e)) return err(Code::kMalformed, "avatar entry is not an object");
    // Duplicate member names are where parsers disagree ("id" twice): refuse them.
    for (const cJSON* m = e->child; m != nullptr; m = m->next) {
      for (const cJSON* n = m->next; n != nullptr; n = n->next) {
        if (m->string != nullptr && n->string != nullptr && std::strcmp(m->string, n->string) == 0)
          return err(Code::kMalformed, "duplicate member in avatar entry");
      }
    }
    AvatarEntry a;
    IMSDC_TRY(field(e, "id", 128, &a.id));
    if (!valid_avatar_id(a.id)) return err(Code::kMalformed, "avatar entry without a valid id");
    IMSDC_TRY(field(e, "name", 256, &a.name));
    IMSDC_TRY(field(e, "thumbnail", 1024, &a.thumbnail));
    if (!a.thumbnail.empty() && a.thumbnail.rfind("https://", 0) != 0)
      return err(Code::kMalformed, "avatar thumbnail is not an https URL");
    for (const AvatarEntry& b : out) {
      if (b.id == a.id) return err(Code::kMalformed, "duplicate avatar id");
    }
    out.push_back(std::move(a));
  }
  return out;
}

} // namespace imsdc::avatar
