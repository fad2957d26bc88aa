#!/usr/bin/env bash
# Verified caller identity on a real call (ctest label "labnet"): two imsdc clients register
# with the labnet eP-CSCF (Kamailio 5.6) over WSS; Kamailio, as the originating network's
# STIR/SHAKEN authentication service (secsipid module), signs the initial INVITE with a
# SHAKEN PASSporT (attest A: the caller registered with digest; orig = the number of the
# asserted identity, dest = the dialled number, both from numbers.conf); the callee
# (imsdc answer --trust --certs) verifies it and its incoming-call event carries the caller
# card. The STI root and signing certificate are the ones labnet-kamailio.sh start makes;
# the x5u URL resolves from a local certificate cache directory (no network fetch).
#   call_identity_test.sh IMSDC [--keep]
# Cases:
#  1. signed call: the card says number verified_e2e, attest A; the PASSporT Kamailio wrote
#     is checked independently (header, orig, dest, attest); the call works.
#  2. x5u certificate not in the callee's cache: number failed (untrusted, not available).
#  3. the callee trusts another STI root: number failed (untrusted).
#  4. a call to a SIP URI (no number to sign for): no Identity header, number unverified.
#  5. Kamailio started with --no-sti: no Identity header, number unverified.
# In 2-5 the call itself still works (both sides exit 0, the callee saw the caller hang up).
# Every wait is bounded; Kamailio is stopped on exit.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/kamailio/labnet-kamailio.sh
PY=/usr/bin/python3
MAKE_CA=$HERE/ca/make-ca.sh
X5U=https://sti.ims.example/certs/sti.pem
ALICE_TN=+15551110001
BOB_TN=+15552220002
T=$(mktemp -d /tmp/imsdc-call-identity-test.XXXXXX)
D=$T/epcscf
FAILS=0
STARTED=0
BOBPID=""

cleanup() {
  local rc=$?
  if [[ -n $BOBPID ]]; then kill "$BOBPID" 2>/dev/null || true; fi
  if ((STARTED)); then "$LAB" stop "$D" >/dev/null 2>&1 || true; fi
  if ((rc == 0 && FAILS == 0 && KEEP == 0)); then
    rm -rf "$T"
  else
    echo "work directory kept: $T (Kamailio log: $D/kamailio.log)"
  fi
}
trap cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() {
  printf 'FAIL  %s: %s\n' "$1" "$2"
  FAILS=$((FAILS + 1))
}
check() { # NAME COMMAND...: pass when COMMAND succeeds
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}
log_has() { grep -qE "$1" "$D/kamailio.log"; }

wait_for() { # FILE REGEX COUNT SECONDS
  local file=$1 re=$2 n=$3 deadline=$((SECONDS + $4)) c
  while ((SECONDS < deadline)); do
    c=$(grep -cE "$re" "$file" 2>/dev/null || true)
    ((${c:-0} >= n)) && return 0
    sleep 0.2
  done
  return 1
}

# incoming FILE WHAT: from the callee's first "incoming" event, prints WHAT:
#   card.FIELD.KEY (e.g. card.number.status), card.attest, card.verstat,
#   header NAME (the values of a header, one per line), passport (the claims and header of
#   the one Identity header's PASSporT, as JSON, decoded here without imsdc).
# Exit 1 when absent.
incoming() {
  "$PY" - "$@" <<'EOF'
import base64, json, sys
f, what = sys.argv[1], sys.argv[2:]
evs = [json.loads(l) for l in open(f) if l.startswith("{")]
evs = [e for e in evs if e.get("event") == "incoming"]
if not evs:
    sys.exit(1)
e = evs[0]
if what[0] == "header":
    vals = [v for n, v in e.get("headers", []) if n.lower() == what[1].lower()]
    print("\n".join(vals))
    sys.exit(0 if vals else 1)
if what[0] == "passport":
    ids = [v for n, v in e.get("headers", []) if n.lower() == "identity"]
    if len(ids) != 1:
        sys.exit(1)
    jws, _, params = ids[0].partition(";")
    dec = lambda s: json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    h, c = (dec(p) for p in jws.split(".")[:2])
    print(json.dumps({"params": params, "header": h, "claims": c}, sort_keys=True))
    sys.exit(0)
v = e
for k in what[0].split("."):
    k = "caller_card" if k == "card" else k
    if not isinstance(v, dict) or k not in v:
        sys.exit(1)
    v = v[k]
sys.stdout.write("null" if v is None else v if isinstance(v, str) else json.dumps(v))
EOF
}
ended() { # FILE: the "end" of the first "ended" event
  "$PY" -c 'import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
evs = [e for e in evs if e.get("event") == "ended"]
print(evs[0].get("end", "") if evs else "")' "$1"
}

