// sdp/: the media function's split and merge (sdp/mf.h). Three endpoints in one process: UE-A
// offers through text, the MF splits, UE-B answers each association through text, the MF
// merges, UE-A reads the answer. The bootstrap associations end at the MF (its fingerprints,
// e2ae); the application association runs between the UEs (their fingerprints, e2e).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sdp/mf.h"

using namespace imsdc;
using namespace imsdc::sdp;

namespace {

std::string load(const char* name) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

SessionDescription must_parse(const std::string& text) {
  Result<SessionDescription> r = parse(text);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? r.value() : SessionDescription();
}

std::string text_of(const SessionDescription& s) {
  Result<std::string> t = generate(s);
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return t.is_ok() ? t.value() : std::string();
}

// The text of m-section `index` (from its m= line to the next m= line or the end).
std::string section(const std::string& sdp, std::size_t index) {
  std::vector<std::size_t> starts;
  for (std::size_t p = sdp.find("\r\nm="); p != std::string::npos; p = sdp.find("\r\nm=", p + 2))
    starts.push_back(p + 2);
  if (index >= starts.size()) return std::string();
  std::size_t end = index + 1 < starts.size() ? starts[index + 1] : sdp.size();
  return sdp.substr(starts[index], end - starts[index]);
}

Fingerprint sha256(std::uint8_t fill) {
  return Fingerprint{HashFunc::kSha256, Bytes(32, fill)};
}

LocalEndpoint endpoint(const char* addr, std::uint16_t port, std::uint8_t fp, const char* tls_id) {
  LocalEndpoint e;
  e.origin = Origin{"-", "7", "1", AddrType::kIp4, addr};
  e.connection = Connection{AddrType::kIp4, addr};
  e.port = port;
  e.fingerprints = {sha256(fp)};
  e.tls_id = tls_id;
  return e;
}

void with_ice(LocalEndpoint* e, const char* ufrag, const char* pwd) {
  e->ice.enabled = true;
  e->ice.params = IceParams{ufrag, pwd, {}};
  e->ice.candidates.push_back(
      Candidate{"1", 1, "udp", 2130706431, e->connection.address, e->port, "host", ""});
}

constexpr std::uint8_t kUeA = 0xAA, kUeB = 0xBB, kMfCaller = 0x11, kMfCallee = 0x22;
constexpr const char* kUeABdcTls = "UeABootstrapTlsId01234";
constexpr const char* kUeAAppTls = "UeAApplicationTlsId012";
constexpr const char* kUeBBdcTls = "UeBBootstrapTlsId01234";
constexpr const char* kUeBAppTls = "UeBApplicationTlsId012";
constexpr const char* kMfCallerTls = "MfCallerLegTlsId012345";
constexpr const char* kMfCalleeTls = "MfCalleeLegTlsId012345";

MfConfig mf_config() {
  MfConfig c;
  c.caller_leg = endpoint("198.51.100.1", 40000, kMfCaller, kMfCallerTls);
  c.callee_leg = endpoint("198.51.100.1", 40002, kMfCallee, kMfCalleeTls);
  c.caller_leg.origin.session_id = "100";
  c.callee_leg.origin.session_id = "200";
  return c;
}

DcMap avatar_control() {
  DcMap c;
  c.stream_id = 1000;
  c.label = "avatar-control";
  c.subprotocol = "imsdc-avatar";
  c.ordered = true;
  c.req_app = "avatar-app";
  return c;
}

const char* kSpeech = "m=audio 49000 RTP/AVP 116\r\n"
                      "b=AS:80\r\n"
                      "a=rtpmap:116 AMR-WB/16000/1\r\n"
                      "a=sendrecv\r\n";

// UE-A's offer as an imsdc UE writes it with one association per m-line: speech, the
// bootstrap line (ids 0 and 10), then the application line (id 1000), all with one device
// certificate but a tls-id per association.
struct UeOffer {
  LocalEndpoint bdc = endpoint("192.0.2.10", 50000, kUeA, kUeABdcTls);
  LocalEndpoint app = endpoint("192.0.2.10", 50002, kUeA, kUeAAppTls);
  bool bootstrap = true;

