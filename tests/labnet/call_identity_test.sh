#!/usr/bin/env bash
# Verified caller identity on a real call (ctest label "labnet"): two imsdc clients register
# with the labnet eP-CSCF (Kamailio 5.6) over WSS; Kamailio, as the originating network's
# STIR/SHAKEN authentication service (secsipid module), signs the initial INVITE with a
# SHAKEN PASSporT (attest A: the caller registered with digest; orig = the number of the
# asserted identity, dest = the dialled number, both from numbers.conf); the callee
# (imsdc answer --trust --certs) verifies it and its incoming-call event carries the caller
# card. The STI root and signing certificate are the ones labnet-kamailio.sh start makes;
# the x5u URL resolves from a local certificate cache directory (no network fetch).
# Kamailio also gets third-party ID server data (--third-party-ids: name cards of two
# enterprise identities); for those it signs a second PASSporT, Rich Call Data (RFC 9795).
#   call_identity_test.sh IMSDC [--keep]
# Cases:
#  1. signed call: the card says number verified_e2e, attest A; the PASSporT Kamailio wrote
#     is checked independently (header, orig, dest, attest); the call works.
#  2. x5u certificate not in the callee's cache: number failed (untrusted, not available).
#  3. the callee trusts another STI root: number failed (untrusted).
#  4. a call to a SIP URI (no number to sign for): no Identity header, number unverified.
#  5. Kamailio started with --no-sti: no Identity header, number unverified.
#  6. a call with the third-party identity sip:e12345@enterprise.example (enterprise token),
#     whose name card (nam, jCard with fn, org, photo) the ID server data has: the callee gets
#     the SHAKEN PASSporT and an rcd PASSporT (checked independently: header, claims, rcdi
#     digests); its card shows number, name, organization and photo verified_e2e. The INVITE,
#     rebuilt from the callee's incoming event (all header fields as received), verified by
#     imsdc identity verify: the same card; with a tampered copy of the published jCard the
#     organization fails (the name stays verified: the PASSporT's nam carries its own digest).
#  7. sip:e67890@enterprise.example, whose entry has no nam: the name comes from the jCard's
#     fn (verified_e2e); with the tampered jCard the name and the organization fail.
# (6 and 7 run before 5.) In 2-7 the call itself still works (both sides exit 0, the callee
# saw the caller hang up).
# Every wait is bounded; Kamailio is stopped on exit.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
MAKE_CA=$HERE/ca/make-ca.sh
X5U=https://sti.ims.example/certs/sti.pem
ALICE_TN=+15551110001
BOB_TN=+15552220002
E1=sip:e12345@enterprise.example
E1_TN=+15553330003
E2=sip:e67890@enterprise.example
E2_TN=+15553330004
T=$(mktemp -d /tmp/imsdc-call-identity-test.XXXXXX)
D=$T/epcscf
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

# incoming FILE WHAT: from the callee's first "incoming" event, prints WHAT:
#   card.FIELD.KEY (e.g. card.number.status), card.attest, card.verstat,
#   header NAME (the values of a header, one per line), passport (the claims and header of
#   the one Identity header's PASSporT, as JSON, decoded here without imsdc), passports (the
#   same for every Identity header, as a JSON list), invite OUT (writes the INVITE rebuilt
#   from the event: request line with the To URI, every header field as received, no body).
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
if what[0] in ("passport", "passports"):
    ids = [v for n, v in e.get("headers", []) if n.lower() == "identity"]
    if what[0] == "passport" and len(ids) != 1:
        sys.exit(1)
    out = []
    for value in ids:
        jws, _, params = value.partition(";")
        dec = lambda s: json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        h, c = (dec(p) for p in jws.split(".")[:2])
        out.append({"params": params, "header": h, "claims": c, "jws": jws})
    print(json.dumps(out[0] if what[0] == "passport" else out, sort_keys=True))
    sys.exit(0)
