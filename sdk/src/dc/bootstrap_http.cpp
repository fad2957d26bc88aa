#include "dc/bootstrap_http.h"

#include "imsdc/codec.h"

#include <algorithm>

namespace imsdc::dc {
namespace {

constexpr Module kMod = Module::kDc;
Status err(Code c, const char* d) {
  return Status(c, kMod, d);
}

// Visible ASCII and (inside values) spaces and tabs; never CR, LF, NUL or DEL.
bool clean(std::string_view s, bool allow_space) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0x7f || (u < 0x20 && !(allow_space && u == '\t'))) return false;
    if (u == ' ' && !allow_space) return false;
  }
  return true;
}

// RFC 9110 token characters (header names).
bool token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A decimal of at most 12 digits (no sign, no spaces); false otherwise.
bool decimal(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

} // namespace

const std::string* HttpResponse::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (ascii_iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

Result<std::string> build_get(std::string_view path, std::string_view host,
                              std::string_view if_none_match) {
  if (path.empty() || path.front() != '/' || !clean(path, false))
    return err(Code::kInvalidArgument, "bad request path");
  if (host.empty() || !clean(host, false)) return err(Code::kInvalidArgument, "bad host");
  if (!clean(if_none_match, false)) return err(Code::kInvalidArgument, "bad etag");
  std::string r = "GET ";
  r.append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
  if (!if_none_match.empty()) r.append("If-None-Match: ").append(if_none_match).append("\r\n");
  r.append("\r\n");
  return r;
}

Result<std::string> build_post(std::string_view path, std::string_view host,
                               std::string_view content_type, std::string_view body) {
  Result<std::string> get = build_get(path, host);
  if (!get.is_ok()) return get.status();
  if (content_type.empty() || !clean(content_type, true))
    return err(Code::kInvalidArgument, "bad content type");
  std::string r = std::move(get.value());
  r.replace(0, 3, "POST");
  r.resize(r.size() - 2); // reopen the head
  r.append("Content-Type: ").append(content_type).append("\r\n");
  r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  r.append(body);
  return r;
}

Result<HttpRequest> parse_request(std::string_view m, std::size_t max_body) {
  const std::size_t end = m.find("\r\n\r\n");
  if (end == std::string_view::npos)
    return m.size() > 8192 ? err(Code::kTooLarge, "request head too large")
                           : err(Code::kMalformed, "not one complete request");
  if (end + 4 > 8192) return err(Code::kTooLarge, "request head too large");
  std::string_view head = m.substr(0, end + 2);
  const std::string_view body = m.substr(end + 4);
  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2 || line.substr(sp2 + 1) != "HTTP/1.1")
    return err(Code::kMalformed, "bad request line");
  HttpRequest r;
  r.method = std::string(line.substr(0, sp1));
  if (r.method != "GET" && r.method != "POST")
    return err(Code::kUnsupported, "only GET and POST are served");
  r.path = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (r.path.empty() || r.path.front() != '/' || !clean(r.path, false))
    return err(Code::kMalformed, "bad request target");
  std::size_t fields = 0;
  bool have_length = false;
  std::uint64_t length = 0;
  while (!head.empty()) {
    const std::size_t e = head.find("\r\n");
    const std::string_view l = head.substr(0, e);
    head.remove_prefix(e + 2);
    const std::size_t colon = l.find(':');
    if (colon == std::string_view::npos || !token(l.substr(0, colon)) || ++fields > 32)
      return err(Code::kMalformed, "bad request header");
    const std::string_view name = l.substr(0, colon);
    const std::string_view value = trim(l.substr(colon + 1));
    if (!clean(value, true)) return err(Code::kMalformed, "control character in header");
    if (ascii_iequals(name, "If-None-Match")) r.if_none_match = std::string(value);
    if (ascii_iequals(name, "Content-Type")) r.content_type = std::string(value);
    if (ascii_iequals(name, "Transfer-Encoding"))
      return err(Code::kMalformed, "a request on a DC is one message: no transfer coding");
    if (ascii_iequals(name, "Content-Length")) {
      std::uint64_t v = 0;
      if (!decimal(value, &v) || have_length) return err(Code::kMalformed, "bad Content-Length");
      have_length = true;
      length = v;
    }
  }
  if (r.method == "GET") {
    if (!body.empty() || (have_length && length != 0))
      return err(Code::kMalformed, "GET with a body");
    return r;
  }
  if (!have_length) return err(Code::kMalformed, "POST without Content-Length");
  if (length > max_body) return err(Code::kTooLarge, "request body over the limit");
  if (length != body.size()) return err(Code::kMalformed, "body differs from Content-Length");
  r.body = std::string(body);
  return r;
}

