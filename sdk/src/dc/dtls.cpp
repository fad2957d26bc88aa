#include "dc/dtls.h"

#include <mbedtls/md.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/x509_crt.h>

#include <cstring>
#include <deque>

#include "crypto/internal.h"
#include "dc/hello_reassembler.h"
#include "imsdc/config_defaults.h"
#include "imsdc/log.h"
#include "port/port.h"

namespace imsdc::dc {
namespace {

constexpr const char* kLog = "dc";

Status err(Code code, const char* detail) {
  return Status(code, Module::kDc, detail);
}

// PROTOCOL_PROFILE.md section 4: ECDSA P-256 with these two AEAD suites only.
const int kSuites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                       MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};

// Largest datagram accepted from the network: a record of the maximum plaintext size plus
// AEAD and header overhead (RFC 6347 section 4.1.1.1 bounds records to 2^14 + 2048).
constexpr std::size_t kMaxDatagram = 16384 + 2048 + kDtlsRecordHeader;

mbedtls_md_type_t md_of(sdp::HashFunc h) {
  switch (h) {
  case sdp::HashFunc::kSha1:
    return MBEDTLS_MD_SHA1;
  case sdp::HashFunc::kSha224:
    return MBEDTLS_MD_SHA224;
  case sdp::HashFunc::kSha256:
    return MBEDTLS_MD_SHA256;
  case sdp::HashFunc::kSha384:
    return MBEDTLS_MD_SHA384;
  case sdp::HashFunc::kSha512:
    return MBEDTLS_MD_SHA512;
  }
  return MBEDTLS_MD_NONE;
}

// The handshake does not judge the certificate chain: the SDP fingerprint does, right after
// the handshake (RFC 8842 section 5.1). Clearing the flags keeps mbedTLS from failing on a
// self-signed or unknown-CA certificate, including its libc-time validity checks.
int accept_any(void*, mbedtls_x509_crt*, int, std::uint32_t* flags) {
  *flags = 0;
  return 0;
}

} // namespace

struct DtlsEndpoint::Impl {
  DtlsConfig config;
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_cookie_ctx cookie;
  mbedtls_x509_crt own_chain;
  mbedtls_pk_context own_key;
  HelloReassembler reassembler;

  DtlsState state = DtlsState::kIdle;
  Status error;
  bool error_reported = false;
  bool verified = false;
  PeerIdentity peer;

  std::deque<Bytes> in;
  std::deque<Bytes> out;
  Bytes scratch; // plaintext of one record, reused

  std::uint64_t now_ms = 0;
  bool timer_armed = false;
  std::uint64_t int_at = 0;
  std::uint64_t fin_at = 0;

  DataFn on_data = nullptr;
  StateFn on_state = nullptr;
  void* cb_ctx = nullptr;

  Impl() {
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_cookie_init(&cookie);
    mbedtls_x509_crt_init(&own_chain);
    mbedtls_pk_init(&own_key);
  }
  ~Impl() {
    mbedtls_ssl_free(&ssl); // zeroizes session keys
    mbedtls_ssl_config_free(&conf);
    mbedtls_ssl_cookie_free(&cookie);
    mbedtls_x509_crt_free(&own_chain);
    mbedtls_pk_free(&own_key);
    if (!scratch.empty()) secure_zero(scratch.data(), scratch.size());
  }

