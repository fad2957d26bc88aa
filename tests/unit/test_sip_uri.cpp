// URIs, name-addr, Via and telephone numbers.
#include <gtest/gtest.h>

#include "sip/uri.h"

namespace imsdc::sip {
namespace {

struct UriCase {
  const char* text;
  UriScheme scheme;
  const char* user;
  const char* host;
  HostKind kind;
  std::uint16_t port;
  const char* params;
  const char* headers;
};

const UriCase kUris[] = {
    {"sip:alice@ims.example", UriScheme::kSip, "alice", "ims.example", HostKind::kName, 0, "", ""},
    {"sip:alice@5n0k3fm1s7jq.invalid;transport=ws", UriScheme::kSip, "alice",
     "5n0k3fm1s7jq.invalid", HostKind::kName, 0, ";transport=ws", ""},
    {"SIPS:bob@[2001:db8::1]:5061;transport=tls", UriScheme::kSips, "bob", "[2001:db8::1]",
     HostKind::kIpv6, 5061, ";transport=tls", ""},
    {"sip:[::1]", UriScheme::kSip, "", "[::1]", HostKind::kIpv6, 0, "", ""},
    {"sip:[::ffff:192.0.2.1]:5060", UriScheme::kSip, "", "[::ffff:192.0.2.1]", HostKind::kIpv6,
     5060, "", ""},
    {"sip:127.0.0.1:8443;transport=ws;lr", UriScheme::kSip, "", "127.0.0.1", HostKind::kIpv4, 8443,
     ";transport=ws;lr", ""},
    {"sip:+12025550100@ims.example;user=phone", UriScheme::kSip, "+12025550100", "ims.example",
     HostKind::kName, 0, ";user=phone", ""},
    {"sip:alice@ims.example;gr=urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c", UriScheme::kSip,
     "alice", "ims.example", HostKind::kName, 0,
     ";gr=urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c", ""},
    {"sip:bob@biloxi.example?Subject=hi&Priority=urgent", UriScheme::kSip, "bob", "biloxi.example",
     HostKind::kName, 0, "", "Subject=hi&Priority=urgent"},
    {"sip:a:secret@h.example", UriScheme::kSip, "a", "h.example", HostKind::kName, 0, "", ""},
    {"tel:+1-202-555-0100;verstat=TN-Validation-Passed", UriScheme::kTel, "+1-202-555-0100", "",
     HostKind::kNone, 0, ";verstat=TN-Validation-Passed", ""},
    {"tel:7042;phone-context=example.com", UriScheme::kTel, "7042", "", HostKind::kNone, 0,
     ";phone-context=example.com", ""},
    {"tel:*21#;phone-context=+1-202", UriScheme::kTel, "*21#", "", HostKind::kNone, 0,
     ";phone-context=+1-202", ""},
    {"https://bar.example/avatars/4f2c9e", UriScheme::kOther, "", "", HostKind::kNone, 0, "", ""},
    {"urn:service:sos", UriScheme::kOther, "", "", HostKind::kNone, 0, "", ""},
};

TEST(SipUri, ValidUris) {
  for (const UriCase& c : kUris) {
    SCOPED_TRACE(c.text);
    auto u = parse_uri(c.text);
    ASSERT_TRUE(u.is_ok()) << u.status().message();
    EXPECT_EQ(u->scheme, c.scheme);
    EXPECT_EQ(u->text, c.text);
    EXPECT_EQ(u->user, c.user);
    EXPECT_EQ(u->host, c.host);
    EXPECT_EQ(u->host_kind, c.kind);
    EXPECT_EQ(u->port, c.port);
    EXPECT_EQ(u->params, c.params);
    EXPECT_EQ(u->headers, c.headers);
  }
}

TEST(SipUri, InvalidUris) {
  const char* bad[] = {
      "",
      "sip",
      ":x",
      "sip:",
      "sip:@host",
      "sip:host:0",
      "sip:host:65536",
      "sip:host:",
      "sip:[::1",
      "sip:[::1]x",
      "sip:[zz::1]",
      "sip:ho st",
      "sip:<host>",
      "1sip:x",
      "sip:host;;",
      "sip:host;=x",
      "sip:host?",
      "sip:a@b@c",
      "sip:a..b",
      "sip:-a",
      "tel:+",
      "tel:7042",
      "tel:12;phone-context",
      "tel:+1 202",
      "tel:+1x",
      "sip:h\"x",
      "sip:a@h.example;p=\"unterminated",
  };
  for (const char* s : bad) {
    auto u = parse_uri(s);
    EXPECT_FALSE(u.is_ok()) << s;
    if (!u.is_ok()) {
      EXPECT_EQ(u.status().code(), Code::kMalformed) << s;
    }
  }
}

TEST(SipUri, Parameters) {
  auto u =
      parse_uri("sip:alice@h.example;transport=ws;lr;verstat=TN-Validation-Passed;maddr=[::1]");
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->param("TRANSPORT").value_or("?"), "ws");
  EXPECT_EQ(u->param("lr").value_or("?"), "");
  EXPECT_EQ(u->param("verstat").value_or("?"), "TN-Validation-Passed");
  EXPECT_EQ(u->param("maddr").value_or("?"), "[::1]");
  EXPECT_FALSE(u->param("user").has_value());
}

TEST(SipUri, NameAddrForms) {
  struct Case {
    const char* text;
    const char* display;
    const char* uri;
    const char* params;
  } cases[] = {
      {"<sip:alice@ims.example>;tag=8f1e", "", "sip:alice@ims.example", ";tag=8f1e"},
      {"\"Alice \\\"A\\\" Example\" <sip:alice@ims.example>", "\"Alice \\\"A\\\" Example\"",
       "sip:alice@ims.example", ""},
      {"Alice Example <tel:+12025550100;verstat=TN-Validation-Passed>;tag=1", "Alice Example",
       "tel:+12025550100;verstat=TN-Validation-Passed", ";tag=1"},
      {"sip:alice@ims.example;tag=1", "", "sip:alice@ims.example", ";tag=1"},
      {"  sip:alice@ims.example  ;  tag = 1  ", "", "sip:alice@ims.example", ";  tag = 1"},
      {"<https://bar.example/avatars/4f2c9e>;purpose=avatar", "",
       "https://bar.example/avatars/4f2c9e", ";purpose=avatar"},
      {"<sip:alice@abc.invalid;transport=ws>;+sip.instance=\"<urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-"
       "5d7e8f9a0b1c>\";reg-id=1;expires=600",
       "", "sip:alice@abc.invalid;transport=ws",
       ";+sip.instance=\"<urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c>\";reg-id=1;expires=600"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto na = parse_name_addr(c.text);
    ASSERT_TRUE(na.is_ok()) << na.status().message();
    EXPECT_EQ(na->display_name, c.display);
    EXPECT_EQ(na->uri.text, c.uri);
    EXPECT_EQ(na->params, c.params);
  }
  auto contact = parse_name_addr(cases[6].text);
  ASSERT_TRUE(contact.is_ok());
  EXPECT_EQ(contact->param("+sip.instance").value_or(""),
            "<urn:uuid:0f3b9c4e-8a1d-4e2f-9b6c-5d7e8f9a0b1c>");
  EXPECT_EQ(contact->param("reg-id").value_or(""), "1");
  EXPECT_EQ(contact->param("expires").value_or(""), "600");
  EXPECT_EQ(contact->uri.param("transport").value_or(""), "ws");
  EXPECT_EQ(parse_name_addr(cases[1].text)->display_text(), "Alice \"A\" Example");
  EXPECT_EQ(parse_name_addr(cases[5].text)->param("purpose").value_or(""), "avatar");
}

TEST(SipUri, NameAddrErrors) {
  const char* bad[] = {
      "",
      "\"unterminated <sip:a@b.example>",
      "\"x\" sip:a@b.example",
      "<sip:a@b.example",
      "< sip:a@b.example >",
      "Bell, Alexander <sip:a@b.example>",
      "<sip:a@b.example>;;",
      "<sip:a@b.example>;tag=1;",
      "sip:a@b.example?x=y",
      "<sip:a@b.example> junk",
      "<>",
      "<sip:>",
  };
  for (const char* s : bad)
    EXPECT_FALSE(parse_name_addr(s).is_ok()) << s;
}

TEST(SipUri, Via) {
  auto v = parse_via(
      "SIP/2.0/WSS 5n0k3fm1s7jq.invalid;branch=z9hG4bKc0ffee;rport=52304;received=127.0.0.1");
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(v->transport, "WSS");
  EXPECT_EQ(v->host, "5n0k3fm1s7jq.invalid");
  EXPECT_EQ(v->port, 0);
  EXPECT_EQ(v->branch, "z9hG4bKc0ffee");
  EXPECT_TRUE(v->has_rport);
  EXPECT_EQ(v->rport, 52304);
  EXPECT_EQ(v->received, "127.0.0.1");

  auto v6 = parse_via("SIP/2.0/WSS [2001:db8::1]:8443;branch=z9hG4bK1;rport");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6->host, "[2001:db8::1]");
  EXPECT_EQ(v6->host_kind, HostKind::kIpv6);
  EXPECT_EQ(v6->port, 8443);
  EXPECT_TRUE(v6->has_rport);
  EXPECT_EQ(v6->rport, 0);

  auto spaced = parse_via("sip / 2.0 / tcp  host.example : 5060 ; branch = z9hG4bK2");
  ASSERT_TRUE(spaced.is_ok());
  EXPECT_EQ(spaced->transport, "tcp");
  EXPECT_EQ(spaced->port, 5060);
  EXPECT_EQ(spaced->branch, "z9hG4bK2");

  const char* bad[] = {
      "",
      "SIP/3.0/UDP h.example",
      "SIP/2.0 h.example",
      "SIP/2.0/UDP",
      "SIP/2.0/UDP h.example;rport=x",
      "SIP/2.0/UDP h.example;branch=",
      "SIP/2.0/UDP h.example:99999",
      "SIP/2.0/UDP [::1",
      "SIP/2.0/UDP h.example;;",
      "SIP/2.0/UDP 192.0.2.15;;,;,,",
      "HTTP/2.0/UDP h.example",
  };
  for (const char* s : bad)
    EXPECT_FALSE(parse_via(s).is_ok()) << s;
}

TEST(SipUri, TelephoneNumbers) {
  struct {
    const char* in;
    const char* out;
  } ok[] = {
      {"+1-202-555-0100", "12025550100"},
      {"+12025550100", "12025550100"},
      {"(202)555.0100", "2025550100"},
      {"+44 (0)", nullptr},
      {"*21#", nullptr},
      {"", nullptr},
      {"+", nullptr},
      {"12a4", nullptr},
  };
  for (const auto& c : ok) {
    auto n = normalize_telephone_number(c.in);
    if (c.out) {
      ASSERT_TRUE(n.is_ok()) << c.in;
      EXPECT_EQ(n.value(), c.out);
    } else {
      EXPECT_FALSE(n.is_ok()) << c.in;
    }
  }
  EXPECT_EQ(normalize_telephone_number(std::string(33, '1')).status().code(), Code::kTooLarge);

  auto tel = parse_uri("tel:+1-202-555-0100;verstat=TN-Validation-Passed");
  ASSERT_TRUE(tel.is_ok());
  EXPECT_EQ(telephone_number_of(tel.value()).value(), "+1-202-555-0100");
  EXPECT_EQ(tel->param("verstat").value_or(""), "TN-Validation-Passed");
  auto sip_phone = parse_uri("sip:+12025550100@ims.example;user=phone");
  EXPECT_EQ(telephone_number_of(sip_phone.value()).value(), "+12025550100");
  auto sip_user = parse_uri("sip:alice@ims.example");
  EXPECT_EQ(telephone_number_of(sip_user.value()).status().code(), Code::kNotFound);
}

} // namespace
} // namespace imsdc::sip
