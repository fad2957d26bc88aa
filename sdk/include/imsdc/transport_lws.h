// Message transport (WSS) and HTTPS client on libwebsockets, built on mbedTLS.
//
// These are the SDK's implementations of the imsdc_msg_transport and imsdc_http_client
// contracts (platform/include/imsdc/port/transport.h and http.h). They live in the separate
// library imsdc::transport_lws so that bare-metal builds and tests, which plug in their own
// transports, never link libwebsockets. This header exposes no libwebsockets or mbedTLS
// type: both classes keep their state behind a pointer to an incomplete type.
//
// Threading: an object and the port struct it returns are used from one thread, the one
// that calls poll(). libwebsockets is serviced from poll() only; no thread is started.
// Events (on_open, on_message, on_close, on_response, on_body, on_done) are delivered from
// inside poll(). A callback may call send(), close() or connect()/request() again, but MUST
// NOT destroy the object.
#ifndef IMSDC_TRANSPORT_LWS_H
#define IMSDC_TRANSPORT_LWS_H

#include <memory>

#include "imsdc/port/http.h"
#include "imsdc/port/transport.h"
#include "imsdc/status.h"

namespace imsdc::transport {

// A WebSocket-over-TLS client carrying one SIP message per WebSocket message (RFC 7118).
//
// connect() copies what it needs from the options, so they need not outlive the call. The
// open succeeds only when the TLS peer is trusted by `ca_file`, its certificate names the
// URL's host as a dNSName (mbedTLS 2.28 checks no IP addresses), the SPKI pin matches when
// one is set, the upgrade is answered with 101 and the server echoes `subprotocol`.
// Failures are reported once through on_close:
//   NETWORK  connect refused or unreachable, connect timeout, reset, keepalive (pong)
//            timeout, received message larger than IMSDC_MAX_SIP_MESSAGE (detail says so)
//   TLS      untrusted chain, host name mismatch, SPKI pin mismatch, handshake failure
//   REFUSED  upgrade answered with a non-101 status (http_status set, e.g. 403 for an Origin
//            the server does not accept), or subprotocol not echoed (http_status 101)
//   NORMAL   orderly close by either side
// A null ca_file leaves the transport without trust anchors, so every TLS open fails:
// verification is never skipped. Keepalive: with ping_interval_ms set, a ping goes out each
// interval and a missing pong by the next one closes with NETWORK.
// connect() itself returns IMSDC_PORT_EINVAL for a malformed URL, a missing subprotocol or
// ws:// without allow_plain, IMSDC_PORT_EUNSUPP for another scheme, IMSDC_PORT_ENOMEM when
// the libwebsockets context cannot be created, and IMSDC_PORT_EFAIL while a connection is
// still open or closing. send() returns len, 0 when the send queue is full, IMSDC_PORT_ENOSPC
// for a message above IMSDC_MAX_SIP_MESSAGE and IMSDC_PORT_ECLOSED when not open.
class WssTransport {
public:
  // Creates an idle transport. Errors: kNoMemory.
  static Result<std::unique_ptr<WssTransport>> create();
  ~WssTransport();
  WssTransport(const WssTransport&) = delete;
  WssTransport& operator=(const WssTransport&) = delete;

  // The contract struct, valid for the life of this object.
  const imsdc_msg_transport* port() const;

  struct Impl;

private:
  explicit WssTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An HTTPS/1.1 client, one exchange at a time, with a streamed response body.
//
// request() copies what it needs from the request (including the body), so it need not
// outlive the call. The server is verified like WssTransport's (CA bundle, dNSName host
// check); a client certificate and key (PEM files) are presented when set (mutual TLS).
// on_done results:
//   0                                   complete body received (any HTTP status: the status
//                                       came with on_response)
//   IMSDC_PORT_ENOSPC                   body (announced or received) above max_body
//   negative value returned by on_body  the application aborted
//   -100 - IMSDC_TRANSPORT_CLOSED_TLS   untrusted server, host name, handshake failure
//   -100 - IMSDC_TRANSPORT_CLOSED_NETWORK  connect failed, reset, or timeout_ms passed
// request() returns IMSDC_PORT_EINVAL for a malformed request (URL, method, http:// without
// allow_plain, a certificate without its key), IMSDC_PORT_EUNSUPP for another scheme,
// IMSDC_PORT_ENOMEM when the context cannot be created and IMSDC_PORT_EFAIL while an
// exchange is in progress. cancel() ends an exchange without a further event.
class HttpsClient {
public:
  // Creates an idle client. Errors: kNoMemory.
  static Result<std::unique_ptr<HttpsClient>> create();
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // The contract struct, valid for the life of this object.
  const imsdc_http_client* port() const;

  struct Impl;

private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace imsdc::transport

#endif // IMSDC_TRANSPORT_LWS_H
