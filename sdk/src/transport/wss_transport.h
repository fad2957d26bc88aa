// WssTransport's state: the imsdc_msg_transport contract on a libwebsockets WebSocket
// client over mbedTLS. Internal to sdk/src/transport; the public face is
// imsdc/transport_lws.h.
//
// Life of a connection: connect() creates a private lws context (its CA bundle is the
// caller's, so two transports may trust different anchors) and starts the client
// connection; poll() services it. A failure or close is first recorded (the first reason
// wins) and reported by poll() once lws has let go of the connection, after the context is
// destroyed, so on_close may call connect() again.
#ifndef IMSDC_SRC_TRANSPORT_WSS_TRANSPORT_H
#define IMSDC_SRC_TRANSPORT_WSS_TRANSPORT_H

#include <cstdint>
#include <deque>
#include <string>

#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/port/transport.h"
#include "imsdc/transport_lws.h"
#include "transport/lws_common.h"

namespace imsdc::transport {

// Messages waiting for the socket; send() answers 0 ("try after poll") beyond this.
constexpr std::size_t kWssMaxQueuedMessages = 8;
// How long an orderly close may wait for the peer's close frame before the socket is cut.
constexpr std::uint32_t kWssCloseGraceMs = 2000;
// Upper bound for detail strings handed to on_close.
constexpr std::size_t kDetailMax = 128;

struct WssTransport::Impl {
  enum class State { kIdle, kConnecting, kOpen, kClosing };

  imsdc_msg_transport port{};
  State state = State::kIdle;

  // Connection parameters, copied from the options at connect().
  std::string host;
  std::string host_hdr; // Host header: host[:port]
  std::string path;
  std::string origin;
  std::string subprotocol;
  std::string ca_file;
  std::uint8_t pin[32] = {};
  bool has_pin = false;
  std::uint16_t port_number = 0;
  bool tls = true;
  std::uint32_t connect_timeout_ms = 0;
  std::uint32_t ping_interval_ms = 0;
  imsdc_msg_transport_events events{};

  lws_protocols protocols[2] = {};
  lws_context* context = nullptr;
  lws* wsi = nullptr;
  lws_sorted_usec_list_t wake{};

  // Timers, on the port's monotonic clock.
  std::uint64_t connect_deadline_ms = 0;
  std::uint64_t next_ping_ms = 0;
  std::uint64_t close_deadline_ms = 0;
  bool ping_due = false;
  bool awaiting_pong = false;
  bool close_requested = false;
  bool peer_closed = false;

  // Outgoing messages, each with LWS_PRE bytes of headroom lws writes the frame header into.
  struct Outgoing {
    Bytes frame;
    bool binary = false;
  };
  std::deque<Outgoing> queue;
  // The message being reassembled from frames and lws' read-sized pieces.
  Bytes rx;

  // The recorded end of the connection.
  bool finished = false;
  bool force_teardown = false; // do not wait for lws to close the wsi
  int close_reason = IMSDC_TRANSPORT_CLOSED_NORMAL;
  int http_status = 0;
  char detail[kDetailMax] = {};

  int connect(const imsdc_msg_transport_options* opts, const imsdc_msg_transport_events* ev);
  int send(const std::uint8_t* data, std::size_t len);
  void close();
  int poll(std::uint32_t timeout_ms);

  // Records why the connection ends; later reasons are ignored.
  void finish(int reason, const char* why, bool force);
  void check_timers(std::uint64_t now);
  void teardown();
  int on_lws_event(lws* w, int reason, void* in, std::size_t len);
  int write_next(lws* w);
};

} // namespace imsdc::transport

#endif // IMSDC_SRC_TRANSPORT_WSS_TRANSPORT_H
