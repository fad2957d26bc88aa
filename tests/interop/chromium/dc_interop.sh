#!/usr/bin/env bash
# imsdc data channels against headless Chromium (independent DTLS/SCTP/DCEP/ICE stack).
#
# usage: tests/interop/chromium/dc_interop.sh IMSDC_CLI      (root; chromium, node + npm ci'd
#                                                             tests/interop, iproute2)
# Chromium and imsdc run in two network namespaces of this script's own joined by a veth pair
# (10.77.0.1 Chromium, 10.77.0.2 imsdc), each with a default route via the other: Chromium
# gathers no loopback candidates and only gathers on an interface with a route
# (ENVIRONMENT_NOTES.md). SDP goes through files. Cases:
#   1. Chromium offers, imsdc answers (imsdc is the DTLS client): Chromium opens "imsdc-peer"
#      by DCEP and sends text and binary messages, imsdc echoes them, Chromium checks them.
#   2. imsdc offers, Chromium answers "active": imsdc is the DTLS server and must take
#      Chromium's fragmented ClientHello; imsdc opens the channel, sends, checks the echoes;
#      Chromium opens imsdc's dcmap bootstrap stream 0 out of band and checks imsdc's echoes.
#   In 1, 3 and 4 Chromium also uses a channel negotiated out of band on stream 1000, which
#   imsdc learns from an a=dcmap line added to the offer it reads.
#   3./4. Chromium's offer rewritten to a=setup:active / a=setup:passive before imsdc sees it.
#   5. One hex digit of Chromium's fingerprint changed in the offer imsdc reads: nothing moves.
# Exits 0 when every case did what it must; prints one line per case.
set -uo pipefail
cli=$(readlink -f "${1:?usage: dc_interop.sh IMSDC_CLI}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v chromium >/dev/null || { echo "dc_interop: chromium is not installed" >&2; exit 1; }
command -v node >/dev/null || { echo "dc_interop: node is not installed" >&2; exit 1; }

ns=imsdc-dc$$
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  ip netns del "$ns-c" 2>/dev/null
  ip netns del "$ns-i" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns-c" && ip netns add "$ns-i" || exit 1
ip link add "dc$$c" netns "$ns-c" type veth peer name "dc$$i" netns "$ns-i" || exit 1
ip -n "$ns-c" addr add 10.77.0.1/24 dev "dc$$c"
ip -n "$ns-i" addr add 10.77.0.2/24 dev "dc$$i"
for n in c i; do
  ip -n "$ns-$n" link set lo up
  ip -n "$ns-$n" link set "dc$$$n" up
done
ip -n "$ns-c" route add default via 10.77.0.2
ip -n "$ns-i" route add default via 10.77.0.1

failed=0
report() { # NAME RC_OK(0/1) DETAIL
  if (($2 == 0)); then echo "dc_interop: PASS $1 $3"; else echo "dc_interop: FAIL $1 $3"; failed=1; fi
}

# Runs Chromium (mode, files, env) and imsdc (args) at once; sets CHR_RC, IMS_RC, CHR_OUT.
run_pair() { # CASE CHROMIUM_MODE CHR_FILE_A CHR_FILE_B SETUP -- IMSDC_ARGS...
  local case=$1 mode=$2 fa=$3 fb=$4 setup=$5
  shift 6
  HOME=$work SETUP=$setup ip netns exec "$ns-c" node "$here/peer.mjs" "$mode" "$fa" "$fb" \
    >"$work/$case.chromium.json" 2>"$work/$case.chromium.log" &
  local cpid=$!
  pids+=("$cpid")
  ip netns exec "$ns-i" "$cli" dc peer --bind 10.77.0.2 --timeout 40 "$@" \
    >"$work/$case.imsdc.out" 2>"$work/$case.imsdc.log"
  IMS_RC=$?
  wait "$cpid"
  CHR_RC=$?
  CHR_OUT=$(cat "$work/$case.chromium.json")
}

show_logs() { # CASE
  echo "--- $1: chromium"; tail -n 20 "$work/$1.chromium.log"; echo "$CHR_OUT"
  echo "--- $1: imsdc"; tail -n 30 "$work/$1.imsdc.log"; tail -n 30 "$work/$1.imsdc.out"
  [[ -n ${DC_INTEROP_KEEP:-} ]] && cp -r "$work" "$DC_INTEROP_KEEP"
}

# 1. Chromium offers, imsdc answers and echoes.
d=$work/c1; mkdir -p "$d"
run_pair c1 offer "$d/offer.sdp" "$d/answer.sdp" "" -- \
  --role answer --sdp-in "$d/offer.sdp" --sdp-out "$d/answer.sdp" --echo
ok=1; [[ $CHR_RC == 0 && $IMS_RC == 0 ]] && ok=0
report chromium-offers "$ok" "(chromium $CHR_RC, imsdc $IMS_RC) $CHR_OUT"
((ok)) && show_logs c1

# 2. imsdc offers, Chromium answers (active): imsdc is the DTLS server.
d=$work/c2; mkdir -p "$d"
run_pair c2 answer "$d/offer.sdp" "$d/answer.sdp" "" -- \
  --role offer --sdp-out "$d/offer.sdp" --sdp-in "$d/answer.sdp" \
  --send "hello chromium" --send-count 3 --send-size 1,1200,65536 --expect-echo --echo --linger 3
ok=1
[[ $CHR_RC == 0 && $IMS_RC == 0 ]] && grep -q 'a=setup:active' "$d/answer.sdp" \
  && grep -q '"bootstrap":true' <<<"$CHR_OUT" && ok=0
report imsdc-offers-dtls-server "$ok" "(chromium $CHR_RC, imsdc $IMS_RC) $CHR_OUT"
((ok)) && show_logs c2

# 3./4. DTLS role forced through Chromium's offer.
for setup in active passive; do
  d=$work/c-$setup; mkdir -p "$d"
  run_pair "c-$setup" offer "$d/offer.sdp" "$d/answer.sdp" "$setup" -- \
    --role answer --sdp-in "$d/offer.sdp" --sdp-out "$d/answer.sdp" --echo
  ok=1; [[ $CHR_RC == 0 && $IMS_RC == 0 ]] && ok=0
  report "chromium-offers-setup-$setup" "$ok" "(chromium $CHR_RC, imsdc $IMS_RC) $CHR_OUT"
  ((ok)) && show_logs "c-$setup"
done

# 5. A changed fingerprint in the offer imsdc reads: imsdc refuses (exit 6), nothing echoed.
d=$work/c5; mkdir -p "$d"
( # Copies Chromium's offer to the file imsdc reads with the first hex digit of the
  # fingerprint changed.
  for _ in $(seq 400); do [[ -e $d/offer.sdp ]] && break; sleep 0.05; done
  python3 - "$d/offer.sdp" "$d/offer-bad.tmp" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"a=fingerprint:sha-256 ([0-9A-F])", s)
c = "0" if m.group(1) != "0" else "1"
open(sys.argv[2], "w").write(s[:m.start(1)] + c + s[m.end(1):])
PY
  mv "$d/offer-bad.tmp" "$d/offer-bad.sdp"
) &
pids+=($!)
run_pair c5 offer "$d/offer.sdp" "$d/answer.sdp" "" -- \
  --role answer --sdp-in "$d/offer-bad.sdp" --sdp-out "$d/answer.sdp" --echo
ok=1
[[ $IMS_RC == 6 && $CHR_RC != 0 ]] && ! grep -q '"ok":true' <<<"$CHR_OUT" && ok=0
report wrong-fingerprint-stops-data "$ok" "(chromium $CHR_RC, imsdc $IMS_RC) $CHR_OUT"
((ok)) && show_logs c5

exit "$failed"