# answer NAME ARGS...: imsdc answer (bob) in the background; waits until registered.
answer() {
  local name=$1
  shift
  "$IMSDC" answer "${BOB[@]}" "$@" >"$T/$name.bob" 2>"$T/$name.bob.err" &
  BOBPID=$!
  wait_for "$T/$name.bob" '"state":"registered"' 1 20 || fail "$name" "callee did not register"
}
# call NAME TO: imsdc call (alice) in the foreground, a 1 s call; both must exit 0 and the
# callee must have seen the caller hang up (the call works whatever the caller card says).
call() {
  local name=$1 to=$2 arc brc
  set +e
  timeout 120 "$IMSDC" call "${ALICE[@]}" --to "$to" --hold 1 >"$T/$name.alice" 2>"$T/$name.alice.err"
  arc=$?
  timeout 60 tail --pid="$BOBPID" -f /dev/null
  wait "$BOBPID"
  brc=$?
  set -e
  BOBPID=""
  if ((arc != 0 || brc != 0)); then
    fail "$name" "exit codes alice=$arc bob=$brc"
    sed 's/^/      | /' "$T/$name.alice.err" "$T/$name.bob.err" | tail -n 10
  elif [[ $(ended "$T/$name.bob") != remote-hangup ]]; then
    fail "$name" "the callee did not see the caller hang up"
  else
    pass "$name: the call works"
  fi
}

start_lab() { # [labnet-kamailio.sh start options]
  "$LAB" start "$D" --ca "$T/ca" "$@" >"$T/start.out"
  STARTED=1
  PORT=$(sed -n 's/^KAMAILIO_PORT=//p' "$T/start.out")
  [[ -n $PORT ]] || { echo "FAIL: Kamailio did not report its port"; exit 1; }
  local common=(--server "wss://localhost:$PORT" --origin https://wwsf.ims.example
    --ca "$D/tls/ca.pem" --json)
  ALICE=("${common[@]}" --state "$T/alice" --impu sip:alice@ims.example
    --password-file "$D/passwords/alice")
  BOB=("${common[@]}" --state "$T/bob" --impu sip:bob@ims.example
    --password-file "$D/passwords/bob")
}

bash "$MAKE_CA" init "$T/ca" >/dev/null
start_lab
STI=$D/sti
for f in root.pem certs/sti.pem sti-key.pem; do
  [[ -s $STI/$f ]] || { echo "FAIL: labnet-kamailio.sh start made no $STI/$f"; exit 1; }
done
mkdir -p "$T/cache-empty"
TRUST=(--trust "$STI/root.pem" --certs "$STI/certs")
BOB_URI="sip:$BOB_TN@ims.example;user=phone"

# --- 1. signed by the originating network, verified by the callee -------------------------
answer signed "${TRUST[@]}"
call signed "$BOB_URI"
B=$T/signed.bob
check "Kamailio signed the INVITE (attest A)" \
  log_has "STI: signed .* orig ${ALICE_TN#+} dest ${BOB_TN#+} attest A"
