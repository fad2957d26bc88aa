// C API: one IMS data-channel peer over the POSIX port's UDP: SDP offer/answer (sdp/), then
// ICE host checks, DTLS and SCTP on a dc::Link, driven from imsdc_client_poll().
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

#include "capi/capi_internal.h"
#include "dc/association.h"
#include "dc/link.h"
#include "ice/agent.h"
#include "imsdc/port/os.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

namespace imsdc::capi {

class DcPeer final : public Polled, public dc::Link::Handler {
public:
  imsdc_client* client = nullptr;
  imsdc_dc_callbacks cb{};
  sdp::ChannelPolicy policy;
  std::vector<sdp::DcMap> app_channels;
  bool bootstrap = false;
  std::optional<sdp::SessionDescription> offer; // ours, while waiting for the answer
  bool negotiated = false;
  int state = IMSDC_DC_IDLE;
  std::unique_ptr<dc::Link> link; // last: goes first, before the policy it points to

  ~DcPeer() override {
    if (client) client->detach(this);
    if (link) link->close();
  }

  // The association once started, else null.
  dc::Association* assoc() const { return link ? link->association() : nullptr; }

  // Starts ICE (the offerer controls) or, with no_ice, DTLS. CONNECTING once the
  // association exists, even when a later step of the start failed.
  Status start(const sdp::Negotiated& neg) {
    const Status s =
        link->start(neg, offer.has_value(), &policy, this, imsdc_port_clock_monotonic_ms());
    if (assoc() != nullptr && state == IMSDC_DC_IDLE) state = IMSDC_DC_CONNECTING;
    return s;
  }

  void service(std::uint64_t now) override { link->service(now); }
  std::uint64_t next_deadline() const override { return link->next_deadline(); }
  void sockets(std::vector<imsdc_port_udp*>* out) const override { link->add_handles(out); }

  void on_state(dc::Link&, dc::AssociationState st, Status s) override {
    if (st == dc::AssociationState::kOpen)
      state = IMSDC_DC_OPEN;
    else if (st == dc::AssociationState::kClosed)
      state = IMSDC_DC_CLOSED;
    else if (st == dc::AssociationState::kFailed)
      state = IMSDC_DC_FAILED;
    else
      return;
    if (cb.on_state) cb.on_state(cb.user, state, to_c(s));
  }
  void on_open(dc::Link&, const dc::ChannelInfo& c) override {
    if (cb.on_channel_open)
      cb.on_channel_open(cb.user, c.stream_id, c.label.c_str(), c.protocol.c_str());
  }
  void on_message(dc::Link&, std::uint16_t sid, ByteSpan d, bool binary) override {
    if (cb.on_message) cb.on_message(cb.user, sid, d.data(), d.size(), binary);
  }
  void on_closed(dc::Link&, std::uint16_t sid) override {
    if (cb.on_channel_closed) cb.on_channel_closed(cb.user, sid);
  }
  void on_writable(dc::Link&, std::uint16_t sid) override {
    if (cb.on_buffered_low) cb.on_buffered_low(cb.user, sid);
  }
};

} // namespace imsdc::capi

struct imsdc_dc_peer {
  imsdc::capi::DcPeer impl;
};

using imsdc::capi::copy_out;
using imsdc::capi::to_c;

namespace {

// The peer's link: its UDP sockets on the bind address, or on every local address (loopback
// when alone), and our half of the SDP: address, fingerprint of the device certificate,
// tls-id, ICE.
imsdc::Status make_link(imsdc::capi::DcPeer* p, const imsdc_dc_config& config) {
  imsdc::dc::Link::Config lc;
  if (config.bind_address) {
    imsdc_port_addr a{};
    if (!imsdc::ice::parse_ip(config.bind_address, 0, &a))
      return imsdc::Status(imsdc::Code::kInvalidArgument, imsdc::Module::kDc, "bind address");
    lc.binds.push_back(a);
  }
  lc.keystore = p->client->keystore->port();
  lc.max_message = config.max_message_size ? config.max_message_size : 65536;
  lc.ice = !config.no_ice;
  auto link = imsdc::dc::Link::create(imsdc::posix::net(), lc);
  if (!link) return link.status();
  p->link = std::move(link.value());
  return imsdc::Status::ok();
}

} // namespace