  SessionDescription build() const {
    OfferConfig o;
    o.local = app;
    o.local_bootstrap = bootstrap;
    if (bootstrap) o.bootstrap_local = bdc;
    Result<std::vector<MediaSection>> speech = parse_media(kSpeech);
    EXPECT_TRUE(speech.is_ok());
    o.other_media = speech.value();
    o.app_channels = {avatar_control()};
    Result<SessionDescription> offer = make_offer(o);
    EXPECT_TRUE(offer.is_ok()) << offer.status().message();
    return offer.is_ok() ? offer.value() : SessionDescription();
  }
};

ChannelPolicy allow_avatar() {
  ChannelPolicy p;
  p.allowed_subprotocols = {"imsdc-avatar"};
  return p;
}

// UE-B answers each data-channel association of `offer` with its own call, as a UE that runs
// one association per m-line does, and joins the lines into one answer.
struct UeBAnswer {
  SessionDescription sdp;
  std::vector<Negotiated> results; // per data-channel line, in order
};

UeBAnswer ue_b_answers(const SessionDescription& offer, LocalEndpoint bdc, LocalEndpoint app) {
  UeBAnswer out;
  std::size_t dc = 0;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    if (!offer.media[i].is_data_channel) continue;
    bool bootstrap = offer.media[i].channels.size() == 2 &&
                     is_bootstrap_stream(offer.media[i].channels[0].stream_id);
    AnswerConfig cfg;
    cfg.local = bootstrap ? bdc : app;
    cfg.data_channel_index = dc++;
    Result<std::vector<MediaSection>> speech = parse_media("m=audio 49100 RTP/AVP 116\r\n"
                                                           "a=rtpmap:116 AMR-WB/16000/1\r\n");
    EXPECT_TRUE(speech.is_ok());
    cfg.other_media = speech.value();
    Result<Answer> a = make_answer(offer, cfg, allow_avatar());
    EXPECT_TRUE(a.is_ok()) << a.status().message();
    if (!a.is_ok()) return out;
    if (out.sdp.media.empty()) {
      out.sdp = a->sdp;
    } else {
      out.sdp.media[i] = a->sdp.media[i];
    }
    out.results.push_back(a->result);
  }
  return out;
}

struct Call {
  SessionDescription ue_offer;
  std::string ue_offer_text;
  MfSplit split;
  SessionDescription callee_offer; // as UE-B parsed it
  UeBAnswer b;
  std::string b_answer_text;
  MfMerged merged;
  SessionDescription caller_answer; // as UE-A parsed it
};

// Runs the whole exchange through text; returns false (with a test failure) when a step fails.
bool run_call(const UeOffer& a, const MfConfig& mf, Call* call,
              LocalEndpoint b_bdc = endpoint("192.0.2.20", 52000, kUeB, kUeBBdcTls),
              LocalEndpoint b_app = endpoint("192.0.2.20", 52002, kUeB, kUeBAppTls)) {
  call->ue_offer_text = text_of(a.build());
  call->ue_offer = must_parse(call->ue_offer_text);
  Result<MfSplit> split = split_offer(call->ue_offer, mf);
  EXPECT_TRUE(split.is_ok()) << split.status().message();
  if (!split.is_ok()) return false;
  call->split = split.value();
  call->callee_offer = must_parse(call->split.callee_offer_text);
  call->b = ue_b_answers(call->callee_offer, b_bdc, b_app);
  call->b_answer_text = text_of(call->b.sdp);
  Result<MfMerged> merged =
      merge_answer(call->ue_offer, call->split, must_parse(call->b_answer_text), mf);
  EXPECT_TRUE(merged.is_ok()) << merged.status().message();
  if (!merged.is_ok()) return false;
  call->merged = merged.value();
  call->caller_answer = must_parse(call->merged.caller_answer_text);
  return true;
}

} // namespace

