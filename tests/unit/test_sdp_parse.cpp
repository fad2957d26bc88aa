// sdp/: parser, generator and round trips over real-shaped SDPs (tests/unit/data/sdp/README.md
// says where each file comes from), bounds and malformed input tables.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sdp/sdp.h"
#include "vectors/sdp_vectors.h"

using namespace imsdc::test_vectors; // tables shared with tests/target

using namespace imsdc;
using namespace imsdc::sdp;

namespace {

std::string load(const char* name) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

SessionDescription must_parse(const std::string& text) {
  Result<SessionDescription> r = parse(text);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? r.value() : SessionDescription();
}

// A minimal valid data-channel SDP; tests append lines to it.
const std::string kHead = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
                          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";

} // namespace

TEST(SdpParse, ChromiumOffer) {
  SessionDescription s = must_parse(load("chromium_offer.sdp"));
  ASSERT_EQ(s.media.size(), 1u);
  const MediaSection* dc = s.data_channel();
  ASSERT_NE(dc, nullptr);
  EXPECT_EQ(dc->port, 46243);
  EXPECT_EQ(dc->connection.address, "10.77.0.2");
  EXPECT_EQ(dc->setup, Setup::kActpass);
  ASSERT_EQ(dc->fingerprints.size(), 1u);
  EXPECT_EQ(dc->fingerprints[0].hash, HashFunc::kSha256);
  EXPECT_EQ(dc->fingerprints[0].digest.size(), 32u);
  EXPECT_EQ(dc->ice.ufrag, "Q3vT");
  EXPECT_EQ(dc->ice.pwd, "8nK1b0mZ4vJrDq2Wc+Xy/3aL");
  EXPECT_EQ(dc->ice.options, std::vector<std::string>{"trickle"});
  ASSERT_EQ(dc->candidates.size(), 3u);
  EXPECT_EQ(dc->candidates[0].foundation, "2813412934");
  EXPECT_EQ(dc->candidates[0].priority, 2122260223u);
  EXPECT_EQ(dc->candidates[0].type, "host");
  EXPECT_EQ(dc->candidates[0].extensions, "generation 0 network-id 1");
  EXPECT_EQ(dc->candidates[1].address, "fd00:77::2");
  EXPECT_EQ(dc->candidates[2].transport, "tcp");
  EXPECT_EQ(dc->candidates[2].extensions, "tcptype active generation 0 network-id 1");
  EXPECT_EQ(dc->max_message_size, 262144u);
  EXPECT_EQ(dc->sctp_port, 5000);
  EXPECT_EQ(dc->mid, "0");
  EXPECT_EQ(s.bundle, std::vector<std::string>{"0"});
  EXPECT_TRUE(dc->channels.empty());
  EXPECT_TRUE(dc->tls_id.empty());
}

TEST(SdpParse, Ts26114ExampleWithSha1AndSpacedTlsId) {
  SessionDescription s = must_parse(load("ts26114_a17_offer.sdp"));
  EXPECT_TRUE(s.ice_lite);
  EXPECT_EQ(s.ice.options, std::vector<std::string>{"ice2"});
  ASSERT_EQ(s.media.size(), 2u);
  EXPECT_FALSE(s.media[0].is_data_channel);
  EXPECT_EQ(s.media[0].media, "audio");
  const MediaSection* dc = s.data_channel();
  ASSERT_NE(dc, nullptr);
  ASSERT_EQ(dc->fingerprints.size(), 1u);
  EXPECT_EQ(dc->fingerprints[0].hash, HashFunc::kSha1);
  EXPECT_EQ(dc->tls_id, "abc3de65cddef001be82");
  EXPECT_EQ(dc->max_message_size, 1024u);
  ASSERT_EQ(dc->channels.size(), 2u);
  EXPECT_EQ(dc->channels[0].stream_id, 0);
  EXPECT_EQ(dc->channels[0].subprotocol, "http");
  EXPECT_EQ(dc->channels[1].stream_id, 10);
  EXPECT_EQ(dc->extra, std::vector<std::string>{"b=AS:500"});
}

