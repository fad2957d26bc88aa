// RAM per call: the heap one IMS data-channel call holds with the bootstrap channels and one
// application channel open, split by owner: the SDK (what reaches the SDK's allocator hook,
// imsdc/alloc.h), usrsctp and mbedTLS.
//
// Two UEs in one process (as tests/unit/test_dc_association.cpp does): SDP offer/answer with
// one application channel, DTLS 1.2 + SCTP over an in-memory pipe on the fake port's virtual
// clock, the bootstrap HTTP GET answered and cached, one message each way on the application
// channel. Then the live heap of each side is read at a quiet moment (every datagram
// delivered, SACKs and timers settled) and the peak seen while the call was set up.
//
// How bytes are attributed (host build, Debian's shared mbedTLS and usrsctp):
// - SDK: global operator new/delete of this program are routed to the allocator hook (as
//   ports/baremetal does on target), and the hook counts. So do cJSON's allocations (the
//   SDK hands the hook to cJSON). Every allocation is charged to the side (UE A or UE B)
//   whose Association or SDP call was running, or to "global" for the process-wide usrsctp
//   state that the first association creates.
// - usrsctp, mbedTLS: Debian's builds call the C library's malloc/calloc directly (mbedTLS
//   2.28 without MBEDTLS_PLATFORM_MEMORY has no setter), so this program interposes malloc,
//   calloc, realloc and free and charges each block to the library whose code called the
//   allocator (return address inside libusrsctp.so / libmbed*.so), and to the running side.
// - A cross-check: mallinfo2() (glibc's own in-use total) moves by the same amount as the
//   sum of every counter, so nothing the table leaves out hides in the total.
// Caveat: usrsctp runs the timers of every association from whichever poll() comes first, so
// a few bytes of one side can be charged to the other while timers fire; at the quiet moment
// both sides have the same channels and nearly the same state, and the table shows both.
//
// Exit status: 0 when the call came up and the numbers are consistent (every counter back to
// its baseline after both associations are destroyed, the mallinfo2 cross-check agrees);
// with --budget N also only when the SDK-owned live heap of each side is <= N bytes.
//
// Usage: imsdc_ram_per_call [--preset NAME] [--max-streams N] [--budget BYTES] [--tsv]
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <malloc.h>

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include <mbedtls/ssl.h>

#include "dc/association.h"
#include "dc/bootstrap_http.h"
#include "imsdc/alloc.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/log.h"
#include "imsdc/port_fake.h"
#include "sdp/negotiate.h"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t size);
void __libc_free(void* p);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {

// ---- accounting --------------------------------------------------------------------------

enum Lib : std::uint8_t { kLibSdk, kLibUsrsctp, kLibMbedtls, kLibOther, kLibCount };
enum Scope : std::uint8_t { kHarness, kGlobal, kSideA, kSideB, kScopeCount };
const char* const kLibName[kLibCount] = {"sdk", "usrsctp", "mbedtls", "other"};
const char* const kScopeName[kScopeCount] = {"harness", "global", "ue-a", "ue-b"};

struct Counter {
  std::int64_t live = 0;
  std::int64_t peak = 0;
  std::uint64_t allocations = 0;
};
Counter g_count[kLibCount][kScopeCount];
Scope g_scope = kHarness;
bool g_counting = false;

// Open-addressing table: pointer -> size, library, scope (linear probing, backward-shift
// deletion). Single-threaded: usrsctp runs without threads (usrsctp_init_nothreads) and the
// fake port starts none.
struct Slot {
  std::uintptr_t p;
  std::uint32_t size;
  std::uint32_t usable;  // malloc_usable_size: what glibc's in-use figure counts
  std::uintptr_t caller; // who asked (operator new's or malloc's caller), for --top
  Lib lib;
  Scope scope;
};
constexpr std::size_t kSlots = std::size_t{1} << 20;
Slot g_slots[kSlots];
std::size_t g_used = 0;
bool g_overflow = false;
std::int64_t g_usable_live = 0; // sum of malloc_usable_size over the live counted blocks
// Chunks freed while counting that were allocated before counting began (glibc's in-use
// figure drops by them, the counters do not).
std::int64_t g_untracked_freed = 0;

std::size_t slot_of(std::uintptr_t p) {
  return static_cast<std::size_t>((p >> 4) * 0x9E3779B97F4A7C15ull >> 44) & (kSlots - 1);
}

void record(void* ptr, std::size_t size, Lib lib, const void* caller) {
  if (!ptr || !g_counting) return;
  if (g_used + 1 >= kSlots / 2 || size > UINT32_MAX) {
    g_overflow = true;
    return;
  }
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  std::size_t i = slot_of(p);
  while (g_slots[i].p != 0)
    i = (i + 1) & (kSlots - 1);
  const std::size_t usable = malloc_usable_size(ptr);
  g_slots[i] = Slot{p,
                    static_cast<std::uint32_t>(size),
                    static_cast<std::uint32_t>(usable),
                    reinterpret_cast<std::uintptr_t>(caller),
                    lib,
                    g_scope};
  ++g_used;
  g_usable_live += static_cast<std::int64_t>(usable);
  Counter& c = g_count[lib][g_scope];
  c.live += static_cast<std::int64_t>(size);
  if (c.live > c.peak) c.peak = c.live;
  ++c.allocations;
}

void forget(void* ptr) {
  if (!ptr) return;
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  std::size_t i = slot_of(p);
  while (g_slots[i].p != 0 && g_slots[i].p != p)
    i = (i + 1) & (kSlots - 1);
  if (g_slots[i].p == 0) { // allocated before counting began
    if (g_counting)
      g_untracked_freed += static_cast<std::int64_t>(malloc_usable_size(ptr) + sizeof(std::size_t));
    return;
  }
  g_count[g_slots[i].lib][g_slots[i].scope].live -= g_slots[i].size;
  g_usable_live -= g_slots[i].usable;
  --g_used;
  // Backward-shift deletion keeps every probe chain unbroken.
  std::size_t hole = i;
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & (kSlots - 1);
    if (g_slots[j].p == 0) break;
    const std::size_t home = slot_of(g_slots[j].p);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      g_slots[hole] = g_slots[j];
      hole = j;
    }
  }
  g_slots[hole].p = 0;
}

