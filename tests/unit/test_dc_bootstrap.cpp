// HTTP over the bootstrap data channel (PROTOCOL_PROFILE.md section 5): the response parser
// at every split point, chunked coding, framing and size errors, request/response building,
// and ETag revalidation through HttpCache.
#include <gtest/gtest.h>

#include <string>

#include "dc/bootstrap_http.h"

namespace imsdc::dc {
namespace {

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// Feeds `text` split into pieces at `cut` (0: whole), returns the parser.
HttpResponseParser parse(std::string_view text, std::size_t cut = 0,
                         HttpResponseParser::Limits lim = {}) {
  HttpResponseParser p(lim);
  if (cut == 0 || cut >= text.size()) {
    (void)p.feed(ByteSpan(text));
  } else {
    if (p.feed(ByteSpan(text.substr(0, cut))).is_ok()) (void)p.feed(ByteSpan(text.substr(cut)));
  }
  return p;
}

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: \"v1\"\r\n"
                        "Content-Length: 11\r\n\r\nhello world";
const std::string kChunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";

TEST(DcBootstrapHttp, ContentLengthResponseAtEverySplitPoint) {
  for (std::size_t cut = 0; cut < kOk.size(); ++cut) {
    HttpResponseParser p = parse(kOk, cut);
    ASSERT_TRUE(p.complete()) << cut;
    EXPECT_EQ(p.response().status, 200);
    EXPECT_EQ(p.response().reason, "OK");
    EXPECT_EQ(p.response().body, bytes("hello world"));
    ASSERT_NE(p.response().header("etag"), nullptr); // case-insensitive
    EXPECT_EQ(*p.response().header("ETAG"), "\"v1\"");
  }
  // Byte by byte, as the smallest DC messages would bring it.
  HttpResponseParser p;
  for (char c : kOk) {
    EXPECT_FALSE(p.complete());
    ASSERT_TRUE(p.feed(ByteSpan(std::string_view(&c, 1))).is_ok());
  }
  EXPECT_TRUE(p.complete());
}

TEST(DcBootstrapHttp, ChunkedResponseAtEverySplitPoint) {
  for (std::size_t cut = 0; cut < kChunked.size(); ++cut) {
    HttpResponseParser p = parse(kChunked, cut);
    ASSERT_TRUE(p.complete()) << cut;
    EXPECT_EQ(p.response().body, bytes("hello world")) << cut;
  }
  // Not complete before the last chunk and the blank line after the trailer.
  HttpResponseParser p = parse(kChunked.substr(0, kChunked.size() - 2));
  EXPECT_FALSE(p.complete());
}

TEST(DcBootstrapHttp, NoBodyStatusesAndLeadingEmptyLine) {
  HttpResponseParser p = parse("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.response().status, 304);
  EXPECT_TRUE(p.response().body.empty());
  HttpResponseParser q = parse("\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(q.complete());
  EXPECT_EQ(q.response().status, 204);
  HttpResponseParser lf = parse("HTTP/1.0 200 OK\nContent-Length: 2\n\nhi");
  ASSERT_TRUE(lf.complete());
  EXPECT_EQ(lf.response().body, bytes("hi"));
}

TEST(DcBootstrapHttp, FramingAndSyntaxErrors) {
  struct Case {
    const char* text;
    Code code;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\n\r\nbody", Code::kMalformed}, // no framing
      {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
       Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nContent-Length: 4 4\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Code::kMalformed},
      {"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 100 Continue\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nBad Name: a\r\nContent-Length: 0\r\n\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi!", Code::kMalformed}, // extra byte
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n", Code::kMalformed},
      {"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", Code::kTooLarge},
  };
  for (const Case& c : cases) {
    HttpResponseParser p = parse(c.text);
    EXPECT_FALSE(p.complete()) << c.text;
    // The failure is sticky: the same status again, and nothing partial is exposed.
    Status again = p.feed(ByteSpan(std::string_view("x")));
    EXPECT_EQ(again.code(), c.code) << c.text;
    EXPECT_TRUE(p.response().body.empty()) << c.text;
  }
}

TEST(DcBootstrapHttp, LimitsBoundHeadHeadersAndBody) {
  HttpResponseParser::Limits lim;
  lim.max_head = 64;
  lim.max_headers = 2;
  lim.max_body = 8;
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n", 0, lim)
                .feed(ByteSpan())
                .code(),
            Code::kTooLarge);
  EXPECT_EQ(
      parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0, lim).feed(ByteSpan()).code(),
      Code::kTooLarge);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 0, lim).feed(ByteSpan()).code(),
            Code::kTooLarge);
  // Chunks are counted together against the body limit.
  EXPECT_EQ(
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\naaaaa\r\n4\r\n", 0, lim)
          .feed(ByteSpan())
          .code(),
      Code::kTooLarge);
  EXPECT_TRUE(parse("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678", 0, lim).complete());
}

