// Certificates: parsing (with the URI subjectAltNames mbedTLS 2.28 does not decode), PEM,
// RFC 8122 fingerprints, trust stores and chain verification against the port's clock.
//
// mbedTLS checks X.509 validity against the libc clock, which is not the SDK's clock (virtual
// clock in tests, --now in the CLI, no RTC on some targets). verify_chain therefore masks
// mbedTLS's EXPIRED/FUTURE flags and compares every certificate's validity with now_s here.
#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include <cstring>
#include <utility>

#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"

namespace imsdc::crypto {

using internal::err;

// --- calendar arithmetic ------------------------------------------------------------------

namespace internal {

// Proleptic Gregorian calendar in 400-year eras of 146097 days; the year is shifted to start
// in March so that the leap day is the last day of the shifted year.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;                                         // [0, 399]
  const std::int64_t mp = m > 2 ? m - 3 : m + 9;                                  // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + static_cast<std::int64_t>(d) - 1; // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                 // [0, 146096]
  return era * 146097 + doe - 719468; // 719468 = days from 0000-03-01 to 1970-01-01
}

void civil_from_days(std::int64_t days, std::int64_t* y, unsigned* m, unsigned* d) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

Status format_x509_validity(std::int64_t epoch_s, char out[15]) {
  std::int64_t days = epoch_s / 86400;
  std::int64_t secs = epoch_s % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  // UTCTime covers 1950..2049 and GeneralizedTime the rest; mbedTLS picks the form.
  if (y < 1950 || y > 9999) return err(Code::kInvalidArgument, "date outside X.509 range");
  const unsigned fields[6] = {static_cast<unsigned>(y),
                              m,
                              d,
                              static_cast<unsigned>(secs / 3600),
                              static_cast<unsigned>(secs / 60 % 60),
                              static_cast<unsigned>(secs % 60)};
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  char* p = out;
  for (int i = 0; i < 6; ++i) {
    unsigned v = fields[i];
    for (int k = widths[i] - 1; k >= 0; --k) {
      p[k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += widths[i];
  }
  *p = 0;
  return Status::ok();
}

} // namespace internal

namespace {

std::int64_t x509_time_to_epoch(const mbedtls_x509_time& t) {
  return internal::days_from_civil(t.year, static_cast<unsigned>(t.mon),
                                   static_cast<unsigned>(t.day)) *
             86400 +
         t.hour * 3600 + t.min * 60 + t.sec;
}

// Bounds on what a subjectAltName may contribute to a CertInfo.
constexpr std::size_t kMaxSanEntries = 64;
constexpr std::size_t kMaxSanLength = 1024;

bool printable_ascii(const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] < 0x21 || p[i] > 0x7e) return false;
  return true;
}

// GeneralNames ::= SEQUENCE OF GeneralName; we keep uniformResourceIdentifier [6] and
// dNSName [2] (both IA5String, implicitly tagged) and skip every other choice.
Status parse_general_names(unsigned char* p, const unsigned char* end, CertInfo* info) {
  std::size_t len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
      p + len != end)
    return err(Code::kMalformed, "subjectAltName: not a SEQUENCE");
  std::size_t count = 0;
  while (p < end) {
    if (++count > kMaxSanEntries) return err(Code::kMalformed, "subjectAltName: too many names");
    const unsigned char tag = *p++;
    if (mbedtls_asn1_get_len(&p, end, &len) != 0)
      return err(Code::kMalformed, "subjectAltName: bad length");
    if ((tag & MBEDTLS_ASN1_TAG_CLASS_MASK) != MBEDTLS_ASN1_CONTEXT_SPECIFIC)
      return err(Code::kMalformed, "subjectAltName: not a GeneralName");
    const unsigned char choice = tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
    const bool constructed = (tag & MBEDTLS_ASN1_CONSTRUCTED) != 0;
    if (!constructed && (choice == 6 || choice == 2)) {
      if (len == 0 || len > kMaxSanLength || !printable_ascii(p, len))
        return err(Code::kMalformed, "subjectAltName: bad URI or DNS name");
      std::string value(reinterpret_cast<const char*>(p), len);
      (choice == 6 ? info->uri_sans : info->dns_sans).push_back(std::move(value));
    }
    p += len;
  }
  return Status::ok();
}

