#!/usr/bin/env bash
# Installs what imsdc's builds and tests need on Debian 12, and only what is missing.
# Idempotent and quiet when there is nothing to do.
#
# usage: toolchains/install-deps.sh [GROUP...]      (default: every group)
#   base     compilers, CMake/Ninja, the host dev packages, clang (libFuzzer),
#            clang-format and clang-tidy (tests/run.sh lint), curl (the labnet tests), netbase
#            (/etc/protocols and /etc/services, absent from minimal images), a deb-src
#            entry for "apt-get source"
#   aarch64  the arm64 foreign architecture, the cross compiler, qemu-user, the :arm64 dev
#            packages and runtime libraries that target tests load under qemu-aarch64 -L /
#   armhf    the armhf cross compiler, qemu-user, and a target sysroot unpacked from Debian's
#            armhf .debs into build/deps/armhf-sysroot (toolchains/armhf-sysroot.sh; no dpkg
#            foreign architecture, so apt stays as it is)
#   cortexm  the Arm bare-metal toolchain (newlib-nano, libstdc++), qemu-system-arm, dpkg-dev;
#            then mbedTLS and cJSON for Cortex-M4F built from Debian's source packages into
#            build/deps/cortexm (toolchains/build-cortexm-deps.sh)
#   pkcs11   SoftHSM2, OpenSC (pkcs11-tool), p11-kit headers
#   node     Node.js + npm (only when no "node" is on PATH), then "npm ci" in tests/interop
#   chromium headless Chromium (the data-channel interop peer), iproute2
#   kamailio the labnet eP-CSCF (tests/labnet/kamailio): Kamailio 5.6 with WebSocket, TLS,
#            outbound, app_python3 and secsipid (STIR signer) modules,
#            python3-jwt/-cryptography/-websockets
# A group is a function group_NAME below: it may prepare apt (sources, architectures),
# add packages with want, and queue commands to run after apt with after_apt.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL_GROUPS=(base aarch64 armhf pkcs11 node chromium kamailio lws cortexm)

WANT=()          # packages (name or name:arch) to have installed
AFTER_APT=()     # commands to run once apt is done
APT_UPDATE=0     # 1 when the package lists must be refreshed
NATIVE_ARCH=$(dpkg --print-architecture)

log() { echo "install-deps: $*"; }
die() { echo "install-deps: $*" >&2; exit 1; }

SUDO=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || die "run as root (or install sudo)"
  SUDO=(sudo)
fi

want() { WANT+=("$@"); }
after_apt() { AFTER_APT+=("$1"); }

