#!/usr/bin/env bash
# imsdc call / imsdc answer through the real labnet eP-CSCF (Kamailio 5.6, ctest label "labnet").
#   call_test.sh IMSDC [--keep]
# Two imsdc clients register over WSS and call each other through Kamailio:
#  1. INVITE / 180 with 100rel and PRACK / UPDATE / 200 / ACK / re-INVITE / BYE; every SDP
#     body arrives byte for byte; the avatar reference reaches the callee on the INVITE and
#     the caller on the 200; Kamailio's own log shows the in-dialog requests.
#  2. CANCEL before the answer.
#  3. Session timer shortened to 10 s (--min-se 5): the caller's refreshes keep a 25 s call up.
#  4. Third-party identity: Kamailio answers 407 without a token, the token goes in
#     Proxy-Authorization: Bearer, Kamailio consumes it and asserts the identity; the callee
#     never sees the token; Privacy: id withholds the asserted identity; a bad token is final.
#  5. reg event (RFC 3680): Kamailio ends the registration with a NOTIFY; the client reports
#     it and registers again.
#  6. A call over IPv6 loopback ([::1]; "localhost" resolved to ::1 in a private mount
#     namespace, because mbedTLS 2.28 checks DNS names only).
# Every wait is bounded; Kamailio is stopped on exit.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
MAKE_CA=$HERE/ca/make-ca.sh
T=$(mktemp -d /tmp/imsdc-call-test.XXXXXX)
D=$T/epcscf
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"

not_() { ! "$@" >/dev/null; }
# ev FILE EVENT INDEX FIELD: prints FIELD of the INDEX-th EVENT line of FILE (JSON lines);
# "count" as FIELD prints how many such events there are. Exit 1 when absent.
ev() {
  "$PY" - "$@" <<'EOF'
import json, sys
f, event, idx, field = sys.argv[1:5]
evs = []
for line in open(f):
    if line.startswith("{"):
        d = json.loads(line)
        if d.get("event", d.get("state")) == event:
            evs.append(d)
if field == "count":
    print(len(evs)); sys.exit(0)
i = int(idx)
if i >= len(evs) or field not in evs[i]:
    sys.exit(1)
v = evs[i][field]
sys.stdout.write(v if isinstance(v, str) else json.dumps(v))
EOF
}
# same_sdp FILE EVENT INDEX SDPFILE: the event's SDP equals the file byte for byte.
same_sdp() {
  "$PY" - "$@" <<'EOF'
import json, sys
f, event, idx, sdp = sys.argv[1:5]
evs = [json.loads(l) for l in open(f) if l.startswith("{")]
evs = [e for e in evs if e.get("event") == event]
want = open(sdp, "rb").read().decode()
i = int(idx)
sys.exit(0 if i < len(evs) and evs[i].get("sdp") == want else 1)
EOF
}
# hdr FILE EVENT INDEX NAME: the values of header NAME in the event, one per line.
hdr() {
  "$PY" - "$@" <<'EOF'
import json, sys
f, event, idx, name = sys.argv[1:5]
evs = [json.loads(l) for l in open(f) if l.startswith("{")]
evs = [e for e in evs if e.get("event") == event]
i = int(idx)
if i >= len(evs): sys.exit(1)
vals = [v for n, v in evs[i].get("headers", []) if n.lower() == name.lower()]
print("\n".join(vals))
sys.exit(0 if vals else 1)
EOF
}
count() { ev "$1" "$2" 0 count; }

# answer NAME ARGS...: imsdc answer in the background (bob); waits until registered.
answer() {
  local name=$1
  shift
  "${WRAP[@]}" "$IMSDC" answer "${BOB[@]}" "$@" >"$T/$name.bob" 2>"$T/$name.bob.err" &
  BG+=($!)
  BOBPID=$!
  wait_for "$T/$name.bob" '"state":"registered"' 1 20 || fail "$name" "callee did not register"
}
# call NAME ARGS...: imsdc call (alice) in the foreground; sets ALICE_RC, waits for bob.
call() {
  local name=$1
  shift
  set +e
  timeout 120 "${WRAP[@]}" "$IMSDC" call "${ALICE[@]}" "$@" >"$T/$name.alice" 2>"$T/$name.alice.err"
  ALICE_RC=$?
  timeout 60 tail --pid="$BOBPID" -f /dev/null
  wait "$BOBPID"
  BOB_RC=$?
  set -e
  if ((ALICE_RC != ${WANT_ALICE:-0} || BOB_RC != ${WANT_BOB:-0})); then
    fail "$name" "exit codes alice=$ALICE_RC bob=$BOB_RC"
    sed 's/^/      | /' "$T/$name.alice.err" "$T/$name.bob.err" | tail -n 10
  fi
}

