// Fake port for unit tests: virtual clock, TEST-ONLY deterministic entropy, captured log,
// fault injection, in-memory storage / network / keystore wrapper.
#include "imsdc/port_fake.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>

#include "imsdc/port/entropy.h"
#include "imsdc/port/log.h"
#include "imsdc/port/os.h"

struct imsdc_port_mutex {
  std::mutex m;
};

struct imsdc_port_blob {
  imsdc::fake::MemoryStorage* owner;
  std::string name;
  imsdc::Bytes data;
};

struct imsdc_port_udp {
  imsdc::fake::MemoryNet* net;
  imsdc_port_addr addr;
  struct Datagram {
    imsdc_port_addr from;
    imsdc::Bytes data;
    std::uint64_t deliver_at;
  };
  std::deque<Datagram> queue;
};

namespace imsdc::fake {
namespace {

constexpr std::size_t kFnCount = static_cast<std::size_t>(Fn::kCount);
constexpr std::size_t kMaxLogLines = 10000;
constexpr std::size_t kMaxQueuedDatagrams = 256;

struct Fault {
  int fail_at = 0; // call number (1-based, absolute) that fails; 0 = none
  int error = IMSDC_PORT_EIO;
  bool sticky = false;
};

struct State {
  std::mutex mu;
  std::uint64_t now_ms = 0;
  std::int64_t wall_base_s = kDefaultWallS; // wall clock at wall_anchor_ms
  std::uint64_t wall_anchor_ms = 0;
  std::uint64_t rng = kDefaultEntropySeed;
  std::vector<std::string> log;
  bool echo = false;
  std::array<int, kFnCount> counts{};
  std::array<Fault, kFnCount> faults{};
};

State& state() {
  // Never destroyed: static destructors of tests may still log or read the clock.
  static State* s = new State;
  return *s;
}

// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-distributed PRNG. TEST-ONLY: its
// output is predictable from the seed, which is exactly what tests want and what a product
// must never have.
std::uint64_t splitmix64(std::uint64_t* s) {
  std::uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int hit_locked(State& st, Fn fn) {
  auto i = static_cast<std::size_t>(fn);
  if (i >= kFnCount) return 0;
  int n = ++st.counts[i];
  const Fault& f = st.faults[i];
  if (f.fail_at == 0) return 0;
  if (n == f.fail_at || (f.sticky && n > f.fail_at)) return f.error;
  return 0;
}

bool same_endpoint(const imsdc_port_addr& a, const imsdc_port_addr& b) {
  std::size_t n = a.family == IMSDC_AF_INET4 ? 4 : 16;
  return a.family == b.family && a.port == b.port && std::memcmp(a.addr, b.addr, n) == 0;
}

bool is_unspecified(const imsdc_port_addr& a) {
  std::size_t n = a.family == IMSDC_AF_INET4 ? 4 : 16;
  for (std::size_t i = 0; i < n; ++i)
    if (a.addr[i] != 0) return false;
  return true;
}

bool is_loopback(const imsdc_port_addr& a) {
  if (a.family == IMSDC_AF_INET4) return a.addr[0] == 127;
  static const std::uint8_t kLo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(a.addr, kLo, 16) == 0;
}

imsdc_port_addr make_addr(std::uint8_t family, std::initializer_list<std::uint8_t> bytes) {
  imsdc_port_addr a{};
  a.family = family;
  std::size_t i = 0;
  for (std::uint8_t b : bytes)
    a.addr[i++] = b;
  return a;
}

const imsdc_port_addr kLocal4 = make_addr(IMSDC_AF_INET4, {192, 0, 2, 1});
const imsdc_port_addr kLocal6 =
    make_addr(IMSDC_AF_INET6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
const imsdc_port_addr kLoop4 = make_addr(IMSDC_AF_INET4, {127, 0, 0, 1});
const imsdc_port_addr kLoop6 =
    make_addr(IMSDC_AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

bool valid_kv_key(const char* key) {
  if (!key) return false;
  std::size_t n = 0;
  for (; key[n]; ++n) {
    char c = key[n];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok || n >= 64) return false;
  }
  return n > 0;
}

} // namespace

const char* fn_name(Fn fn) {
  static const char* const kNames[] = {
      "entropy",
      "mutex_create",
      "log",
      "keystore_public_key",
      "keystore_sign",
      "keystore_chain",
      "keystore_store_chain",
      "storage_blob_open",
      "storage_blob_write",
      "storage_commit",
      "kv_get",
      "kv_put",
      "kv_delete",
      "udp_open",
      "udp_send",
      "udp_recv",
  };
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kFnCount, "one name per Fn");
  auto i = static_cast<std::size_t>(fn);
  return i < kFnCount ? kNames[i] : "?";
}

void set_now_ms(std::uint64_t ms) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.now_ms = ms;
}

void advance_ms(std::uint64_t ms) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.now_ms += ms;
}

