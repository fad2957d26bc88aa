// Test identities for the data-channel tests: a MemoryKeystore with a self-signed
// certificate (on the fake port's wall clock) and its SHA-256 SDP fingerprint.
#ifndef IMSDC_TESTS_UNIT_DC_IDENTITY_H
#define IMSDC_TESTS_UNIT_DC_IDENTITY_H

#include <gtest/gtest.h>

#include <memory>

#include "imsdc/crypto.h"
#include "imsdc/port_fake.h"
#include "sdp/sdp.h"

namespace imsdc::dc::test {

struct Identity {
  std::unique_ptr<crypto::MemoryKeystore> ks;
  Bytes der;
  sdp::Fingerprint fp() const {
    crypto::Digest d = crypto::sha256(ByteSpan(der));
    return sdp::Fingerprint{sdp::HashFunc::kSha256, Bytes(d.begin(), d.end())};
  }
};

inline Identity self_signed(const char* cn) {
  Identity id;
  auto key = crypto::EcPrivateKey::generate();
  EXPECT_TRUE(key.is_ok());
  id.ks = std::make_unique<crypto::MemoryKeystore>(std::move(key.value()));
  auto der = crypto::make_self_signed_cert(*id.ks->port(), cn, "", fake::wall_s(), 1);
  EXPECT_TRUE(der.is_ok());
  id.der = der.value();
  EXPECT_TRUE(id.ks->set_chain({id.der}).is_ok());
  return id;
}

} // namespace imsdc::dc::test

#endif // IMSDC_TESTS_UNIT_DC_IDENTITY_H
