#include "ice/agent.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/log.h"

namespace imsdc::ice {
namespace {

constexpr const char* kLog = "ice";
constexpr std::size_t kMaxLocal = 8;
constexpr std::uint32_t kHostTypePreference = 126; // RFC 8445 section 5.1.2.2

Status random_u64(std::uint64_t* out) {
  std::uint8_t b[8];
  IMSDC_TRY(crypto::random_bytes(b, sizeof b));
  std::uint64_t v = 0;
  for (std::uint8_t x : b)
    v = (v << 8) | x;
  *out = v;
  return Status::ok();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_ip4(std::string_view t, std::uint8_t out[4]) {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
    unsigned v = 0, digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9' && digits < 4) {
      v = v * 10 + static_cast<unsigned>(t[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || v > 255) return false;
    out[part] = static_cast<std::uint8_t>(v);
  }
  return i == t.size();
}

bool parse_ip6(std::string_view t, std::uint8_t out[16]) {
  std::uint16_t groups[8] = {};
  int n = 0, gap = -1;
  std::size_t i = 0;
  if (t.size() >= 2 && t[0] == ':' && t[1] == ':') {
    gap = 0;
    i = 2;
  }
  while (i < t.size()) {
    unsigned v = 0, digits = 0;
    while (i < t.size() && hex_value(t[i]) >= 0 && digits < 5) {
      v = (v << 4) | static_cast<unsigned>(hex_value(t[i]));
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 4 || n >= 8) return false;
    groups[n++] = static_cast<std::uint16_t>(v);
    if (i == t.size()) break;
    if (t[i] != ':') return false;
    ++i;
    if (i < t.size() && t[i] == ':') {
      if (gap >= 0) return false;
      gap = n;
      ++i;
    } else if (i == t.size()) {
      return false; // trailing single ':'
    }
  }
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n > 7) return false;
  std::uint16_t full[8] = {};
  if (gap < 0) {
    std::copy(groups, groups + 8, full);
  } else {
    std::copy(groups, groups + gap, full);
    std::copy(groups + gap, groups + n, full + 8 - (n - gap));
  }
  for (int g = 0; g < 8; ++g) {
    out[2 * g] = static_cast<std::uint8_t>(full[g] >> 8);
    out[2 * g + 1] = static_cast<std::uint8_t>(full[g]);
  }
  return true;
}

} // namespace

bool parse_ip(std::string_view text, std::uint16_t port, imsdc_port_addr* out) {
  imsdc_port_addr a{};
  a.port = port;
  if (text.size() <= 15 && parse_ip4(text, a.addr)) {
    a.family = IMSDC_AF_INET4;
  } else if (text.size() <= 39 && parse_ip6(text, a.addr)) {
    a.family = IMSDC_AF_INET6;
  } else {
    return false;
  }
  *out = a;
  return true;
}

std::string host_string(const imsdc_port_addr& a) {
  const std::string h = to_string(a);
  const bool v6 = a.family == IMSDC_AF_INET6;
  return h.substr(v6 ? 1 : 0, h.rfind(v6 ? "]:" : ":") - (v6 ? 1 : 0));
}

namespace {
Status drbg_fill(void*, std::uint8_t* out, std::size_t n) {
  return crypto::random_bytes(out, n);
}

Result<std::string> ice_chars(std::size_t n) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"; // ice-char
  std::vector<std::uint8_t> r(n);
  IMSDC_TRY(crypto::random_bytes(r.data(), r.size()));
  std::string s;
  for (std::uint8_t b : r)
    s += kAlphabet[b & 63];
  return s;
}
} // namespace

