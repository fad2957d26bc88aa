/* imsdc C API: a thin C11 layer over the C++ SDK for C firmware and Android NDK builds.
 *
 * Objects (opaque handles, each with a _create/_destroy pair):
 *   imsdc_client        one UE: device keystore (PEM files), trust anchors, state directory
 *   imsdc_registration  SIP registration over secure WebSocket, and the calls over it
 *   imsdc_dc_peer       one IMS data-channel endpoint (SDP offer/answer, ICE, DTLS, SCTP)
 *   imsdc_avatar_fetch  one protected avatar representation: ephemeral key, attestation,
 *                       HTTPS request to the BAR (or JWE pieces fed from a relay), decryption
 * and stateless functions: imsdc_avatar_attest, imsdc_jws_verify, imsdc_identity_verify.
 *
 * Execution model: nothing runs by itself. The application calls imsdc_client_poll() from
 * its loop; it services the WebSocket, the UDP sockets and every timer of the client's
 * registrations and data-channel peers, and delivers all callbacks from inside that call.
 * Threading: the functions are NOT thread-safe. Use a client and everything created from it
 * from one thread. usrsctp is process-wide, so all data-channel peers of a process must be
 * polled from the same thread. imsdc_status_str() and imsdc_version() may be called anywhere.
 * Callbacks may call the send/answer/hang-up functions of the object that called them, but
 * MUST NOT destroy any imsdc object; destroy after imsdc_client_poll() returns.
 *
 * Errors: every fallible function returns an int, IMSDC_OK (0) or one of the imsdc_status
 * codes below (the SDK's stable imsdc::Code values). No function throws or aborts on bad
 * input: NULL handles and NULL required pointers give IMSDC_E_INVALID_ARGUMENT.
 *
 * Output strings: the caller passes a buffer (out, cap) and receives the length in *out_len
 * (without the terminating NUL, which is always written when cap > 0). When cap is too
 * small the function returns IMSDC_E_TOO_LARGE and *out_len is the size needed (+1 for NUL
 * is the caller's to add). Strings inside event structs are valid only during the callback.
 *
 * Secrets (passwords, tokens) are copied into memory that is zeroized when released; the SDK
 * never logs them. The caller's own copies remain the caller's to wipe. */
#ifndef IMSDC_IMSDC_H
#define IMSDC_IMSDC_H

#include <stddef.h>
#include <stdint.h>

#include "imsdc/alloc.h"
#include "imsdc/port/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- Status ------------------------------------------------------------------------------ */

/* The SDK's stable codes (imsdc::Code in imsdc/status.h); numbers never change meaning. */
typedef enum imsdc_status { /* NOLINT(readability-identifier-naming) */
                            IMSDC_OK = 0,
                            IMSDC_E_INVALID_ARGUMENT = 1,
                            IMSDC_E_MALFORMED = 2,
                            IMSDC_E_TOO_LARGE = 3,
                            IMSDC_E_BAD_KEY = 4,
                            IMSDC_E_BINDING = 5,
                            IMSDC_E_AUTH_FAILED = 6,
                            IMSDC_E_EXPIRED = 7,
                            IMSDC_E_KEY_USED = 8,
                            IMSDC_E_IO = 9,
                            IMSDC_E_NOT_FOUND = 10,
                            IMSDC_E_UNSUPPORTED = 11,
                            IMSDC_E_BAD_SIGNATURE = 12,
                            IMSDC_E_UNTRUSTED = 13,
                            IMSDC_E_NO_MEMORY = 14,
                            IMSDC_E_WOULD_BLOCK = 15,
                            IMSDC_E_CLOSED = 16,
                            IMSDC_E_TIMEOUT = 17,
                            IMSDC_E_INTERNAL = 18,
                            IMSDC_E_REJECTED = 19,
                            IMSDC_E_AUTH_REJECTED = 20,
                            IMSDC_E_TLS = 21,
                            IMSDC_E_NETWORK = 22,
                            IMSDC_E_STATE = 23,
                            IMSDC_E_PORT_FAILURE = 24,
                            IMSDC_E_ENTROPY = 25
} imsdc_status;

