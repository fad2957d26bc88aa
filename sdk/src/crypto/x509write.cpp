// CSRs and certificates written by mbedTLS's x509write, signed through the keystore port (so
// the device key never has to be in RAM). mbedTLS 2.28 has no subjectAltName writer: the SAN
// (the IMPU as a URI, optionally a dNSName for TLS peers) is built with mbedTLS's ASN.1
// writers and added as a raw extension.
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include <cstring>

#include "crypto/internal.h"

namespace imsdc::crypto {

using internal::err;

namespace {

// X.520 ub-common-name.
constexpr std::size_t kMaxCommonName = 64;
constexpr std::size_t kMaxSanValue = 1024;
// Generous for a P-256 certificate with a few extensions; x509write fails cleanly if not.
constexpr std::size_t kWriteBuf = 4096;

// Backwards writing of one implicitly tagged IA5String GeneralName.
int write_general_name(unsigned char** p, unsigned char* start, unsigned char tag,
                       std::string_view value) {
  int len = mbedtls_asn1_write_raw_buffer(
      p, start, reinterpret_cast<const unsigned char*>(value.data()), value.size());
  if (len < 0) return len;
  int rc = mbedtls_asn1_write_len(p, start, static_cast<std::size_t>(len));
  if (rc < 0) return rc;
  len += rc;
  rc = mbedtls_asn1_write_tag(p, start, tag);
  if (rc < 0) return rc;
  return len + rc;
}

bool san_value_ok(std::string_view v) {
  if (v.size() > kMaxSanValue) return false;
  for (char c : v)
    if (c < 0x21 || c > 0x7e) return false; // IA5String, and no spaces in a URI or DNS name
  return true;
}

// Maps an x509write failure to the keystore's own error when the signature was the cause.
Status write_error(const mbedtls_pk_context* pk, const char* what) {
  Status ks = internal::keystore_pk_last_error(pk);
  return ks.is_ok() ? err(Code::kInternal, what) : ks;
}

} // namespace

namespace internal {

Result<std::string> cn_to_name(std::string_view cn) {
  if (cn.empty() || cn.size() > kMaxCommonName)
    return err(Code::kInvalidArgument, "common name empty or longer than 64");
  std::string name = "CN=";
  for (char c : cn) {
    const unsigned char u = static_cast<unsigned char>(c);
    // mbedtls_x509_string_to_names only understands "\," as an escape.
    if (u < 0x20 || u == 0x7f || c == '\\')
      return err(Code::kInvalidArgument, "common name has control characters or '\\'");
    if (c == ',') name.push_back('\\');
    name.push_back(c);
  }
  return name;
}

Result<Bytes> build_san(std::string_view uri, std::string_view dns) {
  if (uri.empty() && dns.empty()) return err(Code::kInvalidArgument, "empty subjectAltName");
  if (!san_value_ok(uri) || !san_value_ok(dns))
    return err(Code::kInvalidArgument, "subjectAltName value not printable ASCII or too long");
  unsigned char buf[2 * kMaxSanValue + 32];
  unsigned char* p = buf + sizeof buf;
  std::size_t len = 0;
  int rc = 0;
  // Written backwards: dNSName last, so the URI (the IMPU) comes first in the sequence.
  if (!dns.empty()) {
    rc = write_general_name(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2, dns);
    if (rc >= 0) len += static_cast<std::size_t>(rc);
  }
  if (rc >= 0 && !uri.empty()) {
    rc = write_general_name(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6, uri);
    if (rc >= 0) len += static_cast<std::size_t>(rc);
  }
  if (rc >= 0) {
    rc = mbedtls_asn1_write_len(&p, buf, len);
    if (rc >= 0) len += static_cast<std::size_t>(rc);
  }
  if (rc >= 0) {
    rc = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (rc >= 0) len += static_cast<std::size_t>(rc);
  }
  if (rc < 0) return err(Code::kInternal, "subjectAltName encoding failed");
  return Bytes(p, p + len);
}

Result<Bytes> issue_cert(const imsdc_port_keystore& issuer, const CertSpec& spec) {
  Result<std::string> subject = cn_to_name(spec.subject_cn);
  if (!subject.is_ok()) return subject.status();
  Result<std::string> issuer_name = cn_to_name(spec.issuer_cn);
  if (!issuer_name.is_ok()) return issuer_name.status();
  if (spec.not_after <= spec.not_before)
    return err(Code::kInvalidArgument, "validity: not_after must follow not_before");
  char not_before[15], not_after[15];
  IMSDC_TRY(format_x509_validity(spec.not_before, not_before));
  IMSDC_TRY(format_x509_validity(spec.not_after, not_after));
  Result<Bytes> san = Bytes();
  if (!spec.uri_san.empty() || !spec.dns_san.empty()) san = build_san(spec.uri_san, spec.dns_san);
  if (!san.is_ok()) return san.status();

  // A positive 127-bit random serial (RFC 5280 4.1.2.2: unique per CA, at most 20 octets).
  unsigned char serial_bytes[16];
  IMSDC_TRY(random_bytes(serial_bytes, sizeof serial_bytes));
  serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7f) | 0x01);