// Code ranges of the libraries we attribute to, filled once all are loaded (start of main).
struct Range {
  std::uintptr_t lo, hi;
  Lib lib;
};
std::array<Range, 16> g_ranges{};
std::size_t g_range_count = 0;

int collect_range(dl_phdr_info* info, size_t, void*) {
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  Lib lib = kLibOther;
  if (std::strstr(name, "libusrsctp"))
    lib = kLibUsrsctp;
  else if (std::strstr(name, "libmbed"))
    lib = kLibMbedtls;
  if (lib == kLibOther) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || g_range_count == g_ranges.size()) continue;
    const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    g_ranges[g_range_count++] = Range{lo, lo + ph.p_memsz, lib};
  }
  return 0;
}

Lib classify(const void* caller) {
  const auto a = reinterpret_cast<std::uintptr_t>(caller);
  for (std::size_t i = 0; i < g_range_count; ++i) {
    if (a >= g_ranges[i].lo && a < g_ranges[i].hi) return g_ranges[i].lib;
  }
  return kLibOther;
}

// operator new's caller, handed to the hook (which only sees imsdc_malloc as its caller).
const void* g_new_caller = nullptr;

// --trace-size N: a backtrace of every SDK allocation of exactly N bytes (to find who holds
// a block the table shows; resolve the frames with addr2line).
std::size_t g_trace_size = 0;
bool g_in_trace = false;

// The SDK's allocator hook.
void* hook_malloc(size_t size) {
  if (g_trace_size != 0 && size == g_trace_size && g_counting && !g_in_trace) {
    g_in_trace = true;
    void* frames[24];
    const int n = backtrace(frames, 24);
    std::fprintf(stderr, "trace: %zu bytes for %s\n", size, kScopeName[g_scope]);
    backtrace_symbols_fd(frames, n, 2);
    g_in_trace = false;
  }
  void* p = __libc_malloc(size);
  record(p, size, kLibSdk, g_new_caller ? g_new_caller : __builtin_return_address(0));
  g_new_caller = nullptr;
  return p;
}
void hook_free(void* p) {
  forget(p);
  __libc_free(p);
}

class ScopeGuard {
public:
  explicit ScopeGuard(Scope s) : saved_(g_scope) { g_scope = s; }
  ~ScopeGuard() { g_scope = saved_; }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

private:
  Scope saved_;
};

} // namespace

