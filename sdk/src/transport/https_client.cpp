#include "transport/https_client.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "imsdc/log.h"
#include "port/port.h"
#include "transport/url.h"

namespace imsdc::transport {
namespace {

constexpr const char* kLog = "http";
constexpr std::uint32_t kDefaultTimeoutMs = 30000;

int lws_callback(lws* wsi, enum lws_callback_reasons reason, void* /*user*/, void* in,
                 std::size_t len) {
  lws_context* ctx = lws_get_context(wsi);
  auto* impl = ctx != nullptr ? static_cast<HttpsClient::Impl*>(lws_context_user(ctx)) : nullptr;
  if (impl == nullptr) return 0;
  return impl->on_lws_event(wsi, static_cast<int>(reason), in, len);
}

int port_request(void* ctx, const imsdc_http_request* req, const imsdc_http_events* events) {
  return static_cast<HttpsClient::Impl*>(ctx)->request(req, events);
}
void port_cancel(void* ctx) {
  static_cast<HttpsClient::Impl*>(ctx)->cancel();
}
int port_poll(void* ctx, std::uint32_t timeout_ms) {
  return static_cast<HttpsClient::Impl*>(ctx)->poll(timeout_ms);
}

int close_code(imsdc_transport_close_reason r) {
  return -100 - static_cast<int>(r);
}

} // namespace

int HttpsClient::Impl::request(const imsdc_http_request* req, const imsdc_http_events* ev) {
  if (active || context != nullptr) return IMSDC_PORT_EFAIL;
  if (req == nullptr || ev == nullptr || req->url == nullptr || req->method == nullptr) {
    return IMSDC_PORT_EINVAL;
  }
  const std::string m = req->method;
  if (m != "GET" && m != "POST") return IMSDC_PORT_EINVAL;
  if (req->content_type != nullptr && !is_header_value(req->content_type, 100)) {
    return IMSDC_PORT_EINVAL;
  }
  if (req->body_len > kHttpMaxRequestBody || (req->body_len != 0 && req->body == nullptr)) {
    return IMSDC_PORT_EINVAL;
  }
  // A certificate without its key (or the reverse) would silently fall back to no client
  // authentication; refuse it instead.
  if ((req->client_cert_file == nullptr) != (req->client_key_file == nullptr)) {
    return IMSDC_PORT_EINVAL;
  }
  auto url = parse_url(req->url);
  if (!url) {
    return url.status() == Code::kUnsupported ? IMSDC_PORT_EUNSUPP : IMSDC_PORT_EINVAL;
  }
  if (url->scheme != "https" && url->scheme != "http") return IMSDC_PORT_EUNSUPP;
  if (!url->tls && !req->allow_plain) {
    IMSDC_LOGW(kLog, "http:// refused: plain HTTP needs the allow_plain test option");
    return IMSDC_PORT_EINVAL;
  }

  method = m;
  host = url->host;
  path = url->path;
  content_type = req->content_type != nullptr ? req->content_type : "";
  ca_file = req->ca_file != nullptr ? req->ca_file : "";
  cert_file = req->client_cert_file != nullptr ? req->client_cert_file : "";
  key_file = req->client_key_file != nullptr ? req->client_key_file : "";
  body.assign(req->body, req->body + req->body_len);
  body_sent = 0;
  max_body = req->max_body;
  received = 0;
  events = *ev;
  finished = false;
  force_teardown = false;
  cancelled = false;
  result = 0;
  const std::uint32_t timeout = req->timeout_ms != 0 ? req->timeout_ms : kDefaultTimeoutMs;

  protocols[0] = lws_protocols{};
  protocols[0].name = "imsdc-http";
  protocols[0].callback = lws_callback;
  protocols[1] = lws_protocols{};

  ClientContextOptions co;
  co.protocols = protocols;
  co.user = this;
  co.ca_file = ca_file.empty() ? nullptr : ca_file.c_str();
  co.client_cert_file = cert_file.empty() ? nullptr : cert_file.c_str();
  co.client_key_file = key_file.empty() ? nullptr : key_file.c_str();
  co.timeout_ms = timeout;
  context = create_client_context(co);
  if (context == nullptr) {
    IMSDC_LOGW(kLog, "could not create the HTTP context (CA or client key file unreadable?)");
    return IMSDC_PORT_ENOMEM;
  }

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof(ci));
  ci.context = context;
  ci.address = host.c_str();
  ci.port = url->port;
  ci.path = path.c_str();
  host_hdr = host_header(host, url->port, url->tls);
  ci.host = host_hdr.c_str();
  ci.method = method.c_str();
  ci.local_protocol_name = protocols[0].name;
  // Redirects are for the caller to judge (a redirect may leave the trusted host).
  ci.ssl_connection = (url->tls ? LCCSCF_USE_SSL : 0) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  ci.alpn = "http/1.1";
  ci.pwsi = &wsi;

