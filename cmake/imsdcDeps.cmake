# Dependencies from Debian packages. Debian's mbedTLS ships no CMake config files, so we use
# find_path/find_library; cJSON likewise. Results become INTERFACE targets the SDK links.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h REQUIRED)
find_library(MBEDTLS_LIBRARY mbedtls REQUIRED)
find_library(MBEDX509_LIBRARY mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIBRARY mbedcrypto REQUIRED)
find_path(CJSON_INCLUDE_DIR cjson/cJSON.h REQUIRED)
find_library(CJSON_LIBRARY cjson REQUIRED)
find_path(USRSCTP_INCLUDE_DIR usrsctp.h REQUIRED)
find_library(USRSCTP_LIBRARY usrsctp REQUIRED)

add_library(imsdc_deps_crypto INTERFACE)
target_include_directories(imsdc_deps_crypto INTERFACE
  $<BUILD_INTERFACE:${MBEDTLS_INCLUDE_DIR}> $<BUILD_INTERFACE:${CJSON_INCLUDE_DIR}>)
target_link_libraries(imsdc_deps_crypto INTERFACE
  $<BUILD_INTERFACE:${MBEDTLS_LIBRARY}> $<BUILD_INTERFACE:${MBEDX509_LIBRARY}>
  $<BUILD_INTERFACE:${MBEDCRYPTO_LIBRARY}> $<BUILD_INTERFACE:${CJSON_LIBRARY}>
  $<INSTALL_INTERFACE:mbedtls> $<INSTALL_INTERFACE:mbedx509> $<INSTALL_INTERFACE:mbedcrypto>
  $<INSTALL_INTERFACE:cjson>)
# usrsctp (dc/: SCTP over DTLS, AF_CONN, no threads of its own).
target_include_directories(imsdc_deps_crypto INTERFACE $<BUILD_INTERFACE:${USRSCTP_INCLUDE_DIR}>)
target_link_libraries(imsdc_deps_crypto INTERFACE $<BUILD_INTERFACE:${USRSCTP_LIBRARY}>
  $<INSTALL_INTERFACE:usrsctp>)

if(IMSDC_WITH_PKCS11)
  # The PKCS#11 API header (OASIS); p11-kit ships a complete, freely usable copy.
  find_path(PKCS11_INCLUDE_DIR p11-kit/pkcs11.h PATH_SUFFIXES p11-kit-1 REQUIRED)
  add_library(imsdc_deps_pkcs11 INTERFACE)
  target_include_directories(imsdc_deps_pkcs11 INTERFACE ${PKCS11_INCLUDE_DIR})
endif()