bash "$MAKE_CA" init "$T/ca" >/dev/null
start_kamailio --ca "$T/ca"
COMMON=(--server "wss://localhost:$PORT" --origin https://wwsf.ims.example --ca "$D/tls/ca.pem" --json)
ALICE=("${COMMON[@]}" --state "$T/alice" --impu sip:alice@ims.example
  --password-file "$D/passwords/alice")
BOB=("${COMMON[@]}" --state "$T/bob" --impu sip:bob@ims.example --password-file "$D/passwords/bob")
WRAP=()

sdp() { # NAME ADDR PORT [EXTRA]: an SDP body with CRLF line ends
  printf 'v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 96\r\na=rtpmap:96 AMR-WB/16000/1\r\n%s' \
    "$1" "$2" "$2" "$3" "${4:-}" >"$T/$1.sdp"
}
sdp offer 192.0.2.1 49170
sdp answer 192.0.2.2 3456
sdp update 192.0.2.1 49170 $'m=application 5000 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:5000\r\n'
sdp reanswer 192.0.2.2 3456 $'m=application 6000 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:5000\r\n'
sdp reinvite 192.0.2.1 49172 $'a=sendonly\r\n'

# --- 1. the full call ---------------------------------------------------------------------
answer full --sdp "$T/answer.sdp" --reanswer-sdp "$T/reanswer.sdp" --ring 2 --avatar-id bob-1
call full --to sip:bob@ims.example --sdp "$T/offer.sdp" --update-sdp "$T/update.sdp" \
  --reinvite-sdp "$T/reinvite.sdp" --hold 2 --avatar-id alice-1
A=$T/full.alice B=$T/full.bob
check "offer arrives intact (INVITE)" same_sdp "$B" incoming 0 "$T/offer.sdp"
check "180 with 100rel and RSeq" test "$(hdr "$A" progress 0 Require)/$(hdr "$A" progress 0 RSeq)" = "100rel/1"
check "answer arrives intact (reliable 180)" same_sdp "$A" progress 0 "$T/answer.sdp"
check "UPDATE offer arrives intact" same_sdp "$B" remote-offer 0 "$T/update.sdp"
check "UPDATE answer arrives intact" same_sdp "$A" offer-answered 0 "$T/reanswer.sdp"
check "200 / ACK" test "$(count "$A" answered)/$(count "$B" confirmed)" = "1/1"
check "re-INVITE offer arrives intact" same_sdp "$B" remote-offer 1 "$T/reinvite.sdp"
check "re-INVITE answer arrives intact" same_sdp "$A" offer-answered 1 "$T/reanswer.sdp"
check "BYE: caller hung up, callee saw it" test "$(ev "$A" ended 0 end)/$(ev "$B" ended 0 end)" = "local-hangup/remote-hangup"
check "avatar reaches the callee on INVITE" test "$(ev "$B" incoming 0 avatar)" = "https://bar.ims.example/avatars/alice-1"
check "avatar reaches the caller on 200" test "$(ev "$A" answered 0 avatar)" = "https://bar.ims.example/avatars/bob-1"
check "avatar marked unverified" test "$(ev "$B" incoming 0 avatar_verified)" = "false"
check "callee sees the asserted caller" test "$(ev "$B" incoming 0 asserted_identity)" = "<sip:alice@ims.example>"
CID=$(hdr "$B" incoming 0 Call-ID)
for m in PRACK UPDATE ACK INVITE BYE; do
  check "Kamailio relayed in-dialog $m" log_has "in-dialog $m $CID "
done

# --- 2. CANCEL before the answer -----------------------------------------------------------
answer cancel --sdp "$T/answer.sdp" --ring 60 --timeout 30
call cancel --to sip:bob@ims.example --sdp "$T/offer.sdp" --cancel-after 2
check "CANCEL: caller sees 487" test "$(ev "$T/cancel.alice" ended 0 end)/$(ev "$T/cancel.alice" ended 0 status)" = "cancelled/487"
check "CANCEL: callee sees the cancel" test "$(ev "$T/cancel.bob" ended 0 end)" = "cancelled"
check "CANCEL: never answered" test "$(count "$T/cancel.alice" answered)" = "0"
check "Kamailio relayed the CANCEL" log_has "CANCEL $(hdr "$T/cancel.bob" incoming 0 Call-ID) "

# --- 3. session timer, shortened to 10 s ---------------------------------------------------
start=$SECONDS
answer timer --sdp "$T/answer.sdp" --min-se 5
call timer --to sip:bob@ims.example --sdp "$T/offer.sdp" --session-expires 10 --min-se 5 --hold 25
check "200 grants Session-Expires 10, caller refreshes" test "$(hdr "$T/timer.alice" answered 0 Session-Expires)" = "10;refresher=uac"
check "refreshes kept the 25 s call up" test "$(ev "$T/timer.bob" ended 0 end)" = "remote-hangup"
n=$(count "$T/timer.bob" refreshed)
check "callee saw >= 4 refreshes ($n)" test "$n" -ge 4
check "call lasted the hold time" test $((SECONDS - start)) -ge 25

# --- 4. third-party identity ---------------------------------------------------------------
KEY=$D/wwsf/wwsf-key.pem
TOKEN=("$PY" "$HERE/kamailio/wwsf-token.py")
"${TOKEN[@]}" --key "$KEY" --sub enterprise-pool-7@wwsf.ims.example \
  --impu sip:e12345@enterprise.example >"$T/3p.token"
answer thirdparty --sdp "$T/answer.sdp"
call thirdparty --to sip:bob@ims.example --sdp "$T/offer.sdp" --third-party-id sip:e12345@enterprise.example \
  --third-party-token-file "$T/3p.token"
B=$T/thirdparty.bob
check "third party: Kamailio asked with 407" log_has "third-party identity sip:e12345@enterprise.example without a token -> 407"
check "third party: Kamailio checked the token" log_has "bearer OK for IMPI enterprise-pool-7@wwsf.ims.example IMPU sip:e12345@enterprise.example"
check "third party: the callee sees the asserted identity" test "$(ev "$B" incoming 0 asserted_identity)" = "<sip:e12345@enterprise.example>"
check "third party: no Proxy-Authorization at the callee" not_ grep -qi 'Proxy-Authorization' "$B"
SIG=$(tr -d '\n' <"$T/3p.token")
SIG=${SIG##*.} # the signature: unique to this token
check "third party: the token never reaches the callee" not_ grep -qF "$SIG" "$B"
check "third party: no P-Preferred-Identity at the callee" not_ grep -qi 'P-Preferred-Identity' "$B"
check "third party: no Authorization on the INVITE" not_ log_has 'INVITE with Authorization'

answer privacy --sdp "$T/answer.sdp"
call privacy --to sip:bob@ims.example --sdp "$T/offer.sdp" --third-party-id sip:e12345@enterprise.example \
  --third-party-token-file "$T/3p.token" --preemptive --privacy
check "Privacy: id honoured (no asserted identity)" not_ hdr "$T/privacy.bob" incoming 0 P-Asserted-Identity
check "Privacy: id reaches the callee" test "$(ev "$T/privacy.bob" incoming 0 privacy)" = "id"
check "pre-emptive token: no 407 this time" test "$(grep -c 'without a token -> 407' "$D/kamailio.log")" = "1"

"${TOKEN[@]}" --gen-key "$T/otherkey" >/dev/null
"${TOKEN[@]}" --key "$T/otherkey/wwsf-key.pem" --sub enterprise-pool-7@wwsf.ims.example \
  --impu sip:e12345@enterprise.example >"$T/bad.token"
answer badtoken --sdp "$T/answer.sdp" --timeout 15
WANT_ALICE=5 WANT_BOB=7 call badtoken --to sip:bob@ims.example --sdp "$T/offer.sdp" \
  --third-party-id sip:e12345@enterprise.example --third-party-token-file "$T/bad.token"
check "bad third-party token -> 407 is final (exit 5)" test "$ALICE_RC/$(ev "$T/badtoken.alice" ended 0 status)" = "5/407"
check "bad token: the callee never rang" test "$(count "$T/badtoken.bob" incoming)" = "0"

# --- 5. reg event: Kamailio ends bob's registration, bob registers again --------------------
answer regevent --sdp "$T/answer.sdp" --reg-event --timeout 60
wait_for "$D/kamailio.log" 'reg event NOTIFY to sip:bob@ims.example .*: active registered' 1 10 \
  || fail "reg event" "no initial NOTIFY"
"$PY" -c 'import ssl, sys, urllib.request as r
ctx = ssl.create_default_context(cafile=sys.argv[2])
print(r.urlopen(sys.argv[1], context=ctx, timeout=10).read().decode())' \
  "https://localhost:$PORT/labnet/deregister?aor=sip:bob@ims.example" "$D/tls/ca.pem" >"$T/dereg.out"
if wait_for "$T/regevent.bob" '"state":"registered"' 2 15; then
  check "reg event: Kamailio removed the binding and sent NOTIFY" \
    log_has 'reg event NOTIFY to sip:bob@ims.example .*: terminated deactivated'
  check "reg event: the client reported it" grep -q '"state":"unregistered","reason":"network"' "$T/regevent.bob"
  # The new binding is real: a call reaches bob.
  call regevent --to sip:bob@ims.example --sdp "$T/offer.sdp" --hold 1
  check "reg event: reachable after re-registering" same_sdp "$T/regevent.bob" incoming 0 "$T/offer.sdp"
else
  fail "reg event" "bob did not register again"
  kill "$BOBPID" 2>/dev/null || true
fi

# --- 6. IPv6 loopback ----------------------------------------------------------------------
printf '::1 localhost\n' >"$T/hosts6"
if unshare -m true 2>/dev/null; then
  WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts6")
  answer ipv6 --sdp "$T/answer.sdp"
  call ipv6 --to sip:bob@ims.example --sdp "$T/offer.sdp" --hold 1
  WRAP=()
  check "IPv6: the call went through" test "$(ev "$T/ipv6.alice" ended 0 end)" = "local-hangup"
  check "IPv6: the offer arrived intact" same_sdp "$T/ipv6.bob" incoming 0 "$T/offer.sdp"
  check "IPv6: Kamailio received it from ::1" grep -q 'received=::1' "$T/ipv6.bob"
else
  fail "IPv6" "unshare -m is not available (needs CAP_SYS_ADMIN)"
fi

if ((FAILS)); then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "all call checks passed"
