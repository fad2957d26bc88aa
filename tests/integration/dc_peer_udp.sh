#!/usr/bin/env bash
# Two `imsdc dc peer` processes over real UDP on loopback, IPv4 and IPv6: SDP through files,
# ICE host checks, DTLS, SCTP, a DCEP channel; the offerer sends text and binary messages of
# several sizes and exits 0 only when every echo came back intact and in order. Then the
# same with one changed byte in the fingerprint the answerer receives: both must fail, and
# no message may arrive; and once through an impairment relay with loss, delay and
# reordering. Ports are ephemeral (bound by the peers themselves, port 0).
# usage: dc_peer_udp.sh /path/to/imsdc
set -euo pipefail
IMSDC=${1:?usage: dc_peer_udp.sh IMSDC}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

fail() { echo "dc_peer_udp: FAIL: $*" >&2; exit 1; }

# run_pair NAME BIND [TAMPER]: answerer in the background, offerer in the foreground.
run_pair() {
  local name=$1 bind=$2 tamper=${3:-}
  local d="$WORK/$name"
  mkdir -p "$d"
  local offer_for_answerer="$d/offer.sdp"
  [ -n "$tamper" ] && offer_for_answerer="$d/offer-tampered.sdp"
  "$IMSDC" dc peer --role answer --bind "$bind" --sdp-in "$offer_for_answerer" \
    --sdp-out "$d/answer.sdp" --echo --timeout 20 >"$d/answer.log" 2>&1 &
  local apid=$!
  PIDS+=("$apid")
  if [ -n "$tamper" ]; then
    # Changes one hex digit of the fingerprint once the offer exists, then renames it into
    # place so the answerer only ever sees a complete file.
    ( for _ in $(seq 200); do [ -f "$d/offer.sdp" ] && break; sleep 0.05; done
      sed -E 's/^(a=fingerprint:sha-256 )0/\1F/; t; s/^(a=fingerprint:sha-256 )./\10/' \
        "$d/offer.sdp" >"$d/tmp.sdp" && mv "$d/tmp.sdp" "$d/offer-tampered.sdp" ) &
    PIDS+=("$!")
  fi
  set +e
  "$IMSDC" dc peer --role offer --bind "$bind" --sdp-out "$d/offer.sdp" --sdp-in "$d/answer.sdp" \
    --send "hello over $name" --send "" --send-count 40 --send-size 1,1200,1201,65536,262144,7 \
    --expect-echo --timeout 20 >"$d/offer.log" 2>&1
  OFFER_RC=$?
  wait "$apid"
  ANSWER_RC=$?
  set -e
}

for fam in "ipv4 127.0.0.1" "ipv6 ::1"; do
  set -- $fam
  run_pair "$1" "$2"
  [ "$OFFER_RC" -eq 0 ] || { cat "$WORK/$1/offer.log" >&2; fail "$1: offerer exit $OFFER_RC"; }
  [ "$ANSWER_RC" -eq 0 ] || { cat "$WORK/$1/answer.log" >&2; fail "$1: answerer exit $ANSWER_RC"; }
  grep -q "all 42 messages came back intact and in order" "$WORK/$1/offer.log" ||
    fail "$1: offerer did not verify 42 echoes"
  grep "^ice connected: " "$WORK/$1/offer.log" | grep -qF "$2" || fail "$1: ICE did not select a $1 pair"
  grep -q "a=candidate:1 1 UDP [0-9]* $2 [0-9]* typ host" "$WORK/$1/offer.sdp" ||
    fail "$1: no host candidate on $2 in the offer"
  grep -q "^sent 0, received 42$" "$WORK/$1/answer.log" || fail "$1: answerer did not get 42 messages"
  echo "dc_peer_udp: $1 ok"
done

# Through the impairment relay (tests/integration/impair_relay.py; no tc netem here): 10 %
# loss each way and 50 ms +/- 20 ms delay (which reorders). Every reliable message must still
# come back intact and in order.
d="$WORK/impaired"
mkdir -p "$d"
python3 "$(dirname "$0")/impair_relay.py" --offer-in "$d/offer.sdp" --offer-out "$d/offer-r.sdp" \
  --answer-in "$d/answer.sdp" --answer-out "$d/answer-r.sdp" --loss 10 --delay 50 --jitter 20 \
  --seed 7 --stats "$d/relay.stats" 2>"$d/relay.log" &
RELAY=$!
PIDS+=("$RELAY")
"$IMSDC" dc peer --role answer --bind 127.0.0.1 --sdp-in "$d/offer-r.sdp" \
  --sdp-out "$d/answer.sdp" --echo --timeout 90 >"$d/answer.log" 2>&1 &
APID=$!
PIDS+=("$APID")
set +e
"$IMSDC" dc peer --role offer --bind 127.0.0.1 --sdp-out "$d/offer.sdp" --sdp-in "$d/answer-r.sdp" \
  --send "hello through the relay" --send-count 24 --send-size 1,1200,16384,65536 \
  --expect-echo --timeout 90 >"$d/offer.log" 2>&1