std::uint64_t now_ms() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  return st.now_ms;
}

void set_wall_s(std::int64_t s) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.wall_base_s = s < 0 ? -1 : s;
  st.wall_anchor_ms = st.now_ms;
}

std::int64_t wall_s() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  if (st.wall_base_s < 0) return -1;
  // Elapsed virtual time since set_wall_s; if a test rewound the monotonic clock, hold still.
  std::uint64_t elapsed = st.now_ms >= st.wall_anchor_ms ? st.now_ms - st.wall_anchor_ms : 0;
  return st.wall_base_s + static_cast<std::int64_t>(elapsed / 1000);
}

void set_entropy_seed(std::uint64_t seed) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.rng = seed;
}

std::vector<std::string> log_lines() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  return st.log;
}

void clear_log() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.log.clear();
}

void set_log_echo(bool on) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.echo = on;
}

void fail_nth(Fn fn, int n, int error, bool sticky) {
  auto i = static_cast<std::size_t>(fn);
  if (i >= kFnCount) return;
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  Fault f;
  if (n > 0) {
    f.fail_at = st.counts[i] + n;
    f.error = error < 0 ? error : IMSDC_PORT_EIO;
    f.sticky = sticky;
  }
  st.faults[i] = f;
}

void clear_faults() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.faults.fill(Fault{});
}

int call_count(Fn fn) {
  auto i = static_cast<std::size_t>(fn);
  if (i >= kFnCount) return 0;
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  return st.counts[i];
}

void reset_counts() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  // Pending faults keep their distance from "now".
  for (std::size_t i = 0; i < kFnCount; ++i) {
    Fault& f = st.faults[i];
    if (f.fail_at == 0) continue;
    f.fail_at -= st.counts[i];
    if (f.fail_at <= 0) {
      if (f.sticky)
        f.fail_at = 1; // already failing: keep failing
      else
        f = Fault{}; // already fired
    }
  }
  st.counts.fill(0);
}

int hit(Fn fn) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  return hit_locked(st, fn);
}

void reset() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  st.wall_base_s = kDefaultWallS;
  st.wall_anchor_ms = st.now_ms;
  st.rng = kDefaultEntropySeed;
  st.log.clear();
  st.echo = false;
  st.counts.fill(0);
  st.faults.fill(Fault{});
}

// --- MemoryStorage ------------------------------------------------------------------------

MemoryStorage::MemoryStorage() {
  port_.version = IMSDC_PORT_STORAGE_VERSION;
  port_.ctx = this;
  port_.blob_open = blob_open_cb;
  port_.blob_write = blob_write_cb;
  port_.blob_commit = blob_commit_cb;
  port_.blob_abort = blob_abort_cb;
  port_.kv_get = kv_get_cb;
  port_.kv_put = kv_put_cb;
  port_.kv_delete = kv_delete_cb;
}

MemoryStorage::~MemoryStorage() = default;

const Bytes* MemoryStorage::blob(const std::string& name) const {
  auto it = blobs_.find(name);
  return it == blobs_.end() ? nullptr : &it->second;
}

std::vector<std::string> MemoryStorage::blob_names() const {
  std::vector<std::string> v;
  for (const auto& kv : blobs_)
    v.push_back(kv.first);
  return v;
}

std::size_t MemoryStorage::used() const {
  std::size_t n = pending_bytes_;
  for (const auto& b : blobs_)
    n += b.second.size();
  for (const auto& e : kv_)
    n += e.second.size();
  return n;
}

int MemoryStorage::blob_open_cb(void* ctx, const char* name, imsdc_port_blob** out) {
  auto* self = static_cast<MemoryStorage*>(ctx);
  if (!self || !out || !name || !*name) return IMSDC_PORT_EINVAL;
  *out = nullptr;
  if (int e = hit(Fn::kStorageBlobOpen)) return e;
  auto* b = new (std::nothrow) imsdc_port_blob{self, name, {}};
  if (!b) return IMSDC_PORT_ENOMEM;
  ++self->open_;
  *out = b;
  return IMSDC_PORT_OK;
}

