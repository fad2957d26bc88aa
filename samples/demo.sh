#!/usr/bin/env bash
# imsdc demo. Today it shows the foundation a device builds on:
#   1. the device makes its P-256 key and a CSR carrying its IMPU;
#   2. the (test) operator CA issues the device certificate; the device stores it;
#   3. the device signs an avatar attestation (TR 33.790 sol. #6) with that key;
#   4. an independent JOSE implementation (jose, npm) verifies it, as a BAR would;
#   5. a tampered copy is rejected;
#   6. the crypto benchmark against raw mbedTLS.
# The avatar call on the local reference network replaces this as the SIP and data-channel
# layers land (see docs/demo.md).
#
# usage: samples/demo.sh [--keep] [--no-deps]
#   --keep     keep the working directory (keys, certificates, tokens) and print its path
#   --no-deps  do not run toolchains/install-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KEEP=0
DEPS=1
for a in "$@"; do
  case $a in
    --keep) KEEP=1 ;;
    --no-deps) DEPS=0 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $a" >&2; exit 2 ;;
  esac
done

t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
step() { printf '[%6s ms] %s\n' "$(ms)" "$*"; }

[ "$DEPS" = 1 ] && { step "installing what is missing (toolchains/install-deps.sh)"; bash toolchains/install-deps.sh base pkcs11 node; }
step "building (cmake --preset release)"
cmake --preset release -DIMSDC_WITH_CLI=ON >/dev/null
cmake --build --preset release -j2 >/dev/null
IMSDC=$ROOT/build/release/samples/cli/imsdc

W=$(mktemp -d /tmp/imsdc-demo.XXXXXX)
cleanup() { if [ "$KEEP" = 1 ]; then echo "kept: $W"; else rm -rf "$W"; fi; }
trap cleanup EXIT
IMPU=sip:alice@ims.example

step "test operator CA (OpenSSL) in $W/ca"
bash tests/labnet/ca/make-ca.sh init "$W/ca" >/dev/null

step "UE-A: imsdc keygen --dir $W/ue-a --impu $IMPU"
"$IMSDC" keygen --dir "$W/ue-a" --impu "$IMPU" | sed 's/^/           /'

step "operator CA issues the device certificate from the CSR; imsdc cert import stores it"
bash tests/labnet/ca/make-ca.sh sign-csr "$W/ca" "$W/ue-a/device.csr" "$W/issued.pem" >/dev/null
"$IMSDC" cert import --dir "$W/ue-a" "$W/issued.pem" | sed 's/^/           /'
"$IMSDC" cert show "$W/ue-a/device-cert.pem" | sed 's/^/           /'

step "UE-A signs an avatar attestation (ES256, x5c = device certificate)"
cat >"$W/claims.json" <<JSON
{"iss":"$IMPU","avatar_id":"avatar-001","dc_as":"dcas.ims.example","aud":"bar.ims.example","rendering":"network"}
JSON
"$IMSDC" jws sign --dir "$W/ue-a" --claims "$W/claims.json" --typ avatar-attestation+jwt --stamp >"$W/attestation.jws"
echo "           $(cut -c1-72 "$W/attestation.jws")..."

step "BAR side: jose (npm) verifies signature, chain to the operator CA, iss = certificate IMPU"
node tests/interop/jws-verify.mjs --trust "$W/ca/root.pem" "$W/attestation.jws" \
  --expect-typ avatar-attestation+jwt --iss-is-leaf-uri | sed 's/^/           /'

step "a copy with one changed claim is refused (exit 3 expected)"
IFS=. read -r H P S <"$W/attestation.jws"
P2=$(printf '%s' "$P" | tr 'A-Za-z' 'B-ZAb-za')
set +e
"$IMSDC" jws verify --trust "$W/ca/root.pem" "$H.$P2.$S" 2>&1 | sed 's/^/           /'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 3 ] || { echo "demo: FAILED: tampered attestation gave exit $rc, expected 3" >&2; exit 1; }

step "imsdc bench crypto (SDK next to raw mbedTLS, same process)"
"$IMSDC" bench crypto --rounds 3 | sed 's/^/           /'

step "done: every step behaved as expected"