Result<sdp::LocalEndpoint> local_endpoint(const std::vector<imsdc_port_addr>& locals,
                                          const crypto::Digest& cert_sha256,
                                          std::uint32_t max_message, bool ice) {
  if (locals.empty() || locals.size() > 8)
    return Status(Code::kInvalidArgument, Module::kDc, "1 to 8 local addresses");
  const imsdc_port_addr& first = locals[0];
  const sdp::AddrType type =
      first.family == IMSDC_AF_INET6 ? sdp::AddrType::kIp6 : sdp::AddrType::kIp4;
  sdp::LocalEndpoint l;
  l.origin = sdp::Origin{"-", "1", "1", type, host_string(first)};
  l.connection = sdp::Connection{type, host_string(first)};
  l.port = first.port;
  l.fingerprints = {
      sdp::Fingerprint{sdp::HashFunc::kSha256, Bytes(cert_sha256.begin(), cert_sha256.end())}};
  Result<std::string> tls_id = sdp::make_tls_id(drbg_fill, nullptr);
  if (!tls_id.is_ok()) return tls_id.status();
  l.tls_id = tls_id.value();
  l.max_message_size = max_message;
  if (!ice) return l;
  Result<std::string> ufrag = ice_chars(8);
  if (!ufrag.is_ok()) return ufrag.status();
  Result<std::string> pwd = ice_chars(24);
  if (!pwd.is_ok()) return pwd.status();
  l.ice.enabled = true;
  l.ice.params.ufrag = ufrag.value();
  l.ice.params.pwd = pwd.value();
  for (std::size_t i = 0; i < locals.size(); ++i) {
    sdp::Candidate c;
    c.foundation = std::to_string(i + 1);
    c.transport = "UDP";
    c.priority = Agent::host_priority(i);
    c.address = host_string(locals[i]);
    c.port = locals[i].port;
    c.type = "host";
    l.ice.candidates.push_back(c);
  }
  return l;
}

std::string to_string(const imsdc_port_addr& a) {
  char buf[64];
  if (a.family == IMSDC_AF_INET4) {
    (void)std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", a.addr[0], a.addr[1], a.addr[2],
                        a.addr[3], a.port);
    return buf;
  }
  std::string s = "[";
  bool skipped = false;
  for (int g = 0; g < 8; ++g) {
    const unsigned v = (static_cast<unsigned>(a.addr[2 * g]) << 8) | a.addr[2 * g + 1];
    if (v == 0 && !skipped && g < 7 && a.addr[2 * g + 2] == 0 && a.addr[2 * g + 3] == 0) {
      skipped = true;
      s += g == 0 ? "::" : ":";
      while (g < 7 && a.addr[2 * g + 2] == 0 && a.addr[2 * g + 3] == 0)
        ++g;
      continue;
    }
    (void)std::snprintf(buf, sizeof buf, "%x", v);
    s += buf;
    if (g < 7) s += ":";
  }
  (void)std::snprintf(buf, sizeof buf, "]:%u", a.port);
  return s + buf;
}

bool same_address(const imsdc_port_addr& a, const imsdc_port_addr& b) {
  if (a.family != b.family || a.port != b.port) return false;
  return std::memcmp(a.addr, b.addr, a.family == IMSDC_AF_INET4 ? 4 : 16) == 0;
}

Agent::Agent(const AgentConfig& config, const AgentCallbacks& callbacks)
    : config_(config), callbacks_(callbacks), role_(config.role) {}

Agent::~Agent() = default;

Result<std::unique_ptr<Agent>> Agent::create(const AgentConfig& config,
                                             const AgentCallbacks& callbacks) {
  const Status bad(Code::kInvalidArgument, Module::kDc, "ICE agent configuration");
  if (config.local_candidates.empty() || config.local_candidates.size() > kMaxLocal) return bad;
  if (config.local.ufrag.size() < 4 || config.local.pwd.size() < 22) return bad;
  if (config.ta_ms == 0 || config.rto_initial_ms == 0 || config.max_transmissions == 0 ||
      config.max_pairs == 0 || config.max_out_datagrams == 0 || config.connect_timeout_ms == 0)
    return bad;
  for (const auto& c : config.local_candidates)
    if (c.family != IMSDC_AF_INET4 && c.family != IMSDC_AF_INET6) return bad;
  std::unique_ptr<Agent> a(new (std::nothrow) Agent(config, callbacks));
  if (!a) return Status(Code::kNoMemory, Module::kDc);
  if (config.tie_breaker) {
    a->tie_breaker_ = *config.tie_breaker;
  } else {
    IMSDC_TRY(random_u64(&a->tie_breaker_));
  }
  return a;
}