Result<std::string> build_response_head(int status, std::string_view reason,
                                        const std::vector<HttpHeader>& headers,
                                        std::int64_t content_length) {
  if (status < 100 || status > 599 || !clean(reason, true))
    return err(Code::kInvalidArgument, "bad status line");
  std::string head = "HTTP/1.1 " + std::to_string(status) + " ";
  head.append(reason).append("\r\n");
  for (const HttpHeader& h : headers) {
    if (!token(h.name) || !clean(h.value, true) || ascii_iequals(h.name, "Content-Length") ||
        ascii_iequals(h.name, "Transfer-Encoding"))
      return err(Code::kInvalidArgument, "bad response header");
    head.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (content_length >= 0) {
    head.append("Content-Length: ").append(std::to_string(content_length)).append("\r\n\r\n");
  } else {
    head.append("Transfer-Encoding: chunked\r\n\r\n");
  }
  return head;
}

Result<std::vector<Bytes>> build_response(int status, std::string_view reason,
                                          const std::vector<HttpHeader>& headers, ByteSpan body,
                                          std::size_t max_message) {
  if (max_message < 64) return err(Code::kInvalidArgument, "message size below 64");
  Result<std::string> head =
      build_response_head(status, reason, headers, static_cast<std::int64_t>(body.size()));
  if (!head.is_ok()) return head.status();
  Bytes all(head->begin(), head->end());
  all.insert(all.end(), body.begin(), body.end());
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < all.size(); i += max_message) {
    const std::size_t n = std::min(max_message, all.size() - i);
    out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(i),
                     all.begin() + static_cast<std::ptrdiff_t>(i + n));
  }
  return out;
}

HttpResponseParser::HttpResponseParser() : HttpResponseParser(Limits()) {}
HttpResponseParser::HttpResponseParser(const Limits& limits) : limits_(limits) {}

void HttpResponseParser::reset() {
  state_ = State::kHead;
  error_ = Status::ok();
  head_.clear();
  line_.clear();
  trailer_bytes_ = 0;
  remaining_ = 0;
  body_bytes_ = 0;
  response_ = HttpResponse();
}

Status HttpResponseParser::fail(Status s) {
  state_ = State::kFailed;
  error_ = s;
  response_ = HttpResponse();
  return s;
}

// Collects one line (up to LF, bounded to 256 bytes) across feeds; *got when complete, with
// the line (without CR LF) in *out.
Status HttpResponseParser::on_byte_line(ByteSpan data, std::size_t* used, std::string* out,
                                        bool* got) {
  *got = false;
  while (*used < data.size()) {
    const char c = static_cast<char>(data[(*used)++]);
    if (c == '\n') {
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      *out = std::move(line_);
      line_.clear();
      *got = true;
      return Status::ok();
    }
    if (line_.size() >= 256) return err(Code::kTooLarge, "chunk line too long");
    line_.push_back(c);
  }
  return Status::ok();
}

