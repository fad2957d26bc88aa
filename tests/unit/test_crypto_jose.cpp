// jose: JWS compact ES256 (RFC 7515 Appendix A.3), JWK import/export, signing through the
// keystore port, x5c verification (chain, signature, typ, identity binding, times) and the
// tamper cases of PROTOCOL_PROFILE.md sections 6 and 7.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crypto/internal.h"
#include "imsdc/codec.h"
#include "imsdc/config_defaults.h"
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "imsdc/port_fake.h"
#include "port/port.h"
#include "vectors/jose_vectors.h"

using namespace imsdc::test_vectors; // tables shared with tests/target

namespace imsdc {
namespace {

using crypto::EcPrivateKey;
using crypto::MemoryKeystore;

constexpr const char* kImpu = "sip:alice@ims.example.org";
constexpr const char* kTyp = "avatar-attestation+jwt";

class CryptoJose : public testing::Test {
 protected:
  void SetUp() override { fake::reset(); }
  void TearDown() override { fake::reset(); }
};

TEST_F(CryptoJose, Rfc7515AppendixA3) {
  auto parts = jose::jws_parse(kA3Jws);
  ASSERT_TRUE(parts.is_ok()) << parts.status().message();
  EXPECT_EQ(parts.value().alg, "ES256");
  EXPECT_EQ(parts.value().header_json, R"({"alg":"ES256"})");
  EXPECT_TRUE(parts.value().x5c.empty());
  std::string payload(parts.value().payload.begin(), parts.value().payload.end());
  EXPECT_EQ(payload, "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  auto key = crypto::jwk_to_public(kA3Jwk);
  ASSERT_TRUE(key.is_ok()) << key.status().message();
  EXPECT_TRUE(jose::jws_verify(parts.value(), key.value()).is_ok());
  // The private JWK matches its public part.
  auto priv = crypto::jwk_to_private(kA3Jwk);
  ASSERT_TRUE(priv.is_ok()) << priv.status().message() << " " << priv.status().name();
  EXPECT_EQ(priv.value().public_key(), key.value());
  // A different key does not verify it.
  auto other = EcPrivateKey::generate();
  EXPECT_EQ(jose::jws_verify(parts.value(), other.value().public_key()), Code::kBadSignature);
}

// --- JWK ------------------------------------------------------------------------------------

TEST_F(CryptoJose, JwkRoundTrip) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  std::string pub = crypto::jwk_from_public(k.value().public_key());
  EXPECT_EQ(pub.find("\"d\""), std::string::npos);
  auto back = crypto::jwk_to_public(pub);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back.value(), k.value().public_key());
  SecretBytes priv = crypto::jwk_from_private(k.value());
  auto kp = crypto::jwk_to_private(priv.span().as_string());
  ASSERT_TRUE(kp.is_ok());
  EXPECT_TRUE(constant_time_equal(kp.value().scalar(), k.value().scalar()));
}

TEST_F(CryptoJose, JwkRejects) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k.is_ok());
  crypto::EcPublicKey off = k.value().public_key();
  off.xy[63] ^= 1;  // no longer on the curve
  EXPECT_EQ(crypto::jwk_to_public(crypto::jwk_from_public(off)).status(), Code::kBadKey);
  const std::string x = base64url_encode(ByteSpan(k.value().public_key().xy.data(), 32));
  const std::string y = base64url_encode(ByteSpan(k.value().public_key().xy.data() + 32, 32));
  auto jwk = [&](const std::string& body) { return crypto::jwk_to_public("{" + body + "}").status(); };
  const std::string ec = R"("kty":"EC","crv":"P-256",)";
  EXPECT_EQ(jwk(ec + R"("x":")" + x + R"(","y":")" + y + "\""), Code::kOk);
  EXPECT_EQ(jwk(R"("kty":"RSA","n":"AQAB","e":"AQAB")"), Code::kUnsupported);
  EXPECT_EQ(jwk(R"("kty":"EC","crv":"P-384","x":")" + x + R"(","y":")" + y + "\""),
            Code::kUnsupported);
  EXPECT_EQ(jwk(R"("crv":"P-256","x":")" + x + R"(","y":")" + y + "\""), Code::kMalformed);
  EXPECT_EQ(jwk(ec + R"("x":")" + x + "\""), Code::kMalformed);
  // 31-byte coordinate (leading zero stripped) is not allowed: exactly 32 bytes.
  const std::string x31 = base64url_encode(ByteSpan(k.value().public_key().xy.data() + 1, 31));
  EXPECT_EQ(jwk(ec + R"("x":")" + x31 + R"(","y":")" + y + "\""), Code::kBadKey);
  // Padding and non-canonical base64url are malformed.
  EXPECT_EQ(jwk(ec + R"("x":")" + x + R"(=","y":")" + y + "\""), Code::kMalformed);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string xnc = x;
  xnc.back() = alphabet[alphabet.find(xnc.back()) ^ 1];  // 43 chars: 2 unused bits at the end
  EXPECT_EQ(jwk(ec + R"("x":")" + xnc + R"(","y":")" + y + "\""), Code::kMalformed);
  EXPECT_EQ(jwk(ec + R"("x":")" + x + R"(","x":")" + x + R"(","y":")" + y + "\""),
            Code::kMalformed);  // duplicate member
  EXPECT_EQ(crypto::jwk_to_public("[1,2]").status(), Code::kMalformed);
  EXPECT_EQ(crypto::jwk_to_public("{\"kty\":\"EC\"} x").status(), Code::kMalformed);
  EXPECT_EQ(crypto::jwk_to_public(std::string(100, '[')).status(), Code::kMalformed);

  // d that does not belong to x, y.
  auto other = EcPrivateKey::generate();
  const std::string d = base64url_encode(other.value().scalar());
  EXPECT_EQ(crypto::jwk_to_private("{" + ec + R"("x":")" + x + R"(","y":")" + y + R"(","d":")" +
                                   d + "\"}")
                .status(),
            Code::kBadKey);
}

