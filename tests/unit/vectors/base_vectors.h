// base/ test tables: RFC 4648 base64url vectors and log redaction cases.
// Shared by the host unit tests (tests/unit) and the on-target runner (tests/target), so both
// check the same vectors byte for byte.
#ifndef IMSDC_TESTS_VECTORS_BASE_VECTORS_H
#define IMSDC_TESTS_VECTORS_BASE_VECTORS_H

namespace imsdc::test_vectors {

struct B64Case {
  const char* plain;
  const char* url;
};

// RFC 4648 section 10 test vectors, in the URL alphabet without padding.
constexpr B64Case kRfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

struct RedactCase {
  const char* in;
  const char* secret; // must not survive
  const char* keep;   // must survive
};

constexpr RedactCase kRedact[] = {
    {"Authorization: Digest username=\"alice\", response=\"0123abcd\"", "0123abcd",
     "Authorization:"},
    {"Proxy-Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig", "eyJhbGci",
     "Proxy-Authorization:"},
    {"token provider gave Bearer abc.def.ghi for alice", "abc.def.ghi", "for alice"},
    {"{\"kty\":\"EC\",\"d\":\"c2VjcmV0\",\"crv\":\"P-256\"}", "c2VjcmV0", "\"crv\":\"P-256\""},
    {"login password=hunter2;realm=x", "hunter2", "realm=x"},
    {"authorization: digest response=\"feed\"", "feed", "authorization:"},
};

} // namespace imsdc::test_vectors

#endif // IMSDC_TESTS_VECTORS_BASE_VECTORS_H