  // --- mbedTLS callbacks ---
  static int bio_send(void* p, const unsigned char* buf, size_t len) {
    auto* self = static_cast<Impl*>(p);
    if (self->out.size() >= self->config.max_out_datagrams) return MBEDTLS_ERR_SSL_WANT_WRITE;
    self->out.emplace_back(buf, buf + len);
    return static_cast<int>(len);
  }
  static int bio_recv(void* p, unsigned char* buf, size_t len) {
    auto* self = static_cast<Impl*>(p);
    if (self->in.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
    Bytes d = std::move(self->in.front());
    self->in.pop_front();
    // A datagram larger than mbedTLS's buffer cannot be a valid record for it; dropping it
    // is what a UDP socket with that buffer would do.
    if (d.size() > len) return MBEDTLS_ERR_SSL_WANT_READ;
    std::memcpy(buf, d.data(), d.size());
    return static_cast<int>(d.size());
  }
  static void timer_set(void* p, std::uint32_t int_ms, std::uint32_t fin_ms) {
    auto* self = static_cast<Impl*>(p);
    self->timer_armed = fin_ms != 0;
    self->int_at = self->now_ms + int_ms;
    self->fin_at = self->now_ms + fin_ms;
  }
  static int timer_get(void* p) {
    auto* self = static_cast<Impl*>(p);
    if (!self->timer_armed) return -1;
    if (self->now_ms >= self->fin_at) return 2;
    if (self->now_ms >= self->int_at) return 1;
    return 0;
  }

#if IMSDC_WITH_DTLS_KEYLOG
  // mbedtls_ssl_export_keys_ext_t: hands the NSS key log line to the debug sink.
  static int export_keys(void* p, const unsigned char* ms, const unsigned char*, size_t, size_t,
                         size_t, const unsigned char client_random[32], const unsigned char[32],
                         mbedtls_tls_prf_types) {
    auto* self = static_cast<Impl*>(p);
    static const char kHex[] = "0123456789abcdef";
    char line[sizeof "CLIENT_RANDOM " + 64 + 1 + 96 + 1];
    std::size_t n = 0;
    for (const char* c = "CLIENT_RANDOM "; *c != '\0'; ++c)
      line[n++] = *c;
    for (int i = 0; i < 32; ++i) {
      line[n++] = kHex[client_random[i] >> 4];
      line[n++] = kHex[client_random[i] & 15];
    }
    line[n++] = ' ';
    for (int i = 0; i < 48; ++i) {
      line[n++] = kHex[ms[i] >> 4];
      line[n++] = kHex[ms[i] & 15];
    }
    line[n++] = '\n';
    line[n] = '\0';
    self->config.key_log(self->config.key_log_ctx, line);
    secure_zero(line, sizeof line);
    return 0;
  }
#endif

  Status set_transport_id() {
    if (config.role != sdp::DtlsRole::kServer) return Status::ok();
    static const unsigned char kDefaultId[] = "imsdc-peer";
    const unsigned char* id = kDefaultId;
    std::size_t len = sizeof kDefaultId - 1;
    if (!config.peer_transport_id.empty()) {
      id = reinterpret_cast<const unsigned char*>(config.peer_transport_id.data());
      len = config.peer_transport_id.size();
    }
    if (mbedtls_ssl_set_client_transport_id(&ssl, id, len) != 0)
      return err(Code::kInternal, "dtls transport id");
    return Status::ok();
  }

  void fail(Status s) {
    if (state == DtlsState::kFailed || state == DtlsState::kClosed) return;
    state = DtlsState::kFailed;
    error = s;
    IMSDC_LOGW(kLog, "dtls failed: %s (%s)", s.name(), s.message());
    if (on_state) on_state(cb_ctx, state, s);
  }
  // Returns the failure once to the caller that caused or observed it.
  Status report() {
    if (state == DtlsState::kFailed && !error_reported) {
      error_reported = true;
      return error;
    }
    return Status::ok();
  }

  Status verify_peer() {
    const mbedtls_x509_crt* crt = mbedtls_ssl_get_peer_cert(&ssl);
    if (crt == nullptr || crt->raw.p == nullptr) return err(Code::kTls, "peer sent no certificate");
    const sdp::HashFunc hash = config.remote_fingerprints.front().hash;
    const mbedtls_md_info_t* md = mbedtls_md_info_from_type(md_of(hash));
    if (md == nullptr) return err(Code::kUnsupported, "fingerprint hash unavailable");
    std::uint8_t digest[MBEDTLS_MD_MAX_SIZE];
    if (mbedtls_md(md, crt->raw.p, crt->raw.len, digest) != 0)
      return err(Code::kInternal, "certificate digest");
    if (!sdp::fingerprint_matches(config.remote_fingerprints, hash,
                                  ByteSpan(digest, mbedtls_md_get_size(md)))) {
      return err(Code::kTls, "peer certificate does not match the SDP fingerprint");
    }
    peer.certificate_der.assign(crt->raw.p, crt->raw.p + crt->raw.len);
    Result<crypto::CertInfo> info = crypto::cert_info(ByteSpan(peer.certificate_der));
    if (info.is_ok()) peer.subject = info->subject;
    peer.termination = classify(crt);
    return Status::ok();
  }

  Termination classify(const mbedtls_x509_crt* crt) const {
    if (config.access_edge_trust != nullptr && config.access_edge_trust->size() > 0) {
      std::vector<Bytes> chain;
      for (const mbedtls_x509_crt* c = crt; c != nullptr && c->raw.p != nullptr; c = c->next) {
        if (chain.size() >= IMSDC_MAX_CHAIN_LENGTH) break;
        chain.emplace_back(c->raw.p, c->raw.p + c->raw.len);
      }
      if (crypto::verify_chain(chain, *config.access_edge_trust, port::wall_s()).is_ok())
        return Termination::kE2ae;
    }
    for (const crypto::Fingerprint& fp : config.access_edge_fingerprints) {
      if (crypto::fingerprint_matches(ByteSpan(crt->raw.p, crt->raw.len), fp))
        return Termination::kE2ae;
    }
    return Termination::kE2e;
  }

  void handshake() {
    for (;;) {
      const int rc = mbedtls_ssl_handshake(&ssl);
      if (rc == 0) break;
      if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
      if (rc == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
        // The cookie exchange restarts the server's context; the client's next ClientHello
        // (with the cookie) is processed by the fresh context.
        if (mbedtls_ssl_session_reset(&ssl) != 0 || !set_transport_id().is_ok()) {
          fail(err(Code::kInternal, "dtls session reset"));
          return;
        }
        if (in.empty()) return;
        continue;
      }
      if (rc == MBEDTLS_ERR_SSL_TIMEOUT) {
        fail(err(Code::kTimeout, "dtls handshake timed out"));
        return;
      }
      fail(err(Code::kTls, "dtls handshake failed"));
      return;
    }
    Status v = verify_peer();
    if (!v.is_ok()) {
      mbedtls_ssl_send_alert_message(&ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                     MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
      fail(v);
      return;
    }
    verified = true;
    state = DtlsState::kConnected;
    IMSDC_LOGI(kLog, "dtls connected (%s, %s)", mbedtls_ssl_get_ciphersuite(&ssl),
               peer.termination == Termination::kE2ae ? "e2ae" : "e2e");
    if (on_state) on_state(cb_ctx, state, Status::ok());
  }

  void read_all() {
    while (state == DtlsState::kConnected) {
      const int rc = mbedtls_ssl_read(&ssl, scratch.data(), scratch.size());
      if (rc > 0) {
        if (on_data) on_data(cb_ctx, ByteSpan(scratch.data(), static_cast<std::size_t>(rc)));
        continue;
      }
      if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
      if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        state = DtlsState::kClosed;
        if (on_state) on_state(cb_ctx, state, err(Code::kClosed, "peer closed"));
        return;
      }
      if (rc == MBEDTLS_ERR_SSL_TIMEOUT) return; // only a retransmission timer; keep going
      fail(err(Code::kTls, "dtls read failed"));
      return;
    }
  }

  void drive() {
    if (state == DtlsState::kHandshaking) handshake();
    if (state == DtlsState::kConnected) read_all();
  }
};

DtlsEndpoint::DtlsEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DtlsEndpoint::~DtlsEndpoint() = default;

Result<std::unique_ptr<DtlsEndpoint>> DtlsEndpoint::create(const DtlsConfig& config) {
  if (config.role == sdp::DtlsRole::kNone) return err(Code::kInvalidArgument, "no dtls role");
  if (config.keystore == nullptr) return err(Code::kInvalidArgument, "no keystore");
  if (config.remote_fingerprints.empty())
    return err(Code::kInvalidArgument, "no remote fingerprint");
  if (config.mtu < 256 || config.max_out_datagrams == 0 || config.max_in_datagrams == 0)
    return err(Code::kInvalidArgument, "dtls bounds");

  std::unique_ptr<Impl> impl(new (std::nothrow) Impl());
  if (!impl) return err(Code::kNoMemory, "dtls endpoint");
  Impl& d = *impl;
  d.config = config;

  Result<std::vector<Bytes>> chain = crypto::keystore_chain(*config.keystore);
  if (!chain.is_ok()) return chain.status();
  if (chain->empty()) return err(Code::kNotFound, "keystore has no certificate");
  for (const Bytes& der : chain.value()) {
    if (mbedtls_x509_crt_parse_der(&d.own_chain, der.data(), der.size()) != 0)
      return err(Code::kMalformed, "device certificate does not parse");
  }
  IMSDC_TRY(crypto::internal::keystore_pk_setup(&d.own_key, *config.keystore));

  const int endpoint =
      config.role == sdp::DtlsRole::kServer ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT;
  if (mbedtls_ssl_config_defaults(&d.conf, endpoint, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return err(Code::kInternal, "dtls config");
  mbedtls_ssl_conf_rng(&d.conf, imsdc_crypto_rng, nullptr);
  mbedtls_ssl_conf_ciphersuites(&d.conf, kSuites);
  mbedtls_ssl_conf_min_version(&d.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  // OPTIONAL: the peer must present a certificate (checked in verify_peer), but chain
  // validation is replaced by the fingerprint comparison.
  mbedtls_ssl_conf_authmode(&d.conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
  mbedtls_ssl_conf_verify(&d.conf, accept_any, nullptr);
  // mbedTLS wants a CA list whenever it verifies; our own chain serves as a placeholder and
  // confers no trust (accept_any decides nothing, the fingerprint decides).
  mbedtls_ssl_conf_ca_chain(&d.conf, &d.own_chain, nullptr);
  mbedtls_ssl_conf_handshake_timeout(&d.conf, config.retransmit_min_ms, config.retransmit_max_ms);
  if (mbedtls_ssl_conf_own_cert(&d.conf, &d.own_chain, &d.own_key) != 0)
    return err(Code::kInternal, "dtls own certificate");
  if (config.role == sdp::DtlsRole::kServer) {
    if (mbedtls_ssl_cookie_setup(&d.cookie, imsdc_crypto_rng, nullptr) != 0)
      return err(Code::kEntropy, "dtls cookie key");
    mbedtls_ssl_conf_dtls_cookies(&d.conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                  &d.cookie);
  }
  if (config.key_log != nullptr) {
#if IMSDC_WITH_DTLS_KEYLOG
    IMSDC_LOGW(kLog, "DTLS KEY LOG IS ON: this association's session secrets are written out "
                     "(debug builds only; never on a device in the field)");
    mbedtls_ssl_conf_export_keys_ext_cb(&d.conf, Impl::export_keys, &d);
#else
    return err(Code::kUnsupported, "dtls key log not compiled in (IMSDC_DTLS_KEYLOG)");
#endif
  }
  if (mbedtls_ssl_setup(&d.ssl, &d.conf) != 0) return err(Code::kNoMemory, "dtls setup");
  mbedtls_ssl_set_bio(&d.ssl, &d, Impl::bio_send, Impl::bio_recv, nullptr);
  mbedtls_ssl_set_timer_cb(&d.ssl, &d, Impl::timer_set, Impl::timer_get);
  mbedtls_ssl_set_mtu(&d.ssl, config.mtu);
  IMSDC_TRY(d.set_transport_id());
  d.scratch.assign(MBEDTLS_SSL_IN_CONTENT_LEN, 0);

  std::unique_ptr<DtlsEndpoint> ep(new (std::nothrow) DtlsEndpoint(std::move(impl)));
  if (!ep) return err(Code::kNoMemory, "dtls endpoint");
  return ep;
}

void DtlsEndpoint::set_callbacks(DataFn on_data, StateFn on_state, void* ctx) {
  impl_->on_data = on_data;
  impl_->on_state = on_state;
  impl_->cb_ctx = ctx;
}

Status DtlsEndpoint::start(std::uint64_t now_ms) {
  Impl& d = *impl_;
  if (d.state != DtlsState::kIdle) return err(Code::kState, "dtls already started");
  d.now_ms = now_ms;
  d.state = DtlsState::kHandshaking;
  d.drive();
  return d.report();
}

Status DtlsEndpoint::feed(ByteSpan datagram, std::uint64_t now_ms) {
  Impl& d = *impl_;
  d.now_ms = now_ms;
  if (d.state == DtlsState::kIdle) return err(Code::kState, "dtls not started");
  if (d.state == DtlsState::kFailed || d.state == DtlsState::kClosed) {
    Status s = d.report();
    return s.is_ok() ? err(Code::kState, "dtls closed") : s;
  }
  if (datagram.size() > kMaxDatagram) return err(Code::kTooLarge, "datagram too large");
  if (d.in.size() >= d.config.max_in_datagrams) return err(Code::kWouldBlock, "input queue full");
  if (d.config.role == sdp::DtlsRole::kServer && d.state == DtlsState::kHandshaking) {
    Bytes joined;
    IMSDC_TRY(d.reassembler.process(datagram, now_ms, &joined));
    if (joined.empty()) return Status::ok();
    d.in.push_back(std::move(joined));
  } else {
    d.in.emplace_back(datagram.begin(), datagram.end());
  }
  d.drive();
  return d.report();
}

Status DtlsEndpoint::poll(std::uint64_t now_ms) {
  Impl& d = *impl_;
  d.now_ms = now_ms;
  d.reassembler.expire(now_ms);
  if (d.state == DtlsState::kHandshaking || d.state == DtlsState::kConnected) {
    if (Impl::timer_get(&d) > 0 || !d.in.empty()) d.drive();
  }
  return d.report();
}

std::uint64_t DtlsEndpoint::next_deadline() const {
  const Impl& d = *impl_;
  if (!d.timer_armed || d.state == DtlsState::kFailed || d.state == DtlsState::kClosed)
    return UINT64_MAX;
  return d.now_ms >= d.int_at ? d.fin_at : d.int_at;
}

bool DtlsEndpoint::take_datagram(Bytes* out) {
  Impl& d = *impl_;
  if (d.out.empty()) return false;
  *out = std::move(d.out.front());
  d.out.pop_front();
  return true;
}

std::size_t DtlsEndpoint::max_record_payload() const {
  const int n = mbedtls_ssl_get_max_out_record_payload(&impl_->ssl);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

Status DtlsEndpoint::send(ByteSpan data) {
  Impl& d = *impl_;
  if (d.state != DtlsState::kConnected || !d.verified) return err(Code::kState, "dtls not ready");
  if (data.size() > max_record_payload()) return err(Code::kTooLarge, "record too large");
  const int rc = mbedtls_ssl_write(&d.ssl, data.data(), data.size());
  if (rc >= 0) return Status::ok();
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ)
    return err(Code::kWouldBlock, "dtls output queue full");
  d.fail(err(Code::kTls, "dtls write failed"));
  return d.report();
}

void DtlsEndpoint::close() {
  Impl& d = *impl_;
  if (d.state == DtlsState::kConnected) {
    (void)mbedtls_ssl_close_notify(&d.ssl);
    d.state = DtlsState::kClosed;
    if (d.on_state) d.on_state(d.cb_ctx, d.state, err(Code::kClosed, "closed"));
  } else if (d.state == DtlsState::kIdle || d.state == DtlsState::kHandshaking) {
    d.state = DtlsState::kClosed;
  }
}

DtlsState DtlsEndpoint::state() const {
  return impl_->state;
}
Status DtlsEndpoint::error() const {
  return impl_->error;
}
const PeerIdentity& DtlsEndpoint::peer() const {
  return impl_->peer;
}
const char* DtlsEndpoint::ciphersuite() const {
  if (impl_->state != DtlsState::kConnected) return "";
  const char* s = mbedtls_ssl_get_ciphersuite(&impl_->ssl);
  return s ? s : "";
}

} // namespace imsdc::dc
