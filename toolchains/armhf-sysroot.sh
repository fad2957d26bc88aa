#!/usr/bin/env bash
# Builds the armhf (32-bit ARM, hard float, glibc) target sysroot from Debian's armhf .debs:
# the dev packages the SDK links (mbedTLS, cJSON, usrsctp, GoogleTest) and the runtime
# libraries its programs load under `qemu-arm -L SYSROOT` (libc6, libstdc++6, ...). The
# packages are unpacked with `dpkg-deb -x`; nothing is installed into the machine's dpkg
# database and the machine's apt configuration is left as it is.
#
# Why not `dpkg --add-architecture armhf`: on this registry the bookworm-security index for
# armhf is broken ("File has unexpected size ... Mirror sync in progress?"), and a foreign
# architecture whose index fails makes every `apt-get update` on the machine fail, for every
# other toolchains/install-deps.sh group too. This script runs apt with its own state
# directory (lists, cache, an empty dpkg status) and its own source list holding only the
# main and updates suites, so it never touches /etc/apt or /var/lib/apt. Every package it
# needs has its newest bookworm version in those suites (point releases carry security
# fixes); the sysroot is for tests under QEMU, not for a device image.
#
# A sysroot made entirely of Debian armhf .debs is self-consistent (one libc, one loader);
# the cross compiler (g++-arm-linux-gnueabihf) links against its own copy of the same glibc
# 2.36 and libstdc++ 12, so what it builds runs on the sysroot's libraries.
#
# Idempotent: does nothing when SYSROOT/.imsdc-sysroot-stamp names the same package list.
#
# Usage: toolchains/armhf-sysroot.sh [SYSROOT]      (default: build/deps/armhf-sysroot)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYSROOT="${1:-${ROOT}/build/deps/armhf-sysroot}"
ARCH=armhf

# What the SDK's armhf build links and its test programs load. apt adds the dependency
# closure (libgcc-s1, gcc-12-base, libmbedcrypto7, ...).
PACKAGES=(libc6 libstdc++6 libgcc-s1 libmbedtls-dev libcjson-dev libusrsctp-dev libgtest-dev)

log() { printf 'armhf-sysroot: %s\n' "$*" >&2; }

mkdir -p "${SYSROOT}"
SYSROOT="$(cd "${SYSROOT}" && pwd)"
STAMP="${SYSROOT}/.imsdc-sysroot-stamp"
want_stamp="packages=${PACKAGES[*]}"
if [ -f "${STAMP}" ] && [ "$(head -n 1 "${STAMP}")" = "${want_stamp}" ] \
   && [ -e "${SYSROOT}/lib/ld-linux-armhf.so.3" ]; then
  log "sysroot up to date in ${SYSROOT}"
  exit 0
fi

# apt's private state lives beside the sysroot, never in /var/lib/apt.
STATE="${SYSROOT}.apt"
rm -rf "${STATE}"
mkdir -p "${STATE}/lists/partial" "${STATE}/archives/partial" "${STATE}/etc/sources.list.d" \
  "${STATE}/etc/preferences.d" "${STATE}/etc/apt.conf.d"
: > "${STATE}/status"

# Source list: the machine's Debian archive stanza(s) (URI ending in /debian, not
# /debian-security), as binary "deb" entries for armhf only.
SRC=/etc/apt/sources.list.d/debian.sources
OUT="${STATE}/etc/sources.list.d/debian-armhf.sources"
if [ -r "${SRC}" ]; then
  awk '
    function flush() {
      if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/ && uris ~ /\/debian\/?([[:space:]]|$)/ &&
          uris !~ /debian-security/ && suites != "") {
        printf "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nArchitectures: armhf\n", uris, suites, comps
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }
      types = uris = suites = comps = signed = ""
    }
    /^#/ { next }
    /^[[:space:]]*$/ { flush(); next }
    {
      key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
      sub(/^[[:space:]]+/, "", val); sub(/[[:space:]]+$/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "components") comps = val
      else if (key == "signed-by") signed = val
    }
    END { flush() }
  ' "${SRC}" > "${OUT}"
elif [ -r /etc/apt/sources.list ]; then
  # One-line format: keep "deb" lines of the main archive, pinned to armhf.
  awk '$1 == "deb" && $0 !~ /debian-security/ && $0 ~ /\/debian\/? / {
         sub(/^deb +(\[[^]]*\] +)?/, "deb [arch=armhf] "); print }' /etc/apt/sources.list \
    > "${STATE}/etc/sources.list.d/debian-armhf.list"
  OUT="${STATE}/etc/sources.list.d/debian-armhf.list"
fi
if [ ! -s "${OUT}" ]; then
  log "found no Debian archive entry in /etc/apt to derive the armhf source list from"
  exit 1
fi

APT_OPTS=(
  -o "APT::Architecture=${ARCH}" -o "APT::Architectures::=${ARCH}"
  -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=${STATE}/etc/sources.list.d"
  -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=${STATE}/etc/preferences.d"
  -o "Dir::State::Lists=${STATE}/lists" -o "Dir::State::status=${STATE}/status"
  -o "Dir::Cache=${STATE}/cache" -o "Dir::Cache::archives=${STATE}/archives"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
  -o "APT::Install-Recommends=0" -o "APT::Get::AllowUnauthenticated=0"
)

# A mirror caught mid-sync fails an index download ("File has unexpected size"): retry.
for try in 1 2 3; do
  log "apt-get update (armhf, private state; try ${try})"
  if apt-get "${APT_OPTS[@]}" update -qq; then
    break
  fi
  if [ "${try}" -eq 3 ]; then
    log "apt-get update for armhf failed three times"
    exit 1
  fi
  sleep $((try * 15))
done

log "downloading ${PACKAGES[*]} and their dependencies"
apt-get "${APT_OPTS[@]}" install -y -qq --download-only "${PACKAGES[@]}" >/dev/null

shopt -s nullglob
DEBS=("${STATE}/archives/"*.deb)
if [ "${#DEBS[@]}" -eq 0 ]; then
  log "apt downloaded nothing"
  exit 1
fi

# Fresh unpack: a sysroot from an older package set must not keep stale files.
find "${SYSROOT}" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
for deb in "${DEBS[@]}"; do
  dpkg-deb -x "${deb}" "${SYSROOT}"
done

# Debian's -dev packages ship absolute symlinks only rarely; fix any that point at /usr or
# /lib so they resolve inside the sysroot (the linker follows them at build time).
while IFS= read -r link; do
  target="$(readlink "${link}")"
  case "${target}" in
    /*) ln -sfn "${SYSROOT}${target}" "${link}" ;;
  esac
done < <(find "${SYSROOT}" -type l)

if [ ! -e "${SYSROOT}/lib/ld-linux-armhf.so.3" ]; then
  log "no loader at ${SYSROOT}/lib/ld-linux-armhf.so.3 after unpacking"
  exit 1
fi

{
  echo "${want_stamp}"
  for deb in "${DEBS[@]}"; do basename "${deb}"; done
} > "${STAMP}"
rm -rf "${STATE}/archives" "${STATE}/lists"
log "armhf sysroot ready in ${SYSROOT} (${#DEBS[@]} packages)"