/* Stable short name of a status ("ok", "invalid_argument", "auth_rejected", ...); "unknown"
 * for a value that is not a code. Never NULL; static storage. Thread-safe. */
const char* imsdc_status_str(int status);

/* The SDK version ("0.1.0"); static storage. */
const char* imsdc_version(void);

/* --- Hooks (set once, before any other call; not thread-safe) ---------------------------- */

/* The allocator hook is imsdc_set_allocator() of imsdc/alloc.h (included above): it feeds
 * cJSON and, where the mbedTLS build allows it, mbedTLS. */

/* Receives every log line the SDK writes at or below its level, already redacted (no
 * secrets), without a trailing newline. `module` is a short static name ("sip", "dc").
 * Called from whichever imsdc call logs (the polling thread); MUST NOT call back into imsdc
 * and MUST NOT block. */
typedef void (*imsdc_log_fn)(void* user, int level, const char* module, const char* line);

/* Installs the log hook (NULL restores the port's sink, stderr on POSIX) and the level
 * (IMSDC_LOG_ERROR .. IMSDC_LOG_DEBUG of imsdc/port/log.h; other values are clamped). */
void imsdc_set_log_hook(imsdc_log_fn fn, void* user, int level);

/* --- Client ------------------------------------------------------------------------------ */

typedef struct imsdc_client imsdc_client; /* NOLINT(readability-identifier-naming) */

typedef struct imsdc_client_config { /* NOLINT(readability-identifier-naming) */
  /* Device keystore: either a directory holding device-key.pem (P-256, SEC1 or PKCS#8) and
   * optionally device-cert.pem (chain, leaf first), or the two files named explicitly. */
  const char* keystore_dir;
  const char* key_file;
  const char* cert_file;
  /* PEM bundle that authenticates WSS and HTTPS servers. NULL: every TLS open fails
   * (verification is never skipped). */
  const char* ca_file;
  /* Directory for persistent state (the +sip.instance UUID, downloaded avatars); created
   * with mode 0700 when missing. NULL: nothing persists (a new instance UUID per
   * registration; avatar downloads are refused with IMSDC_E_STATE). */
  const char* state_dir;
} imsdc_client_config;

/* Creates a client. Errors: IMSDC_E_INVALID_ARGUMENT (NULL pointer, no keystore named or
 * both forms given), IMSDC_E_NOT_FOUND (no key file), IMSDC_E_MALFORMED / IMSDC_E_UNSUPPORTED
 * (key or certificate unreadable, not P-256), IMSDC_E_BINDING (certificate not for the key),
 * IMSDC_E_IO (state directory), IMSDC_E_NO_MEMORY. *out is set only on success. */
int imsdc_client_create(const imsdc_client_config* config, imsdc_client** out);

/* Destroys the client. Registrations, peers and fetches created from it must be destroyed
 * first (they hold pointers into it). NULL is ignored. */
void imsdc_client_destroy(imsdc_client* client);

/* Runs everything that is due: WebSocket I/O, UDP datagrams, ICE/DTLS/SCTP timers,
 * registration refreshes, SIP transactions. Waits at most timeout_ms for network input
 * (0: does not wait). Callbacks arrive from inside this call. Errors:
 * IMSDC_E_INVALID_ARGUMENT. Failures of the objects themselves arrive through their
 * callbacks, never as the return value. */
int imsdc_client_poll(imsdc_client* client, uint32_t timeout_ms);

/* The RFC 8122 SHA-256 fingerprint of the device certificate ("AB:CD:..."). Errors:
 * IMSDC_E_NOT_FOUND (no certificate), IMSDC_E_TOO_LARGE (cap). */
