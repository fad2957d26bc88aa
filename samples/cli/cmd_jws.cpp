// imsdc jws sign|verify.
#include <cjson/cJSON.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cli.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"

namespace imsdc::cli {
namespace {

constexpr const char* kHelp =
    "usage: imsdc jws sign (--dir D | --key F [--cert F] | --pkcs11 MODULE --token L --pin-file "
    "F)\n"
    "                      --claims FILE [--typ T] [--no-x5c] [--stamp [--lifetime S]]\n"
    "       imsdc jws verify --trust CA.pem [--typ T] [--no-identity-check] [--json] TOKEN|FILE|-\n"
    "\n"
    "sign: ES256 compact JWS of the JSON claims in FILE, signed by the device key (which never\n"
    "leaves the keystore), header {alg, typ, x5c = the device certificate chain}. --stamp adds\n"
    "iat, exp (iat + lifetime, default 60 s) and a random jti where the claims lack them.\n"
    "verify: checks the x5c chain against the trust anchors at the current time (--now to\n"
    "override), the signature, typ, that iss (or sub) equals the leaf certificate's URI\n"
    "subjectAltName, and exp. Prints the claims; exit 3 when any check fails.\n";

int sign(const Args& a) {
  if (!a.has("--claims")) return usage_error("jws sign needs --claims FILE");
  auto claims = read_text(a.get("--claims"), 64 * 1024);
  if (!claims) return fail(claims.status(), a.get("--claims"));
  std::string payload = claims.value();
  cJSON* obj = cJSON_ParseWithLength(payload.data(), payload.size());
  if (!obj || !cJSON_IsObject(obj)) {
    cJSON_Delete(obj);
    return fail(Status(Code::kMalformed, Module::kCli, "claims are not a JSON object"),
                a.get("--claims"));
  }
  if (a.has("--stamp")) {
    std::int64_t now = now_s();
    long lifetime = std::atol(a.get("--lifetime", "60").c_str());
    if (!cJSON_HasObjectItem(obj, "iat"))
      cJSON_AddNumberToObject(obj, "iat", static_cast<double>(now));
    if (!cJSON_HasObjectItem(obj, "exp"))
      cJSON_AddNumberToObject(obj, "exp", static_cast<double>(now + lifetime));
    if (!cJSON_HasObjectItem(obj, "jti")) {
      std::uint8_t r[16];
      if (!crypto::random_bytes(r, sizeof r)) {
        cJSON_Delete(obj);
        return fail(Status(Code::kEntropy, Module::kCli));
      }
      cJSON_AddStringToObject(obj, "jti", base64url_encode(ByteSpan(r, sizeof r)).c_str());
    }
  }
  char* text = cJSON_PrintUnformatted(obj);
  cJSON_Delete(obj);
  if (!text) return fail(Status(Code::kNoMemory, Module::kCli));
  payload = text;
  cJSON_free(text);
  auto ks = open_keystore(a);
  if (!ks) return fail(ks.status(), "keystore");
  auto jws =
      jose::jws_sign(*ks.value()->port(), ByteSpan(payload), a.get("--typ"), !a.has("--no-x5c"));
  if (!jws) return fail(jws.status(), "signing");
  std::printf("%s\n", jws.value().c_str());
  return 0;
}

int verify(const Args& a) {
  if (!a.has("--trust")) return usage_error("jws verify needs --trust CA.pem");
  if (a.positional().size() != 2)
    return usage_error("jws verify needs one token (text, file or -)");
  std::string arg = a.positional()[1];
  std::string token;
  // A compact JWS is "x.y.z"; anything else names a file.
  if (arg != "-" && arg.find('/') == std::string::npos &&
      std::count(arg.begin(), arg.end(), '.') == 2 && arg.find(' ') == std::string::npos &&
      arg.size() > 20) {
    token = arg;
  } else {
    auto t = read_text(arg, 1u << 20);
    if (!t) return fail(t.status(), arg);
    token = trim(t.value());
  }
  auto pem = read_text(a.get("--trust"));
  if (!pem) return fail(pem.status(), a.get("--trust"));
  crypto::TrustStore trust;
  Status s = trust.add_pem(pem.value());
  if (!s) return fail(s, a.get("--trust"));
  jose::VerifyOptions opt;
  opt.trust = &trust;
  opt.now_s = now_s();
  std::string typ = a.get("--typ");
  opt.expect_typ = typ;
  opt.identity_is_leaf_uri = !a.has("--no-identity-check");
  auto v = jose::jws_verify_x5c(token, opt);
  if (!v) return fail(v.status(), "JWS");
  if (a.has("--json")) {
    std::printf("{\"valid\":true,\"identity\":\"%s\",\"header\":%s,\"claims\":%s}\n",
                v.value().identity.c_str(), v.value().header_json.c_str(),
                v.value().payload_json.c_str());
  } else {
    std::printf("%s\n", v.value().payload_json.c_str());
    std::fprintf(stderr, "imsdc: verified: signed by %s (%s)\n", v.value().leaf.subject.c_str(),
                 v.value().identity.empty() ? "identity not checked" : v.value().identity.c_str());
  }
  return 0;
}

} // namespace

int cmd_jws(int argc, char** argv) {
  Args a;
  std::vector<std::string> valued = kKeystoreOptions;
  for (const char* o : {"--claims", "--typ", "--trust", "--lifetime"})
    valued.push_back(o);
  if (!a.parse(argc, argv, 1, {"--help", "--json", "--no-x5c", "--stamp", "--no-identity-check"},
               valued))
    return usage_error(a.error());
  if (a.has("--help") || a.positional().empty()) {
    std::fputs(kHelp, a.has("--help") ? stdout : stderr);
    return a.has("--help") ? 0 : 2;
  }
  const std::string& sub = a.positional()[0];
  if (sub == "sign") return sign(a);
  if (sub == "verify") return verify(a);
  return usage_error("unknown jws command '" + sub + "'");
}

} // namespace imsdc::cli