TEST(SdpMf, UeOffersTheBootstrapOnItsOwnLine) {
  const SessionDescription o = UeOffer().build();
  ASSERT_EQ(o.media.size(), 3u); // speech, bootstrap, application
  const MediaSection& boot = o.media[1];
  const MediaSection& app = o.media[2];
  ASSERT_TRUE(boot.is_data_channel && app.is_data_channel);
  ASSERT_EQ(boot.channels.size(), 2u);
  EXPECT_EQ(boot.channels[0].stream_id, 0);
  EXPECT_EQ(boot.channels[1].stream_id, 10);
  EXPECT_EQ(boot.port, 50000);
  EXPECT_EQ(boot.tls_id, kUeABdcTls);
  ASSERT_EQ(app.channels.size(), 1u);
  EXPECT_EQ(app.channels[0].stream_id, 1000);
  EXPECT_EQ(app.port, 50002);
  EXPECT_EQ(app.tls_id, kUeAAppTls);
  // Without bootstrap channels there is no bootstrap line; one tls-id for both is refused.
  UeOffer none;
  none.bootstrap = false;
  EXPECT_EQ(none.build().media.size(), 2u);
  OfferConfig same;
  same.local = endpoint("192.0.2.10", 50002, kUeA, kUeAAppTls);
  same.bootstrap_local = endpoint("192.0.2.10", 50000, kUeA, kUeAAppTls);
  EXPECT_EQ(make_offer(same).status(), Code::kInvalidArgument);
}

TEST(SdpMf, CalleeOfferKeepsAppLineTextAndCarriesTheMfBootstrap) {
  Call call;
  ASSERT_TRUE(run_call(UeOffer(), mf_config(), &call));
  const std::string& out = call.split.callee_offer_text;
  // Speech and the application line reach UE-B byte for byte.
  EXPECT_EQ(section(out, 0), section(call.ue_offer_text, 0));
  EXPECT_EQ(section(out, 2), section(call.ue_offer_text, 2));
  EXPECT_NE(section(out, 2).find("a=fingerprint:sha-256 AA:AA:"), std::string::npos);
  EXPECT_NE(section(out, 2).find(kUeAAppTls), std::string::npos);
  // The bootstrap line is the MF's offer: its own fingerprint and tls-id, ids 0 and 10.
  std::string boot = section(out, 1);
  EXPECT_NE(boot.find("a=fingerprint:sha-256 22:22:"), std::string::npos) << boot;
  EXPECT_EQ(boot.find("AA:AA"), std::string::npos) << boot;
  EXPECT_NE(boot.find(std::string("a=tls-id:") + kMfCalleeTls), std::string::npos);
  EXPECT_NE(boot.find("a=setup:actpass\r\n"), std::string::npos);
  EXPECT_NE(boot.find("c=IN IP4 198.51.100.1\r\n"), std::string::npos);
  EXPECT_NE(boot.find("a=dcmap:0 subprotocol=\"http\"\r\na=dcmap:10 subprotocol=\"http\"\r\n"),
            std::string::npos);
  EXPECT_NE(out.find("o=- 200 1 IN IP4 198.51.100.1\r\n"), std::string::npos);
  EXPECT_EQ(call.split.callee_bootstrap_index, 1u);
  EXPECT_FALSE(call.split.callee_bootstrap_appended);

  // The MF's answer to UE-A's bootstrap line: MF fingerprint, active, both ids accepted.
  EXPECT_EQ(call.split.caller_bootstrap_index, 1u);
  const MediaSection& mine = call.split.caller_bootstrap_answer;
  EXPECT_EQ(mine.fingerprints, std::vector<Fingerprint>{sha256(kMfCaller)});
  EXPECT_EQ(mine.tls_id, kMfCallerTls);
  EXPECT_EQ(mine.setup, Setup::kActive);
  ASSERT_EQ(mine.channels.size(), 2u);
  EXPECT_EQ(mine.channels[0].stream_id, 0);
  EXPECT_EQ(mine.channels[1].stream_id, 10);
  const Negotiated& leg = call.split.caller_bootstrap;
  EXPECT_TRUE(leg.accepted);
  EXPECT_EQ(leg.role, DtlsRole::kClient);
  EXPECT_EQ(leg.remote_fingerprints[0], sha256(kUeA));
  EXPECT_EQ(leg.remote_tls_id, kUeABdcTls);
}

