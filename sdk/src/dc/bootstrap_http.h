// HTTP/1.1 over the bootstrap data channel (PROTOCOL_PROFILE.md section 5; TS 26.114
// section 6.2.10): one request per DC message; a response may span several DC messages and is
// reassembled by Content-Length or chunked transfer coding, bounded in head and body size;
// ETag / If-None-Match revalidation through a small bounded cache.
//
// Sans-I/O: the caller sends the request text on the channel and feeds each received message
// to the parser; nothing here touches the Association.
#ifndef IMSDC_SRC_DC_BOOTSTRAP_HTTP_H
#define IMSDC_SRC_DC_BOOTSTRAP_HTTP_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/bytes.h"
#include "imsdc/config_defaults.h"
#include "imsdc/status.h"

namespace imsdc::dc {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<HttpHeader> headers;
  Bytes body;
  // First header of that name (ASCII case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

// "GET <path> HTTP/1.1" with Host and, when etag is not empty, If-None-Match. Errors:
// kInvalidArgument (path not starting with '/', or a control character, space or DEL in the
// path, host or etag).
Result<std::string> build_get(std::string_view path, std::string_view host,
                              std::string_view if_none_match = {});

// "POST <path> HTTP/1.1" with Host, Content-Type and Content-Length, then the body: one DC
// message (the representation request of PROTOCOL_PROFILE.md section 7). Errors:
// kInvalidArgument (as build_get; a control character in content_type).
Result<std::string> build_post(std::string_view path, std::string_view host,
                               std::string_view content_type, std::string_view body);

// The serving side's view of one request message (the network-role responder, the DC AS
// relay and tests): "GET|POST <path> HTTP/1.1" plus headers (at most 8 KiB) and, for POST, a
// body of exactly Content-Length bytes, complete in one DC message.
struct HttpRequest {
  std::string method; // "GET" or "POST"
  std::string path;
  std::string if_none_match; // empty when absent
  std::string content_type;  // empty when absent
  std::string body;          // POST only
};
// Errors: kMalformed (not one complete request, a bad target or header, a POST without a
// single valid Content-Length or whose body differs from it), kTooLarge (head over 8 KiB,
// body over max_body), kUnsupported (another method).
Result<HttpRequest> parse_request(std::string_view message, std::size_t max_body = 0);

// A response split into DC messages of at most max_message bytes (the serving side; tests
// and the network-role peer). Content-Length is written; headers must not contain it.
// Errors: kInvalidArgument (a control character in a header, max_message < 64).
// The status line and headers of a response whose body follows in later messages (a relay
// streaming an answer): Content-Length when content_length >= 0, else chunked transfer coding
// (the body then goes out as chunks). Errors: as build_response.
Result<std::string> build_response_head(int status, std::string_view reason,
                                        const std::vector<HttpHeader>& headers,
                                        std::int64_t content_length);

Result<std::vector<Bytes>> build_response(int status, std::string_view reason,
                                          const std::vector<HttpHeader>& headers, ByteSpan body,
                                          std::size_t max_message);

class HttpResponseParser {
public:
  struct Limits {
    std::size_t max_head = 8192;  // status line + headers, bytes
    std::size_t max_headers = 32; // header fields
    std::uint64_t max_body = IMSDC_MAX_HTTP_BODY;
  };
  // Streaming: with a sink, on_head is called once the status line and headers are parsed
  // (response() has them) and the body goes to on_body piece by piece instead of into
  // response().body, so max_body may exceed what memory could hold. A callback returning < 0
  // fails the parser with kIo.
  struct Sink {
    void* user = nullptr;
    int (*on_head)(void* user, const HttpResponse& head) = nullptr;
    int (*on_body)(void* user, const std::uint8_t* data, std::size_t len) = nullptr;
  };
  HttpResponseParser();
  explicit HttpResponseParser(const Limits& limits);

  // The next received bytes (one DC message, or any part of one). Errors, after which the
  // parser stays failed and returns the same status: kMalformed (syntax; no Content-Length and
  // not chunked on a response that has a body; both Content-Length and chunked; conflicting
  // Content-Length values; bytes after the end of the response), kTooLarge (a limit).
  Status feed(ByteSpan data);
  bool complete() const { return state_ == State::kDone; }
  // Valid when complete().
  const HttpResponse& response() const { return response_; }
  HttpResponse take() { return std::move(response_); }
  void reset();
  // Applies from the next response on (also after reset()).
  void set_sink(const Sink& sink) { sink_ = sink; }

private:
  enum class State : std::uint8_t {
    kHead,
    kBody,
    kChunkSize,
    kChunkData,
    kChunkEnd,
    kTrailer,
    kDone,
    kFailed
  };
  Status fail(Status s);
  Status parse_head();
  Status line(std::string_view l);
  Status on_byte_line(ByteSpan data, std::size_t* used, std::string* out, bool* got);
  Status body(ByteSpan piece);

  Limits limits_;
  Sink sink_;
  std::uint64_t body_bytes_ = 0;
  State state_ = State::kHead;
  Status error_;
  std::string head_; // head bytes until the blank line
  std::string line_; // chunk-size / trailer line being read
  std::size_t trailer_bytes_ = 0;
  std::uint64_t remaining_ = 0; // body or chunk bytes still expected
  HttpResponse response_;
};

// ETag revalidation for GETs on one bootstrap channel: at most max_entries paths, each body
// at most max_body bytes; the oldest entry leaves first.
class HttpCache {
public:
  explicit HttpCache(std::size_t max_entries = 8, std::size_t max_body = IMSDC_MAX_HTTP_BODY);
  // The request for path, with If-None-Match when a validator is cached.
  Result<std::string> request(std::string_view path, std::string_view host) const;
  // The body the application should use for the response to GET path: a 200's body (kept when
  // it carries an ETag), or the cached body on 304. Errors: kNotFound (404), kRejected (other
  // non-2xx, or 304 with nothing cached).
  Result<Bytes> take(std::string_view path, HttpResponse&& response);
  std::size_t size() const { return entries_.size(); }

private:
  struct Entry {
    std::string path;
    std::string etag;
    Bytes body;
  };
  const Entry* find(std::string_view path) const;
  std::size_t max_entries_;
  std::size_t max_body_;
  std::vector<Entry> entries_;
};

} // namespace imsdc::dc

#endif // IMSDC_SRC_DC_BOOTSTRAP_HTTP_H
