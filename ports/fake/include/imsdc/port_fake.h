// imsdc fake port, for unit tests only: it defines the link-time primitives with a virtual
// clock, a deterministic TEST-ONLY entropy generator and a captured log, and provides
// in-memory storage, network and keystore-wrapper ports. Every port function can be made
// to fail on its Nth call (SQLite-style fault injection), so tests can sweep N over a
// scenario and check that each failure is reported and cleaned up.
//
// NEVER link this library into a product: its "entropy" is a predictable counter-based
// generator.
//
// The state is process-wide (the primitives are link-time functions) and guarded by one
// mutex, so tests may use several threads.
#ifndef IMSDC_PORT_FAKE_H
#define IMSDC_PORT_FAKE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/port/keystore.h"
#include "imsdc/port/net.h"
#include "imsdc/port/storage.h"
#include "imsdc/port/transport.h"

namespace imsdc::fake {

// 2026-01-01T00:00:00Z: the default wall clock, a plausible fixed date for certificates.
constexpr std::int64_t kDefaultWallS = 1767225600;
constexpr std::uint64_t kDefaultEntropySeed = 0x696d736463ull; // "imsdc"

// --- Virtual clock ------------------------------------------------------------------------
// The monotonic clock starts at 0 and moves only when a test moves it (or when
// MemoryNet::wait times out). The wall clock moves with it: advance_ms(1000) adds 1 s.
void set_now_ms(std::uint64_t ms); // may go backwards: only to test the core's checks
void advance_ms(std::uint64_t ms);
std::uint64_t now_ms();
void set_wall_s(std::int64_t s); // negative: "time unknown"
std::int64_t wall_s();

// --- TEST-ONLY entropy --------------------------------------------------------------------
// SplitMix64 output stream: the same seed always yields the same bytes.
void set_entropy_seed(std::uint64_t seed);

// --- Captured log -------------------------------------------------------------------------
// Each line as "<L> <module>: <text>" with L one of E W I D.
std::vector<std::string> log_lines();
void clear_log();
// Also copy lines to stderr (debugging a test). Off by default.
void set_log_echo(bool on);

// --- Fault injection ----------------------------------------------------------------------
enum class Fn : int {
  kEntropy = 0,
  kMutexCreate,
  kLog,
  kKeystorePublicKey,
  kKeystoreSign,
  kKeystoreChain,
  kKeystoreStoreChain,
  kStorageBlobOpen,
  kStorageBlobWrite,
  kStorageCommit,
  kKvGet,
  kKvPut,
  kKvDelete,
  kUdpOpen,
  kUdpSend,
  kUdpRecv,
  kCount,
};
const char* fn_name(Fn fn);

// Makes the nth call of fn counted from now (n = 1: the next call) fail with `error` (a
// negative IMSDC_PORT_E* value). With sticky, every call from the nth on fails. How each
// function fails: it returns `error`; mutex_create returns NULL; log drops the line;
// entropy returns `error` and writes nothing. n <= 0 removes the fault for fn.
void fail_nth(Fn fn, int n, int error = -6 /* IMSDC_PORT_EIO */, bool sticky = false);
void clear_faults();
// Calls made to fn since the last reset_counts() / reset() (failed calls included).
int call_count(Fn fn);
void reset_counts();
// Counts a call of fn and returns 0, or the injected error when this call must fail. For
// test doubles of other ports that want the same fault injection.
int hit(Fn fn);

// Restores defaults: wall clock kDefaultWallS, entropy seed, empty log, no faults, zero
// counts. The monotonic clock is NOT rewound (the contract says it never goes backwards,
// and the core checks that across tests).
void reset();

// --- In-memory storage --------------------------------------------------------------------
// Implements the storage contract in RAM: committed blobs are inspectable; nothing is
// visible before commit; aborted or failed blobs are listed by name. Faults: kStorage*,
// kKv*. An optional capacity makes blob_write/kv_put fail with IMSDC_PORT_ENOSPC.
class MemoryStorage {
public:
  MemoryStorage();
  ~MemoryStorage();
  MemoryStorage(const MemoryStorage&) = delete;
  MemoryStorage& operator=(const MemoryStorage&) = delete;

  const imsdc_port_storage* port() const { return &port_; }

  // Committed content of `name`, or nullptr.
  const Bytes* blob(const std::string& name) const;
  std::vector<std::string> blob_names() const;
  // Names of blobs aborted or whose commit failed, in order.
  const std::vector<std::string>& aborted() const { return aborted_; }
  // Blobs opened and not yet committed or aborted.
  std::size_t open_blobs() const { return open_; }
  const std::map<std::string, Bytes>& kv() const { return kv_; }
  // Total bytes (committed + in progress + kv) allowed; 0 = unlimited.
  void set_capacity(std::size_t bytes) { capacity_ = bytes; }

private:
  std::size_t used() const;
  static int blob_open_cb(void* ctx, const char* name, imsdc_port_blob** out);
  static int blob_write_cb(imsdc_port_blob* b, const std::uint8_t* data, std::size_t len);
  static int blob_commit_cb(imsdc_port_blob* b);
  static void blob_abort_cb(imsdc_port_blob* b);
  static int kv_get_cb(void* ctx, const char* key, std::uint8_t* out, std::size_t cap,
                       std::size_t* out_len);
  static int kv_put_cb(void* ctx, const char* key, const std::uint8_t* value, std::size_t len);
  static int kv_delete_cb(void* ctx, const char* key);

