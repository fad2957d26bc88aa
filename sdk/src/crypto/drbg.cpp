// The SDK's one process-wide random generator: an mbedTLS CTR-DRBG (AES-256) seeded from the
// port's entropy source.
//
// The DRBG takes its entropy directly from imsdc_port_entropy() as its f_entropy callback
// rather than through an mbedtls_entropy_context: the latter also registers mbedTLS's own
// platform sources (the OS random device, timers), which would bypass the porting
// contract, fail on targets without an OS, and make the fake port's deterministic test
// entropy non-deterministic. The port contract already requires cryptographic quality.
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform_util.h>

#include <atomic>

#include "crypto/internal.h"
#include "imsdc/port/os.h"
#include "port/port.h"

namespace imsdc::crypto {
namespace {

struct Drbg {
  mbedtls_ctr_drbg_context ctx;
  bool seeded = false;
};

// The only mutable global of the crypto module (see ARCHITECTURE.md): one DRBG per
// process, and the port mutex that serialises it.
Drbg g_drbg;
std::atomic<imsdc_port_mutex*> g_mutex{nullptr};

// f_entropy for mbedtls_ctr_drbg_seed/reseed: all of len bytes from the port or failure.
int entropy_cb(void*, unsigned char* out, std::size_t len) {
  if (!port::entropy(out, len).is_ok()) return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
  return 0;
}

// Creates the mutex exactly once without needing a mutex for that: the loser of a race
// destroys its own.
imsdc_port_mutex* mutex() {
  imsdc_port_mutex* m = g_mutex.load(std::memory_order_acquire);
  if (m) return m;
  imsdc_port_mutex* fresh = imsdc_port_mutex_create();
  if (!fresh) return nullptr;
  imsdc_port_mutex* expected = nullptr;
  if (!g_mutex.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
    imsdc_port_mutex_destroy(fresh);
    return expected;
  }
  return fresh;
}

// Personalisation string: domain separation from any other DRBG seeded by the same source.
constexpr unsigned char kPersonalization[] = "imsdc ctr-drbg v1";

// Called with the mutex held. A failed seed leaves the DRBG unseeded, so the next call
// retries instead of running on a half-initialised state.
Status ensure_seeded_locked() {
  if (g_drbg.seeded) return Status::ok();
  mbedtls_ctr_drbg_init(&g_drbg.ctx);
  int rc = mbedtls_ctr_drbg_seed(&g_drbg.ctx, entropy_cb, nullptr, kPersonalization,
                                 sizeof kPersonalization - 1);
  if (rc != 0) {
    mbedtls_ctr_drbg_free(&g_drbg.ctx);
    return internal::err(Code::kEntropy, "DRBG seeding failed: entropy port");
  }
  g_drbg.seeded = true;
  return Status::ok();
}

} // namespace

Status random_bytes(std::uint8_t* out, std::size_t len) {
  if (len == 0) return Status::ok();
  if (!out) return internal::err(Code::kInvalidArgument, "random_bytes: null output");
  imsdc_port_mutex* m = mutex();
  if (!m) return internal::err(Code::kEntropy, "DRBG: port mutex unavailable");
  std::uint8_t* const start = out;
  const std::size_t total = len;
  imsdc_port_mutex_lock(m);
  Status st = ensure_seeded_locked();
  // CTR-DRBG serves at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes per call.
  while (st.is_ok() && len > 0) {
    std::size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
    if (mbedtls_ctr_drbg_random(&g_drbg.ctx, out, n) != 0) {
      // A failed reseed means the entropy port broke; never hand out what is in `out`.
      st = internal::err(Code::kEntropy, "DRBG reseed failed: entropy port");
      break;
    }
    out += n;
    len -= n;
  }
  imsdc_port_mutex_unlock(m);
  if (!st.is_ok()) mbedtls_platform_zeroize(start, total);
  return st;
}

} // namespace imsdc::crypto

int imsdc_crypto_rng(void*, unsigned char* out, std::size_t len) {
  return imsdc::crypto::random_bytes(out, len).is_ok() ? 0
                                                       : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}
