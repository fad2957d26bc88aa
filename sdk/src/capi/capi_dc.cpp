// C API: one IMS data-channel peer over the POSIX port's UDP: SDP offer/answer (sdp/), ICE
// host checks (ice/), then DTLS + SCTP (dc::Association), driven from imsdc_client_poll().
#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "capi/capi_internal.h"
#include "dc/association.h"
#include "ice/agent.h"
#include "ice/stun.h"
#include "imsdc/port/os.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

namespace imsdc::capi {
namespace {

constexpr std::size_t kMaxSockets = 8;

} // namespace

class DcPeer final : public Polled {
public:
  imsdc_client* client = nullptr;
  imsdc_dc_callbacks cb{};
  bool use_ice = true;
  std::vector<std::pair<imsdc_port_addr, imsdc_port_udp*>> socks;
  sdp::LocalEndpoint local;
  sdp::ChannelPolicy policy;
  std::vector<sdp::DcMap> app_channels;
  bool bootstrap = false;
  std::optional<sdp::SessionDescription> offer; // ours, while waiting for the answer
  bool negotiated = false;
  std::unique_ptr<dc::Association> assoc;
  std::unique_ptr<ice::Agent> agent;
  bool path = false;
  imsdc_port_addr path_local{}, path_remote{};
  int state = IMSDC_DC_IDLE;
  Bytes buf = Bytes(2048);

  ~DcPeer() override {
    if (client) client->detach(this);
    if (assoc) assoc->close();
    flush_assoc();
    const imsdc_port_net* net = posix::net();
    for (auto& s : socks)
      net->udp_close(s.second);
  }

  void send_from(const imsdc_port_addr& from, const imsdc_port_addr& to, const Bytes& d) {
    const imsdc_port_net* net = posix::net();
    for (auto& s : socks)
      if (ice::same_address(s.first, from)) (void)net->udp_send(s.second, &to, d.data(), d.size());
  }
  void flush_assoc() {
    if (!assoc) return;
    Bytes d;
    while (assoc->take_datagram(&d))
      if (path) send_from(path_local, path_remote, d);
  }

  Status start(const sdp::Negotiated& neg) {
    if (!neg.accepted)
      return Status(Code::kRejected, Module::kDc,
                    neg.reject_reason ? neg.reject_reason : "data channel refused");
    dc::AssociationConfig ac = dc::association_config(neg);
    ac.dtls.keystore = client->keystore->port();
    ac.local_max_message = local.max_message_size;
    ac.policy = &policy;
    dc::AssociationCallbacks c;
    c.ctx = this;
    c.on_state = on_state;
    c.on_channel_open = on_open;
    c.on_message = on_message;
    c.on_channel_closed = on_closed;
    c.on_buffered_low = on_low;
    auto a = dc::Association::create(ac, c);
    if (!a) return a.status();
    assoc = std::move(a.value());
    state = IMSDC_DC_CONNECTING;
    const std::uint64_t now = imsdc_port_clock_monotonic_ms();
    if (use_ice) {
      if (neg.remote_ice.ufrag.empty())
        return Status(Code::kRejected, Module::kDc, "the peer's SDP has no ICE");
      ice::AgentConfig ic;
      ic.role = offer ? ice::Role::kControlling : ice::Role::kControlled;
      ic.local = local.ice.params;
      for (const auto& s : socks)
        ic.local_candidates.push_back(s.first);
      auto ag = ice::Agent::create(ic, ice::AgentCallbacks{});
      if (!ag) return ag.status();
      agent = std::move(ag.value());
      IMSDC_TRY(agent->set_remote(neg));
      return agent->start(now);
    }
    if (!ice::parse_ip(neg.remote_connection.address, neg.remote_port, &path_remote))
      return Status(Code::kMalformed, Module::kDc, "the peer's c= is not an IP address");
    bool found = false;
    for (const auto& s : socks)
      if (!found && s.first.family == path_remote.family) {
        path_local = s.first;
        found = true;
      }
    if (!found) return Status(Code::kNetwork, Module::kDc, "no local socket of the peer's family");
    path = true;
    return assoc->start(now);
  }