if what[0] == "invite":
    hdrs = [(n, v) for n, v in e.get("headers", [])
            if n.lower() not in ("content-length", "content-type")]
    to = next(v for n, v in hdrs if n.lower() == "to")
    ruri = to.split("<", 1)[1].split(">", 1)[0] if "<" in to else to.split(";", 1)[0]
    text = "INVITE %s SIP/2.0\r\n" % ruri + "".join("%s: %s\r\n" % h for h in hdrs)
    open(what[1], "wb").write((text + "Content-Length: 0\r\n\r\n").encode())
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
  BG+=("$BOBPID")
  wait_for "$T/$name.bob" '"state":"registered"' 1 20 || fail "$name" "callee did not register"
}
# call NAME TO [imsdc call options]: imsdc call (alice) in the foreground, a 1 s call; both
# must exit 0 and the callee must have seen the caller hang up (the call works whatever the
# caller card says).
call() {
  local name=$1 to=$2 arc brc
  shift 2
  set +e
  timeout 120 "$IMSDC" call "${ALICE[@]}" --to "$to" --hold 1 "$@" >"$T/$name.alice" 2>"$T/$name.alice.err"
  arc=$?
  timeout 60 tail --pid="$BOBPID" -f /dev/null
  wait "$BOBPID"
  brc=$?
  set -e
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
  start_kamailio --ca "$T/ca" "$@"
  local common=(--server "wss://localhost:$PORT" --origin https://wwsf.ims.example
    --ca "$D/tls/ca.pem" --json)
  ALICE=("${common[@]}" --state "$T/alice" --impu sip:alice@ims.example
    --password-file "$D/passwords/alice")
  BOB=("${common[@]}" --state "$T/bob" --impu sip:bob@ims.example
    --password-file "$D/passwords/bob")
}

# The third-party ID server data: two enterprise identities with name cards (one with nam,
# one with the jCard only), the photo file beside it; their numbers in numbers.conf (which
# start keeps).
TPID=$T/tpid
mkdir -p "$TPID" "$D"
cat >"$TPID/ids.json" <<EOF
{"identities": {
  "$E1": {"nam": "Alice Example",
    "jcl": "https://id.enterprise.example/jcards/e12345.json",
    "jcard": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Alice Example"],
                        ["org", {}, "text", "Example Enterprise"],
                        ["photo", {}, "uri", "https://id.enterprise.example/jcards/e12345.png"]]]},
  "$E2": {
    "jcl": "https://id.enterprise.example/jcards/e67890.json",
    "jcard": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Zoë Example"],
                        ["org", {}, "text", ["Example Enterprise", "Sales"]]]]}}}
EOF
"$PY" -c 'import sys, zlib, struct
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(b"\x00\x20\x60\xa0")) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)' "$TPID/e12345.png"
printf '%s\n' "sip:alice@ims.example  $ALICE_TN" "sip:bob@ims.example    $BOB_TN" \
  "$E1  $E1_TN" "$E2  $E2_TN" >"$D/numbers.conf"

bash "$MAKE_CA" init "$T/ca" >/dev/null
start_lab --third-party-ids "$TPID/ids.json"
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
check "no name card for alice: only the SHAKEN PASSporT" \
  log_has "STI: no third-party ID server entry for sip:alice@ims.example: no rich call data"

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

# --- 6. a third-party identity with a name card: SHAKEN + Rich Call Data ------------------
KEY=$D/wwsf/wwsf-key.pem
"$PY" "$HERE/kamailio/wwsf-token.py" --key "$KEY" --sub enterprise-pool-7@wwsf.ims.example \
  --impu "$E1" >"$T/e1.token"
"$PY" "$HERE/kamailio/wwsf-token.py" --key "$KEY" --sub enterprise-pool-7@wwsf.ims.example \
  --impu "$E2" >"$T/e2.token"