// --- signing and x5c verification -------------------------------------------------------------

std::unique_ptr<MemoryKeystore> new_keystore() {
  auto k = EcPrivateKey::generate();
  EXPECT_TRUE(k.is_ok());
  return std::make_unique<MemoryKeystore>(std::move(k.value()));
}

Bytes issue(const MemoryKeystore& issuer, const char* issuer_cn, const MemoryKeystore& subject,
            const char* cn, std::int64_t nb, std::int64_t na, bool is_ca, const char* uri = "") {
  crypto::internal::CertSpec spec;
  spec.subject_cn = cn;
  spec.issuer_cn = issuer_cn;
  spec.uri_san = uri;
  spec.subject_key = subject.key().public_key();
  spec.not_before = nb;
  spec.not_after = na;
  spec.is_ca = is_ca;
  auto der = crypto::internal::issue_cert(*issuer.port(), spec);
  EXPECT_TRUE(der.is_ok()) << der.status().message();
  return der.is_ok() ? der.value() : Bytes();
}

// An operator CA and a device whose keystore holds [leaf(IMPU), CA].
struct Device {
  std::unique_ptr<MemoryKeystore> ca_ks = new_keystore();
  std::unique_ptr<MemoryKeystore> ks = new_keystore();
  Bytes ca, leaf;
  crypto::TrustStore trust;
  Device(std::int64_t now, std::int64_t leaf_lifetime = 86400) {
    ca = issue(*ca_ks, "Operator CA", *ca_ks, "Operator CA", now - 86400, now + 3650 * 86400LL,
               true);
    leaf = issue(*ca_ks, "Operator CA", *ks, "alice", now - 60, now + leaf_lifetime, false, kImpu);
    EXPECT_TRUE(ks->set_chain({leaf, ca}).is_ok());
    EXPECT_TRUE(trust.add_der(ca).is_ok());
  }
};

std::string claims(const char* iss, std::int64_t now, std::int64_t exp_delta = 60) {
  std::string c = "{";
  if (iss) c += std::string("\"iss\":\"") + iss + "\",";
  c += "\"avatar_id\":\"av-1\",\"aud\":\"BAR\",\"iat\":" + std::to_string(now) +
       ",\"exp\":" + std::to_string(now + exp_delta) + ",\"jti\":\"j-1\"}";
  return c;
}

// Payload bytes of a std::string (ByteSpan converts from string_view only).
ByteSpan span(const std::string& s) { return ByteSpan(std::string_view(s)); }

jose::VerifyOptions options(const crypto::TrustStore& trust, std::int64_t now) {
  jose::VerifyOptions o;
  o.trust = &trust;
  o.now_s = now;
  o.expect_typ = kTyp;
  return o;
}