  // The selected ICE pair becomes the DTLS path, once.
  void take_selected(std::uint64_t now) {
    path = true;
    path_local = agent->selected()->local;
    path_remote = agent->selected()->remote;
    (void)assoc->start(now);
  }

  void service(std::uint64_t now) override {
    if (!assoc) return;
    const imsdc_port_net* net = posix::net();
    for (auto& s : socks) {
      imsdc_port_addr from{};
      for (int n; (n = net->udp_recv(s.second, &from, buf.data(), buf.size())) != 0;) {
        if (n < 0) break;
        ByteSpan in(buf.data(), static_cast<std::size_t>(n));
        const ice::Demux kind = ice::classify(in);
        if (kind == ice::Demux::kStun && agent) {
          (void)agent->feed(in, from, s.first, now);
        } else if (kind == ice::Demux::kDtls) {
          // The peer's first DTLS flight often follows the STUN answer that completes our
          // selection in the same batch: take the selection now rather than drop it.
          if (!path && agent && agent->selected()) take_selected(now);
          if (path && ice::same_address(from, path_remote)) (void)assoc->feed(in, now);
        }
      }
    }
    if (agent) {
      (void)agent->poll(now);
      Bytes d;
      imsdc_port_addr to{}, from{};
      while (agent->take_datagram(&d, &to, &from))
        send_from(from, to, d);
      if (agent->state() == ice::AgentState::kFailed && state == IMSDC_DC_CONNECTING) {
        state = IMSDC_DC_FAILED;
        if (cb.on_state) cb.on_state(cb.user, state, to_c(agent->error()));
      } else if (!path && agent->selected()) {
        take_selected(now);
      }
    }
    (void)assoc->poll(now);
    flush_assoc();
  }
  std::uint64_t next_deadline() const override {
    if (!assoc) return sip_no_deadline();
    std::uint64_t next = assoc->next_deadline();
    if (agent) next = std::min(next, agent->next_deadline());
    return next;
  }
  void sockets(std::vector<imsdc_port_udp*>* out) const override {
    for (const auto& s : socks)
      out->push_back(s.second);
  }
  static std::uint64_t sip_no_deadline() { return ~static_cast<std::uint64_t>(0); }

  static void on_state(void* p, dc::AssociationState st, Status s) {
    auto* self = static_cast<DcPeer*>(p);
    if (st == dc::AssociationState::kOpen)
      self->state = IMSDC_DC_OPEN;
    else if (st == dc::AssociationState::kClosed)
      self->state = IMSDC_DC_CLOSED;
    else if (st == dc::AssociationState::kFailed)
      self->state = IMSDC_DC_FAILED;
    else
      return;
    if (self->cb.on_state) self->cb.on_state(self->cb.user, self->state, to_c(s));
  }
  static void on_open(void* p, const dc::ChannelInfo& c) {
    auto* self = static_cast<DcPeer*>(p);
    if (self->cb.on_channel_open)
      self->cb.on_channel_open(self->cb.user, c.stream_id, c.label.c_str(), c.protocol.c_str());
  }
  static void on_message(void* p, std::uint16_t sid, ByteSpan d, bool binary) {
    auto* self = static_cast<DcPeer*>(p);
    if (self->cb.on_message) self->cb.on_message(self->cb.user, sid, d.data(), d.size(), binary);
  }
  static void on_closed(void* p, std::uint16_t sid) {
    auto* self = static_cast<DcPeer*>(p);
    if (self->cb.on_channel_closed) self->cb.on_channel_closed(self->cb.user, sid);
  }
  static void on_low(void* p, std::uint16_t sid) {
    auto* self = static_cast<DcPeer*>(p);
    if (self->cb.on_buffered_low) self->cb.on_buffered_low(self->cb.user, sid);
  }
};

} // namespace imsdc::capi

struct imsdc_dc_peer {
  imsdc::capi::DcPeer impl;
};

using imsdc::capi::copy_out;
using imsdc::capi::to_c;

