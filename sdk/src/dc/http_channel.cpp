#include "dc/http_channel.h"

#include <cstring>
#include <string_view>
#include <utility>

#include "port/port.h"

namespace imsdc::dc {

HttpChannelClient::HttpChannelClient(SendFn send, void* user, std::size_t max_message,
                                     std::string host)
    : send_(send), send_user_(user), max_message_(max_message), host_(std::move(host)) {
  port_.version = IMSDC_HTTP_CLIENT_VERSION;
  port_.ctx = this;
  port_.request = request;
  port_.cancel = cancel;
  port_.poll = poll;
}

int HttpChannelClient::request(void* ctx, const imsdc_http_request* req,
                               const imsdc_http_events* ev) {
  auto* self = static_cast<HttpChannelClient*>(ctx);
  if (self->busy_ || req == nullptr || ev == nullptr || req->method == nullptr ||
      req->url == nullptr || req->url[0] != '/')
    return IMSDC_PORT_EINVAL;
  Result<std::string> text = Status(Code::kInvalidArgument, Module::kDc);
  if (std::strcmp(req->method, "GET") == 0 && req->body_len == 0) {
    text = build_get(req->url, self->host_);
  } else if (std::strcmp(req->method, "POST") == 0 && req->content_type != nullptr) {
    text = build_post(req->url, self->host_, req->content_type,
                      std::string_view(reinterpret_cast<const char*>(req->body), req->body_len));
  }
  if (!text.is_ok() || text->size() > self->max_message_) return IMSDC_PORT_EINVAL;
  HttpResponseParser::Limits limits;
  limits.max_body = req->max_body;
  self->parser_ = HttpResponseParser(limits);
  HttpResponseParser::Sink sink;
  sink.user = self;
  sink.on_head = on_head;
  sink.on_body = on_body;
  self->parser_.set_sink(sink);
  self->events_ = *ev;
  if (!self->send_(self->send_user_, ByteSpan(std::string_view(text.value()))).is_ok())
    return IMSDC_PORT_EIO;
  self->deadline_ms_ = port::now_ms() + (req->timeout_ms != 0 ? req->timeout_ms : 30000);
  self->busy_ = true;
  return IMSDC_PORT_OK;
}

void HttpChannelClient::cancel(void* ctx) {
  static_cast<HttpChannelClient*>(ctx)->busy_ = false; // no events follow
}

int HttpChannelClient::poll(void* ctx, std::uint32_t) {
  auto* self = static_cast<HttpChannelClient*>(ctx);
  if (self->busy_ && port::now_ms() >= self->deadline_ms_) self->finish(IMSDC_PORT_EIO);
  return 0;
}

int HttpChannelClient::on_head(void* user, const HttpResponse& head) {
  auto* self = static_cast<HttpChannelClient*>(user);
  const std::string* type = head.header("Content-Type");
  const std::string* length = head.header("Content-Length");
  std::int64_t n = -1;
  if (length != nullptr && !length->empty() && length->size() <= 12) {
    n = 0;
    for (char c : *length)
      n = n * 10 + (c - '0'); // the parser checked the digits
  }
  if (self->events_.on_response != nullptr)
    self->events_.on_response(self->events_.user, head.status,
                              type != nullptr ? type->c_str() : nullptr, n);
  return 0;
}

int HttpChannelClient::on_body(void* user, const std::uint8_t* data, std::size_t len) {
  auto* self = static_cast<HttpChannelClient*>(user);
  if (self->events_.on_body == nullptr) return 0;
  return self->events_.on_body(self->events_.user, data, len) < 0 ? -1 : 0;
}

void HttpChannelClient::feed(ByteSpan message) {
  if (!busy_) return;
  const Status s = parser_.feed(message);
  if (!busy_) return; // cancelled from a callback
  if (!s.is_ok()) {
    finish(s == Code::kTooLarge ? IMSDC_PORT_ENOSPC : IMSDC_PORT_EIO);
  } else if (parser_.complete()) {
    finish(0);
  }
}

void HttpChannelClient::closed() {
  if (busy_) finish(IMSDC_PORT_ECLOSED);
}

void HttpChannelClient::finish(int result) {
  busy_ = false;
  if (events_.on_done != nullptr) events_.on_done(events_.user, result);
}

} // namespace imsdc::dc