TEST(DcBootstrapHttp, RequestAndResponseBuilding) {
  Result<std::string> get = build_get("/avatars", "dcas.ims.example", "\"v1\"");
  ASSERT_TRUE(get.is_ok());
  EXPECT_EQ(get.value(), "GET /avatars HTTP/1.1\r\nHost: dcas.ims.example\r\n"
                         "If-None-Match: \"v1\"\r\n\r\n");
  EXPECT_EQ(build_get("/", "h").value(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  // Header injection and malformed targets are refused.
  EXPECT_EQ(build_get("/a\r\nX: y", "h").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(build_get("/a b", "h").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(build_get("avatars", "h").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(build_get("/", "h\n").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(build_get("/", "h", "\"v\"\r\n").status().code(), Code::kInvalidArgument);

  const Bytes body(3000, 'b');
  auto msgs = build_response(200, "OK", {{"ETag", "\"e7\""}, {"Content-Type", "text/html"}},
                             ByteSpan(body), 1024);
  ASSERT_TRUE(msgs.is_ok());
  ASSERT_EQ(msgs->size(), 4u); // head + 3000 bytes in 1024-byte messages
  HttpResponseParser p;
  for (const Bytes& m : msgs.value()) {
    EXPECT_LE(m.size(), 1024u);
    ASSERT_TRUE(p.feed(ByteSpan(m)).is_ok());
  }
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(p.response().body, body);
  EXPECT_EQ(build_response(200, "OK", {{"Content-Length", "1"}}, ByteSpan(), 1024).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(build_response(200, "OK", {{"X", "a\r\nY: b"}}, ByteSpan(), 1024).status().code(),
            Code::kInvalidArgument);
  // A head for a body that follows later: chunked when the length is unknown.
  HttpResponseParser p2;
  Result<std::string> h = build_response_head(502, "Bad Gateway", {{"X", "y"}}, -1);
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h.value(), "HTTP/1.1 502 Bad Gateway\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(p2.feed(ByteSpan(h.value() + "2\r\nok\r\n0\r\n\r\n")).is_ok());
  ASSERT_TRUE(p2.complete());
  EXPECT_EQ(p2.response().body, bytes("ok"));
  EXPECT_EQ(build_response_head(200, "OK", {}, 7).value(),
            "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n");
  EXPECT_EQ(build_response_head(200, "OK", {{"Transfer-Encoding", "chunked"}}, 1).status().code(),
            Code::kInvalidArgument);
}

TEST(DcBootstrapHttp, ServingSideParsesWhatTheClientBuilds) {
  Result<HttpRequest> g = parse_request(build_get("/apps/x.html", "h", "\"e1\"").value());
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(g->method, "GET");
  EXPECT_EQ(g->path, "/apps/x.html");
  EXPECT_EQ(g->if_none_match, "\"e1\"");
  EXPECT_TRUE(parse_request("GET / HTTP/1.1\r\n\r\n").value().if_none_match.empty());
  EXPECT_EQ(parse_request("PUT / HTTP/1.1\r\n\r\n").status().code(), Code::kUnsupported);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\n").status().code(), Code::kMalformed); // incomplete
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\n\r\nX").status().code(), Code::kMalformed);
  EXPECT_EQ(parse_request("GET x HTTP/1.1\r\n\r\n").status().code(), Code::kMalformed);
  EXPECT_EQ(parse_request("GET / HTTP/1.0\r\n\r\n").status().code(), Code::kMalformed);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n").status().code(),
            Code::kMalformed);
  EXPECT_EQ(parse_request("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n").status().code(),
            Code::kTooLarge);
}

TEST(DcBootstrapHttp, PostCarriesExactlyItsBody) {
  const std::string jws = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln";
  Result<std::string> m = build_post("/avatar/representation", "dc-as", "application/jwt", jws);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m.value(), "POST /avatar/representation HTTP/1.1\r\nHost: dc-as\r\n"
                       "Content-Type: application/jwt\r\nContent-Length: 29\r\n\r\n" +
                           jws);
  Result<HttpRequest> r = parse_request(m.value(), 1024);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/avatar/representation");
  EXPECT_EQ(r->content_type, "application/jwt");
  EXPECT_EQ(r->body, jws);
  // The body must be exactly Content-Length bytes, within the caller's bound.
  EXPECT_EQ(parse_request(m.value(), 28).status().code(), Code::kTooLarge);
  EXPECT_EQ(parse_request(m.value() + "x", 1024).status().code(), Code::kMalformed);
  EXPECT_EQ(parse_request(m.value().substr(0, m->size() - 1), 1024).status().code(),
            Code::kMalformed);
  EXPECT_EQ(parse_request("POST / HTTP/1.1\r\n\r\nabc", 1024).status().code(), Code::kMalformed);
  EXPECT_EQ(
      parse_request("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 1024)
          .status()
          .code(),
      Code::kMalformed);
  EXPECT_EQ(parse_request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1024)
                .status()
                .code(),
            Code::kMalformed);
  EXPECT_EQ(build_post("/", "h", "", "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(build_post("/", "h", "a\r\nb", "x").status().code(), Code::kInvalidArgument);
}

struct Streamed {
  int heads = 0;
  int status = 0;
  std::string body;
  int stop_after = -1; // pieces
  int pieces = 0;
};

TEST(DcBootstrapHttp, StreamingSinkGetsHeadThenBodyPiecesNotHeld) {
  Streamed st;
  HttpResponseParser::Limits lim;
  lim.max_body = 1u << 20;
  HttpResponseParser p(lim);
  HttpResponseParser::Sink sink;
  sink.user = &st;
  sink.on_head = [](void* u, const HttpResponse& h) {
    auto* s = static_cast<Streamed*>(u);
    ++s->heads;
    s->status = h.status;
    return s->body.empty() ? 0 : -1; // the head comes before any body byte
  };
  sink.on_body = [](void* u, const std::uint8_t* d, std::size_t n) {
    auto* s = static_cast<Streamed*>(u);
    s->body.append(reinterpret_cast<const char*>(d), n);
    return ++s->pieces == s->stop_after ? -1 : 0;
  };
  p.set_sink(sink);
  const std::string body(300000, 'q');
  auto msgs = build_response(200, "OK", {{"Content-Type", "application/jose"}},
                             ByteSpan(std::string_view(body)), 16384);
  ASSERT_TRUE(msgs.is_ok());
  for (const Bytes& m : msgs.value())
    ASSERT_TRUE(p.feed(ByteSpan(m)).is_ok());
  ASSERT_TRUE(p.complete());
  EXPECT_EQ(st.heads, 1);
  EXPECT_EQ(st.status, 200);
  EXPECT_EQ(st.body, body);
  EXPECT_TRUE(p.response().body.empty()); // streamed, not held

  // Chunked framing streams too; a consumer that stops fails the parser.
  Streamed st2;
  st2.stop_after = 2;
  sink.user = &st2;
  p.set_sink(sink);
  p.reset();
  ASSERT_TRUE(p.feed(ByteSpan(std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                               "\r\n3\r\nabc\r\n")))
                  .is_ok());
  EXPECT_EQ(p.feed(ByteSpan(std::string_view("2\r\nde\r\n0\r\n\r\n"))).code(), Code::kIo);
  EXPECT_EQ(st2.body, "abcde");
  EXPECT_FALSE(p.complete());
}

HttpResponse response(int status, std::string_view body, std::string_view etag = {}) {
  HttpResponse r;
  r.status = status;
  r.body = bytes(body);
  if (!etag.empty()) r.headers.push_back({"ETag", std::string(etag)});
  return r;
}

TEST(DcBootstrapHttp, CacheRevalidatesWithEtag) {
  HttpCache cache(2);
  EXPECT_EQ(cache.request("/", "h").value(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(cache.take("/", response(200, "app list", "\"v1\"")).value(), bytes("app list"));
  EXPECT_EQ(cache.request("/", "h").value(),
            "GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\n\r\n");
  EXPECT_EQ(cache.take("/", response(304, "")).value(), bytes("app list"));
  // A 200 without an ETag is used but not kept; a new ETag replaces the old entry.
  EXPECT_EQ(cache.take("/x", response(200, "no validator")).value(), bytes("no validator"));
  EXPECT_EQ(cache.take("/x", response(304, "")).status().code(), Code::kRejected);
  EXPECT_EQ(cache.take("/", response(200, "app list 2", "\"v2\"")).value(), bytes("app list 2"));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.take("/", response(304, "")).value(), bytes("app list 2"));
  // Bounded: the oldest entry leaves.
  (void)cache.take("/a", response(200, "a", "\"a\""));
  (void)cache.take("/b", response(200, "b", "\"b\""));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.take("/", response(304, "")).status().code(), Code::kRejected);
  EXPECT_EQ(cache.take("/a", response(404, "")).status().code(), Code::kNotFound);
  EXPECT_EQ(cache.take("/a", response(503, "")).status().code(), Code::kRejected);
}

} // namespace
} // namespace imsdc::dc