std::uint32_t Agent::host_priority(std::size_t i) {
  const std::uint32_t local_pref = 65535 - static_cast<std::uint32_t>(i);
  return (kHostTypePreference << 24) | (local_pref << 8) | (256 - 1);
}

std::uint64_t Agent::pair_priority(std::size_t local, std::uint32_t remote_priority) const {
  // RFC 8445 section 6.1.2.3: G is the controlling agent's candidate priority.
  const std::uint64_t l = host_priority(local), r = remote_priority;
  const std::uint64_t g = role_ == Role::kControlling ? l : r;
  const std::uint64_t d = role_ == Role::kControlling ? r : l;
  return (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
}

void Agent::recompute_priorities() {
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    const auto li = local_index(pairs_[i].local);
    if (li) pairs_[i].priority = pair_priority(*li, extra_[i].remote_priority);
  }
}

std::optional<std::size_t> Agent::local_index(const imsdc_port_addr& a) const {
  for (std::size_t i = 0; i < config_.local_candidates.size(); ++i)
    if (same_address(config_.local_candidates[i], a)) return i;
  return std::nullopt;
}

std::optional<std::size_t> Agent::find_pair(std::size_t local,
                                            const imsdc_port_addr& remote) const {
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (same_address(pairs_[i].local, config_.local_candidates[local]) &&
        same_address(pairs_[i].remote, remote))
      return i;
  return std::nullopt;
}

std::optional<std::size_t> Agent::add_pair(std::size_t local, const imsdc_port_addr& remote,
                                           std::uint32_t remote_priority, bool prflx) {
  if (auto existing = find_pair(local, remote)) return existing;
  if (pairs_.size() >= config_.max_pairs) return std::nullopt;
  CandidatePair p;
  p.local = config_.local_candidates[local];
  p.remote = remote;
  p.priority = pair_priority(local, remote_priority);
  p.peer_reflexive = prflx;
  pairs_.push_back(p);
  PairExtra e;
  e.remote_priority = remote_priority;
  extra_.push_back(e);
  return pairs_.size() - 1;
}

Status Agent::set_remote(const sdp::IceParams& ice, const std::vector<sdp::Candidate>& candidates,
                         bool ice_lite) {
  if (remote_set_) return Status(Code::kState, Module::kDc, "remote ICE already set");
  if (ice.ufrag.empty() || ice.pwd.empty() || ice.ufrag.size() > 256 || ice.pwd.size() > 256)
    return Status(Code::kInvalidArgument, Module::kDc, "remote ICE credentials");
  remote_ = ice;
  remote_set_ = true;
  remote_lite_ = ice_lite;
  if (ice_lite && role_ != Role::kControlling) {
    role_ = Role::kControlling;
    recompute_priorities();
  }
  for (const auto& c : candidates) {
    imsdc_port_addr a;
    if (c.component != 1 || !ascii_iequals(c.transport, "udp") || c.port == 0 ||
        !parse_ip(c.address, c.port, &a)) {
      IMSDC_LOGD(kLog, "skipping remote candidate %s (%s)", c.foundation.c_str(), c.type.c_str());
      continue;
    }
    if (remote_candidates_ >= config_.max_remote_candidates) break;
    ++remote_candidates_;
    for (std::size_t l = 0; l < config_.local_candidates.size(); ++l)
      if (config_.local_candidates[l].family == a.family) (void)add_pair(l, a, c.priority, false);
  }
  IMSDC_LOGI(kLog, "%zu candidate pairs, remote %s, role %s", pairs_.size(),
             ice_lite ? "ice-lite" : "full",
             role_ == Role::kControlling ? "controlling" : "controlled");
  return Status::ok();
}

