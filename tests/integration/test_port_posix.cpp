// The POSIX port against the real OS: files, UDP sockets, getrandom, clocks, PEM keystore.
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "imsdc/crypto.h"
#include "imsdc/port/entropy.h"
#include "imsdc/port/log.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"
#include "test_util.h"

namespace imsdc {
namespace {

// A fresh directory under TMPDIR, removed (recursively, one level of subdirectories) after.
class TempDir {
public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/imsdc-posix-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* p = ::mkdtemp(buf.data());
    if (p) path_ = p;
  }
  ~TempDir() { testutil::remove_tree(path_); }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> v;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") v.push_back(n);
    }
    ::closedir(d);
  }
  return v;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

unsigned mode_of(const std::string& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool has_temporaries(const std::string& dir) {
  for (const auto& n : list_dir(dir))
    if (n.find(".tmp.") != std::string::npos) return true;
  return !list_dir(dir + "/.kv-tmp").empty();
}

// --- Storage ---------------------------------------------------------------------------

TEST(PosixStorage, BlobInvisibleUntilCommitThenAtomicReplace) {
  TempDir t;
  auto st = posix::Storage::open(t.path() + "/store");
  ASSERT_TRUE(st.is_ok());
  const imsdc_port_storage* p = st.value()->port();
  ASSERT_EQ(p->version, IMSDC_PORT_STORAGE_VERSION);
  std::string root = st.value()->dir();
  EXPECT_EQ(mode_of(root), 0700u);

  imsdc_port_blob* b = nullptr;
  ASSERT_EQ(p->blob_open(p->ctx, "avatar.glb", &b), 0);
  const std::string first = "first version";
  ASSERT_EQ(p->blob_write(b, reinterpret_cast<const uint8_t*>(first.data()), 5), 0);
  ASSERT_EQ(p->blob_write(b, reinterpret_cast<const uint8_t*>(first.data()) + 5, first.size() - 5),
            0);
  EXPECT_FALSE(exists(root + "/avatar.glb")); // nothing visible before commit
  bool temp_0600 = false;
  for (const auto& n : list_dir(root))
    if (n.rfind(".avatar.glb.tmp.", 0) == 0) temp_0600 = mode_of(root + "/" + n) == 0600u;
  EXPECT_TRUE(temp_0600);
  ASSERT_EQ(p->blob_commit(b), 0);
  EXPECT_EQ(slurp(root + "/avatar.glb"), first);
  EXPECT_FALSE(has_temporaries(root));

  // A second version replaces the first only on commit.
  ASSERT_EQ(p->blob_open(p->ctx, "avatar.glb", &b), 0);
  const std::string second = "second, longer version";
  ASSERT_EQ(p->blob_write(b, reinterpret_cast<const uint8_t*>(second.data()), second.size()), 0);
  EXPECT_EQ(slurp(root + "/avatar.glb"), first);
  ASSERT_EQ(p->blob_commit(b), 0);
  EXPECT_EQ(slurp(root + "/avatar.glb"), second);
}

TEST(PosixStorage, AbortedBlobLeavesNoTrace) {
  TempDir t;
  auto st = posix::Storage::open(t.path());
  ASSERT_TRUE(st.is_ok());
  const imsdc_port_storage* p = st.value()->port();
  imsdc_port_blob* b = nullptr;
  ASSERT_EQ(p->blob_open(p->ctx, "partial", &b), 0);
  std::vector<uint8_t> data(100000, 0xab);
  ASSERT_EQ(p->blob_write(b, data.data(), data.size()), 0);
  p->blob_abort(b);
  EXPECT_FALSE(exists(t.path() + "/partial"));
  EXPECT_FALSE(has_temporaries(t.path()));

  // An abort does not disturb an older committed version either.
  ASSERT_EQ(p->blob_open(p->ctx, "partial", &b), 0);
  ASSERT_EQ(p->blob_write(b, data.data(), 10), 0);
  ASSERT_EQ(p->blob_commit(b), 0);
  ASSERT_EQ(p->blob_open(p->ctx, "partial", &b), 0);
  ASSERT_EQ(p->blob_write(b, data.data(), 20), 0);
  p->blob_abort(b);
  EXPECT_EQ(slurp(t.path() + "/partial").size(), 10u);
}

TEST(PosixStorage, OpenRemovesTemporariesLeftByACrash) {
  TempDir t;
  {
    auto st = posix::Storage::open(t.path());
    ASSERT_TRUE(st.is_ok());
    const imsdc_port_storage* p = st.value()->port();
    imsdc_port_blob* b = nullptr;
    ASSERT_EQ(p->blob_open(p->ctx, "crashy", &b), 0);
    ASSERT_EQ(p->blob_write(b, reinterpret_cast<const uint8_t*>("x"), 1), 0);
    ASSERT_TRUE(has_temporaries(t.path()));
    // Simulate a crash with the blob open: keep a hard link to its temporary, then free
    // the handle (the abort removes only the original name).
    std::string tmp;
    for (const auto& n : list_dir(t.path()))
      if (n.find(".tmp.") != std::string::npos) tmp = n;
    ASSERT_EQ(::link((t.path() + "/" + tmp).c_str(), (t.path() + "/.crashy.tmp.zzzzzz").c_str()),
              0);
    p->blob_abort(b);
    std::ofstream(t.path() + "/.kv-tmp/key.abcdef") << "half";
    ASSERT_TRUE(has_temporaries(t.path()));
  }
  auto st = posix::Storage::open(t.path());
  ASSERT_TRUE(st.is_ok());
  EXPECT_FALSE(has_temporaries(t.path()));
  EXPECT_FALSE(exists(t.path() + "/crashy"));
}

TEST(PosixStorage, RejectsBadNames) {
  TempDir t;
  auto st = posix::Storage::open(t.path());
  ASSERT_TRUE(st.is_ok());
  const imsdc_port_storage* p = st.value()->port();
  imsdc_port_blob* b = nullptr;
  for (const char* bad : {"", ".hidden", "../escape", "a/b", "kv", "sp ace", "x\n"})
    EXPECT_EQ(p->blob_open(p->ctx, bad, &b), IMSDC_PORT_EINVAL) << bad;
  EXPECT_EQ(p->blob_open(p->ctx, std::string(129, 'a').c_str(), &b), IMSDC_PORT_EINVAL);
  const uint8_t v = 1;
  for (const char* bad : {"", ".", "..", "a/b", "../x", "k y"})
    EXPECT_EQ(p->kv_put(p->ctx, bad, &v, 1), IMSDC_PORT_EINVAL) << bad;
  EXPECT_EQ(p->kv_put(p->ctx, std::string(65, 'k').c_str(), &v, 1), IMSDC_PORT_EINVAL);
  EXPECT_EQ(p->kv_put(p->ctx, std::string(64, 'k').c_str(), &v, 1), 0);
}

TEST(PosixStorage, KeyValueRoundTrip) {
  TempDir t;
  auto st = posix::Storage::open(t.path());
  ASSERT_TRUE(st.is_ok());
  const imsdc_port_storage* p = st.value()->port();
  uint8_t out[64];
  size_t n = 0;
  EXPECT_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), IMSDC_PORT_ENOENT);
  const std::string uuid = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
  ASSERT_EQ(
      p->kv_put(p->ctx, "sip.instance", reinterpret_cast<const uint8_t*>(uuid.data()), uuid.size()),
      0);
  ASSERT_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), uuid);
  EXPECT_EQ(p->kv_get(p->ctx, "sip.instance", out, 8, &n), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(n, uuid.size());
  // Overwrite, then an empty value.
  ASSERT_EQ(p->kv_put(p->ctx, "sip.instance", reinterpret_cast<const uint8_t*>("x"), 1), 0);
  ASSERT_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), 0);
  EXPECT_EQ(n, 1u);
  ASSERT_EQ(p->kv_put(p->ctx, "empty", nullptr, 0), 0);
  ASSERT_EQ(p->kv_get(p->ctx, "empty", out, sizeof out, &n), 0);
  EXPECT_EQ(n, 0u);
  // Bounded values.
  std::vector<uint8_t> big(4097, 1);
  EXPECT_EQ(p->kv_put(p->ctx, "big", big.data(), big.size()), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(p->kv_put(p->ctx, "big", big.data(), 4096), 0);
  // Delete, including an absent key.
  EXPECT_EQ(p->kv_delete(p->ctx, "sip.instance"), 0);
  EXPECT_EQ(p->kv_get(p->ctx, "sip.instance", out, sizeof out, &n), IMSDC_PORT_ENOENT);
  EXPECT_EQ(p->kv_delete(p->ctx, "sip.instance"), 0);
  EXPECT_FALSE(has_temporaries(t.path()));

  // Survives a "reboot" (a new Storage on the same directory).
  st.value().reset();
  auto st2 = posix::Storage::open(t.path());
  ASSERT_TRUE(st2.is_ok());
  p = st2.value()->port();
  ASSERT_EQ(p->kv_get(p->ctx, "big", nullptr, 0, &n), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(n, 4096u);
}

TEST(PosixStorage, WriteFileAtomic) {
  TempDir t;
  std::string path = t.path() + "/f.txt";
  ASSERT_TRUE(posix::write_file_atomic(path, ByteSpan(std::string_view("one")), 0640).is_ok());
  EXPECT_EQ(slurp(path), "one");
  EXPECT_EQ(mode_of(path), 0640u);
  ASSERT_TRUE(posix::write_file_atomic(path, ByteSpan(std::string_view("two!")), 0600).is_ok());
  EXPECT_EQ(slurp(path), "two!");
  EXPECT_EQ(list_dir(t.path()).size(), 1u);
  EXPECT_FALSE(
      posix::write_file_atomic(t.path() + "/no/such/dir/f", ByteSpan(std::string_view("x")), 0600)
          .is_ok());
}

// --- Network ---------------------------------------------------------------------------

imsdc_port_addr loopback(uint8_t family) {
  imsdc_port_addr a{};
  a.family = family;
  if (family == IMSDC_AF_INET4) {
    a.addr[0] = 127;
    a.addr[3] = 1;
  } else {
    a.addr[15] = 1;
  }
  return a;
}

void udp_round_trip(uint8_t family) {
  const imsdc_port_net* n = posix::net();
  ASSERT_EQ(n->version, IMSDC_PORT_NET_VERSION);
  imsdc_port_addr la = loopback(family), lb = loopback(family);
  imsdc_port_udp *a = nullptr, *b = nullptr;
  int rc = n->udp_open(n->ctx, &la, &a);
  if (family == IMSDC_AF_INET6 && rc == IMSDC_PORT_EUNSUPP) GTEST_SKIP() << "no IPv6 loopback";
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(n->udp_open(n->ctx, &lb, &b), 0);
  EXPECT_NE(la.port, 0);
  EXPECT_NE(lb.port, la.port);
  EXPECT_EQ(la.family, family);

  uint8_t buf[2048];
  imsdc_port_addr from{};
  EXPECT_EQ(n->udp_recv(b, &from, buf, sizeof buf), 0); // nothing yet: 0, not an error
  EXPECT_EQ(n->wait(n->ctx, &b, 1, 10), 0);             // timeout

  const std::string msg = "STUN binding request";
  ASSERT_EQ(n->udp_send(a, &lb, reinterpret_cast<const uint8_t*>(msg.data()), msg.size()),
            static_cast<int>(msg.size()));
  imsdc_port_udp* both[] = {a, b};
  EXPECT_GT(n->wait(n->ctx, both, 2, 2000), 0);
  int got = n->udp_recv(b, &from, buf, sizeof buf);
  ASSERT_EQ(got, static_cast<int>(msg.size()));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), got), msg);
  EXPECT_EQ(from.family, family);
  EXPECT_EQ(from.port, la.port);
  EXPECT_EQ(std::memcmp(from.addr, la.addr, family == IMSDC_AF_INET4 ? 4 : 16), 0);

  // Truncation is reported, never silently passed on.
  ASSERT_EQ(n->udp_send(b, &la, reinterpret_cast<const uint8_t*>(msg.data()), msg.size()),
            static_cast<int>(msg.size()));
  ASSERT_GT(n->wait(n->ctx, &a, 1, 2000), 0);
  EXPECT_EQ(n->udp_recv(a, &from, buf, 4), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(n->udp_recv(a, &from, buf, sizeof buf), 0);

  // One family per socket.
  imsdc_port_addr other = loopback(family == IMSDC_AF_INET4 ? IMSDC_AF_INET6 : IMSDC_AF_INET4);
  other.port = 9;
  EXPECT_LT(n->udp_send(a, &other, buf, 1), 0);

  // Binding the same address twice fails.
  imsdc_port_udp* c = nullptr;
  imsdc_port_addr again = la;
  EXPECT_LT(n->udp_open(n->ctx, &again, &c), 0);
  n->udp_close(a);
  n->udp_close(b);
}

