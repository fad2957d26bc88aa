#!/usr/bin/env bash
# imsdc register against the real labnet eP-CSCF (Kamailio 5.6, ctest label "labnet").
#   register_test.sh IMSDC [--keep]
# Starts Kamailio with a server certificate from the test operator CA, then drives the CLI:
# digest SHA-256 (alice) and MD5 (bob); wrong password (exit 5, bounded); wrong Origin (8);
# untrusted CA (6); WWSF bearer token; an expired token refreshed once through the token
# provider (the CLI reads the k-th --token-file for the k-th token request, so
# "--token-file expired --token-file fresh" gives the expired token first and the fresh one
# after error="invalid_token"); wrong scope, foreign pool and bad signature tokens (5); an
# enterprise (third-party) identity with its token; Kamailio killed while registered and
# restarted (the CLI reconnects within the backoff bound and registers again with the same
# instance UUID); 423 Interval Too Brief (registrar minimum 60 s, --expires 30); 503 with
# Retry-After through DIR/fail503. Every wait is bounded; Kamailio is stopped on exit.
set -euo pipefail
IMSDC=$1
KEEP=0
[[ ${2:-} == --keep ]] && KEEP=1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
TOKEN=("$PY" "$HERE/kamailio/wwsf-token.py")
MAKE_CA=$HERE/ca/make-ca.sh
T=$(mktemp -d /tmp/imsdc-register-test.XXXXXX)
D=$T/epcscf
# shellcheck source=SCRIPTDIR/lib.sh
source "$HERE/lib.sh"
SHOW=("$T/out" "$T/err")

# expect_exit NAME CODE MAX_SECONDS ARGS...: runs imsdc register ARGS, checks the exit code
# and that it finished within MAX_SECONDS.
expect_exit() {
  local name=$1 want=$2 max=$3 got start elapsed
  shift 3
  start=$SECONDS
  set +e
  timeout $((max + 5)) "$IMSDC" register "$@" >"$T/out" 2>"$T/err"
  got=$?
  set -e
  elapsed=$((SECONDS - start))
  if [[ $got != "$want" ]]; then
    fail "$name" "exit $got, expected $want"
  elif ((elapsed > max)); then
    fail "$name" "took ${elapsed}s, bound ${max}s"
  else
    pass "$name (exit $got, ${elapsed}s)"
  fi
}

bash "$MAKE_CA" init "$T/ca" >/dev/null
start_kamailio --ca "$T/ca"
SERVER=wss://localhost:$PORT
ORIGIN=https://wwsf.ims.example
CAF=$D/tls/ca.pem
COMMON=(--server "$SERVER" --origin "$ORIGIN" --ca "$CAF" --state "$T/state")
KEY=$D/wwsf/wwsf-key.pem
mint() { "${TOKEN[@]}" --key "$KEY" "$@"; }

expect_exit "digest SHA-256 (alice)" 0 20 "${COMMON[@]}" --impu sip:alice@ims.example \
  --password-file "$D/passwords/alice"
grep -q '^registered expires=' "$T/out" || fail "digest SHA-256 output" "no registered line"
# A digest registration is two round trips: REGISTER -> 401, REGISTER with credentials -> 200.
grep -q '^registered .* round_trips=2$' "$T/out" || fail "digest round trips" "$(grep '^registered' "$T/out")"
# imsdc bench sip: the captured INVITE, and the same registration measured by the bench.
if "$IMSDC" bench sip --rounds 3 "${COMMON[@]}" --impu sip:alice@ims.example \
     --password-file "$D/passwords/alice" >"$T/bench" 2>&1 \
   && grep -q 'digest registration *2 round trips' "$T/bench"; then
  sed 's/^/    /' "$T/bench"
  pass "imsdc bench sip"
else
  fail "imsdc bench sip" "$(cat "$T/bench")"
fi
expect_exit "digest MD5 (bob)" 0 20 "${COMMON[@]}" --impu sip:bob@ims.example \
  --password-file "$D/passwords/bob"

echo "not-the-password" >"$T/wrong"
expect_exit "wrong password -> 5" 5 15 "${COMMON[@]}" --impu sip:alice@ims.example \
  --password-file "$T/wrong"
expect_exit "wrong Origin -> 8" 8 15 --server "$SERVER" --origin https://evil.example \
  --ca "$CAF" --state "$T/state" --impu sip:alice@ims.example --password-file "$D/passwords/alice"
expect_exit "untrusted CA -> 6" 6 15 --server "$SERVER" --origin "$ORIGIN" \
  --ca "$T/ca/other-root.pem" --state "$T/state" --impu sip:alice@ims.example \
  --password-file "$D/passwords/alice"

IMPU=sip:user1@wwsf.ims.example
mint --sub user1@wwsf.ims.example --impu "$IMPU" >"$T/token"
expect_exit "bearer token" 0 20 "${COMMON[@]}" --impu "$IMPU" --token-file "$T/token"

