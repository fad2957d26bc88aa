// fake::MemoryTransport: an imsdc_msg_transport whose far end is the test.
#include "imsdc/port_fake.h"

namespace imsdc::fake {

MemoryTransport::MemoryTransport() {
  port_.version = IMSDC_MSG_TRANSPORT_VERSION;
  port_.ctx = this;
  port_.connect = connect_cb;
  port_.send = send_cb;
  port_.close = close_cb;
  port_.poll = poll_cb;
}

void MemoryTransport::answer_next_connect(int close_reason, int http_status) {
  next_reason_ = close_reason;
  next_http_ = http_status;
}

std::vector<std::string> MemoryTransport::take_sent() {
  std::vector<std::string> out;
  out.swap(from_sdk_);
  return out;
}

void MemoryTransport::deliver(std::string message) {
  to_sdk_.push_back(std::move(message));
}

void MemoryTransport::server_close(int reason) {
  if (open_) close_reason_ = reason;
}

int MemoryTransport::connect_cb(void* ctx, const imsdc_msg_transport_options* opts,
                                const imsdc_msg_transport_events* events) {
  auto* self = static_cast<MemoryTransport*>(ctx);
  if (!opts || !events || !opts->url) return IMSDC_PORT_EINVAL;
  if (self->open_ || self->connecting_) return IMSDC_PORT_EINVAL; // one connection at a time
  self->events_ = *events;
  self->url_ = opts->url;
  self->origin_ = opts->origin ? opts->origin : "";
  self->connecting_ = true;
  self->closing_ = false;
  self->close_reason_ = -1;
  self->to_sdk_.clear();
  ++self->connects_;
  return IMSDC_PORT_OK;
}

int MemoryTransport::send_cb(void* ctx, const std::uint8_t* data, std::size_t len) {
  auto* self = static_cast<MemoryTransport*>(ctx);
  if (!self->open_ || self->closing_) return IMSDC_PORT_ECLOSED;
  self->from_sdk_.emplace_back(reinterpret_cast<const char*>(data), len);
  return static_cast<int>(len);
}

void MemoryTransport::close_cb(void* ctx) {
  auto* self = static_cast<MemoryTransport*>(ctx);
  if (self->open_ || self->connecting_) self->closing_ = true;
}

int MemoryTransport::poll_cb(void* ctx, std::uint32_t /*timeout_ms*/) {
  auto* self = static_cast<MemoryTransport*>(ctx);
  const imsdc_msg_transport_events ev = self->events_;
  if (self->connecting_) {
    self->connecting_ = false;
    if (self->closing_ || self->next_reason_ != 0) {
      int reason = self->closing_ ? IMSDC_TRANSPORT_CLOSED_NORMAL : self->next_reason_;
      int http = self->closing_ ? 0 : self->next_http_;
      self->next_reason_ = self->next_http_ = 0;
      self->closing_ = false;
      if (ev.on_close) ev.on_close(ev.user, reason, http, "scripted");
      return IMSDC_PORT_OK;
    }
    self->open_ = true;
    if (ev.on_open) ev.on_open(ev.user);
  }
  if (!self->open_) return IMSDC_PORT_OK;
  // Deliver queued messages one by one; the SDK may send or close from inside a callback.
  while (self->open_ && !self->closing_ && self->close_reason_ < 0 && !self->to_sdk_.empty()) {
    std::string m = std::move(self->to_sdk_.front());
    self->to_sdk_.erase(self->to_sdk_.begin());
    if (ev.on_message)
      ev.on_message(ev.user, reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
  }
  if (self->closing_ || self->close_reason_ >= 0) {
    int reason = self->closing_ ? IMSDC_TRANSPORT_CLOSED_NORMAL : self->close_reason_;
    self->open_ = false;
    self->closing_ = false;
    self->close_reason_ = -1;
    if (ev.on_close) ev.on_close(ev.user, reason, 0, "closed");
  }
  return IMSDC_PORT_OK;
}

} // namespace imsdc::fake
