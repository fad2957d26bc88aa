// The fake port itself: virtual clock, TEST-ONLY entropy, captured log, fault injection,
// in-memory storage / network / keystore wrapper.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "imsdc/crypto.h"
#include "imsdc/log.h"
#include "imsdc/port/entropy.h"
#include "imsdc/port/log.h"
#include "imsdc/port/os.h"
#include "imsdc/port_fake.h"
#include "port/port.h"

namespace imsdc {
namespace {

class FakePort : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
};

// --- Clock -------------------------------------------------------------------------------

TEST_F(FakePort, VirtualClockMovesOnlyWhenTold) {
  uint64_t t0 = imsdc_port_clock_monotonic_ms();
  EXPECT_EQ(imsdc_port_clock_monotonic_ms(), t0);
  fake::advance_ms(1500);
  EXPECT_EQ(imsdc_port_clock_monotonic_ms(), t0 + 1500);
  EXPECT_EQ(port::now_ms(), t0 + 1500);
  fake::set_now_ms(t0 + 10000);
  EXPECT_EQ(fake::now_ms(), t0 + 10000);
}

TEST_F(FakePort, WallClockDefaultsAndFollowsVirtualTime) {
  EXPECT_EQ(imsdc_port_clock_wall_s(), fake::kDefaultWallS); // 2026-01-01T00:00:00Z
  fake::advance_ms(999);
  EXPECT_EQ(imsdc_port_clock_wall_s(), fake::kDefaultWallS);
  fake::advance_ms(1);
  EXPECT_EQ(imsdc_port_clock_wall_s(), fake::kDefaultWallS + 1);
  fake::set_wall_s(2000000000);
  fake::advance_ms(60000);
  EXPECT_EQ(fake::wall_s(), 2000000060);
  fake::set_wall_s(-1); // time unknown
  EXPECT_LT(imsdc_port_clock_wall_s(), 0);
  EXPECT_EQ(port::wall_s(), -1);
  fake::advance_ms(5000);
  EXPECT_LT(imsdc_port_clock_wall_s(), 0);
}

TEST_F(FakePort, ResetDoesNotRewindTheMonotonicClock) {
  fake::advance_ms(1234);
  uint64_t t = fake::now_ms();
  fake::reset();
  EXPECT_EQ(fake::now_ms(), t);
}

// --- Entropy -----------------------------------------------------------------------------

TEST_F(FakePort, EntropyIsDeterministicPerSeed) {
  std::vector<uint8_t> a(100), b(100), c(100);
  fake::set_entropy_seed(42);
  ASSERT_EQ(imsdc_port_entropy(a.data(), a.size()), 0);
  fake::set_entropy_seed(42);
  ASSERT_EQ(imsdc_port_entropy(b.data(), b.size()), 0);
  EXPECT_EQ(a, b);
  fake::set_entropy_seed(43);
  ASSERT_EQ(imsdc_port_entropy(c.data(), c.size()), 0);
  EXPECT_NE(a, c);
  // The stream continues: the next bytes differ from the first ones.
  ASSERT_EQ(imsdc_port_entropy(c.data(), c.size()), 0);
  fake::set_entropy_seed(42);
  std::vector<uint8_t> d(100);
  ASSERT_EQ(imsdc_port_entropy(d.data(), 7), 0); // odd lengths work
  EXPECT_TRUE(std::equal(d.begin(), d.begin() + 7, a.begin()));
}

// --- Fault injection ---------------------------------------------------------------------

TEST_F(FakePort, FailNthCountsFromNow) {
  uint8_t buf[8];
  ASSERT_EQ(imsdc_port_entropy(buf, 8), 0);
  EXPECT_EQ(fake::call_count(fake::Fn::kEntropy), 1);
  fake::fail_nth(fake::Fn::kEntropy, 2, IMSDC_PORT_EFAIL);
  EXPECT_EQ(imsdc_port_entropy(buf, 8), 0);
  EXPECT_EQ(imsdc_port_entropy(buf, 8), IMSDC_PORT_EFAIL);
  EXPECT_EQ(imsdc_port_entropy(buf, 8), 0); // one-shot
  EXPECT_EQ(fake::call_count(fake::Fn::kEntropy), 4);
  // Through the core's wrapper the failure becomes kEntropy.
  fake::fail_nth(fake::Fn::kEntropy, 1);
  Status s = port::entropy(buf, 8);
  EXPECT_EQ(s.code(), Code::kEntropy);
}

TEST_F(FakePort, StickyFaultsAndClear) {
  fake::fail_nth(fake::Fn::kMutexCreate, 2, IMSDC_PORT_ENOMEM, /*sticky=*/true);
  imsdc_port_mutex* m1 = imsdc_port_mutex_create();
  EXPECT_NE(m1, nullptr);
  EXPECT_EQ(imsdc_port_mutex_create(), nullptr);
  EXPECT_EQ(imsdc_port_mutex_create(), nullptr);
  fake::reset_counts(); // keeps the sticky fault
  EXPECT_EQ(imsdc_port_mutex_create(), nullptr);
  fake::clear_faults();
  imsdc_port_mutex* m2 = imsdc_port_mutex_create();
  EXPECT_NE(m2, nullptr);
  imsdc_port_mutex_destroy(m1);
  imsdc_port_mutex_destroy(m2);
  EXPECT_STREQ(fake::fn_name(fake::Fn::kUdpSend), "udp_send");
}

TEST_F(FakePort, MutexIsARealMutex) {
  imsdc_port_mutex* m = imsdc_port_mutex_create();
  ASSERT_NE(m, nullptr);
  long counter = 0;
  auto work = [&] {
    for (int i = 0; i < 20000; ++i) {
      imsdc_port_mutex_lock(m);
      ++counter;
      imsdc_port_mutex_unlock(m);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(counter, 40000);
  imsdc_port_mutex_destroy(m);
}

// --- Log ---------------------------------------------------------------------------------

TEST_F(FakePort, LogIsCapturedAndRedacted) {
  imsdc_port_log_write(IMSDC_LOG_INFO, "test", "plain line");
  IMSDC_LOGW("sip", "Authorization: Digest username=\"alice\", response=\"abc123\"");
  auto lines = fake::log_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "I test: plain line");
  EXPECT_EQ(lines[1].rfind("W sip: Authorization:", 0), 0u) << lines[1];
  EXPECT_EQ(lines[1].find("abc123"), std::string::npos) << lines[1];
  fake::fail_nth(fake::Fn::kLog, 1);
  imsdc_port_log_write(IMSDC_LOG_ERROR, "test", "dropped");
  EXPECT_EQ(fake::log_lines().size(), 2u);
  fake::clear_log();
  EXPECT_TRUE(fake::log_lines().empty());
}

// --- MemoryStorage -----------------------------------------------------------------------

// Writes `chunks` chunks of 100 bytes to blob `name` and commits; aborts on any error.
int store_blob(const imsdc_port_storage* p, const char* name, int chunks) {
  imsdc_port_blob* b = nullptr;
  if (int rc = p->blob_open(p->ctx, name, &b)) return rc;
  std::vector<uint8_t> chunk(100, 0x5a);
  for (int i = 0; i < chunks; ++i) {
    if (int rc = p->blob_write(b, chunk.data(), chunk.size())) {
      p->blob_abort(b);
      return rc;
    }
  }
  return p->blob_commit(b);
}

TEST_F(FakePort, MemoryStorageNothingVisibleBeforeCommit) {
  fake::MemoryStorage ms;
  const imsdc_port_storage* p = ms.port();
  imsdc_port_blob* b = nullptr;
  ASSERT_EQ(p->blob_open(p->ctx, "rep", &b), 0);
  ASSERT_EQ(p->blob_write(b, reinterpret_cast<const uint8_t*>("abc"), 3), 0);
  EXPECT_EQ(ms.blob("rep"), nullptr);
  EXPECT_EQ(ms.open_blobs(), 1u);
  ASSERT_EQ(p->blob_commit(b), 0);
  ASSERT_NE(ms.blob("rep"), nullptr);
  EXPECT_EQ(*ms.blob("rep"), Bytes({'a', 'b', 'c'}));
  EXPECT_EQ(ms.open_blobs(), 0u);

  // A new version is invisible until its commit; an abort keeps the old one.
  ASSERT_EQ(p->blob_open(p->ctx, "rep", &b), 0);
  ASSERT_EQ(p->blob_write(b, reinterpret_cast<const uint8_t*>("xyz!"), 4), 0);
  EXPECT_EQ(ms.blob("rep")->size(), 3u);
  p->blob_abort(b);
  EXPECT_EQ(ms.blob("rep")->size(), 3u);
  ASSERT_EQ(ms.aborted().size(), 1u);
  EXPECT_EQ(ms.aborted()[0], "rep");
}

TEST_F(FakePort, MemoryStorageSweepWriteAndCommitFaults) {
  constexpr int kChunks = 10;
  // Every possible write failure, then the commit failure: none leaves a partial blob.
  for (int n = 1; n <= kChunks + 1; ++n) {
    fake::MemoryStorage ms;
    fake::clear_faults();
    if (n <= kChunks)
      fake::fail_nth(fake::Fn::kStorageBlobWrite, n);
    else
      fake::fail_nth(fake::Fn::kStorageCommit, 1);
    EXPECT_NE(store_blob(ms.port(), "avatar", kChunks), 0) << "n=" << n;
    EXPECT_EQ(ms.blob("avatar"), nullptr) << "n=" << n;
    EXPECT_EQ(ms.aborted().size(), 1u) << "n=" << n;
    EXPECT_EQ(ms.open_blobs(), 0u) << "n=" << n;
  }
  fake::clear_faults();
  fake::MemoryStorage ms;
  ASSERT_EQ(store_blob(ms.port(), "avatar", kChunks), 0);
  ASSERT_NE(ms.blob("avatar"), nullptr);
  EXPECT_EQ(ms.blob("avatar")->size(), 100u * kChunks);
}

TEST_F(FakePort, MemoryStorageCapacityAndKv) {
  fake::MemoryStorage ms;
  ms.set_capacity(250);
  EXPECT_EQ(store_blob(ms.port(), "big", 3), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(ms.blob("big"), nullptr);
  ASSERT_EQ(store_blob(ms.port(), "small", 2), 0);

  const imsdc_port_storage* p = ms.port();
  uint8_t out[16];
  size_t n = 0;
  EXPECT_EQ(p->kv_get(p->ctx, "etag", out, sizeof out, &n), IMSDC_PORT_ENOENT);
  ASSERT_EQ(p->kv_put(p->ctx, "etag", reinterpret_cast<const uint8_t*>("\"v1\""), 4), 0);
  fake::fail_nth(fake::Fn::kKvPut, 1);
  EXPECT_NE(p->kv_put(p->ctx, "etag", reinterpret_cast<const uint8_t*>("\"v2\""), 4), 0);
  ASSERT_EQ(p->kv_get(p->ctx, "etag", out, sizeof out, &n), 0); // old value kept
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), "\"v1\"");
  EXPECT_EQ(p->kv_get(p->ctx, "etag", out, 2, &n), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(p->kv_put(p->ctx, "bad/key", out, 1), IMSDC_PORT_EINVAL);
  EXPECT_EQ(p->kv_delete(p->ctx, "etag"), 0);
  EXPECT_EQ(p->kv_delete(p->ctx, "etag"), 0);
  EXPECT_EQ(fake::call_count(fake::Fn::kKvPut), 2);
}

// --- FaultyKeystore ----------------------------------------------------------------------

TEST_F(FakePort, FaultyKeystoreInjectsSignFailures) {
  Bytes d(32, 0);
  d[31] = 7;
  auto key = crypto::EcPrivateKey::from_scalar(ByteSpan(d));
  ASSERT_TRUE(key.is_ok());
  crypto::EcPublicKey pub = key.value().public_key();
  crypto::MemoryKeystore mem(std::move(key.value()));
  fake::FaultyKeystore ks(*mem.port());
  crypto::Digest digest = crypto::sha256(ByteSpan(std::string_view("claims")));

  fake::fail_nth(fake::Fn::kKeystoreSign, 1, IMSDC_PORT_EDENIED);
  auto failed = crypto::keystore_sign_digest(*ks.port(), digest);
  EXPECT_FALSE(failed.is_ok());
  auto ok = crypto::keystore_sign_digest(*ks.port(), digest);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_TRUE(crypto::ecdsa_verify_digest(pub, digest, ByteSpan(ok.value().data(), 64)).is_ok());
  EXPECT_EQ(ks.sign_calls(), 2);

  fake::fail_nth(fake::Fn::kKeystorePublicKey, 1);
  EXPECT_FALSE(crypto::keystore_public_key(*ks.port()).is_ok());
  auto pk = crypto::keystore_public_key(*ks.port());
  ASSERT_TRUE(pk.is_ok());
  EXPECT_TRUE(pk.value() == pub);
}

// --- MemoryNet ---------------------------------------------------------------------------

imsdc_port_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  imsdc_port_addr x{};
  x.family = IMSDC_AF_INET4;
  x.addr[0] = a;
  x.addr[1] = b;
  x.addr[2] = c;
  x.addr[3] = d;
  x.port = port;
  return x;
}

TEST_F(FakePort, MemoryNetDeliversWithDelayOnTheVirtualClock) {
  fake::MemoryNet net;
  const imsdc_port_net* n = net.port();
  imsdc_port_addr la = v4(192, 0, 2, 1, 0), lb = v4(192, 0, 2, 1, 5000);
  imsdc_port_udp *a = nullptr, *b = nullptr;
  ASSERT_EQ(n->udp_open(n->ctx, &la, &a), 0);
  ASSERT_EQ(n->udp_open(n->ctx, &lb, &b), 0);
  EXPECT_GE(la.port, 40000);
  imsdc_port_addr dup = lb;
  imsdc_port_udp* c = nullptr;
  EXPECT_LT(n->udp_open(n->ctx, &dup, &c), 0); // in use

  net.set_delay_ms(50);
  uint64_t t0 = fake::now_ms();
  ASSERT_EQ(n->udp_send(a, &lb, reinterpret_cast<const uint8_t*>("hello"), 5), 5);
  uint8_t buf[16];
  imsdc_port_addr from{};
  EXPECT_EQ(n->udp_recv(b, &from, buf, sizeof buf), 0); // still in flight
  EXPECT_EQ(n->wait(n->ctx, &b, 1, 1000), 1);           // advances to the delivery
  EXPECT_EQ(fake::now_ms(), t0 + 50);
  ASSERT_EQ(n->udp_recv(b, &from, buf, sizeof buf), 5);
  EXPECT_EQ(from.port, la.port);
  EXPECT_EQ(n->wait(n->ctx, &b, 1, 200), 0); // timeout advances the clock
  EXPECT_EQ(fake::now_ms(), t0 + 250);

  // Loss via the filter, failure via fault injection.
  net.set_delay_ms(0);
  net.set_filter(
      [](const imsdc_port_addr&, const imsdc_port_addr&, ByteSpan d) { return d.size() != 3; });
  EXPECT_EQ(n->udp_send(a, &lb, reinterpret_cast<const uint8_t*>("bye"), 3), 3);
  EXPECT_EQ(n->udp_recv(b, &from, buf, sizeof buf), 0);
  EXPECT_EQ(net.dropped(), 1u);
  fake::fail_nth(fake::Fn::kUdpSend, 1, IMSDC_PORT_EIO);
  EXPECT_EQ(n->udp_send(a, &lb, reinterpret_cast<const uint8_t*>("data"), 4), IMSDC_PORT_EIO);
  EXPECT_EQ(n->udp_send(a, &lb, reinterpret_cast<const uint8_t*>("data"), 4), 4);
  EXPECT_EQ(n->udp_recv(b, &from, buf, 2), IMSDC_PORT_ENOSPC); // truncated
  imsdc_port_addr addrs[4];
  EXPECT_EQ(n->local_addresses(n->ctx, 0, addrs, 4), 2);
  EXPECT_EQ(n->local_addresses(n->ctx, 1, addrs, 4), 4);
  n->udp_close(a);
  n->udp_close(b);
}

} // namespace
} // namespace imsdc
