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
# certificate's IMPU (5), a requester that is not the x5c leaf (5). Relay path (imsdc avatar
# fetch --dc-as-url on a data channel to imsdc dc relay, whose certificate names dc_as; the
# relay asks the BAR over mutual TLS): sending-ue, receiving-ue, and the BAR's refusals of
# another subscriber's avatar, an expired and a replayed attestation, an x5c from another CA,
# an iss that is not the certificate's IMPU and a relay that is not the named dc_as. A
# manifest from the BAR verifies the fetched representation. No refusal leaves an output
# file.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
MAKE_CA=$HERE/ca/make-ca.sh
INTEROP=$ROOT/tests/interop
T=$(mktemp -d /tmp/imsdc-avatar-test.XXXXXX)
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"
SHOW=("$T/err")

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
head -c 8388608 /dev/urandom >"$T/alice-hd.glb"
cat >"$T/bar.json" <<JSON
{"bar_id":"bar.ims.example","ca":"ca/root.pem","cert":"bar.pem","key":"bar-key.pem",
 "subscribers":{"sip:alice@ims.example":["av-alice","av-alice-hd"],"sip:bob@ims.example":["av-bob"]},
 "avatars":{"av-alice":{"file":"alice.glb","cty":"model/gltf-binary"},
            "av-alice-hd":{"file":"alice-hd.glb","cty":"model/gltf-binary"},
            "av-bob":{"file":"bob.glb","cty":"model/gltf-binary"}},
 "signer":{"cert":"signer.pem","key":"signer-key.pem"}}
JSON
start_bar "$T/bar.json" "$T/bar.log"
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

echo "--- relay path: imsdc avatar fetch over a data channel to imsdc dc relay (the DC AS)"
# relay_fetch NAME WANT RE OUT RELAY-CERT-PREFIX -- fetch ARGS...: one relay process per
# fetch (it ends when the UE closes the channel); SDP through a rendezvous directory; every
# socket on 127.0.0.1.
relay_fetch() {
  local name=$1 want=$2 re=$3 out=$4 who=$5 d rp rrc
  shift 6
  d=$(mktemp -d "$T/rv.XXXXXX")
  "$IMSDC" dc relay --sdp-in "$d/offer.sdp" --sdp-out "$d/answer.sdp" --bar "$BAR" \
    --ca "$CA/root.pem" --key "$who-key.pem" --cert "$who.pem" --bind 127.0.0.1 --timeout 60 \
    >"$d/relay.out" 2>"$d/relay.log" &
  rp=$!
  expect "$name" "$want" "$re" "$out" -- avatar fetch --dc-as-url "file://$d" --bind 127.0.0.1 \
    "$@"
  set +e
  wait "$rp"
  rrc=$?
  set -e
  if ((rrc != 0)); then
    fail "$name" "the relay exited $rrc"
    sed 's/^/      | relay: /' "$d/relay.log" | tail -n 5
  elif [[ $want == 0 ]] && ! grep -q "BAR answered 200" "$d/relay.log"; then
    fail "$name" "the relay did not log the BAR's 200"
  fi
  cp "$d/relay.log" "$T/last-relay.log"
}
RELAY=(--rendering sending-ue --avatar-id av-alice "${CLAIMS[@]}")
relay_fetch "relay: sending-ue" 0 "" "$T/out/s1.glb" "$T/dcas" -- "${UE_A[@]}" "${RELAY[@]}" \
  --out "$T/out/s1.glb"
same "relay: sending-ue" "$T/alice.glb" "$T/out/s1.glb"

relay_fetch "relay: sending-ue, 8 MiB streamed through" 0 "" "$T/out/hd.glb" "$T/dcas" -- \
  "${UE_A[@]}" --rendering sending-ue --avatar-id av-alice-hd "${CLAIMS[@]}" \
  --out "$T/out/hd.glb"
same "relay: 8 MiB" "$T/alice-hd.glb" "$T/out/hd.glb"
grep -h "BAR answered" "$T/last-relay.log" | sed 's/^/      /'