int imsdc_client_fingerprint(const imsdc_client* client, char* out, size_t cap, size_t* out_len);

/* --- Registration and calls (PROTOCOL_PROFILE.md sections 1 and 2) ----------------------- */

typedef struct imsdc_registration imsdc_registration; /* NOLINT(readability-identifier-naming) */

/* Supplies a bearer token: writes it to out (at most cap bytes), sets *out_len, returns 0.
 * fresh != 0 when the previous token was rejected (error="invalid_token"): do not return a
 * cached one. A non-zero return (an imsdc_status) ends the registration with that error. */
typedef int (*imsdc_token_fn)(void* user, int fresh, char* out, size_t cap, size_t* out_len);

typedef struct imsdc_registration_config { /* NOLINT(readability-identifier-naming) */
  const char* server_url; /* wss://host:port[/path] (ws:// only with allow_plain) */
  const char* origin;     /* Origin header of the WebSocket upgrade, e.g. https://wwsf.example */
  const char* impu;       /* the AoR, sip:user@domain (a third-party ID for enterprise use) */
  const char* impi;       /* digest username; NULL: the IMPU without "sip:" */
  /* Exactly one credential: a digest password, or a token function (Bearer). */
  const char* password;
  imsdc_token_fn token_fn;
  void* token_user;
  uint32_t expires_s; /* 0: 600 */
  int allow_plain;    /* test only: permits ws:// */
} imsdc_registration_config;

typedef enum imsdc_registration_event_kind { /* NOLINT(readability-identifier-naming) */
                                             IMSDC_REG_REGISTERED = 0,
                                             IMSDC_REG_UNREGISTERED = 1,
                                             IMSDC_REG_ERROR = 2 /* final */
} imsdc_registration_event_kind;

typedef struct imsdc_registration_event { /* NOLINT(readability-identifier-naming) */
  int kind;                               /* imsdc_registration_event_kind */
  uint32_t expires_s;                     /* REGISTERED: the granted expiry */
  const char* contact;                    /* REGISTERED: our binding as the registrar returned it */
  const char* pub_gruu;
  int status;      /* ERROR: IMSDC_E_AUTH_REJECTED, IMSDC_E_TLS, IMSDC_E_NETWORK, ... */
  int sip_status;  /* the SIP status behind an ERROR, 0 when none */
  int http_status; /* the WebSocket upgrade status of a refused upgrade, else 0 */
  const char* reason;
} imsdc_registration_event;

typedef enum imsdc_call_event_kind { /* NOLINT(readability-identifier-naming) */
                                     IMSDC_CALL_INCOMING = 0,
                                     IMSDC_CALL_PROGRESS = 1,
                                     IMSDC_CALL_ANSWERED = 2,
                                     IMSDC_CALL_CONFIRMED = 3,
                                     IMSDC_CALL_REMOTE_OFFER = 4,
                                     IMSDC_CALL_OFFER_ANSWERED = 5,
                                     IMSDC_CALL_OFFER_FAILED = 6,
                                     IMSDC_CALL_REFRESHED = 7,
                                     IMSDC_CALL_ENDED = 8
} imsdc_call_event_kind;

typedef enum imsdc_call_end { /* NOLINT(readability-identifier-naming) */
                              IMSDC_END_LOCAL_HANGUP = 0,
                              IMSDC_END_REMOTE_HANGUP = 1,
                              IMSDC_END_CANCELLED = 2,
                              IMSDC_END_REJECTED = 3,
                              IMSDC_END_TIMEOUT = 4,
                              IMSDC_END_SESSION_EXPIRED = 5,
                              IMSDC_END_TRANSPORT_LOST = 6,
                              IMSDC_END_ERROR = 7
} imsdc_call_end;