Status Agent::start(std::uint64_t now) {
  if (state_ != AgentState::kIdle || !remote_set_)
    return Status(Code::kState, Module::kDc, "ICE start");
  state_ = AgentState::kChecking;
  started_at_ = now;
  next_check_at_ = now;
  return Status::ok();
}

void Agent::queue(Bytes data, const imsdc_port_addr& to, const imsdc_port_addr& from) {
  if (out_.size() >= config_.max_out_datagrams) return; // dropped, as a full socket would
  out_.push_back(Outgoing{std::move(data), to, from});
}

bool Agent::take_datagram(Bytes* out, imsdc_port_addr* to, imsdc_port_addr* from) {
  if (out_.empty() || !out || !to) return false;
  *out = std::move(out_.front().data);
  *to = out_.front().to;
  if (from) *from = out_.front().from;
  out_.erase(out_.begin());
  return true;
}

Status Agent::send_check(std::size_t pair, bool use_candidate, bool consent, std::uint64_t now) {
  if (transactions_.size() >= config_.max_pairs + 4)
    return Status(Code::kWouldBlock, Module::kDc, "too many checks in flight");
  Transaction t;
  IMSDC_TRY(crypto::random_bytes(t.id.data(), t.id.size()));
  StunMessage m;
  m.cls = StunClass::kRequest;
  m.transaction = t.id;
  m.username = remote_.ufrag + ":" + config_.local.ufrag;
  // PRIORITY: what a peer-reflexive candidate of ours would get (RFC 8445 section 7.1.1).
  const auto li = local_index(pairs_[pair].local);
  m.priority = (110u << 24) | (host_priority(li ? *li : 0) & 0x00FFFFFF);
  m.use_candidate = use_candidate;
  if (role_ == Role::kControlling) {
    m.ice_controlling = tie_breaker_;
  } else {
    m.ice_controlled = tie_breaker_;
  }
  auto bytes = serialize(m, std::string_view(remote_.pwd), true);
  if (!bytes.is_ok()) return bytes.status();
  t.pair = pair;
  t.request = bytes.value();
  t.rto = config_.rto_initial_ms;
  t.next_at = now + t.rto;
  t.sent = 1;
  t.use_candidate = use_candidate;
  t.consent = consent;
  t.controlling = role_ == Role::kControlling;
  queue(bytes.value(), pairs_[pair].remote, pairs_[pair].local);
  transactions_.push_back(std::move(t));
  if (!consent && pairs_[pair].state != PairState::kSucceeded)
    pairs_[pair].state = PairState::kInProgress;
  ++checks_sent_;
  return Status::ok();
}

void Agent::send_error(const StunMessage& req, std::uint16_t code, const char* reason,
                       const imsdc_port_addr& to, std::size_t local, bool with_integrity) {
  StunMessage r;
  r.cls = StunClass::kError;
  r.transaction = req.transaction;
  r.error = ErrorCode{code, reason};
  if (code == 420) r.unknown_required = req.unknown_required;
  auto bytes = serialize(r, with_integrity ? ByteSpan(config_.local.pwd) : ByteSpan(), true);
  if (bytes.is_ok()) queue(std::move(bytes.value()), to, config_.local_candidates[local]);
}

Status Agent::feed(ByteSpan d, const imsdc_port_addr& from, const imsdc_port_addr& local,
                   std::uint64_t now) {
  if (state_ == AgentState::kClosed) return Status(Code::kState, Module::kDc, "ICE closed");
  auto m = parse(d);
  if (!m.is_ok()) return m.status();
  if (!m->has_fingerprint) return Status(Code::kMalformed, Module::kDc, "STUN without FINGERPRINT");
  if (m->method != kMethodBinding) return Status(Code::kUnsupported, Module::kDc, "STUN method");
  const auto li = local_index(local);
  if (!li) return Status(Code::kNotFound, Module::kDc, "datagram on an unknown local address");
  switch (m->cls) {
  case StunClass::kRequest:
    handle_request(d, m.value(), from, *li, now);
    return Status::ok();
  case StunClass::kSuccess:
  case StunClass::kError:
    return handle_response(d, m.value(), from, local, now);
  case StunClass::kIndication:
    return Status::ok(); // keepalive
  }
  return Status::ok();
}

