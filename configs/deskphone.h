/* imsdc configuration preset "deskphone": a SIP desk phone (ARM Linux, 128-512 MiB RAM)
 * with several line keys, local three-way conferences and transfers, and a larger screen
 * for avatars and caller cards. More concurrent calls and channels than the defaults, a
 * larger streaming chunk for faster avatar downloads; the other limits as the defaults.
 *
 * Use: -DIMSDC_CONFIG_FILE="<path>/configs/deskphone.h". Every value is inside the range
 * config_defaults.h documents and passes its combination checks. The build/test preset
 * "deskphone" in CMakePresets.json builds the SDK with this file and runs the unit tests. */
#ifndef IMSDC_CONFIGS_DESKPHONE_H
#define IMSDC_CONFIGS_DESKPHONE_H

#define IMSDC_MAX_SIP_MESSAGE 65536
#define IMSDC_MAX_SDP_SIZE 16384
#define IMSDC_DC_MAX_MESSAGE_SIZE 65536
/* More application channels per call (shared screen, conference roster, avatars). */
#define IMSDC_DC_MAX_CHANNELS 32
#define IMSDC_MAX_HTTP_BODY 262144
#define IMSDC_MAX_JWS_SIZE 16384
#define IMSDC_MAX_CHAIN_LENGTH 4
#define IMSDC_MAX_CERT_SIZE 4096
/* Faster avatar decryption on a bigger screen's larger representations. */
#define IMSDC_STREAM_CHUNK 8192
/* Desk phones log to syslog; longer lines keep SIP header values whole. */
#define IMSDC_LOG_LINE_MAX 1024
#define IMSDC_TOKEN_LIFETIME_S 60
#define IMSDC_CLOCK_SKEW_S 5
/* Line keys: eight concurrent calls (held, waiting, conference legs); transfers and
 * conferences keep more requests in flight per call. */
#define IMSDC_MAX_CALLS 8
#define IMSDC_MAX_PENDING_PER_CALL 8

#endif /* IMSDC_CONFIGS_DESKPHONE_H */
