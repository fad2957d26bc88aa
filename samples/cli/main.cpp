// imsdc: the command-line face of the SDK (PROTOCOL_PROFILE.md section 11).
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"
#include "imsdc/port_posix.h"
#include "imsdc/version.h"

namespace {

constexpr const char* kUsage =
    "usage: imsdc [--now EPOCH] <command> [options]\n"
    "\n"
    "commands:\n"
    "  keygen      create the device key, a CSR and a self-signed fallback certificate\n"
    "  cert        import the CA-issued device certificate, or show a certificate\n"
    "  jws         sign claims with the device key, or verify a JWS with x5c\n"
    "  avatar      avatar tokens, protected representation decryption, manifest check\n"
    "  identity    verify a caller's identity (PASSporT, Rich Call Data, verstat) in an INVITE\n"
    "  register    register an IMPU with the eP-CSCF over WSS, hold, de-register\n"
    "  call        register and place a SIP call (100rel, UPDATE, re-INVITE, session timer)\n"
    "  answer      register, wait for one call, answer it, print what arrived\n"
    "  avatar-call the demo UE: a call with data channels and the three avatar sessions\n"
    "  mf          the labnet media function: B2BUA, bootstrap channel, DC AS (demo)\n"
    "  dc peer     one data-channel endpoint over UDP: SDP files, ICE, DTLS, SCTP, messages\n"
    "  sdp offer   print an IMS data-channel SDP offer (bootstrap and application channels)\n"
    "  bench       benchmarks: crypto (against raw mbedTLS), sip (captured INVITE, registration),\n"
    "              avatar (streaming decrypt, attestation)\n"
    "  version     print the library version\n"
    "\n"
    "'imsdc <command> --help' describes each command.\n"
    "exit codes: 0 ok, 2 usage, 3 verification failed, 4 I/O, 5 authentication rejected,\n"
    "            6 TLS/certificate, 7 network, 8 refused by the peer, 9 internal\n";

} // namespace

int main(int argc, char** argv) {
  int i = 1;
  // Global option: --now EPOCH makes every time check use that wall-clock instant.
  while (i < argc && std::strncmp(argv[i], "--now", 5) == 0) {
    std::string v;
    if (argv[i][5] == '=') {
      v = argv[i] + 6;
      i += 1;
    } else if (i + 1 < argc) {
      v = argv[i + 1];
      i += 2;
    } else {
      return imsdc::cli::usage_error("--now needs a value");
    }
    char* end = nullptr;
    long long t = std::strtoll(v.c_str(), &end, 10);
    if (!end || *end || t < 0)
      return imsdc::cli::usage_error("--now takes seconds since the epoch");
    imsdc::posix::set_wall_clock_override(t);
  }
  if (i >= argc || !std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
    std::fputs(kUsage, i >= argc ? stderr : stdout);
    return i >= argc ? 2 : 0;
  }
  std::string cmd = argv[i];
  int sub_argc = argc - i;
  char** sub_argv = argv + i;
  if (cmd == "version") {
    std::printf("imsdc %s\n", imsdc::version_string());
    return 0;
  }
  if (cmd == "keygen") return imsdc::cli::cmd_keygen(sub_argc, sub_argv);
  if (cmd == "cert") return imsdc::cli::cmd_cert(sub_argc, sub_argv);
  if (cmd == "jws") return imsdc::cli::cmd_jws(sub_argc, sub_argv);
  if (cmd == "identity") return imsdc::cli::cmd_identity(sub_argc, sub_argv);
  if (cmd == "register") return imsdc::cli::cmd_register(sub_argc, sub_argv);
  if (cmd == "call") return imsdc::cli::cmd_call(sub_argc, sub_argv);
  if (cmd == "answer") return imsdc::cli::cmd_answer(sub_argc, sub_argv);
  if (cmd == "avatar-call") return imsdc::cli::cmd_avatar_call(sub_argc, sub_argv);
  if (cmd == "mf") return imsdc::cli::cmd_mf(sub_argc, sub_argv);
  if (cmd == "avatar") return imsdc::cli::cmd_avatar(sub_argc, sub_argv);
  if (cmd == "bench") return imsdc::cli::cmd_bench(sub_argc, sub_argv);
  if (cmd == "dc") return imsdc::cli::cmd_dc(sub_argc, sub_argv);
  if (cmd == "sdp") return imsdc::cli::cmd_sdp(sub_argc, sub_argv);
  return imsdc::cli::usage_error("unknown command '" + cmd + "'");
}