void Agent::handle_request(ByteSpan d, const StunMessage& m, const imsdc_port_addr& from,
                           std::size_t local, std::uint64_t now) {
  // RFC 8489 section 9.1.3 / RFC 8445 section 7.3: credentials first, nothing changes
  // before they hold.
  if (!m.username || m.integrity_offset == 0) {
    send_error(m, 400, "Bad Request", from, local, false);
    return;
  }
  const std::string& u = *m.username;
  const std::string& ours = config_.local.ufrag;
  if (u.size() <= ours.size() || u.compare(0, ours.size(), ours) != 0 || u[ours.size()] != ':' ||
      !verify_integrity(d, m, std::string_view(config_.local.pwd)).is_ok()) {
    send_error(m, 401, "Unauthorized", from, local, false);
    return;
  }
  if (!m.unknown_required.empty()) {
    send_error(m, 420, "Unknown Attribute", from, local, true);
    return;
  }
  if (state_ == AgentState::kFailed) return;
  // Role conflict (RFC 8445 section 7.3.1.1).
  if (role_ == Role::kControlling && m.ice_controlling) {
    ++role_conflicts_;
    if (tie_breaker_ >= *m.ice_controlling) {
      send_error(m, 487, "Role Conflict", from, local, true);
      return;
    }
    role_ = Role::kControlled;
    recompute_priorities();
    IMSDC_LOGI(kLog, "role conflict: switching to controlled");
  } else if (role_ == Role::kControlled && m.ice_controlled) {
    ++role_conflicts_;
    if (tie_breaker_ >= *m.ice_controlled) {
      role_ = Role::kControlling;
      recompute_priorities();
      IMSDC_LOGI(kLog, "role conflict: switching to controlling");
    } else {
      send_error(m, 487, "Role Conflict", from, local, true);
      return;
    }
  }
  StunMessage r;
  r.cls = StunClass::kSuccess;
  r.transaction = m.transaction;
  r.xor_mapped = from;
  auto bytes = serialize(r, std::string_view(config_.local.pwd), true);
  if (bytes.is_ok()) queue(std::move(bytes.value()), from, config_.local_candidates[local]);

  // Triggered check on the pair (RFC 8445 section 7.3.1.4); unknown source: peer-reflexive.
  auto pi = find_pair(local, from);
  if (!pi) {
    if (remote_candidates_ >= config_.max_remote_candidates) return;
    pi = add_pair(local, from, m.priority.value_or(0), true);
    if (!pi) return;
    ++remote_candidates_;
  }
  CandidatePair& p = pairs_[*pi];
  if (m.use_candidate && role_ == Role::kControlled) {
    if (p.state == PairState::kSucceeded) {
      p.nominated = true;
      select(*pi, now);
    } else {
      extra_[*pi].nominate_on_success = true;
    }
  }
  if ((p.state == PairState::kWaiting || p.state == PairState::kFailed) &&
      std::find(triggered_.begin(), triggered_.end(), *pi) == triggered_.end()) {
    p.state = PairState::kWaiting;
    triggered_.push_back(*pi);
  }
}

