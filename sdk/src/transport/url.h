// URL parsing for the libwebsockets adapters (wss://, ws://, https://, http://).
//
// A pure function over a string, kept apart from the lws code so that it can be unit tested
// and fuzzed without a network.
#ifndef IMSDC_SRC_TRANSPORT_URL_H
#define IMSDC_SRC_TRANSPORT_URL_H

#include <cstdint>
#include <string>
#include <string_view>

#include "imsdc/status.h"

namespace imsdc::transport {

// Longest URL accepted; longer input is rejected rather than truncated.
constexpr std::size_t kMaxUrlLength = 2048;

struct Url {
  std::string scheme; // lower case: "wss", "ws", "https" or "http"
  std::string host;   // without brackets for an IPv6 literal
  std::uint16_t port = 0;
  std::string path; // starts with '/', includes any query; "/" when absent
  bool tls = false; // wss or https
};

// Parses scheme://host[:port][/path]. The scheme is case-insensitive; the port defaults to
// 443 (wss, https) or 80 (ws, http). User information ("user@") and fragments are refused:
// credentials never travel in a URL and a fragment is never sent.
// Errors: kInvalidArgument (empty, too long, control characters or spaces), kMalformed
// (syntax, bad port), kUnsupported (another scheme).
Result<Url> parse_url(std::string_view text);

} // namespace imsdc::transport

#endif // IMSDC_SRC_TRANSPORT_URL_H
