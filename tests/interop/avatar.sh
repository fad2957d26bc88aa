#!/usr/bin/env bash
# Avatar interop between imsdc and jose (npm), certificates from the OpenSSL test CA.
#   avatar.sh IMSDC
# 1. imsdc makes every token profile of PROTOCOL_PROFILE.md section 6; jose verifies the
#    signature and x5c chain (jws-verify.mjs) and avatar-check.mjs checks the claim rules.
# 2. jose encrypts (jwe-encrypt.mjs, playing the BAR) 0 B, 1 B, 1 MiB and 64 MiB
#    representations for imsdc's exported ephemeral key; imsdc avatar decrypt reproduces
#    them byte-exactly.
# 3. Tampered answers exit 3 with the right class on stderr and leave no output file; a
#    consumed key file exits 3 with key_used.
# 4. A manifest signed by a CA-issued avatar signing certificate: imsdc avatar verify accepts
#    the representation and refuses a changed, short or long one, another avatar_id and a
#    foreign trust anchor.
# The BAR server, the DC AS relay and fetching over data channels are not tested here.
set -euo pipefail
IMSDC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CA=$ROOT/tests/labnet/ca/make-ca.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
step() { echo "--- $*"; }
fail() { echo "FAIL: $*"; exit 1; }

bash "$CA" init "$T/ca" >/dev/null
IMPU=sip:alice@ims.example
KS=(--dir "$T/dev")
"$IMSDC" keygen --dir "$T/dev" --impu "$IMPU" >/dev/null
bash "$CA" sign-csr "$T/ca" "$T/dev/device.csr" "$T/issued.pem" >/dev/null
"$IMSDC" cert import "${KS[@]}" "$T/issued.pem" >/dev/null

check_token() { # check_token FILE PROFILE [avatar-check options...]
  local file=$1 profile=$2; shift 2
  local typ
  case $profile in
    attestation) typ=avatar-attestation+jwt ;; avatar-token) typ=avatar-token+jwt ;;
    ue-token) typ=ue-token+jwt ;; cca) typ=cca+jwt ;;
  esac
  node "$HERE/jws-verify.mjs" --trust "$T/ca/root.pem" "$file" --expect-typ "$typ" \
    --iss-is-leaf-uri >/dev/null || fail "jose rejected the $profile token"
  node "$HERE/avatar-check.mjs" --profile "$profile" "$file" "$@" \
    || fail "claim rules of $profile"
}

step "every token profile, verified by jose"
"$IMSDC" avatar attest "${KS[@]}" --avatar-id av-1 --dc-as dcas.ims.example \
  --bar-id bar.ims.example --rendering network >"$T/att-net"
check_token "$T/att-net" attestation --rendering network
"$IMSDC" avatar attest "${KS[@]}" --avatar-id av-1 --dc-as dcas.ims.example \
  --bar-id bar.ims.example --rendering sending-ue --export-ephemeral "$T/own.key" >"$T/att-send"
[ "$(stat -c %a "$T/own.key")" = 600 ] || fail "exported ephemeral key mode"
node -e 'const k=JSON.parse(require("fs").readFileSync(process.argv[1]));delete k.d;delete k.exp;
  process.stdout.write(JSON.stringify(k))' "$T/own.key" >"$T/own.pub"
check_token "$T/att-send" attestation --rendering sending-ue --epk "$T/own.pub"
"$IMSDC" avatar ephemeral --export-ephemeral "$T/peer.key" >"$T/peer.pub"
"$IMSDC" avatar attest "${KS[@]}" --avatar-id av-1 --dc-as dcas.ims.example \
  --bar-id bar.ims.example --rendering receiving-ue --peer-epk "$(cat "$T/peer.pub")" >"$T/att-recv"
check_token "$T/att-recv" attestation --rendering receiving-ue --epk "$T/peer.pub"
"$IMSDC" avatar token "${KS[@]}" --avatar-id av-1 --sub DC-AS >"$T/tok"
check_token "$T/tok" avatar-token
"$IMSDC" avatar ue-token "${KS[@]}" --aud xr-as.ims.example --lifetime 30 >"$T/ue"
check_token "$T/ue" ue-token --lifetime 30
"$IMSDC" avatar cca "${KS[@]}" >"$T/cca"
check_token "$T/cca" cca
echo "ok: attestation (3 renderings), avatar token, UE token, CCA"