Status Agent::handle_response(ByteSpan d, const StunMessage& m, const imsdc_port_addr& from,
                              const imsdc_port_addr& local, std::uint64_t now) {
  auto it = std::find_if(transactions_.begin(), transactions_.end(),
                         [&m](const Transaction& t) { return t.id == m.transaction; });
  if (it == transactions_.end()) return Status(Code::kNotFound, Module::kDc, "no such check");
  IMSDC_TRY(verify_integrity(d, m, std::string_view(remote_.pwd)));
  const Transaction t = *it;
  transactions_.erase(it);
  CandidatePair& p = pairs_[t.pair];
  PairExtra& e = extra_[t.pair];
  if (!same_address(from, p.remote) || !same_address(local, p.local)) {
    // Not symmetric (RFC 8445 section 7.2.5.2.1).
    if (!t.consent) p.state = PairState::kFailed;
    return Status::ok();
  }
  if (m.cls == StunClass::kError) {
    const std::uint16_t code = m.error ? m.error->code : 0;
    if (code == 487 && !t.consent) {
      // Switch to the role the peer did not claim, and try again (section 7.2.5.1).
      ++role_conflicts_;
      const Role wanted = t.controlling ? Role::kControlled : Role::kControlling;
      if (role_ != wanted) {
        role_ = wanted;
        recompute_priorities();
      }
      e.nominating = false;
      p.state = PairState::kWaiting;
      triggered_.push_back(t.pair);
    } else if (!t.consent) {
      p.state = PairState::kFailed;
      e.nominating = false;
    }
    return Status::ok();
  }
  if (t.consent) {
    last_consent_ = now;
    return Status::ok();
  }
  if (p.state != PairState::kSucceeded && first_valid_at_ == 0) first_valid_at_ = now;
  p.state = PairState::kSucceeded;
  // Controlling: our USE-CANDIDATE check succeeded. Controlled: the peer nominated the pair
  // before our own check on it succeeded.
  if ((t.use_candidate && role_ == Role::kControlling) ||
      (e.nominate_on_success && role_ == Role::kControlled)) {
    p.nominated = true;
    select(t.pair, now);
  }
  e.nominating = false;
  return Status::ok();
}

void Agent::select(std::size_t pair, std::uint64_t now) {
  if (selected_ && pairs_[*selected_].priority >= pairs_[pair].priority) return;
  selected_ = pair;
  IMSDC_LOGI(kLog, "selected pair %s -> %s", to_string(pairs_[pair].local).c_str(),
             to_string(pairs_[pair].remote).c_str());
  if (state_ != AgentState::kConnected) {
    state_ = AgentState::kConnected;
    last_consent_ = now;
    schedule_consent(now);
    if (callbacks_.on_state) callbacks_.on_state(callbacks_.ctx, state_, Status::ok());
  }
}

void Agent::schedule_consent(std::uint64_t now) {
  if (config_.consent_interval_ms == 0) {
    next_consent_at_ = UINT64_MAX;
    return;
  }
  // RFC 7675 section 5.1: randomised to 0.8..1.2 of the interval.
  std::uint8_t r = 0;
  if (!crypto::random_bytes(&r, 1).is_ok()) r = 128;
  const std::uint64_t base = config_.consent_interval_ms;
  next_consent_at_ = now + base * 8 / 10 + base * 4 / 10 * r / 255;
}

void Agent::fail(Status why) {
  if (state_ == AgentState::kFailed || state_ == AgentState::kClosed) return;
  state_ = AgentState::kFailed;
  error_ = why;
  transactions_.clear();
  triggered_.clear();
  IMSDC_LOGW(kLog, "ICE failed: %s", why.message());
  if (callbacks_.on_state) callbacks_.on_state(callbacks_.ctx, state_, why);
}

void Agent::maybe_nominate(std::uint64_t now) {
  if (role_ != Role::kControlling || state_ != AgentState::kChecking) return;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (extra_[i].nominating) return; // one nomination at a time
    if (pairs_[i].state == PairState::kSucceeded &&
        (!best || pairs_[i].priority > pairs_[*best].priority))
      best = i;
  }
  if (!best) return;
  bool better_pending = false;
  for (const auto& p : pairs_)
    if (p.priority > pairs_[*best].priority &&
        (p.state == PairState::kWaiting || p.state == PairState::kInProgress))
      better_pending = true;
  if (better_pending && now < first_valid_at_ + config_.nomination_wait_ms) return;
  extra_[*best].nominating = true;
  if (!send_check(*best, true, false, now).is_ok()) extra_[*best].nominating = false;
}

