// Pieces shared by the WSS transport and the HTTPS client: libwebsockets context setup,
// service with a bounded wait, log routing, error classification and the SPKI pin check.
// Only sdk/src/transport includes libwebsockets; nothing here leaks into public headers.
#ifndef IMSDC_SRC_TRANSPORT_LWS_COMMON_H
#define IMSDC_SRC_TRANSPORT_LWS_COMMON_H

#include <libwebsockets.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "imsdc/port/transport.h"
#include "imsdc/status.h"

namespace imsdc::transport {

// Routes libwebsockets' own log lines into the SDK log (module "lws") at a level that keeps
// tests quiet; errors and warnings only. Idempotent; lws' log level is process-wide.
void route_lws_log();

// The Host header value: lws sends ci.host verbatim, and RFC 7230 §5.4 wants the port when it
// is not the scheme's default (lws strips it again for SNI and the certificate check).
std::string host_header(const std::string& host, std::uint16_t port, bool tls);

// True for a non-empty header value of at most `max` characters without control
// characters (no CR/LF header injection through configuration).
bool is_header_value(const char* v, std::size_t max);

// What the client context needs; every string may be null.
struct ClientContextOptions {
  const lws_protocols* protocols = nullptr;
  void* user = nullptr;
  const char* ca_file = nullptr;
  const char* client_cert_file = nullptr;
  const char* client_key_file = nullptr;
  std::uint32_t timeout_ms = 0; // lws' own per-state timeouts; ours are stricter
};

// Creates a client-only lws context (no listening vhost, TLS on mbedTLS initialised).
// Returns null on failure (out of memory, unreadable CA or key file).
lws_context* create_client_context(const ClientContextOptions& opts);

// Services `ctx` once, waiting at most timeout_ms for I/O. lws 4.1 ignores the timeout given
// to lws_service() and sleeps until its next internal timer (up to 23 days), so a wake-up
// timer on `wake` bounds the wait. `wake` must stay alive and untouched until the context is
// destroyed or cancel_wake() is called.
int service_for(lws_context* ctx, lws_sorted_usec_list_t* wake, std::uint32_t timeout_ms);
void cancel_wake(lws_sorted_usec_list_t* wake);

// Maps the text lws hands to LWS_CALLBACK_CLIENT_CONNECTION_ERROR onto a close reason.
// lws 4.1.6 gives no error code there, only text: with mbedTLS, TLS failures read
// "mbedtls connect ..." (handshake), "server's cert didn't look good ..." (verification) or
// "no peer cert"; "HS: ..." is an HTTP/upgrade-level rejection; the rest is network.
imsdc_transport_close_reason classify_connect_error(const char* lws_text);

// Computes SHA-256 over the DER SubjectPublicKeyInfo of the TLS peer's certificate.
// lws 4.1.6 built on mbedTLS exposes neither the SSL object nor the raw certificate, only
// lws_tls_peer_cert_info(LWS_TLS_CERT_INFO_OPAQUE_PUBLIC_KEY): the key's numbers as hex
// strings (RSA: N, E; EC: X, Y, Z). The SPKI is rebuilt from them with mbedTLS (the EC
// curve is the one of the supported named curves the point lies on) and written with
// mbedtls_pk_write_pubkey_der, so the digest equals `openssl pkey -pubin -outform DER |
// sha256`. Errors: kTls (no peer certificate), kUnsupported (key type), kInternal.
Status peer_spki_sha256(lws* wsi, std::uint8_t out[32]);

} // namespace imsdc::transport

#endif // IMSDC_SRC_TRANSPORT_LWS_COMMON_H