int MemoryStorage::blob_write_cb(imsdc_port_blob* b, const std::uint8_t* data, std::size_t len) {
  if (!b || (!data && len > 0)) return IMSDC_PORT_EINVAL;
  if (int e = hit(Fn::kStorageBlobWrite)) return e;
  MemoryStorage* self = b->owner;
  if (self->capacity_ && self->used() + len > self->capacity_) return IMSDC_PORT_ENOSPC;
  b->data.insert(b->data.end(), data, data + len);
  self->pending_bytes_ += len;
  return IMSDC_PORT_OK;
}

int MemoryStorage::blob_commit_cb(imsdc_port_blob* b) {
  if (!b) return IMSDC_PORT_EINVAL;
  MemoryStorage* self = b->owner;
  int e = hit(Fn::kStorageCommit);
  self->pending_bytes_ -= b->data.size();
  --self->open_;
  if (e) {
    // A failed commit leaves no trace, like an abort.
    self->aborted_.push_back(b->name);
  } else {
    self->blobs_[b->name] = std::move(b->data);
  }
  delete b;
  return e;
}

void MemoryStorage::blob_abort_cb(imsdc_port_blob* b) {
  if (!b) return;
  MemoryStorage* self = b->owner;
  self->pending_bytes_ -= b->data.size();
  --self->open_;
  self->aborted_.push_back(b->name);
  delete b;
}

int MemoryStorage::kv_get_cb(void* ctx, const char* key, std::uint8_t* out, std::size_t cap,
                             std::size_t* out_len) {
  auto* self = static_cast<MemoryStorage*>(ctx);
  if (!self || !out_len || (!out && cap > 0) || !valid_kv_key(key)) return IMSDC_PORT_EINVAL;
  if (int e = hit(Fn::kKvGet)) return e;
  auto it = self->kv_.find(key);
  if (it == self->kv_.end()) return IMSDC_PORT_ENOENT;
  *out_len = it->second.size();
  if (it->second.size() > cap) return IMSDC_PORT_ENOSPC;
  if (!it->second.empty()) std::memcpy(out, it->second.data(), it->second.size());
  return IMSDC_PORT_OK;
}

int MemoryStorage::kv_put_cb(void* ctx, const char* key, const std::uint8_t* value,
                             std::size_t len) {
  auto* self = static_cast<MemoryStorage*>(ctx);
  if (!self || (!value && len > 0) || !valid_kv_key(key)) return IMSDC_PORT_EINVAL;
  if (int e = hit(Fn::kKvPut)) return e; // the old value stays, as after a crash
  if (len > 4096) return IMSDC_PORT_ENOSPC;
  auto it = self->kv_.find(key);
  std::size_t old = it == self->kv_.end() ? 0 : it->second.size();
  if (self->capacity_ && self->used() - old + len > self->capacity_) return IMSDC_PORT_ENOSPC;
  self->kv_[key] = Bytes(value, value + len);
  return IMSDC_PORT_OK;
}

int MemoryStorage::kv_delete_cb(void* ctx, const char* key) {
  auto* self = static_cast<MemoryStorage*>(ctx);
  if (!self || !valid_kv_key(key)) return IMSDC_PORT_EINVAL;
  if (int e = hit(Fn::kKvDelete)) return e;
  self->kv_.erase(key);
  return IMSDC_PORT_OK;
}

// --- FaultyKeystore -----------------------------------------------------------------------

FaultyKeystore::FaultyKeystore(const imsdc_port_keystore& inner) : inner_(inner) {
  port_.version = IMSDC_PORT_KEYSTORE_VERSION;
  port_.ctx = this;
  port_.public_key = public_key_cb;
  port_.sign_digest = sign_cb;
  port_.cert_chain = chain_cb;
  port_.store_chain = inner.store_chain ? store_cb : nullptr;
}

int FaultyKeystore::public_key_cb(void* ctx, std::uint8_t out_xy[64]) {
  auto* self = static_cast<FaultyKeystore*>(ctx);
  if (int e = hit(Fn::kKeystorePublicKey)) return e;
  if (!self->inner_.public_key) return IMSDC_PORT_EUNSUPP;
  return self->inner_.public_key(self->inner_.ctx, out_xy);
}

int FaultyKeystore::sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]) {
  auto* self = static_cast<FaultyKeystore*>(ctx);
  ++self->sign_calls_;
  if (int e = hit(Fn::kKeystoreSign)) return e;
  if (!self->inner_.sign_digest) return IMSDC_PORT_EUNSUPP;
  return self->inner_.sign_digest(self->inner_.ctx, digest, out_rs);
}

int FaultyKeystore::chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                             std::size_t* out_len) {
  auto* self = static_cast<FaultyKeystore*>(ctx);
  if (int e = hit(Fn::kKeystoreChain)) return e;
  if (!self->inner_.cert_chain) return IMSDC_PORT_EUNSUPP;
  return self->inner_.cert_chain(self->inner_.ctx, index, out, cap, out_len);
}

