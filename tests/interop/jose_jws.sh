#!/usr/bin/env bash
# JWS interop between imsdc and jose (npm), with certificates from the OpenSSL test CA.
#   jose_jws.sh IMSDC [--pkcs11]
# 1. imsdc makes the device key (files, or non-extractable in a SoftHSM2 token) and a CSR;
#    the test operator CA issues the certificate; imsdc stores it.
# 2. imsdc signs an attestation-shaped token; jose verifies it (signature, x5c chain to the
#    root, iss = the leaf's URI SAN).
# 3. jose signs a token with an OpenSSL-made device key; imsdc verifies it.
# 4. Tampering: a changed last base64url character (unused bits only), a changed payload, a
#    foreign CA, an iss that is not the certificate's IMPU, an expired token: imsdc exits 3.
set -euo pipefail
IMSDC=$1
MODE=${2:-files}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CA=$ROOT/tests/labnet/ca/make-ca.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
step() { echo "--- $*"; }
expect_exit() { # expect_exit CODE cmd...
  local want=$1; shift
  set +e; "$@" >"$T/out" 2>"$T/err"; local got=$?; set -e
  if [ "$got" != "$want" ]; then
    echo "FAIL: expected exit $want, got $got: $*"; cat "$T/out" "$T/err"; exit 1
  fi
  echo "ok: exit $got ($(head -c 200 "$T/err" | tr '\n' ' '))"
}

bash "$CA" init "$T/ca" >/dev/null
IMPU=sip:alice@ims.example
cat >"$T/claims.json" <<JSON
{"iss":"$IMPU","avatar_id":"avatar-001","dc_as":"dcas.ims.example","aud":"bar.ims.example","rendering":"network"}
JSON

if [ "$MODE" = "--pkcs11" ]; then
  step "device key in a SoftHSM2 token"
  export SOFTHSM2_CONF=$T/softhsm2.conf
  mkdir -p "$T/tokens"
  echo "directories.tokendir = $T/tokens" >"$SOFTHSM2_CONF"
  softhsm2-util --init-token --free --label imsdc-test --pin 1234 --so-pin 5678 >/dev/null
  printf '1234\n' >"$T/pin"
  MOD=/usr/lib/softhsm/libsofthsm2.so
  KS=(--pkcs11 "$MOD" --token imsdc-test --pin-file "$T/pin")
  "$IMSDC" keygen "${KS[@]}" --impu "$IMPU" --out-csr "$T/device.csr"
  step "the private key cannot be read out of the token"
  # pkcs11-tool exits 0 with "reading private keys not supported": judge by the output file.
  pkcs11-tool --module "$MOD" --token-label imsdc-test --login --pin 1234 \
    --read-object --type privkey --label imsdc-device -o "$T/leak" >/dev/null 2>&1 || true
  if [ -s "$T/leak" ]; then echo "FAIL: the token exported the private key"; exit 1; fi
  pkcs11-tool --module "$MOD" --token-label imsdc-test --login --pin 1234 --list-objects --type privkey \
    2>/dev/null | tee "$T/objs" | grep -q "never extractable" \
    || { echo "FAIL: the device key is not marked never extractable"; cat "$T/objs"; exit 1; }
  echo "ok: export refused; key is sensitive and never extractable"
else
  step "device key in PEM files"
  KS=(--dir "$T/dev")
  "$IMSDC" keygen --dir "$T/dev" --impu "$IMPU"
  cp "$T/dev/device.csr" "$T/device.csr"
  [ "$(stat -c %a "$T/dev/device-key.pem")" = 600 ] || { echo "FAIL: key file mode"; exit 1; }
fi

step "operator CA issues the device certificate; imsdc stores it"
bash "$CA" sign-csr "$T/ca" "$T/device.csr" "$T/issued.pem" >/dev/null
"$IMSDC" cert import "${KS[@]}" "$T/issued.pem"
"$IMSDC" cert show "$T/issued.pem" | tee "$T/show"
grep -q "URI:$IMPU" "$T/show"

step "imsdc signs, jose verifies"
"$IMSDC" jws sign "${KS[@]}" --claims "$T/claims.json" --typ avatar-attestation+jwt --stamp >"$T/tok"
node "$HERE/jws-verify.mjs" --trust "$T/ca/root.pem" "$T/tok" --expect-typ avatar-attestation+jwt \
  --iss-is-leaf-uri >"$T/jose-out"
grep -q '"avatar_id":"avatar-001"' "$T/jose-out"
echo "ok: jose accepted the imsdc token"
expect_exit 0 "$IMSDC" jws verify --trust "$T/ca/root.pem" --typ avatar-attestation+jwt "$T/tok"

step "jose signs, imsdc verifies"
bash "$CA" device "$T/ca" sip:bob@ims.example "$T/bob" >/dev/null
cat >"$T/bob-claims.json" <<JSON
{"sub":"sip:bob@ims.example","aud":"BAR","iat":$(date +%s),"exp":$(( $(date +%s) + 60 )),"jti":"jose-1"}
JSON
node "$HERE/jws-sign.mjs" --key "$T/bob-key.pem" --cert "$T/bob.pem" --claims "$T/bob-claims.json" \
  --typ cca+jwt >"$T/jose-tok"
expect_exit 0 "$IMSDC" jws verify --trust "$T/ca/root.pem" --typ cca+jwt "$T/jose-tok"
grep -q '"jti":"jose-1"' "$T/out"

step "tampering is rejected"
TOK=$(cat "$T/tok")
# The 64-byte signature is 86 base64url characters: the last one carries 4 unused bits.
# Changing only those bits decodes to the same bytes under a lenient decoder.
last=${TOK: -1}
python3 - "$last" >"$T/alt" <<'PY'
import sys
a="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
v=a.index(sys.argv[1]); print(a[(v & 0x30) | ((v & 0x0f) ^ 0x01)])
PY
echo "${TOK%?}$(cat "$T/alt")" >"$T/tok-bits"
expect_exit 3 "$IMSDC" jws verify --trust "$T/ca/root.pem" "$T/tok-bits"
grep -q malformed "$T/err"
IFS=. read -r H P S <<<"$TOK"
P2=$(printf '%s' "$P" | tr 'A-Za-z' 'B-ZAb-za')  # rotate letters: same length, other claims
echo "$H.$P2.$S" >"$T/tok-payload"
expect_exit 3 "$IMSDC" jws verify --trust "$T/ca/root.pem" "$T/tok-payload"
if node "$HERE/jws-verify.mjs" --trust "$T/ca/root.pem" "$T/tok-payload" >/dev/null 2>&1; then
  echo "FAIL: jose accepted a changed payload"; exit 1
fi
expect_exit 3 "$IMSDC" jws verify --trust "$T/ca/other-root.pem" "$T/tok"
grep -q untrusted "$T/err"
sed 's/"iss":"sip:alice@ims.example"/"iss":"sip:mallory@ims.example"/' "$T/claims.json" >"$T/bad-iss.json"
"$IMSDC" jws sign "${KS[@]}" --claims "$T/bad-iss.json" --stamp >"$T/tok-iss"
expect_exit 3 "$IMSDC" jws verify --trust "$T/ca/root.pem" "$T/tok-iss"
grep -q binding "$T/err"
expect_exit 3 "$IMSDC" --now $(( $(date +%s) + 3600 )) jws verify --trust "$T/ca/root.pem" "$T/tok"
grep -q expired "$T/err"
echo "PASS: jose interop ($MODE)"
