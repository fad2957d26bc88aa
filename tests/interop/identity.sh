#!/usr/bin/env bash
# Verified caller identity interop: PASSporTs signed by jose (npm) with rcdi digests from
# canonicalize (npm, RFC 8785), certificates from the OpenSSL test CA, verified by
# `imsdc identity verify` on INVITEs built from a Kamailio-relayed capture.
#   identity.sh IMSDC
# Each case checks the caller card's per-field status and reason, and the exit code.
# The jCard carries numbers and names whose RFC 8785 forms are tricky (exponents, UTF-16
# ordering beyond the BMP), so a matching /jcd digest cross-checks imsdc's JCS against
# canonicalize. One case fetches the certificate, jCard and icon over HTTPS from a local
# server (imsdc --allow-fetch). Signing with Kamailio/secsipid is tests/labnet/identity.
set -euo pipefail
IMSDC=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CA=$ROOT/tests/labnet/ca/make-ca.sh
TEMPLATE=$ROOT/tests/unit/data/sip/kamailio/invite-relayed.sip
T=$(mktemp -d)
HTTPS_PID=""
cleanup() {
  if [ -n "$HTTPS_PID" ]; then kill "$HTTPS_PID" 2>/dev/null || true; wait "$HTTPS_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
NOW=$(date +%s)
CERTS=$T/certs
mkdir -p "$CERTS"
step() { echo "--- $*"; }

bash "$CA" init "$T/ca" >/dev/null
bash "$CA" server "$T/ca" sti.example "$T/sti" >/dev/null
bash "$CA" server "$T/ca" sti-other.example "$T/sti-other" --ca other >/dev/null
cp "$T/sti.pem" "$CERTS/sti.pem"
cp "$T/sti-other.pem" "$CERTS/sti-other.pem"
X5U=https://cert.sti.example/sti.pem
AVATAR=https://bar.ims.example/avatars/icon.png
printf '\x89PNG\r\n\x1a\n imsdc test icon' >"$CERTS/icon.png"
cat >"$CERTS/card.json" <<'JSON'
["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice Linked"],["org",{},"text","Linked Org"],["photo",{},"uri","https://bar.ims.example/avatars/icon.png"]]]
JSON

# sign OUT CLAIMS-JSON [rcd-sign options...]
sign() {
  local out=$1 claims=$2; shift 2
  printf '%s' "$claims" >"$T/claims.json"
  node "$HERE/rcd-sign.mjs" --key "$T/sti-key.pem" --x5u "${SIGN_X5U:-$X5U}" \
    --claims "$T/claims.json" --files "$CERTS" "$@" >"$out"
}
# invite OUT VERSTAT ALG PASSPORT-FILE... : the captured INVITE with a telephone-number To,
# P-Asserted-Identity (with verstat), one Identity header per PASSporT, the avatar Call-Info.
invite() {
  local out=$1 verstat=$2 alg=$3; shift 3
  local extra="P-Asserted-Identity: \"Alice\" <sip:+15551110001@ims.example;user=phone${verstat:+;verstat=$verstat}>"
  local f
  for f in "$@"; do
    extra+=$'\r\n'"Identity: $(cat "$f");info=<$X5U>;alg=$alg"
  done
  extra+=$'\r\n'"Call-Info: <$AVATAR>;purpose=avatar"
  EXTRA="$extra" python3 - "$TEMPLATE" "$out" <<'PY'
import os, sys
text = open(sys.argv[1], 'rb').read().decode()
head, sep, body = text.partition('\r\n\r\n')
if not sep:
    head, sep, body = text.partition('\n\n')
lines = head.replace('\r\n', '\n').split('\n')
out = []
for line in lines:
    if line.startswith('To:'):
        line = 'To: <sip:+1-555-222-0002@ims.example;user=phone>'
    out.append(line)
    if line.startswith('From:'):
        out.extend(os.environ['EXTRA'].split('\r\n'))
open(sys.argv[2], 'wb').write(('\r\n'.join(out) + '\r\n\r\n' + body.replace('\r\n', '\n').replace('\n', '\r\n')).encode())
PY
}
# Where imsdc finds x5u / jcl / icn resources: the local directory, or HTTPS (--allow-fetch).
SOURCE=(--certs "$CERTS")
# verify WANT-EXIT INVITE [imsdc global options]: runs imsdc identity verify
verify() {
  local want=$1 file=$2; shift 2
  # The PASSporTs are signed with iat=$NOW, early: unless the case tests freshness itself
  # (it sets --now), allow 10 minutes so a slow machine cannot make iat stale mid-run.
  local window=(--iat-window 600)
  [[ " $* " == *" --now "* ]] && window=()
  set +e
  "$IMSDC" "$@" identity verify --invite "$file" --trust "$T/ca/root.pem" "${SOURCE[@]}" "${window[@]}" \
    >"$T/out" 2>"$T/err"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "FAIL: expected exit $want, got $got"; cat "$T/out" "$T/err"; exit 1
  fi
  cat "$T/out"
}
# expect FIELD STATUS [REASON-SUBSTRING]: checks the last caller card
expect() {
  python3 - "$T/out" "$@" <<'PY' || { cat "$T/err"; exit 1; }
import json, sys
card = json.load(open(sys.argv[1]))
field, status = sys.argv[2], sys.argv[3]
reason = sys.argv[4] if len(sys.argv) > 4 else None
got = card[field]
if field in ('verstat', 'attest'):
    ok = (got if got is not None else 'null') == status
    if not ok: print(f"FAIL: {field} is {got}, want {status}"); sys.exit(1)
    sys.exit(0)
if got['status'] != status or (reason and reason not in got['reason']):
    print(f"FAIL: {field} is {got}, want status {status} reason ~ {reason}"); sys.exit(1)
print(f"ok: {field} {status} ({got['reason']})")
PY
}