  active = true;
  deadline_ms = port::now_ms() + timeout;
  if (lws_client_connect_via_info(&ci) == nullptr && !finished) {
    finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), true);
  }
  IMSDC_LOGD(kLog, "%s %s:%u%s", method.c_str(), host.c_str(), static_cast<unsigned>(url->port),
             path.c_str());
  return IMSDC_PORT_OK;
}

void HttpsClient::Impl::cancel() {
  if (!active) return;
  cancelled = true;
  if (in_service) {
    // Called from one of our callbacks: the context cannot be destroyed under lws' feet;
    // poll() tears it down when lws_service() returns.
    finish(IMSDC_PORT_ECLOSED, true);
    return;
  }
  teardown();
}

void HttpsClient::Impl::finish(int res, bool force) {
  if (!finished) {
    finished = true;
    result = res;
  }
  if (force) force_teardown = true;
}

void HttpsClient::Impl::teardown() {
  if (context != nullptr) {
    cancel_wake(&wake);
    lws_context_destroy(context);
    context = nullptr;
  }
  wsi = nullptr;
  active = false;
  body.clear();
}

int HttpsClient::Impl::poll(std::uint32_t timeout_ms) {
  if (!active) return IMSDC_PORT_OK;
  std::uint64_t now = port::now_ms();
  if (!finished && now >= deadline_ms) finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), true);
  if (!(finished && force_teardown)) {
    std::uint32_t wait = timeout_ms;
    const std::uint64_t left = deadline_ms > now ? deadline_ms - now : 0;
    if (left < wait) wait = static_cast<std::uint32_t>(left);
    if (finished) wait = 0;
    in_service = true;
    const int rc = service_for(context, &wake, wait);
    in_service = false;
    if (rc < 0) finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), true);
    now = port::now_ms();
    if (!finished && now >= deadline_ms) {
      IMSDC_LOGD(kLog, "exchange timed out");
      finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), true);
    }
  }
  if (!finished || (wsi != nullptr && !force_teardown)) return IMSDC_PORT_OK;
  const int res = result;
  const imsdc_http_events ev = events;
  const bool silent = cancelled;
  teardown();
  if (silent) return IMSDC_PORT_OK;
  IMSDC_LOGD(kLog, "done: %d", res);
  if (ev.on_done != nullptr) ev.on_done(ev.user, res);
  return IMSDC_PORT_OK;
}

