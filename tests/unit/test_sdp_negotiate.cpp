// sdp/: offer/answer for the data-channel m-line: the exact offer of PROTOCOL_PROFILE.md
// section 3, setup rules, channel policy (TR 33.790 KI#3), re-offers, and two endpoints
// negotiating with each other through generated text.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sdp/negotiate.h"

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

// Text through the wire and back, as the peer would see it.
SessionDescription wire(const SessionDescription& s) {
  Result<std::string> text = generate(s);
  EXPECT_TRUE(text.is_ok()) << text.status().message();
  return text.is_ok() ? must_parse(text.value()) : SessionDescription();
}

Fingerprint sha256(std::uint8_t fill) {
  return Fingerprint{HashFunc::kSha256, Bytes(32, fill)};
}

LocalEndpoint endpoint(const char* addr, std::uint8_t fp, const char* tls_id) {
  LocalEndpoint e;
  e.origin = Origin{"-", "4242", "1", AddrType::kIp4, addr};
  e.connection = Connection{AddrType::kIp4, addr};
  e.port = 50000;
  e.fingerprints = {sha256(fp)};
  e.tls_id = tls_id;
  return e;
}

LocalEndpoint ue() {
  return endpoint("192.0.2.10", 0xAB, "UeTlsId0123456789abcdef+/");
}
LocalEndpoint peer() {
  return endpoint("192.0.2.20", 0xCD, "PeerTlsId0123456789abcd-_");
}

DcMap app_channel(std::uint16_t id, const char* label, const char* sub, const char* app = "") {
  DcMap c;
  c.stream_id = id;
  c.label = label;
  c.subprotocol = sub;
  c.ordered = true;
  c.req_app = app;
  return c;
}

std::string answer_text(const Answer& a) {
  Result<std::string> t = generate(a.sdp);
  EXPECT_TRUE(t.is_ok());
  return t.is_ok() ? t.value() : std::string();
}

} // namespace

TEST(SdpOffer, ExactProfileOutput) {
  OfferConfig cfg;
  cfg.local = ue();
  cfg.local.fingerprints = {Fingerprint{HashFunc::kSha256, Bytes{0x0a, 0xbc}}};
  cfg.local.fingerprints[0].digest.resize(32, 0xee);
  cfg.app_channels.push_back(app_channel(1000, "avatar-control", "imsdc-avatar", "avatar-app"));
  Result<SessionDescription> offer = make_offer(cfg);
  ASSERT_TRUE(offer.is_ok()) << offer.status().message();
  Result<std::string> text = generate(offer.value());
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(
      text.value(),
      "v=0\r\n"
      "o=- 4242 1 IN IP4 192.0.2.10\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "m=application 50000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
      "c=IN IP4 192.0.2.10\r\n"
      "a=setup:actpass\r\n"
      "a=fingerprint:sha-256 0A:BC:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:EE:"
      "EE:EE:EE:EE:EE:EE:EE:EE:EE:EE\r\n"
      "a=tls-id:UeTlsId0123456789abcdef+/\r\n"
      "a=sctp-port:5000\r\n"
      "a=max-message-size:" +
          std::to_string(IMSDC_DC_MAX_MESSAGE_SIZE) +
          "\r\n"
          "a=dcmap:0 subprotocol=\"http\"\r\n"
          "a=dcmap:10 subprotocol=\"http\"\r\n"
          "a=dcmap:1000 label=\"avatar-control\";subprotocol=\"imsdc-avatar\";ordered=true\r\n"
          "a=dcsa:1000 3gpp-req-app:avatar-app\r\n");
}

TEST(SdpOffer, IceRemoteBootstrapAndMid) {
  OfferConfig cfg;
  cfg.local = ue();
  cfg.local.mid = "dc";
  cfg.local.ice.enabled = true;
  cfg.local.ice.params = IceParams{"UeUf", "UePassword0123456789ab", {}};
  cfg.local.ice.candidates.push_back(
      Candidate{"1", 1, "udp", 2130706431, "192.0.2.10", 50000, "host", ""});
  cfg.remote_bootstrap = true;
  Result<SessionDescription> offer = make_offer(cfg);
  ASSERT_TRUE(offer.is_ok());
  std::string text = generate(offer.value()).value();
  EXPECT_NE(text.find("a=group:BUNDLE dc\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=dcmap:100 subprotocol=\"http\"\r\na=dcmap:110 subprotocol=\"http\"\r\n"
                      "a=dcsa:100 3gpp-bdc-used-by:sender\r\na=dcsa:110 3gpp-bdc-used-by:sender\r\n"
                      "a=ice-ufrag:UeUf\r\na=ice-pwd:UePassword0123456789ab\r\n"
                      "a=candidate:1 1 udp 2130706431 192.0.2.10 50000 typ host\r\na=mid:dc\r\n"),
            std::string::npos)
      << text;
}