TEST(SdpParse, ImsOfferWithoutIce) {
  SessionDescription s = must_parse(load("ims_offer_no_ice.sdp"));
  EXPECT_EQ(s.connection.type, AddrType::kIp6);
  EXPECT_EQ(s.origin.address, "2001:db8:77::10");
  const MediaSection* dc = s.data_channel();
  ASSERT_NE(dc, nullptr);
  EXPECT_TRUE(dc->connection.address.empty());
  EXPECT_TRUE(dc->ice.ufrag.empty());
  EXPECT_EQ(dc->fingerprints.size(), 2u);
  ASSERT_EQ(dc->channels.size(), 6u);
  EXPECT_EQ(dc->channels[2].bdc_used_by, BdcUsedBy::kSender);
  const DcMap& avatar = dc->channels[4];
  EXPECT_EQ(avatar.stream_id, 1000);
  EXPECT_EQ(avatar.label, "avatar-control");
  EXPECT_EQ(avatar.subprotocol, "imsdc-avatar");
  EXPECT_TRUE(avatar.is_ordered());
  EXPECT_EQ(avatar.req_app, "avatar-app");
  EXPECT_EQ(avatar.dcsa, std::vector<std::string>{"accept-types:application/json"});
  const DcMap& anim = dc->channels[5];
  EXPECT_FALSE(anim.is_ordered());
  ASSERT_TRUE(anim.max_retr.has_value());
  EXPECT_EQ(*anim.max_retr, 0u);
  EXPECT_EQ(dc->extra,
            (std::vector<std::string>{"b=AS:500", "a=3gpp-qos-hint:loss=0.01;latency=100"}));
}

TEST(SdpParse, LegacyFormAndDefaults) {
  SessionDescription s = must_parse(load("legacy_offer.sdp"));
  const MediaSection* dc = s.data_channel();
  ASSERT_NE(dc, nullptr);
  EXPECT_TRUE(dc->is_legacy());
  EXPECT_EQ(dc->sctp_port, 5000);
  EXPECT_EQ(dc->max_message_size, 65536u); // absent: 65536
  EXPECT_TRUE(dc->extra.empty());          // sctpmap is implied by the m-line
}

TEST(SdpParse, MissingSctpPortAndZeroMaxMessageSize) {
  SessionDescription s = must_parse(kHead + "a=max-message-size:0\r\n");
  EXPECT_EQ(s.data_channel()->sctp_port, 5000);
  EXPECT_EQ(s.data_channel()->max_message_size, 0u); // 0 = no limit
}

TEST(SdpParse, BareThreeGppAttributesBindToPrecedingDcmap) {
  SessionDescription s =
      must_parse(kHead + "a=dcmap:100 subprotocol=\"http\"\r\na=3gpp-bdc-used-by:receiver\r\n"
                         "a=dcmap:1000 label=\"x\"\r\na=3gpp-req-app:app1\r\n");
  const auto& ch = s.data_channel()->channels;
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_EQ(ch[0].bdc_used_by, BdcUsedBy::kReceiver);
  EXPECT_EQ(ch[1].req_app, "app1");
}

TEST(SdpParse, UnknownFingerprintHashIgnored) {
  SessionDescription s = must_parse(kHead + "a=fingerprint:md5 AA:BB\r\n");
  EXPECT_TRUE(s.data_channel()->fingerprints.empty());
}

TEST(SdpRoundTrip, CorpusParsesGeneratesAndParsesEqual) {
  for (const char* name : kCorpus) {
    SCOPED_TRACE(name);
    SessionDescription a = must_parse(load(name));
    Result<std::string> text = generate(a);
    ASSERT_TRUE(text.is_ok()) << text.status().message();
    SessionDescription b = must_parse(text.value());
    EXPECT_TRUE(a == b) << text.value();
    Result<std::string> again = generate(b);
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(text.value(), again.value());
  }
}

TEST(SdpRoundTrip, VerbatimAudioIsUntouched) {
  std::string text = load("ims_offer_no_ice.sdp");
  Result<std::string> out = generate(must_parse(text));
  ASSERT_TRUE(out.is_ok());
  std::size_t a = text.find("m=audio"), b = text.find("m=application");
  EXPECT_NE(out.value().find(text.substr(a, b - a)), std::string::npos);
}

TEST(SdpBounds, TooLarge) {
  std::string big = kHead + "a=x-pad:" + std::string(100, 'p') + "\r\n";
  while (big.size() <= IMSDC_MAX_SDP_SIZE)
    big += "a=x-pad:" + std::string(100, 'p') + "\r\n";
  EXPECT_EQ(parse(big).status(), Code::kTooLarge);
  EXPECT_EQ(parse(kHead + "a=x:" + std::string(kMaxLineLength, 'l') + "\r\n").status(),
            Code::kTooLarge);
}

