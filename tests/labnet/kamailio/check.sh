#!/usr/bin/env bash
# Self-test of the labnet eP-CSCF against the real Kamailio, without the SDK (ctest label
# "labnet"). Starts an instance on loopback, drives it with wsclient.py (Python websockets, an
# implementation independent of imsdc), prints one line per case and exits non-zero on any
# deviation. Everything it starts is stopped; the work directory is removed on success and kept
# (path printed) on failure.
#
#   check.sh [--keep]     --keep: keep the work directory even on success
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
LAB=$HERE/labnet-kamailio.sh
PY=/usr/bin/python3
CLIENT=("$PY" "$HERE/wsclient.py")
TOKEN=("$PY" "$HERE/wwsf-token.py")
MAKE_CA=$REPO/tests/labnet/ca/make-ca.sh
KEEP=0
[[ ${1:-} == --keep ]] && KEEP=1

WORK=$(mktemp -d /tmp/labnet-kamailio-check.XXXXXX)
D=$WORK/epcscf
FAILS=0
STARTED=0

cleanup() {
  local rc=$?
  if ((STARTED)); then "$LAB" stop "$D" >/dev/null 2>&1 || true; fi
  if ((rc == 0 && FAILS == 0 && KEEP == 0)); then
    rm -rf "$WORK"
  else
    echo "work directory kept: $WORK (Kamailio log: $D/kamailio.log)"
  fi
}
trap cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s: %s\n' "$1" "$2"; FAILS=$((FAILS + 1)); }

# expect NAME OUTPUT REGEX...: every REGEX (extended, per line) must match some line of OUTPUT.
expect() {
  local name=$1 out=$2 re
  shift 2
  for re in "$@"; do
    if ! grep -Eq -- "$re" <<<"$out"; then
      fail "$name" "expected /$re/, got: $(tr '\n' '|' <<<"$out")"
      return 0
    fi
  done
  pass "$name"
}

reg() { # wsclient register args...; output on stdout, never fails the script
  "${CLIENT[@]}" register --port "$PORT" --cafile "$D/tls/ca.pem" "$@" 2>&1 || true
}

mint() { # wwsf-token.py args... > file
  local out=$1
  shift
  "${TOKEN[@]}" "$@" >"$out"
}

# --- digest code against the RFC 7616 example (client side of these tests)
out=$("${CLIENT[@]}" selftest 2>&1 || true)
expect "digest vectors RFC 7616 (MD5, SHA-256)" "$out" '^DIGEST MD5 ok$' '^DIGEST SHA-256 ok$'

# --- start: server certificate from the test operator CA when make-ca.sh is there
CA_ARGS=()
if [[ -x $MAKE_CA ]]; then
  CA_ARGS=(--ca "$WORK/ca")
  ca_note="test operator CA (make-ca.sh)"
else
  ca_note="self-signed (make-ca.sh not found)"
fi
if ! out=$("$LAB" start "$D" "${CA_ARGS[@]}" --min-expires 120 2>&1); then
  fail "start" "$out"
  exit 1
fi
STARTED=1
PORT=$(sed -n 's/^KAMAILIO_PORT=\([0-9]*\)$/\1/p' <<<"$out")
[[ -n $PORT ]] || { fail "start" "no KAMAILIO_PORT line: $out"; exit 1; }
PGID=$(cat "$D/kamailio.pgid")
pass "start on 127.0.0.1:$PORT and [::1]:$PORT, certificate: $ca_note"

port_sockets() { ss -Hltn | awk -v p=":$PORT" 'substr($4, length($4) - length(p) + 1) == p {print $4}' | sort; }
listening=$(port_sockets | tr '\n' ' ')
if [[ $listening == "127.0.0.1:$PORT [::1]:$PORT " ]]; then
  pass "listens on loopback only ($listening)"
else
  fail "listens on loopback only" "sockets: $listening"
fi
# Network sockets (TCP, UDP, raw) of this instance's processes; internal unix sockets do not count.
pids_re=$(pgrep -g "$PGID" | sed 's/.*/pid=&,/' | paste -sd'|')
others=$(ss -Hlnp -tuw | grep -E -- "$pids_re" | awk '{print $5}' | sort | tr '\n' ' ')
if [[ $others == "127.0.0.1:$PORT [::1]:$PORT " ]]; then
  pass "no other network sockets of this instance"
else
  fail "no other network sockets of this instance" "$others"
fi

ALICE=(--aor sip:alice@ims.example --user alice@ims.example)
BOB=(--aor sip:bob@ims.example --user bob@ims.example)

out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice")
expect "digest alice SHA-256 -> 200 (outbound, reg-id)" "$out" '^STATUS 200 ' '^HDR Require: outbound' \
  '^HDR Contact: .*reg-id=1' '^HDR Flow-Timer: 25$'

out=$(reg "${BOB[@]}" --password-file "$D/passwords/bob")
expect "digest bob MD5 -> 200" "$out" '^STATUS 200 '

out=$(reg "${ALICE[@]}" --password-file /dev/null)
expect "digest alice challenge is SHA-256 only" "$out" 'algorithm=SHA-256'
echo "not-the-password" >"$WORK/wrong-password"
out=$(reg "${ALICE[@]}" --password-file "$WORK/wrong-password")
expect "digest alice wrong password -> 401 again" "$out" '^STATUS 401 ' '^HDR WWW-Authenticate: Digest '