TEST(SdpOffer, DataChannelGoesAfterSpeech) {
  Result<std::vector<MediaSection>> audio =
      parse_media("m=audio 49000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000/1\r\na=sendrecv\r\n");
  ASSERT_TRUE(audio.is_ok());
  OfferConfig cfg;
  cfg.local = ue();
  cfg.other_media = audio.value();
  std::string text = generate(make_offer(cfg).value()).value();
  std::size_t a = text.find("m=audio"), d = text.find("m=application");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(d, std::string::npos);
  EXPECT_LT(a, d);
  EXPECT_NE(text.find("m=audio 49000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000/1\r\na=sendrecv\r\n"),
            std::string::npos);
}

TEST(SdpOffer, InvalidConfigurations) {
  OfferConfig cfg;
  cfg.local = ue();
  cfg.local.fingerprints = {Fingerprint{HashFunc::kSha1, Bytes(20, 1)}};
  EXPECT_EQ(make_offer(cfg).status(), Code::kInvalidArgument); // sha-256 required
  cfg.local = ue();
  cfg.local.tls_id = "short";
  EXPECT_EQ(make_offer(cfg).status(), Code::kInvalidArgument);
  cfg.local = ue();
  cfg.local.ice.enabled = true;
  EXPECT_EQ(make_offer(cfg).status(), Code::kInvalidArgument);
  cfg.local = ue();
  cfg.app_channels = {app_channel(5, "x", "y")};
  EXPECT_EQ(make_offer(cfg).status(), Code::kInvalidArgument);
  cfg.app_channels = {app_channel(1000, "x", "y"), app_channel(1000, "z", "y")};
  EXPECT_EQ(make_offer(cfg).status(), Code::kInvalidArgument);
  // No even/odd parity rule: 1000 and 1001 are both fine.
  cfg.app_channels = {app_channel(1000, "x", "y"), app_channel(1001, "z", "y")};
  EXPECT_TRUE(make_offer(cfg).is_ok());
  cfg.app_channels.clear();
  for (int i = 0; i < IMSDC_DC_MAX_CHANNELS - 1; ++i) {
    cfg.app_channels.push_back(app_channel(static_cast<std::uint16_t>(1000 + i), "x", "y"));
  }
  EXPECT_EQ(make_offer(cfg).status(), Code::kTooLarge); // 2 bootstrap + 15 > 16
}

struct SetupCase {
  const char* offered; // the a=setup line, or "" for none
  Setup for_actpass;
  Setup answer;
  DtlsRole role;
};

TEST(SdpAnswer, SetupRules) {
  const SetupCase cases[] = {
      {"a=setup:actpass\r\n", Setup::kActive, Setup::kActive, DtlsRole::kClient},
      {"a=setup:actpass\r\n", Setup::kPassive, Setup::kPassive, DtlsRole::kServer},
      {"a=setup:active\r\n", Setup::kActive, Setup::kPassive, DtlsRole::kServer},
      {"a=setup:active\r\n", Setup::kPassive, Setup::kPassive, DtlsRole::kServer},
      {"a=setup:passive\r\n", Setup::kActive, Setup::kActive, DtlsRole::kClient},
      {"a=setup:passive\r\n", Setup::kPassive, Setup::kActive, DtlsRole::kClient},
      {"", Setup::kActive, Setup::kPassive, DtlsRole::kServer}, // absent means active
      {"a=setup:holdconn\r\n", Setup::kActive, Setup::kHoldconn, DtlsRole::kNone},
  };
  for (const SetupCase& c : cases) {
    SCOPED_TRACE(c.offered);
    std::string offer =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.1\r\n" +
        std::string(c.offered) + "a=fingerprint:sha-256 " + format_fingerprint(Bytes(32, 7)) +
        "\r\n";
    AnswerConfig cfg;
    cfg.local = peer();
    cfg.setup_for_actpass = c.for_actpass;
    Result<Answer> a = make_answer(must_parse(offer), cfg, ChannelPolicy());
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    EXPECT_EQ(a->result.local_setup, c.answer);
    EXPECT_EQ(a->result.role, c.role);
    EXPECT_EQ(answer_text(a.value()).find("actpass"), std::string::npos);
  }
  AnswerConfig bad;
  bad.local = peer();
  bad.setup_for_actpass = Setup::kActpass;
  EXPECT_EQ(make_answer(must_parse(load("chromium_offer.sdp")), bad, ChannelPolicy()).status(),
            Code::kInvalidArgument);
}