step "the attestation's own ephemeral key decrypts a jose JWE bound to its jti"
JTI=$(node -e 'const p=process.argv[1].split(".")[1];
  process.stdout.write(JSON.parse(Buffer.from(p,"base64url")).jti)' "$(cat "$T/att-send")")
head -c 4096 /dev/urandom >"$T/p-att"
node "$HERE/jwe-encrypt.mjs" --epk-jwk "$T/own.pub" --apv-jti "$JTI" --cty model/gltf-binary \
  --in "$T/p-att" --out "$T/jwe-att"
"$IMSDC" avatar decrypt --in "$T/jwe-att" --ephemeral-key "$T/own.key" --jti "$JTI" \
  --out "$T/out/p-att.glb" 2>/dev/null || fail "decrypt of the attestation-bound JWE"
cmp "$T/p-att" "$T/out/p-att.glb" || fail "plaintext differs"
[ ! -e "$T/own.key" ] && [ -e "$T/own.key.consumed" ] || fail "key file not consumed"
echo "ok"

new_key() { "$IMSDC" avatar ephemeral --export-ephemeral "$T/k" >"$T/k.pub"; rm -f "$T/k.consumed"; }
encrypt() { # encrypt PLAIN OUT [JTI]
  node "$HERE/jwe-encrypt.mjs" --epk-jwk "$T/k.pub" --apv-jti "${3:-jti-1}" \
    --cty model/gltf-binary --in "$1" --out "$2"
}

step "jose encrypts 0 B, 1 B, 1 MiB, 64 MiB; imsdc decrypts byte-exactly"
: >"$T/p0"
head -c 1 /dev/urandom >"$T/p1"
head -c $((1 << 20)) /dev/urandom >"$T/p1m"
head -c $((64 << 20)) /dev/urandom >"$T/p64m"
for p in p0 p1 p1m p64m; do
  new_key
  encrypt "$T/$p" "$T/$p.jwe"
  start=$(date +%s.%N)
  "$IMSDC" avatar decrypt --in "$T/$p.jwe" --ephemeral-key "$T/k" --jti jti-1 \
    --out "$T/out/$p" --json >"$T/res" || fail "decrypt $p"
  end=$(date +%s.%N)
  cmp "$T/$p" "$T/out/$p" || fail "$p differs"
  grep -q '"cty":"model/gltf-binary"' "$T/res" || fail "cty not reported"
  echo "ok: $p ($(stat -c %s "$T/$p") bytes, $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s)"
  rm -f "$T/out/$p" "$T/$p.jwe"
done

expect_class() { # expect_class CLASS JWEFILE [JTI]
  local want=$1 jwe=$2 jti=${3:-jti-1}
  rm -f "$T/out/t"
  set +e
  "$IMSDC" avatar decrypt --in "$jwe" --ephemeral-key "$T/k" --jti "$jti" --out "$T/out/t" \
    >"$T/o" 2>"$T/e"
  local got=$?
  set -e
  [ "$got" = 3 ] || { cat "$T/e"; fail "$jwe: exit $got, expected 3"; }
  grep -q "^imsdc: $want: " "$T/e" || { cat "$T/e"; fail "$jwe: class is not $want"; }
  [ ! -e "$T/out/t" ] || fail "$jwe: output file left behind"
  ls -A "$T/out" | grep -q '^\.t\.tmp' && fail "$jwe: temporary left behind"
  echo "ok: $(basename "$jwe") -> $want"
}
# Applies a Python edit to the compact JWE: parts = the five segments, h = header dict.
tamper() { # tamper NAME PYTHON-STATEMENTS
  python3 - "$T/base.jwe" "$T/$1" "$2" <<'PY'
import base64, json, sys
src, dst, code = sys.argv[1], sys.argv[2], sys.argv[3]
parts = open(src).read().strip().split(".")
def b64d(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def b64e(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def flip(s, i): return s[:i] + ("B" if s[i] == "A" else "A") + s[i + 1:]
h = json.loads(b64d(parts[0]))
exec(code)
open(dst, "w").write(".".join(parts))
PY
}

step "tampered answers: exit 3, the right class, no output file"
head -c 10000 /dev/urandom >"$T/p10k"
run_tamper() { # run_tamper NAME CLASS PYTHON
  new_key
  encrypt "$T/p10k" "$T/base.jwe"
  tamper "$1" "$3"
  expect_class "$2" "$T/$1"
}
# A changed header byte that breaks the JSON is malformed; a header that still parses but
# differs (cty) is caught by the GCM tag: auth_failed.
run_tamper hdr-byte malformed 'parts[0] = flip(parts[0], 1)'
run_tamper hdr-cty auth_failed 'h["cty"] = "model/gltf+json"; parts[0] = b64e(json.dumps(h, separators=(",", ":")).encode())'
run_tamper epk-x bad_key 'h["epk"]["x"] = flip(h["epk"]["x"], 5); parts[0] = b64e(json.dumps(h).encode())'
run_tamper epk-offcurve bad_key 'y = bytearray(b64d(h["epk"]["y"])); y[31] ^= 1; h["epk"]["y"] = b64e(bytes(y)); parts[0] = b64e(json.dumps(h).encode())'
run_tamper iv auth_failed 'parts[2] = flip(parts[2], 3)'
run_tamper ciphertext auth_failed 'parts[3] = flip(parts[3], 100)'
run_tamper tag auth_failed 'parts[4] = flip(parts[4], 2)'
run_tamper last-char malformed 'a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"; parts[4] = parts[4][:-1] + a[a.index(parts[4][-1]) ^ 1]'
run_tamper alg binding 'h["alg"] = "ECDH-ES+A256KW"; parts[0] = b64e(json.dumps(h).encode())'
new_key
encrypt "$T/p10k" "$T/wrong-apv.jwe" other-jti
expect_class binding "$T/wrong-apv.jwe" jti-1

step "a consumed key file: key_used"
new_key
encrypt "$T/p10k" "$T/ok.jwe"
"$IMSDC" avatar decrypt --in "$T/ok.jwe" --ephemeral-key "$T/k" --jti jti-1 --out "$T/out/ok" \
  2>/dev/null || fail "decrypt before reuse"
[ ! -e "$T/k" ] || fail "key file still present after use"
rm -f "$T/out/ok"
set +e
"$IMSDC" avatar decrypt --in "$T/ok.jwe" --ephemeral-key "$T/k" --jti jti-1 --out "$T/out/ok" \
  2>"$T/e"
got=$?
set -e
[ "$got" = 3 ] && grep -q "^imsdc: key_used: " "$T/e" || { cat "$T/e"; fail "reuse: exit $got"; }
[ ! -e "$T/out/ok" ] || fail "reuse wrote output"
echo "ok: reuse -> key_used"
step "signed manifest: imsdc avatar verify (digest, size, avatar_id, signature, chain)"
bash "$CA" device "$T/ca" https://avatars.ims.example/signer "$T/signer" >/dev/null
head -c 300000 /dev/urandom >"$T/rep.glb"
DIGEST=$(openssl dgst -sha256 -binary "$T/rep.glb" | base64 -w0)
mk_manifest() { # mk_manifest OUT AVATAR_ID SIZE
  printf '{"avatar_id":"%s","digest":"sha256-%s","size":%s,"cty":"model/gltf-binary"}\n' \
    "$2" "$DIGEST" "$3" >"$T/m.json"
  "$IMSDC" jws sign --key "$T/signer-key.pem" --cert "$T/signer.pem" --claims "$T/m.json" \
    --typ avatar-manifest+jwt --stamp --lifetime 3600 >"$1"
}
mk_manifest "$T/manifest" av-1 300000
"$IMSDC" avatar verify --manifest "$T/manifest" --in "$T/rep.glb" --trust "$T/ca/root.pem" \
  --avatar-id av-1 --out "$T/mout/rep.glb" >/dev/null || fail "manifest verify"
cmp "$T/rep.glb" "$T/mout/rep.glb" || fail "verified copy differs"
expect_verify() { # expect_verify CLASS MANIFEST INPUT [AVATAR_ID]
  rm -f "$T/mout/bad.glb"
  set +e
  "$IMSDC" avatar verify --manifest "$2" --in "$3" --trust "$T/ca/root.pem" \
    --avatar-id "${4:-av-1}" --out "$T/mout/bad.glb" >/dev/null 2>"$T/e"
  local got=$?
  set -e
  [ "$got" = 3 ] && grep -q "^imsdc: $1: " "$T/e" || { cat "$T/e"; fail "verify: exit $got, want $1"; }
  [ ! -e "$T/mout/bad.glb" ] || fail "verify left an output file"
  echo "ok: manifest -> $1"
}
cp "$T/rep.glb" "$T/rep-bad.glb"
printf 'X' | dd of="$T/rep-bad.glb" bs=1 seek=1000 conv=notrunc 2>/dev/null
expect_verify auth_failed "$T/manifest" "$T/rep-bad.glb"
head -c 299999 "$T/rep.glb" >"$T/rep-short.glb"
expect_verify auth_failed "$T/manifest" "$T/rep-short.glb"
mk_manifest "$T/manifest-small" av-1 1000
expect_verify too_large "$T/manifest-small" "$T/rep.glb"
expect_verify binding "$T/manifest" "$T/rep.glb" av-2
bash "$CA" init "$T/ca2" >/dev/null
set +e
"$IMSDC" avatar verify --manifest "$T/manifest" --in "$T/rep.glb" --trust "$T/ca2/root.pem" \
  >/dev/null 2>"$T/e"
got=$?
set -e
[ "$got" = 3 ] && grep -q "^imsdc: untrusted: " "$T/e" || { cat "$T/e"; fail "foreign CA: $got"; }
echo "ok: manifest from a foreign CA -> untrusted"

echo "PASS"