Status HttpResponseParser::line(std::string_view l) {
  if (response_.status == 0) {
    // Status line: HTTP/1.x SP 3DIGIT SP reason
    if (l.size() < 12 || (l.substr(0, 9) != "HTTP/1.1 " && l.substr(0, 9) != "HTTP/1.0 "))
      return err(Code::kMalformed, "bad HTTP status line");
    std::uint64_t code = 0;
    if (!decimal(l.substr(9, 3), &code) || code < 100 || code > 599 ||
        (l.size() > 12 && l[12] != ' '))
      return err(Code::kMalformed, "bad HTTP status code");
    response_.status = static_cast<int>(code);
    response_.reason = std::string(l.size() > 13 ? l.substr(13) : std::string_view());
    if (!clean(response_.reason, true)) return err(Code::kMalformed, "bad reason phrase");
    return Status::ok();
  }
  if (l.front() == ' ' || l.front() == '\t') return err(Code::kMalformed, "folded header");
  const std::size_t colon = l.find(':');
  if (colon == std::string_view::npos || !token(l.substr(0, colon)))
    return err(Code::kMalformed, "bad header field");
  const std::string_view value = trim(l.substr(colon + 1));
  if (!clean(value, true)) return err(Code::kMalformed, "control character in header");
  if (response_.headers.size() >= limits_.max_headers)
    return err(Code::kTooLarge, "too many headers");
  response_.headers.push_back(HttpHeader{std::string(l.substr(0, colon)), std::string(value)});
  return Status::ok();
}

Status HttpResponseParser::parse_head() {
  std::string_view rest(head_);
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view l = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) break; // the blank line
    IMSDC_TRY(line(l));
  }
  head_.clear();
  if (response_.status == 0) return err(Code::kMalformed, "no status line");
  if (response_.status < 200) return err(Code::kMalformed, "interim response on a DC");
  // Framing (RFC 9112 section 6): chunked, or one agreed Content-Length, never both.
  bool chunked = false;
  bool have_length = false;
  std::uint64_t length = 0;
  for (const HttpHeader& h : response_.headers) {
    if (ascii_iequals(h.name, "Transfer-Encoding")) {
      if (!ascii_iequals(h.value, "chunked") || chunked)
        return err(Code::kMalformed, "unsupported transfer coding");
      chunked = true;
    } else if (ascii_iequals(h.name, "Content-Length")) {
      std::uint64_t v = 0;
      if (!decimal(h.value, &v)) return err(Code::kMalformed, "bad Content-Length");
      if (have_length && v != length) return err(Code::kMalformed, "conflicting Content-Length");
      have_length = true;
      length = v;
    }
  }
  if (chunked && have_length) return err(Code::kMalformed, "Content-Length with chunked");
  if (response_.status == 204 || response_.status == 304) {
    state_ = State::kDone; // no body, whatever the headers say
  } else if (chunked) {
    state_ = State::kChunkSize;
  } else if (!have_length) {
    return err(Code::kMalformed, "response body without Content-Length or chunked");
  } else if (length > limits_.max_body) {
    return err(Code::kTooLarge, "response body over the limit");
  } else {
    remaining_ = length;
    if (sink_.on_body == nullptr) response_.body.reserve(static_cast<std::size_t>(remaining_));
    state_ = remaining_ == 0 ? State::kDone : State::kBody;
  }
  if (sink_.on_head != nullptr && sink_.on_head(sink_.user, response_) < 0)
    return err(Code::kIo, "the response consumer stopped");
  return Status::ok();
}

Status HttpResponseParser::body(ByteSpan piece) {
  body_bytes_ += piece.size();
  if (sink_.on_body == nullptr) {
    response_.body.insert(response_.body.end(), piece.begin(), piece.end());
  } else if (sink_.on_body(sink_.user, piece.data(), piece.size()) < 0) {
    return err(Code::kIo, "the response consumer stopped");
  }
  return Status::ok();
}

