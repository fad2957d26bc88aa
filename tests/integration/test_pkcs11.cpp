// The PKCS#11 keystore port against SoftHSM2: a non-extractable key generated in the token,
// a CSR and a JWS signed in the token and checked independently with mbedTLS, a certificate
// chain stored in and read back from the token, and pkcs11-tool failing to export the key.
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <p11-kit/pkcs11.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "imsdc/port/os.h"
#include "imsdc/port_pkcs11.h"
#include "test_util.h"

namespace imsdc {
namespace {

constexpr const char* kModule = IMSDC_SOFTHSM2_MODULE;
constexpr const char* kTokenLabel = "imsdc-test";
constexpr const char* kPin = "1234";
constexpr const char* kKeyLabel = "imsdc-device";
constexpr const char* kImpu = "sip:alice@ims.example";

using testutil::file_exists;
using testutil::have_tool;
using testutil::remove_tree;
using testutil::run;

// A SoftHSM2 token of our own: its own config file and token directory (SOFTHSM2_CONF).
class SoftHsm : public testing::Test {
protected:
  void SetUp() override {
    if (!file_exists(kModule) || !have_tool("softhsm2-util"))
      GTEST_SKIP() << "SoftHSM2 is not installed (" << kModule << ")";
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/imsdc-p11-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(::mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
    ASSERT_EQ(::mkdir((dir_ + "/tokens").c_str(), 0700), 0);
    conf_ = dir_ + "/softhsm2.conf";
    std::ofstream(conf_) << "directories.tokendir = " << dir_ << "/tokens\n"
                         << "objectstore.backend = file\n"
                         << "log.level = ERROR\n"
                         << "slots.removable = false\n";
    ASSERT_EQ(::setenv("SOFTHSM2_CONF", conf_.c_str(), 1), 0);
    std::string out;
    ASSERT_EQ(run(std::string("softhsm2-util --init-token --free --label ") + kTokenLabel +
                      " --pin " + kPin + " --so-pin 5678",
                  &out),
              0)
        << out;
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree(dir_);
  }

  Result<std::unique_ptr<pkcs11::Token>> open_token(std::string_view pin = kPin) {
    return pkcs11::Token::open(kModule, kTokenLabel, pin, kKeyLabel);
  }

  std::string dir_, conf_;
};

// --- mbedTLS helpers: an independent CA that issues the device certificate ---------------

struct Rng {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  Rng() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const unsigned char kPers[] = "imsdc-pkcs11-test";
    ok = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, kPers, sizeof kPers) == 0;
  }
  ~Rng() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  bool ok = false;
};

struct TestCa {
  Rng rng;
  mbedtls_pk_context key;
  Bytes cert_der;
  TestCa() {
    mbedtls_pk_init(&key);
    if (!rng.ok) return;
    if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0) return;
    if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random,
                            &rng.drbg) != 0)
      return;
    cert_der = issue(key, "CN=imsdc test CA,O=imsdc", true, "", 1);
  }
  ~TestCa() { mbedtls_pk_free(&key); }

  // Signs a certificate for `subject_key` with the CA key. SAN URI when `uri` is not empty.
  Bytes issue(mbedtls_pk_context& subject_key, const char* subject, bool is_ca,
              const std::string& uri, int serial) {
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi sn;
    mbedtls_mpi_init(&sn);
    Bytes out;
    unsigned char buf[4096];
    int rc = mbedtls_mpi_lset(&sn, serial);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    if (rc == 0) rc = mbedtls_x509write_crt_set_serial(&w, &sn);
    if (rc == 0) rc = mbedtls_x509write_crt_set_validity(&w, "20240101000000", "20400101000000");
    if (rc == 0) rc = mbedtls_x509write_crt_set_issuer_name(&w, "CN=imsdc test CA,O=imsdc");
    if (rc == 0) rc = mbedtls_x509write_crt_set_subject_name(&w, subject);
    mbedtls_x509write_crt_set_subject_key(&w, &subject_key);
    mbedtls_x509write_crt_set_issuer_key(&w, &key);
    if (rc == 0)
      rc = mbedtls_x509write_crt_set_basic_constraints(&w, is_ca ? 1 : 0, is_ca ? 0 : -1);
    if (rc == 0 && !uri.empty() && uri.size() < 120) {
      // subjectAltName = SEQUENCE { [6] IA5String uri } (mbedTLS 2.28 has no SAN writer).
      std::vector<unsigned char> san = {0x30, static_cast<unsigned char>(uri.size() + 2), 0x86,
                                        static_cast<unsigned char>(uri.size())};
      san.insert(san.end(), uri.begin(), uri.end());
      rc = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                               san.data(), san.size());
    }
    if (rc == 0) {
      int n = mbedtls_x509write_crt_der(&w, buf, sizeof buf, mbedtls_ctr_drbg_random, &rng.drbg);
      if (n > 0) out.assign(buf + sizeof buf - n, buf + sizeof buf);
    }
    mbedtls_mpi_free(&sn);
    mbedtls_x509write_crt_free(&w);
    return out;
  }
};

