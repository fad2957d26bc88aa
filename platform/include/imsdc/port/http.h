/* HTTP client interface: one request at a time per client, streamed response body.
 *
 * Used for avatar representations (BAR, direct path), x5u certificates and jCards.
 * sdk/src/transport implements it on libwebsockets (HTTPS); tests plug in in-memory ones.
 * Bodies are delivered in pieces as they arrive so large payloads are never held whole. */
#ifndef IMSDC_PORT_HTTP_H
#define IMSDC_PORT_HTTP_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMSDC_HTTP_CLIENT_VERSION 1

typedef struct imsdc_http_request {
  const char* method;       /* "GET", "POST" */
  const char* url;          /* https://host:port/path (http:// only if allow_plain) */
  const char* content_type; /* request body type or NULL */
  const uint8_t* body;
  size_t body_len;
  const char* ca_file;          /* server trust (PEM bundle) */
  const char* client_cert_file; /* mutual TLS: PEM certificate chain, or NULL */
  const char* client_key_file;  /* mutual TLS: PEM key, or NULL (keystore-backed ports may
                                   use their own key instead) */
  uint64_t max_body;            /* the response fails with IMSDC_PORT_ENOSPC beyond this */
  uint32_t timeout_ms;          /* whole exchange */
  int allow_plain;
} imsdc_http_request;

typedef struct imsdc_http_events {
  void* user;
  /* Status line and selected headers arrived. content_length < 0 when unknown. */
  void (*on_response)(void* user, int status, const char* content_type, int64_t content_length);
  /* A piece of the body. Return 0 to continue, <0 to abort the exchange. */
  int (*on_body)(void* user, const uint8_t* data, size_t len);
  /* The exchange ended: result 0 = complete body, else a negative port error or one of
   * the transport close reasons (as -100 - reason). No events follow. */
  void (*on_done)(void* user, int result);
} imsdc_http_events;

typedef struct imsdc_http_client {
  int version; /* IMSDC_HTTP_CLIENT_VERSION */
  void* ctx;
  int (*request)(void* ctx, const imsdc_http_request* req, const imsdc_http_events* events);
  void (*cancel)(void* ctx);
  int (*poll)(void* ctx, uint32_t timeout_ms);
} imsdc_http_client;

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_HTTP_H */