typedef struct imsdc_call_event { /* NOLINT(readability-identifier-naming) */
  int kind;                       /* imsdc_call_event_kind */
  uint32_t call;                  /* the call id */
  int sip_status;
  const char* reason;
  const char* sdp; /* the SDP the event is about ("" when none), bytes as received */
  size_t sdp_len;
  const char* from; /* INCOMING: From, P-Asserted-Identity (network-asserted), avatar URI */
  const char* to;
  const char* asserted_identity;
  const char* avatar_uri; /* always unverified here (see imsdc_identity_verify) */
  int end;                /* ENDED: imsdc_call_end */
  int status;             /* ENDED with IMSDC_END_ERROR: the local failure */
  /* The whole SIP message behind the event (an INCOMING event's INVITE), for
   * imsdc_identity_verify(); NULL for events raised by timers. */
  const uint8_t* message;
  size_t message_len;
} imsdc_call_event;

typedef struct imsdc_registration_callbacks { /* NOLINT(readability-identifier-naming) */
  void* user;
  void (*on_event)(void* user, const imsdc_registration_event* event);
  void (*on_call)(void* user, const imsdc_call_event* event); /* NULL: incoming calls get 486 */
} imsdc_registration_callbacks;

/* Creates a registration over a new WSS connection of the client's. Nothing happens until
 * imsdc_registration_start(). Errors: IMSDC_E_INVALID_ARGUMENT (NULL pointer, missing URL /
 * origin / IMPU, not exactly one credential, IMPU not a sip URI with a user),
 * IMSDC_E_IO (state directory), IMSDC_E_UNSUPPORTED (built without libwebsockets),
 * IMSDC_E_NO_MEMORY. */
int imsdc_registration_create(imsdc_client* client, const imsdc_registration_config* config,
                              const imsdc_registration_callbacks* callbacks,
                              imsdc_registration** out);

/* Connects and registers; outcomes arrive as events (REGISTERED, or a final ERROR). A lost
 * connection is re-established with backoff and registers again. Errors:
 * IMSDC_E_INVALID_ARGUMENT, IMSDC_E_STATE (already started). */
int imsdc_registration_start(imsdc_registration* reg);

/* Ends the registration in order: de-registers (Expires: 0) and closes the WebSocket;
 * UNREGISTERED follows. Calls still up end with IMSDC_END_TRANSPORT_LOST. Errors:
 * IMSDC_E_INVALID_ARGUMENT. */
int imsdc_registration_shutdown(imsdc_registration* reg);

/* Non-zero once the registration has stopped for good (after shutdown, or a final error). */
int imsdc_registration_finished(const imsdc_registration* reg);

/* Destroys it without de-registering (call shutdown and poll until finished first for an
 * orderly end). NULL is ignored. */
void imsdc_registration_destroy(imsdc_registration* reg);

/* Calls INVITE `to` (a sip: or tel: URI) with the SDP offer `sdp` (e.g. from
 * imsdc_dc_peer_create_offer()). Sets *out_call. Errors: IMSDC_E_INVALID_ARGUMENT (bad URI,
 * empty SDP), IMSDC_E_STATE (not registered), IMSDC_E_NO_MEMORY (too many calls). */
int imsdc_call_make(imsdc_registration* reg, const char* to, const char* sdp, uint32_t* out_call);

/* Callee: 180 Ringing (sdp may be NULL). Errors: IMSDC_E_NOT_FOUND, IMSDC_E_STATE. */
int imsdc_call_ring(imsdc_registration* reg, uint32_t call, const char* sdp);

/* Callee: 200 OK with the SDP answer. Errors: IMSDC_E_NOT_FOUND, IMSDC_E_STATE,
 * IMSDC_E_INVALID_ARGUMENT (no SDP where one is needed). */
int imsdc_call_answer(imsdc_registration* reg, uint32_t call, const char* sdp);

/* Callee: a final 300..699 refusal (e.g. 486, 603). Errors: IMSDC_E_NOT_FOUND,
 * IMSDC_E_STATE, IMSDC_E_INVALID_ARGUMENT. */
int imsdc_call_reject(imsdc_registration* reg, uint32_t call, int sip_status);

