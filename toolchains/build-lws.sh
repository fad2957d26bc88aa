#!/usr/bin/env bash
# Builds libwebsockets from Debian's source package against Debian's mbedTLS and installs a
# static library into PREFIX (default: build/deps/lws in the repository).
#
# Why: Debian's libwebsockets-dev links OpenSSL; the device image must carry one TLS library
# (mbedTLS), so sdk/src/transport links an lws built on mbedTLS. The lws source is fetched
# with `apt-get source` into build/deps/src and never enters the tracked tree.
#
# Idempotent: does nothing when PREFIX/lib/libwebsockets.a exists and PREFIX/.imsdc-lws-stamp
# names the same source version and configure options.
#
# Usage: toolchains/build-lws.sh [PREFIX]
# Env:   IMSDC_LWS_SRC_DIR  where sources are unpacked (default build/deps/src)
#        IMSDC_LWS_JOBS     parallel build jobs (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:-${ROOT}/build/deps/lws}"
mkdir -p "${PREFIX}"
PREFIX="$(cd "${PREFIX}" && pwd)"
SRC_DIR="${IMSDC_LWS_SRC_DIR:-${ROOT}/build/deps/src}"
JOBS="${IMSDC_LWS_JOBS:-$(nproc)}"

# Options chosen for a small client image: TLS through mbedTLS, static only, no event-loop
# plugins, no test apps, no permessage-deflate (extensions need zlib and SIP messages are
# small). LWS_WITH_HTTP2 stays off because the SDK's HTTP client only speaks HTTP/1.1.
LWS_OPTIONS=(
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DLWS_WITH_MBEDTLS=ON
  -DLWS_WITH_SSL=ON
  -DLWS_WITHOUT_TESTAPPS=ON
  -DLWS_WITH_MINIMAL_EXAMPLES=OFF
  -DLWS_WITH_SHARED=OFF
  -DLWS_WITH_STATIC=ON
  -DLWS_WITH_LIBUV=OFF
  -DLWS_WITH_LIBEV=OFF
  -DLWS_WITH_LIBEVENT=OFF
  -DLWS_WITH_GLIB=OFF
  -DLWS_IPV6=ON
  -DLWS_WITHOUT_EXTENSIONS=ON
  -DLWS_WITH_HTTP2=OFF
  -DLWS_WITH_ZLIB=OFF
  -DLWS_WITH_ZIP_FOPS=OFF
  -DLWS_WITH_SOCKS5=OFF
  -DLWS_WITH_LEJP=OFF
  -DLWS_WITH_STRUCT_JSON=OFF
  -DLWS_WITH_SYS_SMD=OFF
  -DLWS_WITH_SYS_STATE=OFF
  -DLWS_WITH_SECURE_STREAMS=OFF
  -DDISABLE_WERROR=ON
)

log() { printf 'build-lws: %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    log "must run as root to install packages ($*); install them and re-run"
    exit 1
  fi
}

