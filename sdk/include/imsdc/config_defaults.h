/* imsdc compile-time limits and feature switches.
 *
 * Every value has an #ifndef default and a documented range. To override, define
 * IMSDC_CONFIG_FILE as the name of a header (e.g. -DIMSDC_CONFIG_FILE=\"my_imsdc.h\"); it is
 * included first, so its definitions win. Impossible combinations fail the build.
 * This header is C-compatible so firmware written in C can include it. */
#ifndef IMSDC_CONFIG_DEFAULTS_H
#define IMSDC_CONFIG_DEFAULTS_H

#ifdef IMSDC_CONFIG_FILE
#include IMSDC_CONFIG_FILE
#endif

/* Largest SIP message accepted or built, bytes. Range 2048..262144. */
#ifndef IMSDC_MAX_SIP_MESSAGE
#define IMSDC_MAX_SIP_MESSAGE 65536
#endif

/* Largest SDP body accepted or built, bytes. Range 1024..65536. */
#ifndef IMSDC_MAX_SDP_SIZE
#define IMSDC_MAX_SDP_SIZE 16384
#endif

/* Default a=max-message-size offered for data channels, bytes. Range 1024..1048576. */
#ifndef IMSDC_DC_MAX_MESSAGE_SIZE
#define IMSDC_DC_MAX_MESSAGE_SIZE 65536
#endif

/* Data channels per association. Range 2..1024. */
#ifndef IMSDC_DC_MAX_CHANNELS
#define IMSDC_DC_MAX_CHANNELS 16
#endif

/* Largest HTTP body held in memory (bootstrap responses, JSON documents), bytes.
 * Range 1024..16777216. Avatar representations are streamed and not bound by this. */
#ifndef IMSDC_MAX_HTTP_BODY
#define IMSDC_MAX_HTTP_BODY 262144
#endif

/* Largest compact JWS accepted (tokens, attestations, PASSporTs, manifests), bytes.
 * Range 512..65536. */
#ifndef IMSDC_MAX_JWS_SIZE
#define IMSDC_MAX_JWS_SIZE 16384
#endif

/* Largest certificate chain (x5c) accepted: entries, and bytes per DER certificate. */
#ifndef IMSDC_MAX_CHAIN_LENGTH
#define IMSDC_MAX_CHAIN_LENGTH 4
#endif
#ifndef IMSDC_MAX_CERT_SIZE
#define IMSDC_MAX_CERT_SIZE 4096
#endif

/* Streaming buffer for decryption and hashing of large payloads, bytes. Multiple of 16,
 * range 256..65536. Peak RAM of an avatar download is a small multiple of this. */
#ifndef IMSDC_STREAM_CHUNK
#define IMSDC_STREAM_CHUNK 4096
#endif

/* Longest formatted log line, bytes (longer lines are truncated). Range 64..4096. */
#ifndef IMSDC_LOG_LINE_MAX
#define IMSDC_LOG_LINE_MAX 512
#endif

/* Default lifetime of UE-signed tokens (attestations, avatar tokens), seconds. 1..3600. */
#ifndef IMSDC_TOKEN_LIFETIME_S
#define IMSDC_TOKEN_LIFETIME_S 60
#endif

/* Allowed clock skew when checking iat/exp/nbf of received tokens, seconds. 0..300. */
#ifndef IMSDC_CLOCK_SKEW_S
#define IMSDC_CLOCK_SKEW_S 5
#endif

/* Concurrent SIP calls per CallAgent (more incoming INVITEs get 486). Range 1..64. */
#ifndef IMSDC_MAX_CALLS
#define IMSDC_MAX_CALLS 4
#endif

/* Outstanding requests of ours per call (PRACK, UPDATE, re-INVITE, BYE...). Range 2..16. */
#ifndef IMSDC_MAX_PENDING_PER_CALL
#define IMSDC_MAX_PENDING_PER_CALL 4
#endif