# verify_card NAME INVITE CERTS FIELD=STATUS[=VALUE]...: imsdc identity verify (exit 0) and
# the card it prints.
verify_card() {
  local name=$1 file=$2 certs=$3 msg rc
  shift 3
  set +e
  "$IMSDC" identity verify --invite "$file" --trust "$STI/root.pem" --certs "$certs" \
    >"$T/verify.out" 2>"$T/verify.err"
  rc=$?
  set -e
  if ((rc != 0)); then
    fail "$name" "imsdc identity verify exit $rc: $(tr '\n' '|' <"$T/verify.err")"
    return 0
  fi
  if msg=$("$PY" - "$T/verify.out" "$@" 2>&1 <<'EOF'
import json, sys
card = json.load(open(sys.argv[1]))
for spec in sys.argv[2:]:
    field, status, *value = spec.split("=", 2)
    got = card[field]
    if got["status"] != status or (value and got["value"] != value[0]):
        sys.exit(f"{field} is {got}, want {status} {value}")
EOF
  ); then pass "$name"; else fail "$name" "$msg"; fi
}
# tampered_certs OUT JCARD: a copy of the callee's certificate cache with the jCard's org
# changed (the published bytes no longer match the PASSporT's rcdi digest).
tampered_certs() {
  rm -rf "$1"
  cp -r "$STI/certs" "$1"
  "$PY" -c 'import sys; p = sys.argv[1]; t = open(p, encoding="utf-8").read()
assert "Example Enterprise" in t
open(p, "w", encoding="utf-8").write(t.replace("Example Enterprise", "Evil Enterprise"))' "$1/$2"
}

answer rcd "${TRUST[@]}"
T0=$(date +%s)
call rcd "$BOB_URI" --third-party-id "$E1" --third-party-token-file "$T/e1.token"
T1=$(date +%s)
B=$T/rcd.bob
check "third-party identity: Kamailio signed SHAKEN and Rich Call Data" \
  log_has "STI: rich call data signed .* for $E1 \\(nam: Alice Example; jcl https://id.enterprise.example/jcards/e12345.json\\)"
PP=$(incoming "$B" passports || true)
if msg=$("$PY" - "$X5U" "${E1_TN#+}" "${BOB_TN#+}" "$T0" "$T1" "$STI" "$PP" 2>&1 <<'EOF'
import base64, hashlib, json, sys
import jwt
from cryptography import x509
x5u, orig, dest, t0, t1, sti, pp = sys.argv[1:]
pps = json.loads(pp or "[]")
if [p["header"].get("ppt") for p in pps] != ["shaken", "rcd"]:
    sys.exit("Identity headers at the callee: %s" % [p["header"] for p in pps])
shaken, rcd = pps
if shaken["claims"].get("attest") != "A" or shaken["claims"].get("orig") != {"tn": orig}:
    sys.exit(f"SHAKEN claims {shaken['claims']}")
if rcd["params"] != f"info=<{x5u}>;alg=ES256;ppt=rcd":
    sys.exit("rcd Identity parameters: " + rcd["params"])
if rcd["header"] != {"alg": "ES256", "ppt": "rcd", "typ": "passport", "x5u": x5u}:
    sys.exit(f"rcd PASSporT header {rcd['header']}")
key = x509.load_pem_x509_certificate(open(sti + "/certs/sti.pem", "rb").read()).public_key()
c = jwt.decode(rcd["jws"], key=key, algorithms=["ES256"])  # the signature, with PyJWT
d = lambda b: "sha256-" + base64.b64encode(hashlib.sha256(b).digest()).decode()
jcl = "https://id.enterprise.example/jcards/e12345.json"
card = json.loads(open(sti + "/certs/e12345.json", "rb").read())
want = {"orig": {"tn": orig}, "dest": {"tn": [dest]}, "iat": c.get("iat"),
        "rcd": {"nam": "Alice Example", "jcl": jcl},
        "rcdi": {"/nam": d(b'"Alice Example"'), "/jcl": d(open(sti + "/certs/e12345.json", "rb").read()),
                 "/jcl/1/3/3": d(open(sti + "/certs/e12345.png", "rb").read())}}
if c != want:
    sys.exit(f"rcd claims {c}, want {want}")
if not int(t0) - 1 <= c["iat"] <= int(t1) + 1:
    sys.exit(f"rcd iat {c['iat']} outside {t0}..{t1}")
if card[1][3] != ["photo", {}, "uri", "https://id.enterprise.example/jcards/e12345.png"]:
    sys.exit(f"published jCard {card}")
EOF
); then pass "the callee got SHAKEN + rcd PASSporTs: rcd header, claims orig/dest/iat, rcd {nam, jcl}, rcdi (nam, jCard, photo), signature"
else fail "rcd PASSporT at the callee" "$msg"; fi
check "caller card: number verified end to end (the enterprise number)" \
  test "$(incoming "$B" card.number.status)/$(incoming "$B" card.number.value)/$(incoming "$B" card.attest)" = "verified_e2e/$E1_TN/A"
