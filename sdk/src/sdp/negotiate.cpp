// Offer/answer for the data-channel m-line. See negotiate.h for the rules and their sources.
#include "sdp/negotiate.h"

#include <algorithm>
#include <string>

namespace imsdc::sdp {
namespace {

Status invalid(const char* detail) {
  return Status(Code::kInvalidArgument, Module::kSdp, detail);
}

bool is_tls_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '-' || c == '_';
}

// Values this endpoint sends are held to the generating rules, not the lenient parsing ones.
Status check_local(const LocalEndpoint& local) {
  bool sha256 =
      std::any_of(local.fingerprints.begin(), local.fingerprints.end(), [](const Fingerprint& f) {
        return f.hash == HashFunc::kSha256 && f.digest.size() == 32;
      });
  if (!sha256) return invalid("sdp: local sha-256 fingerprint required");
  if (local.tls_id.size() < 20 || local.tls_id.size() > 255 ||
      !std::all_of(local.tls_id.begin(), local.tls_id.end(), is_tls_id_char)) {
    return invalid("sdp: local tls-id must be 20..255 characters of [A-Za-z0-9+/_-]");
  }
  if (local.ice.enabled &&
      (local.ice.params.ufrag.size() < 4 || local.ice.params.pwd.size() < 22)) {
    return invalid("sdp: ICE enabled without valid ufrag/pwd");
  }
  if (local.port == 0) return invalid("sdp: local port must not be 0");
  return Status::ok();
}

const DcMap* find_channel(const std::vector<DcMap>& list, std::uint16_t id) {
  for (const DcMap& c : list) {
    if (c.stream_id == id) return &c;
  }
  return nullptr;
}

Status check_app_channel(const DcMap& c, const std::vector<DcMap>& existing) {
  if (c.stream_id < kFirstAppStreamId || c.stream_id > kMaxStreamId) {
    return invalid("sdp: application channel stream id must be 1000..65534");
  }
  if (find_channel(existing, c.stream_id)) return invalid("sdp: duplicate stream id");
  if (c.max_retr && c.max_time) return invalid("sdp: max-retr and max-time are exclusive");
  if (existing.size() >= IMSDC_DC_MAX_CHANNELS) {
    return Status(Code::kTooLarge, Module::kSdp, "sdp: more than IMSDC_DC_MAX_CHANNELS channels");
  }
  return Status::ok();
}

DcMap bootstrap_channel(std::uint16_t id, BdcUsedBy used_by) {
  DcMap c;
  c.stream_id = id;
  c.subprotocol = "http";
  c.bdc_used_by = used_by;
  return c;
}

// The data-channel m-line of this endpoint, without channels.
MediaSection local_section(const LocalEndpoint& local, Setup setup) {
  MediaSection m;
  m.media = "application";
  m.port = local.port;
  m.proto = "UDP/DTLS/SCTP";
  m.fmt = "webrtc-datachannel";
  m.is_data_channel = true;
  m.mid = local.mid;
  m.connection = local.connection;
  m.setup = setup;
  m.fingerprints = local.fingerprints;
  m.tls_id = local.tls_id;
  m.max_message_size = local.max_message_size;
  if (local.ice.enabled) {
    m.ice = local.ice.params;
    m.candidates = local.ice.candidates;
  }
  return m;
}

SessionDescription local_session(const LocalEndpoint& local) {
  SessionDescription s;
  s.origin = local.origin;
  s.ice_lite = local.ice.enabled && local.ice.lite;
  return s;
}

// Everything the remote side says about its end of the association.
void read_remote(const SessionDescription& sdp, const MediaSection& m, Negotiated* n) {
  n->remote_setup = m.setup;
  n->remote_fingerprints = m.fingerprints.empty() ? sdp.fingerprints : m.fingerprints;
  std::stable_sort(n->remote_fingerprints.begin(), n->remote_fingerprints.end(),
                   [](const Fingerprint& a, const Fingerprint& b) { return a.hash > b.hash; });
  n->remote_tls_id = m.tls_id;
  n->remote_sctp_port = m.sctp_port;
  n->remote_max_message_size = m.max_message_size;
  n->remote_connection = m.connection.address.empty() ? sdp.connection : m.connection;
  n->remote_port = m.port;
  n->remote_ice = m.ice.ufrag.empty() ? sdp.ice : m.ice;
  if (n->remote_ice.options.empty()) n->remote_ice.options = sdp.ice.options;
  n->remote_candidates = m.candidates;
  n->remote_ice_lite = sdp.ice_lite;
  n->mid = m.mid;
}

// RFC 8842 section 5: a changed tls-id or fingerprint on either side means a new association.
bool needs_new_association(const Negotiated* previous, const Negotiated& now) {
  return previous == nullptr || !previous->accepted ||
         previous->remote_tls_id != now.remote_tls_id ||
         previous->local_tls_id != now.local_tls_id ||
         previous->remote_fingerprints != now.remote_fingerprints;
}

// Fills added/removed against the previous exchange. A channel whose parameters changed
// counts as removed and added: the DC layer must reset the stream and reopen it.
void diff_channels(const Negotiated* previous, Negotiated* n) {
  std::vector<DcMap> before;
  if (previous && previous->accepted) before = previous->channels;
  for (const DcMap& c : n->channels) {
    const DcMap* old = n->new_association ? nullptr : find_channel(before, c.stream_id);
    if (!old || !(*old == c)) n->added.push_back(c.stream_id);
  }
  for (const DcMap& c : before) {
    const DcMap* now = find_channel(n->channels, c.stream_id);
    if (n->new_association || !now || !(*now == c)) n->removed.push_back(c.stream_id);
  }
}

// RFC 4145 section 4 / RFC 5763 section 5: the answer's setup for the offer's.
Setup answer_setup(Setup offered, Setup for_actpass) {
  switch (offered) {
  case Setup::kActpass:
    return for_actpass;
  case Setup::kActive:
  case Setup::kNone: // RFC 4145: an absent attribute means active
    return Setup::kPassive;
  case Setup::kPassive:
    return Setup::kActive;
  case Setup::kHoldconn:
    return Setup::kHoldconn;
  }
  return Setup::kHoldconn;
}

DtlsRole role_of(Setup local) {
  if (local == Setup::kActive) return DtlsRole::kClient;
  if (local == Setup::kPassive) return DtlsRole::kServer;
  return DtlsRole::kNone;
}

void disable(Negotiated* n, const char* reason) {
  n->accepted = false;
  n->reject_reason = reason;
  n->role = DtlsRole::kNone;
  n->channels.clear();
}

// Increments a decimal o= session version (RFC 8866 section 5.2: it grows with each change).
bool increment_decimal(std::string* v) {
  if (v->empty() || v->size() > 20 ||
      !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  for (std::size_t i = v->size(); i-- > 0;) {
    if ((*v)[i] != '9') {
      ++(*v)[i];
      return true;
    }
    (*v)[i] = '0';
  }
  v->insert(v->begin(), '1');
  return true;
}

// The data-channel m-line number `index` (counting data-channel lines only), or null.
const MediaSection* nth_data_channel(const SessionDescription& s, std::size_t index) {
  for (const MediaSection& m : s.media) {
    if (m.is_data_channel && index-- == 0) return &m;
  }
  return nullptr;
}

} // namespace

bool is_bootstrap_stream(std::uint16_t id) {
  return id == 0 || id == 10 || id == 100 || id == 110;
}

Verdict evaluate(const ChannelPolicy& policy, const ChannelRequest& r) {
  auto listed = [](const std::vector<std::string>& list, std::string_view v) {
    return !v.empty() && std::find(list.begin(), list.end(), v) != list.end();
  };
  bool ok = r.bootstrap ? policy.accept_bootstrap
                        : listed(policy.allowed_subprotocols, r.subprotocol) ||
                              listed(policy.allowed_apps, r.req_app);
  Verdict v = ok ? Verdict::kAccept : Verdict::kReject;
  return policy.callback ? policy.callback(policy.ctx, r, v) : v;
}

bool fingerprint_matches(const std::vector<Fingerprint>& remote, HashFunc hash, ByteSpan digest) {
  for (const Fingerprint& f : remote) {
    if (f.hash == hash && constant_time_equal(ByteSpan(f.digest), digest)) return true;
  }
  return false;
}

Result<SessionDescription> make_offer(const OfferConfig& config) {
  IMSDC_TRY(check_local(config.local));
  SessionDescription s = local_session(config.local);
  for (const MediaSection& m : config.other_media) {
    if (m.is_data_channel) return invalid("sdp: other_media must not hold a data-channel m-line");
  }
  // TS 26.114 Rel-18 section 6.2.10.1: no data-channel m-line before the first speech m-line,
  // so the application's lines (speech first) come before ours.
  s.media = config.other_media;
  MediaSection dc = local_section(config.local, Setup::kActpass);
  // The bootstrap channels go on their own line (not in the BUNDLE group: another
  // transport) when the configuration asks for one association per kind.
  MediaSection* boot = &dc;
  MediaSection bootstrap_line;
  const bool own_line =
      config.bootstrap_local.has_value() && (config.local_bootstrap || config.remote_bootstrap);
  if (own_line) {
    IMSDC_TRY(check_local(*config.bootstrap_local));
    if (config.bootstrap_local->tls_id == config.local.tls_id)
      return invalid("sdp: each data-channel m-line needs its own tls-id");
    bootstrap_line = local_section(*config.bootstrap_local, Setup::kActpass);
    boot = &bootstrap_line;
  }
  if (config.local_bootstrap) {
    for (std::uint16_t id : kLocalBootstrapIds)
      boot->channels.push_back(bootstrap_channel(id, BdcUsedBy::kNone));
  }
  if (config.remote_bootstrap) {
    for (std::uint16_t id : kRemoteBootstrapIds) {
      boot->channels.push_back(bootstrap_channel(id, config.remote_bdc_used_by));
    }
  }
  if (own_line) s.media.push_back(std::move(bootstrap_line));
  for (const DcMap& c : config.app_channels) {
    IMSDC_TRY(check_app_channel(c, dc.channels));
    dc.channels.push_back(c);
  }
  if (!dc.mid.empty()) s.bundle.push_back(dc.mid);
  s.media.push_back(std::move(dc));
  return s;
}

Result<Answer> make_answer(const SessionDescription& offer, const AnswerConfig& config,
                           const ChannelPolicy& policy, const Negotiated* previous) {
  IMSDC_TRY(check_local(config.local));
  if (config.setup_for_actpass != Setup::kActive && config.setup_for_actpass != Setup::kPassive) {
    return invalid("sdp: setup_for_actpass must be active or passive");
  }
  const MediaSection* offered = nth_data_channel(offer, config.data_channel_index);
  if (offered == nullptr) return invalid("sdp: offer has no data-channel m-line");
  for (const MediaSection& m : config.other_media) {
    if (m.is_data_channel) return invalid("sdp: other_media must not hold a data-channel m-line");
  }

  Answer a;
  a.sdp = local_session(config.local);
  Negotiated& n = a.result;
  read_remote(offer, *offered, &n);
  n.local_tls_id = config.local.tls_id;
  n.new_association = needs_new_association(previous, n);
  if (previous && n.new_association && previous->accepted &&
      previous->local_tls_id == n.local_tls_id) {
    return invalid("sdp: a new association needs a new local tls-id");
  }
  // Keeping an association keeps the roles (RFC 8842 section 5.3), so an actpass re-offer is
  // answered with the setup we used before.
  Setup for_actpass = config.setup_for_actpass;
  if (!n.new_association &&
      (previous->local_setup == Setup::kActive || previous->local_setup == Setup::kPassive)) {
    for_actpass = previous->local_setup;
  }
  n.local_setup = answer_setup(offered->setup, for_actpass);
  n.role = role_of(n.local_setup);
  n.accepted = true;
  if (offered->port == 0) {
    disable(&n, "sdp: data-channel m-line disabled in the offer");
  } else if (n.remote_fingerprints.empty()) {
    disable(&n, "sdp: offer has no usable fingerprint");
  } else if (n.local_setup == Setup::kHoldconn) {
    disable(&n, "sdp: offer asks to hold the connection");
  }

  for (const DcMap& c : offered->channels) {
    if (!n.accepted) break; // nothing is opened, so nothing is put to the policy
    const DcMap* old = (previous && previous->accepted && !n.new_association)
                           ? find_channel(previous->channels, c.stream_id)
                           : nullptr;
    // Only what the offer adds (or changes) is put to the policy.
    bool keep = old && *old == c;
    if (!keep) {
      ChannelRequest r{c.stream_id, c.label, c.subprotocol, c.req_app,
                       is_bootstrap_stream(c.stream_id)};
      keep = evaluate(policy, r) == Verdict::kAccept;
    }
    if (keep) {
      n.channels.push_back(c);
    } else {
      n.rejected.push_back(c.stream_id);
    }
  }
  if (n.accepted && !offered->channels.empty() && n.channels.empty()) {
    disable(&n, "sdp: every offered channel was rejected");
  }
  diff_channels(previous, &n);

  MediaSection dc = local_section(config.local, n.local_setup);
  dc.mid = offered->mid;
  dc.proto = offered->proto;
  if (offered->is_legacy()) dc.fmt = std::to_string(kDefaultSctpPort);
  dc.channels = n.channels;
  // ICE only when the offerer runs it: an IMS access without ICE gets none.
  if (n.remote_ice.ufrag.empty()) {
    dc.ice = IceParams();
    dc.candidates.clear();
    a.sdp.ice_lite = false;
  }
  if (!n.accepted) {
    dc = rejected_copy(*offered);
    a.sdp.ice_lite = false;
  }

  std::size_t next_other = 0;
  for (const MediaSection& m : offer.media) {
    if (&m == offered) {
      a.sdp.media.push_back(dc);
    } else if (!m.is_data_channel && next_other < config.other_media.size()) {
      a.sdp.media.push_back(config.other_media[next_other++]);
    } else {
      // A second data-channel m-line (one association is all we run) or an application
      // line the application did not answer.
      a.sdp.media.push_back(rejected_copy(m));
    }
  }
  if (next_other != config.other_media.size())
    return invalid("sdp: more answers than offered m-lines");
  // BUNDLE: the offer's group, keeping only mids we answer with a port (RFC 8843 section 7.3).
  for (const std::string& mid : offer.bundle) {
    for (const MediaSection& m : a.sdp.media) {
      if (m.mid == mid && m.port != 0) a.sdp.bundle.push_back(mid);
    }
  }
  return a;
}

Result<SessionDescription> make_reoffer(const SessionDescription& previous_local,
                                        const std::vector<DcMap>& add,
                                        const ReofferOptions& options) {
  SessionDescription s = previous_local;
  MediaSection* dc = s.data_channel();
  if (dc == nullptr) return invalid("sdp: no data-channel m-line to re-offer");
  if (dc->port == 0)
    return Status(Code::kState, Module::kSdp, "sdp: data-channel m-line is disabled");
  if (!increment_decimal(&s.origin.session_version))
    return invalid("sdp: o= version is not a number");
  // A re-offer leaves the roles open again; a kept association keeps them (RFC 8842 5.5).
  dc->setup = Setup::kActpass;
  for (std::uint16_t id : options.remove) {
    dc->channels.erase(std::remove_if(dc->channels.begin(), dc->channels.end(),
                                      [id](const DcMap& c) { return c.stream_id == id; }),
                       dc->channels.end());
  }
  for (const DcMap& c : add) {
    IMSDC_TRY(check_app_channel(c, dc->channels));
    dc->channels.push_back(c);
  }
  if (!options.new_tls_id.empty()) {
    LocalEndpoint probe;
    probe.fingerprints =
        options.new_fingerprints.empty() ? dc->fingerprints : options.new_fingerprints;
    probe.tls_id = options.new_tls_id;
    IMSDC_TRY(check_local(probe));
    if (probe.tls_id == dc->tls_id) return invalid("sdp: new association needs a different tls-id");
    dc->tls_id = probe.tls_id;
    dc->fingerprints = probe.fingerprints;
  }
  return s;
}

MediaSection rejected_copy(const MediaSection& offered) {
  MediaSection m;
  m.media = offered.media;
  m.proto = offered.proto;
  m.fmt = offered.fmt;
  m.mid = offered.mid;
  if (!offered.mid.empty()) m.extra.push_back("a=mid:" + offered.mid);
  return m;
}

Result<Negotiated> apply_answer(const SessionDescription& local_offer,
                                const SessionDescription& answer, const Negotiated* previous,
                                std::size_t data_channel_index) {
  const MediaSection* ours = nth_data_channel(local_offer, data_channel_index);
  if (ours == nullptr) return invalid("sdp: our offer has no data-channel m-line");
  if (answer.media.size() != local_offer.media.size()) {
    return Status(Code::kMalformed, Module::kSdp, "sdp: answer m-line count differs from offer");
  }
  const MediaSection& theirs =
      answer.media[static_cast<std::size_t>(ours - local_offer.media.data())];
  if (!theirs.is_data_channel && theirs.port != 0) {
    return Status(Code::kMalformed, Module::kSdp, "sdp: answer line is not a data channel");
  }
  if (theirs.setup == Setup::kActpass) {
    return Status(Code::kMalformed, Module::kSdp, "sdp: answer must not use setup:actpass");
  }
  Negotiated n;
  read_remote(answer, theirs, &n);
  n.local_setup = ours->setup;
  n.local_tls_id = ours->tls_id;
  n.new_association = needs_new_association(previous, n);
  // The answerer's setup decides; an absent one means active (RFC 4145 section 4).
  Setup remote = theirs.setup == Setup::kNone ? Setup::kActive : theirs.setup;
  n.local_setup = remote == Setup::kActive    ? Setup::kPassive
                  : remote == Setup::kPassive ? Setup::kActive
                                              : Setup::kHoldconn;
  n.role = role_of(n.local_setup);
  n.accepted = true;
  for (const DcMap& c : ours->channels) {
    // Our parameters count: the answer only confirms (RFC 8864 section 6.1).
    if (find_channel(theirs.channels, c.stream_id)) {
      n.channels.push_back(c);
    } else {
      n.rejected.push_back(c.stream_id);
    }
  }
  if (theirs.port == 0 || ours->port == 0) {
    disable(&n, "sdp: data-channel m-line rejected by the answerer");
  } else if (n.remote_fingerprints.empty()) {
    disable(&n, "sdp: answer has no usable fingerprint");
  } else if (n.local_setup == Setup::kHoldconn) {
    disable(&n, "sdp: answer holds the connection");
  }
  diff_channels(previous, &n);
  return n;
}

} // namespace imsdc::sdp
