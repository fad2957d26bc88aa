// The media function's split and merge (sdp/mf.h): never crash on any parsed offer or answer,
// pass-through lines come out equal to what went in, the MF's lines carry the MF's
// fingerprints, and everything produced parses back to the same model.
//
// Input: the calling UE's offer, optionally followed by "\n====\n" and the called UE's answer.
// Without an answer, one is made the way a UE would (one make_answer per data-channel line).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sdp/mf.h"

using namespace imsdc;
using namespace imsdc::sdp;

namespace {

LocalEndpoint endpoint(std::uint16_t port, std::uint8_t fp, const char* tls_id) {
  LocalEndpoint e;
  e.origin = Origin{"-", "1", "1", AddrType::kIp4, "198.51.100.1"};
  e.connection = Connection{AddrType::kIp4, "198.51.100.1"};
  e.port = port;
  e.fingerprints = {Fingerprint{HashFunc::kSha256, Bytes(32, fp)}};
  e.tls_id = tls_id;
  return e;
}

const MfConfig& config() {
  static const MfConfig c = [] {
    MfConfig m;
    m.caller_leg = endpoint(40000, 0x11, "FuzzMfCallerTlsId01234");
    m.callee_leg = endpoint(40002, 0x22, "FuzzMfCalleeTlsId01234");
    m.callee_leg.ice.enabled = true;
    m.callee_leg.ice.params = IceParams{"fzmf", "fuzzfuzzfuzzfuzzfuzzfu", {}};
    return m;
  }();
  return c;
}

void check_text(const std::string& text, const SessionDescription& model) {
  Result<SessionDescription> back = parse(text);
  if (!back.is_ok() || !(back.value() == model)) std::abort();
}

// What a UE answers: each data-channel line with its own make_answer, joined line by line.
bool ue_answer(const SessionDescription& offer, SessionDescription* out) {
  std::size_t dc = 0;
  bool first = true;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    if (!offer.media[i].is_data_channel) continue;
    AnswerConfig cfg;
    cfg.local = endpoint(52000, 0x33, "FuzzUeBTlsId0123456789");
    cfg.data_channel_index = dc++;
    ChannelPolicy policy;
    policy.allowed_subprotocols = {"imsdc-avatar"};
    Result<Answer> a = make_answer(offer, cfg, policy);
    if (!a.is_ok()) return false;
    if (first)
      *out = a->sdp;
    else
      out->media[i] = a->sdp.media[i];
    first = false;
  }
  return !first;
}

void merge(const SessionDescription& ue_offer, const MfSplit& split,
           const SessionDescription& answer) {
  Result<MfMerged> m = merge_answer(ue_offer, split, answer, config());
  if (!m.is_ok()) return;
  const SessionDescription& out = m->caller_answer;
  if (out.media.size() != ue_offer.media.size()) std::abort();
  for (std::size_t i = 0; i < out.media.size(); ++i) {
    const MediaSection& want =
        i == split.caller_bootstrap_index ? split.caller_bootstrap_answer : answer.media[i];
    if (!(out.media[i] == want)) std::abort();
  }
  // The MF's own port-0 answer line is written as a data-channel line and so reads back
  // with more fields; that the text reads back at all is what the UE needs.
  if (!parse(m->caller_answer_text).is_ok()) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t sep = in.find("\n====\n");
  Result<SessionDescription> offer = parse(in.substr(0, sep));
  if (!offer.is_ok()) return 0;
  Result<MfSplit> split = split_offer(offer.value(), config());
  if (!split.is_ok()) return 0;
  const SessionDescription& callee = split->callee_offer;
  for (std::size_t i = 0; i < offer->media.size(); ++i) {
    if (i == split->caller_bootstrap_index) continue;
    if (!(callee.media[i] == offer->media[i])) std::abort(); // pass-through untouched
  }
  if (split->callee_bootstrap_index != kNoMediaLine &&
      !(callee.media[split->callee_bootstrap_index].fingerprints ==
        config().callee_leg.fingerprints)) {
    std::abort();
  }
  if (split->caller_bootstrap_index != kNoMediaLine && split->caller_bootstrap_answer.port != 0 &&
      !(split->caller_bootstrap_answer.fingerprints == config().caller_leg.fingerprints)) {
    std::abort();
  }
  check_text(split->callee_offer_text, callee);

  SessionDescription answer;
  if (sep != std::string_view::npos) {
    Result<SessionDescription> given = parse(in.substr(sep + 6));
    if (given.is_ok()) merge(offer.value(), split.value(), given.value());
  }
  if (ue_answer(callee, &answer)) {
    Result<std::string> text = generate(answer); // through the wire, as the MF receives it
    if (!text.is_ok()) return 0;
    Result<SessionDescription> wired = parse(text.value());
    if (wired.is_ok()) merge(offer.value(), split.value(), wired.value());
  }
  return 0;
}
