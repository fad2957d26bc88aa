// PASSporT claims parser (SHAKEN and Rich Call Data): no crash on any input, and what it
// accepts keeps its invariants: attest is A, B, C or empty (empty never for ppt shaken),
// orig and every dest number are normalized digits, dest is bounded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "identity/identity.h"

namespace {

bool digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the PASSporT type the header declared.
  const char* ppts[] = {"shaken", "rcd", ""};
  std::string_view ppt = size ? ppts[data[0] % 3] : "";
  auto c = imsdc::identity::parse_passport_claims(in.substr(size ? 1 : 0), ppt);
  if (!c.is_ok()) return 0;
  const std::string& a = c->attest;
  if (!(a.empty() || a == "A" || a == "B" || a == "C")) std::abort();
  if (a.empty() && ppt == "shaken") std::abort();
  if (!digits(c->orig) || c->iat < 0 || !c->json) std::abort();
  if (c->dest.size() > imsdc::identity::kMaxDestNumbers) std::abort();
  for (const std::string& d : c->dest) {
    if (!digits(d)) std::abort();
  }
  return 0;
}
