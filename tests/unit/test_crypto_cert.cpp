// crypto: certificates (info, URI SANs, dates), PEM, RFC 8122 fingerprints, CSRs,
// self-signed certificates and chain verification on the fake port's virtual clock. The test
// PKI is built here with the SDK's own writer, signing through MemoryKeystores.
#include <gtest/gtest.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"
#include "port/port.h"
#include "vectors/fixed_files.h"

namespace imsdc {
namespace {

using crypto::EcPrivateKey;
using crypto::MemoryKeystore;

constexpr const char* kImpu = "sip:alice@ims.example.org";

std::unique_ptr<MemoryKeystore> new_keystore() {
  auto k = EcPrivateKey::generate();
  EXPECT_TRUE(k.is_ok());
  return std::make_unique<MemoryKeystore>(std::move(k.value()));
}

Bytes issue(const MemoryKeystore& issuer, const char* issuer_cn, const MemoryKeystore& subject,
            const char* cn, std::int64_t nb, std::int64_t na, bool is_ca, const char* uri = nullptr,
            const char* dns = nullptr) {
  crypto::internal::CertSpec spec;
  spec.subject_cn = cn;
  spec.issuer_cn = issuer_cn;
  spec.uri_san = uri ? uri : "";
  spec.dns_san = dns ? dns : "";
  spec.subject_key = subject.key().public_key();
  spec.not_before = nb;
  spec.not_after = na;
  spec.is_ca = is_ca;
  auto der = crypto::internal::issue_cert(*issuer.port(), spec);
  EXPECT_TRUE(der.is_ok()) << der.status().message();
  return der.is_ok() ? der.value() : Bytes();
}

// Root CA -> intermediate CA -> leaf (URI SAN = IMPU), valid around the fake clock's now.
struct Pki {
  std::unique_ptr<MemoryKeystore> root_ks = new_keystore();
  std::unique_ptr<MemoryKeystore> inter_ks = new_keystore();
  std::unique_ptr<MemoryKeystore> leaf_ks = new_keystore();
  Bytes root, inter, leaf;
  crypto::TrustStore trust;
  explicit Pki(std::int64_t now) {
    root = issue(*root_ks, "Test Root", *root_ks, "Test Root", now - 86400, now + 3650 * 86400LL,
                 true);
    inter = issue(*root_ks, "Test Root", *inter_ks, "Test Intermediate", now - 86400,
                  now + 365 * 86400LL, true);
    leaf = issue(*inter_ks, "Test Intermediate", *leaf_ks, "alice", now - 3600, now + 86400, false,
                 kImpu, "localhost");
    EXPECT_TRUE(trust.add_der(root).is_ok());
  }
};

class CryptoCert : public testing::Test {
protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
};

TEST_F(CryptoCert, CalendarArithmetic) {
  using crypto::internal::days_from_civil;
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2026, 1, 1) * 86400, fake::kDefaultWallS);
  EXPECT_EQ(days_from_civil(2038, 1, 19) * 86400 + 3 * 3600 + 14 * 60 + 8, 2147483648LL);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  for (std::int64_t d : {-800000LL, -1LL, 0LL, 59LL, 11016LL, 2932896LL}) {
    std::int64_t y;
    unsigned m, dd;
    crypto::internal::civil_from_days(d, &y, &m, &dd);
    EXPECT_EQ(days_from_civil(y, m, dd), d);
  }
  char buf[15];
  ASSERT_TRUE(crypto::internal::format_x509_validity(951782400 + 3723, buf).is_ok()); // 2000-02-29
  EXPECT_STREQ(buf, "20000229010203");
  EXPECT_EQ(crypto::internal::format_x509_validity(-1000LL * 86400 * 365, buf),
            Code::kInvalidArgument);
}

