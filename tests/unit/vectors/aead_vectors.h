// Key agreement and AEAD known answers: RFC 7518 appendix C (ECDH-ES P-256 and the JOSE Concat
// KDF) and test case 16 of McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)"
// (AES-256). Shared by tests/unit/test_crypto_aead.cpp and tests/target/t_crypto.cpp.
#ifndef IMSDC_TESTS_VECTORS_AEAD_VECTORS_H
#define IMSDC_TESTS_VECTORS_AEAD_VECTORS_H

#include <cstdint>

namespace imsdc::test_vectors {

// --- RFC 7518 Appendix C --------------------------------------------------------------------
const char* const kAliceJwk = R"({"kty":"EC","crv":"P-256",)"
                              R"("x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",)"
                              R"("y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",)"
                              R"("d":"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"})";
const char* const kBobJwk = R"({"kty":"EC","crv":"P-256",)"
                            R"("x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",)"
                            R"("y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",)"
                            R"("d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"})";
// The shared secret Z of appendix C.
const std::uint8_t kAppendixCZ[32] = {158, 86,  217, 29,  129, 113, 53,  211, 114, 131, 66,
                                      131, 191, 132, 38,  156, 251, 49,  110, 163, 218, 128,
                                      106, 72,  246, 218, 167, 121, 140, 254, 144, 196};
// Concat KDF: 128 bits for "A128GCM", apu "Alice", apv "Bob".
const char* const kAppendixCKeyB64u = "VqqN6vgjbSBcIijNcacQGg";

// --- GCM test case 16 -----------------------------------------------------------------------
const char* const kGcm16KeyHex = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const char* const kGcm16IvHex = "cafebabefacedbaddecaf888";
const char* const kGcm16AadHex = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const char* const kGcm16PlainHex =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const char* const kGcm16CipherHex =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
const char* const kGcm16TagHex = "76fc6ece0f4e1768cddf8853bb2d551b";

} // namespace imsdc::test_vectors

#endif // IMSDC_TESTS_VECTORS_AEAD_VECTORS_H
