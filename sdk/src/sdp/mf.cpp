// The media function's SDP split and merge. See mf.h for the design and its sources.
#include "sdp/mf.h"

#include <algorithm>
#include <string>

namespace imsdc::sdp {
namespace {

Status invalid(const char* detail) {
  return Status(Code::kInvalidArgument, Module::kSdp, detail);
}
Status unsupported(const char* detail) {
  return Status(Code::kUnsupported, Module::kSdp, detail);
}
Status malformed(const char* detail) {
  return Status(Code::kMalformed, Module::kSdp, detail);
}
Status too_large(const char* detail) {
  return Status(Code::kTooLarge, Module::kSdp, detail);
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool has_line(const std::vector<std::string>& lines, std::string_view prefix) {
  return std::any_of(lines.begin(), lines.end(), [prefix](const std::string& l) {
    return std::string_view(l).substr(0, prefix.size()) == prefix;
  });
}

enum class LineKind : std::uint8_t { kBootstrap, kPassThrough };

// A data-channel line whose streams are all bootstrap ids is anchored at the MF; a line with
// no dcmap (channels opened by DCEP) or only application ids passes through.
Result<LineKind> classify(const MediaSection& m) {
  if (!m.is_data_channel) return LineKind::kPassThrough;
  std::size_t boot = static_cast<std::size_t>(
      std::count_if(m.channels.begin(), m.channels.end(),
                    [](const DcMap& c) { return is_bootstrap_stream(c.stream_id); }));
  if (boot == 0) return LineKind::kPassThrough;
  if (boot != m.channels.size()) {
    return unsupported("sdp-mf: an m-line mixes bootstrap and application channels; one "
                       "association cannot be both e2ae and e2e");
  }
  return LineKind::kBootstrap;
}

// The MF's line must not borrow anything from the peer's session level, so it carries its own
// connection address (check_local in negotiate.cpp checks the rest).
Status check_leg(const LocalEndpoint& leg) {
  if (leg.connection.address.empty()) return invalid("sdp-mf: MF endpoint needs a c= address");
  return Status::ok();
}

// True when a pass-through line of `s` (every active line but `skip`) runs ICE, with its own
// credentials or the session-level ones.
bool peer_uses_ice(const SessionDescription& s, std::size_t skip) {
  if (!s.ice.ufrag.empty()) return true;
  for (std::size_t i = 0; i < s.media.size(); ++i) {
    const MediaSection& m = s.media[i];
    if (i == skip || m.port == 0) continue;
    if (m.is_data_channel ? !m.ice.ufrag.empty() : has_line(m.extra, "a=ice-ufrag:")) return true;
  }
  return false;
}

// The session-level a=ice-lite of an SDP that joins the MF's line (at `mf_index`, or none) with
// the peer's pass-through lines. RFC 8839 has no media-level ice-lite, so both must agree.
Result<bool> joined_ice_lite(const SessionDescription& out, std::size_t mf_index, bool peer_lite,
                             bool mf_lite) {
  const MediaSection* mf = mf_index < out.media.size() ? &out.media[mf_index] : nullptr;
  if (mf == nullptr || mf->port == 0) return peer_lite;
  bool mf_ice = !mf->ice.ufrag.empty();
  if (!mf_ice && !out.ice.ufrag.empty()) {
    return unsupported("sdp-mf: the peer's session-level ICE credentials would apply to the "
                       "MF's line");
  }
  if (!mf_ice) return peer_lite;
  if (peer_uses_ice(out, mf_index) && peer_lite != mf_lite) {
    return unsupported("sdp-mf: a=ice-lite differs between the MF and the peer");
  }
  return mf_lite;
}

// One-line view of `s` (the session level plus media line `index`) for negotiate.h, which
// runs one data-channel association per call.
SessionDescription single_line(const SessionDescription& s, std::size_t index) {
  SessionDescription one;
  one.origin = s.origin;
  one.session_name = s.session_name;
  one.connection = s.connection;
  one.timing = s.timing;
  one.ice_lite = s.ice_lite;
  one.ice = s.ice;
  one.fingerprints = s.fingerprints;
  one.media.push_back(s.media[index]);
  return one;
}

bool mid_in_use(const SessionDescription& s, const std::string& mid) {
  return std::any_of(s.media.begin(), s.media.end(),
                     [&mid](const MediaSection& m) { return m.mid == mid; });
}

} // namespace

Result<MfSplit> split_offer(const SessionDescription& ue_offer, const MfConfig& config) {
  IMSDC_TRY(check_leg(config.caller_leg));
  IMSDC_TRY(check_leg(config.callee_leg));
  if (ue_offer.media.size() > kMaxMediaSections) return too_large("sdp-mf: too many m-lines");
  std::size_t boot = kNoMediaLine;
  for (std::size_t i = 0; i < ue_offer.media.size(); ++i) {
    Result<LineKind> kind = classify(ue_offer.media[i]);
    if (!kind) return kind.status();
    if (*kind != LineKind::kBootstrap) continue;
    if (boot != kNoMediaLine) return unsupported("sdp-mf: more than one bootstrap m-line");
    boot = i;
  }
  const std::string* boot_mid = boot == kNoMediaLine ? nullptr : &ue_offer.media[boot].mid;
  if (boot_mid && !boot_mid->empty() && contains(ue_offer.bundle, *boot_mid) &&
      ue_offer.bundle.size() > 1) {
    return unsupported("sdp-mf: BUNDLE joins the bootstrap m-line with lines of the peer");
  }

  MfSplit out;
  out.caller_bootstrap_index = boot;
  if (boot != kNoMediaLine) {
    AnswerConfig ac;
    ac.local = config.caller_leg;
    ac.setup_for_actpass = config.setup_for_actpass;
    Result<Answer> a = make_answer(single_line(ue_offer, boot), ac, config.bootstrap_policy,
                                   config.caller_previous);
    if (!a) return a.status();
    out.caller_bootstrap_answer = a->sdp.media.front();
    out.caller_bootstrap_ice_lite = a->sdp.ice_lite;
    out.caller_bootstrap = a->result;
  }

  SessionDescription& offer = out.callee_offer;
  offer.origin = config.callee_leg.origin;
  offer.session_name = ue_offer.session_name;
  offer.connection = ue_offer.connection;
  offer.timing = ue_offer.timing;
  offer.ice = ue_offer.ice;
  offer.fingerprints = ue_offer.fingerprints;
  offer.extra = ue_offer.extra;
  offer.media = ue_offer.media;
  for (const std::string& mid : ue_offer.bundle) {
    if (boot_mid == nullptr || mid != *boot_mid) offer.bundle.push_back(mid);
  }
  if (config.offer_bootstrap_to_callee) {
    OfferConfig oc;
    oc.local = config.callee_leg;
    oc.local_bootstrap = true;
    if (boot_mid) oc.local.mid = *boot_mid; // the caller's mids are unique; reuse its own
    Result<SessionDescription> mf_offer = make_offer(oc);
    if (!mf_offer) return mf_offer.status();
    MediaSection line = std::move(mf_offer->media.back());
    if (boot != kNoMediaLine) {
      offer.media[boot] = std::move(line);
      out.callee_bootstrap_index = boot;
    } else {
      if (offer.media.size() >= kMaxMediaSections)
        return too_large("sdp-mf: no room for the MF's bootstrap m-line");
      if (!line.mid.empty() && mid_in_use(offer, line.mid))
        return invalid("sdp-mf: the MF's mid is already used by the caller");
      offer.media.push_back(std::move(line));
      out.callee_bootstrap_index = offer.media.size() - 1;
      out.callee_bootstrap_appended = true;
    }
  } else if (boot != kNoMediaLine) {
    offer.media[boot] = rejected_copy(ue_offer.media[boot]);
  }
  Result<bool> lite = joined_ice_lite(offer, out.callee_bootstrap_index, ue_offer.ice_lite,
                                      config.callee_leg.ice.enabled && config.callee_leg.ice.lite);
  if (!lite) return lite.status();
  offer.ice_lite = *lite;

  Result<std::string> text = generate(offer);
  if (!text) return text.status();
  out.callee_offer_text = std::move(text.value());
  return out;
}

Result<MfMerged> merge_answer(const SessionDescription& ue_offer, const MfSplit& split,
                              const SessionDescription& callee_answer, const MfConfig& config) {
  const SessionDescription& offer = split.callee_offer;
  const std::size_t n = ue_offer.media.size();
  const std::size_t boot = split.caller_bootstrap_index;
  const std::size_t mf = split.callee_bootstrap_index;
  if (offer.media.size() != n + (split.callee_bootstrap_appended ? 1 : 0) ||
      (boot != kNoMediaLine && boot >= n) || (mf != kNoMediaLine && mf >= offer.media.size()) ||
      (split.callee_bootstrap_appended && mf != n)) {
    return invalid("sdp-mf: split does not belong to this offer");
  }
  if (callee_answer.media.size() != offer.media.size())
    return malformed("sdp-mf: callee answer m-line count differs from the offer");
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    if (i == boot || i == mf) continue;
    const MediaSection& o = offer.media[i];
    const MediaSection& a = callee_answer.media[i];
    if (a.media != o.media) return malformed("sdp-mf: callee answer line has another media type");
    if (a.port != 0 && a.is_data_channel != o.is_data_channel)
      return malformed("sdp-mf: callee answer line is not the offered kind of line");
  }
  for (const std::string& mid : callee_answer.bundle) {
    if (!contains(offer.bundle, mid))
      return malformed("sdp-mf: callee answer bundles a mid the offer did not");
  }

