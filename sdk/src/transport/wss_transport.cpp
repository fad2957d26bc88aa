#include "transport/wss_transport.h"

#include <cstdio>
#include <cstring>
#include <new>

#include "imsdc/log.h"
#include "port/port.h"
#include "transport/url.h"

namespace imsdc::transport {
namespace {

constexpr const char* kLog = "transport";

// RFC 7118 allows text or binary frames. SIP is text, and text frames are what browsers'
// SIP stacks and Kamailio expect, but a peer must reject a text frame that is not UTF-8
// (RFC 6455 §8.1), so a message with a binary body goes as a binary frame.
bool is_utf8(const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = p[i];
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    static const std::uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

int lws_callback(lws* wsi, enum lws_callback_reasons reason, void* /*user*/, void* in,
                 std::size_t len) {
  lws_context* ctx = lws_get_context(wsi);
  auto* impl = ctx != nullptr ? static_cast<WssTransport::Impl*>(lws_context_user(ctx)) : nullptr;
  if (impl == nullptr) return 0;
  return impl->on_lws_event(wsi, static_cast<int>(reason), in, len);
}

int port_connect(void* ctx, const imsdc_msg_transport_options* opts,
                 const imsdc_msg_transport_events* events) {
  return static_cast<WssTransport::Impl*>(ctx)->connect(opts, events);
}
int port_send(void* ctx, const std::uint8_t* data, std::size_t len) {
  return static_cast<WssTransport::Impl*>(ctx)->send(data, len);
}
void port_close(void* ctx) {
  static_cast<WssTransport::Impl*>(ctx)->close();
}
int port_poll(void* ctx, std::uint32_t timeout_ms) {
  return static_cast<WssTransport::Impl*>(ctx)->poll(timeout_ms);
}

} // namespace

int WssTransport::Impl::connect(const imsdc_msg_transport_options* opts,
                                const imsdc_msg_transport_events* ev) {
  if (state != State::kIdle || context != nullptr) return IMSDC_PORT_EFAIL;
  if (opts == nullptr || ev == nullptr || opts->url == nullptr) return IMSDC_PORT_EINVAL;
  // lws formats Origin into a 128-byte field and the protocol into a 64-byte copy.
  if (opts->subprotocol == nullptr || !is_header_value(opts->subprotocol, 48) ||
      std::strpbrk(opts->subprotocol, " ,;") != nullptr) {
    return IMSDC_PORT_EINVAL;
  }
  if (opts->origin != nullptr && !is_header_value(opts->origin, 110)) return IMSDC_PORT_EINVAL;
  auto url = parse_url(opts->url);
  if (!url) {
    return url.status() == Code::kUnsupported ? IMSDC_PORT_EUNSUPP : IMSDC_PORT_EINVAL;
  }
  if (url->scheme != "wss" && url->scheme != "ws") return IMSDC_PORT_EUNSUPP;
  if (!url->tls && !opts->allow_plain) {
    IMSDC_LOGW(kLog, "ws:// refused: plain WebSocket needs the allow_plain test option");
    return IMSDC_PORT_EINVAL;
  }

  host = url->host;
  path = url->path;
  port_number = url->port;
  tls = url->tls;
  origin = opts->origin != nullptr ? opts->origin : "";
  subprotocol = opts->subprotocol;
  ca_file = opts->ca_file != nullptr ? opts->ca_file : "";
  has_pin = opts->spki_sha256_pin != nullptr;
  if (has_pin) std::memcpy(pin, opts->spki_sha256_pin, sizeof(pin));
  connect_timeout_ms = opts->connect_timeout_ms != 0 ? opts->connect_timeout_ms : 10000;
  ping_interval_ms = opts->ping_interval_ms;
  events = *ev;

  queue.clear();
  rx.clear();
  finished = false;
  force_teardown = false;
  close_reason = IMSDC_TRANSPORT_CLOSED_NORMAL;
  http_status = 0;
  detail[0] = '\0';
  ping_due = awaiting_pong = close_requested = peer_closed = false;

  // lws binds the connection to the protocol of this name and sends it in
  // Sec-WebSocket-Protocol; whether the server echoed it is checked at
  // LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH, because lws 4.1 accepts a missing echo.
  protocols[0] = lws_protocols{};
  protocols[0].name = subprotocol.c_str();
  protocols[0].callback = lws_callback;
  protocols[0].rx_buffer_size = 4096;
  protocols[1] = lws_protocols{};

  ClientContextOptions co;
  co.protocols = protocols;
  co.user = this;
  co.ca_file = ca_file.empty() ? nullptr : ca_file.c_str();
  co.timeout_ms = connect_timeout_ms;
  context = create_client_context(co);
  if (context == nullptr) {
    IMSDC_LOGW(kLog, "could not create the WebSocket context (CA bundle unreadable?)");
    return IMSDC_PORT_ENOMEM;
  }

  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof(ci));
  ci.context = context;
  ci.address = host.c_str();
  ci.port = port_number;
  ci.path = path.c_str();
  host_hdr = host_header(host, port_number, tls);
  ci.host = host_hdr.c_str();
  ci.origin = origin.empty() ? nullptr : origin.c_str();
  ci.protocol = subprotocol.c_str();
  ci.local_protocol_name = subprotocol.c_str();
  ci.ietf_version_or_minus_one = -1;
  // No LCCSCF_ALLOW_* flag: an untrusted, expired or misnamed certificate fails the open.
  ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
  ci.pwsi = &wsi;

