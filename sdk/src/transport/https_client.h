// HttpsClient's state: the imsdc_http_client contract on libwebsockets' HTTP/1.1 client over
// mbedTLS. Internal to sdk/src/transport; the public face is imsdc/transport_lws.h.
//
// Each request gets a private lws context, because the CA bundle and the client certificate
// are per request (the BAR, an x5u host and a WWSF may each need different ones) and lws
// binds them to a vhost. The result is recorded when known and reported by poll() after
// the context is destroyed, so on_done may start the next request.
#ifndef IMSDC_SRC_TRANSPORT_HTTPS_CLIENT_H
#define IMSDC_SRC_TRANSPORT_HTTPS_CLIENT_H

#include <cstdint>
#include <string>

#include "imsdc/bytes.h"
#include "imsdc/port/http.h"
#include "imsdc/transport_lws.h"
#include "transport/lws_common.h"

namespace imsdc::transport {

// Size of the pieces the body is read and delivered in.
constexpr std::size_t kHttpReadChunk = 4096;
// Largest request body accepted (POSTs are small JSON documents or CSRs).
constexpr std::size_t kHttpMaxRequestBody = 65536;

struct HttpsClient::Impl {
  imsdc_http_client port{};
  bool active = false;

  std::string method;
  std::string host;
  std::string host_hdr; // Host header: host[:port]
  std::string path;
  std::string content_type;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  Bytes body;
  std::size_t body_sent = 0;
  std::uint64_t max_body = 0;
  std::uint64_t received = 0;
  std::uint64_t deadline_ms = 0;
  imsdc_http_events events{};

  lws_protocols protocols[2] = {};
  lws_context* context = nullptr;
  lws* wsi = nullptr;
  lws_sorted_usec_list_t wake{};

  bool finished = false;
  bool force_teardown = false;
  bool cancelled = false;  // cancel(): no on_done
  bool in_service = false; // inside lws_service(), i.e. inside one of our callbacks
  int result = 0;

  int request(const imsdc_http_request* req, const imsdc_http_events* ev);
  void cancel();
  int poll(std::uint32_t timeout_ms);

  void finish(int res, bool force);
  void teardown();
  int on_lws_event(lws* w, int reason, void* in, std::size_t len);
};

} // namespace imsdc::transport

#endif // IMSDC_SRC_TRANSPORT_HTTPS_CLIENT_H
