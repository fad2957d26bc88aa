// SIP message parser: RFC 4475 torture messages (valid ones parse to the right values,
// invalid ones are rejected), Kamailio-shaped registration messages, and the size bounds.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "sip/message.h"
#include "sip/uri.h"
#include "vectors/sip_vectors.h"

using namespace imsdc::test_vectors; // tables shared with tests/target

#ifndef IMSDC_TEST_DATA_DIR
#define IMSDC_TEST_DATA_DIR "tests/unit/data"
#endif

namespace imsdc::sip {
namespace {

std::string load(const std::string& name) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/sip/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

Message parse_ok(const std::string& name) {
  std::string text = load(name);
  auto m = parse_message(ByteSpan(text));
  EXPECT_TRUE(m.is_ok()) << name << ": " << m.status().message();
  if (!m.is_ok()) return parse_message(ByteSpan(load("rfc4475_lwsdisp.sip"))).value();
  return m.value();
}

TEST(SipMessage, ValidMessagesParse) {
  for (const ValidCase& c : kValid) {
    SCOPED_TRACE(c.file);
    Message m = parse_ok(c.file);
    EXPECT_EQ(m.method(), c.method);
    EXPECT_EQ(m.status_code(), c.status);
    EXPECT_EQ(m.is_request(), c.status == 0);
    if (c.call_id) {
      EXPECT_EQ(m.call_id(), c.call_id);
    }
    EXPECT_EQ(m.cseq().number, c.cseq);
    auto vias = m.header_values("Via");
    ASSERT_TRUE(vias.is_ok());
    EXPECT_EQ(vias->size(), c.via_count);
    for (std::string_view v : vias.value())
      EXPECT_TRUE(parse_via(v).is_ok()) << v;
    EXPECT_EQ(m.body().size(), c.body_size);
  }
}

TEST(SipMessage, InvalidMessagesAreRejected) {
  for (const InvalidCase& c : kInvalid) {
    std::string text = load(c.file);
    ASSERT_FALSE(text.empty()) << c.file;
    auto m = parse_message(ByteSpan(text));
    ASSERT_FALSE(m.is_ok()) << c.file;
    EXPECT_EQ(m.status().code(), c.code) << c.file << ": " << m.status().message();
    EXPECT_EQ(m.status().module(), Module::kSip);
    EXPECT_NE(m.status().detail(), nullptr);
  }
}

TEST(SipMessage, WsinvValues) {
  Message m = parse_ok("rfc4475_wsinv.sip");
  EXPECT_EQ(m.request_uri(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
  EXPECT_EQ(m.header("max-forwards"), "0068");
  EXPECT_EQ(m.cseq().method, "INVITE");
  EXPECT_TRUE(m.has_header("Subject")); // "s :" with an empty value
  EXPECT_EQ(m.header("s"), "");
  auto to = parse_name_addr(m.header("To"));
  ASSERT_TRUE(to.is_ok());
  EXPECT_EQ(to->uri.user, "vivekg");
  EXPECT_EQ(to->uri.host, "chair-dnrc.example.com");
  EXPECT_EQ(to->param("tag").value_or(""), "1918181833n");
  auto from = parse_name_addr(m.header("f"));
  ASSERT_TRUE(from.is_ok());
  EXPECT_EQ(from->display_text(), "J Rosenberg \\\"");
  EXPECT_EQ(from->param("tag").value_or(""), "98asjd8");
  auto vias = m.header_values("v");
  ASSERT_TRUE(vias.is_ok());
  ASSERT_EQ(vias->size(), 3u);
  auto v0 = parse_via((*vias)[0]);
  ASSERT_TRUE(v0.is_ok());
  EXPECT_EQ(v0->transport, "UDP");
  EXPECT_EQ(v0->host, "192.0.2.2");
  EXPECT_EQ(v0->branch, "390skdjuw");
  auto v2 = parse_via((*vias)[2]);
  ASSERT_TRUE(v2.is_ok());
  EXPECT_EQ(v2->host, "192.168.255.111");
  EXPECT_EQ(v2->branch, "z9hG4bK30239");
  auto contacts = m.header_values("Contact");
  ASSERT_TRUE(contacts.is_ok());
  ASSERT_EQ(contacts->size(), 1u);
  auto c = parse_name_addr((*contacts)[0]);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->display_text(), "Quoted string \"\"");
  EXPECT_EQ(c->param("newparam").value_or(""), "newvalue");
  EXPECT_TRUE(c->param("secondparam").has_value());
  EXPECT_EQ(c->param("q").value_or(""), "0.33");
  auto route = parse_name_addr(m.header("Route"));
  ASSERT_TRUE(route.is_ok());
  EXPECT_TRUE(route->uri.param("lr").has_value());
  EXPECT_EQ(route->uri.param("unknownwith").value_or(""), "value");
  // Folded lines are joined; the continuation stays part of the value.
  std::string_view nf = m.header("NewFangledHeader");
  EXPECT_EQ(nf.substr(0, 15), "newfangled valu");
  EXPECT_NE(nf.find("continued newfangled value"), std::string_view::npos);
  EXPECT_EQ(m.header("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  EXPECT_EQ(m.body().as_string().substr(0, 5), "v=0\r\n");
  EXPECT_EQ(m.header_name(0), "TO");      // unknown-case names stay as written
  EXPECT_EQ(m.header_name(7), "Subject"); // compact forms read as their full name
}

TEST(SipMessage, IntmethValues) {
  Message m = parse_ok("rfc4475_intmeth.sip");
  auto ruri = parse_uri(m.request_uri());
  ASSERT_TRUE(ruri.is_ok());
  EXPECT_EQ(ruri->user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(ruri->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(ruri->host, "example.com");
  auto to = parse_name_addr(m.header("To"));
  ASSERT_TRUE(to.is_ok());
  EXPECT_EQ(to->display_text(), std::string("BEL:\x07 NUL:\0 DEL:\x7f", 17));
  auto from = parse_name_addr(m.header("From"));
  ASSERT_TRUE(from.is_ok());
  EXPECT_EQ(from->display_name, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(from->param("tag").value_or(""), "_token~1'+`*%!-.");
  EXPECT_EQ(m.header("extensionHeader-!.%*+_`'~"),
            "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
  EXPECT_EQ(m.header("Max-Forwards"), "255");
}

TEST(SipMessage, EscapesAndCompactForms) {
  Message esc01 = parse_ok("rfc4475_esc01.sip");
  EXPECT_EQ(esc01.header("Content-Type"), "application/sdp"); // "C:" compact, upper case
  auto contact = parse_name_addr(esc01.header("m"));
  ASSERT_TRUE(contact.is_ok());
  EXPECT_EQ(contact->uri.user, "cal%6Cer");
  EXPECT_TRUE(contact->uri.param("%6C%72").has_value());
  EXPECT_EQ(contact->uri.param("n%61me").value_or(""), "v%61lue%25%34%31");

  Message esc02 = parse_ok("rfc4475_esc02.sip");
  auto contacts = esc02.header_values("Contact");
  ASSERT_TRUE(contacts.is_ok());
  EXPECT_EQ(contacts->size(), 2u); // "C%6Fntact" is another header
  EXPECT_EQ(esc02.header("C%6Fntact"), "<sip:alias2@host2.example.com>");

  Message escnull = parse_ok("rfc4475_escnull.sip");
  EXPECT_EQ(escnull.header("Content-Length"), "0"); // "L:0"

  Message lwsdisp = parse_ok("rfc4475_lwsdisp.sip");
  auto from = parse_name_addr(lwsdisp.header("From"));
  ASSERT_TRUE(from.is_ok());
  EXPECT_EQ(from->display_name, "caller");
}

TEST(SipMessage, SemiUriTransportsAndReasons) {
  Message semi = parse_ok("rfc4475_semiuri.sip");
  auto ruri = parse_uri(semi.request_uri());
  ASSERT_TRUE(ruri.is_ok());
  EXPECT_EQ(ruri->user, "user;par=u%40example.net");
  EXPECT_EQ(ruri->host, "example.com");
  auto accept = semi.header_values("Accept");
  ASSERT_TRUE(accept.is_ok());
  ASSERT_EQ(accept->size(), 6u);
  EXPECT_EQ((*accept)[2], "multipart/mixed");
  EXPECT_EQ((*accept)[5], "message/sipfrag");

  Message tr = parse_ok("rfc4475_transports.sip");
  auto vias = tr.header_values("Via");
  ASSERT_TRUE(vias.is_ok());
  const char* transports[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(parse_via((*vias)[i])->transport, transports[i]);

  Message unreason = parse_ok("rfc4475_unreason.sip");
  EXPECT_EQ(unreason.reason().substr(0, 14), "= 2**3 * 5**2 ");
  EXPECT_GT(unreason.reason().size(), 40u); // UTF-8 kept as is
  Message noreason = parse_ok("rfc4475_noreason.sip");
  EXPECT_EQ(noreason.reason(), "");
}

TEST(SipMessage, ExtraBytesAfterBodyAreDiscarded) {
  // RFC 3261 section 18.3 / RFC 4475 dblreq: one message per datagram or WebSocket frame.
  Message m = parse_ok("rfc4475_dblreq.sip");
  EXPECT_EQ(m.method(), "REGISTER");
  EXPECT_EQ(m.body().size(), 0u);
  EXPECT_EQ(m.text().find("INVITE"), std::string_view::npos);
}

TEST(SipMessage, LongRequest) {
  Message m = parse_ok("rfc4475_longreq.sip");
  auto to = parse_name_addr(m.header("To"));
  ASSERT_TRUE(to.is_ok());
  EXPECT_EQ(to->uri.port, 6000);
  auto vias = m.header_values("Via");
  ASSERT_TRUE(vias.is_ok());
  auto last = parse_via(vias->back());
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(last->received, "192.0.2.5");
  EXPECT_EQ(parse_via(vias->front())->host, "sip33.example.com");
}

const char kMinimal[] = "OPTIONS sip:a@b.example SIP/2.0\r\n"
                        "Via: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\n"
                        "From: <sip:a@b.example>;tag=1\r\n"
                        "To: <sip:a@b.example>\r\n"
                        "Call-ID: c1\r\n"
                        "CSeq: 1 OPTIONS\r\n";

Result<Message> parse_text(const std::string& s) {
  return parse_message(ByteSpan(s));
}

TEST(SipMessage, ContentLengthRules) {
  std::string base = kMinimal;
  struct {
    std::string tail;
    bool ok;
    std::size_t body;
  } cases[] = {
      {"\r\nhello", true, 5}, // no Content-Length: rest is body
      {"Content-Length: 5\r\n\r\nhello", true, 5},
      {"Content-Length: 3\r\n\r\nhello", true, 3},  // extra bytes discarded (18.3)
      {"Content-Length: 6\r\n\r\nhello", false, 0}, // body shorter than declared
      {"Content-Length: \r\n\r\n", false, 0},
      {"Content-Length: 5x\r\n\r\nhello", false, 0},
      {"Content-Length: 5\r\nl: 5\r\n\r\nhello", false, 0}, // duplicate
      {"Content-Length: 99999999999999999999\r\n\r\n", false, 0},
  };
  for (const auto& c : cases) {
    auto m = parse_text(base + c.tail);
    EXPECT_EQ(m.is_ok(), c.ok) << c.tail;
    if (m.is_ok()) {
      EXPECT_EQ(m->body().size(), c.body) << c.tail;
    }
  }
}

TEST(SipMessage, StructuralErrors) {
  std::string base = kMinimal;
  const std::string bad[] = {
      "",
      "OPTIONS sip:a@b.example SIP/2.0", // no CRLF
      base,                              // no empty line
      base + "Bad Header: x\r\n\r\n",    // space in name
      base + ": x\r\n\r\n",              // empty name
      base + "X-A x\r\n\r\n",            // no colon
      base + "X-A: a\nb\r\n\r\n",        // bare LF
      base + "X-A: a\rb\r\n\r\n",        // bare CR
      " OPTIONS sip:a@b.example SIP/2.0\r\n\r\n",
      "SIP/2.0 99 Too small\r\n\r\n",
      "SIP/2.0 2000 OK\r\n\r\n",
      "SIP/2.0 20x OK\r\n\r\n",
      std::string(kMinimal).replace(0, 7, "OPT IONS"),
  };
  for (const std::string& s : bad)
    EXPECT_FALSE(parse_text(s).is_ok()) << s;
  // Missing mandatory headers.
  for (const char* drop : {"Via:", "From:", "To:", "Call-ID:", "CSeq:"}) {
    std::string s = base;
    std::size_t at = s.find(drop);
    s.erase(at, s.find("\r\n", at) + 2 - at);
    EXPECT_FALSE(parse_text(s + "\r\n").is_ok()) << drop;
  }
  // A continuation line before any header.
  EXPECT_FALSE(parse_text("OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n").is_ok());
}

TEST(SipMessage, SizeBound) {
  std::string base = std::string(kMinimal) + "\r\n";
  std::string body(IMSDC_MAX_SIP_MESSAGE - base.size(), 'x');
  auto fits = parse_text(base + body);
  ASSERT_TRUE(fits.is_ok()) << fits.status().message();
  EXPECT_EQ(fits->body().size(), body.size());
  auto over = parse_text(base + body + "x");
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), Code::kTooLarge);
}

TEST(SipMessage, HeaderCountAndLineBounds) {
  std::string s = kMinimal;
  std::size_t fields = 5;
  while (fields < kMaxHeaderFields) {
    s += "X-Pad: 1\r\n";
    ++fields;
  }
  EXPECT_TRUE(parse_text(s + "\r\n").is_ok());
  auto over = parse_text(s + "X-Pad: 1\r\n\r\n");
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), Code::kTooLarge);

  auto long_line = parse_text(std::string(kMinimal) +
                              "X-Long: " + std::string(kMaxLineLength, 'a') + "\r\n\r\n");
  ASSERT_FALSE(long_line.is_ok());
  EXPECT_EQ(long_line.status().code(), Code::kTooLarge);

  // Folding cannot be used to sneak past the per-line bound, but a long folded value of
  // short lines is fine.
  std::string folded = std::string(kMinimal) + "X-Folded: a";
  for (int i = 0; i < 100; ++i)
    folded += "\r\n b";
  EXPECT_TRUE(parse_text(folded + "\r\n\r\n").is_ok());
}

TEST(SipMessage, ValueCountBound) {
  // 65 Contact values in one field: within the field limit, over the per-name value limit.
  std::string s = std::string(kMinimal) + "Contact: <sip:a@h.example>";
  for (std::size_t i = 1; i <= kMaxHeaderValues; ++i)
    s += ", <sip:a@h.example>";
  auto m = parse_text(s + "\r\n\r\n");
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), Code::kTooLarge);
}

TEST(SipMessage, ValueSplittingRespectsQuotesAndBrackets) {
  std::string s = std::string(kMinimal) +
                  "Contact: \"A, B\" <sip:a@h.example;p=x>;q=0.5;n=\"x,y\", <sip:c@h.example>\r\n"
                  "Contact: *\r\n"
                  "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
                  "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
                  "Supported: outbound,path, gruu\r\n"
                  "\r\n";
  auto m = parse_text(s);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  auto contacts = m->header_values("m");
  ASSERT_TRUE(contacts.is_ok());
  ASSERT_EQ(contacts->size(), 3u);
  EXPECT_EQ((*contacts)[0], "\"A, B\" <sip:a@h.example;p=x>;q=0.5;n=\"x,y\"");
  EXPECT_EQ((*contacts)[2], "*");
  EXPECT_EQ(m->header_values("WWW-Authenticate")->size(), 1u);
  EXPECT_EQ(m->header_values("Date")->size(), 1u);
  EXPECT_EQ(m->header_values("k")->size(), 3u);
}

TEST(SipMessage, CSeqAndMaxForwardsBounds) {
  std::string base = kMinimal;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    return parse_text(s + "\r\n");
  };
  EXPECT_TRUE(with("CSeq: 1 OPTIONS", "CSeq: 2147483647 OPTIONS").is_ok());
  EXPECT_FALSE(with("CSeq: 1 OPTIONS", "CSeq: 2147483648 OPTIONS").is_ok());
  EXPECT_FALSE(with("CSeq: 1 OPTIONS", "CSeq: OPTIONS").is_ok());
  EXPECT_FALSE(with("CSeq: 1 OPTIONS", "CSeq: 1OPTIONS").is_ok());
  EXPECT_TRUE(with("Call-ID: c1", "Call-ID: c1\r\nMax-Forwards: 255").is_ok());
  EXPECT_FALSE(with("Call-ID: c1", "Call-ID: c1\r\nMax-Forwards: 256").is_ok());
  EXPECT_FALSE(with("Call-ID: c1", "Call-ID: c1\r\nCall-ID: c2").is_ok());
}

TEST(SipMessage, CompactNames) {
  const std::pair<const char*, const char*> names[] = {
      {"i", "Call-ID"},
      {"m", "Contact"},
      {"f", "From"},
      {"t", "To"},
      {"v", "Via"},
      {"l", "Content-Length"},
      {"c", "Content-Type"},
      {"k", "Supported"},
      {"e", "Content-Encoding"},
      {"s", "Subject"},
      {"o", "Event"},
      {"u", "Allow-Events"},
      {"I", "Call-ID"},
      {"x", "Session-Expires"},
      {"Q", "Q"},
      {"Via", "Via"},
  };
  for (const auto& n : names)
    EXPECT_EQ(expand_compact_name(n.first), n.second);
}

} // namespace
} // namespace imsdc::sip