void Agent::check_failure(std::uint64_t now) {
  if (state_ != AgentState::kChecking) return;
  if (now >= started_at_ + config_.connect_timeout_ms) {
    fail(Status(Code::kTimeout, Module::kDc, "no ICE candidate pair was selected in time"));
    return;
  }
  if (pairs_.empty() || !transactions_.empty() || !triggered_.empty()) return;
  for (const auto& p : pairs_)
    if (p.state != PairState::kFailed) return;
  fail(Status(Code::kTimeout, Module::kDc, "every ICE candidate pair failed"));
}

Status Agent::poll(std::uint64_t now) {
  if (state_ == AgentState::kClosed) return Status(Code::kState, Module::kDc, "ICE closed");
  if (state_ == AgentState::kIdle || state_ == AgentState::kFailed) return Status::ok();
  // Retransmissions and timeouts of checks in flight.
  for (std::size_t i = 0; i < transactions_.size();) {
    Transaction& t = transactions_[i];
    if (t.next_at > now) {
      ++i;
      continue;
    }
    if (t.sent >= config_.max_transmissions) {
      if (!t.consent) {
        pairs_[t.pair].state = PairState::kFailed;
        extra_[t.pair].nominating = false;
      }
      transactions_.erase(transactions_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++t.sent;
    t.rto = std::min(t.rto * 2, std::max(config_.rto_max_ms, config_.rto_initial_ms));
    t.next_at = now + t.rto;
    queue(t.request, pairs_[t.pair].remote, pairs_[t.pair].local);
    ++i;
  }
  // One new check per Ta: triggered first, then the best waiting pair (not once connected).
  if (now >= next_check_at_) {
    std::optional<std::size_t> next;
    while (!triggered_.empty() && !next) {
      const std::size_t p = triggered_.front();
      triggered_.erase(triggered_.begin());
      if (pairs_[p].state == PairState::kWaiting) next = p;
    }
    if (!next && state_ == AgentState::kChecking) {
      for (std::size_t i = 0; i < pairs_.size(); ++i)
        if (pairs_[i].state == PairState::kWaiting &&
            (!next || pairs_[i].priority > pairs_[*next].priority))
          next = i;
    }
    if (next) {
      (void)send_check(*next, false, false, now);
      next_check_at_ = now + config_.ta_ms;
    }
  }
  maybe_nominate(now);
  if (state_ == AgentState::kConnected && selected_) {
    if (config_.consent_interval_ms != 0 && now >= last_consent_ + config_.consent_timeout_ms) {
      fail(Status(Code::kTimeout, Module::kDc, "ICE consent expired"));
      return Status::ok();
    }
    if (now >= next_consent_at_) {
      (void)send_check(*selected_, false, true, now);
      schedule_consent(now);
    }
  }
  check_failure(now);
  return Status::ok();
}

std::uint64_t Agent::next_deadline() const {
  if (state_ != AgentState::kChecking && state_ != AgentState::kConnected) return UINT64_MAX;
  std::uint64_t next = UINT64_MAX;
  for (const auto& t : transactions_)
    next = std::min(next, t.next_at);
  bool waiting = !triggered_.empty();
  if (state_ == AgentState::kChecking) {
    for (const auto& p : pairs_)
      waiting = waiting || p.state == PairState::kWaiting;
    next = std::min(next, started_at_ + config_.connect_timeout_ms);
    if (first_valid_at_ != 0 && role_ == Role::kControlling)
      next = std::min(next, first_valid_at_ + config_.nomination_wait_ms);
  }
  if (waiting) next = std::min(next, next_check_at_);
  if (state_ == AgentState::kConnected && config_.consent_interval_ms != 0) {
    next = std::min(next, next_consent_at_);
    next = std::min(next, last_consent_ + config_.consent_timeout_ms);
  }
  return next;
}

const CandidatePair* Agent::selected() const {
  return selected_ && state_ == AgentState::kConnected ? &pairs_[*selected_] : nullptr;
}

void Agent::close() {
  if (state_ == AgentState::kClosed) return;
  state_ = AgentState::kClosed;
  transactions_.clear();
  triggered_.clear();
  out_.clear();
  if (callbacks_.on_state) callbacks_.on_state(callbacks_.ctx, state_, Status::ok());
}

} // namespace imsdc::ice
