#include <cstdio>
#include "imsdc/codec.h"
#include "imsdc/crypto.h"
#include "imsdc/version.h"

// Uses only the installed public headers and libraries.
int main() {
  auto k = imsdc::crypto::EcPrivateKey::generate();
  std::printf("%s %s %d\n", imsdc::version_string(), imsdc::base64url_encode(imsdc::ByteSpan(std::string_view("foo"))).c_str(), k.is_ok());
  return k.is_ok() ? 0 : 1;
}
