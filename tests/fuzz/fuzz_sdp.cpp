// SDP parser, generator and answerer: never crash, and whatever parses round-trips exactly
// (parse -> generate -> parse gives an equal model, and generating again gives the same
// text), which is what lets the session layer re-send an SDP it has read.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sdp/negotiate.h"
#include "sdp/sdp.h"

using namespace imsdc;
using namespace imsdc::sdp;

namespace {

Verdict accept_half(void*, const ChannelRequest& r, Verdict) {
  return (r.stream_id & 1) ? Verdict::kReject : Verdict::kAccept;
}

void answer(const SessionDescription& offer) {
  if (offer.data_channel() == nullptr) return;
  AnswerConfig cfg;
  cfg.local.origin = Origin{"-", "1", "1", AddrType::kIp4, "192.0.2.1"};
  cfg.local.connection = Connection{AddrType::kIp4, "192.0.2.1"};
  cfg.local.fingerprints = {Fingerprint{HashFunc::kSha256, Bytes(32, 0x5a)}};
  cfg.local.tls_id = "FuzzTlsId0123456789abcd";
  cfg.local.ice.enabled = true;
  cfg.local.ice.params = IceParams{"fuzz", "fuzzfuzzfuzzfuzzfuzzfu", {}};
  ChannelPolicy policy;
  policy.callback = accept_half;
  Result<Answer> a = make_answer(offer, cfg, policy);
  if (!a.is_ok()) return;
  Result<std::string> text = generate(a->sdp);
  if (!text.is_ok() && text.status() != Code::kTooLarge) std::abort();
  for (const DcMap& c : a->result.channels) {
    if (c.stream_id & 1) std::abort(); // the policy said no
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Result<DcMap> dcmap = parse_dcmap(in);
  (void)dcmap;
  Result<SessionDescription> first = parse(in);
  if (!first.is_ok()) return 0;
  answer(first.value());
  Result<std::string> text = generate(first.value());
  if (!text.is_ok()) {
    // A parsed SDP may grow past the size bound when written strictly; nothing else may fail.
    if (text.status() != Code::kTooLarge) std::abort();
    return 0;
  }
  Result<SessionDescription> second = parse(text.value());
  if (!second.is_ok() || !(second.value() == first.value())) std::abort();
  Result<std::string> again = generate(second.value());
  if (!again.is_ok() || again.value() != text.value()) std::abort();
  return 0;
}
