// JOSE vectors: RFC 7515 appendix A.3 (JWS ES256) and its key.
// Shared by the host unit tests (tests/unit) and the on-target runner (tests/target), so both
// check the same vectors byte for byte.
#ifndef IMSDC_TESTS_VECTORS_JOSE_VECTORS_H
#define IMSDC_TESTS_VECTORS_JOSE_VECTORS_H

namespace imsdc::test_vectors {

// --- RFC 7515 Appendix A.3 (ES256) ----------------------------------------------------------
const char* const kA3Jws =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const char* const kA3Jwk = R"({"kty":"EC","crv":"P-256",)"
                           R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                           R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",)"
                           R"("d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})";

} // namespace imsdc::test_vectors

#endif // IMSDC_TESTS_VECTORS_JOSE_VECTORS_H
