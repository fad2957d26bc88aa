// imsdc dc relay: the DC application server's relay of PROTOCOL_PROFILE.md section 7 (the
// Relay of dc_relay.h) on one data-channel link whose SDP travels through files.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "dc_link.h"
#include "dc_relay.h"

namespace imsdc::cli {
namespace {

constexpr const char* kRelayUsage =
    "usage: imsdc dc relay --sdp-in FILE --sdp-out FILE --bar URL --ca F\n"
    "                      (--key F --cert F | --dir D) [--bind ADDR]... [--timeout S]\n"
    "The DC AS relay (PROTOCOL_PROFILE section 7): answers the UE's data-channel offer (as\n"
    "imsdc dc peer --role answer does; the certificate is also its DTLS certificate), accepts\n"
    "the channel 'avatar-representation' (protocol 'http') and relays each\n"
    "POST /avatar/representation to URL/avatar/representation over mutual TLS with that\n"
    "certificate (trusting --ca), streaming the answer back. Ends when the UE closes the\n"
    "channel, on SIGTERM or at --timeout (default 120 s).\n";

} // namespace

int cmd_dc_relay(int argc, char** argv) {
  Args a;
  std::vector<std::string> valued = {"--sdp-in", "--sdp-out", "--bar",
                                     "--ca",     "--bind",    "--timeout"};
  valued.insert(valued.end(), kKeystoreOptions.begin(), kKeystoreOptions.end());
  if (!a.parse(argc, argv, 2, {"--help", "--no-ice"}, valued)) return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kRelayUsage, stdout);
    return 0;
  }
#ifndef IMSDC_CLI_WITH_LWS
  return usage_error("this imsdc is built without HTTPS");
#else
  for (const char* o : {"--sdp-in", "--sdp-out", "--bar", "--ca"})
    if (!a.has(o)) return usage_error(std::string("dc relay needs ") + o);
  std::string cert = a.get("--cert");
  std::string key = a.get("--key");
  if (a.has("--dir")) {
    key = a.get("--dir") + "/device-key.pem";
    cert = a.get("--dir") + "/device-cert.pem";
  }
  if (cert.empty() || key.empty())
    return usage_error("the relay's TLS identity is a PEM pair: --key F --cert F or --dir D");
  std::string bar = a.get("--bar");
  while (!bar.empty() && bar.back() == '/')
    bar.pop_back();
  auto http = transport::HttpsClient::create();
  if (!http.is_ok()) return fail(http.status(), "HTTPS client");
  Relay relay(bar, a.get("--ca"), cert, key, std::move(http.value()));
  LinkParams p;
  p.offerer = false;
  p.sdp_in = a.get("--sdp-in");
  p.sdp_out = a.get("--sdp-out");
  p.timeout_s = std::strtol(a.get("--timeout", "120").c_str(), nullptr, 10);
  return run_dc_link(a, p, &relay);
#endif
}

} // namespace imsdc::cli