  state = State::kConnecting;
  connect_deadline_ms = port::now_ms() + connect_timeout_ms;
  if (lws_client_connect_via_info(&ci) == nullptr && !finished) {
    // lws may already have reported the failure through CLIENT_CONNECTION_ERROR.
    finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "connect failed", true);
  }
  IMSDC_LOGD(kLog, "connecting to %s:%u%s", host.c_str(), static_cast<unsigned>(port_number),
             tls ? " (TLS)" : " (plain)");
  return IMSDC_PORT_OK;
}

int WssTransport::Impl::send(const std::uint8_t* data, std::size_t len) {
  if (state != State::kOpen || close_requested || finished) return IMSDC_PORT_ECLOSED;
  if (data == nullptr || len == 0) return IMSDC_PORT_EINVAL;
  if (len > IMSDC_MAX_SIP_MESSAGE) return IMSDC_PORT_ENOSPC;
  if (queue.size() >= kWssMaxQueuedMessages) return 0;
  Outgoing out;
  out.frame.resize(LWS_PRE + len);
  std::memcpy(out.frame.data() + LWS_PRE, data, len);
  out.binary = !is_utf8(data, len);
  queue.push_back(std::move(out));
  lws_callback_on_writable(wsi);
  return static_cast<int>(len);
}

void WssTransport::Impl::close() {
  if (state == State::kIdle || finished) return;
  if (state == State::kConnecting) {
    finish(IMSDC_TRANSPORT_CLOSED_NORMAL, "closed by application", true);
    return;
  }
  if (!close_requested) {
    close_requested = true;
    state = State::kClosing;
    close_deadline_ms = port::now_ms() + kWssCloseGraceMs;
    lws_callback_on_writable(wsi);
  }
}

void WssTransport::Impl::finish(int reason, const char* why, bool force) {
  if (!finished) {
    finished = true;
    close_reason = reason;
    (void)std::snprintf(detail, sizeof(detail), "%s", why != nullptr ? why : "");
  }
  if (force) force_teardown = true;
}

void WssTransport::Impl::check_timers(std::uint64_t now) {
  if (finished) return;
  if (state == State::kConnecting && now >= connect_deadline_ms) {
    finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "connect timeout", true);
    return;
  }
  if (state == State::kClosing && now >= close_deadline_ms) {
    // The peer never answered our close frame; the close is still ours and orderly.
    finish(IMSDC_TRANSPORT_CLOSED_NORMAL, "closed (peer did not answer the close)", true);
    return;
  }
  if (state == State::kOpen && ping_interval_ms != 0 && now >= next_ping_ms) {
    if (awaiting_pong) {
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "keepalive: no pong", true);
      return;
    }
    ping_due = true;
    next_ping_ms = now + ping_interval_ms;
    lws_callback_on_writable(wsi);
  }
}