TEST(SdpBounds, DcmapCountLimit) {
  std::string ok = kHead, over;
  for (int i = 0; i < IMSDC_DC_MAX_CHANNELS; ++i)
    ok += "a=dcmap:" + std::to_string(1000 + i) + "\r\n";
  EXPECT_TRUE(parse(ok).is_ok());
  over = ok + "a=dcmap:2000\r\n";
  EXPECT_EQ(parse(over).status(), Code::kTooLarge);
}

TEST(SdpBounds, CandidateAndMediaCountLimits) {
  std::string c = kHead;
  for (std::size_t i = 0; i <= kMaxCandidates; ++i) {
    c += "a=candidate:" + std::to_string(i) + " 1 udp 1 192.0.2.1 " + std::to_string(1000 + i) +
         " typ host\r\n";
  }
  EXPECT_EQ(parse(c).status(), Code::kTooLarge);
  std::string m = kHead;
  for (std::size_t i = 0; i < kMaxMediaSections; ++i)
    m += "m=audio 0 RTP/AVP 0\r\n";
  EXPECT_EQ(parse(m).status(), Code::kTooLarge);
}

struct BadCase {
  const char* name;
  std::string text;
};

TEST(SdpParse, MalformedLines) {
  const BadCase cases[] = {
      {"empty", ""},
      {"no v=0", "o=- 1 1 IN IP4 1.2.3.4\r\n"},
      {"v=1", "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n"},
      {"no o=", "v=0\r\ns=-\r\n"},
      {"not letter=", kHead + "junk\r\n"},
      {"upper-case type", kHead + "A=setup:active\r\n"},
      {"repeated v=", kHead + "v=0\r\n"},
      {"bad c=", kHead + "c=IN IPX 1.2.3.4\r\n"},
      {"c= without address", kHead + "c=IN IP4\r\n"},
      {"bad o=", "v=0\r\no=- 1\r\n"},
      {"bad m= port", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n"},
      {"m= port/count", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 9/2 RTP/AVP 0\r\n"},
      {"bad setup", kHead + "a=setup:both\r\n"},
      {"short digest", kHead + "a=fingerprint:sha-256 AB:CD\r\n"},
      {"digest not hex",
       kHead +
           "a=fingerprint:sha-1 ZZ:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"},
      {"bad tls-id", kHead + "a=tls-id:abc$def\r\n"},
      {"sctp-port 0", kHead + "a=sctp-port:0\r\n"},
      {"bad max-message-size", kHead + "a=max-message-size:-1\r\n"},
      {"stream id 65535", kHead + "a=dcmap:65535\r\n"},
      {"duplicate dcmap", kHead + "a=dcmap:1\r\na=dcmap:1\r\n"},
      {"max-retr and max-time", kHead + "a=dcmap:1 max-retr=1;max-time=5\r\n"},
      {"unterminated quote", kHead + "a=dcmap:1 label=\"abc\r\n"},
      {"unquoted label", kHead + "a=dcmap:1 label=abc\r\n"},
      {"bad ordered", kHead + "a=dcmap:1 ordered=yes\r\n"},
      {"bad escape", kHead + "a=dcmap:1 label=\"%G1\"\r\n"},
      {"bad dcsa", kHead + "a=dcsa:x y\r\n"},
      {"bad candidate", kHead + "a=candidate:1 1 udp 1 192.0.2.1 9 host\r\n"},
      {"candidate component 0", kHead + "a=candidate:1 0 udp 1 192.0.2.1 9 typ host\r\n"},
      {"bad ice-ufrag", kHead + "a=ice-ufrag:a b\r\n"},
      {"bare CR", kHead + "a=setup:active\rb=AS:1\r\n"},
      {"NUL", kHead + std::string("a=x\0y\r\n", 7)},
  };
  for (const BadCase& c : cases) {
    Result<SessionDescription> r = parse(c.text);
    EXPECT_EQ(r.status(), Code::kMalformed) << c.name;
    if (!r.is_ok()) {
      EXPECT_NE(r.status().detail(), nullptr) << c.name;
      EXPECT_EQ(r.status().module(), Module::kSdp) << c.name;
    }
  }
}

TEST(SdpDcmap, Rfc8864Syntax) {
  Result<DcMap> a = parse_dcmap("2 label=\"channel 2\";subprotocol=\"chat\";max-retr=3");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->stream_id, 2);
  EXPECT_EQ(a->label, "channel 2");
  EXPECT_EQ(a->subprotocol, "chat");
  EXPECT_EQ(*a->max_retr, 3u);
  Result<DcMap> b = parse_dcmap("0");
  ASSERT_TRUE(b.is_ok());
  EXPECT_TRUE(b->label.empty());
  EXPECT_TRUE(b->is_ordered());
  Result<DcMap> c = parse_dcmap("7 label=\"a%22b%25;c\";x-ext=\"q;r\";priority=256;max-time=150");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->label, "a\"b%;c");
  EXPECT_EQ(*c->priority, 256);
  EXPECT_EQ(*c->max_time, 150u);
  EXPECT_EQ(parse_dcmap("1 label=\"x\";").status(), Code::kMalformed);
}

