// imsdc keygen, imsdc cert import|show.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#if IMSDC_CLI_WITH_PKCS11
#include "imsdc/port_pkcs11.h"
#endif
#include "imsdc/port_posix.h"

namespace imsdc::cli {
namespace {

constexpr const char* kKeygenHelp =
    "usage: imsdc keygen --dir D --impu URI [--cn NAME] [--days N]\n"
    "       imsdc keygen --pkcs11 MODULE --token LABEL --pin-file F --impu URI\n"
    "                    [--key-label L] [--out-csr F] [--replace]\n"
    "\n"
    "Creates the device's P-256 key. With --dir: D/device-key.pem (mode 0600), D/device.csr\n"
    "(PKCS#10, subjectAltName URI = the IMPU, for the operator CA) and D/device-cert.pem, a\n"
    "self-signed certificate that is only a DTLS fallback until 'imsdc cert import' stores\n"
    "the CA-issued one. With --pkcs11 the key is generated inside the token, sensitive and\n"
    "non-extractable; the CSR is signed in the token and written to --out-csr (default\n"
    "device.csr). Refuses to overwrite an existing key (PKCS#11: unless --replace).\n";

constexpr const char* kCertHelp =
    "usage: imsdc cert import (--dir D | --pkcs11 MODULE --token L --pin-file F [--key-label L]) "
    "CERT\n"
    "       imsdc cert show [--json] FILE\n"
    "\n"
    "import: stores the CA-issued device certificate (PEM, optionally followed by its\n"
    "issuers) beside the key or in the token; the certificate's public key must be the\n"
    "device key. show: prints subject, issuer, validity, subjectAltNames and the RFC 8122\n"
    "SHA-256 fingerprint of a PEM or DER certificate.\n";

std::string cn_from_impu(const std::string& impu) {
  auto colon = impu.find(':');
  std::string s = colon == std::string::npos ? impu : impu.substr(colon + 1);
  auto at = s.find('@');
  return at == std::string::npos ? s : s.substr(0, at);
}

std::string iso_time(std::int64_t t) {
  // Civil-from-days (H. Hinnant), so no libc time zone state is involved.
  std::int64_t days = t / 86400, secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t doe = days - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

int keygen_dir(const Args& a) {
  std::string dir = a.get("--dir"), impu = a.get("--impu");
  ::mkdir(dir.c_str(), 0700);
  auto key = crypto::EcPrivateKey::generate();
  if (!key) return fail(key.status(), "key generation");
  auto ks = posix::PemKeystore::create(dir, std::move(key.value()));
  if (!ks) return fail(ks.status(), dir + "/device-key.pem");
  std::string cn = a.get("--cn", cn_from_impu(impu));
  auto csr = crypto::make_csr(*ks.value()->port(), cn, impu);
  if (!csr) return fail(csr.status(), "CSR");
  std::string csr_pem = crypto::csr_to_pem(csr.value());
  Status s = write_file(dir + "/device.csr", ByteSpan(csr_pem));
  if (!s) return fail(s, dir + "/device.csr");
  int days = std::atoi(a.get("--days", "365").c_str());
  auto cert = crypto::make_self_signed_cert(*ks.value()->port(), cn, impu, now_s(), days);
  if (!cert) return fail(cert.status(), "self-signed certificate");
  std::vector<Bytes> chain = {cert.value()};
  const Bytes& der = chain[0];
  const std::uint8_t* ders[] = {der.data()};
  std::size_t lens[] = {der.size()};
  if (ks.value()->port()->store_chain(ks.value()->port()->ctx, ders, lens, 1) != 0)
    return fail(Status(Code::kIo, Module::kCli, "cannot store the certificate"), dir);
  auto fp = crypto::cert_fingerprint(der);
  if (a.has("--json")) {
    std::printf(
        "{\"key\":\"%s/device-key.pem\",\"csr\":\"%s/device.csr\",\"cert\":\"%s/device-cert.pem\","
        "\"impu\":\"%s\",\"fingerprint\":\"sha-256 %s\"}\n",
        json_escape(dir).c_str(), json_escape(dir).c_str(), json_escape(dir).c_str(),
        json_escape(impu).c_str(), fp ? fp.value().c_str() : "");
  } else {
    std::printf("key:         %s/device-key.pem (P-256, mode 0600)\n", dir.c_str());
    std::printf("csr:         %s/device.csr (subjectAltName URI:%s)\n", dir.c_str(), impu.c_str());
    std::printf(
        "certificate: %s/device-cert.pem (self-signed DTLS fallback; import the CA-issued one)\n",
        dir.c_str());
    if (fp) std::printf("fingerprint: sha-256 %s\n", fp.value().c_str());
  }
  return 0;
}

int keygen_pkcs11(const Args& a) {
#if !IMSDC_CLI_WITH_PKCS11
  (void)a;
  return fail(Status(Code::kUnsupported, Module::kCli, "this build has no PKCS#11 support"));
#else
  auto pin = read_secret(a.get("--pin-file"));
  if (!pin) return fail(pin.status(), a.get("--pin-file"));
  std::string label = a.get("--key-label", "imsdc-device");
  auto tok = pkcs11::Token::open(a.get("--pkcs11"), a.get("--token"),
                                 pin.value().span().as_string(), label);
  pin.value().clear();
  if (!tok) return fail(tok.status(), "PKCS#11 token");
  Status s = tok.value()->generate_key(a.has("--replace"));
  if (!s) return fail(s, "key generation in the token");
  std::string impu = a.get("--impu");
  auto csr = crypto::make_csr(*tok.value()->port(), a.get("--cn", cn_from_impu(impu)), impu);
  if (!csr) return fail(csr.status(), "CSR signed in the token");
  std::string out = a.get("--out-csr", "device.csr");
  std::string pem = crypto::csr_to_pem(csr.value());
  s = write_file(out, ByteSpan(pem));
  if (!s) return fail(s, out);
  std::printf("key:  %s in token '%s' (P-256, sensitive, non-extractable)\n", label.c_str(),
              a.get("--token").c_str());
  std::printf("csr:  %s (subjectAltName URI:%s, signed in the token)\n", out.c_str(), impu.c_str());
  return 0;
#endif
}

int cert_import(const Args& a) {
  if (a.positional().size() != 2) return usage_error("cert import needs one certificate file");
  auto pem = read_text(a.positional()[1]);
  if (!pem) return fail(pem.status(), a.positional()[1]);
  auto certs = crypto::certs_from_pem(pem.value());
  if (!certs) return fail(certs.status(), a.positional()[1]);
  auto ks = open_keystore(a);
  if (!ks) return fail(ks.status(), "keystore");
  const imsdc_port_keystore* port = ks.value()->port();
  auto leaf = crypto::cert_info(certs.value()[0]);
  if (!leaf) return fail(leaf.status(), "certificate");
  auto pub = crypto::keystore_public_key(*port);
  if (!pub) return fail(pub.status(), "device key");
  if (!(pub.value() == leaf.value().public_key))
    return fail(Status(Code::kBinding, Module::kCli, "the certificate is not for the device key"));
  std::vector<const std::uint8_t*> ders;
  std::vector<std::size_t> lens;
  for (const auto& c : certs.value()) {
    ders.push_back(c.data());
    lens.push_back(c.size());
  }
  if (!port->store_chain ||
      port->store_chain(port->ctx, ders.data(), lens.data(), ders.size()) != 0)
    return fail(Status(Code::kIo, Module::kCli, "the keystore did not store the certificate"));
  std::printf("stored: %s (%zu certificate%s)\n", leaf.value().subject.c_str(),
              certs.value().size(), certs.value().size() == 1 ? "" : "s");
  return 0;
}

int cert_show(const Args& a) {
  if (a.positional().size() != 2) return usage_error("cert show needs one file");
  auto data = read_file(a.positional()[1], 1u << 20);
  if (!data) return fail(data.status(), a.positional()[1]);
  std::vector<Bytes> ders;
  if (crypto::is_pem(data.value())) {
    auto certs = crypto::certs_from_pem(ByteSpan(data.value()).as_string());
    if (!certs) return fail(certs.status(), a.positional()[1]);
    ders = std::move(certs.value());
  } else {
    ders.push_back(data.value());
  }
  bool json = a.has("--json");
  if (json) std::printf("[");
  for (std::size_t i = 0; i < ders.size(); ++i) {
    auto info = crypto::cert_info(ders[i]);
    if (!info) return fail(info.status(), a.positional()[1]);
    auto fp = crypto::cert_fingerprint(ders[i]);
    const auto& c = info.value();
    if (json) {
      std::string uris, dns;
      for (const auto& u : c.uri_sans)
        uris += (uris.empty() ? "\"" : ",\"") + json_escape(u) + "\"";
      for (const auto& d : c.dns_sans)
        dns += (dns.empty() ? "\"" : ",\"") + json_escape(d) + "\"";
      std::printf("%s{\"subject\":\"%s\",\"issuer\":\"%s\",\"serial\":\"%s\",\"not_before\":\"%s\","
                  "\"not_after\":\"%s\",\"ca\":%s,\"uri\":[%s],\"dns\":[%s],\"fingerprint\":\"sha-"
                  "256 %s\"}",
                  i ? "," : "", json_escape(c.subject).c_str(), json_escape(c.issuer).c_str(),
                  c.serial_hex.c_str(), iso_time(c.not_before).c_str(),
                  iso_time(c.not_after).c_str(), c.is_ca ? "true" : "false", uris.c_str(),
                  dns.c_str(), fp ? fp.value().c_str() : "");
    } else {
      if (i) std::printf("\n");
      std::printf("subject:     %s\nissuer:      %s\nserial:      %s\n", c.subject.c_str(),
                  c.issuer.c_str(), c.serial_hex.c_str());
      std::printf("valid:       %s .. %s\n", iso_time(c.not_before).c_str(),
                  iso_time(c.not_after).c_str());
      std::printf("ca:          %s\n", c.is_ca ? "yes" : "no");
      for (const auto& u : c.uri_sans)
        std::printf("san:         URI:%s\n", u.c_str());
      for (const auto& d : c.dns_sans)
        std::printf("san:         DNS:%s\n", d.c_str());
      if (fp) std::printf("fingerprint: sha-256 %s\n", fp.value().c_str());
    }
  }
  if (json) std::printf("]\n");
  return 0;
}

} // namespace

int cmd_keygen(int argc, char** argv) {
  Args a;
  std::vector<std::string> valued = kKeystoreOptions;
  for (const char* o : {"--impu", "--cn", "--days", "--out-csr"})
    valued.push_back(o);
  if (!a.parse(argc, argv, 1, {"--help", "--json", "--replace"}, valued))
    return usage_error(a.error());
  if (a.has("--help")) {
    std::fputs(kKeygenHelp, stdout);
    return 0;
  }
  if (!a.has("--impu"))
    return usage_error("keygen needs --impu URI (the IMPU, e.g. sip:alice@ims.example)");
  std::string impu = a.get("--impu");
  if (impu.find(':') == std::string::npos)
    return usage_error("--impu must be a URI (sip:, tel:, ...)");
  if (a.has("--pkcs11")) {
    if (!a.has("--token") || !a.has("--pin-file"))
      return usage_error("--pkcs11 needs --token and --pin-file");
    return keygen_pkcs11(a);
  }
  if (!a.has("--dir")) return usage_error("keygen needs --dir D or --pkcs11 MODULE");
  return keygen_dir(a);
}

int cmd_cert(int argc, char** argv) {
  Args a;
  if (!a.parse(argc, argv, 1, {"--help", "--json"}, kKeystoreOptions))
    return usage_error(a.error());
  if (a.has("--help") || a.positional().empty()) {
    std::fputs(kCertHelp, a.has("--help") ? stdout : stderr);
    return a.has("--help") ? 0 : 2;
  }
  const std::string& sub = a.positional()[0];
  if (sub == "import") return cert_import(a);
  if (sub == "show") return cert_show(a);
  return usage_error("unknown cert command '" + sub + "'");
}

} // namespace imsdc::cli