int FaultyKeystore::store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                             std::size_t count) {
  auto* self = static_cast<FaultyKeystore*>(ctx);
  if (int e = hit(Fn::kKeystoreStoreChain)) return e;
  return self->inner_.store_chain(self->inner_.ctx, ders, lens, count);
}

// --- MemoryNet ----------------------------------------------------------------------------

MemoryNet::MemoryNet() {
  port_.version = IMSDC_PORT_NET_VERSION;
  port_.ctx = this;
  port_.udp_open = udp_open_cb;
  port_.udp_send = udp_send_cb;
  port_.udp_recv = udp_recv_cb;
  port_.udp_close = udp_close_cb;
  port_.local_addresses = local_addresses_cb;
  port_.wait = wait_cb;
}

MemoryNet::~MemoryNet() {
  for (imsdc_port_udp* s : sockets_)
    delete s;
}

int MemoryNet::udp_open_cb(void* ctx, imsdc_port_addr* local, imsdc_port_udp** out) {
  auto* self = static_cast<MemoryNet*>(ctx);
  if (!self || !local || !out) return IMSDC_PORT_EINVAL;
  *out = nullptr;
  if (local->family != IMSDC_AF_INET4 && local->family != IMSDC_AF_INET6) return IMSDC_PORT_EUNSUPP;
  if (int e = hit(Fn::kUdpOpen)) return e;
  imsdc_port_addr a = *local;
  if (a.port == 0) {
    // Next free ephemeral port of this family.
    for (int tries = 0; tries < 20000; ++tries) {
      std::uint16_t p = self->next_port_++;
      if (self->next_port_ < 40000) self->next_port_ = 40000;
      bool used = false;
      for (imsdc_port_udp* s : self->sockets_)
        if (s->addr.family == a.family && s->addr.port == p) used = true;
      if (!used) {
        a.port = p;
        break;
      }
    }
    if (a.port == 0) return IMSDC_PORT_ENOMEM;
  } else {
    for (imsdc_port_udp* s : self->sockets_) {
      if (s->addr.family == a.family && s->addr.port == a.port &&
          (same_endpoint(s->addr, a) || is_unspecified(s->addr) || is_unspecified(a)))
        return IMSDC_PORT_EFAIL; // address in use
    }
  }
  auto* s = new (std::nothrow) imsdc_port_udp{self, a, {}};
  if (!s) return IMSDC_PORT_ENOMEM;
  self->sockets_.push_back(s);
  *local = a;
  *out = s;
  return IMSDC_PORT_OK;
}

int MemoryNet::udp_send_cb(imsdc_port_udp* s, const imsdc_port_addr* to, const std::uint8_t* data,
                           std::size_t len) {
  if (!s || !to || (!data && len > 0)) return IMSDC_PORT_EINVAL;
  if (to->family != s->addr.family) return IMSDC_PORT_EUNSUPP;
  if (len > 65507) return IMSDC_PORT_ENOSPC;
  if (int e = hit(Fn::kUdpSend)) return e;
  MemoryNet* self = s->net;
  imsdc_port_addr from = s->addr;
  if (is_unspecified(from)) {
    imsdc_port_addr src = is_loopback(*to) ? (from.family == IMSDC_AF_INET4 ? kLoop4 : kLoop6)
                                           : (from.family == IMSDC_AF_INET4 ? kLocal4 : kLocal6);
    std::memcpy(from.addr, src.addr, sizeof from.addr);
  }
  if (self->filter_ && !self->filter_(from, *to, ByteSpan(data, len))) {
    ++self->dropped_;
    return static_cast<int>(len); // lost on the wire: the sender cannot tell
  }
  imsdc_port_udp* dest = nullptr;
  for (imsdc_port_udp* d : self->sockets_) {
    if (d->addr.family != to->family || d->addr.port != to->port) continue;
    if (same_endpoint(d->addr, *to) || is_unspecified(d->addr)) {
      dest = d;
      break;
    }
  }
  if (!dest || dest->queue.size() >= kMaxQueuedDatagrams) {
    ++self->dropped_;
    return static_cast<int>(len);
  }
  dest->queue.push_back({from, Bytes(data, data + len), now_ms() + self->delay_ms_});
  ++self->delivered_;
  return static_cast<int>(len);
}