out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice" --origin https://evil.example)
expect "wrong Origin -> WebSocket upgrade refused (HTTP 403)" "$out" '^HTTP 403$'

# --- bearer tokens (TR 33.871)
KEY=$D/wwsf/wwsf-key.pem
U1=(--aor sip:user1@wwsf.ims.example)
out=$(reg "${U1[@]}")
expect "no credentials, non-digest AoR -> 401 Bearer challenge" "$out" '^STATUS 401 ' \
  '^HDR WWW-Authenticate: Bearer realm="ims.example"$'

mint "$WORK/tok-ok" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-ok")
expect "bearer token OK -> 200" "$out" '^STATUS 200 '

mint "$WORK/tok-exp" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example --exp-in -60
out=$(reg "${U1[@]}" --token-file "$WORK/tok-exp")
expect "expired token -> 401 invalid_token" "$out" '^STATUS 401 ' 'error="invalid_token"'

mint "$WORK/tok-scope" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example --scope openid
out=$(reg "${U1[@]}" --token-file "$WORK/tok-scope")
expect "wrong scope -> 403 insufficient_scope" "$out" '^STATUS 403 ' 'error="insufficient_scope"'

mint "$WORK/tok-pool" --key "$KEY" --sub user1@other-wwsf.example --impu sip:user1@wwsf.ims.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-pool")
expect "IMPI outside the WWSF pool -> 403" "$out" '^STATUS 403 '

"${TOKEN[@]}" --gen-key "$WORK/rogue-wwsf"
mint "$WORK/tok-sig" --key "$WORK/rogue-wwsf/wwsf-key.pem" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-sig")
expect "bad signature -> 401 invalid_token" "$out" '^STATUS 401 ' 'error="invalid_token"'

mint "$WORK/tok-aud" --key "$KEY" --sub user1@wwsf.ims.example --impu sip:user1@wwsf.ims.example --aud pcscf.other.example
out=$(reg "${U1[@]}" --token-file "$WORK/tok-aud")
expect "wrong audience -> 401 invalid_token" "$out" '^STATUS 401 ' 'error="invalid_token"'

out=$(reg --aor sip:user2@wwsf.ims.example --token-file "$WORK/tok-ok")
expect "token for another IMPU -> 403" "$out" '^STATUS 403 '

mint "$WORK/tok-ent" --key "$KEY" --sub enterprise-pool-7@wwsf.ims.example --impu sip:e12345@enterprise.example
out=$(reg --aor sip:e12345@enterprise.example --token-file "$WORK/tok-ent")
expect "enterprise (third-party) ID with enterprise token -> 200" "$out" '^STATUS 200 '

# --- test hooks
out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice" --expires 30)
expect "expires below --min-expires -> 423 with Min-Expires" "$out" '^STATUS 423 ' '^HDR Min-Expires: 120$'

echo 2 >"$D/fail503"
out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice")
expect "DIR/fail503 -> 503 with Retry-After" "$out" '^STATUS 503 ' '^HDR Retry-After: 2$'
out=$(reg "${ALICE[@]}" --password-file "$D/passwords/alice")
expect "503 hook fires once" "$out" '^STATUS 200 '

# --- proxying between registered users over their WebSocket connections
out=$("${CLIENT[@]}" message --port "$PORT" --cafile "$D/tls/ca.pem" \
  --from-aor sip:alice@ims.example --from-user alice@ims.example --from-password-file "$D/passwords/alice" \
  --to-aor sip:bob@ims.example --to-user bob@ims.example --to-password-file "$D/passwords/bob" 2>&1 || true)
expect "MESSAGE alice -> bob relayed, 200 back" "$out" '^DELIVERED yes$' '^STATUS 200 '

# --- kill (reconnect tests) and restart on the same port
"$LAB" kill "$D" >/dev/null
if pgrep -g "$PGID" >/dev/null; then fail "kill" "processes left in group $PGID"; else pass "kill: process group gone"; fi
out=$("$LAB" restart "$D" 2>&1) || true
PGID=$(cat "$D/kamailio.pgid" 2>/dev/null || echo 0)
expect "restart on the same port" "$out" "^KAMAILIO_PORT=$PORT\$"
out=$(reg "${BOB[@]}" --password-file "$D/passwords/bob")
expect "register after restart -> 200" "$out" '^STATUS 200 '

# --- stop: nothing left
"$LAB" stop "$D" >/dev/null
STARTED=0
sleep 0.2
left=$(pgrep -g "$PGID" || true)
if [[ -z $left && -z $(port_sockets) ]]; then
  pass "stop: no kamailio process of this instance left, port closed"
else
  fail "stop" "processes: ${left:-none}; sockets: $(port_sockets | tr '\n' '|')"
fi
if "$LAB" stop "$D" >/dev/null; then pass "stop is idempotent"; else fail "stop is idempotent" "second stop failed"; fi

if ((FAILS)); then
  echo "labnet kamailio check: $FAILS case(s) FAILED"
  exit 1
fi
echo "labnet kamailio check: all cases passed"
