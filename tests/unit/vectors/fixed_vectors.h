// The fixed vectors of tests/unit/data/fixed, made once by independent implementations
// (Python cryptography for the certificates, jose from npm for the JWS, JWE and PASSporTs;
// see generate.py there): their file names and the values they were made with. Shared by the
// host unit tests and the on-target runner (tests/target), which read the same files.
#ifndef IMSDC_TESTS_VECTORS_FIXED_VECTORS_H
#define IMSDC_TESTS_VECTORS_FIXED_VECTORS_H

#include <cstdint>

namespace imsdc::test_vectors::fixed {

// --- test PKI: root -> intermediate -> leaf / avatar signer; another root of the same name ---
// root 2025-01-01..2035-01-01, intermediate ..2030-01-01, leaf and signer 2025-06-01..2026-12-31.
const char* const kRootPem = "fixed/root.pem";
const char* const kInterPem = "fixed/inter.pem";
const char* const kLeafPem = "fixed/leaf.pem"; // URI SAN kImpu, DNS SAN localhost
const char* const kOtherRootPem = "fixed/other_root.pem";
const char* const kSignerPem = "fixed/signer.pem"; // URI SAN https://avatars.example.org/signer
const char* const kImpu = "sip:alice@ims.example.org";
constexpr std::int64_t kLeafNotBefore = 1748736000; // 2025-06-01
constexpr std::int64_t kLeafNotAfter = 1798675200;  // 2026-12-31

// --- avatar (PROTOCOL_PROFILE.md sections 6-8) ------------------------------------------------
constexpr std::int64_t kAvatarNow = 1767225600; // iat of the attestation; = fake::kDefaultWallS
constexpr std::int64_t kAttestationExp = kAvatarNow + 60;
const char* const kAttestationJws = "fixed/attestation.jws"; // typ avatar-attestation+jwt
const char* const kAttestationWrongIssJws = "fixed/attestation_wrong_iss.jws"; // iss mallory
const char* const kJti = "q1w2e3r4t5y6u7i8o9p0aQ";
const char* const kAvatarId = "av-1";
const char* const kEphemeralPrivateJwk = "fixed/ephemeral_private.jwk"; // the attestation's epk
const char* const kRepresentation = "fixed/rep.glb";    // 10000 bytes, the JWE's plaintext
const char* const kRepresentationJwe = "fixed/rep.jwe"; // ECDH-ES/A256GCM, apv = kJti
const char* const kManifestJws = "fixed/manifest.jws";  // signer.pem, exp kAvatarNow + 3600
const char* const kCty = "model/gltf-binary";

// --- identity (PASSporTs; x5u kStiX5u serves sti_leaf.pem) -----------------------------------
constexpr std::int64_t kIdentityNow = 1800000000; // iat of both PASSporTs
const char* const kStiRootPem = "fixed/sti_root.pem";
const char* const kStiLeafPem = "fixed/sti_leaf.pem";
const char* const kStiX5u = "https://cert.example/sti.pem";
const char* const kShakenJws = "fixed/shaken.jws"; // attest A, 15551110001 -> 15552220002
const char* const kRcdJws = "fixed/rcd.jws";       // nam Alice, jcd org Example Org, crn Lunch

} // namespace imsdc::test_vectors::fixed

#endif // IMSDC_TESTS_VECTORS_FIXED_VECTORS_H
