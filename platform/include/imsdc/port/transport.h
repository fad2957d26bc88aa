/* Message transport interface (coreMQTT transport interface style).
 *
 * The SIP stack sends and receives whole messages over it: one SIP message per WebSocket
 * message. sdk/src/transport implements it on libwebsockets (WSS); tests and bare-metal
 * builds plug in in-memory transports. All methods are non-blocking and are called from the
 * SDK's poll thread only; events are delivered from poll(). */
#ifndef IMSDC_PORT_TRANSPORT_H
#define IMSDC_PORT_TRANSPORT_H

#include "imsdc/port/port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMSDC_MSG_TRANSPORT_VERSION 1

/* Why a transport closed or failed to open (drives the SDK's error classes). */
enum imsdc_transport_close_reason {
  IMSDC_TRANSPORT_CLOSED_NORMAL = 0,  /* orderly close, either side */
  IMSDC_TRANSPORT_CLOSED_NETWORK = 1, /* connect failed, reset, timeout */
  IMSDC_TRANSPORT_CLOSED_TLS = 2,     /* certificate not trusted, host name, pin, handshake */
  IMSDC_TRANSPORT_CLOSED_REFUSED = 3, /* upgrade refused (HTTP status), subprotocol missing */
};

typedef struct imsdc_msg_transport_events {
  void* user;
  /* The connection is open and the subprotocol was agreed. */
  void (*on_open)(void* user);
  /* One complete message arrived. `data` is valid only during the call. */
  void (*on_message)(void* user, const uint8_t* data, size_t len);
  /* Closed or failed to open; no more events follow until the next connect(). `detail` is
   * a static or transport-owned string valid during the call (HTTP status, TLS reason). */
  void (*on_close)(void* user, int reason, int http_status, const char* detail);
} imsdc_msg_transport_events;

typedef struct imsdc_msg_transport_options {
  const char* url;                /* wss://host:port/path (ws:// only if allow_plain) */
  const char* origin;             /* Origin header value, or NULL */
  const char* subprotocol;        /* e.g. "sip"; the server MUST echo it or the open fails */
  const char* ca_file;            /* PEM bundle for server verification (NULL: port default) */
  const uint8_t* spki_sha256_pin; /* optional 32-byte SPKI SHA-256 pin, NULL if none */
  uint32_t connect_timeout_ms;
  uint32_t ping_interval_ms; /* 0: no WebSocket pings */
  int allow_plain;           /* test option: permits ws:// */
} imsdc_msg_transport_options;

typedef struct imsdc_msg_transport {
  int version; /* IMSDC_MSG_TRANSPORT_VERSION */
  void* ctx;

  /* Starts connecting; completion is reported through events. Returns 0 or <0 at once. */
  int (*connect)(void* ctx, const imsdc_msg_transport_options* opts,
                 const imsdc_msg_transport_events* events);
  /* Queues one whole message. Returns len, 0 when the queue is full (try after poll), <0. */
  int (*send)(void* ctx, const uint8_t* data, size_t len);
  /* Starts an orderly close; on_close follows from poll(). */
  void (*close)(void* ctx);
  /* Services I/O and timers for up to timeout_ms; delivers events. Returns 0 or <0. */
  int (*poll)(void* ctx, uint32_t timeout_ms);
} imsdc_msg_transport;

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_PORT_TRANSPORT_H */