  MfMerged out;
  if (mf != kNoMediaLine) {
    Result<Negotiated> r = apply_answer(single_line(offer, mf), single_line(callee_answer, mf),
                                        config.callee_previous);
    if (!r) return r.status();
    out.callee_bootstrap = std::move(r.value());
  }

  SessionDescription& ans = out.caller_answer;
  ans.origin = config.caller_leg.origin;
  ans.session_name = callee_answer.session_name;
  ans.connection = callee_answer.connection;
  ans.timing = ue_offer.timing; // RFC 3264 section 6: the answer's t= is the offer's
  ans.ice = callee_answer.ice;
  ans.fingerprints = callee_answer.fingerprints;
  ans.extra = callee_answer.extra;
  ans.media.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    ans.media.push_back(i == boot ? split.caller_bootstrap_answer : callee_answer.media[i]);
  }
  ans.bundle = callee_answer.bundle;
  if (boot != kNoMediaLine) {
    const MediaSection& line = split.caller_bootstrap_answer;
    // split_offer allowed the bootstrap mid in BUNDLE only alone, so nothing else is grouped.
    if (!line.mid.empty() && line.port != 0 && contains(ue_offer.bundle, line.mid))
      ans.bundle = {line.mid};
  }
  Result<bool> lite =
      joined_ice_lite(ans, boot, callee_answer.ice_lite, split.caller_bootstrap_ice_lite);
  if (!lite) return lite.status();
  ans.ice_lite = *lite;

  Result<std::string> text = generate(ans);
  if (!text) return text.status();
  out.caller_answer_text = std::move(text.value());
  return out;
}

} // namespace imsdc::sdp
