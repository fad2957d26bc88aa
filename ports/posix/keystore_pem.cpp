// POSIX keystore: a software device key and its certificate chain kept as PEM files.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <new>
#include <string>
#include <vector>

#include "imsdc/port/keystore.h"
#include "imsdc/port_posix.h"

namespace imsdc::posix {
namespace {

constexpr const char* kKeyFile = "device-key.pem";
constexpr const char* kCertFile = "device-cert.pem";
constexpr std::size_t kMaxKeyPem = 16 * 1024;
constexpr std::size_t kMaxChainPem = 256 * 1024;

std::string join(const std::string& dir, const char* file) {
  if (dir.empty()) return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

Result<std::vector<Bytes>> load_chain(const std::string& path, const crypto::EcPublicKey& key) {
  auto text = read_file_secret(path, kMaxChainPem);
  if (!text) return text.status();
  auto certs = crypto::certs_from_pem(text.value().span().as_string());
  if (!certs) return certs.status();
  if (certs.value().empty())
    return Status(Code::kMalformed, Module::kPort, "no certificate in the chain file");
  auto leaf = crypto::cert_info(certs.value()[0]);
  if (!leaf) return leaf.status();
  if (!(leaf.value().public_key == key))
    return Status(Code::kBinding, Module::kPort,
                  "the device certificate is not for the device key");
  return certs;
}

Result<crypto::EcPrivateKey> load_key(const std::string& path) {
  auto pem = read_file_secret(path, kMaxKeyPem);
  if (!pem) return pem.status();
  // `pem` (the key text) is zeroized when it goes out of scope, on every path.
  return crypto::private_key_from_pem(pem.value().span().as_string());
}

} // namespace

PemKeystore::PemKeystore(std::unique_ptr<crypto::MemoryKeystore> mem, std::string cert_path)
    : mem_(std::move(mem)), cert_path_(std::move(cert_path)) {
  port_.version = IMSDC_PORT_KEYSTORE_VERSION;
  port_.ctx = this;
  port_.public_key = public_key_cb;
  port_.sign_digest = sign_cb;
  port_.cert_chain = chain_cb;
  port_.store_chain = cert_path_.empty() ? nullptr : store_cb;
}

PemKeystore::~PemKeystore() = default;

Result<std::unique_ptr<PemKeystore>> PemKeystore::load(const std::string& dir) {
  return load_files(join(dir, kKeyFile), join(dir, kCertFile));
}

Result<std::unique_ptr<PemKeystore>> PemKeystore::load_files(const std::string& key_path,
                                                             const std::string& cert_path) {
  auto key = load_key(key_path);
  if (!key) return key.status();
  crypto::EcPublicKey pub = key.value().public_key();
  std::vector<Bytes> chain;
  if (!cert_path.empty()) {
    auto c = load_chain(cert_path, pub);
    if (c) {
      chain = std::move(c.value());
    } else if (c.status().code() != Code::kNotFound) {
      return c.status(); // a missing chain is normal before enrolment; a bad one is not
    }
  }
  std::unique_ptr<crypto::MemoryKeystore> mem(new (std::nothrow)
                                                  crypto::MemoryKeystore(std::move(key.value())));
  if (!mem) return Status(Code::kNoMemory, Module::kPort);
  if (!chain.empty()) IMSDC_TRY(mem->set_chain(std::move(chain)));
  std::unique_ptr<PemKeystore> ks(new (std::nothrow) PemKeystore(std::move(mem), cert_path));
  if (!ks) return Status(Code::kNoMemory, Module::kPort);
  return ks;
}

Result<std::unique_ptr<PemKeystore>> PemKeystore::create(const std::string& dir,
                                                         crypto::EcPrivateKey key) {
  if (key.empty()) return Status(Code::kInvalidArgument, Module::kPort, "empty key");
  auto pem = crypto::private_key_to_pem(key);
  if (!pem) return pem.status();
  std::string path = join(dir, kKeyFile);
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == EEXIST)
      return Status(Code::kState, Module::kPort, "a device key already exists; not overwritten");
    return Status(Code::kIo, Module::kPort, "cannot create the device key file");
  }
  bool ok = true;
  std::size_t off = 0;
  const SecretBytes& text = pem.value();
  while (ok && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      off += static_cast<std::size_t>(n);
  }
  if (ok && ::fsync(fd) != 0) ok = false;
  if (::close(fd) != 0) ok = false;
  if (!ok) {
    ::unlink(path.c_str()); // never leave a truncated key behind
    return Status(Code::kIo, Module::kPort, "cannot write the device key file");
  }
  // Make the new directory entry durable too.
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  std::unique_ptr<crypto::MemoryKeystore> mem(new (std::nothrow)
                                                  crypto::MemoryKeystore(std::move(key)));
  if (!mem) return Status(Code::kNoMemory, Module::kPort);
  std::unique_ptr<PemKeystore> ks(new (std::nothrow)
                                      PemKeystore(std::move(mem), join(dir, kCertFile)));
  if (!ks) return Status(Code::kNoMemory, Module::kPort);
  return ks;
}

int PemKeystore::public_key_cb(void* ctx, std::uint8_t out_xy[64]) {
  auto* self = static_cast<PemKeystore*>(ctx);
  if (!self) return IMSDC_PORT_EINVAL;
  const imsdc_port_keystore* p = self->mem_->port();
  return p->public_key(p->ctx, out_xy);
}

int PemKeystore::sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]) {
  auto* self = static_cast<PemKeystore*>(ctx);
  if (!self) return IMSDC_PORT_EINVAL;
  const imsdc_port_keystore* p = self->mem_->port();
  return p->sign_digest(p->ctx, digest, out_rs);
}

int PemKeystore::chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                          std::size_t* out_len) {
  auto* self = static_cast<PemKeystore*>(ctx);
  if (!self) return IMSDC_PORT_EINVAL;
  const imsdc_port_keystore* p = self->mem_->port();
  return p->cert_chain(p->ctx, index, out, cap, out_len);
}

int PemKeystore::store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                          std::size_t count) {
  auto* self = static_cast<PemKeystore*>(ctx);
  if (!self || !ders || !lens || count == 0) return IMSDC_PORT_EINVAL;
  std::vector<Bytes> chain;
  std::string pem;
  for (std::size_t i = 0; i < count; ++i) {
    if (!ders[i] || lens[i] == 0) return IMSDC_PORT_EINVAL;
    ByteSpan der(ders[i], lens[i]);
    auto info = crypto::cert_info(der);
    if (!info) return IMSDC_PORT_EINVAL;
    // The contract lets the port refuse a leaf that does not certify the device key; a
    // PEM keystore can check cheaply, so it always does.
    if (i == 0 && !(info.value().public_key == self->mem_->key().public_key()))
      return IMSDC_PORT_EINVAL;
    chain.emplace_back(der.begin(), der.end());
    pem += crypto::cert_to_pem(der);
  }
  if (!write_file_atomic(self->cert_path_, ByteSpan(pem), 0644).is_ok()) return IMSDC_PORT_EIO;
  if (!self->mem_->set_chain(std::move(chain)).is_ok()) return IMSDC_PORT_EFAIL;
  return IMSDC_PORT_OK;
}

} // namespace imsdc::posix