// The offer and answer Chromium 156 really sent each other (tests/interop/chromium/capture.sh):
// imsdc answers the captured offer as the DTLS client, and takes the captured answer to an
// imsdc offer of the same shape.
TEST(SdpAnswer, CapturedChromiumOfferAndAnswer) {
  AnswerConfig cfg;
  cfg.local = peer();
  cfg.local.ice.enabled = true;
  cfg.local.ice.params = IceParams{"PeUf", "PeerPassword0123456789", {}};
  const SessionDescription offer = must_parse(load("chromium156_offer.sdp"));
  Result<Answer> a = make_answer(offer, cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_TRUE(a->result.accepted);
  EXPECT_EQ(a->result.role, DtlsRole::kClient);
  EXPECT_EQ(a->result.remote_max_message_size, 262144u);
  ASSERT_EQ(a->result.remote_candidates.size(), 1u);
  EXPECT_EQ(a->result.remote_candidates[0].address, "10.77.0.2");
  ASSERT_EQ(a->result.remote_fingerprints.size(), 1u);
  EXPECT_EQ(a->result.remote_fingerprints[0].hash, HashFunc::kSha256);

  const SessionDescription answer = must_parse(load("chromium156_answer.sdp"));
  const MediaSection* dc = answer.data_channel();
  ASSERT_NE(dc, nullptr);
  EXPECT_EQ(dc->setup, Setup::kActive); // Chromium answers as the DTLS client
  EXPECT_EQ(dc->fingerprints.size(), 1u);
  EXPECT_EQ(dc->max_message_size, 262144u);
}

TEST(SdpAnswer, ChromiumOffer) {
  AnswerConfig cfg;
  cfg.local = peer();
  cfg.local.ice.enabled = true;
  cfg.local.ice.params = IceParams{"PeUf", "PeerPassword0123456789", {}};
  Result<Answer> a = make_answer(must_parse(load("chromium_offer.sdp")), cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok());
  const Negotiated& n = a->result;
  EXPECT_TRUE(n.accepted); // no dcmap: in-band (DCEP) channels only, still accepted
  EXPECT_EQ(n.role, DtlsRole::kClient);
  EXPECT_EQ(n.remote_max_message_size, 262144u);
  EXPECT_EQ(n.remote_sctp_port, 5000);
  EXPECT_EQ(n.remote_ice.ufrag, "Q3vT");
  EXPECT_EQ(n.remote_candidates.size(), 3u);
  EXPECT_EQ(n.remote_fingerprints.size(), 1u);
  EXPECT_EQ(n.mid, "0");
  std::string text = answer_text(a.value());
  EXPECT_NE(text.find("a=group:BUNDLE 0\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=setup:active\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ice-ufrag:PeUf\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=mid:0\r\n"), std::string::npos);
}

TEST(SdpAnswer, Ts26114OfferSha1IceLiteAndSpeechLine) {
  SessionDescription offer = must_parse(load("ts26114_a17_offer.sdp"));
  AnswerConfig cfg;
  cfg.local = peer();
  Result<std::vector<MediaSection>> audio =
      parse_media("m=audio 49170 RTP/AVP 96\r\na=rtpmap:96 EVS/16000\r\n");
  cfg.other_media = audio.value();
  Result<Answer> a = make_answer(offer, cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok());
  const Negotiated& n = a->result;
  EXPECT_TRUE(n.accepted);
  EXPECT_TRUE(n.remote_ice_lite);
  EXPECT_EQ(n.remote_tls_id, "abc3de65cddef001be82");
  ASSERT_EQ(n.remote_fingerprints.size(), 1u);
  EXPECT_EQ(n.remote_fingerprints[0].hash, HashFunc::kSha1);
  EXPECT_EQ(n.channels.size(), 2u);
  EXPECT_EQ(n.added, (std::vector<std::uint16_t>{0, 10}));
  ASSERT_EQ(a->sdp.media.size(), 2u);
  EXPECT_EQ(a->sdp.media[0].media, "audio");
  EXPECT_EQ(a->sdp.media[0].port, 49170);
  EXPECT_TRUE(a->sdp.media[1].is_data_channel);
}

TEST(SdpAnswer, StrongestFingerprintFirstAndMatch) {
  SessionDescription offer = must_parse(load("ims_offer_no_ice.sdp"));
  AnswerConfig cfg;
  cfg.local = peer();
  Result<Answer> a = make_answer(offer, cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok());
  const auto& fps = a->result.remote_fingerprints;
  ASSERT_EQ(fps.size(), 2u);
  EXPECT_EQ(fps[0].hash, HashFunc::kSha256);
  EXPECT_TRUE(fingerprint_matches(fps, HashFunc::kSha256, fps[0].digest));
  Bytes wrong = fps[0].digest;
  wrong[5] ^= 1;
  EXPECT_FALSE(fingerprint_matches(fps, HashFunc::kSha256, wrong));
  EXPECT_FALSE(fingerprint_matches(fps, HashFunc::kSha384, fps[0].digest));
  // No ICE in the offer: none in the answer either; the unanswered speech line gets port 0.
  std::string text = answer_text(a.value());
  EXPECT_EQ(text.find("ice-"), std::string::npos);
  EXPECT_NE(text.find("m=audio 0 RTP/AVP 116 107 97 111\r\n"), std::string::npos);
}

TEST(SdpPolicy, DefaultRejectsUnlistedApplicationChannels) {
  SessionDescription offer = must_parse(load("ims_offer_no_ice.sdp"));
  AnswerConfig cfg;
  cfg.local = peer();
  Result<Answer> a = make_answer(offer, cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->result.rejected, (std::vector<std::uint16_t>{1000, 1002}));
  EXPECT_EQ(a->result.channels.size(), 4u);
  std::string text = answer_text(a.value());
  EXPECT_EQ(text.find("dcmap:1000"), std::string::npos);
  EXPECT_EQ(text.find("dcsa:1000"), std::string::npos);
  EXPECT_NE(text.find("a=dcmap:100 subprotocol=\"http\"\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=dcsa:100 3gpp-bdc-used-by:sender\r\n"), std::string::npos);

  ChannelPolicy allow;
  allow.allowed_apps = {"avatar-app"};
  Result<Answer> b = make_answer(offer, cfg, allow);
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(b->result.rejected.empty());
  EXPECT_EQ(b->result.channels.size(), 6u);
  ChannelPolicy by_sub;
  by_sub.allowed_subprotocols = {"imsdc-anim"};
  EXPECT_EQ(make_answer(offer, cfg, by_sub)->result.rejected, std::vector<std::uint16_t>{1000});
}

namespace {
struct Seen {
  std::vector<ChannelRequest> requests;
  std::vector<std::string> labels, subprotocols, apps; // the views live only during the call
  Verdict verdict = Verdict::kReject;
};
Verdict record(void* ctx, const ChannelRequest& r, Verdict) {
  auto* s = static_cast<Seen*>(ctx);
  s->requests.push_back(r);
  s->labels.emplace_back(r.label);
  s->subprotocols.emplace_back(r.subprotocol);
  s->apps.emplace_back(r.req_app);
  return s->verdict;
}
} // namespace

TEST(SdpPolicy, CallbackSeesEveryAddedChannelAndAllRejectedMeansPortZero) {
  SessionDescription offer = must_parse(load("ims_offer_no_ice.sdp"));
  AnswerConfig cfg;
  cfg.local = peer();
  Seen seen;
  ChannelPolicy policy;
  policy.callback = record;
  policy.ctx = &seen;
  Result<Answer> a = make_answer(offer, cfg, policy);
  ASSERT_TRUE(a.is_ok());
  ASSERT_EQ(seen.requests.size(), 6u);
  EXPECT_TRUE(seen.requests[0].bootstrap);
  EXPECT_TRUE(seen.requests[2].bootstrap); // 100
  EXPECT_FALSE(seen.requests[4].bootstrap);
  EXPECT_EQ(seen.requests[4].stream_id, 1000);
  EXPECT_EQ(seen.labels[4], "avatar-control");
  EXPECT_EQ(seen.subprotocols[4], "imsdc-avatar");
  EXPECT_EQ(seen.apps[4], "avatar-app");
  EXPECT_FALSE(a->result.accepted);
  EXPECT_NE(a->result.reject_reason, nullptr);
  std::string text = answer_text(a.value());
  EXPECT_NE(text.find("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"), std::string::npos);
  EXPECT_EQ(text.find("dcmap"), std::string::npos);
  EXPECT_EQ(text.find("fingerprint"), std::string::npos);
}

TEST(SdpAnswer, OfferWithoutFingerprintIsRefusedWithPortZero) {
  SessionDescription offer = must_parse(load("chromium_offer.sdp"));
  offer.media[0].fingerprints.clear();
  AnswerConfig cfg;
  cfg.local = peer();
  Result<Answer> a = make_answer(offer, cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok());
  EXPECT_FALSE(a->result.accepted);
  EXPECT_EQ(a->sdp.media[0].port, 0);
  EXPECT_TRUE(a->sdp.bundle.empty());
}

TEST(SdpAnswer, LegacyOfferAnsweredInKind) {
  AnswerConfig cfg;
  cfg.local = peer();
  Result<Answer> a = make_answer(must_parse(load("legacy_offer.sdp")), cfg, ChannelPolicy());
  ASSERT_TRUE(a.is_ok());
  std::string text = answer_text(a.value());
  EXPECT_NE(text.find("m=application 50000 DTLS/SCTP 5000\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=sctpmap:5000 webrtc-datachannel"), std::string::npos);
}

// Two endpoints in one process: UE offers, the peer answers through text, both agree.
TEST(SdpTwoPeers, OfferAnswerReofferKeepsAssociation) {
  OfferConfig oc;
  oc.local = ue();
  oc.local.mid = "dc";
  Result<SessionDescription> offer = make_offer(oc);
  ASSERT_TRUE(offer.is_ok());

  AnswerConfig ac;
  ac.local = peer();
  Seen seen;
  seen.verdict = Verdict::kAccept;
  ChannelPolicy policy;
  policy.callback = record;
  policy.ctx = &seen;
  Result<Answer> answer = make_answer(wire(offer.value()), ac, policy);
  ASSERT_TRUE(answer.is_ok());
  Result<Negotiated> ue_side = apply_answer(offer.value(), wire(answer->sdp));
  ASSERT_TRUE(ue_side.is_ok()) << ue_side.status().message();
  EXPECT_EQ(answer->result.role, DtlsRole::kClient);
  EXPECT_EQ(ue_side->role, DtlsRole::kServer);
  EXPECT_TRUE(ue_side->new_association);
  EXPECT_EQ(ue_side->remote_tls_id, "PeerTlsId0123456789abcd-_");
  EXPECT_EQ(ue_side->remote_fingerprints[0], sha256(0xCD));
  EXPECT_EQ(answer->result.remote_fingerprints[0], sha256(0xAB));
  EXPECT_EQ(ue_side->added, (std::vector<std::uint16_t>{0, 10}));
  EXPECT_EQ(seen.requests.size(), 2u);

  // Re-offer adding the avatar channel: same tls-id and fingerprint, actpass, new version.
  Result<SessionDescription> reoffer =
      make_reoffer(offer.value(), {app_channel(1000, "avatar-control", "imsdc-avatar")});
  ASSERT_TRUE(reoffer.is_ok());
  const MediaSection* dc = reoffer->data_channel();
  EXPECT_EQ(dc->tls_id, oc.local.tls_id);
  EXPECT_EQ(dc->fingerprints, oc.local.fingerprints);
  EXPECT_EQ(dc->setup, Setup::kActpass);
  EXPECT_EQ(reoffer->origin.session_version, "2");
  seen.requests.clear();
  Result<Answer> reanswer = make_answer(wire(reoffer.value()), ac, policy, &answer->result);
  ASSERT_TRUE(reanswer.is_ok());
  ASSERT_EQ(seen.requests.size(), 1u); // only the added channel is put to the policy
  EXPECT_EQ(seen.requests[0].stream_id, 1000);
  EXPECT_FALSE(reanswer->result.new_association);
  EXPECT_EQ(reanswer->result.local_setup, Setup::kActive); // roles kept
  EXPECT_EQ(reanswer->result.added, std::vector<std::uint16_t>{1000});
  EXPECT_TRUE(reanswer->result.removed.empty());
  Result<Negotiated> ue_again =
      apply_answer(reoffer.value(), wire(reanswer->sdp), &ue_side.value());
  ASSERT_TRUE(ue_again.is_ok());
  EXPECT_FALSE(ue_again->new_association);
  EXPECT_EQ(ue_again->added, std::vector<std::uint16_t>{1000});
  EXPECT_EQ(ue_again->channels.size(), 3u);

  // Removing it again.
  ReofferOptions rm;
  rm.remove = {1000};
  Result<SessionDescription> third = make_reoffer(reoffer.value(), {}, rm);
  ASSERT_TRUE(third.is_ok());
  Result<Answer> third_answer = make_answer(wire(third.value()), ac, policy, &reanswer->result);
  ASSERT_TRUE(third_answer.is_ok());
  EXPECT_EQ(third_answer->result.removed, std::vector<std::uint16_t>{1000});
  EXPECT_TRUE(third_answer->result.added.empty());

  // A new tls-id starts a new association: the peer must answer with a new tls-id too.
  ReofferOptions fresh;
  fresh.new_tls_id = "FreshTlsId0123456789abcd";
  Result<SessionDescription> fourth = make_reoffer(third.value(), {}, fresh);
  ASSERT_TRUE(fourth.is_ok());
  EXPECT_EQ(make_answer(wire(fourth.value()), ac, policy, &third_answer->result).status(),
            Code::kInvalidArgument);
  AnswerConfig ac2 = ac;
  ac2.local.tls_id = "PeerTlsIdNew0123456789abc";
  Result<Answer> fourth_answer =
      make_answer(wire(fourth.value()), ac2, policy, &third_answer->result);
  ASSERT_TRUE(fourth_answer.is_ok());
  EXPECT_TRUE(fourth_answer->result.new_association);
  EXPECT_EQ(fourth_answer->result.added, (std::vector<std::uint16_t>{0, 10}));
  EXPECT_EQ(fourth_answer->result.removed, (std::vector<std::uint16_t>{0, 10}));
}

TEST(SdpReoffer, InvalidRequests) {
  OfferConfig oc;
  oc.local = ue();
  SessionDescription offer = make_offer(oc).value();
  EXPECT_EQ(make_reoffer(offer, {app_channel(10, "x", "y")}).status(), Code::kInvalidArgument);
  EXPECT_EQ(
      make_reoffer(offer, {app_channel(1000, "x", "y"), app_channel(1000, "x", "y")}).status(),
      Code::kInvalidArgument);
  ReofferOptions same;
  same.new_tls_id = oc.local.tls_id;
  EXPECT_EQ(make_reoffer(offer, {}, same).status(), Code::kInvalidArgument);
  offer.media.back().port = 0;
  EXPECT_EQ(make_reoffer(offer, {}).status(), Code::kState);
  offer.origin.session_version = "x";
  offer.media.back().port = 9;
  EXPECT_EQ(make_reoffer(offer, {}).status(), Code::kInvalidArgument);
}

TEST(SdpApplyAnswer, SetupAndChannelChecks) {
  OfferConfig oc;
  oc.local = ue();
  oc.app_channels = {app_channel(1000, "a", "b")};
  SessionDescription offer = make_offer(oc).value();
  SessionDescription ts = must_parse(load("ts26114_a17_answer.sdp"));
  // Our offer has one m-line; take the data-channel part of the TS 26.114-style answer.
  SessionDescription answer = ts;
  answer.media.erase(answer.media.begin());
  Result<Negotiated> n = apply_answer(offer, answer);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n->role, DtlsRole::kClient); // answer passive: we are the DTLS client
  EXPECT_TRUE(n->remote_ice_lite);
  EXPECT_EQ(n->rejected, std::vector<std::uint16_t>{1000}); // not in the answer's dcmap
  answer.media[0].channels.push_back(app_channel(2000, "pushed", "evil"));
  n = apply_answer(offer, answer);
  ASSERT_TRUE(n.is_ok());
  for (const DcMap& c : n->channels)
    EXPECT_NE(c.stream_id, 2000); // answers cannot add
  answer.media[0].setup = Setup::kActive;
  EXPECT_EQ(apply_answer(offer, answer)->role, DtlsRole::kServer);
  answer.media[0].setup = Setup::kActpass;
  EXPECT_EQ(apply_answer(offer, answer).status(), Code::kMalformed);
  answer.media[0].setup = Setup::kPassive;
  answer.media[0].port = 0;
  EXPECT_FALSE(apply_answer(offer, answer)->accepted);
  EXPECT_EQ(apply_answer(offer, ts).status(), Code::kMalformed); // m-line count differs
}