TEST_F(CryptoCert, SelfSignedCertificateInfo) {
  auto ks = new_keystore();
  const std::int64_t now = fake::wall_s();
  auto der = crypto::make_self_signed_cert(*ks->port(), "alice, phone", kImpu, now, 30);
  ASSERT_TRUE(der.is_ok()) << der.status().message();
  auto info = crypto::cert_info(der.value());
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info.value().subject, "CN=alice\\, phone"); // RFC 4514 escaping by mbedTLS
  EXPECT_EQ(info.value().issuer, info.value().subject);
  ASSERT_EQ(info.value().uri_sans.size(), 1u);
  EXPECT_EQ(info.value().uri_sans[0], kImpu);
  EXPECT_TRUE(info.value().dns_sans.empty());
  EXPECT_EQ(info.value().not_before, now - 60);
  EXPECT_EQ(info.value().not_after, now + 30 * 86400);
  EXPECT_FALSE(info.value().is_ca);
  EXPECT_EQ(info.value().public_key, ks->key().public_key());
  EXPECT_EQ(info.value().serial_hex.size(), 32u);

  // Self-signed: it is its own trust anchor.
  crypto::TrustStore trust;
  ASSERT_TRUE(trust.add_der(der.value()).is_ok());
  EXPECT_TRUE(crypto::verify_chain({der.value()}, trust, now).is_ok());

  EXPECT_EQ(crypto::make_self_signed_cert(*ks->port(), "", kImpu, now, 1).status(),
            Code::kInvalidArgument);
  EXPECT_EQ(crypto::make_self_signed_cert(*ks->port(), "x", "sip:a b", now, 1).status(),
            Code::kInvalidArgument);
  EXPECT_EQ(crypto::make_self_signed_cert(*ks->port(), "x", kImpu, now, 0).status(),
            Code::kInvalidArgument);
  EXPECT_EQ(crypto::make_self_signed_cert(*ks->port(), "x", kImpu, -1, 1).status(),
            Code::kInvalidArgument);
  // No SAN at all is allowed for the DTLS-only fallback.
  auto bare = crypto::make_self_signed_cert(*ks->port(), "x", "", now, 1);
  ASSERT_TRUE(bare.is_ok());
  EXPECT_TRUE(crypto::cert_info(bare.value()).value().uri_sans.empty());
}

TEST_F(CryptoCert, LeafWithUriAndDnsSans) {
  Pki pki(fake::wall_s());
  auto info = crypto::cert_info(pki.leaf);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info.value().uri_sans, std::vector<std::string>{kImpu});
  EXPECT_EQ(info.value().dns_sans, std::vector<std::string>{"localhost"});
  EXPECT_EQ(info.value().issuer, "CN=Test Intermediate");
  EXPECT_TRUE(crypto::cert_info(pki.inter).value().is_ca);
}

TEST_F(CryptoCert, CertInfoRejects) {
  EXPECT_EQ(crypto::cert_info(Bytes()).status(), Code::kMalformed);
  EXPECT_EQ(crypto::cert_info(Bytes(100, 0x30)).status(), Code::kMalformed);
  EXPECT_EQ(crypto::cert_info(Bytes(IMSDC_MAX_CERT_SIZE + 1, 0x30)).status(), Code::kTooLarge);
  auto ks = new_keystore();
  auto der = crypto::make_self_signed_cert(*ks->port(), "x", kImpu, fake::wall_s(), 1);
  ASSERT_TRUE(der.is_ok());
  Bytes cut(der.value().begin(), der.value().end() - 5);
  EXPECT_EQ(crypto::cert_info(cut).status(), Code::kMalformed);
}