// Walks the raw extensions (crt.v3_ext: SEQUENCE OF Extension) to the subjectAltName.
Status parse_sans(const mbedtls_x509_crt& crt, CertInfo* info) {
  if (crt.v3_ext.p == nullptr || crt.v3_ext.len == 0) return Status::ok();
  unsigned char* p = crt.v3_ext.p;
  const unsigned char* end = p + crt.v3_ext.len;
  std::size_t len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return err(Code::kMalformed, "extensions");
  end = p + len;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
      return err(Code::kMalformed, "extension");
    const unsigned char* ext_end = p + len;
    mbedtls_x509_buf oid{};
    oid.tag = MBEDTLS_ASN1_OID;
    if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
      return err(Code::kMalformed, "extension OID");
    oid.p = p;
    p += oid.len;
    int critical = 0;
    int rc = mbedtls_asn1_get_bool(&p, ext_end, &critical); // DEFAULT FALSE: may be absent
    if (rc != 0 && rc != MBEDTLS_ERR_ASN1_UNEXPECTED_TAG)
      return err(Code::kMalformed, "extension critical flag");
    if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
        p + len != ext_end)
      return err(Code::kMalformed, "extension value");
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_SUBJECT_ALT_NAME, &oid) == 0)
      return parse_general_names(p, ext_end, info);
    p = const_cast<unsigned char*>(ext_end);
  }
  return Status::ok();
}

const mbedtls_md_info_t* md_for_name(std::string_view name, std::string* lower) {
  lower->clear();
  for (char c : name)
    lower->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  mbedtls_md_type_t type = MBEDTLS_MD_NONE;
  if (*lower == "sha-256")
    type = MBEDTLS_MD_SHA256;
  else if (*lower == "sha-1")
    type = MBEDTLS_MD_SHA1;
  else if (*lower == "sha-384")
    type = MBEDTLS_MD_SHA384;
  else if (*lower == "sha-512")
    type = MBEDTLS_MD_SHA512;
  return type == MBEDTLS_MD_NONE ? nullptr : mbedtls_md_info_from_type(type);
}

Status parse_der(ByteSpan der, mbedtls_x509_crt* crt) {
  if (der.empty()) return err(Code::kMalformed, "empty certificate");
  if (der.size() > IMSDC_MAX_CERT_SIZE) return err(Code::kTooLarge, "certificate too large");
  if (mbedtls_x509_crt_parse_der(crt, der.data(), der.size()) != 0)
    return err(Code::kMalformed, "certificate does not parse");
  return Status::ok();
}

constexpr std::string_view kBeginCert = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kEndCert = "-----END CERTIFICATE-----";
// A PEM bundle may hold a few trust anchors; bound both the text and the count.
constexpr std::size_t kMaxPemCerts = 32;
constexpr std::size_t kMaxPemText = 256 * 1024;

std::string to_pem(ByteSpan der, std::string_view label) {
  std::string b64 = base64_encode(der);
  std::string out;
  out.reserve(b64.size() + b64.size() / 64 + 2 * label.size() + 40);
  out.append("-----BEGIN ").append(label).append("-----\n");
  for (std::size_t i = 0; i < b64.size(); i += 64)
    out.append(b64, i, 64).push_back('\n');
  out.append("-----END ").append(label).append("-----\n");
  return out;
}

} // namespace

namespace internal {
std::string pem_encode(ByteSpan der, std::string_view label) {
  return to_pem(der, label);
}
} // namespace internal

