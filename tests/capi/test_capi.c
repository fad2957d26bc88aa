/* The C API from a C11 program (ctest label "unit"): error codes for bad arguments, the log
 * and allocator hooks, an avatar attestation that verifies, the relay decryptor's error path,
 * a data channel between two C API peers over loopback UDP (ICE, DTLS, SCTP) exchanging
 * messages byte for byte, and caller identity verification (accept and reject).
 *   test_capi FIXTURES_DIR   (made by make_fixtures.sh)
 * Prints one line per case and exits 0 only when every check passed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imsdc/imsdc.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    ++g_checks;                                                                                    \
    if (!(cond)) {                                                                                 \
      ++g_failures;                                                                                \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                              \
    }                                                                                              \
  } while (0)

#define CHECK_RC(expr, want)                                                                       \
  do {                                                                                             \
    int rc_ = (expr);                                                                              \
    ++g_checks;                                                                                    \
    if (rc_ != (want)) {                                                                           \
      ++g_failures;                                                                                \
      fprintf(stderr, "FAIL %s:%d: %s = %s, expected %s\n", __FILE__, __LINE__, #expr,             \
              imsdc_status_str(rc_), imsdc_status_str(want));                                      \
    }                                                                                              \
  } while (0)

static const char* g_dir;

/* Prints the case's result line: "ok" only when none of its checks failed. */
static void result(int failures_before, const char* fmt, ...) {
  va_list ap;
  printf("%s  ", g_failures == failures_before ? "ok  " : "FAIL");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

static char* path_of(const char* name) {
  static char buf[4][1024];
  static int i = 0;
  char* p = buf[i++ & 3];
  snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
  return p;
}

/* Reads a whole file into a NUL-terminated heap buffer (the caller frees it). */
static char* slurp(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  char* data = NULL;
  size_t n = 0;
  if (!f) return NULL;
  data = malloc(1 << 20);
  if (data) {
    n = fread(data, 1, (1 << 20) - 1, f);
    data[n] = '\0';
  }
  (void)fclose(f);
  if (len) *len = n;
  return data;
}

/* --- allocator and log hooks ----------------------------------------------------------- */

static long g_allocs = 0;
static void* counting_malloc(size_t n) {
  ++g_allocs;
  return malloc(n);
}
static void counting_free(void* p) {
  free(p);
}

static long g_log_lines = 0;
static int g_log_secret_seen = 0;
static const char* kSecret = "s3cret-Pa55word";
static const char* g_secrets[3]; /* the labnet passwords too */
static void log_hook(void* user, int level, const char* module, const char* line) {
  size_t i;
  (void)user;
  (void)level;
  (void)module;
  ++g_log_lines;
  if (strstr(line, kSecret)) g_log_secret_seen = 1;
  for (i = 0; i < 3; ++i)
    if (g_secrets[i] && *g_secrets[i] && strstr(line, g_secrets[i])) g_log_secret_seen = 1;
}

/* --- clients ---------------------------------------------------------------------------- */

static imsdc_client* make_client(const char* who, const char* state) {
  char key[64], cert[64];
  imsdc_client_config cfg;
  imsdc_client* c = NULL;
  snprintf(key, sizeof key, "%s-key.pem", who);
  snprintf(cert, sizeof cert, "%s.pem", who);
  memset(&cfg, 0, sizeof cfg);
  cfg.key_file = path_of(key);
  cfg.cert_file = path_of(cert);
  cfg.ca_file = path_of("ca/root.pem");
  cfg.state_dir = state;
  CHECK_RC(imsdc_client_create(&cfg, &c), IMSDC_OK);
  return c;
}

static void test_status_and_arguments(void) {
  const int f0 = g_failures;
  imsdc_client_config cfg;
  imsdc_client* c = NULL;
  imsdc_registration_config rc;
  imsdc_registration* reg = NULL;
  imsdc_dc_config dcfg;
  imsdc_dc_peer* peer = NULL;
  imsdc_identity_result ir;
  char small[4];
  size_t len = 0;

  CHECK(strcmp(imsdc_status_str(IMSDC_OK), "ok") == 0);
  CHECK(strcmp(imsdc_status_str(IMSDC_E_AUTH_REJECTED), "auth_rejected") == 0);
  CHECK(strcmp(imsdc_status_str(IMSDC_E_ENTROPY), "entropy") == 0);
  CHECK(strcmp(imsdc_status_str(-1), "unknown") == 0);
  CHECK(strcmp(imsdc_status_str(IMSDC_E_ENTROPY + 1), "unknown") == 0);
  CHECK(strcmp(imsdc_version(), "0.1.0") == 0);

  CHECK_RC(imsdc_client_create(NULL, &c), IMSDC_E_INVALID_ARGUMENT);
  memset(&cfg, 0, sizeof cfg);
  CHECK_RC(imsdc_client_create(&cfg, &c), IMSDC_E_INVALID_ARGUMENT); /* no keystore */
  cfg.keystore_dir = g_dir;
  cfg.key_file = path_of("alice-key.pem");
  CHECK_RC(imsdc_client_create(&cfg, &c), IMSDC_E_INVALID_ARGUMENT); /* both forms */
  cfg.keystore_dir = NULL;
  cfg.key_file = path_of("no-such-key.pem");
  CHECK_RC(imsdc_client_create(&cfg, &c), IMSDC_E_NOT_FOUND);
  cfg.key_file = path_of("alice-key.pem");
  cfg.cert_file = path_of("bob.pem"); /* a certificate for another key */
  CHECK_RC(imsdc_client_create(&cfg, &c), IMSDC_E_BINDING);
  cfg.key_file = path_of("invite.sip"); /* not a key */
  cfg.cert_file = NULL;
  CHECK_RC(imsdc_client_create(&cfg, &c), IMSDC_E_MALFORMED);
  CHECK(c == NULL);
  CHECK_RC(imsdc_client_poll(NULL, 0), IMSDC_E_INVALID_ARGUMENT);

  c = make_client("alice", NULL);
  if (!c) return;
  CHECK_RC(imsdc_client_fingerprint(c, small, sizeof small, &len), IMSDC_E_TOO_LARGE);
  CHECK(len == 95); /* 32 bytes as "AB:" pairs */
  CHECK(small[0] == '\0');

  memset(&rc, 0, sizeof rc);
  CHECK_RC(imsdc_registration_create(NULL, &rc, NULL, &reg), IMSDC_E_INVALID_ARGUMENT);
  CHECK_RC(imsdc_registration_create(c, &rc, NULL, &reg), IMSDC_E_INVALID_ARGUMENT);
  rc.server_url = "wss://localhost:1";
  rc.origin = "https://wwsf.ims.example";
  rc.impu = "sip:alice@ims.example";
  CHECK_RC(imsdc_registration_create(c, &rc, NULL, &reg), IMSDC_E_INVALID_ARGUMENT); /* none */
  rc.password = kSecret;
  rc.token_fn = NULL;
  rc.impu = "alice"; /* not a SIP URI */
  CHECK_RC(imsdc_registration_create(c, &rc, NULL, &reg), IMSDC_E_INVALID_ARGUMENT);
  CHECK(reg == NULL);
  CHECK_RC(imsdc_registration_start(NULL), IMSDC_E_INVALID_ARGUMENT);
  CHECK_RC(imsdc_call_make(NULL, "sip:bob@ims.example", "v=0", NULL), IMSDC_E_INVALID_ARGUMENT);
  CHECK_RC(imsdc_call_hangup(NULL, 1), IMSDC_E_INVALID_ARGUMENT);

  memset(&dcfg, 0, sizeof dcfg);
  CHECK_RC(imsdc_dc_peer_create(c, NULL, NULL, &peer), IMSDC_E_INVALID_ARGUMENT);
  dcfg.bind_address = "not-an-address";
  CHECK_RC(imsdc_dc_peer_create(c, &dcfg, NULL, &peer), IMSDC_E_INVALID_ARGUMENT);
  dcfg.bind_address = "127.0.0.1";
  dcfg.app_channel_count = 1; /* without the array */
  CHECK_RC(imsdc_dc_peer_create(c, &dcfg, NULL, &peer), IMSDC_E_INVALID_ARGUMENT);
  dcfg.app_channel_count = 0;
  CHECK_RC(imsdc_dc_peer_create(c, &dcfg, NULL, &peer), IMSDC_OK);
  CHECK_RC(imsdc_dc_peer_accept_answer(peer, "v=0\r\n", 5), IMSDC_E_STATE); /* no offer */
  CHECK_RC(imsdc_dc_peer_send(peer, 1000, "x", 1, 0), IMSDC_E_STATE);
  CHECK_RC(imsdc_dc_peer_accept_offer(peer, "garbage", 7, small, sizeof small, &len),
           IMSDC_E_MALFORMED);
  CHECK(imsdc_dc_peer_state(peer) == IMSDC_DC_IDLE);
  CHECK(imsdc_dc_peer_state(NULL) == IMSDC_DC_IDLE);
  CHECK_RC(imsdc_dc_peer_send(NULL, 0, NULL, 0, 0), IMSDC_E_INVALID_ARGUMENT);
  imsdc_dc_peer_destroy(peer);
  imsdc_dc_peer_destroy(NULL);

  memset(&ir, 0, sizeof ir);
  CHECK_RC(imsdc_identity_verify(NULL, (const uint8_t*)"x", 1, &ir, NULL, 0, NULL),
           IMSDC_E_INVALID_ARGUMENT);
  CHECK_RC(imsdc_jws_verify(NULL, "x", 0, NULL, NULL, 0, NULL), IMSDC_E_INVALID_ARGUMENT);
  CHECK_RC(imsdc_avatar_fetch_create(c, NULL, NULL), IMSDC_E_INVALID_ARGUMENT);
  imsdc_client_destroy(c);
  imsdc_client_destroy(NULL);
  result(f0, "status names and bad arguments");
}

/* A registration to a port where nobody listens: a final NETWORK error, nothing logged
 * that holds the password. */
struct reg_events {
  int errors, registered, last_status;
};
static void on_reg_event(void* user, const imsdc_registration_event* e) {
  struct reg_events* r = user;
  if (e->kind == IMSDC_REG_ERROR) {
    ++r->errors;
    r->last_status = e->status;
  }
  if (e->kind == IMSDC_REG_REGISTERED) ++r->registered;
}

static void test_registration_unreachable(void) {
  const int f0 = g_failures;
  imsdc_client* c = make_client("alice", NULL);
  imsdc_registration_config rc;
  imsdc_registration_callbacks cb;
  imsdc_registration* reg = NULL;
  struct reg_events ev = {0, 0, 0};
  time_t end = time(NULL) + 20;
  int rc_create;
  if (!c) return;
  memset(&rc, 0, sizeof rc);
  rc.server_url = "wss://localhost:9"; /* discard port: nobody listens */
  rc.origin = "https://wwsf.ims.example";
  rc.impu = "sip:alice@ims.example";
  rc.password = kSecret;
  memset(&cb, 0, sizeof cb);
  cb.user = &ev;
  cb.on_event = on_reg_event;
  rc_create = imsdc_registration_create(c, &rc, &cb, &reg);
  if (rc_create == IMSDC_E_UNSUPPORTED) {
    printf("skip  registration (built without libwebsockets)\n");
    imsdc_client_destroy(c);
    return;
  }
  CHECK_RC(rc_create, IMSDC_OK);
  if (reg) {
    CHECK_RC(imsdc_registration_start(reg), IMSDC_OK);
    CHECK_RC(imsdc_registration_start(reg), IMSDC_E_STATE);
    CHECK_RC(imsdc_call_make(reg, "sip:bob@ims.example", "v=0\r\n", &(uint32_t){0}),
             IMSDC_E_STATE); /* not registered */
    while (!ev.errors && time(NULL) < end)
      CHECK_RC(imsdc_client_poll(c, 100), IMSDC_OK);
    CHECK(ev.errors == 1);
    CHECK(ev.registered == 0);
    CHECK_RC(ev.last_status, IMSDC_E_NETWORK);
    CHECK(imsdc_registration_finished(reg));
    imsdc_registration_destroy(reg);
  }
  imsdc_client_destroy(c);
  result(f0, "registration to an unreachable server: %s", imsdc_status_str(ev.last_status));
}

/* --- avatar ------------------------------------------------------------------------------ */

static void test_attestation(void) {
  const int f0 = g_failures;
  imsdc_client* c = make_client("alice", NULL);
  imsdc_attestation_params p;
  static char jws[8192], payload[4096];
  size_t len = 0, plen = 0;
  char* root = slurp(path_of("ca/root.pem"), NULL);
  char* other = slurp(path_of("ca/other-root.pem"), NULL);
  uint8_t zeros[64];
  char* sig;
  if (!c || !root || !other) {
    CHECK(!"fixtures");
    goto out;
  }
  memset(&p, 0, sizeof p);
  p.avatar_id = "avatar-7";
  p.dc_as = "dcas.ims.example";
  p.aud = "bar.ims.example";
  p.rendering = IMSDC_RENDERING_NETWORK;
  CHECK_RC(imsdc_avatar_attest(c, &p, jws, sizeof jws, &len), IMSDC_OK);
  CHECK(len == strlen(jws) && len > 100);
  CHECK_RC(imsdc_jws_verify(jws, root, 0, "avatar-attestation+jwt", payload, sizeof payload, &plen),
           IMSDC_OK);
  CHECK(plen == strlen(payload));
  CHECK(strstr(payload, "\"iss\":\"sip:alice@ims.example\"") != NULL);
  CHECK(strstr(payload, "\"avatar_id\":\"avatar-7\"") != NULL ||
        strstr(payload, "avatar-7") != NULL);
  CHECK(strstr(payload, "network") != NULL);
  /* Wrong trust anchor, wrong typ, a changed signature. */
  CHECK_RC(imsdc_jws_verify(jws, other, 0, NULL, NULL, 0, NULL), IMSDC_E_UNTRUSTED);
  CHECK_RC(imsdc_jws_verify(jws, root, 0, "avatar-token+jwt", NULL, 0, NULL), IMSDC_E_BINDING);
  sig = strrchr(jws, '.');
  CHECK(sig != NULL && sig[1] != '\0');
  if (sig && sig[1]) {
    const char was = sig[1];
    sig[1] = was == 'A' ? 'B' : 'A';
    CHECK_RC(imsdc_jws_verify(jws, root, 0, NULL, NULL, 0, NULL), IMSDC_E_BAD_SIGNATURE);
    sig[1] = was;
  }
  /* Expired: verified a day after its lifetime. */
  CHECK_RC(imsdc_jws_verify(jws, root, (int64_t)time(NULL) + 86400, NULL, NULL, 0, NULL),
           IMSDC_E_EXPIRED);

  /* The rendering rules. */
  p.rendering = IMSDC_RENDERING_SENDING_UE;
  CHECK_RC(imsdc_avatar_attest(c, &p, jws, sizeof jws, &len), IMSDC_E_INVALID_ARGUMENT);
  p.rendering = IMSDC_RENDERING_RECEIVING_UE;
  CHECK_RC(imsdc_avatar_attest(c, &p, jws, sizeof jws, &len), IMSDC_E_INVALID_ARGUMENT);
  memset(zeros, 0, sizeof zeros);
  p.peer_epk_xy = zeros;
  CHECK_RC(imsdc_avatar_attest(c, &p, jws, sizeof jws, &len), IMSDC_E_BAD_KEY);
  p.rendering = IMSDC_RENDERING_NETWORK;
  CHECK_RC(imsdc_avatar_attest(c, &p, jws, sizeof jws, &len), IMSDC_E_INVALID_ARGUMENT);
  p.peer_epk_xy = NULL;
  CHECK_RC(imsdc_avatar_attest(c, &p, jws, 10, &len), IMSDC_E_TOO_LARGE);
  CHECK(len > 100);
  result(f0, "avatar attestation signed and verified (x5c chain, typ, iss, signature, exp)");
out:
  free(root);
  free(other);
  imsdc_client_destroy(c);
}

static void test_avatar_relay_decrypt(const char* state) {
  const int f0 = g_failures;
  imsdc_client* nostate = make_client("alice", NULL);
  imsdc_client* c = make_client("alice", state);
  imsdc_avatar_fetch_config fc;
  imsdc_avatar_fetch* f = NULL;
  static char att[8192], payload[4096];
  size_t len = 0;
  char* root = slurp(path_of("ca/root.pem"), NULL);
  const char* junk = "eyJhbGciOiJub25lIn0.x.y.z.w";
  int http = -1;
  memset(&fc, 0, sizeof fc);
  fc.avatar_id = "avatar-7";
  fc.dc_as = "dcas.ims.example";
  fc.bar_id = "bar.ims.example";
  fc.blob_name = "avatar-7.glb";
  if (!c || !nostate || !root) {
    CHECK(!"fixtures");
    goto out;
  }
  CHECK_RC(imsdc_avatar_fetch_create(nostate, &fc, &f), IMSDC_E_STATE);
  CHECK_RC(imsdc_avatar_fetch_create(c, &fc, &f), IMSDC_OK);
  if (!f) goto out;
  CHECK_RC(imsdc_avatar_fetch_attestation(f, att, sizeof att, &len), IMSDC_OK);
  CHECK_RC(imsdc_jws_verify(att, root, 0, "avatar-attestation+jwt", payload, sizeof payload, &len),
           IMSDC_OK);
  CHECK(strstr(payload, "sending-ue") != NULL);
  CHECK(strstr(payload, "\"epk\"") != NULL);
  CHECK_RC(imsdc_avatar_fetch_result(f, NULL, 0, NULL, NULL), IMSDC_E_STATE);
  CHECK_RC(imsdc_avatar_fetch_start(f), IMSDC_E_STATE); /* no url: relay use only */
  /* A JWE that is not one: the first failure is final, nothing is stored. */
  CHECK_RC(imsdc_avatar_fetch_feed(f, (const uint8_t*)junk, strlen(junk)), IMSDC_E_MALFORMED);
  CHECK_RC(imsdc_avatar_fetch_feed(f, (const uint8_t*)"abc", 3), IMSDC_E_MALFORMED);
  CHECK_RC(imsdc_avatar_fetch_finish(f), IMSDC_E_MALFORMED);
  CHECK_RC(imsdc_avatar_fetch_result(f, NULL, 0, NULL, &http), IMSDC_E_MALFORMED);
  CHECK(http == 0);
  {
    char blob[1024];
    FILE* stored;
    snprintf(blob, sizeof blob, "%s/%s", state, fc.blob_name);
    stored = fopen(blob, "rb");
    CHECK(stored == NULL);
    if (stored) (void)fclose(stored);
  }
  result(f0, "avatar fetch: sending-ue attestation with epk; a bad JWE is final, no blob");
out:
  imsdc_avatar_fetch_destroy(f);
  free(root);
  imsdc_client_destroy(c);
  imsdc_client_destroy(nostate);
}

/* --- data channel ----------------------------------------------------------------------- */

#define N_MSGS 6
static const size_t kSizes[N_MSGS] = {1, 13, 1200, 5000, 65536, 0};

struct side {
  const char* name;
  imsdc_dc_peer* peer;
  int state;
  int app_open;       /* stream 1000 (SDP-negotiated) */
  int inband_open;    /* the DCEP channel */
  uint16_t inband_id; /* its stream id */
  int echo;           /* answerer: send every message back */
  int received;       /* offerer: echoes checked */
  int mismatches;
  int closed;
};

static void fill(uint8_t* b, size_t n, unsigned seq) {
  size_t i;
  for (i = 0; i < n; ++i)
    b[i] = (uint8_t)(seq * 31u + i * 7u + (i >> 8));
}

static void on_state(void* user, int state, int status) {
  struct side* s = user;
  s->state = state;
  if (state == IMSDC_DC_FAILED)
    fprintf(stderr, "%s: association failed: %s\n", s->name, imsdc_status_str(status));
}
static void on_open(void* user, uint16_t sid, const char* label, const char* protocol) {
  struct side* s = user;
  if (sid == 1000 && strcmp(label, "chat") == 0 && strcmp(protocol, "imsdc-test") == 0)
    s->app_open = 1;
  if (strcmp(label, "inband") == 0) {
    s->inband_open = 1;
    s->inband_id = sid;
  }
}
static uint8_t g_buf[65536];
static void on_message(void* user, uint16_t sid, const uint8_t* data, size_t len, int binary) {
  struct side* s = user;
  if (s->echo) {
    int rc = imsdc_dc_peer_send(s->peer, sid, data, len, binary);
    if (rc != IMSDC_OK) ++s->mismatches;
    return;
  }
  if (sid == 1000 && s->received < N_MSGS) {
    const size_t want = kSizes[s->received];
    fill(g_buf, want, (unsigned)s->received);
    if (len != want || !binary || (len && memcmp(data, g_buf, len) != 0)) ++s->mismatches;
    ++s->received;
  } else if (sid == s->inband_id) {
    if (binary || len != 5 || memcmp(data, "hello", 5) != 0) ++s->mismatches;
    ++s->received;
  }
}
static void on_closed(void* user, uint16_t sid) {
  struct side* s = user;
  (void)sid;
  ++s->closed;
}

static void pump(imsdc_client* a, imsdc_client* b, int (*done)(void*), void* arg, int secs) {
  time_t end = time(NULL) + secs;
  while (!done(arg) && time(NULL) < end) {
    CHECK_RC(imsdc_client_poll(a, 2), IMSDC_OK);
    CHECK_RC(imsdc_client_poll(b, 2), IMSDC_OK);
  }
}
static int both_open(void* arg) {
  struct side* s = arg;
  return (s[0].app_open && s[1].app_open) || s[0].state == IMSDC_DC_FAILED ||
         s[1].state == IMSDC_DC_FAILED;
}
static int all_echoed(void* arg) {
  struct side* s = arg;
  return s[0].received >= N_MSGS;
}
static int inband_done(void* arg) {
  struct side* s = arg;
  return s[0].received >= N_MSGS + 1;
}
static int closed_both(void* arg) {
  struct side* s = arg;
  return s[0].closed && s[1].closed;
}

static void test_data_channel(void) {
  const int f0 = g_failures;
  imsdc_client* a = make_client("alice", NULL);
  imsdc_client* b = make_client("bob", NULL);
  struct side s[2];
  imsdc_dc_config ca, cb;
  imsdc_dc_callbacks cba, cbb;
  imsdc_dc_channel chat = {"chat", "imsdc-test"};
  const char* allowed[] = {"imsdc-test"};
  static char offer[8192], answer[8192];
  size_t olen = 0, alen = 0;
  unsigned i;
  if (!a || !b) goto out;
  memset(s, 0, sizeof s);
  s[0].name = "alice";
  s[1].name = "bob";
  s[1].echo = 1;
  memset(&ca, 0, sizeof ca);
  ca.bind_address = "127.0.0.1";
  ca.app_channels = &chat;
  ca.app_channel_count = 1;
  ca.allowed_subprotocols = allowed;
  ca.allowed_count = 1;
  cb = ca;
  cb.app_channels = NULL;
  cb.app_channel_count = 0;
  memset(&cba, 0, sizeof cba);
  cba.on_state = on_state;
  cba.on_channel_open = on_open;
  cba.on_message = on_message;
  cba.on_channel_closed = on_closed;
  cbb = cba;
  cba.user = &s[0];
  cbb.user = &s[1];
  CHECK_RC(imsdc_dc_peer_create(a, &ca, &cba, &s[0].peer), IMSDC_OK);
  CHECK_RC(imsdc_dc_peer_create(b, &cb, &cbb, &s[1].peer), IMSDC_OK);
  if (!s[0].peer || !s[1].peer) goto out;

  CHECK_RC(imsdc_dc_peer_create_offer(s[0].peer, offer, sizeof offer, &olen), IMSDC_OK);
  CHECK(strstr(offer, "UDP/DTLS/SCTP webrtc-datachannel") != NULL);
  CHECK(strstr(offer, "a=setup:actpass") != NULL);
  CHECK(strstr(offer, "a=dcmap:1000") != NULL);
  CHECK(strstr(offer, "a=candidate:") != NULL);
  CHECK_RC(imsdc_dc_peer_create_offer(s[0].peer, offer, sizeof offer, &olen), IMSDC_E_STATE);
  CHECK_RC(imsdc_dc_peer_accept_offer(s[1].peer, offer, olen, answer, sizeof answer, &alen),
           IMSDC_OK);
  CHECK(strstr(answer, "a=setup:active") != NULL || strstr(answer, "a=setup:passive") != NULL);
  CHECK(strstr(answer, "a=dcmap:1000") != NULL);
  CHECK_RC(imsdc_dc_peer_accept_answer(s[0].peer, answer, alen), IMSDC_OK);

  pump(a, b, both_open, s, 20);
  CHECK(s[0].state == IMSDC_DC_OPEN && s[1].state == IMSDC_DC_OPEN);
  CHECK(s[0].app_open && s[1].app_open);
  if (!s[0].app_open || !s[1].app_open) goto out;

  /* Bounds: no such channel, above the peer's max-message-size (65536). */
  CHECK_RC(imsdc_dc_peer_send(s[0].peer, 1002, "x", 1, 1), IMSDC_E_NOT_FOUND);
  {
    static uint8_t big[65537];
    CHECK_RC(imsdc_dc_peer_send(s[0].peer, 1000, big, sizeof big, 1), IMSDC_E_TOO_LARGE);
  }
  for (i = 0; i < N_MSGS; ++i) {
    static uint8_t msg[65536];
    fill(msg, kSizes[i], i);
    CHECK_RC(imsdc_dc_peer_send(s[0].peer, 1000, msg, kSizes[i], 1), IMSDC_OK);
  }
  pump(a, b, all_echoed, s, 20);
  CHECK(s[0].received == N_MSGS);
  CHECK(s[0].mismatches == 0 && s[1].mismatches == 0);

  /* An in-band (DCEP) channel, allowed by the answerer's policy. */
  CHECK_RC(imsdc_dc_peer_open_channel(s[0].peer, "inband", "imsdc-test", &s[0].inband_id),
           IMSDC_OK);
  {
    time_t end = time(NULL) + 10;
    while ((!s[0].inband_open || !s[1].inband_open) && time(NULL) < end) {
      (void)imsdc_client_poll(a, 2);
      (void)imsdc_client_poll(b, 2);
    }
  }
  CHECK(s[0].inband_open && s[1].inband_open);
  CHECK(s[0].inband_id == s[1].inband_id);
  CHECK_RC(imsdc_dc_peer_send(s[0].peer, s[0].inband_id, "hello", 5, 0), IMSDC_OK);
  pump(a, b, inband_done, s, 10);
  CHECK(s[0].received == N_MSGS + 1);
  CHECK(s[0].mismatches == 0);

  /* Orderly channel close: both sides see it. */
  CHECK_RC(imsdc_dc_peer_close_channel(s[0].peer, 1000), IMSDC_OK);
  pump(a, b, closed_both, s, 10);
  CHECK(s[0].closed >= 1 && s[1].closed >= 1);
  result(f0,
         "data channel over loopback UDP: %d messages echoed byte for byte, DCEP "
         "channel, close",
         s[0].received);
out:
  imsdc_dc_peer_destroy(s[0].peer);
  imsdc_dc_peer_destroy(s[1].peer);
  imsdc_client_destroy(a);
  imsdc_client_destroy(b);
}

/* --- identity --------------------------------------------------------------------------- */

static void test_identity(void) {
  const int f0 = g_failures;
  size_t ilen = 0, blen = 0, jlen = 0;
  char* invite = slurp(path_of("invite.sip"), &ilen);
  char* bad = slurp(path_of("invite-bad.sip"), &blen);
  char* sti_root = slurp(path_of("ca/other-root.pem"), NULL);
  char* op_root = slurp(path_of("ca/root.pem"), NULL);
  char* sti = slurp(path_of("sti.pem"), NULL);
  static char card[8192];
  imsdc_identity_config cfg;
  imsdc_identity_result r;
  if (!invite || !bad || !sti_root || !op_root || !sti) {
    CHECK(!"fixtures");
    goto out;
  }
  memset(&cfg, 0, sizeof cfg);
  cfg.trust_pem = sti_root;
  cfg.cert_pem = sti;
  CHECK_RC(imsdc_identity_verify(&cfg, (const uint8_t*)invite, ilen, &r, card, sizeof card, &jlen),
           IMSDC_OK);
  CHECK(r.has_identity == 1);
  CHECK(r.passport_verified == 1);
  CHECK_RC(r.passport_status, IMSDC_OK);
  CHECK(strcmp(r.attest, "A") == 0);
  CHECK(r.number_status == IMSDC_FIELD_VERIFIED_E2E);
  CHECK(jlen == strlen(card) && strstr(card, "15551110001") != NULL);

  /* Reject: an altered signature; the right PASSporT under an untrusted root; stale iat. */
  CHECK_RC(imsdc_identity_verify(&cfg, (const uint8_t*)bad, blen, &r, NULL, 0, NULL), IMSDC_OK);
  CHECK(r.has_identity == 1 && r.passport_verified == 0);
  CHECK_RC(r.passport_status, IMSDC_E_BAD_SIGNATURE);
  CHECK(r.number_status != IMSDC_FIELD_VERIFIED_E2E);
  cfg.trust_pem = op_root;
  CHECK_RC(imsdc_identity_verify(&cfg, (const uint8_t*)invite, ilen, &r, NULL, 0, NULL), IMSDC_OK);
  CHECK(r.passport_verified == 0);
  CHECK_RC(r.passport_status, IMSDC_E_UNTRUSTED);
  cfg.trust_pem = sti_root;
  cfg.now_s = (int64_t)time(NULL) + 3600;
  CHECK_RC(imsdc_identity_verify(&cfg, (const uint8_t*)invite, ilen, &r, NULL, 0, NULL), IMSDC_OK);
  CHECK(r.passport_verified == 0);
  CHECK_RC(r.passport_status, IMSDC_E_EXPIRED);
  cfg.now_s = 0;
  /* Not a SIP message; trust that is not PEM. */
  CHECK_RC(imsdc_identity_verify(&cfg, (const uint8_t*)"hello", 5, &r, NULL, 0, NULL),
           IMSDC_E_MALFORMED);
  cfg.trust_pem = "not pem";
  CHECK_RC(imsdc_identity_verify(&cfg, (const uint8_t*)invite, ilen, &r, NULL, 0, NULL),
           IMSDC_E_MALFORMED);
  result(f0, "identity: SHAKEN PASSporT accepted (attest A); altered, untrusted, stale "
             "rejected");
out:
  free(invite);
  free(bad);
  free(sti_root);
  free(op_root);
  free(sti);
}

/* --- labnet: through the real Kamailio eP-CSCF (tests/labnet/capi_test.sh) -------------- */

struct ua {
  const char* name;
  imsdc_client* client;
  imsdc_registration* reg;
  int registered, unregistered, errors, last_status;
  /* calls */
  int incoming, answered, ended, end_reason;
  uint32_t call;
  char sdp[8192];
  size_t sdp_len;
};

static void ua_on_event(void* user, const imsdc_registration_event* e) {
  struct ua* u = user;
  if (e->kind == IMSDC_REG_REGISTERED) ++u->registered;
  if (e->kind == IMSDC_REG_UNREGISTERED) ++u->unregistered;
  if (e->kind == IMSDC_REG_ERROR) {
    ++u->errors;
    u->last_status = e->status;
    fprintf(stderr, "%s: registration error %s sip=%d\n", u->name, imsdc_status_str(e->status),
            e->sip_status);
  }
}

static void ua_on_call(void* user, const imsdc_call_event* e) {
  struct ua* u = user;
  if (e->kind == IMSDC_CALL_INCOMING || e->kind == IMSDC_CALL_ANSWERED) {
    if (e->kind == IMSDC_CALL_INCOMING) ++u->incoming;
    if (e->kind == IMSDC_CALL_ANSWERED) ++u->answered;
    u->call = e->call;
    u->sdp_len = e->sdp_len < sizeof u->sdp - 1 ? e->sdp_len : 0;
    memcpy(u->sdp, e->sdp, u->sdp_len);
    u->sdp[u->sdp_len] = '\0';
    if (e->kind == IMSDC_CALL_INCOMING) CHECK(e->message != NULL && e->message_len > 0);
  }
  if (e->kind == IMSDC_CALL_ENDED) {
    ++u->ended;
    u->end_reason = e->end;
  }
}

static int token_from_file(void* user, int fresh, char* out, size_t cap, size_t* out_len) {
  size_t n = 0;
  char* t = slurp((const char*)user, &n);
  (void)fresh;
  while (t && n && (t[n - 1] == '\n' || t[n - 1] == '\r'))
    --n;
  if (!t || n == 0 || n > cap) {
    free(t);
    return IMSDC_E_IO;
  }
  memcpy(out, t, n);
  *out_len = n;
  free(t);
  return 0;
}

static int ua_register(struct ua* u, const char* who, const char* url, const char* ca,
                       const char* impu, const char* password, const char* token_file,
                       const char* state) {
  imsdc_client_config cfg;
  imsdc_registration_config rc;
  imsdc_registration_callbacks cb;
  char key[64], cert[64];
  snprintf(key, sizeof key, "%s-key.pem", who);
  snprintf(cert, sizeof cert, "%s.pem", who);
  memset(&cfg, 0, sizeof cfg);
  cfg.key_file = path_of(key);
  cfg.cert_file = path_of(cert);
  cfg.ca_file = ca;
  cfg.state_dir = state;
  CHECK_RC(imsdc_client_create(&cfg, &u->client), IMSDC_OK);
  if (!u->client) return 0;
  memset(&rc, 0, sizeof rc);
  rc.server_url = url;
  rc.origin = "https://wwsf.ims.example";
  rc.impu = impu;
  rc.password = password;
  if (token_file) {
    rc.token_fn = token_from_file;
    rc.token_user = (void*)token_file;
  }
  memset(&cb, 0, sizeof cb);
  cb.user = u;
  cb.on_event = ua_on_event;
  cb.on_call = ua_on_call;
  CHECK_RC(imsdc_registration_create(u->client, &rc, &cb, &u->reg), IMSDC_OK);
  if (!u->reg) return 0;
  CHECK_RC(imsdc_registration_start(u->reg), IMSDC_OK);
  return 1;
}

static void poll_uas(struct ua* a, struct ua* b, uint32_t ms) {
  if (a && a->client) (void)imsdc_client_poll(a->client, ms);
  if (b && b->client) (void)imsdc_client_poll(b->client, ms);
}

static void ua_finish(struct ua* u) {
  time_t end = time(NULL) + 40;
  if (u->reg && !imsdc_registration_finished(u->reg)) {
    CHECK_RC(imsdc_registration_shutdown(u->reg), IMSDC_OK);
    while (!imsdc_registration_finished(u->reg) && time(NULL) < end)
      (void)imsdc_client_poll(u->client, 50);
    CHECK(imsdc_registration_finished(u->reg));
  }
  imsdc_registration_destroy(u->reg);
  imsdc_client_destroy(u->client);
  u->reg = NULL;
  u->client = NULL;
}

static char* read_secret_file(const char* path) {
  size_t n = 0;
  char* s = slurp(path, &n);
  while (s && n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static int open_or_failed(void* arg) {
  struct side* s = arg;
  return both_open(arg) || (s[0].state == IMSDC_DC_FAILED || s[1].state == IMSDC_DC_FAILED);
}

/* The direct avatar path against the labnet BAR: sending-ue attestation, mutual TLS with the
 * device certificate, the JWE streamed into state_dir/blob; a refusal stores nothing. */
static void labnet_avatar(imsdc_client* c, const char* state, const char* bar,
                          const char* expect_file) {
  const int f0 = g_failures;
  imsdc_avatar_fetch_config fc;
  imsdc_avatar_fetch* f = NULL;
  char url[512], blob[1400], cty[128];
  uint64_t size = 0;
  int done = 0, http = 0;
  time_t end;
  size_t want_len = 0, got_len = 0;
  char* want = slurp(expect_file, &want_len);
  char* got = NULL;
  snprintf(url, sizeof url, "%s/avatar/representation", bar);
  memset(&fc, 0, sizeof fc);
  fc.avatar_id = "av-alice";
  fc.dc_as = "dcas.ims.example";
  fc.bar_id = "bar.ims.example";
  fc.url = url;
  fc.blob_name = "av-alice.glb";
  CHECK_RC(imsdc_avatar_fetch_create(c, &fc, &f), IMSDC_OK);
  if (!f || !want) goto out;
  CHECK_RC(imsdc_avatar_fetch_start(f), IMSDC_OK);
  CHECK_RC(imsdc_avatar_fetch_start(f), IMSDC_E_STATE);
  end = time(NULL) + 60;
  while (!done && time(NULL) < end)
    CHECK_RC(imsdc_avatar_fetch_poll(f, 50, &done), IMSDC_OK);
  CHECK(done);
  CHECK_RC(imsdc_avatar_fetch_result(f, cty, sizeof cty, &size, &http), IMSDC_OK);
  CHECK(http == 200);
  CHECK(strcmp(cty, "model/gltf-binary") == 0);
  CHECK(size == want_len);
  snprintf(blob, sizeof blob, "%s/%s", state, fc.blob_name);
  got = slurp(blob, &got_len);
  CHECK(got != NULL && got_len == want_len && memcmp(got, want, want_len) == 0);
  imsdc_avatar_fetch_destroy(f);
  f = NULL;

  /* Someone else's avatar: the BAR refuses (not_owner), nothing is stored. */
  fc.avatar_id = "av-bob";
  fc.blob_name = "av-bob.glb";
  CHECK_RC(imsdc_avatar_fetch_create(c, &fc, &f), IMSDC_OK);
  if (!f) goto out;
  CHECK_RC(imsdc_avatar_fetch_start(f), IMSDC_OK);
  done = 0;
  end = time(NULL) + 60;
  while (!done && time(NULL) < end)
    CHECK_RC(imsdc_avatar_fetch_poll(f, 50, &done), IMSDC_OK);
  CHECK_RC(imsdc_avatar_fetch_result(f, NULL, 0, NULL, &http), IMSDC_E_AUTH_REJECTED);
  CHECK(http == 403 || http == 401);
  snprintf(blob, sizeof blob, "%s/%s", state, fc.blob_name);
  free(got);
  got = slurp(blob, NULL);
  CHECK(got == NULL);
  result(f0,
         "labnet: avatar fetched from the BAR (mutual TLS, %lu bytes, %s) byte for byte; "
         "another subscriber's avatar refused (HTTP %d), nothing stored",
         (unsigned long)want_len, cty, http);
out:
  imsdc_avatar_fetch_destroy(f);
  free(want);
  free(got);
}

/* labnet URL CA ALICE_PW_FILE BOB_PW_FILE TOKEN_FILE TOKEN_IMPU STATE BAR_URL|- AVATAR */
static int run_labnet(char** argv) {
  const char* url = argv[0];
  const char* ca = argv[1];
  char* alice_pw = read_secret_file(argv[2]);
  char* bob_pw = read_secret_file(argv[3]);
  const char* token_file = argv[4];
  const char* token_impu = argv[5];
  const char* state = argv[6];
  const char* bar = argv[7];
  const char* avatar_file = argv[8];
  struct ua alice, bob, tok, wrong;
  struct side s[2];
  imsdc_dc_config dc;
  imsdc_dc_callbacks cbs;
  imsdc_dc_channel chat = {"chat", "imsdc-test"};
  const char* allowed[] = {"imsdc-test"};
  static char offer[8192], answer[8192];
  size_t olen = 0, alen = 0;
  char st[4][1200];
  time_t end;
  unsigned i;
  int f0 = g_failures;
  memset(&alice, 0, sizeof alice);
  memset(&bob, 0, sizeof bob);
  memset(&tok, 0, sizeof tok);
  memset(&wrong, 0, sizeof wrong);
  memset(s, 0, sizeof s);
  alice.name = "alice";
  bob.name = "bob";
  tok.name = "token";
  wrong.name = "wrong-password";
  for (i = 0; i < 4; ++i)
    snprintf(st[i], sizeof st[i], "%s/%u", state, i);
  if (!alice_pw || !bob_pw) {
    CHECK(!"password files");
    return 1;
  }
  g_secrets[0] = alice_pw;
  g_secrets[1] = bob_pw;

  /* 1. Digest (SHA-256 alice, MD5 bob) and a WWSF bearer token; a wrong password. */
  ua_register(&alice, "alice", url, ca, "sip:alice@ims.example", alice_pw, NULL, st[0]);
  ua_register(&bob, "bob", url, ca, "sip:bob@ims.example", bob_pw, NULL, st[1]);
  ua_register(&tok, "alice", url, ca, token_impu, NULL, token_file, st[2]);
  ua_register(&wrong, "alice", url, ca, "sip:alice@ims.example", kSecret, NULL, st[3]);
  end = time(NULL) + 30;
  while ((!alice.registered || !bob.registered || !tok.registered || !wrong.errors) &&
         time(NULL) < end) {
    poll_uas(&alice, &bob, 5);
    poll_uas(&tok, &wrong, 5);
  }
  CHECK(alice.registered == 1 && bob.registered == 1);
  CHECK(tok.registered == 1);
  CHECK(wrong.errors == 1 && wrong.registered == 0);
  CHECK_RC(wrong.last_status, IMSDC_E_AUTH_REJECTED);
  CHECK(imsdc_registration_finished(wrong.reg));
  ua_finish(&wrong);
  ua_finish(&tok);
  CHECK(tok.unregistered == 1);
  result(f0,
         "labnet: registered alice (digest SHA-256), bob (digest MD5), %s (bearer token); "
         "wrong password: %s",
         token_impu, imsdc_status_str(wrong.last_status));
  f0 = g_failures;
  if (!alice.registered || !bob.registered) goto out;

  /* 2. alice calls bob with a data-channel offer; bob answers with his peer's answer; the
   * association comes up over loopback UDP and messages are echoed byte for byte. */
  s[0].name = "alice";
  s[1].name = "bob";
  s[1].echo = 1;
  memset(&dc, 0, sizeof dc);
  dc.bind_address = "127.0.0.1";
  dc.allowed_subprotocols = allowed;
  dc.allowed_count = 1;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_state = on_state;
  cbs.on_channel_open = on_open;
  cbs.on_message = on_message;
  cbs.on_channel_closed = on_closed;
  cbs.user = &s[1];
  CHECK_RC(imsdc_dc_peer_create(bob.client, &dc, &cbs, &s[1].peer), IMSDC_OK);
  dc.app_channels = &chat;
  dc.app_channel_count = 1;
  cbs.user = &s[0];
  CHECK_RC(imsdc_dc_peer_create(alice.client, &dc, &cbs, &s[0].peer), IMSDC_OK);
  if (!s[0].peer || !s[1].peer) goto out;
  CHECK_RC(imsdc_dc_peer_create_offer(s[0].peer, offer, sizeof offer, &olen), IMSDC_OK);
  CHECK_RC(imsdc_call_make(alice.reg, "sip:bob@ims.example", offer, &alice.call), IMSDC_OK);
  end = time(NULL) + 20;
  while (!bob.incoming && time(NULL) < end)
    poll_uas(&alice, &bob, 5);
  CHECK(bob.incoming == 1);
  CHECK(bob.sdp_len == olen && strcmp(bob.sdp, offer) == 0); /* the offer, byte for byte */
  CHECK_RC(
      imsdc_dc_peer_accept_offer(s[1].peer, bob.sdp, bob.sdp_len, answer, sizeof answer, &alen),
      IMSDC_OK);
  CHECK_RC(imsdc_call_answer(bob.reg, bob.call, answer), IMSDC_OK);
  end = time(NULL) + 20;
  while (!alice.answered && time(NULL) < end)
    poll_uas(&alice, &bob, 5);
  CHECK(alice.answered == 1);
  CHECK(alice.sdp_len == alen && strcmp(alice.sdp, answer) == 0);
  CHECK_RC(imsdc_dc_peer_accept_answer(s[0].peer, alice.sdp, alice.sdp_len), IMSDC_OK);
  end = time(NULL) + 20;
  while (!open_or_failed(s) && time(NULL) < end)
    poll_uas(&alice, &bob, 2);
  CHECK(s[0].app_open && s[1].app_open);
  if (s[0].app_open && s[1].app_open) {
    for (i = 0; i < N_MSGS; ++i) {
      static uint8_t msg[65536];
      fill(msg, kSizes[i], i);
      CHECK_RC(imsdc_dc_peer_send(s[0].peer, 1000, msg, kSizes[i], 1), IMSDC_OK);
    }
    end = time(NULL) + 20;
    while (s[0].received < N_MSGS && time(NULL) < end)
      poll_uas(&alice, &bob, 2);
  }
  CHECK(s[0].received == N_MSGS);
  CHECK(s[0].mismatches == 0 && s[1].mismatches == 0);

  /* 3. alice hangs up: bob sees the BYE; both de-register. */
  CHECK_RC(imsdc_call_hangup(alice.reg, alice.call), IMSDC_OK);
  end = time(NULL) + 20;
  while ((!alice.ended || !bob.ended) && time(NULL) < end)
    poll_uas(&alice, &bob, 5);
  CHECK(alice.ended == 1 && alice.end_reason == IMSDC_END_LOCAL_HANGUP);
  CHECK(bob.ended == 1 && bob.end_reason == IMSDC_END_REMOTE_HANGUP);
  result(f0,
         "labnet: call through Kamailio carried the data-channel offer/answer; %d messages "
         "echoed byte for byte over the channel; BYE",
         s[0].received);
out:
  imsdc_dc_peer_destroy(s[0].peer);
  imsdc_dc_peer_destroy(s[1].peer);
  if (strcmp(bar, "-") != 0 && alice.client)
    labnet_avatar(alice.client, st[0], bar, avatar_file);
  else
    printf("skip  labnet: avatar fetch (no BAR: node or jose missing)\n");
  f0 = g_failures;
  ua_finish(&alice);
  ua_finish(&bob);
  CHECK(alice.unregistered >= 1 && bob.unregistered >= 1);
  result(f0, "labnet: de-registered");
  g_secrets[0] = g_secrets[1] = NULL;
  free(alice_pw);
  free(bob_pw);
  return g_failures ? 1 : 0;
}

int main(int argc, char** argv) {
  const imsdc_allocator counting = {counting_malloc, counting_free};
  char state[1100];
  if (argc != 2 && !(argc == 12 && strcmp(argv[2], "labnet") == 0)) {
    fprintf(stderr, "usage: test_capi FIXTURES_DIR\n"
                    "       test_capi FIXTURES_DIR labnet URL CA ALICE_PW_FILE BOB_PW_FILE "
                    "TOKEN_FILE TOKEN_IMPU STATE_DIR BAR_URL|- AVATAR_FILE\n");
    return 2;
  }
  g_dir = argv[1];
  if (argc == 12) {
    int rc;
    imsdc_set_allocator(&counting);
    imsdc_set_log_hook(log_hook, NULL, IMSDC_LOG_DEBUG);
    rc = run_labnet(argv + 3);
    CHECK(!g_log_secret_seen); /* no password in any log line */
    printf("%d checks, %d failed\n", g_checks, g_failures);
    return rc || g_failures ? 1 : 0;
  }
  snprintf(state, sizeof state, "%s/state", g_dir);
  /* Hooks first, before any other imsdc call. */
  imsdc_set_allocator(&counting);
  imsdc_set_log_hook(log_hook, NULL, IMSDC_LOG_DEBUG);

  test_status_and_arguments();
  test_registration_unreachable();
  test_attestation();
  test_avatar_relay_decrypt(state);
  test_data_channel();
  test_identity();

  CHECK(g_allocs > 0);       /* cJSON went through the allocator hook */
  CHECK(g_log_lines > 0);    /* the SDK logged through the hook */
  CHECK(!g_log_secret_seen); /* and never the password */
  printf("hooks: %ld allocations through the allocator hook, %ld log lines through the log "
         "hook\n",
         g_allocs, g_log_lines);
  imsdc_set_log_hook(NULL, NULL, IMSDC_LOG_INFO);
  printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures ? 1 : 0;
}