TEST(SdpMf, BothUesNegotiateWhatTheMfProduces) {
  Call call;
  ASSERT_TRUE(run_call(UeOffer(), mf_config(), &call));
  // UE-B: the bootstrap association is with the MF (e2ae), the application one with UE-A.
  ASSERT_EQ(call.b.results.size(), 2u);
  EXPECT_TRUE(call.b.results[0].accepted);
  EXPECT_EQ(call.b.results[0].remote_fingerprints[0], sha256(kMfCallee));
  EXPECT_EQ(call.b.results[0].remote_tls_id, kMfCalleeTls);
  EXPECT_TRUE(call.b.results[1].accepted);
  EXPECT_EQ(call.b.results[1].remote_fingerprints[0], sha256(kUeA));
  EXPECT_EQ(call.b.results[1].remote_tls_id, kUeAAppTls);
  EXPECT_EQ(call.b.results[1].remote_port, 50002);

  // The caller's answer: speech and application answers are UE-B's, byte for byte.
  const std::string& ans = call.merged.caller_answer_text;
  EXPECT_EQ(section(ans, 0), section(call.b_answer_text, 0));
  EXPECT_EQ(section(ans, 2), section(call.b_answer_text, 2));
  EXPECT_NE(section(ans, 1), section(call.b_answer_text, 1));
  EXPECT_NE(ans.find("o=- 100 1 IN IP4 198.51.100.1\r\n"), std::string::npos);

  // UE-A reads each association from the merged answer.
  Result<Negotiated> boot = apply_answer(call.ue_offer, call.caller_answer, nullptr, 0);
  ASSERT_TRUE(boot.is_ok()) << boot.status().message();
  EXPECT_TRUE(boot->accepted);
  EXPECT_EQ(boot->remote_fingerprints[0], sha256(kMfCaller)); // e2ae: the MF
  EXPECT_EQ(boot->remote_tls_id, kMfCallerTls);
  EXPECT_EQ(boot->role, DtlsRole::kServer);
  EXPECT_EQ(boot->channels.size(), 2u);
  Result<Negotiated> app = apply_answer(call.ue_offer, call.caller_answer, nullptr, 1);
  ASSERT_TRUE(app.is_ok()) << app.status().message();
  EXPECT_TRUE(app->accepted);
  EXPECT_EQ(app->remote_fingerprints[0], sha256(kUeB)); // e2e: UE-B
  EXPECT_EQ(app->remote_tls_id, kUeBAppTls);
  ASSERT_EQ(app->channels.size(), 1u);
  EXPECT_EQ(app->channels[0].stream_id, 1000);
  EXPECT_EQ(app->remote_connection.address, "192.0.2.20");

  // The MF's called-leg association: UE-B's bootstrap fingerprint.
  EXPECT_TRUE(call.merged.callee_bootstrap.accepted);
  EXPECT_EQ(call.merged.callee_bootstrap.remote_fingerprints[0], sha256(kUeB));
  EXPECT_EQ(call.merged.callee_bootstrap.remote_tls_id, kUeBBdcTls);
  EXPECT_EQ(call.merged.callee_bootstrap.role, DtlsRole::kServer); // UE-B chose active
}