void WssTransport::Impl::teardown() {
  if (context != nullptr) {
    cancel_wake(&wake);
    // Destroying the context closes a remaining connection; its callbacks see `finished`
    // and change nothing.
    lws_context_destroy(context);
    context = nullptr;
  }
  wsi = nullptr;
  queue.clear();
  rx.clear();
  state = State::kIdle;
}

int WssTransport::Impl::poll(std::uint32_t timeout_ms) {
  if (context == nullptr) return IMSDC_PORT_OK;
  check_timers(port::now_ms());
  if (!(finished && force_teardown)) {
    // Never sleep past our own next deadline.
    std::uint32_t wait = timeout_ms;
    const std::uint64_t now = port::now_ms();
    std::uint64_t deadline = 0;
    if (state == State::kConnecting) deadline = connect_deadline_ms;
    if (state == State::kClosing) deadline = close_deadline_ms;
    if (state == State::kOpen && ping_interval_ms != 0) deadline = next_ping_ms;
    if (deadline != 0) {
      const std::uint64_t left = deadline > now ? deadline - now : 0;
      if (left < wait) wait = static_cast<std::uint32_t>(left);
    }
    if (finished) wait = 0;
    if (service_for(context, &wake, wait) < 0 && !finished) {
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "service failed", true);
    }
    check_timers(port::now_ms());
  }
  if (!finished || (wsi != nullptr && !force_teardown)) return IMSDC_PORT_OK;

  // Copy what on_close needs: the callback may call connect(), which resets the members.
  char why[kDetailMax];
  std::memcpy(why, detail, sizeof(why));
  const int reason = close_reason;
  const int status = http_status;
  const imsdc_msg_transport_events ev = events;
  teardown();
  IMSDC_LOGD(kLog, "closed: reason %d, HTTP %d, %s", reason, status, why);
  if (ev.on_close != nullptr) ev.on_close(ev.user, reason, status, why);
  return IMSDC_PORT_OK;
}

int WssTransport::Impl::write_next(lws* w) {
  if (close_requested) {
    static const char kBye[] = "bye";
    lws_close_reason(w, LWS_CLOSE_STATUS_NORMAL,
                     reinterpret_cast<unsigned char*>(const_cast<char*>(kBye)), sizeof(kBye) - 1);
    return -1; // lws sends the close frame and waits for the peer's
  }
  if (ping_due) {
    ping_due = false;
    awaiting_pong = true;
    std::uint8_t buf[LWS_PRE + 1];
    if (lws_write(w, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0) {
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "ping write failed", false);
      return -1;
    }
  } else if (!queue.empty()) {
    Outgoing& out = queue.front();
    const std::size_t n = out.frame.size() - LWS_PRE;
    // lws keeps whatever the socket does not take at once and sends it before the next
    // WRITEABLE, so one call moves a whole message.
    const int rc =
        lws_write(w, out.frame.data() + LWS_PRE, n, out.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (rc < static_cast<int>(n)) {
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "write failed", false);
      return -1;
    }
    queue.pop_front();
  }
  if (ping_due || !queue.empty()) lws_callback_on_writable(w);
  return 0;
}

