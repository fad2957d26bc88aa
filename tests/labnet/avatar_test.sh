#!/usr/bin/env bash
# imsdc avatar fetch against the real labnet BAR (tests/labnet/bar/bar.mjs: node:https with
# mutual TLS, jose from tests/interop/node_modules), ctest label "labnet".
#   avatar_test.sh IMSDC [--keep]
# Certificates come from the OpenSSL test operator CA (make-ca.sh): UE-A's key and CSR are
# made by imsdc keygen, UE-B, an "other CA" UE, the DC AS, another AS, the BAR and the avatar
# signer by openssl. The BAR listens on 127.0.0.1 (an ephemeral port it picks) and is
# addressed as https://localhost:P, because mbedTLS 2.28 checks dNSName SANs only.
# Direct path (imsdc avatar fetch, the device is the TLS client): sending-ue; receiving-ue
# with UE-B's key (requested under UE-A's certificate, the x5c leaf); refusals: another
# subscriber's avatar (not_owner, 5), an unknown avatar (8), an expired attestation (5), a
# replayed one (8), a device certificate from another CA (TLS, 6), an iss that is not the
# certificate's IMPU (5), a requester that is not the x5c leaf (5). Relay path (curl plays
# the DC AS, its certificate naming dc_as): the JWE decrypts with imsdc avatar decrypt; a
# requester that is not the named dc_as and an x5c from another CA are refused. A manifest
# from the BAR verifies the fetched representation. No refusal leaves an output file.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
MAKE_CA=$HERE/ca/make-ca.sh
INTEROP=$ROOT/tests/interop
T=$(mktemp -d /tmp/imsdc-avatar-test.XXXXXX)
FAILS=0
BAR_PID=""

cleanup() {
  local rc=$?
  if [[ -n $BAR_PID ]]; then
    kill "$BAR_PID" 2>/dev/null || true
    wait "$BAR_PID" 2>/dev/null || true
  fi
  if ((rc == 0 && FAILS == 0 && KEEP == 0)); then
    rm -rf "$T"
  else
    echo "work directory kept: $T (BAR log: $T/bar.log)"
  fi
}
trap cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() {
  printf 'FAIL  %s: %s\n' "$1" "$2"
  sed 's/^/      | /' "$T/err" 2>/dev/null | tail -n 5
  FAILS=$((FAILS + 1))
}

command -v node >/dev/null || { echo "node is missing (toolchains/install-deps.sh node)"; exit 1; }
[[ -d $INTEROP/node_modules/jose ]] || { echo "jose is missing (toolchains/install-deps.sh node)"; exit 1; }
command -v curl >/dev/null || { echo "curl is missing"; exit 1; }

# --- certificates -------------------------------------------------------------------------
CA=$T/ca
bash "$MAKE_CA" init "$CA" >/dev/null
"$IMSDC" keygen --dir "$T/ue-a" --impu sip:alice@ims.example >/dev/null
bash "$MAKE_CA" sign-csr "$CA" "$T/ue-a/device.csr" "$T/ue-a-issued.pem" >/dev/null
"$IMSDC" cert import --dir "$T/ue-a" "$T/ue-a-issued.pem" >/dev/null
bash "$MAKE_CA" device "$CA" sip:bob@ims.example "$T/ue-b" >/dev/null
bash "$MAKE_CA" device "$CA" sip:mallory@ims.example "$T/ue-x" --ca other >/dev/null
bash "$MAKE_CA" server "$CA" dcas.ims.example "$T/dcas" >/dev/null
bash "$MAKE_CA" server "$CA" other-as.ims.example "$T/other-as" >/dev/null
bash "$MAKE_CA" server "$CA" localhost "$T/bar" >/dev/null
bash "$MAKE_CA" device "$CA" https://avatars.ims.example/signer "$T/signer" >/dev/null
UE_A=(--dir "$T/ue-a")
UE_B=(--key "$T/ue-b-key.pem" --cert "$T/ue-b.pem")

# --- the BAR ------------------------------------------------------------------------------
head -c 300000 /dev/urandom >"$T/alice.glb"
head -c 1000 /dev/urandom >"$T/bob.glb"
cat >"$T/bar.json" <<JSON
{"bar_id":"bar.ims.example","ca":"ca/root.pem","cert":"bar.pem","key":"bar-key.pem",
 "subscribers":{"sip:alice@ims.example":["av-alice"],"sip:bob@ims.example":["av-bob"]},
 "avatars":{"av-alice":{"file":"alice.glb","cty":"model/gltf-binary"},
            "av-bob":{"file":"bob.glb","cty":"model/gltf-binary"}},
 "signer":{"cert":"signer.pem","key":"signer-key.pem"}}
JSON
node "$HERE/bar/bar.mjs" --config "$T/bar.json" --port-file "$T/bar.port" 2>"$T/bar.log" &
BAR_PID=$!
for _ in $(seq 100); do [[ -s $T/bar.port ]] && break; sleep 0.1; done
[[ -s $T/bar.port ]] || { cat "$T/bar.log"; echo "FAIL: the BAR did not start"; exit 1; }
BAR=https://localhost:$(cat "$T/bar.port")
echo "BAR at $BAR"
COMMON=(--bar "$BAR" --ca "$CA/root.pem")
CLAIMS=(--dc-as dcas.ims.example --bar-id bar.ims.example)