/* Ends a call as its state requires (CANCEL, decline or BYE); ENDED follows. Errors:
 * IMSDC_E_NOT_FOUND. */
int imsdc_call_hangup(imsdc_registration* reg, uint32_t call);

/* --- Data channels (PROTOCOL_PROFILE.md sections 3 and 4) -------------------------------- */

typedef struct imsdc_dc_peer imsdc_dc_peer; /* NOLINT(readability-identifier-naming) */

typedef enum imsdc_dc_state { /* NOLINT(readability-identifier-naming) */
                              IMSDC_DC_IDLE = 0,
                              IMSDC_DC_CONNECTING = 1,
                              IMSDC_DC_OPEN = 2,
                              IMSDC_DC_CLOSED = 3,
                              IMSDC_DC_FAILED = 4
} imsdc_dc_state;

/* An application channel negotiated in the SDP (a=dcmap, stream ids from 1000). */
typedef struct imsdc_dc_channel { /* NOLINT(readability-identifier-naming) */
  const char* label;
  const char* subprotocol; /* NULL: none */
} imsdc_dc_channel;

typedef struct imsdc_dc_config { /* NOLINT(readability-identifier-naming) */
  /* Local address for the UDP socket (IPv4 or IPv6 literal). NULL: every local address
   * (up to 8; loopback only when there is no other). */
  const char* bind_address;
  int no_ice;                /* non-zero: no ICE lines; DTLS goes to the peer's c=/m= port */
  uint32_t max_message_size; /* announced a=max-message-size; 0: 65536 */
  int bootstrap;             /* offer the local bootstrap channels (dcmap 0 and 10, http) */
  /* Offerer: application channels put into the offer (stream 1000, 1002, ...). */
  const imsdc_dc_channel* app_channels;
  size_t app_channel_count;
  /* Channel policy (TR 33.790 KI#3): subprotocols of application channels the peer may
   * open (SDP dcmap or in-band DCEP). Empty: every application channel is refused. */
  const char* const* allowed_subprotocols;
  size_t allowed_count;
} imsdc_dc_config;

typedef struct imsdc_dc_callbacks { /* NOLINT(readability-identifier-naming) */
  void* user;
  /* IMSDC_DC_OPEN, IMSDC_DC_CLOSED or IMSDC_DC_FAILED (status says why). */
  void (*on_state)(void* user, int state, int status);
  void (*on_channel_open)(void* user, uint16_t stream_id, const char* label, const char* protocol);
  /* One whole message; binary 0: a UTF-8 string. data is valid during the call only. */
  void (*on_message)(void* user, uint16_t stream_id, const uint8_t* data, size_t len, int binary);
  void (*on_channel_closed)(void* user, uint16_t stream_id);
  /* The channel's send buffer drained (after IMSDC_E_WOULD_BLOCK): send again. */
  void (*on_buffered_low)(void* user, uint16_t stream_id);
} imsdc_dc_callbacks;

/* Creates a peer with the client's device certificate as DTLS certificate and opens its UDP
 * socket(s). Errors: IMSDC_E_INVALID_ARGUMENT (NULL pointer, bad bind address, a channel
 * without label), IMSDC_E_NOT_FOUND (no device certificate), IMSDC_E_NETWORK (no socket),
 * IMSDC_E_NO_MEMORY. */
int imsdc_dc_peer_create(imsdc_client* client, const imsdc_dc_config* config,
                         const imsdc_dc_callbacks* callbacks, imsdc_dc_peer** out);

/* Offerer, step 1: writes the SDP offer (setup:actpass, fingerprint, tls-id, host
 * candidates unless no_ice). Errors: IMSDC_E_STATE (an offer or answer was already made),
 * IMSDC_E_TOO_LARGE (cap). */
int imsdc_dc_peer_create_offer(imsdc_dc_peer* peer, char* sdp, size_t cap, size_t* out_len);