// Verifies a PKCS#10 CSR's self-signature with mbedTLS and returns its public key (X||Y).
bool verify_csr(const Bytes& der, std::array<uint8_t, 64>* xy, std::string* subject) {
  mbedtls_x509_csr csr;
  mbedtls_x509_csr_init(&csr);
  bool ok = mbedtls_x509_csr_parse_der(&csr, der.data(), der.size()) == 0;
  unsigned char hash[32];
  if (ok) ok = csr.sig_md == MBEDTLS_MD_SHA256;
  if (ok)
    ok =
        mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), csr.cri.p, csr.cri.len, hash) == 0;
  if (ok) ok = mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.sig.p, csr.sig.len) == 0;
  if (ok) {
    unsigned char pt[65];
    size_t len = 0;
    const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(csr.pk);
    ok = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &len, pt,
                                        sizeof pt) == 0 &&
         len == 65;
    if (ok) std::memcpy(xy->data(), pt + 1, 64);
    char name[256];
    if (ok && mbedtls_x509_dn_gets(name, sizeof name, &csr.subject) > 0) *subject = name;
  }
  mbedtls_x509_csr_free(&csr);
  return ok;
}

// Issues the device certificate from the CSR (subject and key taken from it).
Bytes issue_from_csr(TestCa& ca, const Bytes& csr_der, const std::string& uri) {
  mbedtls_x509_csr csr;
  mbedtls_x509_csr_init(&csr);
  Bytes out;
  if (mbedtls_x509_csr_parse_der(&csr, csr_der.data(), csr_der.size()) == 0) {
    char subject[256];
    if (mbedtls_x509_dn_gets(subject, sizeof subject, &csr.subject) > 0)
      out = ca.issue(csr.pk, subject, false, uri, 2);
  }
  mbedtls_x509_csr_free(&csr);
  return out;
}

Status store(const imsdc_port_keystore& ks, const std::vector<Bytes>& chain, int* rc) {
  std::vector<const uint8_t*> ders;
  std::vector<size_t> lens;
  for (const auto& c : chain) {
    ders.push_back(c.data());
    lens.push_back(c.size());
  }
  *rc = ks.store_chain(ks.ctx, ders.data(), lens.data(), ders.size());
  return *rc == 0 ? Status::ok() : Status(Code::kPortFailure, Module::kPort);
}

// Tries, with plain PKCS#11 calls and no imsdc code, to read the private key's value and to
// wrap it out of the token under a fresh AES key.
struct TryExport {
  bool found = false;
  CK_RV read_value_rv = CKR_OK;
  CK_RV wrap_rv = CKR_OK;
};

TryExport try_export_private_key(const std::string& label) {
  TryExport r;
  void* h = ::dlopen(kModule, RTLD_NOW | RTLD_LOCAL);
  if (!h) return r;
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(h, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR f = nullptr;
  if (!get_list || get_list(&f) != CKR_OK) {
    ::dlclose(h);
    return r;
  }
  CK_RV init = f->C_Initialize(nullptr);
  CK_SLOT_ID slots[8];
  CK_ULONG n = 8;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (f->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK) {
    for (CK_ULONG i = 0; i < n && s == CK_INVALID_HANDLE; ++i) {
      CK_TOKEN_INFO ti;
      if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK) continue;
      std::string l(reinterpret_cast<char*>(ti.label), sizeof ti.label);
      if (l.rfind(kTokenLabel, 0) == 0)
        f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
    }
  }
  if (s != CK_INVALID_HANDLE) {
    std::string pin = kPin;
    f->C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(&pin[0]), pin.size());
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
                        {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG got = 0;
    if (f->C_FindObjectsInit(s, t, 2) == CKR_OK) {
      f->C_FindObjects(s, &key, 1, &got);
      f->C_FindObjectsFinal(s);
    }
    if (got == 1) {
      r.found = true;
      unsigned char value[256];
      CK_ATTRIBUTE a = {CKA_VALUE, value, sizeof value};
      r.read_value_rv = f->C_GetAttributeValue(s, key, &a, 1);
      CK_ULONG len = 32;
      CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
      CK_ATTRIBUTE at[] = {{CKA_VALUE_LEN, &len, sizeof len},
                           {CKA_TOKEN, &no, sizeof no},
                           {CKA_WRAP, &yes, sizeof yes},
                           {CKA_EXTRACTABLE, &yes, sizeof yes}};
      CK_MECHANISM gen = {CKM_AES_KEY_GEN, nullptr, 0};
      CK_OBJECT_HANDLE aes = CK_INVALID_HANDLE;
      r.wrap_rv = f->C_GenerateKey(s, &gen, at, 4, &aes);
      if (r.wrap_rv == CKR_OK) {
        CK_MECHANISM wrap = {CKM_AES_KEY_WRAP_PAD, nullptr, 0};
        unsigned char wrapped[512];
        CK_ULONG wlen = sizeof wrapped;
        r.wrap_rv = f->C_WrapKey(s, &wrap, aes, key, wrapped, &wlen);
      }
    }
    f->C_CloseSession(s);
  }
  if (init == CKR_OK) f->C_Finalize(nullptr);
  ::dlclose(h);
  return r;
}