mint --sub user1@wwsf.ims.example --impu "$IMPU" --exp-in -60 >"$T/expired"
expect_exit "expired token refreshed once" 0 20 "${COMMON[@]}" --impu "$IMPU" \
  --token-file "$T/expired" --token-file "$T/token"
expect_exit "expired token, no fresh one -> 5" 5 15 "${COMMON[@]}" --impu "$IMPU" \
  --token-file "$T/expired"

mint --sub user1@wwsf.ims.example --impu "$IMPU" --scope other-scope >"$T/scope"
expect_exit "wrong scope -> 5" 5 15 "${COMMON[@]}" --impu "$IMPU" --token-file "$T/scope"
mint --sub mallory@other.example --impu "$IMPU" >"$T/pool"
expect_exit "foreign pool -> 5" 5 15 "${COMMON[@]}" --impu "$IMPU" --token-file "$T/pool"
"${TOKEN[@]}" --gen-key "$T/otherkey" >/dev/null
"${TOKEN[@]}" --key "$T/otherkey/wwsf-key.pem" --sub user1@wwsf.ims.example --impu "$IMPU" \
  >"$T/badsig"
expect_exit "bad signature -> 5" 5 15 "${COMMON[@]}" --impu "$IMPU" --token-file "$T/badsig"

EIMPU=sip:e12345@enterprise.example
mint --sub enterprise-pool-7@wwsf.ims.example --impu "$EIMPU" >"$T/enterprise"
expect_exit "enterprise identity" 0 20 "${COMMON[@]}" --impu "$EIMPU" \
  --token-file "$T/enterprise"

expect_exit "423 -> retry with Min-Expires" 0 20 "${COMMON[@]}" --impu sip:alice@ims.example \
  --password-file "$D/passwords/alice" --expires 30
grep -q '^registered expires=60 ' "$T/out" || fail "423 granted expiry" "not 60"

echo 2 >"$D/fail503"
start=$SECONDS
expect_exit "503 + Retry-After" 0 20 "${COMMON[@]}" --impu sip:alice@ims.example \
  --password-file "$D/passwords/alice"
[[ ! -e $D/fail503 ]] || fail "503 hook" "fail503 was not consumed"
((SECONDS - start >= 2)) || fail "503 Retry-After" "retried before 2 s"

# Reconnect: kill Kamailio while registered, restart it, expect a second registration with
# the same instance UUID within the backoff bound (--backoff-max 4: at most ~4 s per attempt).
name="reconnect after Kamailio restart"
"$IMSDC" register "${COMMON[@]}" --impu sip:alice@ims.example \
  --password-file "$D/passwords/alice" --hold 120 --backoff-max 4 >"$T/hold.out" 2>"$T/hold.err" &
HOLD=$!
BG+=("$HOLD")
if ! wait_for "$T/hold.out" '^registered ' 1 20; then
  cp "$T/hold.out" "$T/out"
  fail "$name" "first registration not seen"
else
  "$LAB" kill "$D"
  if ! wait_for "$T/hold.out" '^unregistered reason=connection-lost' 1 15; then
    cp "$T/hold.out" "$T/out"
    fail "$name" "connection loss not reported"
  else
    "$LAB" restart "$D" >/dev/null
    t0=$SECONDS
    if ! wait_for "$T/hold.out" '^registered ' 2 20; then
      cp "$T/hold.out" "$T/out"
      fail "$name" "no second registration within 20 s"
    else
      ids=$(sed -n 's/^registered .*instance=\(urn:uuid:[0-9a-f-]*\).*/\1/p' "$T/hold.out" | sort -u)
      if [[ $(printf '%s\n' "$ids" | wc -l) != 1 ]]; then
        cp "$T/hold.out" "$T/out"
        fail "$name" "instance UUID changed: $ids"
      else
        pass "$name (re-registered $((SECONDS - t0))s after restart, $ids)"
      fi
    fi
  fi
fi
kill -TERM "$HOLD" 2>/dev/null || true
deadline=$((SECONDS + 40))
while kill -0 "$HOLD" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
if kill -0 "$HOLD" 2>/dev/null; then
  fail "$name" "CLI did not exit after SIGTERM"
else
  set +e
  wait "$HOLD"
  rc=$?
  set -e
  BG=()
  if [[ $rc == 0 ]] && grep -q '^unregistered reason=shutdown' "$T/hold.out"; then
    pass "de-register on SIGTERM (exit 0)"
  else
    cp "$T/hold.out" "$T/out"
    fail "de-register on SIGTERM" "exit $rc"
  fi
fi
# The UUID is the one stored for every earlier run in the same state directory.
first=$(sed -n 's/^instance //p' "$T/hold.out" | head -n 1)
[[ $(cat "$T/state/kv/sip.instance") == "${first#urn:uuid:}" ]] \
  || fail "instance UUID persisted" "state/kv/sip.instance differs"

if ((FAILS)); then
  echo "$FAILS case(s) failed"
  exit 1
fi
echo "all register cases passed"
