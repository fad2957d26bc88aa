// imsdc POSIX port (Linux, Android): the link-time primitives (pthread mutex, clock_gettime
// clocks, getrandom entropy, stderr log) plus the service ports a POSIX device needs: UDP
// over BSD sockets, storage in a directory, and a device keystore kept as PEM files.
//
// Link this library (imsdc::port_posix) instead of another OS port; it defines the
// imsdc_port_* functions of platform/include/imsdc/port/{os,entropy,log}.h.
#ifndef IMSDC_PORT_POSIX_H
#define IMSDC_PORT_POSIX_H

#include <cstdint>
#include <memory>
#include <string>

#include "imsdc/crypto.h"
#include "imsdc/port/keystore.h"
#include "imsdc/port/net.h"
#include "imsdc/port/storage.h"
#include "imsdc/status.h"

namespace imsdc::posix {

// Makes imsdc_port_clock_wall_s() return `s` instead of the system's real-time clock (the
// CLI's --now option, reproducible demos). A negative value removes the override. Thread-safe.
void set_wall_clock_override(std::int64_t s);

// Non-blocking UDP over BSD sockets, IPv4 and IPv6 (IPv6 sockets are IPV6_V6ONLY, so one
// socket serves exactly one family). local_addresses uses getifaddrs; wait uses poll(2).
// The struct is static and stateless: it is valid for the life of the process.
const imsdc_port_net* net();

// Replaces `path` atomically: writes a temporary in the same directory (mkstemp), sets
// `mode`, fsyncs it, renames it over `path` and fsyncs the directory. On failure the
// temporary is removed and `path` is untouched. Errors: kIo.
Status write_file_atomic(const std::string& path, ByteSpan data, unsigned mode);
// Reads a whole file of at most `max` bytes into a buffer that is zeroized when released
// (key PEM text). Errors: kNotFound, kTooLarge, kIo.
Result<SecretBytes> read_file_secret(const std::string& path, std::size_t max);

// Storage rooted at a directory:
//   DIR/NAME         committed blobs (NAME is [A-Za-z0-9_-][A-Za-z0-9._-]{0,127}, not "kv")
//   DIR/.NAME.tmp.X  a blob being written (mkstemp, mode 0600); renamed on commit
//   DIR/kv/KEY       key-value entries, replaced atomically through DIR/.kv-tmp/
// Commit is fsync(file) + rename + fsync(directory), so after a crash either the old or the
// new content is visible, never a mix. open() deletes temporaries left by a crash, so one
// directory must be used by one Storage at a time.
class Storage {
public:
  // Creates DIR (mode 0700) and DIR/kv when missing. Errors: kInvalidArgument (empty dir),
  // kIo (cannot create or open the directory), kNoMemory.
  static Result<std::unique_ptr<Storage>> open(const std::string& dir);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // The port struct; valid while this object lives. Blobs still open when the Storage is
  // destroyed must have been committed or aborted before.
  const imsdc_port_storage* port() const { return &port_; }
  const std::string& dir() const { return dir_; }

private:
  explicit Storage(std::string dir);
  std::string dir_;
  imsdc_port_storage port_{};
};

// The device keystore as PEM files:
//   DIR/device-key.pem   the P-256 private key (SEC1 or PKCS#8), mode 0600
//   DIR/device-cert.pem  the certificate chain, leaf first (optional)
// The key is a software key held in a crypto::MemoryKeystore; use ports/pkcs11 when the key
// must live in hardware. store_chain() rewrites the certificate file atomically (temp file +
// rename, mode 0644) after checking that the leaf certifies the device key.
class PemKeystore {
public:
  // Loads DIR/device-key.pem and, if present, DIR/device-cert.pem. Errors: kNotFound (no
  // key file), kIo, kMalformed / kUnsupported (key or certificates), kBinding (the leaf
  // certificate is not for the key).
  static Result<std::unique_ptr<PemKeystore>> load(const std::string& dir);
  // Same with explicit paths. cert_path may be empty: no chain, and store_chain is NULL
  // (read-only keystore), since there is no file to store it in.
  static Result<std::unique_ptr<PemKeystore>> load_files(const std::string& key_path,
                                                         const std::string& cert_path);
  // Writes `key` to DIR/device-key.pem (created with O_CREAT|O_EXCL, mode 0600, fsync) and
  // returns the keystore over it. Never overwrites an existing key. Errors: kState (a key
  // already exists), kIo, kInternal (PEM encoding).
  static Result<std::unique_ptr<PemKeystore>> create(const std::string& dir,
                                                     crypto::EcPrivateKey key);
  ~PemKeystore();
  PemKeystore(const PemKeystore&) = delete;
  PemKeystore& operator=(const PemKeystore&) = delete;

  // The port struct; valid while this object lives.
  const imsdc_port_keystore* port() const { return &port_; }
  const std::string& cert_path() const { return cert_path_; }

private:
  PemKeystore(std::unique_ptr<crypto::MemoryKeystore> mem, std::string cert_path);
  static int public_key_cb(void* ctx, std::uint8_t out_xy[64]);
  static int sign_cb(void* ctx, const std::uint8_t digest[32], std::uint8_t out_rs[64]);
  static int chain_cb(void* ctx, std::size_t index, std::uint8_t* out, std::size_t cap,
                      std::size_t* out_len);
  static int store_cb(void* ctx, const std::uint8_t* const* ders, const std::size_t* lens,
                      std::size_t count);

  std::unique_ptr<crypto::MemoryKeystore> mem_;
  std::string cert_path_;
  imsdc_port_keystore port_{};
};

} // namespace imsdc::posix

#endif // IMSDC_PORT_POSIX_H
