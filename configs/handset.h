/* imsdc configuration preset "handset": a phone (Android or feature-phone firmware on a
 * Linux-class SoC) with one user, a call and a waiting call, avatars and caller identity.
 * Close to imsdc/config_defaults.h: it trims what a phone does not need (SIP messages of
 * 64 KiB, 256 KiB HTTP bodies, four concurrent calls) and keeps every data-channel and
 * crypto limit as it is, so interop is that of the defaults.
 *
 * Use: -DIMSDC_CONFIG_FILE="<path>/configs/handset.h". Every value is inside the range
 * config_defaults.h documents and passes its combination checks. The armhf tier of
 * tests/run.sh (CMake preset "armhf", a 32-bit ARM Linux phone SoC) builds with this file and
 * runs the SDK's unit tests under qemu-arm; the host preset "handset" does the same on x86-64. */
#ifndef IMSDC_CONFIGS_HANDSET_H
#define IMSDC_CONFIGS_HANDSET_H

/* SIP: 32 KiB is ample for an INVITE with an audio/video + data-channel SDP, an Identity
 * header with Rich Call Data, and large Path/Record-Route sets. */
#define IMSDC_MAX_SIP_MESSAGE 32768
#define IMSDC_MAX_SDP_SIZE 16384
/* Data channels: as the defaults (a=max-message-size:65536, 16 channels). */
#define IMSDC_DC_MAX_MESSAGE_SIZE 65536
#define IMSDC_DC_MAX_CHANNELS 16
/* Bootstrap HTTP responses / JSON documents in memory: 128 KiB. */
#define IMSDC_MAX_HTTP_BODY 131072
#define IMSDC_MAX_JWS_SIZE 16384
#define IMSDC_MAX_CHAIN_LENGTH 4
#define IMSDC_MAX_CERT_SIZE 4096
#define IMSDC_STREAM_CHUNK 4096
#define IMSDC_LOG_LINE_MAX 512
#define IMSDC_TOKEN_LIFETIME_S 60
#define IMSDC_CLOCK_SKEW_S 5
/* An active call and a waiting (or held) one. */
#define IMSDC_MAX_CALLS 2
#define IMSDC_MAX_PENDING_PER_CALL 4

#endif /* IMSDC_CONFIGS_HANDSET_H */