/* Feature switches (0 or 1). */
#ifndef IMSDC_WITH_DTLS_KEYLOG
#define IMSDC_WITH_DTLS_KEYLOG 0 /* debug builds only: writes DTLS secrets to a file */
#endif

#if IMSDC_MAX_SIP_MESSAGE < 2048 || IMSDC_MAX_SIP_MESSAGE > 262144
#error "IMSDC_MAX_SIP_MESSAGE must be in 2048..262144"
#endif
#if IMSDC_MAX_SDP_SIZE < 1024 || IMSDC_MAX_SDP_SIZE > 65536
#error "IMSDC_MAX_SDP_SIZE must be in 1024..65536"
#endif
#if IMSDC_MAX_SDP_SIZE > IMSDC_MAX_SIP_MESSAGE
#error "IMSDC_MAX_SDP_SIZE cannot exceed IMSDC_MAX_SIP_MESSAGE: the SDP travels inside SIP"
#endif
#if IMSDC_DC_MAX_MESSAGE_SIZE < 1024 || IMSDC_DC_MAX_MESSAGE_SIZE > 1048576
#error "IMSDC_DC_MAX_MESSAGE_SIZE must be in 1024..1048576"
#endif
#if IMSDC_DC_MAX_CHANNELS < 2 || IMSDC_DC_MAX_CHANNELS > 1024
#error "IMSDC_DC_MAX_CHANNELS must be in 2..1024 (the bootstrap channels need two)"
#endif
#if IMSDC_MAX_HTTP_BODY < 1024 || IMSDC_MAX_HTTP_BODY > 16777216
#error "IMSDC_MAX_HTTP_BODY must be in 1024..16777216"
#endif
#if IMSDC_MAX_JWS_SIZE < 512 || IMSDC_MAX_JWS_SIZE > 65536
#error "IMSDC_MAX_JWS_SIZE must be in 512..65536"
#endif
#if IMSDC_MAX_CHAIN_LENGTH < 1 || IMSDC_MAX_CHAIN_LENGTH > 8
#error "IMSDC_MAX_CHAIN_LENGTH must be in 1..8"
#endif
#if IMSDC_MAX_CERT_SIZE < 512 || IMSDC_MAX_CERT_SIZE > 16384
#error "IMSDC_MAX_CERT_SIZE must be in 512..16384"
#endif
#if (IMSDC_STREAM_CHUNK % 16) != 0 || IMSDC_STREAM_CHUNK < 256 || IMSDC_STREAM_CHUNK > 65536
#error "IMSDC_STREAM_CHUNK must be a multiple of 16 in 256..65536 (AES-GCM streaming)"
#endif
#if IMSDC_LOG_LINE_MAX < 64 || IMSDC_LOG_LINE_MAX > 4096
#error "IMSDC_LOG_LINE_MAX must be in 64..4096"
#endif
#if IMSDC_TOKEN_LIFETIME_S < 1 || IMSDC_TOKEN_LIFETIME_S > 3600
#error "IMSDC_TOKEN_LIFETIME_S must be in 1..3600"
#endif
#if IMSDC_CLOCK_SKEW_S < 0 || IMSDC_CLOCK_SKEW_S > 300
#error "IMSDC_CLOCK_SKEW_S must be in 0..300"
#endif
#if IMSDC_MAX_CALLS < 1 || IMSDC_MAX_CALLS > 64
#error "IMSDC_MAX_CALLS must be in 1..64"
#endif
#if IMSDC_MAX_PENDING_PER_CALL < 2 || IMSDC_MAX_PENDING_PER_CALL > 16
#error "IMSDC_MAX_PENDING_PER_CALL must be in 2..16"
#endif
#if IMSDC_WITH_DTLS_KEYLOG && defined(NDEBUG) && !defined(IMSDC_ALLOW_RELEASE_KEYLOG)
#error "IMSDC_WITH_DTLS_KEYLOG writes session secrets: debug builds only"
#endif

#endif /* IMSDC_CONFIG_DEFAULTS_H */