extern "C" {

int imsdc_dc_peer_create(imsdc_client* client, const imsdc_dc_config* config,
                         const imsdc_dc_callbacks* callbacks, imsdc_dc_peer** out) {
  if (!client || !config || !out) return IMSDC_E_INVALID_ARGUMENT;
  if (config->app_channel_count && !config->app_channels) return IMSDC_E_INVALID_ARGUMENT;
  if (config->allowed_count && !config->allowed_subprotocols) return IMSDC_E_INVALID_ARGUMENT;
  auto* r = new (std::nothrow) imsdc_dc_peer();
  if (!r) return IMSDC_E_NO_MEMORY;
  std::unique_ptr<imsdc_dc_peer> guard(r);
  imsdc::capi::DcPeer& p = r->impl;
  p.client = client;
  if (callbacks) p.cb = *callbacks;
  p.bootstrap = config->bootstrap != 0;
  std::uint16_t sid = imsdc::sdp::kFirstAppStreamId;
  for (std::size_t i = 0; i < config->app_channel_count; ++i) {
    const imsdc_dc_channel& c = config->app_channels[i];
    if (!c.label || !*c.label) {
      p.client = nullptr;
      return IMSDC_E_INVALID_ARGUMENT;
    }
    imsdc::sdp::DcMap m;
    m.stream_id = sid;
    sid = static_cast<std::uint16_t>(sid + 2);
    m.label = c.label;
    if (c.subprotocol) m.subprotocol = c.subprotocol;
    p.app_channels.push_back(m);
  }
  for (std::size_t i = 0; i < config->allowed_count; ++i)
    if (config->allowed_subprotocols[i])
      p.policy.allowed_subprotocols.emplace_back(config->allowed_subprotocols[i]);
  const imsdc::Status s = make_link(&p, *config);
  if (!s) {
    p.client = nullptr; // not attached yet
    return to_c(s);
  }
  client->attach(&p);
  *out = guard.release();
  return IMSDC_OK;
}

int imsdc_dc_peer_create_offer(imsdc_dc_peer* peer, char* sdp, size_t cap, size_t* out_len) {
  if (!peer || !out_len) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::capi::DcPeer& p = peer->impl;
  if (p.offer || p.negotiated) return IMSDC_E_STATE;
  imsdc::sdp::OfferConfig oc;
  oc.local = p.link->local();
  oc.local_bootstrap = p.bootstrap;
  oc.app_channels = p.app_channels;
  auto offer = imsdc::sdp::make_offer(oc);
  if (!offer) return to_c(offer.status());
  auto text = imsdc::sdp::generate(offer.value());
  if (!text) return to_c(text.status());
  const int rc = copy_out(text.value(), sdp, cap, out_len);
  if (rc == IMSDC_OK) p.offer = std::move(offer.value());
  return rc;
}

int imsdc_dc_peer_accept_answer(imsdc_dc_peer* peer, const char* sdp, size_t len) {
  if (!peer || !sdp) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::capi::DcPeer& p = peer->impl;
  if (!p.offer || p.negotiated) return IMSDC_E_STATE;
  auto answer = imsdc::sdp::parse(std::string_view(sdp, len));
  if (!answer) return to_c(answer.status());
  auto neg = imsdc::sdp::apply_answer(*p.offer, answer.value());
  if (!neg) return to_c(neg.status());
  p.negotiated = true;
  return to_c(p.start(neg.value()));
}

int imsdc_dc_peer_accept_offer(imsdc_dc_peer* peer, const char* offer, size_t offer_len,
                               char* answer, size_t cap, size_t* out_len) {
  if (!peer || !offer || !out_len) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::capi::DcPeer& p = peer->impl;
  if (p.offer || p.negotiated) return IMSDC_E_STATE;
  auto parsed = imsdc::sdp::parse(std::string_view(offer, offer_len));
  if (!parsed) return to_c(parsed.status());
  imsdc::sdp::AnswerConfig ac;
  ac.local = p.link->local();
  auto a = imsdc::sdp::make_answer(parsed.value(), ac, p.policy);
  if (!a) return to_c(a.status());
  auto text = imsdc::sdp::generate(a->sdp);
  if (!text) return to_c(text.status());
  const int rc = copy_out(text.value(), answer, cap, out_len);
  if (rc != IMSDC_OK) return rc;
  p.negotiated = true;
  return to_c(p.start(a->result));
}

int imsdc_dc_peer_open_channel(imsdc_dc_peer* peer, const char* label, const char* protocol,
                               uint16_t* out_stream_id) {
  if (!peer || !label || !out_stream_id) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::dc::Association* assoc = peer->impl.assoc();
  if (!assoc) return IMSDC_E_STATE;
  auto sid = assoc->open_channel(label, protocol ? protocol : "");
  if (!sid) return to_c(sid.status());
  *out_stream_id = sid.value();
  peer->impl.link->flush();
  return IMSDC_OK;
}

int imsdc_dc_peer_send(imsdc_dc_peer* peer, uint16_t stream_id, const void* data, size_t len,
                       int binary) {
  if (!peer || (!data && len)) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::dc::Association* assoc = peer->impl.assoc();
  if (!assoc) return IMSDC_E_STATE;
  const imsdc::Status s = assoc->send(
      stream_id, imsdc::ByteSpan(static_cast<const std::uint8_t*>(data), len), binary != 0);
  peer->impl.link->flush();
  return to_c(s);
}

int imsdc_dc_peer_close_channel(imsdc_dc_peer* peer, uint16_t stream_id) {
  if (!peer) return IMSDC_E_INVALID_ARGUMENT;
  imsdc::dc::Association* assoc = peer->impl.assoc();
  if (!assoc) return IMSDC_E_NOT_FOUND;
  const imsdc::Status s = assoc->close_channel(stream_id);
  peer->impl.link->flush();
  return to_c(s);
}

int imsdc_dc_peer_state(const imsdc_dc_peer* peer) {
  return peer ? peer->impl.state : IMSDC_DC_IDLE;
}

void imsdc_dc_peer_destroy(imsdc_dc_peer* peer) {
  delete peer;
}

} // extern "C"