BASE='"orig":{"tn":"15551110001"},"dest":{"tn":["15552220002"]},"iat":'$NOW
JCD='["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice Inline"],["org",{"\u20ac":1e21,"\ud83d\ude00":333333333.33333329,"\ufb33":4.50},"text","Inline Org"]]]'
RCD_INLINE='"rcd":{"nam":"Alice","jcd":'$JCD',"icn":"'$AVATAR'"},"crn":"Quarterly review"'
RCD_LINKED='"rcd":{"nam":"Alice","jcl":"https://rcd.sti.example/card.json","icn":"'$AVATAR'"}'

step "genuine SHAKEN A + rcd (nam, jcd, icn): every field verified end to end"
sign "$T/shaken-a" "{$BASE,\"attest\":\"A\",\"origid\":\"4437c7eb-8f7a-4f0e-a863-f53a0e60251a\"}" --ppt shaken
sign "$T/rcd-inline" "{$BASE,$RCD_INLINE}" --ppt rcd
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a" "$T/rcd-inline"
verify 0 "$T/inv"
expect number verified_e2e "attest A"
expect name verified_e2e "/nam"
expect organization verified_e2e "/jcd"
expect photo verified_e2e "/icn"
expect avatar verified_e2e "rcd.icn"
expect call_reason verified_e2e
expect verstat TN-Validation-Passed
expect attest A

step "genuine rcd with a linked jCard (jcl) and icon"
sign "$T/rcd-linked" "{$BASE,$RCD_LINKED}" --ppt rcd
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a" "$T/rcd-linked"
verify 0 "$T/inv"
expect name verified_e2e "/nam"
expect organization verified_e2e "/jcl"
expect avatar verified_e2e

step "x5u, jCard and icon fetched over HTTPS from 127.0.0.1 (--allow-fetch)"
if "$IMSDC" identity --help | grep -q -- --allow-fetch; then
  bash "$CA" server "$T/ca" localhost "$T/https" >/dev/null
  python3 - "$CERTS" "$T/https.pem" "$T/https-key.pem" "$T/https-port" <<'PY' &
