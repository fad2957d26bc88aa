// dc::Link: see link.h.
#include "dc/link.h"

#include <algorithm>
#include <new>

#include "ice/stun.h"

namespace imsdc::dc {
namespace {

constexpr std::size_t kMaxSockets = 8;
// Larger than any datagram we or a conforming peer send (DTLS records stay below the MTU).
constexpr std::size_t kRecvBuffer = 2048;

Status err(Code code, const char* message) {
  return Status(code, Module::kDc, message);
}

// Every local unicast address the port lists; loopback only when there is no other.
std::vector<imsdc_port_addr> local_addresses(const imsdc_port_net& net) {
  std::vector<imsdc_port_addr> out;
  if (net.local_addresses == nullptr) return out;
  imsdc_port_addr found[kMaxSockets];
  int n = net.local_addresses(net.ctx, 0, found, kMaxSockets);
  if (n <= 0) n = net.local_addresses(net.ctx, 1, found, kMaxSockets);
  for (int i = 0; i < n && i < static_cast<int>(kMaxSockets); ++i)
    out.push_back(found[i]);
  return out;
}

} // namespace

Result<std::unique_ptr<Link>> Link::create(const imsdc_port_net* net, const Config& config) {
  if (net == nullptr || net->udp_open == nullptr || net->udp_send == nullptr ||
      net->udp_recv == nullptr || net->udp_close == nullptr)
    return err(Code::kInvalidArgument, "no UDP net port");
  if (config.keystore == nullptr) return err(Code::kInvalidArgument, "no DTLS keystore");
  std::vector<imsdc_port_addr> binds = config.binds.empty() ? local_addresses(*net) : config.binds;
  if (binds.empty()) return err(Code::kNetwork, "no usable local address");
  if (binds.size() > kMaxSockets) return err(Code::kInvalidArgument, "at most 8 addresses");
  std::unique_ptr<Link> link(new (std::nothrow) Link(net, config));
  if (!link) return err(Code::kNoMemory, "data-channel link");
  link->buf_.resize(kRecvBuffer);
  std::vector<imsdc_port_addr> bound;
  for (const auto& b : binds) {
    Socket s;
    s.addr = b;
    s.addr.port = 0;
    if (net->udp_open(net->ctx, &s.addr, &s.udp) != 0 || s.udp == nullptr)
      return err(Code::kNetwork, "cannot bind a UDP socket");
    link->socks_.push_back(s);
    bound.push_back(s.addr);
  }
  auto chain = crypto::keystore_chain(*config.keystore);
  if (!chain.is_ok()) return chain.status();
  if (chain.value().empty()) return err(Code::kNotFound, "no certificate in the keystore");
  const crypto::Digest digest = crypto::sha256(ByteSpan(chain.value()[0]));
  auto local = ice::local_endpoint(bound, digest, config.max_message, config.ice);
  if (!local.is_ok()) return local.status();
  link->local_ = std::move(local.value());
  return link;
}

Link::~Link() {
  // What the association reports while it is torn down goes nowhere: the handler may be
  // gone already.
  handler_ = nullptr;
  assoc_.reset();
  for (auto& s : socks_)
    net_->udp_close(s.udp);
}

Status Link::start(const sdp::Negotiated& neg, bool controlling, const sdp::ChannelPolicy* policy,
                   Handler* handler, std::uint64_t now_ms) {
  if (assoc_) return err(Code::kState, "data-channel link started already");
  if (!neg.accepted)
    return err(Code::kRejected, neg.reject_reason ? neg.reject_reason : "data channel rejected");
  if (config_.ice && neg.remote_ice.ufrag.empty())
    return err(Code::kRejected, "the peer's data-channel line has no ICE");
  handler_ = handler;
  start_ms_ = now_ms;
  now_ = now_ms;
  AssociationConfig ac = association_config(neg);
  ac.dtls.keystore = config_.keystore;
  ac.dtls.access_edge_trust = config_.access_edge;
  ac.dtls.key_log = config_.key_log;
  ac.dtls.key_log_ctx = config_.key_log_ctx;
  ac.local_max_message = config_.max_message;
  ac.policy = policy;
  AssociationCallbacks cb;
  cb.ctx = this;
  cb.on_state = on_state_cb;
  cb.on_channel_open = on_open_cb;
  cb.on_message = on_message_cb;
  cb.on_buffered_low = on_low_cb;
  cb.on_channel_closed = on_closed_cb;
  auto assoc = Association::create(ac, cb);
  if (!assoc.is_ok()) return assoc.status();
  assoc_ = std::move(assoc.value());
  if (!config_.ice) return start_without_ice(neg, now_ms);
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

Status Link::start_without_ice(const sdp::Negotiated& neg, std::uint64_t now) {
  if (!ice::parse_ip(neg.remote_connection.address, neg.remote_port, &path_remote_))
    return err(Code::kMalformed, "the peer's c= is not an IP address");
  const auto same_family = [&](const Socket& s) { return s.addr.family == path_remote_.family; };
  const auto it = std::find_if(socks_.begin(), socks_.end(), same_family);
  if (it == socks_.end()) return err(Code::kNetwork, "no local socket of the peer's family");
  path_local_ = it->addr;
  path_ = true;
  IMSDC_TRY(assoc_->start(now));
  flush();
  return Status::ok();
}

void Link::send_from(const imsdc_port_addr& from, const imsdc_port_addr& to, const Bytes& d) {
  for (auto& s : socks_)
    if (ice::same_address(s.addr, from)) (void)net_->udp_send(s.udp, &to, d.data(), d.size());
}

// The selected ICE pair becomes the DTLS path, once.
void Link::take_selected(std::uint64_t now) {
  path_ = true;
  path_local_ = agent_->selected()->local;
  path_remote_ = agent_->selected()->remote;
  if (handler_ != nullptr) handler_->on_connected(*this, path_local_, path_remote_);
  if (Status s = assoc_->start(now); !s.is_ok() && handler_ != nullptr)
    handler_->on_state(*this, AssociationState::kFailed, s);
}

void Link::flush() {
  Bytes d;
  while (assoc_ && assoc_->take_datagram(&d))
    if (path_) send_from(path_local_, path_remote_, d);
}

void Link::service(std::uint64_t now) {
  if (!assoc_) return;
  now_ = now;
  for (auto& s : socks_) {
    imsdc_port_addr from{};
    for (int n; (n = net_->udp_recv(s.udp, &from, buf_.data(), buf_.size())) > 0;) {
      ByteSpan in(buf_.data(), static_cast<std::size_t>(n));
      const ice::Demux kind = ice::classify(in);
      if (kind == ice::Demux::kStun && agent_) {
        (void)agent_->feed(in, from, s.addr, now);
      } else if (kind == ice::Demux::kDtls) {
        // The peer's first flight may follow the STUN answer that completes our selection
        // in the same batch: take the selection now rather than drop the flight.
        if (!path_ && agent_ && agent_->selected()) take_selected(now);
        if (path_ && ice::same_address(from, path_remote_)) (void)assoc_->feed(in, now);
      }
    }
  }
  if (agent_) {
    (void)agent_->poll(now);
    Bytes d;
    imsdc_port_addr to{}, from{};
    while (agent_->take_datagram(&d, &to, &from))
      send_from(from, to, d);
    if (agent_->state() == ice::AgentState::kFailed) {
      // Reported once, and not after the association ended on its own.
      const AssociationState st = assoc_->state();
      if (!ice_failed_ && handler_ != nullptr && st != AssociationState::kClosed &&
          st != AssociationState::kFailed)
        handler_->on_state(*this, AssociationState::kFailed, agent_->error());
      ice_failed_ = true;
    } else if (!path_ && agent_->selected()) {
      take_selected(now);
    }
  }
  (void)assoc_->poll(now);
  flush();
}

std::uint64_t Link::next_deadline() const {
  std::uint64_t next = ~0ull;
  if (assoc_) next = std::min(next, assoc_->next_deadline());
  if (agent_) next = std::min(next, agent_->next_deadline());
  return next;
}

void Link::add_handles(std::vector<imsdc_port_udp*>* out) const {
  for (const auto& s : socks_)
    out->push_back(s.udp);
}

const char* Link::termination() const {
  if (!open_ || !assoc_) return "-";
  return assoc_->peer().termination == Termination::kE2ae ? "e2ae" : "e2e";
}

void Link::close() {
  if (!assoc_) return;
  assoc_->close();
  flush();
}

void Link::on_state_cb(void* p, AssociationState st, Status s) {
  auto* self = static_cast<Link*>(p);
  if (st == AssociationState::kOpen) {
    self->open_ = true;
    self->open_ms_ = self->now_;
  }
  if (self->handler_ != nullptr) self->handler_->on_state(*self, st, s);
}
void Link::on_open_cb(void* p, const ChannelInfo& c) {
  auto* self = static_cast<Link*>(p);
  if (self->handler_ != nullptr) self->handler_->on_open(*self, c);
}
void Link::on_message_cb(void* p, std::uint16_t sid, ByteSpan d, bool binary) {
  auto* self = static_cast<Link*>(p);
  if (self->handler_ != nullptr) self->handler_->on_message(*self, sid, d, binary);
}
void Link::on_low_cb(void* p, std::uint16_t sid) {
  auto* self = static_cast<Link*>(p);
  if (self->handler_ != nullptr) self->handler_->on_writable(*self, sid);
}
void Link::on_closed_cb(void* p, std::uint16_t sid) {
  auto* self = static_cast<Link*>(p);
  if (self->handler_ != nullptr) self->handler_->on_closed(*self, sid);
}

} // namespace imsdc::dc