receiving r4
relay_fetch "relay: receiving-ue with UE-B's key" 0 "" "$T/out/b4.glb" "$T/dcas" -- "${UE_B[@]}" \
  --rendering receiving-ue --attestation "$T/r4.att" --ephemeral-key "$T/r4.key" \
  --out "$T/out/b4.glb"
same "relay: receiving-ue" "$T/alice.glb" "$T/out/b4.glb"

relay_fetch "relay: another subscriber's avatar -> not_owner" 5 "BAR: not_owner" \
  "$T/out/rn.glb" "$T/dcas" -- "${UE_A[@]}" --rendering sending-ue --avatar-id av-bob \
  "${CLAIMS[@]}" --out "$T/out/rn.glb"

# UE-A's attestation signed an hour ago (expired), fetched by UE-B.
"$IMSDC" avatar ephemeral --export-ephemeral "$T/r7.key" >"$T/r7.pub"
"$IMSDC" --now $(($(date +%s) - 3600)) avatar attest "${UE_A[@]}" --avatar-id av-alice \
  "${CLAIMS[@]}" --rendering receiving-ue --peer-epk "$T/r7.pub" >"$T/r7.att"
relay_fetch "relay: expired attestation -> expired" 5 "BAR: expired" "$T/out/re.glb" "$T/dcas" \
  -- "${UE_B[@]}" --rendering receiving-ue --attestation "$T/r7.att" \
  --ephemeral-key "$T/r7.key" --out "$T/out/re.glb"

receiving r5
cp "$T/r5.key" "$T/r5-copy.key"
relay_fetch "relay: receiving-ue once more" 0 "" "$T/out/b5.glb" "$T/dcas" -- "${UE_B[@]}" \
  --rendering receiving-ue --attestation "$T/r5.att" --ephemeral-key "$T/r5.key" \
  --out "$T/out/b5.glb"
relay_fetch "relay: replayed attestation -> replayed" 8 "BAR: replayed" "$T/out/rr.glb" \
  "$T/dcas" -- "${UE_B[@]}" --rendering receiving-ue --attestation "$T/r5.att" \
  --ephemeral-key "$T/r5-copy.key" --out "$T/out/rr.glb"

relay_fetch "relay: x5c from another CA -> untrusted_certificate" 5 \
  "BAR: untrusted_certificate" "$T/out/rc.glb" "$T/dcas" -- --key "$T/ue-x-key.pem" \
  --cert "$T/ue-x.pem" "${RELAY[@]}" --out "$T/out/rc.glb"

"$IMSDC" avatar ephemeral --export-ephemeral "$T/r6.key" >"$T/r6.pub"
NOW=$(date +%s)
printf '{"iss":"sip:alice@ims.example","avatar_id":"av-alice","dc_as":"dcas.ims.example","aud":"bar.ims.example","rendering":"receiving-ue","epk":%s,"iat":%s,"exp":%s,"jti":"iss-relay-%s"}' \
  "$(cat "$T/r6.pub")" "$NOW" $((NOW + 60)) "$NOW" >"$T/r6.json"
node "$INTEROP/jws-sign.mjs" --key "$T/ue-b-key.pem" --cert "$T/ue-b.pem" --claims "$T/r6.json" \
  --typ avatar-attestation+jwt >"$T/r6.att"
relay_fetch "relay: iss is not the certificate's IMPU -> untrusted_certificate" 5 \
  "BAR: untrusted_certificate" "$T/out/ri.glb" "$T/dcas" -- "${UE_B[@]}" \
  --rendering receiving-ue --attestation "$T/r6.att" --ephemeral-key "$T/r6.key" \
  --out "$T/out/ri.glb"

relay_fetch "relay: requester is not the named dc_as -> wrong_requester" 5 \
  "BAR: wrong_requester" "$T/out/rw.glb" "$T/other-as" -- "${UE_A[@]}" "${RELAY[@]}" \
  --out "$T/out/rw.glb"

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