import functools, http.server, os, ssl, sys
root, cert, key, portfile = sys.argv[1:]
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=root))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
  HTTPS_PID=$!
  for _ in $(seq 100); do [ -s "$T/https-port" ] && break; sleep 0.1; done
  [ -s "$T/https-port" ] || { echo "FAIL: HTTPS server did not start"; exit 1; }
  H=https://localhost:$(cat "$T/https-port")
  printf '["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice Fetched"],["org",{},"text","Fetched Org"],["photo",{},"uri","%s/icon.png"]]]' "$H" >"$CERTS/card-h.json"
  SIGN_X5U=$H/sti.pem sign "$T/shaken-h" "{$BASE,\"attest\":\"A\"}" --ppt shaken
  SIGN_X5U=$H/sti.pem sign "$T/rcd-h" "{$BASE,\"rcd\":{\"nam\":\"Alice\",\"jcl\":\"$H/card-h.json\",\"icn\":\"$H/icon.png\"}}" --ppt rcd
  invite "$T/inv" "" ES256 "$T/shaken-h" "$T/rcd-h"
  SOURCE=(--allow-fetch --ca "$T/ca/root.pem")
  verify 0 "$T/inv"
  expect number verified_e2e "attest A"
  expect name verified_e2e "/nam"
  expect organization verified_e2e "/jcl"
  expect photo verified_e2e "/icn"
  step "changed icon byte on the HTTPS server"
  cp "$CERTS/icon.png" "$T/icon.orig"
  printf 'X' | dd of="$CERTS/icon.png" bs=1 seek=12 conv=notrunc status=none
  verify 0 "$T/inv"
  expect photo failed "rcdi digest mismatch for /icn"
  expect organization verified_e2e "/jcl"
  cp "$T/icon.orig" "$CERTS/icon.png"
  step "HTTPS server not trusted: nothing is fetched"
  SOURCE=(--allow-fetch --ca "$T/ca/other-root.pem")
  verify 3 "$T/inv"
  expect number failed "x5u certificate not available"
  SOURCE=(--certs "$CERTS")
else
  echo "skipped: this imsdc is built without HTTPS (libwebsockets)"
fi

step "changed nam (rcdi no longer matches)"
sign "$T/rcd-nam" "{$BASE,$RCD_INLINE}" --ppt rcd --nam-after-rcdi Mallory
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a" "$T/rcd-nam"
verify 0 "$T/inv"
expect name failed "rcdi digest mismatch for /nam"
expect number verified_e2e

step "changed jCard byte"
cp "$CERTS/card.json" "$T/card.orig"
sed -i 's/Linked Org/Linked Orh/' "$CERTS/card.json"
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a" "$T/rcd-linked"
verify 0 "$T/inv"
expect organization failed "rcdi digest mismatch for /jcl"
expect name verified_e2e "/nam"
cp "$T/card.orig" "$CERTS/card.json"

step "changed icon byte"
cp "$CERTS/icon.png" "$T/icon.orig"
printf 'X' | dd of="$CERTS/icon.png" bs=1 seek=12 conv=notrunc status=none
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a" "$T/rcd-inline"
verify 0 "$T/inv"
expect photo failed "rcdi digest mismatch for /icn"
expect avatar failed
cp "$T/icon.orig" "$CERTS/icon.png"

step "missing rcdi entry"
sign "$T/rcd-omit" "{$BASE,$RCD_INLINE}" --ppt rcd --omit-rcdi /nam
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a" "$T/rcd-omit"
verify 0 "$T/inv"
expect name failed "no rcdi digest for /nam"

step "stale iat"
invite "$T/inv" TN-Validation-Passed ES256 "$T/shaken-a"
verify 3 "$T/inv" --now $((NOW + 120))
expect number failed "expired"

step "wrong dest"
sign "$T/dest" '{"orig":{"tn":"15551110001"},"dest":{"tn":["15559990009"]},"iat":'$NOW',"attest":"A"}' --ppt shaken
invite "$T/inv" TN-Validation-Passed ES256 "$T/dest"
verify 3 "$T/inv"
expect number failed "binding: dest"

step "certificate not chaining to the STI roots"
SIGN_X5U=https://cert.sti.example/sti-other.pem sign "$T/other" "{$BASE,\"attest\":\"A\"}" --ppt shaken
invite "$T/inv" TN-Validation-Passed ES256 "$T/other"
verify 3 "$T/inv"
expect number failed "untrusted"

step "unsupported alg"
invite "$T/inv" TN-Validation-Passed ES384 "$T/shaken-a"
verify 3 "$T/inv"
expect number failed "unsupported"

step "verstat TN-Validation-Failed"
invite "$T/inv" TN-Validation-Failed ES256 "$T/shaken-a" "$T/rcd-inline"
verify 0 "$T/inv"
expect number failed "TN-Validation-Failed"
expect name unverified "TN-Validation-Failed"
expect verstat TN-Validation-Failed

step "attest B"
sign "$T/shaken-b" "{$BASE,\"attest\":\"B\",\"origid\":\"4437c7eb-8f7a-4f0e-a863-f53a0e60251a\"}" --ppt shaken
invite "$T/inv" "" ES256 "$T/shaken-b"
verify 0 "$T/inv"
expect number not_attested "attest B"
expect attest B
expect verstat null
echo "PASS: identity interop"