TEST_F(CryptoCert, CsrIsSignedThroughTheKeystore) {
  auto ks = new_keystore();
  auto der = crypto::make_csr(*ks->port(), "alice", kImpu);
  ASSERT_TRUE(der.is_ok()) << der.status().message();
  mbedtls_x509_csr csr;
  mbedtls_x509_csr_init(&csr);
  ASSERT_EQ(0, mbedtls_x509_csr_parse_der(&csr, der.value().data(), der.value().size()));
  // Verify the CSR's self-signature with mbedTLS (parsing alone does not).
  unsigned char hash[32];
  ASSERT_EQ(0,
            mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), csr.cri.p, csr.cri.len, hash));
  EXPECT_EQ(0, mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.sig.p, csr.sig.len));
  // The requested SAN URI is in the request's attributes, as written.
  std::string cri(reinterpret_cast<const char*>(csr.cri.p), csr.cri.len);
  EXPECT_NE(cri.find(kImpu), std::string::npos);
  mbedtls_x509_csr_free(&csr);

  std::string pem = crypto::csr_to_pem(der.value());
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE REQUEST-----\n", 0), 0u);

  // The keystore's failure is what the caller sees.
  fake::FaultyKeystore faulty(*ks->port());
  fake::fail_nth(fake::Fn::kKeystoreSign, 1, IMSDC_PORT_EDENIED);
  EXPECT_EQ(crypto::make_csr(*faulty.port(), "alice", kImpu).status(), Code::kPortFailure);
  fake::fail_nth(fake::Fn::kKeystorePublicKey, 1, IMSDC_PORT_ENOENT);
  EXPECT_EQ(crypto::make_csr(*faulty.port(), "alice", kImpu).status(), Code::kNotFound);
}

TEST_F(CryptoCert, PemRoundTrip) {
  Pki pki(fake::wall_s());
  std::string pem =
      crypto::cert_to_pem(pki.leaf) + "junk between\n" + crypto::cert_to_pem(pki.root);
  EXPECT_TRUE(crypto::is_pem(ByteSpan(pem)));
  EXPECT_FALSE(crypto::is_pem(pki.leaf));
  auto certs = crypto::certs_from_pem(pem);
  ASSERT_TRUE(certs.is_ok());
  ASSERT_EQ(certs.value().size(), 2u);
  EXPECT_EQ(certs.value()[0], pki.leaf);
  EXPECT_EQ(certs.value()[1], pki.root);
  // CRLF line ends are fine.
  std::string crlf = std::regex_replace(crypto::cert_to_pem(pki.leaf), std::regex("\n"), "\r\n");
  EXPECT_TRUE(crypto::certs_from_pem(crlf).is_ok());

  EXPECT_EQ(crypto::certs_from_pem("").status(), Code::kMalformed);
  EXPECT_EQ(crypto::certs_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n").status(),
            Code::kMalformed);
  EXPECT_EQ(crypto::certs_from_pem("-----BEGIN CERTIFICATE-----\nA$AA\n-----END CERTIFICATE-----")
                .status(),
            Code::kMalformed);
  std::string huge =
      "-----BEGIN CERTIFICATE-----\n" + std::string(8000, 'A') + "\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(crypto::certs_from_pem(huge).status(), Code::kTooLarge);

  crypto::TrustStore ts;
  EXPECT_TRUE(ts.add_pem(pem).is_ok());
  EXPECT_EQ(ts.size(), 2u);
  crypto::TrustStore moved(std::move(ts));
  EXPECT_EQ(moved.size(), 2u);
  EXPECT_EQ(ts.size(), 0u); // NOLINT(bugprone-use-after-move): documented as empty
}