Status HttpResponseParser::feed(ByteSpan data) {
  if (state_ == State::kFailed) return error_;
  std::size_t i = 0;
  std::string l;
  bool got = false;
  while (i < data.size()) {
    switch (state_) {
    case State::kHead: {
      const char c = static_cast<char>(data[i++]);
      if (head_.size() >= limits_.max_head)
        return fail(err(Code::kTooLarge, "HTTP head too large"));
      head_.push_back(c);
      if (c != '\n') break;
      if (head_ == "\n" || head_ == "\r\n") { // empty lines before the status line
        head_.clear();
        break;
      }
      const std::size_t n = head_.size();
      if ((n >= 2 && head_[n - 2] == '\n') ||
          (n >= 3 && head_[n - 2] == '\r' && head_[n - 3] == '\n')) {
        Status s = parse_head();
        if (!s.is_ok()) return fail(s);
      }
      break;
    }
    case State::kBody:
    case State::kChunkData: {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - i));
      Status s = body(ByteSpan(data.data() + i, n));
      if (!s.is_ok()) return fail(s);
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::kBody ? State::kDone : State::kChunkEnd;
      break;
    }
    case State::kChunkSize: {
      Status s = on_byte_line(data, &i, &l, &got);
      if (!s.is_ok()) return fail(s);
      if (!got) break;
      std::string_view size = std::string_view(l).substr(0, l.find(';')); // extensions ignored
      size = trim(size);
      std::uint64_t v = 0;
      if (size.empty() || size.size() > 8) return fail(err(Code::kMalformed, "bad chunk size"));
      for (char c : size) {
        const int d = (c >= '0' && c <= '9')   ? c - '0'
                      : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                               : -1;
        if (d < 0) return fail(err(Code::kMalformed, "bad chunk size"));
        v = v * 16 + static_cast<std::uint64_t>(d);
      }
      if (v == 0) {
        state_ = State::kTrailer;
      } else if (v > limits_.max_body - body_bytes_) {
        return fail(err(Code::kTooLarge, "response body over the limit"));
      } else {
        remaining_ = v;
        state_ = State::kChunkData;
      }
      break;
    }
    case State::kChunkEnd: {
      Status s = on_byte_line(data, &i, &l, &got);
      if (!s.is_ok()) return fail(s);
      if (got && !l.empty()) return fail(err(Code::kMalformed, "chunk not followed by CRLF"));
      if (got) state_ = State::kChunkSize;
      break;
    }
    case State::kTrailer: {
      Status s = on_byte_line(data, &i, &l, &got);
      if (!s.is_ok()) return fail(s);
      if (!got) break;
      trailer_bytes_ += l.size();
      if (trailer_bytes_ > limits_.max_head) return fail(err(Code::kTooLarge, "trailer too large"));
      if (l.empty()) state_ = State::kDone; // trailer fields are not kept
      break;
    }
    case State::kDone:
      return fail(err(Code::kMalformed, "bytes after the end of the response"));
    case State::kFailed:
      return error_;
    }
  }
  return Status::ok();
}

HttpCache::HttpCache(std::size_t max_entries, std::size_t max_body)
    : max_entries_(max_entries), max_body_(max_body) {}

const HttpCache::Entry* HttpCache::find(std::string_view path) const {
  for (const Entry& e : entries_) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

Result<std::string> HttpCache::request(std::string_view path, std::string_view host) const {
  const Entry* e = find(path);
  return build_get(path, host, e != nullptr ? std::string_view(e->etag) : std::string_view());
}

Result<Bytes> HttpCache::take(std::string_view path, HttpResponse&& response) {
  if (response.status == 304) {
    const Entry* e = find(path);
    if (e == nullptr) return err(Code::kRejected, "304 for a path not in the cache");
    return e->body;
  }
  if (response.status == 404) return err(Code::kNotFound, "HTTP 404");
  if (response.status < 200 || response.status > 299)
    return err(Code::kRejected, "HTTP error status");
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.path == path; }),
                 entries_.end());
  const std::string* etag = response.header("ETag");
  if (etag != nullptr && !etag->empty() && response.body.size() <= max_body_ && max_entries_ > 0) {
    if (entries_.size() >= max_entries_) entries_.erase(entries_.begin());
    entries_.push_back(Entry{std::string(path), *etag, response.body});
  }
  return std::move(response.body);
}

} // namespace imsdc::dc
