// A local certificate cache for the identity CertificateFetcher (--certs DIR): the resource
// named by an x5u / jcl / icn URL is the file in DIR named by the URL's last path segment.
// Nothing is fetched over the network. Header-only, so that any CLI command can use it.
#ifndef IMSDC_SAMPLES_CLI_CERT_DIR_H
#define IMSDC_SAMPLES_CLI_CERT_DIR_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli.h"
#include "identity/identity.h"

namespace imsdc::cli {

// CertificateFetcher::fetch over a directory; ctx is a const std::string* naming it. Never
// leaves the directory (the name has no '/', and "." / ".." are refused); query and fragment
// are ignored. Returns -1 when the file is missing or larger than cap.
inline int cert_dir_fetch(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out,
                          std::size_t cap, std::size_t* out_len) {
  const auto* dir = static_cast<const std::string*>(ctx);
  std::string u(url, url_len);
  std::size_t q = u.find_first_of("?#");
  if (q != std::string::npos) u.resize(q);
  std::size_t slash = u.rfind('/');
  std::string name = slash == std::string::npos ? u : u.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return -1;
  auto data = read_file(*dir + "/" + name, cap);
  if (!data || data.value().size() > cap) return -1;
  std::copy(data.value().begin(), data.value().end(), out);
  *out_len = data.value().size();
  return 0;
}

// The fetcher for DIR (dir must outlive it).
inline identity::CertificateFetcher cert_dir_fetcher(const std::string* dir) {
  identity::CertificateFetcher f;
  f.fetch = cert_dir_fetch;
  f.ctx = const_cast<std::string*>(dir); // NOLINT(cppcoreguidelines-pro-type-const-cast): read only
  return f;
}

} // namespace imsdc::cli

#endif // IMSDC_SAMPLES_CLI_CERT_DIR_H