# Adds a deb-src twin of the main Debian entry so `apt-get source` works on a fresh machine.
# toolchains/install-deps.sh writes the same file with the same content; whoever comes first
# wins and the other leaves it alone.
ensure_deb_src() {
  local out=/etc/apt/sources.list.d/imsdc-debsrc.sources
  if [ -f "${out}" ] && grep -q '^Types:.*deb-src' "${out}"; then
    return 0
  fi
  if grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources \
     || grep -qs '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
    return 0
  fi
  local src=/etc/apt/sources.list.d/debian.sources
  if [ ! -f "${src}" ]; then
    log "no ${src}: add a deb-src entry for Debian by hand"
    exit 1
  fi
  need_root "deb-src entry"
  # The first stanza of debian.sources is the main archive (the security archive follows);
  # copy its URIs, Suites, Components and Signed-By and change only the type.
  awk '
    BEGIN { stanza = 0 }
    /^[[:space:]]*$/ { if (seen) stanza++; next }
    /^#/ { next }
    { seen = 1 }
    stanza == 0 && /^(URIs|Suites|Components|Signed-By):/ { print }
  ' "${src}" > "${out}.tmp"
  if ! grep -q '^URIs:' "${out}.tmp"; then
    rm -f "${out}.tmp"
    log "could not read the Debian entry in ${src}"
    exit 1
  fi
  { echo "Types: deb-src"; cat "${out}.tmp"; } > "${out}"
  rm -f "${out}.tmp"
  log "added ${out}"
  apt-get update -qq
}

ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("${p}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    need_root "${missing[*]}"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

options_hash() { printf '%s\n' "${LWS_OPTIONS[@]}" | sha256sum | cut -c1-16; }

# Fast path: no apt access needed when the installed build matches the wanted version.
STAMP="${PREFIX}/.imsdc-lws-stamp"
candidate_version() { apt-cache showsrc libwebsockets 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }
if [ -f "${PREFIX}/lib/libwebsockets.a" ] && [ -f "${STAMP}" ]; then
  want="$(candidate_version || true)"
  have_version="$(sed -n 's/^version=//p' "${STAMP}")"
  have_options="$(sed -n 's/^options=//p' "${STAMP}")"
  if { [ -z "${want}" ] || [ "${want}" = "${have_version}" ]; } \
     && [ "${have_options}" = "$(options_hash)" ]; then
    log "libwebsockets ${have_version} (mbedTLS) already in ${PREFIX}"
    exit 0
  fi
fi

ensure_deb_src
ensure_packages dpkg-dev cmake make gcc libc6-dev libmbedtls-dev pkg-config

VERSION="$(candidate_version)"
if [ -z "${VERSION}" ]; then
  apt-get update -qq
  VERSION="$(candidate_version)"
fi
if [ -z "${VERSION}" ]; then
  log "apt-cache has no source record for libwebsockets (deb-src entry missing?)"
  exit 1
fi
UPSTREAM="${VERSION#*:}"
UPSTREAM="${UPSTREAM%-*}"

mkdir -p "${SRC_DIR}"
LWS_SRC="${SRC_DIR}/libwebsockets-${UPSTREAM}"
if [ ! -f "${LWS_SRC}/CMakeLists.txt" ]; then
  log "fetching libwebsockets ${VERSION} source into ${SRC_DIR}"
  # apt-get source drops privileges to _apt for the download; it needs a writable directory.
  (cd "${SRC_DIR}" && apt-get source -qq "libwebsockets=${VERSION}" >/dev/null 2>&1) \
    || (cd "${SRC_DIR}" && apt-get source -qq libwebsockets >/dev/null)
fi
if [ ! -f "${LWS_SRC}/CMakeLists.txt" ]; then
  log "source tree not found at ${LWS_SRC}"
  exit 1
fi

BUILD_DIR="${SRC_DIR}/build-lws-mbedtls"
rm -rf "${BUILD_DIR}"
log "configuring (mbedTLS, static) in ${BUILD_DIR}"
cmake -S "${LWS_SRC}" -B "${BUILD_DIR}" -DCMAKE_INSTALL_PREFIX="${PREFIX}" \
  -DCMAKE_INSTALL_LIBDIR=lib "${LWS_OPTIONS[@]}" >"${SRC_DIR}/lws-configure.log" 2>&1 \
  || { tail -n 40 "${SRC_DIR}/lws-configure.log" >&2; exit 1; }
log "building with ${JOBS} jobs"
cmake --build "${BUILD_DIR}" -j "${JOBS}" >"${SRC_DIR}/lws-build.log" 2>&1 \
  || { tail -n 40 "${SRC_DIR}/lws-build.log" >&2; exit 1; }
cmake --install "${BUILD_DIR}" >"${SRC_DIR}/lws-install.log" 2>&1 \
  || { tail -n 40 "${SRC_DIR}/lws-install.log" >&2; exit 1; }

# The point of this build is one TLS library: refuse a result that still knows OpenSSL.
LIB="${PREFIX}/lib/libwebsockets.a"
if ! grep -q '^#define LWS_WITH_MBEDTLS' "${PREFIX}/include/lws_config.h"; then
  log "lws_config.h does not define LWS_WITH_MBEDTLS"
  exit 1
fi
# lws' mbedTLS backend defines an OpenSSL-compatible shim (SSL_new, SSL_CTX_new, ...)
# itself, so look at what the archive needs from outside: none of it may be OpenSSL's.
# (nm's output is captured first: grep -q under pipefail would turn nm's SIGPIPE into a
# failure.)
DEFINED="$(nm --defined-only "${LIB}" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)"
UNDEF="$(nm -u "${LIB}" 2>/dev/null | awk '{print $2}' | sort -u)"
EXTERNAL="$(comm -23 <(echo "${UNDEF}") <(echo "${DEFINED}"))"
if grep -Eq '^(SSL_|X509_|EVP_|OPENSSL_|BIO_|ERR_)' <<<"${EXTERNAL}"; then
  log "${LIB} needs OpenSSL symbols: $(grep -E '^(SSL_|X509_|EVP_|OPENSSL_|BIO_|ERR_)' <<<"${EXTERNAL}" | head -n 5 | tr '\n' ' ')"
  exit 1
fi
if ! grep -q '^mbedtls_ssl_setup$' <<<"${EXTERNAL}"; then
  log "${LIB} does not use mbedtls_ssl_setup"
  exit 1
fi

{
  echo "version=${VERSION}"
  echo "options=$(options_hash)"
  echo "tls=mbedtls"
} > "${STAMP}"
log "installed libwebsockets ${VERSION} (mbedTLS, static) into ${PREFIX}"