// ---- interposed C allocator (usrsctp, mbedTLS and everything else that calls malloc) -----
extern "C" void* malloc(size_t size) {
  void* p = __libc_malloc(size);
  record(p, size, classify(__builtin_return_address(0)), __builtin_return_address(0));
  return p;
}
extern "C" void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  record(p, n * size, classify(__builtin_return_address(0)), __builtin_return_address(0));
  return p;
}
extern "C" void* realloc(void* old, size_t size) {
  const Lib lib = classify(__builtin_return_address(0));
  forget(old);
  void* p = __libc_realloc(old, size);
  if (p)
    record(p, size, lib, __builtin_return_address(0));
  else if (old && size != 0) // failed: the old block is still there
    record(old, malloc_usable_size(old), lib, __builtin_return_address(0));
  return p;
}
extern "C" void free(void* p) {
  forget(p);
  __libc_free(p);
}
extern "C" int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  record(p, size, classify(__builtin_return_address(0)), __builtin_return_address(0));
  *out = p;
  return 0;
}
extern "C" void* aligned_alloc(size_t alignment, size_t size) {
  void* p = __libc_memalign(alignment, size);
  record(p, size, classify(__builtin_return_address(0)), __builtin_return_address(0));
  return p;
}
extern "C" void* memalign(size_t alignment, size_t size) {
  void* p = __libc_memalign(alignment, size);
  record(p, size, classify(__builtin_return_address(0)), __builtin_return_address(0));
  return p;
}

// ---- operator new/delete through the hook (as ports/baremetal routes them on target) ------
void* operator new(std::size_t n) {
  g_new_caller = __builtin_return_address(0);
  void* p = imsdc_malloc(n ? n : 1);
  if (!p) std::abort();
  return p;
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return imsdc_malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return imsdc_malloc(n ? n : 1);
}
void operator delete(void* p) noexcept {
  imsdc_free(p);
}
void operator delete[](void* p) noexcept {
  imsdc_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  imsdc_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  imsdc_free(p);
}
void* operator new(std::size_t n, std::align_val_t al) {
  void* p = __libc_memalign(static_cast<std::size_t>(al), n ? n : 1);
  if (!p) std::abort();
  record(p, n, kLibSdk, __builtin_return_address(0));
  return p;
}
void* operator new[](std::size_t n, std::align_val_t al) {
  return operator new(n, al);
}
void operator delete(void* p, std::align_val_t) noexcept {
  hook_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  hook_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  hook_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  hook_free(p);
}

namespace {

using imsdc::Bytes;
using imsdc::ByteSpan;
namespace dc = imsdc::dc;
namespace sdp = imsdc::sdp;
namespace fake = imsdc::fake;
namespace crypto = imsdc::crypto;

constexpr std::uint16_t kAppStream = sdp::kFirstAppStreamId;
constexpr std::size_t kMaxOpened = 8;

// One UE. Callbacks run inside SDK calls, so they allocate nothing: what they see goes into
// fixed arrays and counters.
struct Side {
  Scope scope;
  std::unique_ptr<dc::Association> assoc;
  std::array<std::uint16_t, kMaxOpened> opened{};
  std::size_t opened_count = 0;
  std::size_t messages[3] = {0, 0, 0}; // on stream 0, 10, the application stream
  std::size_t message_bytes = 0;
  // Everything received on stream 0, for the bootstrap HTTP exchange (reserved up front).
  std::string bdc_rx;
  bool bdc_overflow = false;
  dc::AssociationState state = dc::AssociationState::kIdle;