TEST(PosixNet, UdpLoopbackIPv4) {
  udp_round_trip(IMSDC_AF_INET4);
}
TEST(PosixNet, UdpLoopbackIPv6) {
  udp_round_trip(IMSDC_AF_INET6);
}

TEST(PosixNet, LocalAddresses) {
  const imsdc_port_net* n = posix::net();
  imsdc_port_addr addrs[64];
  int with = n->local_addresses(n->ctx, 1, addrs, 64);
  ASSERT_GT(with, 0);
  bool has_lo = false;
  for (int i = 0; i < with; ++i)
    if (addrs[i].family == IMSDC_AF_INET4 && addrs[i].addr[0] == 127) has_lo = true;
  EXPECT_TRUE(has_lo);
  int without = n->local_addresses(n->ctx, 0, addrs, 64);
  ASSERT_GE(without, 0);
  for (int i = 0; i < without; ++i) {
    EXPECT_FALSE(addrs[i].family == IMSDC_AF_INET4 && addrs[i].addr[0] == 127);
    EXPECT_EQ(addrs[i].port, 0);
  }
  EXPECT_EQ(n->local_addresses(n->ctx, 1, addrs, 1), 1); // cap respected
}

// --- OS primitives -----------------------------------------------------------------------

TEST(PosixOs, EntropyFillsEverythingAndDiffers) {
  std::vector<uint8_t> a(1 << 20), b(1 << 20); // > 256 bytes: getrandom returns partially
  ASSERT_EQ(imsdc_port_entropy(a.data(), a.size()), 0);
  ASSERT_EQ(imsdc_port_entropy(b.data(), b.size()), 0);
  EXPECT_NE(a, b);
  // Crude sanity: every byte value appears in 1 MiB of CSPRNG output.
  std::vector<int> seen(256, 0);
  for (uint8_t x : a)
    seen[x] = 1;
  for (int s : seen)
    EXPECT_EQ(s, 1);
  EXPECT_EQ(imsdc_port_entropy(nullptr, 0), 0);
}