/* Offerer, step 2: applies the answer and starts ICE, then DTLS and SCTP. Errors:
 * IMSDC_E_STATE (no offer made), IMSDC_E_MALFORMED (not an answer to the offer),
 * IMSDC_E_REJECTED (the answer refused the data channel). */
int imsdc_dc_peer_accept_answer(imsdc_dc_peer* peer, const char* sdp, size_t len);

/* Answerer: reads an offer, applies the channel policy, writes the answer and starts.
 * Errors: IMSDC_E_STATE, IMSDC_E_MALFORMED, IMSDC_E_REJECTED (answered with port 0: the
 * answer is still written and should be sent), IMSDC_E_TOO_LARGE (cap). */
int imsdc_dc_peer_accept_offer(imsdc_dc_peer* peer, const char* offer, size_t offer_len,
                               char* answer, size_t cap, size_t* out_len);

/* Opens an in-band channel (DCEP) once the peer is OPEN; on_channel_open follows when the
 * peer acknowledges. Errors: IMSDC_E_STATE (not open), IMSDC_E_TOO_LARGE (no free stream). */
int imsdc_dc_peer_open_channel(imsdc_dc_peer* peer, const char* label, const char* protocol,
                               uint16_t* out_stream_id);

/* Queues one message (len 0 allowed). Errors: IMSDC_E_NOT_FOUND (no such open channel),
 * IMSDC_E_TOO_LARGE (above the peer's max-message-size), IMSDC_E_WOULD_BLOCK (send buffer
 * full: retry after on_buffered_low), IMSDC_E_STATE. */
int imsdc_dc_peer_send(imsdc_dc_peer* peer, uint16_t stream_id, const void* data, size_t len,
                       int binary);

/* Closes one channel (SCTP stream reset); on_channel_closed follows. Errors:
 * IMSDC_E_NOT_FOUND. */
int imsdc_dc_peer_close_channel(imsdc_dc_peer* peer, uint16_t stream_id);

/* The peer's imsdc_dc_state; IMSDC_DC_IDLE for NULL. */
int imsdc_dc_peer_state(const imsdc_dc_peer* peer);

/* Aborts the association (SCTP ABORT, DTLS close_notify) and closes the sockets. NULL is
 * ignored. */
void imsdc_dc_peer_destroy(imsdc_dc_peer* peer);

/* --- Avatar (PROTOCOL_PROFILE.md sections 6 and 7) --------------------------------------- */

typedef enum imsdc_rendering { /* NOLINT(readability-identifier-naming) */
                               IMSDC_RENDERING_NETWORK = 0,
                               IMSDC_RENDERING_SENDING_UE = 1,
                               IMSDC_RENDERING_RECEIVING_UE = 2
} imsdc_rendering;

typedef struct imsdc_attestation_params { /* NOLINT(readability-identifier-naming) */
  const char* avatar_id;
  const char* dc_as; /* identity of the DC application server */
  const char* aud;   /* BAR identity */
  int rendering;     /* imsdc_rendering; SENDING_UE goes through imsdc_avatar_fetch_create */
  /* RECEIVING_UE: the peer UE's ephemeral public key, uncompressed X||Y (64 bytes);
   * NETWORK: NULL. */
  const uint8_t* peer_epk_xy;
  int64_t lifetime_s; /* 0: the SDK default (IMSDC_TOKEN_LIFETIME_S) */
} imsdc_attestation_params;

/* Signs an avatar attestation (compact JWS, typ avatar-attestation+jwt, x5c = device chain,
 * iss = the leaf's URI subjectAltName) with the device key, issued at the port's wall clock.
 * Errors: IMSDC_E_INVALID_ARGUMENT (missing claim, SENDING_UE, epk against the rendering
 * rule, lifetime outside 1..3600), IMSDC_E_NOT_FOUND (no certificate chain),
 * IMSDC_E_BINDING (the leaf has no URI SAN), IMSDC_E_BAD_KEY (epk not on P-256),
 * IMSDC_E_EXPIRED (wall clock unknown), IMSDC_E_TOO_LARGE (cap). */