  static void on_state(void* p, dc::AssociationState s, imsdc::Status) {
    static_cast<Side*>(p)->state = s;
  }
  static void on_open(void* p, const dc::ChannelInfo& c) {
    Side* s = static_cast<Side*>(p);
    if (s->opened_count < kMaxOpened) s->opened[s->opened_count++] = c.stream_id;
  }
  static void on_message(void* p, std::uint16_t sid, ByteSpan d, bool) {
    Side* s = static_cast<Side*>(p);
    const int idx = sid == 0 ? 0 : sid == 10 ? 1 : sid == kAppStream ? 2 : -1;
    if (idx >= 0) ++s->messages[idx];
    s->message_bytes += d.size();
    if (sid == 0) {
      if (s->bdc_rx.size() + d.size() <= s->bdc_rx.capacity())
        s->bdc_rx.append(reinterpret_cast<const char*>(d.data()), d.size());
      else
        s->bdc_overflow = true;
    }
  }
  dc::AssociationCallbacks callbacks() {
    dc::AssociationCallbacks cb;
    cb.ctx = this;
    cb.on_state = on_state;
    cb.on_channel_open = on_open;
    cb.on_message = on_message;
    return cb;
  }
  bool has_open(std::uint16_t sid) const {
    for (std::size_t i = 0; i < opened_count; ++i) {
      if (opened[i] == sid) return true;
    }
    return false;
  }
};

struct Identity {
  std::unique_ptr<crypto::MemoryKeystore> ks;
  Bytes der;
  sdp::Fingerprint fp() const {
    crypto::Digest d = crypto::sha256(ByteSpan(der));
    return sdp::Fingerprint{sdp::HashFunc::kSha256, Bytes(d.begin(), d.end())};
  }
};

bool make_identity(const char* cn, Identity* id) {
  auto key = crypto::EcPrivateKey::generate();
  if (!key.is_ok()) return false;
  id->ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
  auto der = crypto::make_self_signed_cert(*id->ks->port(), cn, "", fake::wall_s(), 1);
  if (!der.is_ok()) return false;
  id->der = der.value();
  return id->ks->set_chain({id->der}).is_ok();
}

sdp::LocalEndpoint endpoint(const Identity& id, const char* addr, const char* tls_id) {
  sdp::LocalEndpoint e;
  e.origin = sdp::Origin{"-", "4242", "1", sdp::AddrType::kIp4, addr};
  e.connection = sdp::Connection{sdp::AddrType::kIp4, addr};
  e.port = 50000;
  e.fingerprints = {id.fp()};
  e.tls_id = tls_id;
  return e; // max_message_size: IMSDC_DC_MAX_MESSAGE_SIZE of the preset
}

// Moves datagrams between the two sides until `done` holds (or 60 s of virtual time pass).
// The datagram buffer is reused so the harness allocates nothing per datagram; a buffer the
// SDK hands over is charged to the side that produced it until the next take.
struct Pipe {
  Side& a;
  Side& b;
  Bytes d;

  bool pump_once() {
    bool moved = false;
    for (int dir = 0; dir < 2; ++dir) {
      Side& from = dir == 0 ? a : b;
      Side& to = dir == 0 ? b : a;
      for (;;) {
        bool got;
        {
          ScopeGuard g(from.scope);
          got = from.assoc->take_datagram(&d);
        }
        if (!got) break;
        moved = true;
        ScopeGuard g(to.scope);
        (void)to.assoc->feed(d, fake::now_ms());
      }
    }
    return moved;
  }
  template <typename Pred> bool run(Pred done, std::uint64_t limit_ms = 60000) {
    const std::uint64_t end = fake::now_ms() + limit_ms;
    for (;;) {
      while (pump_once()) {
      }
      if (done()) return true;
      if (fake::now_ms() >= end) return false;
      std::uint64_t next = std::min(a.assoc->next_deadline(), b.assoc->next_deadline());
      if (next == UINT64_MAX) return done();
      fake::set_now_ms(std::max(next, fake::now_ms() + 1));
      {
        ScopeGuard g(a.scope);
        (void)a.assoc->poll(fake::now_ms());
      }
      {
        ScopeGuard g(b.scope);
        (void)b.assoc->poll(fake::now_ms());
      }
    }
  }
  // Lets delayed SACKs and other timers run out with nothing to send.
  void settle(std::uint64_t ms) {
    const std::uint64_t end = fake::now_ms() + ms;
    run([&] { return fake::now_ms() >= end; }, ms + 1);
    Bytes().swap(d); // the last datagram buffer is the harness's, not a side's
  }
};

struct Snapshot {
  std::int64_t live[kLibCount][kScopeCount];
};
Snapshot snapshot() {
  Snapshot s{};
  for (int l = 0; l < kLibCount; ++l) {
    for (int c = 0; c < kScopeCount; ++c)
      s.live[l][c] = g_count[l][c].live;
  }
  return s;
}
// Peaks from now on are measured from the current live figures.
void restart_peaks() {
  for (auto& per_lib : g_count) {
    for (Counter& c : per_lib) {
      c.peak = c.live;
      c.allocations = 0;
    }
  }
}
std::int64_t mallinfo_used() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd); // heap chunks + mmapped ones
}
// What glibc's in-use figure should show for the counted blocks: each block's usable size
// plus one size word.
std::int64_t counted_chunks() {
  return g_usable_live + static_cast<std::int64_t>(g_used * sizeof(std::size_t)) -
         g_untracked_freed;
}

double kib(std::int64_t b) {
  return static_cast<double>(b) / 1024.0;
}

int fail(const char* what) {
  std::fprintf(stderr, "ram_per_call: %s\n", what);
  return 1;
}
bool failed(const char* what) {
  (void)fail(what);
  return false;
}