TEST(SdpMf, IceCredentialsAndCandidatesStayWithTheirAssociation) {
  UeOffer a;
  with_ice(&a.bdc, "UeAb", "UeABootstrapPassword01");
  with_ice(&a.app, "UeAa", "UeAApplicationPasswor1");
  MfConfig mf = mf_config();
  with_ice(&mf.caller_leg, "MfAr", "MfCallerLegPassword012");
  with_ice(&mf.callee_leg, "MfBe", "MfCalleeLegPassword012");
  LocalEndpoint b_bdc = endpoint("192.0.2.20", 52000, kUeB, kUeBBdcTls);
  LocalEndpoint b_app = endpoint("192.0.2.20", 52002, kUeB, kUeBAppTls);
  with_ice(&b_bdc, "UeBb", "UeBBootstrapPassword01");
  with_ice(&b_app, "UeBa", "UeBApplicationPasswor1");
  Call call;
  ASSERT_TRUE(run_call(a, mf, &call, b_bdc, b_app));
  EXPECT_EQ(call.callee_offer.media[1].ice.ufrag, "MfBe");
  EXPECT_EQ(call.callee_offer.media[1].candidates[0].port, 40002);
  EXPECT_EQ(call.callee_offer.media[2].ice.ufrag, "UeAa");
  EXPECT_EQ(call.callee_offer.media[2].candidates[0].port, 50002);
  EXPECT_EQ(call.caller_answer.media[1].ice.ufrag, "MfAr");
  EXPECT_EQ(call.caller_answer.media[2].ice.ufrag, "UeBa");
  EXPECT_EQ(call.split.caller_bootstrap.remote_ice.ufrag, "UeAb");
  EXPECT_EQ(call.merged.callee_bootstrap.remote_ice.ufrag, "UeBb");
  EXPECT_EQ(section(call.merged.caller_answer_text, 2), section(call.b_answer_text, 2));
}

TEST(SdpMf, CallerWithoutBootstrapGetsNoneButTheCalleeDoes) {
  UeOffer a;
  a.bootstrap = false;
  Call call;
  ASSERT_TRUE(run_call(a, mf_config(), &call));
  EXPECT_EQ(call.split.caller_bootstrap_index, kNoMediaLine);
  EXPECT_TRUE(call.split.callee_bootstrap_appended);
  ASSERT_EQ(call.callee_offer.media.size(), 3u);
  EXPECT_EQ(call.callee_offer.media[2].fingerprints[0], sha256(kMfCallee));
  EXPECT_EQ(section(call.split.callee_offer_text, 1), section(call.ue_offer_text, 1));
  // The appended line is answered by UE-B but never reaches UE-A.
  ASSERT_EQ(call.caller_answer.media.size(), 2u);
  EXPECT_TRUE(call.merged.callee_bootstrap.accepted);
  Result<Negotiated> app = apply_answer(call.ue_offer, call.caller_answer);
  ASSERT_TRUE(app.is_ok()) << app.status().message();
  EXPECT_EQ(app->remote_fingerprints[0], sha256(kUeB));
}

TEST(SdpMf, BootstrapNotOfferedToCalleeLeavesAPortZeroLine) {
  MfConfig mf = mf_config();
  mf.offer_bootstrap_to_callee = false;
  Result<MfSplit> split = split_offer(must_parse(text_of(UeOffer().build())), mf);
  ASSERT_TRUE(split.is_ok()) << split.status().message();
  EXPECT_EQ(split->callee_offer.media.size(), 3u);
  EXPECT_EQ(split->callee_offer.media[1].port, 0);
  EXPECT_TRUE(split->callee_offer.media[1].channels.empty());
  EXPECT_EQ(split->callee_bootstrap_index, kNoMediaLine);
  EXPECT_TRUE(split->caller_bootstrap.accepted); // the calling leg still gets its bootstrap
}

TEST(SdpMf, PolicyRefusingEveryBootstrapStreamAnswersPortZero) {
  MfConfig mf = mf_config();
  mf.bootstrap_policy.accept_bootstrap = false;
  Call call;
  ASSERT_TRUE(run_call(UeOffer(), mf, &call));
  EXPECT_EQ(call.caller_answer.media[1].port, 0);
  Result<Negotiated> boot = apply_answer(call.ue_offer, call.caller_answer, nullptr, 0);
  ASSERT_TRUE(boot.is_ok());
  EXPECT_FALSE(boot->accepted);
  Result<Negotiated> app = apply_answer(call.ue_offer, call.caller_answer, nullptr, 1);
  ASSERT_TRUE(app.is_ok());
  EXPECT_TRUE(app->accepted);
}

