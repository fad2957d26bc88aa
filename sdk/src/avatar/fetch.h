// Requesting the protected avatar representation (PROTOCOL_PROFILE.md section 7) over the
// HTTP client interface: POST <url> with the attestation as application/jwt; a 200
// application/jose answer streams through the JweDecryptor into the storage sink, any other
// answer is read (bounded) as the BAR's {"error":"<code>"} body. Used for the direct HTTPS
// path to the BAR (mutual TLS with the device certificate, a documented deviation from
// TR 33.790); the relay over a data channel feeds the same decryptor.
#ifndef IMSDC_SRC_AVATAR_FETCH_H
#define IMSDC_SRC_AVATAR_FETCH_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "avatar/ephemeral.h"
#include "avatar/jwe_decrypt.h"
#include "imsdc/crypto.h"
#include "imsdc/port/http.h"
#include "imsdc/port/storage.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

// Largest error body read from a BAR; the rest is ignored.
constexpr std::size_t kBarErrorBodyMax = 1024;

// The Status for a BAR refusal (section 7 codes): 401 and 403 are kAuthRejected (exit 5), any
// other status kRejected (exit 8). The detail names the BAR's code when the body carries a
// known one ("BAR: not_owner"), else the HTTP class. Pure; never fails.
Status bar_refusal(int http_status, std::string_view body);

// The Status for an imsdc_http_events on_done result other than 0: kTls (-100 - TLS),
// kTooLarge (IMSDC_PORT_ENOSPC), kNetwork otherwise.
Status http_done_status(int result);

// For the receiving-ue case: checks that `attestation` (a compact JWS made by the peer UE)
// says rendering "receiving-ue" and names `own` as its epk, and returns its jti. The
// signature is the BAR's to check. Errors: kMalformed (JWS, claims), kBinding (rendering,
// epk names another key).
Result<std::string> receiving_attestation_jti(std::string_view attestation,
                                              const crypto::EcPublicKey& own);

struct FetchOptions {
  std::string url;                               // https://bar:port/avatar/representation
  std::string attestation;                       // compact JWS
  std::string jti;                               // the attestation's jti (apv binding)
  std::string ca_file;                           // server trust
  std::string client_cert_file, client_key_file; // mutual TLS (both or neither)
  std::uint64_t max_plaintext = static_cast<std::uint64_t>(-1);
  std::uint32_t timeout_ms = 30000;
  std::int64_t now_s = -1; // wall clock, for the ephemeral key's expiry
  std::string blob_name;
  // Called from poll() as body bytes arrive; total is the Content-Length or -1.
  void (*on_progress)(void* user, std::uint64_t received, std::int64_t total) = nullptr;
  void* progress_user = nullptr;
};

// One exchange. Usage: start(), then poll() until done(), then result(). The ephemeral key
// is consumed by the JWE's header or destroyed on any failure, and the blob is committed
// only when the GCM tag verifies: nothing is stored for a refusal, a transport failure or a
// bad JWE. `http`, `key` and `storage` must outlive this object; do not destroy it from
// inside the client's callbacks.
class RepresentationFetch {
public:
  RepresentationFetch(const imsdc_http_client& http, EphemeralKey& key,
                      const imsdc_port_storage& storage);
  ~RepresentationFetch();
  RepresentationFetch(const RepresentationFetch&) = delete;
  RepresentationFetch& operator=(const RepresentationFetch&) = delete;

  // Errors: kState (already started), kInvalidArgument (empty url/attestation/jti, body
  // above the client's limit), kPortFailure (client version or methods), kNetwork (the
  // client refused the request).
  Status start(FetchOptions options);
  // Services the client for at most timeout_ms. Errors: kState (not started).
  Status poll(std::uint32_t timeout_ms);
  bool done() const { return done_; }
  // The decrypted representation, or why not: bar_refusal(), http_done_status(), the
  // JweDecryptor's classes, kMalformed (200 that is not application/jose).
  Result<JweResult> result() const;
  int http_status() const { return http_status_; }

private:
  static void on_response(void* user, int status, const char* type, std::int64_t length);
  static int on_body(void* user, const std::uint8_t* data, std::size_t len);
  static void on_done(void* user, int result);
  void fail(Status s);

  const imsdc_http_client& http_;
  EphemeralKey& key_;
  const imsdc_port_storage& storage_;
  FetchOptions options_;
  std::optional<JweDecryptor> decryptor_;
  std::string error_body_;
  std::int64_t total_ = -1;
  std::uint64_t received_ = 0;
  int http_status_ = 0;
  bool started_ = false;
  bool done_ = false;
  Status status_;
  JweResult result_;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_FETCH_H