// Replaces segment `index` (0..2) of a compact JWS.
std::string with_segment(const std::string& jws, int index, const std::string& seg) {
  std::size_t d1 = jws.find('.'), d2 = jws.find('.', d1 + 1);
  std::string parts[3] = {jws.substr(0, d1), jws.substr(d1 + 1, d2 - d1 - 1), jws.substr(d2 + 1)};
  parts[index] = seg;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

std::string segment(const std::string& jws, int index) {
  std::size_t d1 = jws.find('.'), d2 = jws.find('.', d1 + 1);
  if (index == 0) return jws.substr(0, d1);
  if (index == 1) return jws.substr(d1 + 1, d2 - d1 - 1);
  return jws.substr(d2 + 1);
}

TEST_F(CryptoJose, SignAndVerifyX5c) {
  const std::int64_t now = port::wall_s();
  Device dev(now);
  auto jws = jose::jws_sign(*dev.ks->port(), span(claims(kImpu, now)), kTyp);
  ASSERT_TRUE(jws.is_ok()) << jws.status().message();
  auto parts = jose::jws_parse(jws.value());
  ASSERT_TRUE(parts.is_ok());
  EXPECT_EQ(parts.value().typ, kTyp);
  ASSERT_EQ(parts.value().x5c.size(), 2u);
  EXPECT_EQ(parts.value().x5c[0], dev.leaf);
  EXPECT_TRUE(jose::jws_verify(parts.value(), dev.ks->key().public_key()).is_ok());

  auto v = jose::jws_verify_x5c(jws.value(), options(dev.trust, now));
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(v.value().identity, kImpu);
  EXPECT_EQ(v.value().payload_json, claims(kImpu, now));
  EXPECT_EQ(v.value().leaf.uri_sans[0], kImpu);
  // typ compare is case-insensitive and tolerates the "application/" prefix.
  jose::VerifyOptions o = options(dev.trust, now);
  o.expect_typ = "application/Avatar-Attestation+JWT";
  EXPECT_TRUE(jose::jws_verify_x5c(jws.value(), o).is_ok());

  // Without x5c: verifiable with the key, but not by jws_verify_x5c.
  auto bare = jose::jws_sign(*dev.ks->port(), span(claims(kImpu, now)), "", false);
  ASSERT_TRUE(bare.is_ok());
  auto bp = jose::jws_parse(bare.value());
  ASSERT_TRUE(bp.is_ok());
  EXPECT_EQ(bp.value().header_json, R"({"alg":"ES256"})");
  EXPECT_EQ(jose::jws_verify_x5c(bare.value(), options(dev.trust, now)).status(), Code::kUntrusted);

  // sub is the identity when there is no iss (UE token, CCA).
  auto by_sub = jose::jws_sign(*dev.ks->port(),
                               span(std::string(R"({"sub":")") + kImpu + R"(","exp":)" +
                                    std::to_string(now + 60) + "}"),
                               "ue-token+jwt");
  ASSERT_TRUE(by_sub.is_ok());
  o = options(dev.trust, now);
  o.expect_typ = "ue-token+jwt";
  auto vs = jose::jws_verify_x5c(by_sub.value(), o);
  ASSERT_TRUE(vs.is_ok()) << vs.status().message();
  EXPECT_EQ(vs.value().identity, kImpu);
}

TEST_F(CryptoJose, TamperCases) {
  const std::int64_t now = port::wall_s();
  Device dev(now);
  auto jws = jose::jws_sign(*dev.ks->port(), span(claims(kImpu, now)), kTyp);
  ASSERT_TRUE(jws.is_ok());
  const std::string good = jws.value();
  const auto opt = options(dev.trust, now);

  // A changed signature byte.
  auto sig = base64url_decode(segment(good, 2));
  ASSERT_TRUE(sig.is_ok());
  Bytes s = sig.value();
  s[20] ^= 0x01;
  EXPECT_EQ(jose::jws_verify_x5c(with_segment(good, 2, base64url_encode(s)), opt).status(),
            Code::kBadSignature);

  // A changed payload.
  std::string p2 = base64url_encode(ByteSpan(claims(kImpu, now, 3600)));
  EXPECT_EQ(jose::jws_verify_x5c(with_segment(good, 1, p2), opt).status(), Code::kBadSignature);

  // The last base64url character changed only in its unused bits: canonical decoding must
  // refuse it rather than decode the same 64 bytes.
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s64 = segment(good, 2);
  ASSERT_EQ(s64.size(), 86u);  // 516 bits for 512: 4 unused bits in the last character
  s64.back() = alphabet[alphabet.find(s64.back()) ^ 1];
  EXPECT_EQ(jose::jws_verify_x5c(with_segment(good, 2, s64), opt).status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(with_segment(good, 2, s64)).status(), Code::kMalformed);

  // alg none, another alg, crit.
  const std::string payload = segment(good, 1);
  auto with_header = [&](const std::string& h) {
    return with_segment(good, 0, base64url_encode(ByteSpan(h)));
  };
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"none"})")).status(), Code::kUnsupported);
  EXPECT_EQ(jose::jws_parse(base64url_encode(ByteSpan(std::string_view(R"({"alg":"none"})"))) +
                            "." + payload + ".")
                .status(),
            Code::kUnsupported);  // an unsecured JWS as RFC 7515 A.5 writes it
  EXPECT_EQ(jose::jws_verify_x5c(with_header(R"({"alg":"none"})"), opt).status(),
            Code::kUnsupported);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"HS256"})")).status(), Code::kUnsupported);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"es256"})")).status(), Code::kUnsupported);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"ES256","crit":["exp"],"exp":1})")).status(),
            Code::kUnsupported);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"ES256\u0000x"})")).status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"ES256","alg":"none"})")).status(),
            Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"typ":"x"})")).status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(with_header(R"(["ES256"])")).status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"ES256","x5c":"MII="})")).status(),
            Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(with_header(R"({"alg":"ES256","x5c":["MII-"]})")).status(),
            Code::kMalformed);

  // Segments and size.
  EXPECT_EQ(jose::jws_parse(good + ".x").status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse("a.b").status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse("").status(), Code::kMalformed);
  EXPECT_EQ(jose::jws_parse(std::string(IMSDC_MAX_JWS_SIZE + 1, 'A')).status(), Code::kTooLarge);
}