TEST(SdpMf, MixedBootstrapAndApplicationLineIsUnsupported) {
  // make_offer's single m-line with both kinds: one association cannot be e2ae and e2e.
  OfferConfig oc;
  oc.local = endpoint("192.0.2.10", 50000, kUeA, kUeABdcTls);
  oc.app_channels = {avatar_control()};
  Result<SessionDescription> offer = make_offer(oc);
  ASSERT_TRUE(offer.is_ok());
  EXPECT_EQ(split_offer(offer.value(), mf_config()).status(), Code::kUnsupported);
  EXPECT_EQ(split_offer(must_parse(load("ims_offer_no_ice.sdp")), mf_config()).status(),
            Code::kUnsupported);
}

TEST(SdpMf, OfferErrors) {
  SessionDescription good = must_parse(text_of(UeOffer().build()));
  ASSERT_TRUE(split_offer(good, mf_config()).is_ok());

  SessionDescription two = good; // two bootstrap lines
  two.media.push_back(two.media[1]);
  EXPECT_EQ(split_offer(two, mf_config()).status(), Code::kUnsupported);

  SessionDescription bundled = good; // bootstrap and application on one transport
  bundled.media[1].mid = "b";
  bundled.media[2].mid = "a";
  bundled.bundle = {"b", "a"};
  EXPECT_EQ(split_offer(bundled, mf_config()).status(), Code::kUnsupported);
  bundled.bundle = {"b"}; // alone it is fine, and the MF answers it in a group of its own
  Result<MfSplit> alone = split_offer(bundled, mf_config());
  ASSERT_TRUE(alone.is_ok()) << alone.status().message();
  EXPECT_TRUE(alone->callee_offer.bundle.empty());
  EXPECT_EQ(alone->callee_offer.media[1].mid, "b");

  SessionDescription session_ice = good; // would apply to the MF's ICE-less line
  session_ice.ice = IceParams{"UeAs", "UeASessionPassword0123", {}};
  EXPECT_EQ(split_offer(session_ice, mf_config()).status(), Code::kUnsupported);

  SessionDescription lite = good; // ice-lite UE, full-ICE MF
  lite.ice_lite = true;
  lite.media[2].ice = IceParams{"UeAa", "UeAApplicationPasswor1", {}};
  MfConfig ice_mf = mf_config();
  with_ice(&ice_mf.callee_leg, "MfBe", "MfCalleeLegPassword012");
  with_ice(&ice_mf.caller_leg, "MfAr", "MfCallerLegPassword012");
  EXPECT_EQ(split_offer(lite, ice_mf).status(), Code::kUnsupported);
  ice_mf.callee_leg.ice.lite = true;
  EXPECT_TRUE(split_offer(lite, ice_mf).is_ok());

  MfConfig no_addr = mf_config();
  no_addr.callee_leg.connection.address.clear();
  EXPECT_EQ(split_offer(good, no_addr).status(), Code::kInvalidArgument);
  MfConfig no_fp = mf_config();
  no_fp.caller_leg.fingerprints.clear();
  EXPECT_EQ(split_offer(good, no_fp).status(), Code::kInvalidArgument);
  MfConfig short_tls = mf_config();
  short_tls.callee_leg.tls_id = "short";
  EXPECT_EQ(split_offer(good, short_tls).status(), Code::kInvalidArgument);

  // No room for the MF's appended line.
  SessionDescription full = good;
  full.media.erase(full.media.begin() + 1);
  while (full.media.size() < kMaxMediaSections)
    full.media.push_back(full.media[0]);
  EXPECT_EQ(split_offer(full, mf_config()).status(), Code::kTooLarge);
  full.media.pop_back();
  EXPECT_TRUE(split_offer(full, mf_config()).is_ok());

  // The MF's mid collides with one of the caller's when it appends its line.
  SessionDescription no_boot = good;
  no_boot.media.erase(no_boot.media.begin() + 1);
  no_boot.media[1].mid = "mf";
  MfConfig mid_mf = mf_config();
  mid_mf.callee_leg.mid = "mf";
  EXPECT_EQ(split_offer(no_boot, mid_mf).status(), Code::kInvalidArgument);

  // A result over IMSDC_MAX_SDP_SIZE.
  SessionDescription big = good;
  for (int i = 0; i < 40; ++i)
    big.extra.push_back("a=x-pad:" + std::string(500, 'p'));
  EXPECT_EQ(split_offer(big, mf_config()).status(), Code::kTooLarge);
}