# True when NAME (native arch or arch "all") or NAME:ARCH is installed.
pkg_installed() {
  local name=${1%%:*} arch=$NATIVE_ARCH
  [[ $1 == *:* ]] && arch=${1#*:}
  dpkg-query -W -f='${Status} ${Architecture}\n' "$name" 2>/dev/null \
    | awk -v want="$arch" '$3 == "installed" && ($4 == want || $4 == "all") { found = 1 } END { exit !found }'
}

# --- deb-src entry ------------------------------------------------------------------
# Prints deb822 deb-src stanzas mirroring the Debian archive and security stanzas (URI path
# /debian or /debian-security) that do not already include deb-src.
debsrc_stanzas() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [[ -r $f ]]; then
    awk '
      function flush() {
        if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/ && types !~ /deb-src/ &&
            uris ~ /\/debian(-security)?\/?([[:space:]]|$)/ && suites != "") {
          printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, suites, comps
          if (signed != "") printf "Signed-By: %s\n", signed
          printf "\n"
        }
        types = uris = suites = comps = signed = ""; field = ""
      }
      /^#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]/ { if (field == "signed-by") signed = signed "\n" $0; next }
      {
        key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
        sub(/^[[:space:]]+/, "", val); sub(/[[:space:]]+$/, "", val); field = key
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = val
      }
      END { flush() }
    ' "$f"
  elif [[ -r /etc/apt/sources.list ]]; then
    # One-line format: deb [options] URI SUITE COMPONENT...
    local have_src
    have_src=$(grep -E '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list || true)
    [[ -z $have_src ]] || return 0
    awk '
      $1 == "deb" {
        i = 2; opts = ""
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
        uri = $i; suite = $(i + 1); comps = ""
        for (j = i + 2; j <= NF; j++) comps = comps (comps == "" ? "" : " ") $j
        if (uri !~ /\/debian(-security)?\/?$/) next
        signed = ""
        if (match(opts, /signed-by=[^] ]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uri, suite, comps
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }
    ' /etc/apt/sources.list
  fi
}

ensure_debsrc() {
  local target=/etc/apt/sources.list.d/imsdc-debsrc.sources content
  content=$(debsrc_stanzas)
  if [[ -z $content ]]; then
    [[ -e $target ]] && return 0
    # Either deb-src is configured already, or there is no Debian entry to mirror.
    grep -rqsE '^(Types:.*deb-src|[[:space:]]*deb-src[[:space:]])' /etc/apt/sources.list /etc/apt/sources.list.d/ \
      || log "warning: found no Debian apt entry to mirror as deb-src"
    return 0
  fi
  content+=$'\n'
  if [[ ! -e $target ]] || [[ $(cat "$target")$'\n' != "$content" ]]; then
    log "adding deb-src entry $target"
    printf '%s' "$content" | "${SUDO[@]}" tee "$target" >/dev/null
    APT_UPDATE=1
  fi
  if ! compgen -G '/var/lib/apt/lists/*_source_Sources*' >/dev/null; then
    APT_UPDATE=1
  fi
}

ensure_arch() {
  if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
    log "adding dpkg architecture $1"
    "${SUDO[@]}" dpkg --add-architecture "$1"
    APT_UPDATE=1
  fi
}

# --- groups -------------------------------------------------------------------------
group_base() {
  ensure_debsrc
  want build-essential cmake ninja-build pkg-config git \
    libmbedtls-dev libcjson-dev libusrsctp-dev libgtest-dev libgmock-dev libbenchmark-dev \
    openssl clang libclang-rt-14-dev clang-format clang-tidy curl netbase
}

group_aarch64() {
  ensure_arch arm64
  # libstdc++6:arm64: C++ test programs load it from the multiarch tree under qemu -L /.
  want qemu-user g++-aarch64-linux-gnu \
    libmbedtls-dev:arm64 libcjson-dev:arm64 libgtest-dev:arm64 libusrsctp-dev:arm64 \
    libstdc++6:arm64
}

group_armhf() {
  # Not "dpkg --add-architecture armhf": the registry's bookworm-security index for armhf is
  # broken, and a foreign architecture whose index fails makes every "apt-get update" here
  # fail, for every group. The target libraries come from Debian's armhf .debs unpacked into
  # a sysroot by a private apt run instead (toolchains/armhf-sysroot.sh).
  want qemu-user g++-arm-linux-gnueabihf
  after_apt build_armhf_sysroot
}

build_armhf_sysroot() {
  bash "$REPO_ROOT/toolchains/armhf-sysroot.sh" "$REPO_ROOT/build/deps/armhf-sysroot"
}

group_cortexm() {
  # Cortex-M4F bare metal (ports/baremetal, tests/target) under qemu-system-arm mps2-an386;
  # "apt-get source" needs the deb-src entry.
  ensure_debsrc
  want gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib \
    qemu-system-arm dpkg-dev
  after_apt build_cortexm_deps
}

build_cortexm_deps() {
  bash "$REPO_ROOT/toolchains/build-cortexm-deps.sh" "$REPO_ROOT/build/deps/cortexm"
}

group_pkcs11() {
  want softhsm2 opensc libp11-kit-dev
}

group_chromium() {
  # Headless Chromium as the independent data-channel peer (tests/interop/chromium), driven
  # only by the page it loads from node (headless.mjs); ip netns from iproute2.
  want chromium iproute2
}

group_kamailio() {
  # procps (pgrep) and iproute2 (ss) are used by tests/labnet/kamailio/*.sh.
  want kamailio kamailio-websocket-modules kamailio-tls-modules kamailio-outbound-modules \
    kamailio-python3-modules kamailio-secsipid-modules python3 python3-jwt python3-cryptography \
    python3-websockets openssl procps iproute2
}

group_lws() {
  # libwebsockets on mbedTLS (one TLS library in the device image), built from Debian's
  # source package into build/deps/lws; python3-websockets runs the transport tests' peers.
  want dpkg-dev python3-websockets
  after_apt build_lws
}

build_lws() {
  bash "$REPO_ROOT/toolchains/build-lws.sh" "$REPO_ROOT/build/deps/lws"
}

group_node() {
  if ! command -v node >/dev/null 2>&1; then
    want nodejs npm
  elif ! command -v npm >/dev/null 2>&1; then
    die "node is installed but npm is not; install the npm that belongs to this node"
  fi
  after_apt npm_ci_interop
}

npm_ci_interop() {
  local dir=$REPO_ROOT/tests/interop
  [[ -f $dir/package-lock.json ]] || die "missing $dir/package-lock.json"
  if [[ ! -d $dir/node_modules || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
    log "npm ci in tests/interop"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# --- main ---------------------------------------------------------------------------
selected=("$@")
((${#selected[@]})) || selected=("${ALL_GROUPS[@]}")
for g in "${selected[@]}"; do
  case $g in
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  esac
  declare -F "group_$g" >/dev/null || die "unknown group '$g' (known: ${ALL_GROUPS[*]})"
done
for g in "${selected[@]}"; do
  "group_$g"
done

missing=()
for p in "${WANT[@]}"; do
  pkg_installed "$p" || missing+=("$p")
done

if ((${#missing[@]})); then
  APT_UPDATE=1
fi
if ((APT_UPDATE)); then
  # A mirror caught mid-sync fails an index download ("File has unexpected size"): retry.
  for try in 1 2 3; do
    log "apt-get update (try $try)"
    "${SUDO[@]}" apt-get update -qq && break
    ((try < 3)) || die "apt-get update failed three times"
    sleep $((try * 15))
  done
fi
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for cmd in "${AFTER_APT[@]}"; do
  "$cmd"
done