Result<CertInfo> cert_info(ByteSpan der) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  Status st = parse_der(der, &crt);
  CertInfo info;
  if (st.is_ok()) {
    const mbedtls_pk_type_t type = mbedtls_pk_get_type(&crt.pk);
    if (type != MBEDTLS_PK_ECKEY && type != MBEDTLS_PK_ECKEY_DH && type != MBEDTLS_PK_ECDSA)
      st = err(Code::kUnsupported, "certificate key is not EC");
    else if (mbedtls_pk_ec(crt.pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
      st = err(Code::kUnsupported, "certificate key is not P-256");
    else
      st = internal::export_public_point(mbedtls_pk_ec(crt.pk)->grp, mbedtls_pk_ec(crt.pk)->Q,
                                         &info.public_key);
  }
  if (st.is_ok()) {
    char buf[1024];
    if (mbedtls_x509_dn_gets(buf, sizeof buf, &crt.subject) < 0) {
      st = err(Code::kMalformed, "subject name too long");
    } else {
      info.subject = buf;
      if (mbedtls_x509_dn_gets(buf, sizeof buf, &crt.issuer) < 0)
        st = err(Code::kMalformed, "issuer name too long");
      else
        info.issuer = buf;
    }
  }
  if (st.is_ok()) {
    info.serial_hex = hex_encode(ByteSpan(crt.serial.p, crt.serial.len));
    info.not_before = x509_time_to_epoch(crt.valid_from);
    info.not_after = x509_time_to_epoch(crt.valid_to);
    info.is_ca = crt.ca_istrue != 0;
    st = parse_sans(crt, &info);
  }
  mbedtls_x509_crt_free(&crt);
  if (!st.is_ok()) return st;
  return info;
}

Result<std::vector<Bytes>> certs_from_pem(std::string_view pem) {
  if (pem.size() > kMaxPemText) return err(Code::kTooLarge, "PEM text too large");
  std::vector<Bytes> out;
  std::size_t pos = 0;
  // The base64 body of the largest certificate we accept, plus line breaks.
  constexpr std::size_t kMaxBody = (IMSDC_MAX_CERT_SIZE + 2) / 3 * 4;
  while ((pos = pem.find(kBeginCert, pos)) != std::string_view::npos) {
    if (out.size() == kMaxPemCerts) return err(Code::kTooLarge, "too many certificates");
    const std::size_t body = pos + kBeginCert.size();
    const std::size_t stop = pem.find(kEndCert, body);
    if (stop == std::string_view::npos) return err(Code::kMalformed, "PEM: missing END line");
    std::string b64;
    for (std::size_t i = body; i < stop; ++i) {
      const char c = pem[i];
      if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
      if (b64.size() == kMaxBody) return err(Code::kTooLarge, "certificate too large");
      b64.push_back(c);
    }
    Result<Bytes> der = base64_decode(b64, IMSDC_MAX_CERT_SIZE);
    if (!der.is_ok())
      return der.status() == Code::kTooLarge ? err(Code::kTooLarge, "certificate too large")
                                             : err(Code::kMalformed, "PEM: bad base64");
    if (der.value().empty()) return err(Code::kMalformed, "PEM: empty certificate");
    out.push_back(std::move(der.value()));
    pos = stop + kEndCert.size();
  }
  if (out.empty()) return err(Code::kMalformed, "no CERTIFICATE block");
  return out;
}

std::string cert_to_pem(ByteSpan der) {
  return to_pem(der, "CERTIFICATE");
}

bool is_pem(ByteSpan data) {
  return data.as_string().find("-----BEGIN") != std::string_view::npos;
}

// --- fingerprints -------------------------------------------------------------------------

Result<std::string> cert_fingerprint(ByteSpan der, std::string_view hash) {
  std::string name;
  const mbedtls_md_info_t* md = md_for_name(hash, &name);
  if (!md) return err(Code::kUnsupported, "fingerprint hash not supported");
  unsigned char digest[MBEDTLS_MD_MAX_SIZE];
  if (mbedtls_md(md, der.data(), der.size(), digest) != 0)
    return err(Code::kInternal, "hash failed");
  const std::size_t n = mbedtls_md_get_size(md);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

Result<Fingerprint> parse_fingerprint(std::string_view text) {
  // SDP a=fingerprint values come with arbitrary surrounding whitespace.
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  if (text.size() > 256) return err(Code::kMalformed, "fingerprint too long");
  std::size_t sp = 0;
  while (sp < text.size() && !is_space(text[sp]))
    ++sp;
  if (sp == 0 || sp == text.size())
    return err(Code::kMalformed, "fingerprint: need '<hash> <hex>'");
  std::string_view hex = text.substr(sp);
  while (!hex.empty() && is_space(hex.front()))
    hex.remove_prefix(1);
  Fingerprint fp;
  const mbedtls_md_info_t* md = md_for_name(text.substr(0, sp), &fp.hash);
  if (!md) return err(Code::kUnsupported, "fingerprint hash not supported");
  Result<Bytes> digest = hex_decode(hex, ':');
  if (!digest.is_ok() || digest.value().size() != mbedtls_md_get_size(md))
    return err(Code::kMalformed, "fingerprint: bad hex digest");
  fp.digest = std::move(digest.value());
  return fp;
}

bool fingerprint_matches(ByteSpan der, const Fingerprint& fp) {
  std::string name;
  const mbedtls_md_info_t* md = md_for_name(fp.hash, &name);
  if (!md) return false;
  unsigned char digest[MBEDTLS_MD_MAX_SIZE];
  if (mbedtls_md(md, der.data(), der.size(), digest) != 0) return false;
  return constant_time_equal(ByteSpan(digest, mbedtls_md_get_size(md)), fp.digest);
}

// --- trust store and chain verification ---------------------------------------------------

struct TrustStore::Impl {
  mbedtls_x509_crt crts;
  std::size_t count = 0;
  Impl() { mbedtls_x509_crt_init(&crts); }
  ~Impl() { mbedtls_x509_crt_free(&crts); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

TrustStore::TrustStore() : impl_(new Impl) {}
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

Status TrustStore::add_der(ByteSpan der) {
  // A moved-from store is empty but still usable.
  if (!impl_) impl_.reset(new Impl);
  if (impl_->count >= kMaxPemCerts) return err(Code::kTooLarge, "too many trust anchors");
  IMSDC_TRY(parse_der(der, &impl_->crts));
  ++impl_->count;
  return Status::ok();
}

Status TrustStore::add_pem(std::string_view pem) {
  Result<std::vector<Bytes>> ders = certs_from_pem(pem);
  if (!ders.is_ok()) return ders.status();
  for (const Bytes& der : ders.value())
    IMSDC_TRY(add_der(der));
  return Status::ok();
}

std::size_t TrustStore::size() const {
  return impl_ ? impl_->count : 0;
}

namespace {

// The certificates mbedTLS actually verified, leaf to anchor, collected by the callback.
struct VerifyPath {
  const mbedtls_x509_crt* certs[MBEDTLS_X509_MAX_INTERMEDIATE_CA + 2] = {};
  std::size_t count = 0;
  bool overflow = false;
};

// Called by mbedTLS for each certificate of the path it built. Dates are our business (see
// the file comment); everything else mbedTLS flags stays.
int verify_cb(void* data, mbedtls_x509_crt* crt, int, std::uint32_t* flags) {
  auto* path = static_cast<VerifyPath*>(data);
  if (path->count < sizeof path->certs / sizeof path->certs[0])
    path->certs[path->count++] = crt;
  else
    path->overflow = true;
  *flags &= ~static_cast<std::uint32_t>(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
  return 0;
}

bool valid_at(const mbedtls_x509_crt& crt, std::int64_t now_s) {
  return now_s >= x509_time_to_epoch(crt.valid_from) && now_s <= x509_time_to_epoch(crt.valid_to);
}

} // namespace

Status verify_chain(const std::vector<Bytes>& chain_leaf_first, const TrustStore& trust,
                    std::int64_t now_s) {
  if (chain_leaf_first.empty()) return err(Code::kMalformed, "empty certificate chain");
  if (chain_leaf_first.size() > IMSDC_MAX_CHAIN_LENGTH)
    return err(Code::kTooLarge, "certificate chain too long");
  if (now_s < 0) return err(Code::kExpired, "wall clock unknown: cannot check validity");
  if (trust.size() == 0) return err(Code::kUntrusted, "no trust anchors");
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  Status st = Status::ok();
  for (const Bytes& der : chain_leaf_first) {
    st = parse_der(der, &chain);
    if (!st.is_ok()) break;
  }
  VerifyPath path;
  if (st.is_ok()) {
    std::uint32_t flags = 0;
    int rc = mbedtls_x509_crt_verify(&chain, &trust.impl()->crts, nullptr, nullptr, &flags,
                                     verify_cb, &path);
    if (rc != 0 || flags != 0 || path.overflow || path.count == 0)
      st = err(Code::kUntrusted, "certificate chain does not verify to a trust anchor");
  }
  if (st.is_ok()) {
    // Every certificate presented and every one on the verified path (which includes the
    // anchor) must be valid now.
    for (const mbedtls_x509_crt* c = &chain; c && st.is_ok(); c = c->next)
      if (c->raw.p && !valid_at(*c, now_s)) st = err(Code::kExpired, "certificate not valid now");
    for (std::size_t i = 0; i < path.count && st.is_ok(); ++i)
      if (!valid_at(*path.certs[i], now_s)) st = err(Code::kExpired, "certificate not valid now");
  }
  mbedtls_x509_crt_free(&chain);
  return st;
}

} // namespace imsdc::crypto