TEST(SdpMf, AnswerErrors) {
  Call call;
  ASSERT_TRUE(run_call(UeOffer(), mf_config(), &call));
  SessionDescription b = must_parse(call.b_answer_text);
  MfConfig mf = mf_config();
  ASSERT_TRUE(merge_answer(call.ue_offer, call.split, b, mf).is_ok());

  SessionDescription fewer = b;
  fewer.media.pop_back();
  EXPECT_EQ(merge_answer(call.ue_offer, call.split, fewer, mf).status(), Code::kMalformed);

  SessionDescription kind = b; // the application line answered as audio
  kind.media[2] = b.media[0];
  EXPECT_EQ(merge_answer(call.ue_offer, call.split, kind, mf).status(), Code::kMalformed);

  SessionDescription actpass = b; // UE-B's answer to the MF's bootstrap offer
  actpass.media[1].setup = Setup::kActpass;
  EXPECT_EQ(merge_answer(call.ue_offer, call.split, actpass, mf).status(), Code::kMalformed);

  SessionDescription bundle = b;
  bundle.bundle = {"nope"};
  EXPECT_EQ(merge_answer(call.ue_offer, call.split, bundle, mf).status(), Code::kMalformed);

  SessionDescription session_ice = b; // would apply to the MF's ICE-less answer line
  session_ice.ice = IceParams{"UeBs", "UeBSessionPassword0123", {}};
  EXPECT_EQ(merge_answer(call.ue_offer, call.split, session_ice, mf).status(), Code::kUnsupported);

  // Rejected application line passes through as UE-B wrote it.
  SessionDescription refused = b;
  refused.media[2].port = 0;
  Result<MfMerged> m = merge_answer(call.ue_offer, call.split, refused, mf);
  ASSERT_TRUE(m.is_ok());
  Result<Negotiated> app = apply_answer(call.ue_offer, m->caller_answer, nullptr, 1);
  ASSERT_TRUE(app.is_ok());
  EXPECT_FALSE(app->accepted);

  // A split that belongs to another offer.
  SessionDescription other = call.ue_offer;
  other.media.pop_back();
  EXPECT_EQ(merge_answer(other, call.split, b, mf).status(), Code::kInvalidArgument);
  MfSplit broken = call.split;
  broken.caller_bootstrap_index = 9;
  EXPECT_EQ(merge_answer(call.ue_offer, broken, b, mf).status(), Code::kInvalidArgument);
}

TEST(SdpMf, NegotiateSelectsTheDataChannelLine) {
  SessionDescription offer = must_parse(text_of(UeOffer().build()));
  AnswerConfig cfg;
  cfg.local = endpoint("192.0.2.20", 52000, kUeB, kUeBBdcTls);
  cfg.data_channel_index = 2; // there are two
  EXPECT_EQ(make_answer(offer, cfg, allow_avatar()).status(), Code::kInvalidArgument);
  cfg.data_channel_index = 1;
  Result<Answer> a = make_answer(offer, cfg, allow_avatar());
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->sdp.media[1].port, 0); // the other data-channel line is refused
  EXPECT_EQ(a->sdp.media[2].port, 52000);
  EXPECT_EQ(a->result.channels.size(), 1u);
  EXPECT_EQ(apply_answer(offer, a->sdp, nullptr, 2).status(), Code::kInvalidArgument);
  Result<Negotiated> n = apply_answer(offer, a->sdp, nullptr, 1);
  ASSERT_TRUE(n.is_ok());
  EXPECT_TRUE(n->accepted);
}
