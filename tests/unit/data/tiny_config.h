/* A user configuration file (IMSDC_CONFIG_FILE) for small targets; used by the build test. */
#define IMSDC_MAX_SIP_MESSAGE 8192
#define IMSDC_MAX_SDP_SIZE 4096
#define IMSDC_DC_MAX_MESSAGE_SIZE 4096
#define IMSDC_DC_MAX_CHANNELS 4