int imsdc_avatar_attest(imsdc_client* client, const imsdc_attestation_params* params, char* jws,
                        size_t cap, size_t* out_len);

typedef struct imsdc_avatar_fetch imsdc_avatar_fetch; /* NOLINT(readability-identifier-naming) */

typedef struct imsdc_avatar_fetch_config { /* NOLINT(readability-identifier-naming) */
  const char* avatar_id;                   /* attestation claims (sending-ue rendering) */
  const char* dc_as;
  const char* bar_id;
  /* The BAR's representation URL (https://host:port/avatar/representation) for
   * imsdc_avatar_fetch_start(); NULL when the JWE arrives through a relay (feed/finish). */
  const char* url;
  const char* blob_name; /* file name in the client's state_dir, [A-Za-z0-9_-][A-Za-z0-9._-]* */
  uint64_t max_size;     /* largest plaintext accepted; 0: no bound beyond the SDK's */
  uint32_t timeout_ms;   /* whole HTTPS exchange; 0: 30000 */
} imsdc_avatar_fetch_config;

/* Makes a single-use ephemeral key and the sending-ue attestation that names it. The
 * plaintext is committed to state_dir/blob_name only when the JWE's tag verifies. Errors: as
 * imsdc_avatar_attest, IMSDC_E_STATE (the client has no state_dir), IMSDC_E_ENTROPY. */
int imsdc_avatar_fetch_create(imsdc_client* client, const imsdc_avatar_fetch_config* config,
                              imsdc_avatar_fetch** out);

/* The attestation to present (to the BAR, or over the relay). Errors: IMSDC_E_TOO_LARGE. */
int imsdc_avatar_fetch_attestation(const imsdc_avatar_fetch* fetch, char* out, size_t cap,
                                   size_t* out_len);

/* Direct path: POSTs the attestation to config.url over HTTPS with mutual TLS (the device
 * key and certificate files), then streams the JWE answer into the decryptor. Progress is
 * made by imsdc_avatar_fetch_poll(). Errors: IMSDC_E_STATE (started, fed, or no url),
 * IMSDC_E_UNSUPPORTED (no libwebsockets, or the keystore is not PEM files),
 * IMSDC_E_NETWORK. */
int imsdc_avatar_fetch_start(imsdc_avatar_fetch* fetch);

/* Services the HTTPS exchange for at most timeout_ms; *done becomes non-zero when it ended
 * (then read imsdc_avatar_fetch_result). Errors: IMSDC_E_STATE (not started). */
int imsdc_avatar_fetch_poll(imsdc_avatar_fetch* fetch, uint32_t timeout_ms, int* done);

/* Relay path: feeds the compact JWE in pieces of any size, then finish(). The first failure
 * is final (the ephemeral key is destroyed: one answer gets one attempt). Errors:
 * IMSDC_E_MALFORMED, IMSDC_E_BINDING, IMSDC_E_BAD_KEY, IMSDC_E_AUTH_FAILED (tag),
 * IMSDC_E_EXPIRED / IMSDC_E_KEY_USED (ephemeral key), IMSDC_E_TOO_LARGE, IMSDC_E_IO,
 * IMSDC_E_STATE (after start() or finish()). */
int imsdc_avatar_fetch_feed(imsdc_avatar_fetch* fetch, const uint8_t* data, size_t len);
int imsdc_avatar_fetch_finish(imsdc_avatar_fetch* fetch);

/* The outcome: IMSDC_OK with the content type (cty) and plaintext size, or why not
 * (IMSDC_E_AUTH_REJECTED for a BAR 401/403, IMSDC_E_REJECTED, IMSDC_E_TLS, IMSDC_E_NETWORK,
 * the decryptor's errors). http_status may be NULL. Errors: IMSDC_E_STATE (not finished). */