# expect NAME CODE CLASS-REGEX OUT -- imsdc ARGS...: exit code, error line, no output file.
expect() {
  local name=$1 want=$2 re=$3 out=$4 got
  shift 5
  set +e
  timeout 60 "$IMSDC" "$@" >"$T/stdout" 2>"$T/err"
  got=$?
  set -e
  if [[ $got != "$want" ]]; then
    fail "$name" "exit $got, expected $want"
  elif [[ -n $re ]] && ! grep -qE "$re" "$T/err"; then
    fail "$name" "stderr does not match /$re/"
  elif [[ $want != 0 && -e $out ]]; then
    fail "$name" "output file left behind"
  elif [[ $want != 0 && -n $out ]] && ls -A "$(dirname "$out")" 2>/dev/null | grep -q '\.tmp'; then
    fail "$name" "temporary file left behind"
  else
    pass "$name (exit $got)"
  fi
}
same() { # same NAME A B
  if cmp -s "$2" "$3"; then pass "$1: byte for byte"; else fail "$1" "output differs"; fi
}
# UE-B's fresh ephemeral key ($T/$1.key, public JWK in $T/$1.pub) and UE-A's attestation
# naming it ($T/$1.att), for the receiving-ue cases.
receiving() { # receiving NAME [AVATAR]
  "$IMSDC" avatar ephemeral --export-ephemeral "$T/$1.key" >"$T/$1.pub"
  "$IMSDC" avatar attest "${UE_A[@]}" --avatar-id "${2:-av-alice}" "${CLAIMS[@]}" \
    --rendering receiving-ue --peer-epk "$T/$1.pub" >"$T/$1.att"
}

echo "--- direct path: imsdc avatar fetch"
expect "sending-ue" 0 "" "$T/out/a1.glb" -- avatar fetch "${COMMON[@]}" "${UE_A[@]}" \
  --rendering sending-ue --avatar-id av-alice "${CLAIMS[@]}" --out "$T/out/a1.glb"
same "sending-ue" "$T/alice.glb" "$T/out/a1.glb"

receiving r1
cp "$T/r1.key" "$T/r1-copy.key" # an attacker's copy for the replay below
expect "receiving-ue with UE-B's key" 0 "" "$T/out/b1.glb" -- avatar fetch "${COMMON[@]}" \
  "${UE_A[@]}" --rendering receiving-ue --attestation "$T/r1.att" --ephemeral-key "$T/r1.key" \
  --out "$T/out/b1.glb"
same "receiving-ue" "$T/alice.glb" "$T/out/b1.glb"
[[ ! -e $T/r1.key && -e $T/r1.key.consumed ]] && pass "receiving-ue: UE-B's key file consumed" \
  || fail "receiving-ue" "key file not consumed"

expect "replayed attestation -> replayed" 8 "rejected: .*BAR: replayed" "$T/out/rp.glb" -- \
  avatar fetch "${COMMON[@]}" "${UE_A[@]}" --rendering receiving-ue --attestation "$T/r1.att" \
  --ephemeral-key "$T/r1-copy.key" --out "$T/out/rp.glb"

expect "another subscriber's avatar -> not_owner" 5 "auth_rejected: .*BAR: not_owner" \
  "$T/out/no.glb" -- avatar fetch "${COMMON[@]}" "${UE_A[@]}" --rendering sending-ue \
  --avatar-id av-bob "${CLAIMS[@]}" --out "$T/out/no.glb"

expect "unknown avatar -> unknown_avatar" 8 "BAR: unknown_avatar" "$T/out/un.glb" -- \
  avatar fetch "${COMMON[@]}" "${UE_A[@]}" --rendering sending-ue --avatar-id av-nobody \
  "${CLAIMS[@]}" --out "$T/out/un.glb"

expect "expired attestation -> expired" 5 "BAR: expired" "$T/out/ex.glb" -- \
  --now $(($(date +%s) - 3600)) avatar fetch "${COMMON[@]}" "${UE_A[@]}" \
  --rendering sending-ue --avatar-id av-alice "${CLAIMS[@]}" --out "$T/out/ex.glb"

expect "device certificate from another CA -> TLS refused" 6 "tls: " "$T/out/ca.glb" -- \
  avatar fetch "${COMMON[@]}" --key "$T/ue-x-key.pem" --cert "$T/ue-x.pem" \
  --rendering sending-ue --avatar-id av-alice "${CLAIMS[@]}" --out "$T/out/ca.glb"

receiving r2
expect "requester is not the x5c leaf -> wrong_requester" 5 "BAR: wrong_requester" \
  "$T/out/wr.glb" -- avatar fetch "${COMMON[@]}" "${UE_B[@]}" --rendering receiving-ue \
  --attestation "$T/r2.att" --ephemeral-key "$T/r2.key" --out "$T/out/wr.glb"