int HttpsClient::Impl::on_lws_event(lws* w, int reason, void* in, std::size_t len) {
  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
    if (finished) return -1;
    if (method != "POST") return 0;
    auto** p = static_cast<unsigned char**>(in);
    unsigned char* end = *p + len;
    if (!content_type.empty() &&
        lws_add_http_header_by_token(w, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     reinterpret_cast<const unsigned char*>(content_type.c_str()),
                                     static_cast<int>(content_type.size()), p, end) != 0) {
      return -1;
    }
    char n[24];
    const int nl = std::snprintf(n, sizeof(n), "%zu", body.size());
    if (lws_add_http_header_by_token(w, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                     reinterpret_cast<const unsigned char*>(n), nl, p, end) != 0) {
      return -1;
    }
    if (!body.empty()) {
      lws_client_http_body_pending(w, 1);
      lws_callback_on_writable(w);
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
    if (finished) return -1;
    if (body_sent >= body.size()) return 0;
    std::uint8_t buf[LWS_PRE + kHttpReadChunk];
    std::size_t n = body.size() - body_sent;
    if (n > kHttpReadChunk) n = kHttpReadChunk;
    std::memcpy(buf + LWS_PRE, body.data() + body_sent, n);
    const bool last = body_sent + n == body.size();
    if (lws_write(w, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        static_cast<int>(n)) {
      finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), false);
      return -1;
    }
    body_sent += n;
    if (last) {
      lws_client_http_body_pending(w, 0);
    } else {
      lws_callback_on_writable(w);
    }
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
    if (finished) return -1;
    const int status = static_cast<int>(lws_http_client_http_response(w));
    char type[128];
    if (lws_hdr_copy(w, type, sizeof(type), WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0) type[0] = '\0';
    std::int64_t length = -1;
    char cl[32];
    if (lws_hdr_copy(w, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
      char* endp = nullptr;
      const long long v = std::strtoll(cl, &endp, 10);
      if (endp != cl && *endp == '\0' && v >= 0) length = v;
    }
    // Refuse an announced oversize body before reading a byte of it.
    if (length >= 0 && static_cast<std::uint64_t>(length) > max_body) {
      finish(IMSDC_PORT_ENOSPC, true);
      return -1;
    }
    if (events.on_response != nullptr) {
      events.on_response(events.user, status, type[0] != '\0' ? type : nullptr, length);
    }
    return 0;
  }
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
    if (finished) return -1;
    // lws hands over the body only when asked to read it, through the _READ callback.
    char buf[LWS_PRE + kHttpReadChunk];
    char* px = buf + LWS_PRE;
    int lenx = static_cast<int>(kHttpReadChunk);
    if (lws_http_client_read(w, &px, &lenx) < 0) {
      if (!finished) finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), false);
      return -1;
    }
    return 0;
  }
  case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ: {
    if (finished) return -1;
    received += len;
    if (received > max_body) {
      finish(IMSDC_PORT_ENOSPC, true);
      return -1;
    }
    if (events.on_body != nullptr) {
      const int rc = events.on_body(events.user, static_cast<const std::uint8_t*>(in), len);
      if (rc < 0) {
        finish(rc, true);
        return -1;
      }
    }
    return 0;
  }
  case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
    // The connection may stay open for reuse; we do not reuse it, so end here.
    finish(0, true);
    return 0;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
    if (!finished) {
      const char* text = static_cast<const char*>(in);
      IMSDC_LOGD(kLog, "connection error: %s", text != nullptr ? text : "(none)");
      imsdc_transport_close_reason why = classify_connect_error(text);
      if (why == IMSDC_TRANSPORT_CLOSED_REFUSED) why = IMSDC_TRANSPORT_CLOSED_NETWORK;
      finish(close_code(why), false);
    }
    wsi = nullptr;
    return 0;
  }
  case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    if (!finished) finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), false);
    wsi = nullptr;
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    if (w == wsi) wsi = nullptr;
    if (!finished && active) finish(close_code(IMSDC_TRANSPORT_CLOSED_NETWORK), false);
    return 0;
  default:
    return 0;
  }
}

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsClient::~HttpsClient() {
  if (impl_) impl_->teardown();
}

Result<std::unique_ptr<HttpsClient>> HttpsClient::create() {
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl());
  if (!impl) return Status(Code::kNoMemory, Module::kTransport);
  impl->port.version = IMSDC_HTTP_CLIENT_VERSION;
  impl->port.ctx = impl.get();
  impl->port.request = port_request;
  impl->port.cancel = port_cancel;
  impl->port.poll = port_poll;
  std::unique_ptr<HttpsClient> c(new (std::nothrow) HttpsClient(std::move(impl)));
  if (!c) return Status(Code::kNoMemory, Module::kTransport);
  return c;
}

const imsdc_http_client* HttpsClient::port() const {
  return &impl_->port;
}

} // namespace imsdc::transport