int MemoryNet::udp_recv_cb(imsdc_port_udp* s, imsdc_port_addr* from, std::uint8_t* out,
                           std::size_t cap) {
  if (!s || (!out && cap > 0)) return IMSDC_PORT_EINVAL;
  if (int e = hit(Fn::kUdpRecv)) return e;
  std::uint64_t now = now_ms();
  // Delivery times are non-decreasing (one fixed delay), so the head is the next one due.
  if (s->queue.empty() || s->queue.front().deliver_at > now) return 0;
  imsdc_port_udp::Datagram d = std::move(s->queue.front());
  s->queue.pop_front();
  if (from) *from = d.from;
  std::size_t n = std::min(cap, d.data.size());
  if (n) std::memcpy(out, d.data.data(), n);
  if (d.data.size() > cap) return IMSDC_PORT_ENOSPC;
  return static_cast<int>(d.data.size());
}

void MemoryNet::udp_close_cb(imsdc_port_udp* s) {
  if (!s) return;
  auto& v = s->net->sockets_;
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
  delete s;
}

int MemoryNet::local_addresses_cb(void* /*ctx*/, int include_loopback, imsdc_port_addr* out,
                                  std::size_t cap) {
  if (!out && cap > 0) return IMSDC_PORT_EINVAL;
  const imsdc_port_addr* all[] = {&kLocal4, &kLocal6, &kLoop4, &kLoop6};
  std::size_t n = 0;
  for (std::size_t i = 0; i < 4 && n < cap; ++i) {
    if (i >= 2 && !include_loopback) break;
    out[n++] = *all[i];
  }
  return static_cast<int>(n);
}

int MemoryNet::wait_cb(void* /*ctx*/, imsdc_port_udp* const* socks, std::size_t count,
                       std::uint32_t timeout_ms) {
  if (!socks && count > 0) return IMSDC_PORT_EINVAL;
  std::uint64_t now = now_ms();
  std::uint64_t next = UINT64_MAX;
  int ready = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!socks[i]) return IMSDC_PORT_EINVAL;
    if (socks[i]->queue.empty()) continue;
    std::uint64_t at = socks[i]->queue.front().deliver_at;
    if (at <= now) ++ready;
    next = std::min(next, at);
  }
  if (ready) return ready;
  std::uint64_t deadline = now + timeout_ms;
  if (next <= deadline) {
    advance_ms(next - now);
    return 1;
  }
  advance_ms(timeout_ms);
  return 0;
}

} // namespace imsdc::fake

// --- Link-time primitives -----------------------------------------------------------------

extern "C" {

imsdc_port_mutex* imsdc_port_mutex_create(void) {
  if (imsdc::fake::hit(imsdc::fake::Fn::kMutexCreate)) return nullptr;
  return new (std::nothrow) imsdc_port_mutex;
}

void imsdc_port_mutex_destroy(imsdc_port_mutex* m) {
  delete m;
}

void imsdc_port_mutex_lock(imsdc_port_mutex* m) {
  if (m) m->m.lock();
}

void imsdc_port_mutex_unlock(imsdc_port_mutex* m) {
  if (m) m->m.unlock();
}

uint64_t imsdc_port_clock_monotonic_ms(void) {
  return imsdc::fake::now_ms();
}

int64_t imsdc_port_clock_wall_s(void) {
  return imsdc::fake::wall_s();
}

// TEST-ONLY entropy: deterministic SplitMix64 output. Not random. Never ship this.
int imsdc_port_entropy(uint8_t* out, size_t len) {
  using namespace imsdc::fake;
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  if (int e = hit_locked(st, Fn::kEntropy)) return e;
  if (!out && len > 0) return IMSDC_PORT_EINVAL;
  std::size_t i = 0;
  while (i < len) {
    std::uint64_t r = splitmix64(&st.rng);
    for (int k = 0; k < 8 && i < len; ++k, ++i)
      out[i] = static_cast<uint8_t>(r >> (8 * k));
  }
  return IMSDC_PORT_OK;
}

void imsdc_port_log_write(int level, const char* module, const char* line) {
  using namespace imsdc::fake;
  static const char kLetters[] = {'E', 'W', 'I', 'D'};
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  if (hit_locked(st, Fn::kLog)) return; // the contract allows dropping lines
  std::string s;
  s += level >= 0 && level <= 3 ? kLetters[level] : '?';
  s += ' ';
  s += module ? module : "-";
  s += ": ";
  s += line ? line : "";
  if (st.echo)
    (void)std::fprintf(stderr, "[fake %llu ms] %s\n", static_cast<unsigned long long>(st.now_ms),
                       s.c_str());
  if (st.log.size() >= kMaxLogLines) st.log.erase(st.log.begin());
  st.log.push_back(std::move(s));
}

} // extern "C"
