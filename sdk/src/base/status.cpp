#include "imsdc/status.h"

namespace imsdc {
namespace {

struct CodeInfo {
  const char* name;
  const char* message;
  ExitClass exit;
};

// Indexed by Code value; names are the stable error classes of PROTOCOL_PROFILE.md.
constexpr CodeInfo kCodes[] = {
    {"ok", "success", ExitClass::kSuccess},
    {"invalid_argument", "invalid argument", ExitClass::kUsage},
    {"malformed", "input is malformed", ExitClass::kVerification},
    {"too_large", "input exceeds a configured limit", ExitClass::kVerification},
    {"bad_key", "key is not valid for this use", ExitClass::kVerification},
    {"binding", "value does not bind to what it must", ExitClass::kVerification},
    {"auth_failed", "integrity check failed", ExitClass::kVerification},
    {"expired", "outside its validity period", ExitClass::kVerification},
    {"key_used", "single-use key already consumed", ExitClass::kVerification},
    {"io", "storage or file I/O failed", ExitClass::kIo},
    {"not_found", "not found", ExitClass::kIo},
    {"unsupported", "not supported", ExitClass::kVerification},
    {"bad_signature", "signature does not verify", ExitClass::kVerification},
    {"untrusted", "certificate is not trusted", ExitClass::kVerification},
    {"no_memory", "out of memory", ExitClass::kInternal},
    {"would_block", "operation would block", ExitClass::kInternal},
    {"closed", "connection closed", ExitClass::kNetwork},
    {"timeout", "timed out", ExitClass::kNetwork},
    {"internal", "internal error", ExitClass::kInternal},
    {"rejected", "refused by the peer", ExitClass::kRefused},
    {"auth_rejected", "authentication rejected by the peer", ExitClass::kAuth},
    {"tls", "TLS or certificate failure", ExitClass::kTls},
    {"network", "network failure", ExitClass::kNetwork},
    {"state", "not valid in the current state", ExitClass::kInternal},
    {"port_failure", "a port function failed", ExitClass::kInternal},
    {"entropy", "entropy source failed", ExitClass::kInternal},
};

constexpr const char* kModules[] = {"none",      "base", "crypto", "port",     "sip", "sdp",
                                    "transport", "dc",   "avatar", "identity", "cli"};

const CodeInfo& info(Code c) {
  auto i = static_cast<unsigned>(c);
  if (i >= sizeof(kCodes) / sizeof(kCodes[0])) i = static_cast<unsigned>(Code::kInternal);
  return kCodes[i];
}

} // namespace

const char* code_name(Code code) {
  return info(code).name;
}

const char* module_name(Module module) {
  auto i = static_cast<unsigned>(module);
  return i < sizeof(kModules) / sizeof(kModules[0]) ? kModules[i] : "unknown";
}

const char* Status::name() const {
  return info(code_).name;
}
const char* Status::message() const {
  return detail_ ? detail_ : info(code_).message;
}
ExitClass Status::exit_class() const {
  return info(code_).exit;
}

} // namespace imsdc

#include "imsdc/version.h"

namespace imsdc {
const char* version_string() {
  return IMSDC_VERSION_STRING;
}
} // namespace imsdc