TEST(SdpGenerate, QuotedStringsArePercentEncodedAndRoundTrip) {
  SessionDescription s = must_parse(kHead);
  DcMap ch;
  ch.stream_id = 1000;
  ch.label = "evil\r\na=setup:active\"%";
  ch.subprotocol = "caf\xc3\xa9";
  s.data_channel()->channels.push_back(ch);
  Result<std::string> out = generate(s);
  ASSERT_TRUE(out.is_ok());
  EXPECT_NE(out->find("label=\"evil%0D%0Aa=setup:active%22%25\";subprotocol=\"caf%C3%A9\""),
            std::string::npos);
  SessionDescription back = must_parse(out.value());
  EXPECT_TRUE(back == s);
}

TEST(SdpGenerate, RefusesLineInjectionAndBrokenTokens) {
  SessionDescription s = must_parse(kHead);
  s.data_channel()->ice.ufrag = "abcd\r\na=setup:active";
  EXPECT_EQ(generate(s).status(), Code::kInvalidArgument);
  s = must_parse(kHead);
  s.data_channel()->mid = "a b";
  EXPECT_EQ(generate(s).status(), Code::kInvalidArgument);
  s = must_parse(kHead);
  s.data_channel()->fingerprints.push_back(Fingerprint{HashFunc::kSha256, Bytes(20, 1)});
  EXPECT_EQ(generate(s).status(), Code::kInvalidArgument);
  s = must_parse(kHead);
  s.extra.push_back("not a line");
  EXPECT_EQ(generate(s).status(), Code::kInvalidArgument);
}

TEST(SdpGenerate, TooLargeOutput) {
  SessionDescription s = must_parse(kHead);
  for (int i = 0; i < 40; ++i)
    s.extra.push_back("a=x-pad:" + std::string(500, 'p'));
  EXPECT_EQ(generate(s).status(), Code::kTooLarge);
}

TEST(SdpGenerate, LineTheParserWouldRefuseIsTooLarge) {
  SessionDescription s = must_parse(kHead);
  DcMap ch;
  ch.stream_id = 1000;
  ch.label = std::string(400, '\xff'); // 1200 bytes once percent-encoded
  s.data_channel()->channels.push_back(ch);
  EXPECT_EQ(generate(s).status(), Code::kTooLarge);
}

TEST(SdpGenerate, FingerprintIsUpperCaseHex) {
  Bytes d = {0x0a, 0xbc, 0xde, 0xf0};
  EXPECT_EQ(format_fingerprint(d), "0A:BC:DE:F0");
}

namespace {
Status counting_random(void* ctx, std::uint8_t* out, std::size_t len) {
  auto* n = static_cast<int*>(ctx);
  for (std::size_t i = 0; i < len; ++i)
    out[i] = static_cast<std::uint8_t>(*n + i * 37);
  ++*n;
  return Status::ok();
}
Status failing_random(void*, std::uint8_t*, std::size_t) {
  return Status(Code::kEntropy, Module::kPort, "test: no entropy");
}
} // namespace

TEST(SdpTlsId, GeneratedIdsAreLongRandomAndInAlphabet) {
  int seed = 0;
  Result<std::string> a = make_tls_id(counting_random, &seed);
  Result<std::string> b = make_tls_id(counting_random, &seed);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->size(), 24u); // 144 bits
  EXPECT_NE(a.value(), b.value());
  for (char c : a.value()) {
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '-' ||
                c == '_')
        << c;
  }
  // A generated id survives the parser.
  SessionDescription s = must_parse(kHead + "a=tls-id:" + a.value() + "\r\n");
  EXPECT_EQ(s.data_channel()->tls_id, a.value());
  EXPECT_EQ(make_tls_id(failing_random, nullptr).status(), Code::kEntropy);
  EXPECT_EQ(make_tls_id(nullptr, nullptr).status(), Code::kInvalidArgument);
}