TEST_F(CryptoJose, BindingTypAndTimes) {
  const std::int64_t now = port::wall_s();
  Device dev(now);
  auto sign = [&](const std::string& c, const char* typ = kTyp) {
    auto r = jose::jws_sign(*dev.ks->port(), span(c), typ);
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? r.value() : std::string();
  };
  const auto opt = options(dev.trust, now);

  // iss is not the leaf's IMPU.
  EXPECT_EQ(jose::jws_verify_x5c(sign(claims("sip:mallory@ims.example.org", now)), opt).status(),
            Code::kBinding);
  // Neither iss nor sub.
  EXPECT_EQ(jose::jws_verify_x5c(sign(claims(nullptr, now)), opt).status(), Code::kBinding);
  // iss wins over sub even when sub would match.
  EXPECT_EQ(jose::jws_verify_x5c(sign(R"({"iss":"sip:x@y","sub":")" + std::string(kImpu) +
                                      R"(","exp":)" + std::to_string(now + 60) + "}"),
                                 opt)
                .status(),
            Code::kBinding);
  // Binding check can be turned off (e.g. manifests signed by a service certificate).
  jose::VerifyOptions loose = opt;
  loose.identity_is_leaf_uri = false;
  EXPECT_TRUE(jose::jws_verify_x5c(sign(claims("sip:x@y", now)), loose).is_ok());
  // Wrong typ.
  EXPECT_EQ(jose::jws_verify_x5c(sign(claims(kImpu, now), "avatar-token+jwt"), opt).status(),
            Code::kBinding);

  // exp in the past (beyond the skew), nbf and iat in the future.
  EXPECT_EQ(jose::jws_verify_x5c(sign(claims(kImpu, now - 120, 60)), opt).status(),
            Code::kExpired);
  EXPECT_TRUE(jose::jws_verify_x5c(sign(claims(kImpu, now - 62, 60)), opt).is_ok());  // skew
  EXPECT_EQ(jose::jws_verify_x5c(sign(R"({"iss":")" + std::string(kImpu) + R"(","exp":)" +
                                      std::to_string(now + 600) + R"(,"nbf":)" +
                                      std::to_string(now + 60) + "}"),
                                 opt)
                .status(),
            Code::kExpired);
  EXPECT_EQ(jose::jws_verify_x5c(sign(claims(kImpu, now + 60)), opt).status(), Code::kExpired);
  // Missing or non-integer exp.
  EXPECT_EQ(jose::jws_verify_x5c(sign(R"({"iss":")" + std::string(kImpu) + "\"}"), opt).status(),
            Code::kMalformed);
  EXPECT_EQ(jose::jws_verify_x5c(sign(R"({"iss":")" + std::string(kImpu) + R"(","exp":"soon"})"),
                                 opt)
                .status(),
            Code::kMalformed);
  EXPECT_EQ(jose::jws_verify_x5c(sign(R"({"iss":")" + std::string(kImpu) + R"(","exp":)" +
                                      std::to_string(now + 60) + ".5}"),
                                 opt)
                .status(),
            Code::kMalformed);
  // Claims that are not a JSON object.
  EXPECT_EQ(jose::jws_verify_x5c(sign("[]"), opt).status(), Code::kMalformed);
  // Unknown time.
  jose::VerifyOptions no_time = opt;
  no_time.now_s = -1;
  EXPECT_EQ(jose::jws_verify_x5c(sign(claims(kImpu, now)), no_time).status(), Code::kExpired);
}

