# Source lists of the imsdc SDK, usable outside CMake's target logic (include this file
# from ESP-IDF, Zephyr or any CMake-based firmware build; Android.mk users can read it).
# Paths are relative to IMSDC_ROOT (defaults to the repository root).
if(NOT DEFINED IMSDC_ROOT)
  get_filename_component(IMSDC_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()

set(IMSDC_INCLUDE_DIRS
    "${IMSDC_ROOT}/sdk/include"
    "${IMSDC_ROOT}/platform/include")

# base/: status, codecs, logging, allocator hook (no dependencies).
set(IMSDC_BASE_SOURCES
    "${IMSDC_ROOT}/sdk/src/base/status.cpp"
    "${IMSDC_ROOT}/sdk/src/base/bytes.cpp"
    "${IMSDC_ROOT}/sdk/src/base/codec.cpp"
    "${IMSDC_ROOT}/sdk/src/base/log.cpp"
    "${IMSDC_ROOT}/sdk/src/base/alloc.cpp")

# crypto/: mbedTLS-backed keys, certificates, JOSE, AEAD (needs mbedtls, cJSON).
set(IMSDC_CRYPTO_SOURCES
    "${IMSDC_ROOT}/sdk/src/crypto/drbg.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/ec.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/keystore.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/keystore_pk.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/cert.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/x509write.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/jwk.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/kdf_aead.cpp"
    "${IMSDC_ROOT}/sdk/src/crypto/jws.cpp")

# port/: the thin contract-checking wrappers the core calls ports through.
set(IMSDC_PORT_WRAPPER_SOURCES
    "${IMSDC_ROOT}/sdk/src/port/port_check.cpp")

# sip/: sans-I/O SIP message parser/builder, URIs, authentication (digest, bearer).
set(IMSDC_SIP_SOURCES
    "${IMSDC_ROOT}/sdk/src/sip/text.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/uri.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/message.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/builder.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/auth.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/transaction.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/registration.cpp")
# sip/ calls: dialogs, INVITE / 100rel-PRACK / UPDATE / re-INVITE / BYE / CANCEL, session
# timers, third-party identity and the avatar reference on calls.
list(APPEND IMSDC_SIP_SOURCES
    "${IMSDC_ROOT}/sdk/src/sip/dialog.cpp"
    "${IMSDC_ROOT}/sdk/src/sip/call.cpp")

# sdp/: sans-I/O SDP model, parser, generator and offer/answer for IMS data channels.
set(IMSDC_SDP_SOURCES
    "${IMSDC_ROOT}/sdk/src/sdp/sdp_parse.cpp"
    "${IMSDC_ROOT}/sdk/src/sdp/sdp_write.cpp"
    "${IMSDC_ROOT}/sdk/src/sdp/negotiate.cpp"
    "${IMSDC_ROOT}/sdk/src/sdp/mf.cpp")

# avatar/: avatar authorization tokens, single-use ephemeral keys, streaming JWE decryption,
# signed manifests and animation frames (PROTOCOL_PROFILE.md sections 6 to 9; needs cJSON).
set(IMSDC_AVATAR_SOURCES
    "${IMSDC_ROOT}/sdk/src/avatar/tokens.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/ephemeral.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/blob_sink.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/jwe_decrypt.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/manifest.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/animation.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/avatar_list.cpp"
    "${IMSDC_ROOT}/sdk/src/avatar/control.cpp")
# avatar/ fetch: the representation request over the HTTP client interface (section 7).
list(APPEND IMSDC_AVATAR_SOURCES
    "${IMSDC_ROOT}/sdk/src/avatar/fetch.cpp")

# identity/: verified caller identity: Identity header, PASSporT (SHAKEN, Rich Call Data),
# RFC 8785 JSON canonicalization, caller card (needs cJSON and the crypto sources).
set(IMSDC_IDENTITY_SOURCES
    "${IMSDC_ROOT}/sdk/src/identity/jcs.cpp"
    "${IMSDC_ROOT}/sdk/src/identity/identity.cpp")

# dc/: IMS data channels: DTLS ClientHello reassembly, DTLS 1.2 endpoint (mbedTLS), SCTP
# association (usrsctp, AF_CONN), DCEP and dcmap channels (needs mbedtls, usrsctp).
set(IMSDC_DC_SOURCES
    "${IMSDC_ROOT}/sdk/src/dc/hello_reassembler.cpp"
    "${IMSDC_ROOT}/sdk/src/dc/dtls.cpp"
    "${IMSDC_ROOT}/sdk/src/dc/dcep.cpp"
    "${IMSDC_ROOT}/sdk/src/dc/association.cpp"
    "${IMSDC_ROOT}/sdk/src/dc/bootstrap_http.cpp"
    "${IMSDC_ROOT}/sdk/src/dc/http_channel.cpp")

# ice/: STUN codec (RFC 8489) and a sans-I/O ICE agent (RFC 8445 subset: host candidates,
# both roles, regular nomination, consent freshness) for the data-channel UDP path.
list(APPEND IMSDC_DC_SOURCES
    "${IMSDC_ROOT}/sdk/src/ice/stun.cpp"
    "${IMSDC_ROOT}/sdk/src/ice/agent.cpp")
# dc/link: one data-channel m-line over the net port's UDP sockets: ICE agent, RFC 7983
# demultiplexing and the DTLS/SCTP association (needs the dc/ and ice/ sources above).
list(APPEND IMSDC_DC_SOURCES
    "${IMSDC_ROOT}/sdk/src/dc/link.cpp")

set(IMSDC_CORE_SOURCES
    ${IMSDC_BASE_SOURCES}
    ${IMSDC_CRYPTO_SOURCES}
    ${IMSDC_SIP_SOURCES}
    ${IMSDC_SDP_SOURCES}
    ${IMSDC_AVATAR_SOURCES}
    ${IMSDC_IDENTITY_SOURCES}
    ${IMSDC_DC_SOURCES}
    ${IMSDC_PORT_WRAPPER_SOURCES})

# Ports (each a separate library; a target links exactly one OS port).
set(IMSDC_PORT_POSIX_SOURCES
    "${IMSDC_ROOT}/ports/posix/os_posix.cpp"
    "${IMSDC_ROOT}/ports/posix/net_posix.cpp"
    "${IMSDC_ROOT}/ports/posix/storage_posix.cpp"
    "${IMSDC_ROOT}/ports/posix/keystore_pem.cpp")
set(IMSDC_PORT_FAKE_SOURCES
    "${IMSDC_ROOT}/ports/fake/fake_port.cpp"
    "${IMSDC_ROOT}/ports/fake/memory_transport.cpp")
set(IMSDC_PORT_PKCS11_SOURCES
    "${IMSDC_ROOT}/ports/pkcs11/keystore_pkcs11.cpp")

# transport/: the libwebsockets (on mbedTLS) implementations of the message transport (WSS)
# and HTTP client contracts. A separate library (imsdc_transport_lws): the only code that
# knows libwebsockets. Needs libwebsockets built with LWS_WITH_MBEDTLS (toolchains/build-lws.sh).
set(IMSDC_TRANSPORT_SOURCES
    "${IMSDC_ROOT}/sdk/src/transport/url.cpp"
    "${IMSDC_ROOT}/sdk/src/transport/lws_common.cpp"
    "${IMSDC_ROOT}/sdk/src/transport/wss_transport.cpp"
    "${IMSDC_ROOT}/sdk/src/transport/https_client.cpp")

# capi/: the C API (sdk/include/imsdc/imsdc.h). A separate library (imsdc_c) because it joins
# the core with the POSIX port and, when present, the libwebsockets transport
# (IMSDC_CAPI_WITH_LWS); the core itself depends on neither.
set(IMSDC_CAPI_SOURCES
    "${IMSDC_ROOT}/sdk/src/capi/capi_client.cpp"
    "${IMSDC_ROOT}/sdk/src/capi/capi_sip.cpp"
    "${IMSDC_ROOT}/sdk/src/capi/capi_dc.cpp"
    "${IMSDC_ROOT}/sdk/src/capi/capi_avatar.cpp")
# ports/baremetal (Cortex-M, no OS): also needs one entropy source, entropy_trng.cpp (board
# TRNG) or, for QEMU test images only, entropy_test_only.cpp; the linker script
# mps2_an386.ld and the mbedTLS config mbedtls_config.h live beside them.
set(IMSDC_PORT_BAREMETAL_SOURCES
    "${IMSDC_ROOT}/ports/baremetal/startup.c"
    "${IMSDC_ROOT}/ports/baremetal/os_baremetal.cpp"
    "${IMSDC_ROOT}/ports/baremetal/arena.cpp"
    "${IMSDC_ROOT}/ports/baremetal/storage_ram.cpp")
