// Dialog-level SIP: the headers calls depend on (Require/Supported, RSeq, RAck,
// Session-Expires, Min-SE, Call-Info avatar references, tags, Record-Route, Contact), the SDP
// body framing, the reginfo body of a reg event NOTIFY, and a CallAgent fed the message in
// every state it can reach from it: never crashes, never leaks (ASan/LSan), and what it
// accepts stays within its bounds.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "imsdc/config_defaults.h"
#include "sip/call.h"
#include "sip/dialog.h"
#include "sip/message.h"
#include "sip/registration.h"

namespace {

imsdc::Status fill(void* ctx, std::uint8_t* out, std::size_t n) {
  auto* c = static_cast<std::uint32_t*>(ctx);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>((*c)++ * 151u >> 2);
  return imsdc::Status::ok();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace imsdc::sip;
  imsdc::ByteSpan input(data, size);
  auto m = parse_message(input);
  if (!m.is_ok()) return 0;
  const Message& msg = m.value();
  (void)has_option_tag(msg, "Require", "100rel");
  (void)first_unsupported(msg, "100rel, timer");
  (void)parse_rseq(msg.header("RSeq"));
  (void)parse_rack(msg.header("RAck"));
  (void)parse_session_expires(msg.header("Session-Expires"));
  (void)parse_min_se(msg.header("Min-SE"));
  (void)tag_of(msg.header("From"));
  (void)top_branch(msg);
  auto sdp = sdp_body(msg);
  if (sdp.is_ok() && sdp->size() > IMSDC_MAX_SDP_SIZE) std::abort();
  auto avatar = avatar_reference(msg, "Call-Info");
  if (avatar.is_ok() && !format_avatar_header(avatar.value()).is_ok() && avatar->empty())
    std::abort();
  auto uac = Dialog::as_uac(msg, msg);
  if (uac.is_ok() && uac->route_set.size() > kMaxRouteSet) std::abort();
  auto uas = Dialog::as_uas(msg, "fuzztag");
  if (uas.is_ok()) (void)uas->refresh_target(msg);
  std::string_view body(reinterpret_cast<const char*>(msg.body().data()), msg.body().size());
  auto info = parse_reginfo(body, "sip:alice@ims.example");
  if (info.is_ok() && info->contacts.size() > kMaxRegInfoContacts) std::abort();

  // The message as the first thing a CallAgent hears, then as the answer to its INVITE
  // (Call-ID, tags and branch of the fuzzed message do not match: the agent must say so
  // safely), then its timers.
  std::uint32_t counter = 1;
  CallConfig config;
  config.impu = "sip:alice@ims.example";
  config.contact_uri = "sip:alice@a1.invalid;transport=ws";
  config.via_host = "a1.invalid";
  config.random = RandomSource{fill, &counter};
  config.session_expires_s = 90;
  auto agent = CallAgent::create(std::move(config));
  if (!agent.is_ok()) std::abort();
  CallOutput out = agent->on_message(input, 0);
  for (const auto& s : out.send)
    if (!parse_message(imsdc::ByteSpan(s)).is_ok()) std::abort(); // we send only what parses
  OutgoingCall call;
  call.to = "sip:bob@ims.example";
  call.sdp = "v=0\r\n";
  CallOutput out2;
  (void)agent->invite(call, 0, &out2);
  (void)agent->on_message(input, 1);
  for (const auto& e : out.events)
    if (e.kind == CallEventKind::kIncoming) {
      CallOutput o;
      (void)agent->ring(e.call, "v=0\r\n", 2, &o);
      (void)agent->answer(e.call, "v=0\r\n", 3, &o);
      (void)agent->on_message(input, 4);
      (void)agent->hangup(e.call, 5, &o);
    }
  (void)agent->poll(200000);
  return 0;
}
