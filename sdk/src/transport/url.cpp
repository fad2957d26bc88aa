#include "transport/url.h"

namespace imsdc::transport {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

} // namespace

Result<Url> parse_url(std::string_view text) {
  if (text.empty() || text.size() > kMaxUrlLength) {
    return Status(Code::kInvalidArgument, Module::kTransport, "URL empty or too long");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status(Code::kInvalidArgument, Module::kTransport, "URL has a space or control");
    }
  }
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return Status(Code::kMalformed, Module::kTransport, "URL has no scheme");
  }
  Url url;
  for (char c : text.substr(0, sep))
    url.scheme.push_back(lower(c));
  if (url.scheme == "wss" || url.scheme == "https") {
    url.tls = true;
    url.port = 443;
  } else if (url.scheme == "ws" || url.scheme == "http") {
    url.port = 80;
  } else {
    return Status(Code::kUnsupported, Module::kTransport, "URL scheme not supported");
  }

  std::string_view rest = text.substr(sep + 3);
  const std::size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path =
      path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos) {
    return Status(Code::kMalformed, Module::kTransport, "URL user information not allowed");
  }
  if (path.find('#') != std::string_view::npos) {
    return Status(Code::kMalformed, Module::kTransport, "URL fragment not allowed");
  }

  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 2) {
      return Status(Code::kMalformed, Module::kTransport, "URL IPv6 literal not closed");
    }
    host = authority.substr(1, close - 1);
    for (char c : host) {
      const bool hex = (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
      if (!hex && c != ':' && c != '.') {
        return Status(Code::kMalformed, Module::kTransport, "URL IPv6 literal malformed");
      }
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Status(Code::kMalformed, Module::kTransport, "URL port");
      port_text = after.substr(1);
      if (port_text.empty()) return Status(Code::kMalformed, Module::kTransport, "URL port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Status(Code::kMalformed, Module::kTransport, "URL port");
    }
    for (char c : host) {
      if (!is_host_char(c)) {
        return Status(Code::kMalformed, Module::kTransport, "URL host malformed");
      }
    }
  }
  if (host.empty() || host.size() > 253) {
    return Status(Code::kMalformed, Module::kTransport, "URL host missing or too long");
  }
  if (!port_text.empty()) {
    std::uint32_t port = 0;
    if (port_text.size() > 5) return Status(Code::kMalformed, Module::kTransport, "URL port");
    for (char c : port_text) {
      if (c < '0' || c > '9') return Status(Code::kMalformed, Module::kTransport, "URL port");
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return Status(Code::kMalformed, Module::kTransport, "URL port out of range");
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  url.host.assign(host.data(), host.size());
  if (path.empty()) {
    url.path = "/";
  } else if (path.front() == '?') {
    url.path = "/";
    url.path.append(path.data(), path.size());
  } else {
    url.path.assign(path.data(), path.size());
  }
  return url;
}

} // namespace imsdc::transport
