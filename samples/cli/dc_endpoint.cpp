// DcEndpoint: see dc_endpoint.h.
#include "dc_endpoint.h"

#include <algorithm>
#include <cstdio>

#include "cli.h"
#include "ice/stun.h"
#include "imsdc/port/os.h"
#include "imsdc/port_posix.h"

namespace imsdc::cli {

Result<crypto::Digest> leaf_sha256(const imsdc_port_keystore& ks) {
  Bytes leaf(8192);
  std::size_t n = 0;
  if (!ks.cert_chain || ks.cert_chain(ks.ctx, 0, leaf.data(), leaf.size(), &n) != 0)
    return Status(Code::kNotFound, Module::kCli, "no certificate in the keystore");
  leaf.resize(n);
  return crypto::sha256(ByteSpan(leaf));
}

Result<std::unique_ptr<DcEndpoint>> DcEndpoint::create(const Config& config) {
  if (config.keystore == nullptr)
    return Status(Code::kInvalidArgument, Module::kCli, "no DTLS keystore");
  std::unique_ptr<DcEndpoint> ep(new DcEndpoint(config));
  ep->net_ = posix::net();
  ep->buf_.resize(2048);
  std::vector<imsdc_port_addr> binds = config.binds;
  if (binds.empty()) {
    imsdc_port_addr lo{};
    (void)ice::parse_ip("127.0.0.1", 0, &lo);
    binds.push_back(lo);
  }
  if (binds.size() > 8) return Status(Code::kInvalidArgument, Module::kCli, "at most 8 addresses");
  std::vector<imsdc_port_addr> bound;
  for (const auto& b : binds) {
    Socket s;
    s.addr = b;
    s.addr.port = 0;
    if (ep->net_->udp_open(ep->net_->ctx, &s.addr, &s.udp) != 0)
      return Status(Code::kNetwork, Module::kCli, "cannot bind a UDP socket");
    ep->socks_.push_back(s);
    bound.push_back(s.addr);
  }
  auto digest = leaf_sha256(*config.keystore);
  if (!digest.is_ok()) return digest.status();
  auto local = ice::local_endpoint(bound, digest.value(), config.max_message, true);
  if (!local.is_ok()) return local.status();
  ep->local_ = std::move(local.value());
  return ep;
}

DcEndpoint::~DcEndpoint() {
  assoc_.reset();
  for (auto& s : socks_)
    net_->udp_close(s.udp);
}

void DcEndpoint::keylog_cb(void* p, const char* line) {
  auto* self = static_cast<DcEndpoint*>(p);
  if (FILE* f = std::fopen(self->config_.keylog_file.c_str(), "a")) {
    (void)std::fputs(line, f);
    (void)std::fclose(f);
  }
}

Status DcEndpoint::start(const sdp::Negotiated& neg, bool controlling,
                         const sdp::ChannelPolicy* policy, Handler* handler, std::uint64_t now_ms) {
  if (!neg.accepted)
    return Status(Code::kRejected, Module::kCli,
                  neg.reject_reason ? neg.reject_reason : "data channel rejected");
  if (neg.remote_ice.ufrag.empty())
    return Status(Code::kRejected, Module::kCli, "the peer's data-channel line has no ICE");
  handler_ = handler;
  start_ms_ = now_ms;
  dc::AssociationConfig ac = dc::association_config(neg);
  ac.dtls.keystore = config_.keystore;
  ac.dtls.access_edge_trust = config_.access_edge;
  if (!config_.keylog_file.empty()) {
    ac.dtls.key_log = keylog_cb;
    ac.dtls.key_log_ctx = this;
  }
  ac.local_max_message = config_.max_message;
  ac.policy = policy;
  dc::AssociationCallbacks cb;
  cb.ctx = this;
  cb.on_state = on_state_cb;
  cb.on_channel_open = on_open_cb;
  cb.on_message = on_message_cb;
  cb.on_buffered_low = on_low_cb;
  cb.on_channel_closed = on_closed_cb;
  auto assoc = dc::Association::create(ac, cb);
  if (!assoc.is_ok()) return assoc.status();
  assoc_ = std::move(assoc.value());
  ice::AgentConfig ic;
  ic.role = controlling ? ice::Role::kControlling : ice::Role::kControlled;
  ic.local = local_.ice.params;
  for (const auto& s : socks_)
    ic.local_candidates.push_back(s.addr);
  auto agent = ice::Agent::create(ic, ice::AgentCallbacks{});
  if (!agent.is_ok()) return agent.status();
  agent_ = std::move(agent.value());
  IMSDC_TRY(agent_->set_remote(neg));
  return agent_->start(now_ms);
}

void DcEndpoint::send_from(const imsdc_port_addr& from, const imsdc_port_addr& to, const Bytes& d) {
  for (auto& s : socks_)
    if (ice::same_address(s.addr, from)) (void)net_->udp_send(s.udp, &to, d.data(), d.size());
}

void DcEndpoint::take_selected(std::uint64_t now) {
  path_ = true;
  path_local_ = agent_->selected()->local;
  path_remote_ = agent_->selected()->remote;
  if (Status s = assoc_->start(now); !s.is_ok() && handler_ != nullptr)
    handler_->on_state(*this, dc::AssociationState::kFailed, s);
}

void DcEndpoint::flush() {
  Bytes d;
  while (assoc_ && assoc_->take_datagram(&d))
    if (path_) send_from(path_local_, path_remote_, d);
}

void DcEndpoint::service(std::uint64_t now) {
  if (!agent_ || !assoc_) return;
  for (auto& s : socks_) {
    imsdc_port_addr from{};
    for (int n; (n = net_->udp_recv(s.udp, &from, buf_.data(), buf_.size())) > 0;) {
      ByteSpan in(buf_.data(), static_cast<std::size_t>(n));
      const ice::Demux kind = ice::classify(in);
      if (kind == ice::Demux::kStun) {
        (void)agent_->feed(in, from, s.addr, now);
      } else if (kind == ice::Demux::kDtls) {
        // The peer's first flight may follow the STUN answer that completes our selection.
        if (!path_ && agent_->selected()) take_selected(now);
        if (path_ && ice::same_address(from, path_remote_)) (void)assoc_->feed(in, now);
      }
    }
  }
  (void)agent_->poll(now);
  Bytes d;
  imsdc_port_addr to{}, from{};
  while (agent_->take_datagram(&d, &to, &from))
    send_from(from, to, d);
  if (agent_->state() == ice::AgentState::kFailed && !path_) {
    if (!ice_failed_ && handler_ != nullptr)
      handler_->on_state(*this, dc::AssociationState::kFailed, agent_->error());
    ice_failed_ = true;
    return;
  }
  if (!path_ && agent_->selected()) take_selected(now);
  (void)assoc_->poll(now);
  flush();
}

std::uint64_t DcEndpoint::next_deadline() const {
  std::uint64_t next = ~0ull;
  if (assoc_) next = std::min(next, assoc_->next_deadline());
  if (agent_) next = std::min(next, agent_->next_deadline());
  return next;
}

void DcEndpoint::add_handles(std::vector<imsdc_port_udp*>* out) const {
  for (const auto& s : socks_)
    out->push_back(s.udp);
}

const char* DcEndpoint::termination() const {
  if (!open_ || !assoc_) return "-";
  return assoc_->peer().termination == dc::Termination::kE2ae ? "e2ae" : "e2e";
}

void DcEndpoint::close() {
  if (!assoc_) return;
  assoc_->close();
  flush();
}

void DcEndpoint::on_state_cb(void* p, dc::AssociationState st, Status s) {
  auto* self = static_cast<DcEndpoint*>(p);
  if (st == dc::AssociationState::kOpen) {
    self->open_ = true;
    self->open_ms_ = imsdc_port_clock_monotonic_ms();
  }
  if (self->handler_ != nullptr) self->handler_->on_state(*self, st, s);
}
void DcEndpoint::on_open_cb(void* p, const dc::ChannelInfo& c) {
  auto* self = static_cast<DcEndpoint*>(p);
  if (self->handler_ != nullptr) self->handler_->on_open(*self, c);
}
void DcEndpoint::on_message_cb(void* p, std::uint16_t sid, ByteSpan d, bool binary) {
  auto* self = static_cast<DcEndpoint*>(p);
  if (self->handler_ != nullptr) self->handler_->on_message(*self, sid, d, binary);
}
void DcEndpoint::on_low_cb(void* p, std::uint16_t sid) {
  auto* self = static_cast<DcEndpoint*>(p);
  if (self->handler_ != nullptr) self->handler_->on_writable(*self, sid);
}
void DcEndpoint::on_closed_cb(void* p, std::uint16_t sid) {
  auto* self = static_cast<DcEndpoint*>(p);
  if (self->handler_ != nullptr) self->handler_->on_closed(*self, sid);
}

} // namespace imsdc::cli
