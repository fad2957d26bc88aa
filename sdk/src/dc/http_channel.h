// The HTTP client interface (platform/include/imsdc/port/http.h) over one data channel:
// the UE's side of an HTTP exchange with a DC application server on an application data
// channel (PROTOCOL_PROFILE.md section 7: POST /avatar/representation, the JWE streamed back
// in messages). The request goes out as one DC message; the response is parsed by the
// bootstrap HttpResponseParser in streaming mode, so a large body is handed on piece by piece
// and never held whole.
//
// Sans-I/O: the owner sends through the given function (normally Association::send on the
// channel), feeds every message received on that channel to feed(), reports the channel's
// close with closed(), and calls the port's poll() from its loop for the timeout. The peer
// was authenticated by DTLS (certificate fingerprint from the SDP), so the request's ca_file
// and client certificate fields do not apply and are ignored.
#ifndef IMSDC_SRC_DC_HTTP_CHANNEL_H
#define IMSDC_SRC_DC_HTTP_CHANNEL_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "dc/bootstrap_http.h"
#include "imsdc/bytes.h"
#include "imsdc/port/http.h"
#include "imsdc/status.h"

namespace imsdc::dc {

class HttpChannelClient {
public:
  using SendFn = Status (*)(void* user, ByteSpan message);
  // max_message: the peer's max-message-size (the request must fit in one message); host:
  // the Host header (the DC application's name).
  HttpChannelClient(SendFn send, void* user, std::size_t max_message, std::string host);
  HttpChannelClient(const HttpChannelClient&) = delete;
  HttpChannelClient& operator=(const HttpChannelClient&) = delete;

  // The contract struct, valid for the life of this object. request() takes a url that is
  // the request target on the channel ("/avatar/representation"); it returns
  // IMSDC_PORT_EINVAL for another url, a method other than GET/POST or a request larger than
  // one message, IMSDC_PORT_EIO when the send fails. on_done results: 0, IMSDC_PORT_ENOSPC
  // (body over max_body), IMSDC_PORT_EIO (malformed response, consumer stopped, timeout),
  // IMSDC_PORT_ECLOSED (channel closed first).
  const imsdc_http_client* port() const { return &port_; }
  // One message received on the channel. Messages while no exchange runs are dropped.
  void feed(ByteSpan message);
  // The channel closed or the association failed.
  void closed();
  bool busy() const { return busy_; }

private:
  static int request(void* ctx, const imsdc_http_request* req, const imsdc_http_events* ev);
  static void cancel(void* ctx);
  static int poll(void* ctx, std::uint32_t timeout_ms);
  static int on_head(void* user, const HttpResponse& head);
  static int on_body(void* user, const std::uint8_t* data, std::size_t len);
  void finish(int result);

  imsdc_http_client port_{};
  SendFn send_;
  void* send_user_;
  std::size_t max_message_;
  std::string host_;
  HttpResponseParser parser_;
  imsdc_http_events events_{};
  std::uint64_t deadline_ms_ = 0;
  bool busy_ = false;
};

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_HTTP_CHANNEL_H
