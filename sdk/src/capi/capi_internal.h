// The C API's handle types and shared helpers (sdk/include/imsdc/imsdc.h). The C API is a
// separate library (imsdc_c): it joins the core with the POSIX port and the libwebsockets
// transport, which the core itself never depends on.
#ifndef IMSDC_SRC_CAPI_CAPI_INTERNAL_H
#define IMSDC_SRC_CAPI_CAPI_INTERNAL_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/crypto.h"
#include "imsdc/imsdc.h"
#include "imsdc/port/net.h"
#include "imsdc/port_posix.h"
#include "imsdc/status.h"

namespace imsdc::capi {

inline int to_c(const Status& s) {
  return static_cast<int>(s.code());
}
inline int to_c(Code c) {
  return static_cast<int>(c);
}

// Writes text (NUL-terminated) into the caller's buffer per the header's output rule.
int copy_out(std::string_view text, char* out, std::size_t cap, std::size_t* out_len);

// The SDK's DRBG as the random source of the SIP and SDP modules.
Status fill_random(void* ctx, std::uint8_t* out, std::size_t length);

// What imsdc_client_poll needs from the objects it drives.
class Polled {
public:
  virtual ~Polled() = default;
  // Runs everything due at now_ms (no waiting).
  virtual void service(std::uint64_t now_ms) = 0;
  // The next time service() must run (kNoDeadline-like max when none).
  virtual std::uint64_t next_deadline() const = 0;
  // UDP sockets to wait on (data-channel peers); none for others.
  virtual void sockets(std::vector<imsdc_port_udp*>* out) const { (void)out; }
  // Services a network transport for up to wait_ms (registrations); false when there is none.
  virtual bool wait_transport(std::uint32_t wait_ms) {
    (void)wait_ms;
    return false;
  }
};

} // namespace imsdc::capi

struct imsdc_client {
  std::unique_ptr<imsdc::posix::PemKeystore> keystore;
  std::unique_ptr<imsdc::posix::Storage> storage; // null without state_dir
  std::string ca_file;
  std::string key_file; // PEM files of the keystore (mutual TLS of the HTTPS client)
  std::string cert_file;
  std::vector<imsdc::capi::Polled*> polled; // registrations and peers, not owned
  void attach(imsdc::capi::Polled* p) { polled.push_back(p); }
  void detach(imsdc::capi::Polled* p);
};

#endif // IMSDC_SRC_CAPI_CAPI_INTERNAL_H
