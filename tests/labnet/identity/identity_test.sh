#!/usr/bin/env bash
# SHAKEN PASSporTs from a real, independent STIR signer (ctest label "labnet"): Kamailio 5.6
# with the secsipid module (libsecsipid, written in Go) signs INVITEs it relays over UDP on
# loopback; `imsdc identity verify` checks the Identity header of what arrives.
#   identity_test.sh IMSDC [--keep]
# The test STI certificate (P-256, with a TNAuthList extension) and its CA are made here with
# openssl; imsdc resolves the x5u URL from a local certificate cache (--certs), never over the
# network. Cases: attest A (number verified end to end; the claims secsipid wrote are checked:
# orig, dest, attest, origid, iat within the send window), the iat freshness boundary (60 s
# either way), attest B and C (not attested), and copies of the captured INVITE with a changed
# From number, a changed signature, a changed Request-URI/To number, the certificate missing
# from the cache and a certificate from another CA: each fails with its own reason (exit 3).
# Kamailio runs in its own process group under a mktemp directory and is stopped on exit.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
MAKE_CA=$HERE/../ca/make-ca.sh
PY=/usr/bin/python3
UDP=("$PY" "$HERE/sip_udp.py")
KAMAILIO=${KAMAILIO:-kamailio}
X5U=https://cert.sti.example/sti.pem
ALICE=+15551110001
BOB=+15552220002
T=$(mktemp -d /tmp/imsdc-identity-test.XXXXXX)
K=$T/kamailio
PGID=""
FAILS=0

stop_kamailio() {
  [[ -n $PGID ]] || return 0
  kill -TERM "$PGID" 2>/dev/null || true
  for _ in $(seq 50); do pgrep -g "$PGID" >/dev/null || break; sleep 0.1; done
  if pgrep -g "$PGID" >/dev/null; then kill -KILL -- "-$PGID" 2>/dev/null || true; fi
  PGID=""
}
cleanup() {
  local rc=$?
  stop_kamailio
  if ((rc == 0 && FAILS == 0 && KEEP == 0)); then
    rm -rf "$T"
  else
    echo "work directory kept: $T (Kamailio log: $K/kamailio.log)"
  fi
}
trap cleanup EXIT
die() { echo "identity_test.sh: $*" >&2; exit 1; }
pass() { printf 'ok    %s\n' "$1"; }
fail() {
  printf 'FAIL  %s: %s\n' "$1" "$2"
  sed 's/^/      | /' "$T/out" "$T/err" 2>/dev/null | tail -n 20
  FAILS=$((FAILS + 1))
}

command -v "$KAMAILIO" >/dev/null || die "kamailio is not installed (toolchains/install-deps.sh kamailio)"
MODDIR=$("$KAMAILIO" -h 2>&1 | sed -n 's/.*Modules search path (default: \(.*\)).*/\1/p')
[[ -e $MODDIR/secsipid.so ]] \
  || die "Kamailio has no secsipid module (apt package kamailio-secsipid-modules; toolchains/install-deps.sh kamailio)"

# --- test STI PKI (openssl) -------------------------------------------------------------
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || { cat "$T/openssl.log" >&2; die "openssl $1 failed"; }; }
bash "$MAKE_CA" init "$T/ca" >/dev/null
# sti_cert CA-BASENAME OUTPREFIX: an STI (SHAKEN) certificate with TNAuthList SPC "1234"
# (RFC 8226: SEQUENCE { [0] IA5String "1234" }).
sti_cert() {
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2-key.pem"
  ossl req -new -key "$2-key.pem" -subj "/O=imsdc Test/CN=SHAKEN 1234" -out "$2.csr"
  printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
    "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" \
    "1.3.6.1.5.5.7.1.26 = DER:30:08:a0:06:16:04:31:32:33:34" >"$T/sti.ext"
  ossl x509 -req -in "$2.csr" -CA "$T/ca/$1.pem" -CAkey "$T/ca/$1-key.pem" -days 30 -sha256 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$T/sti.ext" -out "$2.pem"
}
sti_cert root "$T/sti"
sti_cert other-root "$T/sti-other"
mkdir -p "$T/cache" "$T/cache-empty" "$T/cache-other"
cp "$T/sti.pem" "$T/cache/sti.pem"
cp "$T/sti-other.pem" "$T/cache-other/sti.pem"