# UE-B signs (with jose) an attestation whose iss is alice: its x5c leaf names bob.
"$IMSDC" avatar ephemeral --export-ephemeral "$T/r3.key" >"$T/r3.pub"
NOW=$(date +%s)
printf '{"iss":"sip:alice@ims.example","avatar_id":"av-alice","dc_as":"dcas.ims.example","aud":"bar.ims.example","rendering":"receiving-ue","epk":%s,"iat":%s,"exp":%s,"jti":"iss-test-%s"}' \
  "$(cat "$T/r3.pub")" "$NOW" $((NOW + 60)) "$NOW" >"$T/r3.json"
node "$INTEROP/jws-sign.mjs" --key "$T/ue-b-key.pem" --cert "$T/ue-b.pem" --claims "$T/r3.json" \
  --typ avatar-attestation+jwt >"$T/r3.att"
expect "iss is not the certificate's IMPU -> untrusted_certificate" 5 \
  "BAR: untrusted_certificate" "$T/out/is.glb" -- avatar fetch "${COMMON[@]}" "${UE_B[@]}" \
  --rendering receiving-ue --attestation "$T/r3.att" --ephemeral-key "$T/r3.key" \
  --out "$T/out/is.glb"
grep -q "iss is not the certificate's IMPU" "$T/bar.log" && pass "BAR logged the iss reason" \
  || fail "iss" "BAR log lacks the reason"

echo "--- relay path: curl (OpenSSL) as the DC AS, imsdc avatar decrypt"
post() { # post CERTPREFIX ATTESTATION OUT -> prints the HTTP status
  curl -s -o "$3" -w '%{http_code}' --cacert "$CA/root.pem" --cert "$1.pem" --key "$1-key.pem" \
    -H 'Content-Type: application/jwt' --data-binary "@$2" "$BAR/avatar/representation"
}
relay_case() { # relay_case NAME WANT-STATUS WANT-CODE CERTPREFIX ATTESTATION
  local got
  got=$(post "$4" "$5" "$T/relay.body")
  if [[ $got == "$2" ]] && grep -q "\"error\":\"$3\"" "$T/relay.body"; then
    pass "$1 ($got $3)"
  else
    fail "$1" "HTTP $got: $(head -c 200 "$T/relay.body")"
  fi
}
"$IMSDC" avatar attest "${UE_A[@]}" --avatar-id av-alice "${CLAIMS[@]}" --rendering sending-ue \
  --export-ephemeral "$T/s1.key" --json >"$T/s1.json"
sed -E 's/.*"jws":"([^"]+)".*/\1/' "$T/s1.json" >"$T/s1.att"
JTI=$(sed -E 's/.*"jti":"([^"]+)".*/\1/' "$T/s1.json")
code=$(post "$T/dcas" "$T/s1.att" "$T/s1.jwe")
if [[ $code == 200 ]]; then pass "relay: the DC AS gets the JWE"; else fail "relay" "HTTP $code"; fi
expect "relay: UE decrypts the relayed JWE" 0 "" "$T/out/s1.glb" -- avatar decrypt \
  --in "$T/s1.jwe" --ephemeral-key "$T/s1.key" --jti "$JTI" --out "$T/out/s1.glb"
same "relay" "$T/alice.glb" "$T/out/s1.glb"
relay_case "relay: the same attestation again" 409 replayed "$T/dcas" "$T/s1.att"
"$IMSDC" avatar attest "${UE_A[@]}" --avatar-id av-alice "${CLAIMS[@]}" --rendering sending-ue \
  >"$T/s2.att"
relay_case "relay: requester is not the named dc_as" 403 wrong_requester "$T/other-as" "$T/s2.att"
"$IMSDC" avatar attest --key "$T/ue-x-key.pem" --cert "$T/ue-x.pem" --avatar-id av-alice \
  "${CLAIMS[@]}" --rendering sending-ue >"$T/s3.att"
relay_case "relay: x5c from another CA" 401 untrusted_certificate "$T/dcas" "$T/s3.att"

echo "--- manifest (section 8) from the BAR"
code=$(curl -s -o "$T/manifest" -w '%{http_code}' --cacert "$CA/root.pem" --cert "$T/dcas.pem" \
  --key "$T/dcas-key.pem" "$BAR/avatars/av-alice/manifest")
[[ $code == 200 ]] || fail "manifest" "HTTP $code"
expect "manifest verifies the fetched representation" 0 "" "" -- avatar verify \
  --manifest "$T/manifest" --in "$T/out/a1.glb" --trust "$CA/root.pem" --avatar-id av-alice
expect "manifest refuses another representation" 3 "auth_failed" "" -- avatar verify \
  --manifest "$T/manifest" --in "$T/bob.glb" --trust "$CA/root.pem" --avatar-id av-alice

if grep -qE 'eyJ[A-Za-z0-9_-]{20,}\.' "$T/bar.log"; then fail "BAR log" "holds a token"; fi
echo "$FAILS failure(s)"
((FAILS == 0))