// --- Tests -------------------------------------------------------------------------------

TEST_F(SoftHsm, KeyCsrCertificateJwsEndToEnd) {
  auto tok = open_token();
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  pkcs11::Token& token = *tok.value();
  EXPECT_FALSE(token.has_key());
  const imsdc_port_keystore& ks = *token.port();
  uint8_t xy[64];
  EXPECT_EQ(ks.public_key(ks.ctx, xy), IMSDC_PORT_ENOENT);

  ASSERT_TRUE(token.generate_key().is_ok());
  EXPECT_TRUE(token.has_key());
  EXPECT_EQ(token.generate_key().code(), Code::kState); // never silently replaced

  // The key is sensitive and was never extractable.
  auto prot = token.key_protection();
  ASSERT_TRUE(prot.is_ok());
  EXPECT_TRUE(prot.value().sensitive);
  EXPECT_FALSE(prot.value().extractable);
  EXPECT_TRUE(prot.value().always_sensitive);
  EXPECT_TRUE(prot.value().never_extractable);
  auto extractable = token.is_private_key_extractable();
  ASSERT_TRUE(extractable.is_ok());
  EXPECT_FALSE(extractable.value());

  auto pub = crypto::keystore_public_key(ks);
  ASSERT_TRUE(pub.is_ok()) << pub.status().message();

  // A raw signature from the token verifies on the host.
  crypto::Digest d = crypto::sha256(ByteSpan(std::string_view("hello token")));
  auto sig = crypto::keystore_sign_digest(ks, d);
  ASSERT_TRUE(sig.is_ok());
  EXPECT_TRUE(
      crypto::ecdsa_verify_digest(pub.value(), d, ByteSpan(sig.value().data(), 64)).is_ok());

  // CSR signed in the token; mbedTLS checks it independently.
  auto csr = crypto::make_csr(ks, "device", kImpu);
  ASSERT_TRUE(csr.is_ok()) << csr.status().message();
  std::array<uint8_t, 64> csr_xy{};
  std::string subject;
  ASSERT_TRUE(verify_csr(csr.value(), &csr_xy, &subject));
  EXPECT_EQ(csr_xy, pub.value().xy);
  EXPECT_EQ(subject, "CN=device");

  // The CA issues the device certificate; the token stores leaf + CA.
  TestCa ca;
  ASSERT_FALSE(ca.cert_der.empty());
  Bytes leaf = issue_from_csr(ca, csr.value(), kImpu);
  ASSERT_FALSE(leaf.empty());
  int rc = 0;
  // The CA certificate is not for the device key: refused as a leaf.
  EXPECT_FALSE(store(ks, {ca.cert_der}, &rc).is_ok());
  EXPECT_EQ(rc, IMSDC_PORT_EINVAL);
  ASSERT_TRUE(store(ks, {leaf, ca.cert_der}, &rc).is_ok()) << rc;
  // Storing again replaces (no duplicate objects).
  ASSERT_TRUE(store(ks, {leaf, ca.cert_der}, &rc).is_ok()) << rc;

  // Reopen: the chain comes back from the token.
  tok.value().reset();
  auto tok2 = open_token();
  ASSERT_TRUE(tok2.is_ok()) << tok2.status().message();
  const imsdc_port_keystore& ks2 = *tok2.value()->port();
  auto chain = crypto::keystore_chain(ks2);
  ASSERT_TRUE(chain.is_ok()) << chain.status().message();
  ASSERT_EQ(chain.value().size(), 2u);
  EXPECT_EQ(chain.value()[0], leaf);
  EXPECT_EQ(chain.value()[1], ca.cert_der);
  uint8_t small[16];
  size_t need = 0;
  EXPECT_EQ(ks2.cert_chain(ks2.ctx, 0, small, sizeof small, &need), IMSDC_PORT_ENOSPC);
  EXPECT_EQ(need, leaf.size());
  EXPECT_EQ(ks2.cert_chain(ks2.ctx, 2, small, sizeof small, &need), IMSDC_PORT_ENOENT);

  // A JWS signed in the token verifies against the test CA.
  int64_t now = imsdc_port_clock_wall_s();
  ASSERT_GT(now, 0);
  std::string claims = "{\"iss\":\"" + std::string(kImpu) + "\",\"iat\":" + std::to_string(now) +
                       ",\"exp\":" + std::to_string(now + 300) + "}";
  auto jws = jose::jws_sign(ks2, ByteSpan(std::string_view(claims)), "JWT");
  ASSERT_TRUE(jws.is_ok()) << jws.status().message();
  crypto::TrustStore trust;
  ASSERT_TRUE(trust.add_der(ca.cert_der).is_ok());
  jose::VerifyOptions opt;
  opt.trust = &trust;
  opt.now_s = now;
  auto v = jose::jws_verify_x5c(jws.value(), opt);
  ASSERT_TRUE(v.is_ok()) << v.status().name() << ": " << v.status().message();
  EXPECT_EQ(v.value().identity, kImpu);
  EXPECT_EQ(v.value().x5c.size(), 2u);

  // Independently of the port: the raw PKCS#11 API refuses to reveal or wrap the key.
  tok2.value().reset();
  TryExport exp = try_export_private_key(kKeyLabel);
  EXPECT_TRUE(exp.found);
  EXPECT_EQ(exp.read_value_rv, CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(exp.wrap_rv, CKR_KEY_UNEXTRACTABLE);

  // And so does an independent tool (OpenSC pkcs11-tool).
  if (!have_tool("pkcs11-tool")) GTEST_SKIP() << "pkcs11-tool (opensc) is not installed";
  std::string out;
  int st = run(std::string("pkcs11-tool --module ") + kModule + " --token-label " + kTokenLabel +
                   " --login --pin " + kPin + " --list-objects --type privkey",
               &out);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find(std::string("label:      ") + kKeyLabel), std::string::npos) << out;
  EXPECT_NE(out.find("sensitive, always sensitive, never extractable"), std::string::npos) << out;
}