# --- Kamailio with secsipid -------------------------------------------------------------
free_udp_port() { "$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
KPORT=$(free_udp_port)
NEXT=$(free_udp_port)
while [[ $NEXT == "$KPORT" ]]; do NEXT=$(free_udp_port); done
mkdir -p "$K/run"
sed -e "s|@PORT@|$KPORT|g" -e "s|@NEXT@|$NEXT|g" -e "s|@X5U@|$X5U|g" -e "s|@KEY@|$T/sti-key.pem|g" \
  "$HERE/kamailio-identity.cfg.in" >"$K/kamailio.cfg"
"$KAMAILIO" -c -f "$K/kamailio.cfg" >"$K/cfgcheck.log" 2>&1 \
  || { cat "$K/cfgcheck.log" >&2; die "Kamailio rejects $K/kamailio.cfg"; }
# -DD keeps the main process in the foreground, so $! is the process group setsid made.
setsid "$KAMAILIO" -f "$K/kamailio.cfg" -DD -E -w "$K/run" -Y "$K/run" -m 16 -M 4 \
  >"$K/kamailio.log" 2>&1 </dev/null &
PGID=$!
"${UDP[@]}" ping --proxy "$KPORT" --timeout 10 || { tail -n 20 "$K/kamailio.log"; die "Kamailio did not start"; }
echo "Kamailio (secsipid) on udp:127.0.0.1:$KPORT, next hop 127.0.0.1:$NEXT"

# invite OUT [--header H]...: one INVITE alice -> bob through Kamailio, captured at the next hop
invite() {
  local out=$1
  shift
  "${UDP[@]}" invite --proxy "$KPORT" --listen "$NEXT" --from-tn "$ALICE" --to-tn "$BOB" \
    --out "$out" "$@" || { tail -n 20 "$K/kamailio.log"; die "no signed INVITE captured"; }
}
# verify NAME WANT-EXIT INVITE CACHE [imsdc global options]: imsdc identity verify
verify() {
  local name=$1 want=$2 file=$3 cache=$4 got
  shift 4
  set +e
  "$IMSDC" "$@" identity verify --invite "$file" --trust "$T/ca/root.pem" --certs "$cache" \
    >"$T/out" 2>"$T/err"
  got=$?
  set -e
  if [[ $got != "$want" ]]; then
    fail "$name" "exit $got, expected $want"
    return 1
  fi
}
# card NAME FIELD=STATUS[~REASON]...: checks the caller card imsdc printed
card() {
  local name=$1 msg
  shift
  if msg=$("$PY" - "$T/out" "$@" 2>&1 <<'PY'
import json, sys
card = json.load(open(sys.argv[1]))
for spec in sys.argv[2:]:
    field, want = spec.split("=", 1)
    status, _, reason = want.partition("~")
    got = card[field]
    if field in ("attest", "verstat"):
        if (got if got is not None else "null") != status:
            sys.exit(f"{field} is {got}, want {status}")
    elif got["status"] != status or reason not in got["reason"]:
        sys.exit(f"{field} is {got}, want {status} ~ {reason!r}")
PY
  ); then pass "$name"; else fail "$name" "$msg"; fi
}
# check NAME WANT-EXIT INVITE CACHE FIELD=STATUS[~REASON]... [-- imsdc global options]
check() {
  local name=$1 want=$2 file=$3 cache=$4
  shift 4
  local -a specs=() globals=()
  while (($#)) && [[ $1 != -- ]]; do specs+=("$1"); shift; done
  (($#)) && shift
  globals=("$@")
  verify "$name" "$want" "$file" "$cache" "${globals[@]}" || return 0
  card "$name" "${specs[@]}"
}
# edit IN OUT PYTHON-EXPR: OUT = the SIP text of IN transformed by the expression over `t`
edit() {
  "$PY" -c 'import re, sys; t = open(sys.argv[1], "rb").read().decode(); open(sys.argv[2], "wb").write(eval(sys.argv[3]).encode())' "$1" "$2" "$3"
}

# --- attest A: the PASSporT secsipid wrote, then imsdc's verdict ------------------------
T0=$(date +%s)
invite "$T/a.sip"
T1=$(date +%s)
if msg=$("$PY" - "$T/a.sip" "$X5U" "$ALICE" "$BOB" "$T0" "$T1" 2>&1 >"$T/iat" <<'PY'
import base64, json, re, sys
path, x5u, alice, bob, t0, t1 = sys.argv[1:]
text = open(path, "rb").read().decode()
ids = re.findall(r"^Identity:\s*(.*)\r$", text, re.M)
if len(ids) != 1:
    sys.exit(f"{len(ids)} Identity headers in the relayed INVITE")
jws, _, params = ids[0].partition(";")
if f"info=<{x5u}>" not in params or "alg=ES256" not in params or "ppt=shaken" not in params:
    sys.exit("Identity parameters: " + params)
dec = lambda s: json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
h, c = (dec(p) for p in jws.split(".")[:2])
if h != {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u}:
    sys.exit(f"PASSporT header {h}")
if c["attest"] != "A" or c["orig"] != {"tn": alice} or c["dest"] != {"tn": [bob]}:
    sys.exit(f"PASSporT claims {c}")
if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", c["origid"]):
    sys.exit(f"origid {c['origid']}")
if not int(t0) <= c["iat"] <= int(t1):
    sys.exit(f"iat {c['iat']} outside the send window {t0}..{t1}")
print(c["iat"])
PY
); then pass "secsipid PASSporT: header, attest A, orig/dest/origid, iat in the send window"
else fail "secsipid PASSporT" "$msg"; fi
IAT=$(cat "$T/iat")
[[ $IAT =~ ^[0-9]+$ ]] || die "no iat read from the captured PASSporT"
check "attest A verifies: number verified end to end" 0 "$T/a.sip" "$T/cache" \
  "number=verified_e2e~PASSporT attest A" attest=A verstat=null "name=unverified~display name"
check "iat + 60 s still fresh" 0 "$T/a.sip" "$T/cache" number=verified_e2e -- --now $((IAT + 60))
check "iat + 61 s stale" 3 "$T/a.sip" "$T/cache" "number=failed~expired: PASSporT iat is not fresh" \
  attest=null -- --now $((IAT + 61))
check "iat - 61 s (from the future)" 3 "$T/a.sip" "$T/cache" "number=failed~expired" \
  -- --now $((IAT - 61))

# --- attest B and C: valid, but the number is not attested ------------------------------
invite "$T/b.sip" --header "X-Attest: B"
check "attest B: not attested" 0 "$T/b.sip" "$T/cache" "number=not_attested~PASSporT attest B" attest=B
invite "$T/c.sip" --header "X-Attest: C"
check "attest C: not attested" 0 "$T/c.sip" "$T/cache" "number=not_attested~PASSporT attest C" attest=C

# --- tampered copies of the relayed INVITE ----------------------------------------------
edit "$T/a.sip" "$T/from.sip" "re.sub(r'(?m)^From: (.*)\+15551110001', r'From: \g<1>+15551110009', t)"
grep -q '^From: .*+15551110009' "$T/from.sip" || die "From was not changed"
check "changed From number" 3 "$T/from.sip" "$T/cache" \
  "number=failed~binding: orig does not match the P-Asserted-Identity or From number"
# A signature character in the middle (the last one also carries padding bits).
edit "$T/a.sip" "$T/sig.sip" \
  "re.sub(r'(?m)^(Identity: [^.]+\.[^.]+\.[A-Za-z0-9_-]{20})(.)', lambda m: m.group(1) + ('B' if m.group(2) != 'B' else 'C'), t)"
cmp -s "$T/a.sip" "$T/sig.sip" && die "signature was not changed"
check "changed signature" 3 "$T/sig.sip" "$T/cache" "number=failed~bad_signature"
edit "$T/a.sip" "$T/dest.sip" "re.sub(r'(?m)^(INVITE sip:|To: <sip:)\+15552220002', r'\g<1>+15552220009', t)"
check "changed Request-URI and To number" 3 "$T/dest.sip" "$T/cache" \
  "number=failed~binding: dest does not match the Request-URI or To number"
check "x5u certificate not in the cache" 3 "$T/a.sip" "$T/cache-empty" \
  "number=failed~untrusted: x5u certificate not available"
check "certificate from another CA" 3 "$T/a.sip" "$T/cache-other" "number=failed~untrusted"

if ((FAILS)); then
  echo "FAILED: $FAILS identity check(s)"
  exit 1
fi
echo "PASS: PASSporTs signed by Kamailio/secsipid"