  std::map<std::string, Bytes> blobs_;
  std::map<std::string, Bytes> kv_;
  std::vector<std::string> aborted_;
  std::size_t open_ = 0;
  std::size_t pending_bytes_ = 0;
  std::size_t capacity_ = 0;
  imsdc_port_storage port_{};
};

// --- Keystore wrapper with fault injection ------------------------------------------------
// Wraps any keystore port (e.g. crypto::MemoryKeystore) and fails its methods on demand
// (kKeystorePublicKey, kKeystoreSign, kKeystoreChain, kKeystoreStoreChain).
class FaultyKeystore {
public:
  // `inner` must outlive this object.
  explicit FaultyKeystore(const imsdc_port_keystore& inner);
  const imsdc_port_keystore* port() const { return &port_; }
  int sign_calls() const { return sign_calls_; }

private:
  static int public_key_cb(void* ctx, std::uint8_t out_xy[64]);
  static int sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]);
  static int chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                      std::size_t* out_len);
  static int store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                      std::size_t count);
  const imsdc_port_keystore& inner_;
  int sign_calls_ = 0;
  imsdc_port_keystore port_{};
};

// --- In-memory UDP network ----------------------------------------------------------------
// Sockets exchange datagrams in RAM: a datagram sent to an address is queued on the socket
// bound to it (or dropped, like UDP, when none is). Port 0 binds an ephemeral port from
// 40000 up. Optional impairments: a fixed one-way delay (on the virtual clock) and a filter
// that can drop datagrams. wait() returns at once when a datagram is ready; otherwise it
// advances the virtual clock to the next delayed delivery or by timeout_ms, whichever comes
// first. local_addresses reports 192.0.2.1 and 2001:db8::1 (+ loopback when asked).
// Faults: kUdpOpen, kUdpSend, kUdpRecv.
class MemoryNet {
public:
  MemoryNet();
  ~MemoryNet();
  MemoryNet(const MemoryNet&) = delete;
  MemoryNet& operator=(const MemoryNet&) = delete;

  const imsdc_port_net* port() const { return &port_; }
  void set_delay_ms(std::uint64_t ms) { delay_ms_ = ms; }
  // Return false to drop the datagram.
  using Filter =
      std::function<bool(const imsdc_port_addr& from, const imsdc_port_addr& to, ByteSpan data)>;
  void set_filter(Filter f) { filter_ = std::move(f); }
  std::size_t delivered() const { return delivered_; }
  std::size_t dropped() const { return dropped_; }

private:
  static int udp_open_cb(void* ctx, imsdc_port_addr* local, imsdc_port_udp** out);
  static int udp_send_cb(imsdc_port_udp* s, const imsdc_port_addr* to, const std::uint8_t* data,
                         std::size_t len);
  static int udp_recv_cb(imsdc_port_udp* s, imsdc_port_addr* from, std::uint8_t* out,
                         std::size_t cap);
  static void udp_close_cb(imsdc_port_udp* s);
  static int local_addresses_cb(void* ctx, int include_loopback, imsdc_port_addr* out,
                                std::size_t cap);
  static int wait_cb(void* ctx, imsdc_port_udp* const* socks, std::size_t count,
                     std::uint32_t timeout_ms);

  std::vector<imsdc_port_udp*> sockets_;
  std::uint16_t next_port_ = 40000;
  std::uint64_t delay_ms_ = 0;
  Filter filter_;
  std::size_t delivered_ = 0;
  std::size_t dropped_ = 0;
  imsdc_port_net port_{};
};

// --- In-memory message transport ---------------------------------------------------------
// An imsdc_msg_transport whose far end is the test: connect() is answered on the next poll()
// (open, or a scripted refusal / TLS failure), messages the SDK sends are collected for the
// test to read, and messages the test queues are delivered, one per on_message, from poll().
// The contract checks of transport.h hold: whole messages only, events only from poll(), no
// events after on_close until the next connect(). Stands in for the WSS transport below the
// registration's real test against Kamailio (tests/labnet/register_test.sh).
class MemoryTransport {
public:
  MemoryTransport();
  const imsdc_msg_transport* port() const { return &port_; }

  // How the next connect() ends: 0 = open, else an imsdc_transport_close_reason with an
  // optional HTTP status (e.g. REFUSED + 403 for a wrong Origin).
  void answer_next_connect(int close_reason, int http_status = 0);
  // Messages the SDK sent since the last call, oldest first.
  std::vector<std::string> take_sent();
  // Queues a message for the SDK (delivered by its next poll()).
  void deliver(std::string message);
  // Closes from the far end (delivered by the next poll()).
  void server_close(int reason = IMSDC_TRANSPORT_CLOSED_NETWORK);
  bool is_open() const { return open_; }
  int connects() const { return connects_; }
  // The options of the last connect() (strings copied).
  const std::string& last_url() const { return url_; }
  const std::string& last_origin() const { return origin_; }

private:
  static int connect_cb(void* ctx, const imsdc_msg_transport_options* opts,
                        const imsdc_msg_transport_events* events);
  static int send_cb(void* ctx, const std::uint8_t* data, std::size_t len);
  static void close_cb(void* ctx);
  static int poll_cb(void* ctx, std::uint32_t timeout_ms);

  imsdc_msg_transport port_{};
  imsdc_msg_transport_events events_{};
  bool connecting_ = false, open_ = false, closing_ = false;
  int next_reason_ = 0, next_http_ = 0, close_reason_ = -1, connects_ = 0;
  std::vector<std::string> to_sdk_, from_sdk_;
  std::string url_, origin_;
};

} // namespace imsdc::fake

#endif // IMSDC_PORT_FAKE_H