TEST_F(CryptoCert, Rfc8122Fingerprints) {
  Pki pki(fake::wall_s());
  auto fp = crypto::cert_fingerprint(pki.leaf);
  ASSERT_TRUE(fp.is_ok());
  EXPECT_TRUE(std::regex_match(fp.value(), std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")))
      << fp.value();
  auto sha1 = crypto::cert_fingerprint(pki.leaf, "SHA-1");
  ASSERT_TRUE(sha1.is_ok());
  EXPECT_EQ(sha1.value().size(), 20u * 3 - 1);
  EXPECT_EQ(crypto::cert_fingerprint(pki.leaf, "md5").status(), Code::kUnsupported);
  EXPECT_EQ(crypto::cert_fingerprint(pki.leaf, "sha-512").value().size(), 64u * 3 - 1);

  auto parsed = crypto::parse_fingerprint("sha-256 " + fp.value());
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed.value().hash, "sha-256");
  EXPECT_EQ(parsed.value().digest.size(), 32u);
  EXPECT_TRUE(crypto::fingerprint_matches(pki.leaf, parsed.value()));
  EXPECT_FALSE(crypto::fingerprint_matches(pki.root, parsed.value()));

  // Lenient: hash name in any case, hex in lower case, extra blanks.
  std::string lower = fp.value();
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto p2 = crypto::parse_fingerprint("  SHA-256\t" + lower + " \r\n");
  ASSERT_TRUE(p2.is_ok());
  EXPECT_EQ(p2.value().digest, parsed.value().digest);

  auto p1 = crypto::parse_fingerprint("Sha-1 " + sha1.value());
  ASSERT_TRUE(p1.is_ok());
  EXPECT_EQ(p1.value().hash, "sha-1");
  EXPECT_TRUE(crypto::fingerprint_matches(pki.leaf, p1.value()));

  EXPECT_EQ(crypto::parse_fingerprint("md5 AB:CD").status(), Code::kUnsupported);
  EXPECT_EQ(crypto::parse_fingerprint("sha-256").status(), Code::kMalformed);
  EXPECT_EQ(crypto::parse_fingerprint("sha-256 AB:CD").status(), Code::kMalformed);
  EXPECT_EQ(crypto::parse_fingerprint("sha-1 " + fp.value()).status(), Code::kMalformed);
  EXPECT_EQ(crypto::parse_fingerprint("sha-256 " + fp.value().substr(0, 94) + "ZZ").status(),
            Code::kMalformed);
}

TEST_F(CryptoCert, ChainVerifiesOnTheVirtualClock) {
  const std::int64_t now = fake::wall_s();
  Pki pki(now);
  EXPECT_TRUE(crypto::verify_chain({pki.leaf, pki.inter}, pki.trust, now).is_ok());
  // The intermediate is needed: the root did not sign the leaf.
  EXPECT_EQ(crypto::verify_chain({pki.leaf}, pki.trust, now), Code::kUntrusted);

  // Another root: untrusted.
  Pki other(now);
  EXPECT_EQ(crypto::verify_chain({pki.leaf, pki.inter}, other.trust, now), Code::kUntrusted);
  EXPECT_EQ(crypto::verify_chain({pki.leaf, pki.inter}, crypto::TrustStore(), now),
            Code::kUntrusted);

  // Time comes from the port, not libc: move the virtual clock past the leaf's expiry.
  fake::set_wall_s(now + 2 * 86400);
  EXPECT_EQ(crypto::verify_chain({pki.leaf, pki.inter}, pki.trust, port::wall_s()), Code::kExpired);
  fake::set_wall_s(now - 2 * 3600); // before the leaf's notBefore
  EXPECT_EQ(crypto::verify_chain({pki.leaf, pki.inter}, pki.trust, port::wall_s()), Code::kExpired);
  fake::set_wall_s(-1); // time unknown: refuse
  EXPECT_EQ(crypto::verify_chain({pki.leaf, pki.inter}, pki.trust, port::wall_s()), Code::kExpired);

  // An expired intermediate and an expired anchor are caught too.
  auto leaf2_ks = new_keystore();
  Bytes old_inter = issue(*pki.root_ks, "Test Root", *pki.inter_ks, "Test Intermediate",
                          now - 10 * 86400, now - 86400, true);
  EXPECT_EQ(crypto::verify_chain({pki.leaf, old_inter}, pki.trust, now), Code::kExpired);
  auto root2 = new_keystore();
  Bytes old_root =
      issue(*root2, "Old Root", *root2, "Old Root", now - 10 * 86400, now - 86400, true);
  Bytes leaf2 = issue(*root2, "Old Root", *leaf2_ks, "bob", now - 3600, now + 3600, false, kImpu);
  crypto::TrustStore old_trust;
  ASSERT_TRUE(old_trust.add_der(old_root).is_ok());
  EXPECT_EQ(crypto::verify_chain({leaf2}, old_trust, now), Code::kExpired);

  // A leaf "issued" by a non-CA certificate does not chain.
  Bytes by_leaf = issue(*pki.leaf_ks, "alice", *leaf2_ks, "mallory", now - 60, now + 60, false,
                        "sip:mallory@ims.example.org");
  EXPECT_EQ(crypto::verify_chain({by_leaf, pki.leaf, pki.inter}, pki.trust, now), Code::kUntrusted);

  // Bounds and garbage.
  EXPECT_EQ(crypto::verify_chain({}, pki.trust, now), Code::kMalformed);
  EXPECT_EQ(crypto::verify_chain({Bytes(10, 1)}, pki.trust, now), Code::kMalformed);
  std::vector<Bytes> too_long(IMSDC_MAX_CHAIN_LENGTH + 1, pki.leaf);
  EXPECT_EQ(crypto::verify_chain(too_long, pki.trust, now), Code::kTooLarge);
}

TEST_F(CryptoCert, KeystoreChainMustCarryTheDeviceKey) {
  const std::int64_t now = fake::wall_s();
  Pki pki(now);
  EXPECT_TRUE(pki.leaf_ks->set_chain({pki.leaf, pki.inter}).is_ok());
  auto chain = crypto::keystore_chain(*pki.leaf_ks->port());
  ASSERT_TRUE(chain.is_ok());
  EXPECT_EQ(chain.value(), (std::vector<Bytes>{pki.leaf, pki.inter}));
  EXPECT_EQ(pki.inter_ks->set_chain({pki.leaf}), Code::kInvalidArgument);
  EXPECT_EQ(pki.leaf_ks->set_chain({}), Code::kInvalidArgument);
  // store_chain through the port.
  const std::uint8_t* ders[1] = {pki.leaf.data()};
  std::size_t lens[1] = {pki.leaf.size()};
  const imsdc_port_keystore* p = pki.leaf_ks->port();
  EXPECT_EQ(p->store_chain(p->ctx, ders, lens, 1), IMSDC_PORT_OK);
  EXPECT_EQ(crypto::keystore_chain(*p).value().size(), 1u);
  const imsdc_port_keystore* q = pki.root_ks->port();
  EXPECT_EQ(q->store_chain(q->ctx, ders, lens, 1), IMSDC_PORT_EINVAL);
}

// The fixed test PKI of tests/unit/data/fixed, made once by Python cryptography (also verified
// on target, tests/target/t_crypto.cpp).
TEST_F(CryptoCert, FixedPkiFromPythonCryptography) {
  namespace fx = test_vectors::fixed;
  auto one = [](const char* path) {
    auto c = crypto::certs_from_pem(fx::read_file(path));
    EXPECT_TRUE(c.is_ok() && c.value().size() == 1u) << path;
    return c.is_ok() && !c.value().empty() ? c.value()[0] : Bytes();
  };
  const Bytes root = one(fx::kRootPem), inter = one(fx::kInterPem), leaf = one(fx::kLeafPem);
  crypto::TrustStore trust, wrong;
  ASSERT_TRUE(trust.add_der(root).is_ok());
  ASSERT_TRUE(wrong.add_der(one(fx::kOtherRootPem)).is_ok());
  auto info = crypto::cert_info(leaf);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info.value().uri_sans, std::vector<std::string>{fx::kImpu});
  EXPECT_EQ(info.value().not_before, fx::kLeafNotBefore);
  EXPECT_EQ(info.value().not_after, fx::kLeafNotAfter);
  EXPECT_TRUE(crypto::verify_chain({leaf, inter}, trust, fx::kAvatarNow).is_ok());
  EXPECT_EQ(crypto::verify_chain({leaf}, trust, fx::kAvatarNow), Code::kUntrusted);
  EXPECT_EQ(crypto::verify_chain({leaf, inter}, wrong, fx::kAvatarNow), Code::kUntrusted);
  EXPECT_TRUE(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotAfter).is_ok());
  EXPECT_EQ(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotAfter + 1), Code::kExpired);
  EXPECT_EQ(crypto::verify_chain({leaf, inter}, trust, fx::kLeafNotBefore - 1), Code::kExpired);
}

} // namespace
} // namespace imsdc