  mbedtls_pk_context issuer_pk, subject_pk;
  mbedtls_pk_init(&issuer_pk);
  mbedtls_pk_init(&subject_pk);
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  Bytes buf(kWriteBuf);
  Result<Bytes> out = err(Code::kInternal, "certificate write failed");

  Status st = keystore_pk_setup(&issuer_pk, issuer);
  if (st.is_ok()) st = pk_from_public(spec.subject_key, &subject_pk);
  if (st.is_ok()) {
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &subject_pk);
    mbedtls_x509write_crt_set_issuer_key(&crt, &issuer_pk);
    const unsigned char ku = spec.is_ca ? (MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)
                                        : MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    bool ok = mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof serial_bytes) == 0 &&
              mbedtls_x509write_crt_set_serial(&crt, &serial) == 0 &&
              mbedtls_x509write_crt_set_subject_name(&crt, subject.value().c_str()) == 0 &&
              mbedtls_x509write_crt_set_issuer_name(&crt, issuer_name.value().c_str()) == 0 &&
              mbedtls_x509write_crt_set_validity(&crt, not_before, not_after) == 0 &&
              mbedtls_x509write_crt_set_basic_constraints(&crt, spec.is_ca ? 1 : 0, -1) == 0 &&
              mbedtls_x509write_crt_set_key_usage(&crt, ku) == 0 &&
              mbedtls_x509write_crt_set_subject_key_identifier(&crt) == 0 &&
              mbedtls_x509write_crt_set_authority_key_identifier(&crt) == 0;
    if (ok && !san.value().empty())
      ok = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                               san.value().data(), san.value().size()) == 0;
    if (!ok) st = err(Code::kInvalidArgument, "certificate fields rejected by x509write");
  }
  if (st.is_ok()) {
    // Writes at the end of buf and returns the length.
    int len = mbedtls_x509write_crt_der(&crt, buf.data(), buf.size(), imsdc_crypto_rng, nullptr);
    if (len > 0)
      out = Bytes(buf.end() - len, buf.end());
    else
      out = write_error(&issuer_pk, "certificate write failed");
  } else {
    out = st;
  }
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  mbedtls_pk_free(&subject_pk);
  mbedtls_pk_free(&issuer_pk);
  return out;
}

} // namespace internal

Result<Bytes> make_csr(const imsdc_port_keystore& ks, std::string_view common_name,
                       std::string_view impu) {
  Result<std::string> subject = internal::cn_to_name(common_name);
  if (!subject.is_ok()) return subject.status();
  Result<Bytes> san = Bytes();
  if (!impu.empty()) san = internal::build_san(impu, std::string_view());
  if (!san.is_ok()) return san.status();

  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  mbedtls_x509write_csr csr;
  mbedtls_x509write_csr_init(&csr);
  Bytes buf(kWriteBuf);
  Result<Bytes> out = err(Code::kInternal, "CSR write failed");
  Status st = internal::keystore_pk_setup(&pk, ks);
  if (st.is_ok()) {
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&csr, &pk);
    bool ok = mbedtls_x509write_csr_set_subject_name(&csr, subject.value().c_str()) == 0 &&
              mbedtls_x509write_csr_set_key_usage(&csr, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0;
    if (ok && !san.value().empty())
      ok = mbedtls_x509write_csr_set_extension(&csr, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                                               san.value().data(), san.value().size()) == 0;
    if (!ok) st = err(Code::kInvalidArgument, "CSR fields rejected by x509write");
  }
  if (st.is_ok()) {
    int len = mbedtls_x509write_csr_der(&csr, buf.data(), buf.size(), imsdc_crypto_rng, nullptr);
    if (len > 0)
      out = Bytes(buf.end() - len, buf.end());
    else
      out = write_error(&pk, "CSR write failed");
  } else {
    out = st;
  }
  mbedtls_x509write_csr_free(&csr);
  mbedtls_pk_free(&pk);
  return out;
}

Result<Bytes> make_self_signed_cert(const imsdc_port_keystore& ks, std::string_view common_name,
                                    std::string_view impu, std::int64_t now_s, int days) {
  // Up to ten years; the certificate is a DTLS-only fallback and should be short-lived.
  if (days < 1 || days > 3650) return err(Code::kInvalidArgument, "days must be in 1..3650");
  if (now_s < 0) return err(Code::kInvalidArgument, "wall clock unknown");
  Result<EcPublicKey> pub = keystore_public_key(ks);
  if (!pub.is_ok()) return pub.status();
  internal::CertSpec spec;
  spec.subject_cn = common_name;
  spec.issuer_cn = common_name;
  spec.uri_san = impu;
  spec.subject_key = pub.value();
  // A minute of back-dating tolerates a peer whose clock is slightly behind.
  spec.not_before = now_s - 60;
  spec.not_after = now_s + static_cast<std::int64_t>(days) * 86400;
  spec.is_ca = false;
  return internal::issue_cert(ks, spec);
}

std::string csr_to_pem(ByteSpan der) {
  return internal::pem_encode(der, "CERTIFICATE REQUEST");
}

} // namespace imsdc::crypto