OFFER_RC=$?
wait "$APID"
ANSWER_RC=$?
kill -TERM "$RELAY" 2>/dev/null
wait "$RELAY" 2>/dev/null
set -e
[ "$OFFER_RC" -eq 0 ] || { cat "$d/offer.log" "$d/relay.log" >&2; fail "impaired: offerer exit $OFFER_RC"; }
[ "$ANSWER_RC" -eq 0 ] || { cat "$d/answer.log" >&2; fail "impaired: answerer exit $ANSWER_RC"; }
grep -q "all 25 messages came back intact and in order" "$d/offer.log" ||
  fail "impaired: offerer did not verify 25 echoes"
read -r _ fwd _ dropped <"$d/relay.stats"
[ "$dropped" -gt 0 ] || fail "impaired: the relay dropped nothing (forwarded $fwd)"
echo "dc_peer_udp: through 10 % loss and 50 +/- 20 ms delay ok (relay forwarded $fwd, dropped $dropped)"

# HTTP over bootstrap channel 0 (PROTOCOL_PROFILE.md section 5): the answerer serves a
# directory, the offerer GETs / (100000 bytes: seven 16 KiB DC messages), another path, and /
# again, which must come back 304 and be answered from its ETag cache.
d="$WORK/bootstrap"
mkdir -p "$d/www"
head -c 100000 /dev/urandom >"$d/www/index.html"
printf 'console.log("imsdc")\n' >"$d/www/app.js"
"$IMSDC" dc peer --role answer --bind 127.0.0.1 --sdp-in "$d/offer.sdp" --sdp-out "$d/answer.sdp" \
  --serve "$d/www" --timeout 30 >"$d/answer.log" 2>&1 &
APID=$!
PIDS+=("$APID")
set +e
"$IMSDC" dc peer --role offer --bind 127.0.0.1 --sdp-out "$d/offer.sdp" --sdp-in "$d/answer.sdp" \
  --get / --get /app.js --get / --get-out "$d/got.html" --timeout 30 >"$d/offer.log" 2>&1
OFFER_RC=$?
wait "$APID"
ANSWER_RC=$?
set -e
[ "$OFFER_RC" -eq 0 ] || { cat "$d/offer.log" >&2; fail "bootstrap: offerer exit $OFFER_RC"; }
[ "$ANSWER_RC" -eq 0 ] || { cat "$d/answer.log" >&2; fail "bootstrap: answerer exit $ANSWER_RC"; }
grep -q '^GET /: 200, 100000 bytes, etag ' "$d/offer.log" || fail "bootstrap: first GET / not 200"
grep -q '^GET /app.js: 200, 21 bytes' "$d/offer.log" || fail "bootstrap: GET /app.js"
grep -q '^GET /: 304, 100000 bytes' "$d/offer.log" || fail "bootstrap: second GET / not 304 from the cache"
grep -c '^served /: ' "$d/answer.log" | grep -qx 2 || fail "bootstrap: the server did not see two GET /"
cmp -s "$d/got.html" "$d/www/index.html" || fail "bootstrap: the cached body differs"
echo "dc_peer_udp: bootstrap GET / (multi-message), then 304 from the ETag cache ok"

# imsdc sdp offer: the offer of PROTOCOL_PROFILE section 3 without ICE.
o=$("$IMSDC" sdp offer --bootstrap --app-channel avatar-control:imsdc-avatar --app-channel chat \
  --address ::1 --port 5004 | tr -d '\r')
for want in 'm=application 5004 UDP/DTLS/SCTP webrtc-datachannel' 'c=IN IP6 ::1' 'a=setup:actpass' \
  'a=dcmap:0 subprotocol="http"' 'a=dcmap:10 subprotocol="http"' \
  'a=dcmap:1000 label="avatar-control";subprotocol="imsdc-avatar"' 'a=dcmap:1002 label="chat"'; do
  grep -qxF "$want" <<<"$o" || fail "sdp offer: no line '$want'"
done
grep -qE '^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$' <<<"$o" || fail "sdp offer: fingerprint"
grep -q '^a=candidate' <<<"$o" && fail "sdp offer: candidates without ICE"
"$IMSDC" sdp offer | grep -q '^a=dcmap' && fail "sdp offer: bootstrap channels without --bootstrap"
set +e
"$IMSDC" sdp offer --app-channel :x >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "sdp offer: an empty label must be a usage error (exit $rc)"
echo "dc_peer_udp: sdp offer ok"

# A changed fingerprint: the answerer (DTLS client) must refuse the offerer's certificate.
run_pair tamper 127.0.0.1 yes
cmp -s "$WORK/tamper/offer.sdp" "$WORK/tamper/offer-tampered.sdp" && fail "tamper: the SDP was not changed"
[ "$ANSWER_RC" -eq 6 ] || { cat "$WORK/tamper/answer.log" >&2; fail "tamper: answerer exit $ANSWER_RC, want 6 (TLS)"; }
[ "$OFFER_RC" -ne 0 ] || fail "tamper: offerer exit 0"
grep -q "^message" "$WORK/tamper/answer.log" "$WORK/tamper/offer.log" && fail "tamper: a message arrived"
echo "dc_peer_udp: wrong fingerprint refused (answerer exit $ANSWER_RC, offerer exit $OFFER_RC)"
echo "dc_peer_udp: PASS"