struct Options {
  std::string preset = "default";
  std::uint16_t max_streams = 0; // 0: AssociationConfig's default
  std::int64_t budget = -1;
  bool tsv = false;
  int top = 0; // print the N largest live SDK blocks of each side (with their callers)
};

// What one call left: live bytes at the quiet moment and peaks, relative to before the call.
struct Figures {
  std::int64_t live[kLibCount][kScopeCount];
  std::int64_t peak[kLibCount][kScopeCount];
  std::uint64_t allocations[kLibCount][kScopeCount];
  std::int64_t left_after_close[kLibCount][kScopeCount];
  std::int64_t mallinfo_open = 0; // glibc's in-use delta at the quiet moment
  std::int64_t chunks_open = 0;   // the counted blocks' delta, as glibc counts them
};

void print_top(int n, Scope scope, Lib lib = kLibSdk) {
  // Selection by repeated scans: n is small and the table is sparse.
  std::uintptr_t last_p = 0;
  std::uint32_t last_size = UINT32_MAX;
  for (int k = 0; k < n; ++k) {
    const Slot* best = nullptr;
    for (const Slot& s : g_slots) {
      if (s.p == 0 || s.lib != lib || s.scope != scope) continue;
      const bool below = s.size < last_size || (s.size == last_size && s.p < last_p);
      if (!below) continue;
      if (!best || s.size > best->size || (s.size == best->size && s.p > best->p)) best = &s;
    }
    if (!best) break;
    Dl_info info{};
    const char* where = "?";
    if (dladdr(reinterpret_cast<void*>(best->caller), &info) && info.dli_sname)
      where = info.dli_sname;
    // The offset in the file resolves with: addr2line -f -C -e <this program> OFFSET
    const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    std::fprintf(stderr, "  %-7s %-5s %8u bytes  caller +%#" PRIxPTR " (%s)\n", kLibName[lib],
                 kScopeName[scope], best->size, best->caller - base, where);
    if (best->size <= 64) { // small blocks are mostly strings: show what they hold
      char text[65];
      const auto* bytes = reinterpret_cast<const unsigned char*>(best->p);
      for (std::uint32_t i = 0; i < best->size; ++i)
        text[i] = bytes[i] >= 32 && bytes[i] < 127 ? static_cast<char>(bytes[i]) : '.';
      text[best->size] = 0;
      std::fprintf(stderr, "          \"%s\"\n", text);
    }
    last_size = best->size;
    last_p = best->p;
  }
}

