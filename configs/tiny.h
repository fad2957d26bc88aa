/* imsdc configuration preset "tiny": the smallest useful build, for a microcontroller-class
 * device (Cortex-M4/M7 with a few hundred KiB of RAM) that makes one IMS call with the
 * bootstrap data channels and one small application channel at a time.
 *
 * Use: -DIMSDC_CONFIG_FILE="<path>/configs/tiny.h" (CMake: -DIMSDC_CONFIG_FILE=...). Every
 * value below is inside the range imsdc/config_defaults.h documents, and the combinations
 * pass its checks (the SDP fits in the SIP message). The build/test preset "tiny" in
 * CMakePresets.json builds the SDK with this file and runs the unit tests.
 *
 * What the small limits cost a peer: a SIP message or a data-channel message over the
 * limit is refused (kTooLarge) rather than buffered; our SDP announces
 * a=max-message-size:4096, so a conforming peer never sends more. */
#ifndef IMSDC_CONFIGS_TINY_H
#define IMSDC_CONFIGS_TINY_H

/* SIP: 8 KiB holds a REGISTER/200 with a few Path/Service-Route headers, and an INVITE with
 * a data-channel SDP and an Identity header (PASSporT, IMSDC_MAX_JWS_SIZE + 1 KiB). */
#define IMSDC_MAX_SIP_MESSAGE 8192
/* SDP: must fit in the SIP message. 4 KiB is an audio + data-channel offer with dcmap/dcsa
 * lines for IMSDC_DC_MAX_CHANNELS channels, two fingerprints and ICE candidates. */
#define IMSDC_MAX_SDP_SIZE 4096
/* Data channels: a=max-message-size:4096 (the receive reassembly and piece buffers are this
 * size) and 8 channels per m-line: an IMS offer lists up to four bootstrap streams (0, 10,
 * 100, 110, TS 26.114) beside its application channels, and an offer with more dcmap lines
 * than this is refused whole, so 4 would refuse ordinary network offers. */
#define IMSDC_DC_MAX_MESSAGE_SIZE 4096
#define IMSDC_DC_MAX_CHANNELS 8
/* Bootstrap HTTP responses and JSON documents held in memory (application list, avatar ID
 * list): 16 KiB. Avatar representations are streamed and not bound by this. */
#define IMSDC_MAX_HTTP_BODY 16384
/* JWS (tokens, attestations, PASSporTs, manifests): 4 KiB fits an ES256 JWS with an x5c of
 * two P-256 certificates. */
#define IMSDC_MAX_JWS_SIZE 4096
/* Certificates: P-256 chains of at most 3 (leaf, intermediate, root), 2 KiB each (a P-256
 * certificate is 0.4-0.8 KiB; an RSA-2048 one about 1.2 KiB). */
#define IMSDC_MAX_CHAIN_LENGTH 3
#define IMSDC_MAX_CERT_SIZE 2048
/* Streaming decryption: three buffers of this size (about 3 KiB) while an avatar is fetched. */
#define IMSDC_STREAM_CHUNK 1024
/* Log lines are formatted on the stack. */
#define IMSDC_LOG_LINE_MAX 256
/* Time: same as the defaults (no memory cost). */
#define IMSDC_TOKEN_LIFETIME_S 60
#define IMSDC_CLOCK_SKEW_S 5
/* One active call plus one waiting; the fewest outstanding requests a call needs (an
 * UPDATE or re-INVITE and a BYE). */
#define IMSDC_MAX_CALLS 2
#define IMSDC_MAX_PENDING_PER_CALL 2

#endif /* IMSDC_CONFIGS_TINY_H */
