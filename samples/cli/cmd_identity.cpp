// imsdc identity verify: the caller card of a received INVITE (PROTOCOL_PROFILE.md section 10).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "cert_dir.h"
#include "cli.h"
#include "identity/identity.h"
#include "imsdc/crypto.h"
#include "sip/message.h"
#ifdef IMSDC_CLI_WITH_LWS
#include "imsdc/transport_lws.h"
#endif

namespace imsdc::cli {
namespace {

constexpr const char* kHelp =
    "usage: imsdc [--now EPOCH] identity verify --invite FILE --trust ROOTS.pem\n"
    "                                           [--certs DIR | --allow-fetch --ca CA.pem]\n"
    "                                           [--iat-window S]\n"
    "\n"
    "Verifies the Identity headers (PASSporT: SHAKEN, Rich Call Data) and verstat of a SIP\n"
    "INVITE and prints its caller card as JSON: every field with its own status\n"
    "(verified_network, verified_e2e, not_attested, unverified, failed). Certificates (x5u)\n"
    "and linked Rich Call Data (jcl, icn) are read from DIR by the last path segment of\n"
    "their URL; with --allow-fetch they are fetched over HTTPS instead (server trusted by\n"
    "CA.pem, at most 64 KiB and 5 s each, each URL once per run). Exit 0 when the INVITE\n"
    "parsed, 3 when it carries an Identity header and no PASSporT verifies.\n";

#ifdef IMSDC_CLI_WITH_LWS
// x5u / jcl / icn over HTTPS: one blocking GET per URL, bounded in size and time, each URL
// fetched once per run (a SHAKEN and an rcd PASSporT usually share their x5u).
struct HttpsFetcher {
  const imsdc_http_client* http = nullptr;
  std::string ca;
  std::map<std::string, Bytes> cache;
};

struct Exchange {
  std::uint8_t* out;
  std::size_t cap;
  std::size_t len = 0;
  int status = 0;
  bool done = false;
  int result = 0;
};

constexpr std::uint32_t kFetchTimeoutMs = 5000;

int https_fetch(void* ctx, const char* url, std::size_t url_len, std::uint8_t* out, std::size_t cap,
                std::size_t* out_len) {
  auto* f = static_cast<HttpsFetcher*>(ctx);
  const std::string u(url, url_len);
  auto hit = f->cache.find(u);
  if (hit == f->cache.end()) {
    Bytes body(cap);
    Exchange x{body.data(), cap};
    imsdc_http_events ev{};
    ev.user = &x;
    ev.on_response = [](void* user, int status, const char*, std::int64_t) {
      static_cast<Exchange*>(user)->status = status;
    };
    ev.on_body = [](void* user, const std::uint8_t* data, std::size_t len) {
      auto* e = static_cast<Exchange*>(user);
      if (len > e->cap - e->len) return -1;
      std::memcpy(e->out + e->len, data, len);
      e->len += len;
      return 0;
    };
    ev.on_done = [](void* user, int result) {
      auto* e = static_cast<Exchange*>(user);
      e->done = true;
      e->result = result;
    };
    imsdc_http_request req{};
    req.method = "GET";
    req.url = u.c_str();
    req.ca_file = f->ca.c_str();
    req.max_body = cap;
    req.timeout_ms = kFetchTimeoutMs;
    if (f->http->request(f->http->ctx, &req, &ev) != 0) return -1;
    // The client ends the exchange at timeout_ms; the loop bound is a second guard.
    for (std::uint32_t waited = 0; !x.done && waited < kFetchTimeoutMs + 1000; waited += 50)
      (void)f->http->poll(f->http->ctx, 50);
    if (!x.done) f->http->cancel(f->http->ctx);
    if (!x.done || x.result != 0 || x.status != 200) return -1;
    body.resize(x.len);
    hit = f->cache.emplace(u, std::move(body)).first;
  }
  if (hit->second.size() > cap) return -1;
  std::copy(hit->second.begin(), hit->second.end(), out);
  *out_len = hit->second.size();
  return 0;
}
#endif

int verify(const Args& a) {
  if (!a.has("--invite")) return usage_error("identity verify needs --invite FILE");
  if (!a.has("--trust")) return usage_error("identity verify needs --trust ROOTS.pem");
  if (a.has("--allow-fetch") && (a.has("--certs") || !a.has("--ca")))
    return usage_error("--allow-fetch needs --ca CA.pem and excludes --certs");
#ifndef IMSDC_CLI_WITH_LWS
  if (a.has("--allow-fetch")) return usage_error("this imsdc is built without HTTPS");
#endif
  long window = identity::kDefaultIatWindow;
  if (a.has("--iat-window")) {
    const std::string arg = a.get("--iat-window"); // end points into it: keep it alive
    char* end = nullptr;
    window = std::strtol(arg.c_str(), &end, 10);
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
  cfg.fetcher.fetch = cert_dir_fetch;
  cfg.fetcher.ctx = &dir;
#ifdef IMSDC_CLI_WITH_LWS
  std::unique_ptr<transport::HttpsClient> client;
  HttpsFetcher https;
  if (a.has("--allow-fetch")) {
    auto c = transport::HttpsClient::create();
    if (!c) return fail(c.status(), "HTTPS client");
    client = std::move(c.value());
    https.http = client->port();
    https.ca = a.get("--ca");
    cfg.fetcher.fetch = https_fetch;
    cfg.fetcher.ctx = &https;
  }
#endif
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
  if (!a.parse(argc, argv, 1, {"--help", "--allow-fetch"},
               {"--invite", "--trust", "--certs", "--iat-window", "--ca"}))
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
