#!/usr/bin/env bash
# Builds mbedTLS and cJSON for Cortex-M4F (toolchains/arm-none-eabi-cortex-m4.cmake, -Os)
# from Debian's source packages and installs static libraries and headers into PREFIX
# (default: build/deps/cortexm). The sources are fetched with `apt-get source` into
# PREFIX/src and never enter the tracked tree.
#
# mbedTLS is configured by ports/baremetal/mbedtls_config.h (MBEDTLS_CONFIG_FILE), the same
# file every imsdc source of the Cortex-M build sees. cJSON is one C file; it is compiled as
# Debian ships it.
#
# Idempotent: does nothing when PREFIX/.imsdc-cortexm-stamp names the same source versions,
# config file and toolchain file.
#
# Usage: toolchains/build-cortexm-deps.sh [PREFIX]
# Env:   IMSDC_CORTEXM_JOBS  parallel build jobs (default 2)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:-${ROOT}/build/deps/cortexm}"
mkdir -p "${PREFIX}"
PREFIX="$(cd "${PREFIX}" && pwd)"
SRC_DIR="${PREFIX}/src"
JOBS="${IMSDC_CORTEXM_JOBS:-2}"
TOOLCHAIN="${ROOT}/toolchains/arm-none-eabi-cortex-m4.cmake"
CONFIG="${ROOT}/ports/baremetal/mbedtls_config.h"

log() { printf 'build-cortexm-deps: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in arm-none-eabi-gcc arm-none-eabi-ar cmake; do
  command -v "${tool}" >/dev/null 2>&1 \
    || die "${tool} not found: run toolchains/install-deps.sh cortexm"
done
command -v apt-get >/dev/null 2>&1 || die "apt-get not found (Debian source packages needed)"

src_version() { apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }
inputs_hash() {
  cat "${CONFIG}" "${TOOLCHAIN}" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16
}

MBEDTLS_VERSION="$(src_version mbedtls)"
CJSON_VERSION="$(src_version cjson)"
[ -n "${MBEDTLS_VERSION}" ] && [ -n "${CJSON_VERSION}" ] \
  || die "apt-cache has no source record for mbedtls/cjson (run toolchains/install-deps.sh base: it adds deb-src)"

STAMP="${PREFIX}/.imsdc-cortexm-stamp"
WANT_STAMP="mbedtls=${MBEDTLS_VERSION}
cjson=${CJSON_VERSION}
inputs=$(inputs_hash)"
if [ -f "${STAMP}" ] && [ "$(cat "${STAMP}")" = "${WANT_STAMP}" ] \
   && [ -f "${PREFIX}/lib/libmbedcrypto.a" ] && [ -f "${PREFIX}/lib/libcjson.a" ]; then
  log "mbedTLS ${MBEDTLS_VERSION} and cJSON ${CJSON_VERSION} for Cortex-M4 already in ${PREFIX}"
  exit 0
fi

upstream() { local v="${1#*:}"; echo "${v%-*}"; }
fetch() { # PACKAGE VERSION -> prints the unpacked directory
  local pkg=$1 version=$2 dir
  dir="${SRC_DIR}/${pkg}-$(upstream "${version}")"
  if [ ! -d "${dir}" ]; then
    log "fetching ${pkg} ${version} source into ${SRC_DIR}"
    mkdir -p "${SRC_DIR}"
    # apt-get source drops privileges to _apt for the download: the directory must be
    # writable by it.
    chmod 0777 "${SRC_DIR}" 2>/dev/null || true
    (cd "${SRC_DIR}" && apt-get source -qq "${pkg}=${version}" >/dev/null 2>&1) \
      || (cd "${SRC_DIR}" && apt-get source -qq "${pkg}" >/dev/null) \
      || die "apt-get source ${pkg} failed"
  fi
  [ -d "${dir}" ] || die "source tree not found at ${dir}"
  echo "${dir}"
}

MBEDTLS_SRC="$(fetch mbedtls "${MBEDTLS_VERSION}")"
CJSON_SRC="$(fetch cjson "${CJSON_VERSION}")"

# --- mbedTLS: its own CMake, our toolchain and config --------------------------------
BUILD="${PREFIX}/build-mbedtls"
rm -rf "${BUILD}" "${PREFIX}/include/mbedtls" "${PREFIX}/lib"/libmbed*.a
log "configuring mbedTLS ${MBEDTLS_VERSION} (config ${CONFIG#"${ROOT}"/})"
# The config goes in through CFLAGS: a -DCMAKE_C_FLAGS would replace the toolchain's CPU flags.
CFLAGS="-DMBEDTLS_CONFIG_FILE='\"${CONFIG}\"'" cmake -S "${MBEDTLS_SRC}" -B "${BUILD}" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="${TOOLCHAIN}" \
  -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCMAKE_INSTALL_PREFIX="${PREFIX}" -DCMAKE_INSTALL_LIBDIR=lib \
  -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
  -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF \
  -DMBEDTLS_FATAL_WARNINGS=OFF -DINSTALL_MBEDTLS_HEADERS=ON \
  >"${PREFIX}/mbedtls-configure.log" 2>&1 \
  || { tail -n 40 "${PREFIX}/mbedtls-configure.log" >&2; exit 1; }
log "building mbedTLS with ${JOBS} jobs"
cmake --build "${BUILD}" -j "${JOBS}" >"${PREFIX}/mbedtls-build.log" 2>&1 \
  || { tail -n 40 "${PREFIX}/mbedtls-build.log" >&2; exit 1; }
cmake --install "${BUILD}" >"${PREFIX}/mbedtls-install.log" 2>&1 \
  || { tail -n 40 "${PREFIX}/mbedtls-install.log" >&2; exit 1; }

# --- cJSON: one translation unit ---------------------------------------------------------
log "building cJSON ${CJSON_VERSION}"
mkdir -p "${PREFIX}/include/cjson" "${PREFIX}/lib" "${PREFIX}/build-cjson"
cp "${CJSON_SRC}/cJSON.h" "${PREFIX}/include/cjson/cJSON.h"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=nano.specs \
  -Os -ffunction-sections -fdata-sections -std=c89 -Wall \
  -c "${CJSON_SRC}/cJSON.c" -o "${PREFIX}/build-cjson/cJSON.o"
rm -f "${PREFIX}/lib/libcjson.a"
arm-none-eabi-ar rcs "${PREFIX}/lib/libcjson.a" "${PREFIX}/build-cjson/cJSON.o"

# The point of MBEDTLS_PLATFORM_MEMORY: the allocator hook must be settable.
# (nm's output is captured first: grep -q under pipefail would turn nm's SIGPIPE into a
# failure.)
DEFINED="$(arm-none-eabi-nm --defined-only "${PREFIX}/lib/libmbedcrypto.a" 2>/dev/null)"
if ! grep -q ' T mbedtls_platform_set_calloc_free$' <<<"${DEFINED}"; then
  die "libmbedcrypto.a has no mbedtls_platform_set_calloc_free (MBEDTLS_PLATFORM_MEMORY off?)"
fi

printf '%s\n' "${WANT_STAMP}" > "${STAMP}"
log "installed mbedTLS ${MBEDTLS_VERSION} and cJSON ${CJSON_VERSION} (Cortex-M4F, -Os) into ${PREFIX}"