int WssTransport::Impl::on_lws_event(lws* w, int reason, void* in, std::size_t len) {
  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
    if (finished) return -1;
    // TLS is up and nothing has been sent yet: the moment to check the pin, before the
    // upgrade request (with its Origin) goes to a server we do not trust.
    if (tls && has_pin) {
      std::uint8_t got[32];
      Status s = peer_spki_sha256(w, got);
      if (!s) {
        finish(IMSDC_TRANSPORT_CLOSED_TLS, s.message(), false);
        return -1;
      }
      if (!constant_time_equal(ByteSpan(got, sizeof(got)), ByteSpan(pin, sizeof(pin)))) {
        finish(IMSDC_TRANSPORT_CLOSED_TLS, "SPKI pin mismatch", false);
        return -1;
      }
    }
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
    // Called with the upgrade response's headers, before lws checks them: keep the status
    // for a refusal (403 for a wrong Origin, 400 for a wrong subprotocol at Kamailio).
    http_status = lws_http_client_http_response(w);
    return 0;
  case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: {
    char got[64];
    const int n = lws_hdr_copy(w, got, sizeof(got), WSI_TOKEN_PROTOCOL);
    if (n <= 0 || subprotocol != got) {
      finish(IMSDC_TRANSPORT_CLOSED_REFUSED, "subprotocol not echoed by the server", false);
      return 1;
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (finished) return -1;
    state = State::kOpen;
    http_status = 101;
    next_ping_ms = port::now_ms() + ping_interval_ms;
    IMSDC_LOGD(kLog, "open, subprotocol %s", subprotocol.c_str());
    if (events.on_open != nullptr) events.on_open(events.user);
    if (!queue.empty() && wsi != nullptr) lws_callback_on_writable(wsi);
    return 0;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
    if (!finished) {
      const char* text = static_cast<const char*>(in);
      int why = classify_connect_error(text);
      if (http_status != 0 && http_status != 101) why = IMSDC_TRANSPORT_CLOSED_REFUSED;
      char msg[kDetailMax];
      (void)std::snprintf(msg, sizeof(msg), "%s", text != nullptr ? text : "connect failed");
      finish(why, msg, false);
    }
    wsi = nullptr;
    return 0;
  }
  case LWS_CALLBACK_CLIENT_RECEIVE: {
    if (finished || close_requested) return 0;
    if (rx.size() + len > IMSDC_MAX_SIP_MESSAGE) {
      IMSDC_LOGW(kLog, "incoming message exceeds %u bytes: closing",
                 static_cast<unsigned>(IMSDC_MAX_SIP_MESSAGE));
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "message too large (kTooLarge)", false);
      lws_close_reason(w, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
      return -1;
    }
    const auto* p = static_cast<const std::uint8_t*>(in);
    rx.insert(rx.end(), p, p + len);
    if (lws_is_final_fragment(w) && lws_remaining_packet_payload(w) == 0) {
      if (events.on_message != nullptr) events.on_message(events.user, rx.data(), rx.size());
      rx.clear();
    }
    return 0;
  }
  case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
    awaiting_pong = false;
    return 0;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (finished) return -1;
    return write_next(w);
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    peer_closed = true;
    return 0; // lws answers the close frame
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (close_requested || peer_closed) {
      finish(IMSDC_TRANSPORT_CLOSED_NORMAL, peer_closed ? "closed by peer" : "closed", false);
    } else {
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "connection lost", false);
    }
    wsi = nullptr;
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    if (w == wsi) wsi = nullptr;
    if (!finished && state != State::kIdle) {
      finish(IMSDC_TRANSPORT_CLOSED_NETWORK, "connection lost", false);
    }
    return 0;
  default:
    return 0;
  }
}

WssTransport::WssTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WssTransport::~WssTransport() {
  if (impl_) impl_->teardown();
}

Result<std::unique_ptr<WssTransport>> WssTransport::create() {
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl());
  if (!impl) return Status(Code::kNoMemory, Module::kTransport);
  impl->port.version = IMSDC_MSG_TRANSPORT_VERSION;
  impl->port.ctx = impl.get();
  impl->port.connect = port_connect;
  impl->port.send = port_send;
  impl->port.close = port_close;
  impl->port.poll = port_poll;
  std::unique_ptr<WssTransport> t(new (std::nothrow) WssTransport(std::move(impl)));
  if (!t) return Status(Code::kNoMemory, Module::kTransport);
  return t;
}

const imsdc_msg_transport* WssTransport::port() const {
  return &impl_->port;
}

} // namespace imsdc::transport