TEST_F(SoftHsm, ReplaceGeneratesANewKeyAndDropsTheOldChain) {
  auto tok = open_token();
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  pkcs11::Token& token = *tok.value();
  ASSERT_TRUE(token.generate_key().is_ok());
  const imsdc_port_keystore& ks = *token.port();
  auto pub1 = crypto::keystore_public_key(ks);
  ASSERT_TRUE(pub1.is_ok());
  auto self_signed =
      crypto::make_self_signed_cert(ks, "device", kImpu, imsdc_port_clock_wall_s(), 1);
  ASSERT_TRUE(self_signed.is_ok()) << self_signed.status().message();
  int rc = 0;
  ASSERT_TRUE(store(ks, {self_signed.value()}, &rc).is_ok()) << rc;

  ASSERT_TRUE(token.generate_key(/*replace=*/true).is_ok());
  auto pub2 = crypto::keystore_public_key(ks);
  ASSERT_TRUE(pub2.is_ok());
  EXPECT_FALSE(pub1.value() == pub2.value());
  uint8_t buf[4096];
  size_t n = 0;
  EXPECT_EQ(ks.cert_chain(ks.ctx, 0, buf, sizeof buf, &n), IMSDC_PORT_ENOENT);
  auto prot = token.key_protection();
  ASSERT_TRUE(prot.is_ok());
  EXPECT_FALSE(prot.value().extractable);
}

TEST_F(SoftHsm, WrongPinAndUnknownTokenAreRejected) {
  auto bad = open_token("0000");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kAuthRejected);
  auto none = pkcs11::Token::open(kModule, "no-such-token", kPin, kKeyLabel);
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  auto nomod = pkcs11::Token::open("/nonexistent/libp11.so", kTokenLabel, kPin, kKeyLabel);
  ASSERT_FALSE(nomod.is_ok());
  EXPECT_EQ(nomod.status().code(), Code::kNotFound);
  // Two Tokens on one module share one C_Initialize and one login.
  auto a = open_token();
  ASSERT_TRUE(a.is_ok());
  auto b = pkcs11::Token::open(kModule, kTokenLabel, kPin, "second-key");
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  ASSERT_TRUE(b.value()->generate_key().is_ok());
  a.value().reset();
  // b still works after a is gone.
  auto pub = crypto::keystore_public_key(*b.value()->port());
  EXPECT_TRUE(pub.is_ok());
  crypto::Digest d{};
  EXPECT_TRUE(crypto::keystore_sign_digest(*b.value()->port(), d).is_ok());
}

} // namespace
} // namespace imsdc