// One call, start to end: SDP offer/answer, both associations up with the bootstrap channels
// and one application channel, a bootstrap GET answered and cached, a message each way;
// figures taken at the quiet moment; then everything closed.
bool one_call(const Options& opt, const Identity& ida, const Identity& idb, Figures* out) {
  const Snapshot before = snapshot();
  const std::int64_t mallinfo_before = mallinfo_used();
  const std::int64_t chunks_before = counted_chunks();
  restart_peaks();

  Side a{kSideA, {}, {}, 0, {0, 0, 0}, 0, {}, false, dc::AssociationState::kIdle};
  Side b{kSideB, {}, {}, 0, {0, 0, 0}, 0, {}, false, dc::AssociationState::kIdle};
  sdp::ChannelPolicy policy_a, policy_b;
  {
    ScopeGuard g(kHarness);
    a.bdc_rx.reserve(16384);
    b.bdc_rx.reserve(16384);
    policy_b.allowed_subprotocols = {"imsdc-ram"};
  }

  // The process-wide usrsctp state comes with the first association: create one that never
  // starts, charged to "global", and drop it once both sides hold their own.
  std::unique_ptr<dc::Association> warm;
  {
    ScopeGuard g(kGlobal);
    dc::AssociationConfig c;
    c.dtls.role = sdp::DtlsRole::kClient;
    c.dtls.keystore = ida.ks->port();
    c.dtls.remote_fingerprints = {idb.fp()};
    auto w = dc::Association::create(c, dc::AssociationCallbacks{});
    if (!w.is_ok()) return failed("warm-up association");
    warm = std::move(w.value());
  }

  // SDP offer/answer (what each side keeps: its Negotiated result).
  sdp::Negotiated na, nb;
  {
    sdp::DcMap app;
    app.stream_id = kAppStream;
    app.label = "ram";
    app.subprotocol = "imsdc-ram";
    imsdc::Result<sdp::SessionDescription> offer = [&] {
      ScopeGuard g(kSideA);
      sdp::OfferConfig oc;
      oc.local = endpoint(ida, "192.0.2.10", "UeATlsId0123456789abcdef");
      oc.app_channels = {app};
      return sdp::make_offer(oc);
    }();
    if (!offer.is_ok()) return failed("offer");
    ScopeGuard gb(kSideB);
    sdp::AnswerConfig ac;
    ac.local = endpoint(idb, "192.0.2.20", "UeBTlsId0123456789abcdef");
    auto answer = sdp::make_answer(offer.value(), ac, policy_b);
    if (!answer.is_ok()) return failed("answer");
    nb = answer->result;
    ScopeGuard ga(kSideA);
    auto applied = sdp::apply_answer(offer.value(), answer->sdp);
    if (!applied.is_ok() || !applied->accepted || !nb.accepted) return failed("apply answer");
    na = std::move(applied.value());
  } // the offer and answer descriptions go; each side keeps its Negotiated result

  const auto create = [&](Side& s, const sdp::Negotiated& n, const Identity& id,
                          const sdp::ChannelPolicy& policy) -> bool {
    ScopeGuard g(s.scope);
    dc::AssociationConfig c = dc::association_config(n);
    c.dtls.keystore = id.ks->port();
    c.policy = &policy;
    if (opt.max_streams) c.max_streams = opt.max_streams;
    auto r = dc::Association::create(c, s.callbacks());
    if (!r.is_ok()) return false;
    s.assoc = std::move(r.value());
    return s.assoc->start(fake::now_ms()).is_ok();
  };
  if (!create(a, na, ida, policy_a) || !create(b, nb, idb, policy_b))
    return failed("association create/start");
  {
    ScopeGuard g(kGlobal);
    warm.reset();
  }

  Pipe pipe{a, b, {}};
  const auto all_open = [&](const Side& s) {
    return s.has_open(0) && s.has_open(10) && s.has_open(kAppStream);
  };
  if (!pipe.run([&] { return all_open(a) && all_open(b); })) return failed("channels did not open");

  // Bootstrap: A GETs "/" on stream 0, B answers 200 with an application list in several
  // messages, A parses and caches it (the cache belongs to the call: charged to A).
  dc::HttpCache cache_a = [&] {
    ScopeGuard g(kSideA);
    return dc::HttpCache(2);
  }();
  {
    ScopeGuard g(kSideA);
    auto req = cache_a.request("/", "bdc.ims.example");
    if (!req.is_ok() || !a.assoc->send(0, ByteSpan(req.value()), false).is_ok())
      return failed("bootstrap GET");
  }
  if (!pipe.run([&] { return b.messages[0] == 1; })) return failed("GET not delivered");
  if (b.bdc_rx.rfind("GET / HTTP/1.1\r\n", 0) != 0) return failed("B received no GET");
  {
    ScopeGuard g(kSideB);
    const std::string list(1500, 'x'); // a small application list
    auto msgs = dc::build_response(200, "OK", {{"ETag", "\"v1\""}}, ByteSpan(list), 1024);
    if (!msgs.is_ok() || msgs->size() < 2) return failed("build_response");
    for (const Bytes& m : msgs.value()) {
      if (!b.assoc->send(0, ByteSpan(m), false).is_ok()) return failed("bootstrap answer");
    }
  }
  {
    ScopeGuard g(kSideA);
    dc::HttpResponseParser parser;
    if (!pipe.run([&] { return a.messages[0] >= 2 && a.bdc_rx.size() >= 1500; }))
      return failed("bootstrap answer not delivered");
    if (a.bdc_overflow || !parser.feed(ByteSpan(std::string_view(a.bdc_rx))).is_ok() ||
        !parser.complete())
      return failed("bootstrap answer does not parse");
    auto body = cache_a.take("/", parser.take());
    if (!body.is_ok() || body->size() != 1500 || cache_a.size() != 1) return failed("bdc cache");
  }

  // One message each way on the application channel.
  {
    ScopeGuard g(kSideA);
    if (!a.assoc->send(kAppStream, Bytes(200, 0xa5)).is_ok()) return failed("app send a");
  }
  {
    ScopeGuard g(kSideB);
    if (!b.assoc->send(kAppStream, Bytes(200, 0x5a)).is_ok()) return failed("app send b");
  }
  if (!pipe.run([&] { return a.messages[2] == 1 && b.messages[2] == 1; }))
    return failed("application messages");
  pipe.settle(2000);

  // The quiet moment: everything delivered and acknowledged.
  const Snapshot open = snapshot();
  for (int l = 0; l < kLibCount; ++l) {
    for (int c = 0; c < kScopeCount; ++c) {
      out->live[l][c] = open.live[l][c] - before.live[l][c];
      out->peak[l][c] = g_count[l][c].peak - before.live[l][c];
      out->allocations[l][c] = g_count[l][c].allocations;
    }
  }
  out->mallinfo_open = mallinfo_used() - mallinfo_before;
  out->chunks_open = counted_chunks() - chunks_before;
  if (opt.top > 0) {
    std::fprintf(stderr, "largest live SDK blocks (preset %s):\n", opt.preset.c_str());
    print_top(opt.top, kSideA);
    print_top(opt.top, kSideB);
  }

  {
    ScopeGuard g(kSideA);
    cache_a = dc::HttpCache(0);
    a.assoc.reset();
    // Moved out, not assigned over: assigning an empty string keeps the old buffer.
    sdp::Negotiated gone = std::move(na);
  }
  {
    ScopeGuard g(kSideB);
    b.assoc.reset(); // the last association: usrsctp_finish frees the global state
    sdp::Negotiated gone = std::move(nb);
  }
  {
    ScopeGuard g(kHarness);
    Bytes().swap(pipe.d);
    std::string().swap(a.bdc_rx);
    std::string().swap(b.bdc_rx);
  }
  const Snapshot closed = snapshot();
  if (opt.top > 0) {
    std::fprintf(stderr, "live blocks after the call closed (preset %s):\n", opt.preset.c_str());
    for (int l = 0; l < kLibCount; ++l) {
      for (Scope sc : {kGlobal, kSideA, kSideB})
        print_top(opt.top, sc, static_cast<Lib>(l));
    }
  }
  for (int l = 0; l < kLibCount; ++l) {
    for (int c = 0; c < kScopeCount; ++c)
      out->left_after_close[l][c] = closed.live[l][c] - before.live[l][c];
  }
  return true;
}

