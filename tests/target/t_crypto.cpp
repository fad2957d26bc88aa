// crypto/ on target: RFC 7515 appendix A.3 (JWS ES256) verified with its JWK (shared with
// tests/unit/test_crypto_jose.cpp through tests/unit/vectors/jose_vectors.h), and tampering.
#include "imsdc/crypto.h"
#include "imsdc/jose.h"
#include "runner.h"
#include "vectors/jose_vectors.h"

using namespace imsdc;
using namespace imsdc::test_vectors;

TEST_CASE(crypto, JwsRfc7515AppendixA3) {
  auto parts = jose::jws_parse(kA3Jws);
  REQUIRE_OK(parts);
  CHECK_EQ(parts->alg, std::string("ES256"));
  CHECK_EQ(parts->header_json, std::string(R"({"alg":"ES256"})"));
  std::string payload(parts->payload.begin(), parts->payload.end());
  CHECK_EQ(payload, std::string("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
                                "\"http://example.com/is_root\":true}"));
  auto key = crypto::jwk_to_public(kA3Jwk);
  REQUIRE_OK(key);
  CHECK_OK(jose::jws_verify(parts.value(), key.value()));
  CHECK_OK(crypto::jwk_to_private(kA3Jwk));
}

TEST_CASE(crypto, JwsRfc7515AppendixA3TamperedSignatureFails) {
  std::string jws = kA3Jws;
  jws[jws.size() - 5] = jws[jws.size() - 5] == 'A' ? 'B' : 'A';
  auto parts = jose::jws_parse(jws);
  auto key = crypto::jwk_to_public(kA3Jwk);
  REQUIRE_OK(key);
  CHECK(!parts.is_ok() || !jose::jws_verify(parts.value(), key.value()).is_ok());
}