int imsdc_avatar_fetch_result(const imsdc_avatar_fetch* fetch, char* cty, size_t cap,
                              uint64_t* size, int* http_status);

/* Destroys the fetch; the ephemeral key is zeroized. NULL is ignored. */
void imsdc_avatar_fetch_destroy(imsdc_avatar_fetch* fetch);

/* --- Verification ----------------------------------------------------------------------- */

/* Verifies a compact JWS with an x5c chain (an avatar attestation or token): chain to a root
 * in trust_pem at now_s (0: the port's wall clock), ES256 signature with the leaf, typ when
 * expect_typ is not NULL, iss/sub equal to the leaf's URI SAN, exp. Writes the claims JSON
 * to payload (may be NULL with cap 0 when not wanted). Errors: IMSDC_E_MALFORMED,
 * IMSDC_E_UNSUPPORTED, IMSDC_E_UNTRUSTED, IMSDC_E_EXPIRED, IMSDC_E_BAD_SIGNATURE,
 * IMSDC_E_BINDING, IMSDC_E_TOO_LARGE. */
int imsdc_jws_verify(const char* jws, const char* trust_pem, int64_t now_s, const char* expect_typ,
                     char* payload, size_t cap, size_t* out_len);

/* Caller-card field status (PROTOCOL_PROFILE.md section 10). */
typedef enum imsdc_field_status { /* NOLINT(readability-identifier-naming) */
                                  IMSDC_FIELD_VERIFIED_NETWORK = 0,
                                  IMSDC_FIELD_VERIFIED_E2E = 1,
                                  IMSDC_FIELD_NOT_ATTESTED = 2,
                                  IMSDC_FIELD_UNVERIFIED = 3,
                                  IMSDC_FIELD_FAILED = 4
} imsdc_field_status;

typedef struct imsdc_identity_config { /* NOLINT(readability-identifier-naming) */
  const char* trust_pem;               /* STI root certificates (PEM text); required */
  /* The certificates the PASSporTs' x5u name, given by the caller (PEM text, leaf first);
   * returned for every x5u URL. NULL: use fetch. */
  const char* cert_pem;
  /* Or a fetcher: write the resource named by url to out (<= cap), set *out_len, return 0;
   * <0 when unavailable. */
  int (*fetch)(void* user, const char* url, size_t url_len, uint8_t* out, size_t cap,
               size_t* out_len);
  void* fetch_user;
  int64_t now_s;        /* 0: the port's wall clock */
  int64_t iat_window_s; /* 0: 60 */
} imsdc_identity_config;

typedef struct imsdc_identity_result { /* NOLINT(readability-identifier-naming) */
  int has_identity;                    /* the request carries an Identity header */
  int passport_verified;               /* at least one PASSporT verified */
  int passport_status; /* why the first PASSporT failed (IMSDC_OK when none failed) */
  int number_status;   /* imsdc_field_status of the calling number */
  char attest[2];      /* "A", "B", "C" or "" */
} imsdc_identity_result;

/* Verifies the Identity headers (RFC 8224, SHAKEN, Rich Call Data) of a SIP request (an
 * incoming INVITE, e.g. imsdc_call_event.message) and builds its caller card. PASSporT
 * failures are results, not errors (passport_verified 0, passport_status). Writes the caller
 * card JSON to card_json when it is not NULL. Errors: IMSDC_E_INVALID_ARGUMENT (no trust,
 * not a request), IMSDC_E_MALFORMED (the message does not parse or trust_pem is not PEM),
 * IMSDC_E_TOO_LARGE (cap). */
int imsdc_identity_verify(const imsdc_identity_config* config, const uint8_t* request, size_t len,
                          imsdc_identity_result* result, char* card_json, size_t cap,
                          size_t* out_len);

#ifdef __cplusplus
}
#endif

#endif /* IMSDC_IMSDC_H */