int run(const Options& opt) {
  fake::reset();
  dl_iterate_phdr(collect_range, nullptr);
  if (g_range_count == 0) return fail("found no code range of libusrsctp/libmbed* (static?)");
  static const imsdc_allocator hook = {hook_malloc, hook_free};
  imsdc_set_allocator(&hook);
  // Log lines go nowhere: the fake port would keep them on the heap, which is the test
  // harness's memory, not the call's.
  imsdc::log::set_sink([](void*, int, const char*, const char*) {}, nullptr);

  // Device identities: per device, not per call (not counted).
  Identity ida, idb;
  if (!make_identity("ue-a", &ida) || !make_identity("ue-b", &idb)) return fail("identities");

  g_counting = true;
  // The first call also creates what lives as long as the process (function-local statics,
  // usrsctp's once-only state, mbedTLS' shared P-256 group...): reported on its own line; the
  // second call is the one measured, and it must give back everything it took.
  Figures first{}, second{};
  if (!one_call(opt, ida, idb, &first) || !one_call(opt, ida, idb, &second)) return 1;
  g_counting = false;
  const Figures& f = second;

  bool consistent = !g_overflow;
  if (g_overflow) std::fprintf(stderr, "ram_per_call: allocation table overflow\n");
  for (int l = 0; l < kLibCount; ++l) {
    for (int c = kGlobal; c < kScopeCount; ++c) {
      if (f.left_after_close[l][c] != 0) {
        std::fprintf(stderr, "ram_per_call: %s/%s kept %" PRId64 " bytes after the call closed\n",
                     kLibName[l], kScopeName[c], f.left_after_close[l][c]);
        consistent = false;
      }
    }
  }
  // glibc's own in-use figure must have moved by about what the counters hold, so nothing
  // the table leaves out hides in the total. Not to the byte: glibc's figure also moves with
  // how it splits and merges chunks; 3 % + 4 KiB of slack.
  const std::int64_t mismatch = f.mallinfo_open - f.chunks_open;
  const std::int64_t slack = f.chunks_open * 3 / 100 + 4096;
  if (mismatch > slack || mismatch < -slack) {
    std::fprintf(stderr,
                 "ram_per_call: mallinfo2 moved by %" PRId64
                 " bytes, the counted blocks by %" PRId64 "\n",
                 f.mallinfo_open, f.chunks_open);
    consistent = false;
  }
  std::int64_t statics = 0;
  for (int l = 0; l < kLibCount; ++l) {
    for (int c = kGlobal; c < kScopeCount; ++c)
      statics += first.left_after_close[l][c];
  }

  const unsigned streams = opt.max_streams ? opt.max_streams : dc::AssociationConfig{}.max_streams;
  if (opt.tsv) {
    // preset, owner, side, live, peak, allocations
    for (int l = 0; l < kLibCount; ++l) {
      for (int c = kGlobal; c < kScopeCount; ++c)
        std::printf("%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRIu64 "\n", opt.preset.c_str(),
                    kLibName[l], kScopeName[c], f.live[l][c], f.peak[l][c], f.allocations[l][c]);
    }
    std::printf("%s\tsettings\tmax_streams=%u dc_max_message=%u dc_max_channels=%u "
                "mbedtls_in=%u mbedtls_out=%u\n",
                opt.preset.c_str(), streams, static_cast<unsigned>(IMSDC_DC_MAX_MESSAGE_SIZE),
                static_cast<unsigned>(IMSDC_DC_MAX_CHANNELS),
                static_cast<unsigned>(MBEDTLS_SSL_IN_CONTENT_LEN),
                static_cast<unsigned>(MBEDTLS_SSL_OUT_CONTENT_LEN));
    std::printf("%s\tcheck\tmallinfo2=%" PRId64 " counted=%" PRId64 " statics=%" PRId64
                " consistent=%d\n",
                opt.preset.c_str(), f.mallinfo_open, f.chunks_open, statics, consistent ? 1 : 0);
  } else {
    std::printf("RAM per call, preset %s: bootstrap channels 0 and 10 + application channel "
                "%u open, after one bootstrap GET and one message each way\n",
                opt.preset.c_str(), static_cast<unsigned>(kAppStream));
    std::printf("settings: IMSDC_DC_MAX_MESSAGE_SIZE=%u IMSDC_DC_MAX_CHANNELS=%u "
                "max_streams=%u MBEDTLS_SSL_IN/OUT_CONTENT_LEN=%u/%u\n",
                static_cast<unsigned>(IMSDC_DC_MAX_MESSAGE_SIZE),
                static_cast<unsigned>(IMSDC_DC_MAX_CHANNELS), streams,
                static_cast<unsigned>(MBEDTLS_SSL_IN_CONTENT_LEN),
                static_cast<unsigned>(MBEDTLS_SSL_OUT_CONTENT_LEN));
    std::printf("%-8s %-8s %12s %12s %8s\n", "owner", "side", "live KiB", "peak KiB", "allocs");
    for (int l = 0; l < kLibCount; ++l) {
      for (int c = kGlobal; c < kScopeCount; ++c) {
        if (f.allocations[l][c] == 0 && f.live[l][c] == 0) continue;
        std::printf("%-8s %-8s %12.1f %12.1f %8" PRIu64 "\n", kLibName[l], kScopeName[c],
                    kib(f.live[l][c]), kib(f.peak[l][c]), f.allocations[l][c]);
      }
    }
    std::printf("process-wide statics left by the first call: %.1f KiB\n", kib(statics));
    std::printf("cross-check: mallinfo2 in-use moved %.1f KiB, counted blocks %.1f KiB; "
                "everything freed on close: %s\n",
                kib(f.mallinfo_open), kib(f.chunks_open), consistent ? "yes" : "NO");
  }

  if (!consistent) return 1;
  if (opt.budget >= 0) {
    for (Scope s : {kSideA, kSideB}) {
      if (f.live[kLibSdk][s] > opt.budget) {
        std::fprintf(stderr,
                     "ram_per_call: %s SDK-owned live heap %" PRId64 " bytes exceeds the budget "
                     "of %" PRId64 " by %" PRId64 "\n",
                     kScopeName[s], f.live[kLibSdk][s], opt.budget,
                     f.live[kLibSdk][s] - opt.budget);
        return 2;
      }
    }
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--preset" && has_value) {
      opt.preset = argv[++i];
    } else if (arg == "--max-streams" && has_value) {
      opt.max_streams = static_cast<std::uint16_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--budget" && has_value) {
      opt.budget = std::strtoll(argv[++i], nullptr, 10);
    } else if (arg == "--trace-size" && has_value) {
      g_trace_size = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--top" && has_value) {
      opt.top = std::atoi(argv[++i]);
    } else if (arg == "--tsv") {
      opt.tsv = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--preset NAME] [--max-streams N] [--budget BYTES] [--top N] "
                   "[--tsv]\n",
                   argv[0]);
      return 64;
    }
  }
  return run(opt);
}