namespace {

// The peer's sockets: the bind address, or every local address (loopback when alone).
imsdc::Status open_sockets(imsdc::capi::DcPeer* p, const char* bind_address) {
  const imsdc_port_net* net = imsdc::posix::net();
  std::vector<imsdc_port_addr> binds;
  if (bind_address) {
    imsdc_port_addr a{};
    if (!imsdc::ice::parse_ip(bind_address, 0, &a))
      return imsdc::Status(imsdc::Code::kInvalidArgument, imsdc::Module::kDc, "bind address");
    binds.push_back(a);
  } else {
    imsdc_port_addr found[imsdc::capi::kMaxSockets];
    int n = net->local_addresses ? net->local_addresses(net->ctx, 0, found, 8) : 0;
    if (n <= 0) n = net->local_addresses ? net->local_addresses(net->ctx, 1, found, 8) : 0;
    for (int i = 0; i < n; ++i)
      binds.push_back(found[i]);
  }
  for (auto b : binds) {
    b.port = 0;
    imsdc_port_udp* u = nullptr;
    if (net->udp_open(net->ctx, &b, &u) != 0)
      return imsdc::Status(imsdc::Code::kNetwork, imsdc::Module::kDc, "cannot bind UDP");
    p->socks.emplace_back(b, u);
  }
  if (p->socks.empty())
    return imsdc::Status(imsdc::Code::kNetwork, imsdc::Module::kDc, "no local address");
  return imsdc::Status::ok();
}

// Our half of the SDP: address, fingerprint of the device certificate, tls-id, ICE.
imsdc::Status make_local(imsdc::capi::DcPeer* p, std::uint32_t max_message) {
  auto chain = imsdc::crypto::keystore_chain(*p->client->keystore->port());
  if (!chain) return chain.status();
  if (chain.value().empty())
    return imsdc::Status(imsdc::Code::kNotFound, imsdc::Module::kDc, "no device certificate");
  const imsdc::crypto::Digest d = imsdc::crypto::sha256(imsdc::ByteSpan(chain.value()[0]));
  std::vector<imsdc_port_addr> bound;
  for (const auto& sock : p->socks)
    bound.push_back(sock.first);
  auto l = imsdc::ice::local_endpoint(bound, d, max_message ? max_message : 65536, p->use_ice);
  if (!l) return l.status();
  p->local = std::move(l.value());
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
  p.use_ice = !config->no_ice;
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
  imsdc::Status s = open_sockets(&p, config->bind_address);
  if (s) s = make_local(&p, config->max_message_size);
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
  oc.local = p.local;
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
  ac.local = p.local;
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
  if (!peer->impl.assoc) return IMSDC_E_STATE;
  auto sid = peer->impl.assoc->open_channel(label, protocol ? protocol : "");
  if (!sid) return to_c(sid.status());
  *out_stream_id = sid.value();
  peer->impl.flush_assoc();
  return IMSDC_OK;
}

int imsdc_dc_peer_send(imsdc_dc_peer* peer, uint16_t stream_id, const void* data, size_t len,
                       int binary) {
  if (!peer || (!data && len)) return IMSDC_E_INVALID_ARGUMENT;
  if (!peer->impl.assoc) return IMSDC_E_STATE;
  const imsdc::Status s = peer->impl.assoc->send(
      stream_id, imsdc::ByteSpan(static_cast<const std::uint8_t*>(data), len), binary != 0);
  peer->impl.flush_assoc();
  return to_c(s);
}

int imsdc_dc_peer_close_channel(imsdc_dc_peer* peer, uint16_t stream_id) {
  if (!peer) return IMSDC_E_INVALID_ARGUMENT;
  if (!peer->impl.assoc) return IMSDC_E_NOT_FOUND;
  const imsdc::Status s = peer->impl.assoc->close_channel(stream_id);
  peer->impl.flush_assoc();
  return to_c(s);
}

int imsdc_dc_peer_state(const imsdc_dc_peer* peer) {
  return peer ? peer->impl.state : IMSDC_DC_IDLE;
}

void imsdc_dc_peer_destroy(imsdc_dc_peer* peer) {
  delete peer;
}

} // extern "C"
