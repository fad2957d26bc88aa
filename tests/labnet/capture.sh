#!/usr/bin/env bash
# Captures real SIP messages from the labnet Kamailio into the test data:
#   tests/unit/data/sip/kamailio/  and  tests/fuzz/corpus/sip_message/kamailio-*
# alice (digest SHA-256) and bob (MD5) register (401 challenge, 200 with outbound), then
# alice sends an INVITE with an SDP offer to bob through Kamailio; bob receives the INVITE as
# the proxy relays it (Record-Route, Via) and declines with 486.
# Run it by hand after changing the labnet config; the output is committed, so the tests and
# fuzzers see what a real eP-CSCF sends. Usage: tests/labnet/capture.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=$ROOT/tests/labnet/kamailio/labnet-kamailio.sh
CLIENT=(/usr/bin/python3 "$ROOT/tests/labnet/kamailio/wsclient.py")
W=$(mktemp -d)
trap '"$LAB" stop "$W/k" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
bash "$ROOT/tests/labnet/ca/make-ca.sh" init "$W/ca" >/dev/null
out=$("$LAB" start "$W/k" --ca "$W/ca")
PORT=$(sed -n 's/^KAMAILIO_PORT=//p' <<<"$out")
mkdir -p "$W/cap-reg" "$W/cap-bob" "$W/cap-inv"
"${CLIENT[@]}" register --port "$PORT" --cafile "$W/k/tls/ca.pem" --capture "$W/cap-reg" \
  --aor sip:alice@ims.example --user alice@ims.example --password-file "$W/k/passwords/alice"
"${CLIENT[@]}" register --port "$PORT" --cafile "$W/k/tls/ca.pem" --capture "$W/cap-bob" \
  --aor sip:bob@ims.example --user bob@ims.example --password-file "$W/k/passwords/bob"
"${CLIENT[@]}" message --port "$PORT" --cafile "$W/k/tls/ca.pem" --capture "$W/cap-inv" \
  --method INVITE --body-file "$ROOT/tests/unit/data/sdp/ims_offer_no_ice.sdp" \
  --from-aor sip:alice@ims.example --from-user alice@ims.example --from-password-file "$W/k/passwords/alice" \
  --to-aor sip:bob@ims.example --to-user bob@ims.example --to-password-file "$W/k/passwords/bob"
OUT=$ROOT/tests/unit/data/sip/kamailio
mkdir -p "$OUT"
rm -f "$OUT"/*.sip
cp "$W/cap-reg/01-401.sip" "$OUT/register-401-sha256.sip"
cp "$W/cap-reg/02-200.sip" "$OUT/register-200.sip"
cp "$W/cap-bob/01-401.sip" "$OUT/register-401-md5.sip"
inv=$(grep -l '^INVITE ' "$W"/cap-inv/*.sip | head -1)
cp "$inv" "$OUT/invite-relayed.sip"
for f in "$W"/cap-inv/*-486.sip "$W"/cap-inv/*-100.sip; do
  [[ -e $f ]] && cp "$f" "$OUT/invite-$(basename "$f" .sip | sed 's/^[0-9]*-//').sip"
done
for f in "$OUT"/*.sip; do cp "$f" "$ROOT/tests/fuzz/corpus/sip_message/kamailio-$(basename "$f")"; done
ls -l "$OUT"
