// Signed avatar representation (PROTOCOL_PROFILE.md section 8): an "avatar-manifest+jwt"
// JWS, signed by the avatar signing certificate, names the representation's digest and
// size. The representation is hashed while it streams into the storage sink and is
// committed only when signature, chain, exp, avatar_id, size and digest all hold.
#ifndef IMSDC_SRC_AVATAR_MANIFEST_H
#define IMSDC_SRC_AVATAR_MANIFEST_H

#include <cstdint>
#include <string>
#include <string_view>

#include "avatar/blob_sink.h"
#include "imsdc/crypto.h"
#include "imsdc/port/storage.h"
#include "imsdc/status.h"

namespace imsdc::avatar {

constexpr const char* kTypManifest = "avatar-manifest+jwt";

struct Manifest {
  std::string avatar_id;
  crypto::Digest digest{};
  std::uint64_t size = 0;
  std::string cty;
  std::int64_t iat = 0;
  std::int64_t exp = 0;
};

// Verifies the manifest JWS: x5c chain to `trust` at now_s, ES256 signature, typ
// avatar-manifest+jwt, exp (the signer is an avatar signing certificate, not a device, so
// there is no IMPU binding), then its claims: avatar_id equal to expect_avatar_id (when
// not empty), digest "sha256-<base64>" of 32 bytes, non-negative integer size, cty string.
// Errors: as jose::jws_verify_x5c (kMalformed, kTooLarge, kUnsupported, kUntrusted,
// kExpired, kBadSignature, kBinding for typ), kMalformed (claims), kBinding (avatar_id).
Result<Manifest> verify_manifest(std::string_view jws, const crypto::TrustStore& trust,
                                 std::string_view expect_avatar_id, std::int64_t now_s);

// Streams a representation against a verified manifest into a blob named `name`.
// Errors of feed/finish: kTooLarge (more bytes than the manifest's size: stops at once),
// kAuthFailed (fewer bytes, or digest mismatch), kIo / kPortFailure (storage), kState.
// Any failure aborts the blob; later calls return the same error.
class ManifestSink {
public:
  ManifestSink(Manifest manifest, const imsdc_port_storage& storage, std::string name);
  ManifestSink(const ManifestSink&) = delete;
  ManifestSink& operator=(const ManifestSink&) = delete;
  Status feed(ByteSpan data);
  Status finish();

private:
  Status fail(Status s);
  Manifest manifest_;
  const imsdc_port_storage& storage_;
  std::string name_;
  crypto::Sha256 hash_;
  BlobSink sink_;
  std::uint64_t size_ = 0;
  bool done_ = false;
  Status error_;
};

} // namespace imsdc::avatar

#endif // IMSDC_SRC_AVATAR_MANIFEST_H
