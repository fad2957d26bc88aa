// imsdc identity verify: the caller card of a received INVITE (PROTOCOL_PROFILE.md section 10).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli.h"
#include "identity/identity.h"
#include "imsdc/crypto.h"
#include "sip/message.h"

namespace imsdc::cli {
namespace {

constexpr const char* kHelp =
    "usage: imsdc [--now EPOCH] identity verify --invite FILE --trust ROOTS.pem [--certs DIR]\n"
    "                                           [--iat-window S]\n"
    "\n"
    "Verifies the Identity headers (PASSporT: SHAKEN, Rich Call Data) and verstat of a SIP\n"
    "INVITE and prints its caller card as JSON: every field with its own status\n"
    "(verified_network, verified_e2e, not_attested, unverified, failed). Certificates (x5u)\n"
    "and linked Rich Call Data (jcl, icn) are read from DIR by the last path segment of\n"
    "their URL. Exit 0 when the INVITE parsed, 3 when it carries an Identity header and no\n"
    "PASSporT verifies.\n";

// Resolves a URL to DIR/<last path segment>; never leaves DIR (no '/' or "..").
int dir_fetch(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out, std::size_t cap,
              std::size_t* out_len) {
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

int verify(const Args& a) {
  if (!a.has("--invite")) return usage_error("identity verify needs --invite FILE");
  if (!a.has("--trust")) return usage_error("identity verify needs --trust ROOTS.pem");
  long window = identity::kDefaultIatWindow;
  if (a.has("--iat-window")) {
    char* end = nullptr;
    window = std::strtol(a.get("--iat-window").c_str(), &end, 10);
    if (!end || *end || window < 0 || window > 86400)
      return usage_error("--iat-window takes seconds (0..86400)");
  }
  auto text = read_file(a.get("--invite"), IMSDC_MAX_SIP_MESSAGE + 1);
  if (!text) return fail(text.status(), a.get("--invite"));
  auto msg = sip::parse_message(text.value());
  if (!msg) return fail(msg.status(), a.get("--invite"));
  auto pem = read_text(a.get("--trust"));
  if (!pem) return fail(pem.status(), a.get("--trust"));
  crypto::TrustStore trust;
  Status s = trust.add_pem(pem.value());
  if (!s) return fail(s, a.get("--trust"));
  std::string dir = a.get("--certs", ".");
  identity::VerifyConfig cfg;
  cfg.trust = &trust;
  cfg.now_s = now_s();
  cfg.iat_window_s = window;
  cfg.fetcher.fetch = dir_fetch;
  cfg.fetcher.ctx = &dir;
  auto card = identity::verify_request(msg.value(), cfg);
  if (!card) return fail(card.status(), a.get("--invite"));
  std::printf("%s\n", identity::caller_card_json(card.value()).c_str());
  if (card->has_identity && !card->passport_verified) {
    (void)std::fprintf(stderr, "imsdc: %s: no PASSporT verifies: %s\n",
                       card->passport_status.name(), card->passport_status.message());
    return static_cast<int>(ExitClass::kVerification);
  }
  return 0;
}

} // namespace

int cmd_identity(int argc, char** argv) {
  Args a;
  if (!a.parse(argc, argv, 1, {"--help"}, {"--invite", "--trust", "--certs", "--iat-window"}))
    return usage_error(a.error());
  if (a.has("--help") || a.positional().empty()) {
    (void)std::fputs(kHelp, a.has("--help") ? stdout : stderr);
    return a.has("--help") ? 0 : 2;
  }
  const std::string& sub = a.positional()[0];
  if (sub == "verify" && a.positional().size() == 1) return verify(a);
  return usage_error("unknown identity command '" + sub + "'");
}

} // namespace imsdc::cli