check "caller card: name Alice Example verified end to end" \
  test "$(incoming "$B" card.name.value)/$(incoming "$B" card.name.status)/$(incoming "$B" card.name.reason)" = \
  "Alice Example/verified_e2e/rcdi digest matches /nam"
check "caller card: organization Example Enterprise verified end to end" \
  test "$(incoming "$B" card.organization.value)/$(incoming "$B" card.organization.status)" = "Example Enterprise/verified_e2e"
check "caller card: photo verified end to end" \
  test "$(incoming "$B" card.photo.value)/$(incoming "$B" card.photo.status)" = \
  "https://id.enterprise.example/jcards/e12345.png/verified_e2e"
incoming "$B" invite "$T/rcd.sip" || fail "INVITE from the incoming event" "no incoming event"
verify_card "imsdc identity verify: name, organization, photo verified end to end" "$T/rcd.sip" "$STI/certs" \
  "number=verified_e2e=$E1_TN" "name=verified_e2e=Alice Example" "organization=verified_e2e=Example Enterprise" \
  "photo=verified_e2e"
tampered_certs "$T/certs-tampered" e12345.json
verify_card "imsdc identity verify, tampered jCard: organization failed, name still verified (signed nam)" \
  "$T/rcd.sip" "$T/certs-tampered" "number=verified_e2e" "name=verified_e2e=Alice Example" "organization=failed"
check "tampered jCard: the reason names the jCard digest" \
  test "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["organization"]["reason"])' \
    "$T/verify.out")" = "rcdi digest mismatch for /jcl"

# --- 7. a name card without nam: the name comes from the jCard ------------------------------
answer rcdjcard "${TRUST[@]}"
call rcdjcard "$BOB_URI" --third-party-id "$E2" --third-party-token-file "$T/e2.token"
B=$T/rcdjcard.bob
check "jCard-only name card: the name is the jCard's fn, verified end to end" \
  test "$(incoming "$B" card.name.value)/$(incoming "$B" card.name.status)" = "Zoë Example/verified_e2e"
check "jCard-only name card: organization (structured org) verified end to end" \
  test "$(incoming "$B" card.organization.value)/$(incoming "$B" card.organization.status)" = \
  "Example Enterprise/verified_e2e"
RCD=$(incoming "$B" passports | "$PY" -c 'import json, sys
c = json.load(sys.stdin)[1]["claims"]
print(json.dumps(c["rcd"]), ",".join(sorted(c["rcdi"])))' 2>/dev/null || true)
check "jCard-only name card: rcd {jcl} only, rcdi /jcl" \
  test "$RCD" = '{"jcl": "https://id.enterprise.example/jcards/e67890.json"} /jcl'
incoming "$B" invite "$T/rcdjcard.sip" || fail "INVITE from the incoming event" "no incoming event"
tampered_certs "$T/certs-tampered" e67890.json
verify_card "imsdc identity verify, tampered jCard without nam: name and organization failed" \
  "$T/rcdjcard.sip" "$T/certs-tampered" "number=verified_e2e" "name=failed" "organization=failed"

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
