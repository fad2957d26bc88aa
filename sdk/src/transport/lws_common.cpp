#include "transport/lws_common.h"

// LWS_O_RDONLY is O_RDONLY: the constant only, the open itself is lws'.
#include <fcntl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include <cstring>
#include <memory>

#include "imsdc/bytes.h"
#include "imsdc/log.h"

namespace imsdc::transport {
namespace {

void emit_lws_line(int level, const char* line) {
  // lws lines end in '\n'; the SDK log adds its own line structure.
  char buf[256];
  std::size_t n = std::strlen(line);
  if (n >= sizeof(buf)) n = sizeof(buf) - 1;
  std::memcpy(buf, line, n);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    n--;
  buf[n] = '\0';
  // lws reports expected failures (a refused upgrade, an untrusted peer) as errors; they
  // reach the application through on_close, so lws' own view is only debugging help.
  IMSDC_LOGD("lws", "%s%s", level == LLL_ERR ? "error: " : "", buf);
}

void wake_cb(lws_sorted_usec_list_t*) {
  // Only there to end the poll() inside lws_service().
}

// RAII holders so every early return frees the mbedTLS objects.
struct Pk {
  mbedtls_pk_context ctx;
  Pk() { mbedtls_pk_init(&ctx); }
  ~Pk() { mbedtls_pk_free(&ctx); }
};
struct Mpi {
  mbedtls_mpi v;
  Mpi() { mbedtls_mpi_init(&v); }
  ~Mpi() { mbedtls_mpi_free(&v); }
};

Status rsa_spki(const char* n_hex, const char* e_hex, Pk& pk) {
  Mpi n, e;
  if (mbedtls_mpi_read_string(&n.v, 16, n_hex) != 0 ||
      mbedtls_mpi_read_string(&e.v, 16, e_hex) != 0) {
    return Status(Code::kInternal, Module::kTransport, "peer RSA key unreadable");
  }
  if (mbedtls_pk_setup(&pk.ctx, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0) {
    return Status(Code::kNoMemory, Module::kTransport);
  }
  mbedtls_rsa_context* rsa = mbedtls_pk_rsa(pk.ctx);
  if (mbedtls_rsa_import(rsa, &n.v, nullptr, nullptr, nullptr, &e.v) != 0 ||
      mbedtls_rsa_complete(rsa) != 0) {
    return Status(Code::kInternal, Module::kTransport, "peer RSA key rejected");
  }
  return Status::ok();
}

Status ec_spki(const char* x_hex, const char* y_hex, Pk& pk) {
  // Curves mbedTLS 2.28 accepts in certificates; the point is on at most one of them in
  // practice, and mbedtls_ecp_check_pubkey proves which.
  static const mbedtls_ecp_group_id kCurves[] = {
      MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
      MBEDTLS_ECP_DP_BP256R1,   MBEDTLS_ECP_DP_BP384R1,   MBEDTLS_ECP_DP_BP512R1,
      MBEDTLS_ECP_DP_SECP256K1,
  };
  for (mbedtls_ecp_group_id id : kCurves) {
    Pk candidate;
    if (mbedtls_pk_setup(&candidate.ctx, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0) {
      return Status(Code::kNoMemory, Module::kTransport);
    }
    mbedtls_ecp_keypair* kp = mbedtls_pk_ec(candidate.ctx);
    if (mbedtls_ecp_group_load(&kp->grp, id) != 0) continue; // curve not compiled in
    if (mbedtls_mpi_read_string(&kp->Q.X, 16, x_hex) != 0 ||
        mbedtls_mpi_read_string(&kp->Q.Y, 16, y_hex) != 0 || mbedtls_mpi_lset(&kp->Q.Z, 1) != 0) {
      return Status(Code::kInternal, Module::kTransport, "peer EC key unreadable");
    }
    if (mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) == 0) {
      mbedtls_pk_free(&pk.ctx);
      pk.ctx = candidate.ctx;
      mbedtls_pk_init(&candidate.ctx); // ownership moved to pk
      return Status::ok();
    }
  }
  return Status(Code::kUnsupported, Module::kTransport, "peer EC curve not supported");
}

} // namespace

std::string host_header(const std::string& host, std::uint16_t port, bool tls) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

bool is_header_value(const char* v, std::size_t max) {
  std::size_t n = 0;
  for (; v[n] != '\0'; n++) {
    const auto c = static_cast<unsigned char>(v[n]);
    if (c < 0x20 || c == 0x7f || n >= max) return false;
  }
  return n > 0;
}

void route_lws_log() {
  static bool done = false;
  if (done) return;
  done = true;
  lws_set_log_level(LLL_ERR | LLL_WARN, emit_lws_line);
}

namespace {

// Largest PEM file accepted for a client certificate chain or key.
constexpr std::size_t kMaxPemFile = 32768;

// Appends a whole file to `out` through lws' file operations (the platform's VFS on every
// target lws supports), so the SDK itself makes no file-system call.
bool append_file(lws_context* ctx, const char* path, SecretBytes& out) {
  lws_fop_flags_t flags = LWS_O_RDONLY;
  lws_fop_fd_t fd = lws_vfs_file_open(lws_get_fops(ctx), path, &flags);
  if (fd == nullptr) return false;
  const lws_filepos_t size = lws_vfs_get_length(fd);
  bool ok = size > 0 && size <= kMaxPemFile;
  if (ok) {
    SecretBytes grown(out.size() + static_cast<std::size_t>(size));
    if (!out.empty()) std::memcpy(grown.data(), out.data(), out.size());
    lws_filepos_t got = 0;
    ok = lws_vfs_file_read(fd, &got, grown.data() + out.size(), size) == 0 && got == size;
    if (ok) out = std::move(grown);
  }
  lws_vfs_file_close(&fd);
  return ok;
}

} // namespace

lws_context* create_client_context(const ClientContextOptions& opts) {
  route_lws_log();
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = opts.protocols;
  info.user = opts.user;
  info.gid = -1;
  info.uid = -1;
  // The vhost is created below, once the client credentials are in memory.
  // JUST_USE_RAW_ORIGIN: without it lws 4.1 sends "Origin: http://" + the configured value.
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                 LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN;
  // A device talks to a handful of peers; the default (the process fd limit) makes lws
  // allocate a poll table for a million descriptors.
  info.fd_limit_per_thread = 16;
  // Our own deadlines are stricter and counted in ms; lws' second-granularity ones only
  // stop a wedged state machine.
  const std::uint32_t secs = opts.timeout_ms / 1000 + 2;
  info.timeout_secs = secs;
  info.connect_timeout_secs = secs;
  lws_context* ctx = lws_create_context(&info);
  if (ctx == nullptr) return nullptr;

  info.client_ssl_ca_filepath = opts.ca_file;
  // lws 4.1.6 on mbedTLS ignores client_ssl_private_key_filepath: it parses the key out of
  // the certificate file, reading one byte past its buffer (ASan: heap-buffer-overflow in
  // pkey_pm_load). Its in-memory path takes the key from the same blob too, and correctly
  // bounded, so the key and the chain go in as one NUL-terminated PEM blob.
  SecretBytes blob;
  if (opts.client_cert_file != nullptr || opts.client_key_file != nullptr) {
    if (opts.client_cert_file == nullptr || opts.client_key_file == nullptr ||
        !append_file(ctx, opts.client_key_file, blob) ||
        !append_file(ctx, opts.client_cert_file, blob)) {
      IMSDC_LOGW("transport", "client certificate or key file unreadable");
      lws_context_destroy(ctx);
      return nullptr;
    }
    SecretBytes terminated(blob.size() + 1);
    std::memcpy(terminated.data(), blob.data(), blob.size());
    blob = std::move(terminated); // the last byte is the NUL mbedTLS' PEM parser needs
    info.client_ssl_cert_mem = blob.data();
    info.client_ssl_cert_mem_len = static_cast<unsigned int>(blob.size());
  }
  info.vhost_name = "imsdc-client";
  if (lws_create_vhost(ctx, &info) == nullptr) {
    lws_context_destroy(ctx);
    return nullptr;
  }
  return ctx;
}

int service_for(lws_context* ctx, lws_sorted_usec_list_t* wake, std::uint32_t timeout_ms) {
  if (timeout_ms == 0) {
    // A negative timeout makes lws poll without waiting.
    return lws_service(ctx, -1);
  }
  lws_sul_schedule(ctx, 0, wake, wake_cb, static_cast<lws_usec_t>(timeout_ms) * 1000);
  const int rc = lws_service(ctx, 0);
  lws_sul_cancel(wake);
  return rc;
}

void cancel_wake(lws_sorted_usec_list_t* wake) {
  lws_sul_cancel(wake);
}

imsdc_transport_close_reason classify_connect_error(const char* lws_text) {
  if (lws_text == nullptr) return IMSDC_TRANSPORT_CLOSED_NETWORK;
  if (std::strncmp(lws_text, "HS:", 3) == 0 || std::strstr(lws_text, "protocol") != nullptr) {
    return IMSDC_TRANSPORT_CLOSED_REFUSED;
  }
  static const char* const kTlsMarks[] = {"mbedtls", "cert", "tls", "TLS", "ssl", "SSL"};
  for (const char* mark : kTlsMarks) {
    if (std::strstr(lws_text, mark) != nullptr) return IMSDC_TRANSPORT_CLOSED_TLS;
  }
  return IMSDC_TRANSPORT_CLOSED_NETWORK;
}

Status peer_spki_sha256(lws* wsi, std::uint8_t out[32]) {
  // RSA-8192 needs 2 x 2049 hex digits; anything larger is not a key we accept.
  constexpr std::size_t kNameMax = 4400;
  struct Buffer {
    union lws_tls_cert_info_results info;
    char room[kNameMax];
  };
  std::unique_ptr<Buffer> buf(new (std::nothrow) Buffer());
  if (!buf) return Status(Code::kNoMemory, Module::kTransport);
  if (lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_OPAQUE_PUBLIC_KEY, &buf->info, kNameMax) != 0) {
    return Status(Code::kTls, Module::kTransport, "no peer certificate key");
  }
  const char* text = buf->info.ns.name;
  const std::size_t len = static_cast<std::size_t>(buf->info.ns.len);
  if (len == 0 || len > kNameMax) {
    return Status(Code::kInternal, Module::kTransport, "peer key representation");
  }
  // Split "A\0B\0[C\0]" into its NUL-terminated parts.
  const char* parts[3] = {nullptr, nullptr, nullptr};
  std::size_t count = 0;
  std::size_t at = 0;
  while (at < len && count < 3) {
    parts[count++] = text + at;
    const void* nul = std::memchr(text + at, '\0', len - at);
    if (nul == nullptr) {
      return Status(Code::kInternal, Module::kTransport, "peer key representation");
    }
    at = static_cast<std::size_t>(static_cast<const char*>(nul) - text) + 1;
  }
  Pk pk;
  if (count == 2) {
    IMSDC_TRY(rsa_spki(parts[0], parts[1], pk));
  } else if (count == 3) {
    IMSDC_TRY(ec_spki(parts[0], parts[1], pk));
  } else {
    return Status(Code::kUnsupported, Module::kTransport, "peer key type not supported");
  }
  std::uint8_t der[2200];
  const int n = mbedtls_pk_write_pubkey_der(&pk.ctx, der, sizeof(der));
  if (n <= 0) return Status(Code::kInternal, Module::kTransport, "SPKI encoding failed");
  // mbedtls_pk_write_pubkey_der writes at the end of the buffer.
  if (mbedtls_sha256_ret(der + sizeof(der) - n, static_cast<std::size_t>(n), out, 0) != 0) {
    return Status(Code::kInternal, Module::kTransport, "SHA-256 failed");
  }
  return Status::ok();
}

} // namespace imsdc::transport