TEST(PosixOs, Clocks) {
  uint64_t t0 = imsdc_port_clock_monotonic_ms();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  uint64_t t1 = imsdc_port_clock_monotonic_ms();
  EXPECT_GE(t1 - t0, 19u);
  int64_t wall = imsdc_port_clock_wall_s();
  EXPECT_GT(wall, 1704067200); // this machine's clock is set
  posix::set_wall_clock_override(1767225600);
  EXPECT_EQ(imsdc_port_clock_wall_s(), 1767225600);
  posix::set_wall_clock_override(-1);
  EXPECT_GE(imsdc_port_clock_wall_s(), wall);
}

TEST(PosixOs, MutexExcludes) {
  imsdc_port_mutex* m = imsdc_port_mutex_create();
  ASSERT_NE(m, nullptr);
  long counter = 0;
  auto work = [&] {
    for (int i = 0; i < 100000; ++i) {
      imsdc_port_mutex_lock(m);
      ++counter;
      imsdc_port_mutex_unlock(m);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(counter, 200000);
  imsdc_port_mutex_destroy(m);
  imsdc_port_mutex_destroy(nullptr);
}

TEST(PosixOs, LogLineFormat) {
  testing::internal::CaptureStderr();
  imsdc_port_log_write(IMSDC_LOG_WARN, "port", "hello");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("W ", 0), 0u) << out;
  EXPECT_NE(out.find(" port: hello\n"), std::string::npos) << out;
}

// --- PEM keystore ------------------------------------------------------------------------

TEST(PosixPemKeystore, CreateLoadSignStoreChain) {
  TempDir t;
  auto key = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(key.is_ok());
  crypto::EcPublicKey pub = key.value().public_key();
  auto ks = posix::PemKeystore::create(t.path(), std::move(key.value()));
  ASSERT_TRUE(ks.is_ok()) << ks.status().message();
  EXPECT_EQ(mode_of(t.path() + "/device-key.pem"), 0600u);

  // Never overwrites a key.
  auto key2 = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(key2.is_ok());
  auto again = posix::PemKeystore::create(t.path(), std::move(key2.value()));
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().code(), Code::kState);

  const imsdc_port_keystore* p = ks.value()->port();
  auto got = crypto::keystore_public_key(*p);
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(got.value() == pub);
  crypto::Digest d = crypto::sha256(ByteSpan(std::string_view("payload")));
  auto sig = crypto::keystore_sign_digest(*p, d);
  ASSERT_TRUE(sig.is_ok());
  EXPECT_TRUE(crypto::ecdsa_verify_digest(pub, d, ByteSpan(sig.value().data(), 64)).is_ok());
  uint8_t buf[4096];
  size_t n = 0;
  EXPECT_EQ(p->cert_chain(p->ctx, 0, buf, sizeof buf, &n), IMSDC_PORT_ENOENT);

  // store_chain: the leaf must certify the device key.
  auto cert = crypto::make_self_signed_cert(*p, "device", "sip:alice@ims.example", 1767225600, 30);
  ASSERT_TRUE(cert.is_ok()) << cert.status().message();
  const uint8_t* ders[] = {cert.value().data()};
  size_t lens[] = {cert.value().size()};
  ASSERT_EQ(p->store_chain(p->ctx, ders, lens, 1), 0);
  EXPECT_EQ(mode_of(t.path() + "/device-cert.pem"), 0644u);
  ASSERT_EQ(p->cert_chain(p->ctx, 0, buf, sizeof buf, &n), 0);
  EXPECT_EQ(Bytes(buf, buf + n), cert.value());

  auto other = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(other.is_ok());
  crypto::MemoryKeystore other_ks(std::move(other.value()));
  auto wrong = crypto::make_self_signed_cert(*other_ks.port(), "other", "sip:bob@ims.example",
                                             1767225600, 30);
  ASSERT_TRUE(wrong.is_ok());
  std::string before = slurp(t.path() + "/device-cert.pem");
  const uint8_t* wders[] = {wrong.value().data()};
  size_t wlens[] = {wrong.value().size()};
  EXPECT_EQ(p->store_chain(p->ctx, wders, wlens, 1), IMSDC_PORT_EINVAL);
  EXPECT_EQ(slurp(t.path() + "/device-cert.pem"), before); // untouched
  const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x00};
  const uint8_t* gders[] = {garbage};
  size_t glens[] = {sizeof garbage};
  EXPECT_EQ(p->store_chain(p->ctx, gders, glens, 1), IMSDC_PORT_EINVAL);
  EXPECT_FALSE(has_temporaries(t.path()));

  // Reload from disk: same key, same chain.
  ks.value().reset();
  auto loaded = posix::PemKeystore::load(t.path());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  p = loaded.value()->port();
  got = crypto::keystore_public_key(*p);
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(got.value() == pub);
  auto chain = crypto::keystore_chain(*p);
  ASSERT_TRUE(chain.is_ok());
  ASSERT_EQ(chain.value().size(), 1u);
  EXPECT_EQ(chain.value()[0], cert.value());

  // A certificate file for another key is refused at load.
  std::string wrong_pem = crypto::cert_to_pem(wrong.value());
  ASSERT_TRUE(
      posix::write_file_atomic(t.path() + "/device-cert.pem", ByteSpan(wrong_pem), 0644).is_ok());
  auto bad = posix::PemKeystore::load(t.path());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kBinding);

  // load_files without a certificate path: read-only keystore.
  auto ro = posix::PemKeystore::load_files(t.path() + "/device-key.pem", "");
  ASSERT_TRUE(ro.is_ok());
  EXPECT_EQ(ro.value()->port()->store_chain, nullptr);
}

TEST(PosixPemKeystore, MissingOrBadKey) {
  TempDir t;
  auto none = posix::PemKeystore::load(t.path());
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  std::ofstream(t.path() + "/device-key.pem") << "-----BEGIN EC PRIVATE KEY-----\nnope\n"
                                                 "-----END EC PRIVATE KEY-----\n";
  auto bad = posix::PemKeystore::load(t.path());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().code(), Code::kOk);
}

} // namespace
} // namespace imsdc