PP=$(incoming "$B" passport || true)
if msg=$("$PY" - "$X5U" "${ALICE_TN#+}" "${BOB_TN#+}" "$PP" 2>&1 <<'EOF'
import json, sys
x5u, alice, bob, pp = sys.argv[1:]
if not pp:
    sys.exit("no (single) Identity header at the callee")
p = json.loads(pp)
h, c, params = p["header"], p["claims"], p["params"]
if f"info=<{x5u}>" not in params or "alg=ES256" not in params or "ppt=shaken" not in params:
    sys.exit("Identity parameters: " + params)
if h != {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u}:
    sys.exit(f"PASSporT header {h}")
if c.get("attest") != "A" or c.get("orig") != {"tn": alice} or c.get("dest") != {"tn": [bob]}:
    sys.exit(f"PASSporT claims {c}")
EOF
); then pass "the callee got one SHAKEN PASSporT: x5u, attest A, orig and dest numbers"
else fail "PASSporT at the callee" "$msg"; fi
check "the callee sees both asserted identities (SIP and tel URI)" \
  test "$(incoming "$B" header P-Asserted-Identity | tr '\n' ' ')" = "<sip:alice@ims.example> <tel:$ALICE_TN> "
check "To keeps the dialled number" test "$(incoming "$B" header To)" = "<$BOB_URI>"
check "caller card: number verified end to end" \
  test "$(incoming "$B" card.number.status)/$(incoming "$B" card.number.value)" = "verified_e2e/$ALICE_TN"
check "caller card: reason attest A" test "$(incoming "$B" card.number.reason)" = "PASSporT attest A, orig matches"
check "caller card: attest A, no verstat" test "$(incoming "$B" card.attest)/$(incoming "$B" card.verstat)" = "A/null"
check "caller card: the SIP display name stays unverified" \
  test "$(incoming "$B" card.name.status)" = "unverified"

# --- 2. x5u certificate not in the callee's cache ------------------------------------------
answer nocert --trust "$STI/root.pem" --certs "$T/cache-empty"
call nocert "$BOB_URI"
B=$T/nocert.bob
check "certificate not cached: number failed, with its reason" \
  test "$(incoming "$B" card.number.status)/$(incoming "$B" card.number.reason)" = \
  "failed/PASSporT untrusted: x5u certificate not available"
check "certificate not cached: no attest" test "$(incoming "$B" card.attest)" = "null"

# --- 3. the callee trusts another STI root -------------------------------------------------
answer otherroot --trust "$T/ca/other-root.pem" --certs "$STI/certs"
call otherroot "$BOB_URI"
B=$T/otherroot.bob
check "untrusted root: number failed (untrusted)" \
  test "$(incoming "$B" card.number.status)/$(incoming "$B" card.number.reason | cut -c1-18)" = \
  "failed/PASSporT untrusted"

# --- 4. a SIP URI callee: nothing to sign --------------------------------------------------
answer sipuri "${TRUST[@]}"
call sipuri sip:bob@ims.example
B=$T/sipuri.bob
check "SIP URI callee: not signed" log_has "STI: .* not signed"
check "SIP URI callee: no Identity header" test "$(incoming "$B" header Identity || true)" = ""
check "SIP URI callee: number unverified, with its reason" \
  test "$(incoming "$B" card.number.status)/$(incoming "$B" card.number.reason)" = \
  "unverified/no verstat and no verified PASSporT"

# --- 5. no signing at all (--no-sti) -------------------------------------------------------
"$LAB" stop "$D" >/dev/null
STARTED=0
start_lab --no-sti --port "$PORT"
answer nosti "${TRUST[@]}"
call nosti "$BOB_URI"
B=$T/nosti.bob
check "--no-sti: no Identity header" test "$(incoming "$B" header Identity || true)" = ""
check "--no-sti: number unverified, with its reason" \
  test "$(incoming "$B" card.number.status)/$(incoming "$B" card.number.value)/$(incoming "$B" card.number.reason)" = \
  "unverified/$ALICE_TN/no verstat and no verified PASSporT"
check "--no-sti: attest null" test "$(incoming "$B" card.attest)" = "null"

if ((FAILS)); then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "all call identity checks passed"
