// Bootstrap-channel HTTP response parser: the input is split into DC messages (the first byte
// gives the piece size), fed in order. Never crash, never hold a body over the limit, and a
// failed parser stays failed; a request line built from the input is never injectable.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dc/bootstrap_http.h"

using namespace imsdc;
using namespace imsdc::dc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = static_cast<std::size_t>(data[0]) + 1;
  HttpResponseParser::Limits lim;
  lim.max_body = 4096;
  lim.max_head = 1024;
  HttpResponseParser p(lim);
  bool failed = false;
  for (std::size_t i = 1; i < size; i += piece) {
    const std::size_t n = piece < size - i ? piece : size - i;
    const Status s = p.feed(ByteSpan(data + i, n));
    if (failed && s.is_ok()) std::abort(); // failure must be sticky
    failed = failed || !s.is_ok();
    if (p.response().body.size() > lim.max_body) std::abort();
  }
  if (p.complete() && (p.response().status < 200 || p.response().status > 599)) std::abort();
  // Whatever the input, a built request has exactly one blank line, at its end.
  Result<std::string> req =
      build_get(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), "h");
  if (req.is_ok() && req->find("\r\n\r\n") != req->size() - 4) std::abort();
  // The serving side: whatever it accepts has a clean absolute path.
  Result<HttpRequest> g =
      parse_request(std::string_view(reinterpret_cast<const char*>(data), size), 4096);
  if (g.is_ok() && (g->path.empty() || g->path[0] != '/' ||
                    g->path.find_first_of(" \r\n") != std::string::npos || g->body.size() > 4096))
    std::abort();
  return 0;
}
