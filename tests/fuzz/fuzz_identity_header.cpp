// Identity header parser: no crash on any input; a parsed header's parts are views into the
// input, and the JWS it found has exactly three segments.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "identity/identity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto h = imsdc::identity::parse_identity_header(in);
  if (!h.is_ok()) return 0;
  const char* begin = in.data();
  const char* end = in.data() + in.size();
  for (std::string_view part : {h->jws, h->info, h->alg, h->ppt}) {
    if (!part.empty() && (part.data() < begin || part.data() + part.size() > end)) std::abort();
  }
  if (std::count(h->jws.begin(), h->jws.end(), '.') != 2 || h->info.empty()) std::abort();
  if (!h->alg.empty() && h->alg != "ES256") std::abort();
  return 0;
}
