// RamStorage: the storage port in the arena. Blobs are staged and swapped in on commit, so
// nothing is visible under a name before commit and abort leaves nothing.
#include <new>
#include <utility>

#include "imsdc/port_baremetal.h"

struct imsdc_port_blob {
  imsdc::baremetal::RamStorage* owner;
  std::string name;
  std::vector<std::uint8_t> data;
};

namespace imsdc::baremetal {

constexpr std::size_t kMaxKvValue = 4096;
constexpr std::size_t kMaxBlobName = 128;

struct RamStorageAccess {
  static RamStorage* self(void* ctx) { return static_cast<RamStorage*>(ctx); }

  static bool valid_key(const char* key, std::size_t max) {
    if (!key) return false;
    std::size_t n = 0;
    for (; key[n] != '\0'; ++n) {
      char c = key[n];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok || n >= max) return false;
    }
    return n > 0;
  }

  static int blob_open(void* ctx, const char* name, imsdc_port_blob** out) {
    if (!out || !valid_key(name, kMaxBlobName)) return IMSDC_PORT_EINVAL;
    auto* b = new (std::nothrow) imsdc_port_blob{self(ctx), name, {}};
    if (!b) return IMSDC_PORT_ENOMEM;
    ++self(ctx)->open_blobs_;
    *out = b;
    return IMSDC_PORT_OK;
  }

  static int blob_write(imsdc_port_blob* b, const std::uint8_t* data, std::size_t len) {
    RamStorage* s = b->owner;
    if (s->used() + s->pending_bytes_ + len > s->capacity_) return IMSDC_PORT_ENOSPC;
    b->data.insert(b->data.end(), data, data + len);
    s->pending_bytes_ += len;
    return IMSDC_PORT_OK;
  }

  static void release(imsdc_port_blob* b) {
    RamStorage* s = b->owner;
    s->pending_bytes_ -= b->data.size();
    --s->open_blobs_;
    delete b;
  }

  static int blob_commit(imsdc_port_blob* b) {
    RamStorage* s = b->owner;
    s->pending_bytes_ -= b->data.size();
    s->blobs_[b->name].swap(b->data); // the old content (if any) leaves with the staging blob
    b->data.clear();
    release(b);
    return IMSDC_PORT_OK;
  }

  static void blob_abort(imsdc_port_blob* b) {
    if (b) release(b);
  }

  static int kv_get(void* ctx, const char* key, std::uint8_t* out, std::size_t cap,
                    std::size_t* out_len) {
    if (!valid_key(key, 64) || !out_len) return IMSDC_PORT_EINVAL;
    auto it = self(ctx)->kv_.find(key);
    if (it == self(ctx)->kv_.end()) return IMSDC_PORT_ENOENT;
    *out_len = it->second.size();
    if (cap < it->second.size()) return IMSDC_PORT_ENOSPC;
    for (std::size_t i = 0; i < it->second.size(); ++i)
      out[i] = it->second[i];
    return IMSDC_PORT_OK;
  }

  static int kv_put(void* ctx, const char* key, const std::uint8_t* value, std::size_t len) {
    if (!valid_key(key, 64)) return IMSDC_PORT_EINVAL;
    if (len > kMaxKvValue) return IMSDC_PORT_ENOSPC;
    RamStorage* s = self(ctx);
    auto it = s->kv_.find(key);
    std::size_t old = it == s->kv_.end() ? 0 : it->second.size();
    if (s->used() - old + len + s->pending_bytes_ > s->capacity_) return IMSDC_PORT_ENOSPC;
    s->kv_[key].assign(value, value + len);
    return IMSDC_PORT_OK;
  }

  static int kv_delete(void* ctx, const char* key) {
    if (!valid_key(key, 64)) return IMSDC_PORT_EINVAL;
    self(ctx)->kv_.erase(key);
    return IMSDC_PORT_OK;
  }
};

RamStorage::RamStorage(std::size_t capacity_bytes) : capacity_(capacity_bytes) {
  port_.version = IMSDC_PORT_STORAGE_VERSION;
  port_.ctx = this;
  port_.blob_open = RamStorageAccess::blob_open;
  port_.blob_write = RamStorageAccess::blob_write;
  port_.blob_commit = RamStorageAccess::blob_commit;
  port_.blob_abort = RamStorageAccess::blob_abort;
  port_.kv_get = RamStorageAccess::kv_get;
  port_.kv_put = RamStorageAccess::kv_put;
  port_.kv_delete = RamStorageAccess::kv_delete;
}

const std::vector<std::uint8_t>* RamStorage::blob(const std::string& name) const {
  auto it = blobs_.find(name);
  return it == blobs_.end() ? nullptr : &it->second;
}

std::size_t RamStorage::used() const {
  std::size_t n = 0;
  for (const auto& b : blobs_)
    n += b.second.size();
  for (const auto& v : kv_)
    n += v.second.size();
  return n;
}

} // namespace imsdc::baremetal