TEST_F(CryptoJose, ChainFailures) {
  const std::int64_t now = port::wall_s();
  Device dev(now, 3600);
  auto jws = jose::jws_sign(*dev.ks->port(), span(claims(kImpu, now, 7200)), kTyp);
  ASSERT_TRUE(jws.is_ok());

  // Another operator's CA: untrusted.
  Device other(now);
  EXPECT_EQ(jose::jws_verify_x5c(jws.value(), options(other.trust, now)).status(),
            Code::kUntrusted);
  // A self-signed device certificate is never accepted by a verifier that trusts the CA.
  auto self = crypto::make_self_signed_cert(*dev.ks->port(), "alice", kImpu, now, 1);
  ASSERT_TRUE(self.is_ok());
  ASSERT_TRUE(dev.ks->set_chain({self.value()}).is_ok());
  auto self_jws = jose::jws_sign(*dev.ks->port(), span(claims(kImpu, now)), kTyp);
  ASSERT_TRUE(self_jws.is_ok());
  EXPECT_EQ(jose::jws_verify_x5c(self_jws.value(), options(dev.trust, now)).status(),
            Code::kUntrusted);

  // The leaf expires on the virtual clock while the token's exp is still ahead.
  fake::advance_ms(2 * 3600 * 1000ULL);
  ASSERT_EQ(port::wall_s(), now + 7200);
  EXPECT_EQ(jose::jws_verify_x5c(jws.value(), options(dev.trust, port::wall_s() - 1)).status(),
            Code::kExpired);

  // Signature by a key other than the leaf's, with the leaf's chain in x5c.
  auto imposter = new_keystore();
  ASSERT_TRUE(dev.ks->set_chain({dev.leaf, dev.ca}).is_ok());
  auto chain_b64 = crypto::keystore_chain(*dev.ks->port());
  ASSERT_TRUE(chain_b64.is_ok());
  std::string header = R"({"alg":"ES256","typ":")" + std::string(kTyp) + R"(","x5c":[")" +
                       base64_encode(dev.leaf) + "\",\"" + base64_encode(dev.ca) + "\"]}";
  auto forged = jose::jws_sign_with_header(*imposter->port(), header, span(claims(kImpu, now)));
  ASSERT_TRUE(forged.is_ok());
  EXPECT_EQ(jose::jws_verify_x5c(forged.value(), options(dev.trust, now)).status(),
            Code::kBadSignature);
  // jws_sign_with_header refuses headers we could not verify ourselves.
  EXPECT_EQ(jose::jws_sign_with_header(*imposter->port(), R"({"alg":"none"})", ByteSpan()).status(),
            Code::kInvalidArgument);
  EXPECT_EQ(jose::jws_verify_x5c(jws.value(), jose::VerifyOptions{}).status(),
            Code::kInvalidArgument);
}

TEST_F(CryptoJose, SigningFailuresComeFromTheKeystore) {
  const std::int64_t now = port::wall_s();
  Device dev(now);
  fake::FaultyKeystore faulty(*dev.ks->port());
  fake::fail_nth(fake::Fn::kKeystoreSign, 1, IMSDC_PORT_EDENIED);
  EXPECT_EQ(jose::jws_sign(*faulty.port(), span(claims(kImpu, now)), kTyp).status(), Code::kPortFailure);
  fake::fail_nth(fake::Fn::kKeystoreChain, 1, IMSDC_PORT_EIO);
  EXPECT_EQ(jose::jws_sign(*faulty.port(), span(claims(kImpu, now)), kTyp).status(), Code::kPortFailure);
  EXPECT_TRUE(jose::jws_sign(*faulty.port(), span(claims(kImpu, now)), kTyp).is_ok());
  EXPECT_EQ(jose::jws_sign(*dev.ks->port(), Bytes(IMSDC_MAX_JWS_SIZE, 'a'), kTyp).status(),
            Code::kTooLarge);
}

}  // namespace
}  // namespace imsdc
