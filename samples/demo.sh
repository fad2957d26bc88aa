#!/usr/bin/env bash
# imsdc demo: a secure avatar call between two devices on a local reference network.
#
# It installs what is missing, builds the imsdc command-line tool, starts the labnet on
# loopback (test operator CA; Kamailio as the eP-CSCF with the media function on the call
# path; the BAR, a Node/jose HTTPS service), and runs three imsdc processes:
#   MF    imsdc mf           the IMS AS / DCSF + media function + DC application server
#                            (sip:mf@ims.example, a SIP back-to-back user agent)
#   UE-B  imsdc avatar-call  the callee (sip:bob@ims.example, digest registration)
#   UE-A  imsdc avatar-call  the caller (sip:alice@enterprise.example, WWSF token, third-party
#                            identity sip:e12345@enterprise.example) calls sip:+15552220002@ims.example;user=phone
# UE-A and UE-B register; UE-A calls UE-B with an avatar ID; Kamailio signs the INVITE
# (STIR/SHAKEN) and UE-B shows the verified caller card; each UE gets a bootstrap data channel
# from the MF (e2ae) and the UEs share an application channel (e2e); three avatar sessions run
# (TR 33.790 sol. #6: network-, sending-UE- and receiving-UE-centric rendering) with
# animation frames; UE-A hangs up; both de-register. Each step prints one line as it happens,
# the end prints a summary table and where the logs are. See docs/demo.md.
#
# usage: samples/demo.sh [options]
#   --scenario S  main (default), wrong-avatar (UE-A presents another subscriber's avatar ID:
#                 every fetch is refused, no frames, the call goes on), tampered (the MF
#                 changes the BAR's answer on its way to the UEs: both UEs refuse it, the
#                 network rendering still works, the call goes on), or all (the three in turn)
#   --keep        leave the labnet (Kamailio, BAR) running at the end and print how to stop it
#   --step        pause before each of UE-A's steps; Enter continues
#   --keylog      DEBUG BUILDS ONLY: build the dev preset and let the imsdc processes write
#                 their DTLS session keys (NSS key log) to a file for Wireshark
#   --no-deps     do not run toolchains/install-deps.sh
#   --imsdc PATH  use this imsdc binary, do not build (the ctest labnet_demo does this)
#   -h, --help    this text
# Exit 0 only when every step of every scenario run behaved as expected; 1 otherwise; 2 on a
# usage error. Work directory (keys, events, logs): /tmp/imsdc-demo.XXXXXX, printed at the
# start and the end and kept. Everything listens on 127.0.0.1 (Kamailio also on ::1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/tests/labnet/demo
LABNET=$DEMO/labnet.sh
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

KEEP=0 STEP=0 KEYLOG=0 DEPS=1 IMSDC="" SCENARIO=main
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
bad_usage() { echo "demo: $*" >&2; echo "(samples/demo.sh --help)" >&2; exit 2; }
while (($#)); do
  case $1 in
    --keep) KEEP=1 ;;
    --step) STEP=1 ;;
    --keylog) KEYLOG=1 ;;
    --no-deps) DEPS=0 ;;
    --imsdc) (($# >= 2)) || bad_usage "--imsdc needs a path"; IMSDC=$2; shift ;;
    --imsdc=*) IMSDC=${1#*=} ;;
    --scenario) (($# >= 2)) || bad_usage "--scenario needs a value"; SCENARIO=$2; shift ;;
    --scenario=*) SCENARIO=${1#*=} ;;
    -h|--help) usage; exit 0 ;;
    *) bad_usage "unknown option $1" ;;
  esac
  shift
done
case $SCENARIO in
  main|wrong-avatar|tampered) SCENARIOS=("$SCENARIO") ;;
  all) SCENARIOS=(main wrong-avatar tampered) ;;
  *) bad_usage "--scenario takes main, wrong-avatar, tampered or all (got '$SCENARIO')" ;;
esac
if [[ -n $IMSDC ]]; then
  [[ $IMSDC == /* ]] || IMSDC=$ROOT/$IMSDC
  [[ -x $IMSDC ]] || bad_usage "--imsdc: $IMSDC is not an executable"
fi

T0=$(date +%s%3N)
ms() { echo $(($(date +%s%3N) - T0)); }
step() { printf '[%7s ms] %s\n' "$(ms)" "$*"; }
note() { printf '             %s\n' "$*"; }
loud() { printf '!!!!!!!! %s\n' "$@"; }

# Per scenario, each process runs at most PROC_TIMEOUT s (its own --timeout), inside a hard
# limit a little longer; --step waits for a person, so it allows an hour.
PROC_TIMEOUT=150
((STEP)) && PROC_TIMEOUT=3600
REG_TIMEOUT=30
GRACE=20

W=$(mktemp -d /tmp/imsdc-demo.XXXXXX)
mkdir -p "$W/run"
LABNET_UP=0
FOLLOW_PID=""
KEYLOG_FILE=""

stop_imsdc() { # ends the imsdc processes still running (their pids are in W/run)
  local f pid
  for f in "$W"/run/*.pid; do
    [[ -e $f ]] || continue
    pid=$(cat "$f")
    if grep -qa imsdc "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null \
        || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $FOLLOW_PID ]]; then kill "$FOLLOW_PID" 2>/dev/null || true; fi
  stop_imsdc
  if ((LABNET_UP)); then
    if ((KEEP)); then
      echo "the labnet keeps running (--keep): Kamailio ${SIP_SERVER:-?}, BAR ${BAR_URL:-?}"
      echo "  stop it with: tests/labnet/demo/labnet.sh stop $W"
    else
      LABNET_QUIET=1 bash "$LABNET" stop "$W" \
        || echo "demo: stopping the labnet failed; run: tests/labnet/demo/labnet.sh stop $W" >&2
    fi
  fi
  echo "work directory: $W"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((KEYLOG)); then
  loud "--keylog: DTLS SESSION KEYS WILL BE WRITTEN TO A FILE (debug build only)." \
       "Anyone with that file can decrypt the captured data channels. Never use it outside a test."
fi
echo "work directory: $W"

# --- dependencies and build -----------------------------------------------------------------
if ((DEPS)); then
  step "installing what is missing (toolchains/install-deps.sh base pkcs11 kamailio lws node)"
  bash toolchains/install-deps.sh base pkcs11 kamailio lws node 2>&1 | sed 's/^/             /'
else
  missing=()
  command -v kamailio >/dev/null || missing+=(kamailio)
  command -v node >/dev/null || missing+=(node)
  [[ -d tests/interop/node_modules/jose ]] || missing+=("jose (npm)")
  [[ -x $PY ]] && "$PY" -c 'import jwt, cryptography' 2>/dev/null \
    || missing+=(python3-jwt/-cryptography)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]})); then
    echo "demo: missing: ${missing[*]} (run without --no-deps, or:" \
      "toolchains/install-deps.sh base pkcs11 kamailio lws node)" >&2
    exit 1
  fi
fi

if [[ -z $IMSDC ]]; then
  PRESET=release
  ((KEYLOG)) && PRESET=dev
  step "building (cmake --preset $PRESET -DIMSDC_WITH_CLI=ON; log $W/build.log)"
  if ! { cmake --preset "$PRESET" -DIMSDC_WITH_CLI=ON \
      && cmake --build --preset "$PRESET" -j2 --target imsdc_cli; } >"$W/build.log" 2>&1; then
    tail -n 30 "$W/build.log" | sed 's/^/             | /'
    echo "demo: FAILED: the build (log: $W/build.log)" >&2
    exit 1
  fi
  IMSDC=$ROOT/build/$PRESET/samples/cli/imsdc
elif ((KEYLOG)); then
  loud "--keylog with --imsdc: make sure $IMSDC is a debug build (cmake --preset dev)" \
       "or it writes no key log."
fi
for cmd in mf avatar-call; do
  "$IMSDC" "$cmd" --help >/dev/null 2>&1 \
    || { echo "demo: $IMSDC has no '$cmd' command (try: $IMSDC $cmd --help)" >&2; exit 1; }
done
note "imsdc: $IMSDC"
if ((KEYLOG)); then
  KEYLOG_FILE=$W/dtls-keylog.txt
  : >"$KEYLOG_FILE"
  loud "DTLS key log: $KEYLOG_FILE (--keylog for the imsdc processes)"
fi

# --- the labnet -------------------------------------------------------------------------------
step "fixtures: test CA, device keys and certificates, avatars (tests/labnet/demo/labnet.sh setup)"
bash "$LABNET" setup "$W" "$IMSDC" | sed 's/^/             /'
step "starting the labnet on loopback (tests/labnet/demo/labnet.sh start)"
LABNET_UP=1
bash "$LABNET" start "$W" | sed 's/^/             /'
# shellcheck disable=SC1091
. "$W/labnet.env"

SIP=(--server "$SIP_SERVER" --origin https://wwsf.ims.example --ca "$SIP_CA")
COMMON=(--bind 127.0.0.1 --timeout "$PROC_TIMEOUT")
# The UEs tell the MF's data channels (e2ae) from each other's (e2e) by the MF's DTLS CA.
EDGE=(--access-edge-ca "$W/ca/mf-ca.pem")

# start_proc NAME LOG ARGS...: imsdc ARGS in the background under a hard time limit; PID_<NAME>.
start_proc() {
  local name=$1 log=$2 pid
  shift 2
  if [[ -n $KEYLOG_FILE ]]; then
    timeout -k 5 $((PROC_TIMEOUT + 30)) "$IMSDC" "$@" --keylog "$KEYLOG_FILE" >"$log" 2>&1 &
  else
    timeout -k 5 $((PROC_TIMEOUT + 30)) "$IMSDC" "$@" >"$log" 2>&1 &
  fi
  pid=$!
  echo "$pid" >"$W/run/$name.pid"
  printf -v "PID_$name" '%s' "$pid"
}

# reap NAME [GRACE]: waits for the process and sets RC_<NAME>. Bounded by its time limit, or
# with GRACE by GRACE seconds, after which it is sent SIGTERM (it then de-registers and ends).
reap() {
  local name=$1 grace=${2:-} pidvar="PID_$1" rc=0 deadline
  [[ -n ${!pidvar:-} ]] || { printf -v "RC_$name" '%s' -; return 0; }
  if [[ -n $grace ]]; then
    deadline=$((SECONDS + grace))
    while kill -0 "${!pidvar}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "${!pidvar}" 2>/dev/null; then
      step "$name is still running ${grace} s after UE-A ended: sending it SIGTERM"
      kill -TERM "${!pidvar}" 2>/dev/null || true
    fi
  fi
  wait "${!pidvar}" || rc=$?
  rm -f "$W/run/$name.pid"
  printf -v "RC_$name" '%s' "$rc"
}

wait_registered() { # NAME WHO EVENTS
  local pidvar="PID_$1" rc=0
  "$PY" "$DEMO/events.py" wait --events "$3" --who "$2" --step register --pid "${!pidvar}" \
    --timeout "$REG_TIMEOUT" || rc=$?
  sleep 0.2 # the follower prints the register event before the next start line
  case $rc in
    0) return 0 ;;
    1) echo "demo: $2 did not register (see its register event)" ;;
    2) echo "demo: $2 did not register within ${REG_TIMEOUT} s" ;;
    3) echo "demo: $2 ended before it registered" ;;
  esac
  return 1
}

describe() {
  case $1 in
    main) echo "the avatar call" ;;
    wrong-avatar) echo "UE-A presents another subscriber's avatar ID (av-bob): refused," \
      "the call goes on" ;;
    tampered) echo "the BAR's answer is tampered with on its way to the UEs: refused," \
      "the call goes on" ;;
  esac
}

run_scenario() {
  local scn=$1 s=$W/$1 e rc=0 avatar=av-alice
  local -a mf_extra=() step_extra=() follow_extra=()
  e=$s/events.jsonl
  mkdir -p "$s/out-ue-a" "$s/out-ue-b" "$W/state"
  : >"$e"
  # shellcheck disable=SC2034 # read through ${!pidvar} in reap and wait_registered
  PID_MF="" PID_UEB="" PID_UEA=""
  [[ $scn == wrong-avatar ]] && avatar=av-bob
  [[ $scn == tampered ]] && mf_extra=(--tamper-bar-answer)
  if ((STEP)); then
    mkdir -p "$s/step"
    step_extra=(--step-dir "$s/step")
    follow_extra=(--step-dir "$s/step")
  fi
  echo
  step "=== scenario $scn: $(describe "$scn") (events: $e)"
  "$PY" "$DEMO/events.py" follow --events "$e" --t0 "$T0" --done "$s/done" \
    --max-seconds $((PROC_TIMEOUT + 90)) "${follow_extra[@]}" &
  FOLLOW_PID=$!

  step "MF: imsdc mf --impu sip:mf@ims.example --bar $BAR_URL${mf_extra[*]:+ ${mf_extra[*]}}" \
    "(log $s/mf.log)"
  start_proc MF "$s/mf.log" mf "${SIP[@]}" --impu sip:mf@ims.example --impi "$MF_IMPI" \
    --password-file "$MF_PASSWORD_FILE" --state "$W/state/mf" --dir "$W/mf" \
    --dtls-dir "$W/mf-dtls" --bar "$BAR_URL" --bar-ca "$BAR_CA" \
    --avatars "$W/mf/avatars.json" --calls 1 "${mf_extra[@]}" --events "$e" "${COMMON[@]}"
  if wait_registered MF MF "$e"; then
    step "UE-B: imsdc avatar-call --role callee --impu sip:bob@ims.example (digest)" \
      "--trust (the STI root) (log $s/ue-b.log)"
    start_proc UEB "$s/ue-b.log" avatar-call --role callee "${SIP[@]}" \
      --impu sip:bob@ims.example --impi bob@ims.example --password-file "$BOB_PASSWORD_FILE" \
      --state "$W/state/ue-b" --dir "$W/ue-b" "${EDGE[@]}" --trust "$STI_ROOT" \
      --certs "$STI_CERTS" --out "$s/out-ue-b" --events "$e" "${COMMON[@]}"
    if wait_registered UEB UE-B "$e"; then
      step "UE-A: imsdc avatar-call --role caller --impu sip:alice@enterprise.example (token)" \
        "--to sip:+15552220002@ims.example;user=phone --avatar-id $avatar (log $s/ue-a.log)"
      start_proc UEA "$s/ue-a.log" avatar-call --role caller "${SIP[@]}" \
        --impu sip:alice@enterprise.example --impi alice@wwsf.ims.example \
        --token-file "$W/ue-a/registration.token" --state "$W/state/ue-a" --dir "$W/ue-a" \
        "${EDGE[@]}" --to "sip:+15552220002@ims.example;user=phone" --avatar-id "$avatar" --dc-as dcas.ims.example \
        --bar-id bar.ims.example --third-party-id sip:e12345@enterprise.example \
        --third-party-token-file "$W/ue-a/enterprise.token" "${step_extra[@]}" \
        --out "$s/out-ue-a" --events "$e" "${COMMON[@]}"
    fi
  fi
  # Whoever is still waiting for a call that will not come is ended (UE-A never started);
  # once UE-A has ended, the call is over: UE-B and the MF get GRACE seconds to finish.
  if [[ -z $PID_UEA ]]; then stop_imsdc; fi
  reap UEA
  reap UEB "$GRACE"
  reap MF "$GRACE"
  : >"$s/done"
  wait "$FOLLOW_PID" 2>/dev/null || true
  FOLLOW_PID=""
  echo
  "$PY" "$DEMO/events.py" check --events "$e" --t0 "$T0" --scenario "$scn" \
    --rc "UE-A=$RC_UEA" --rc "UE-B=$RC_UEB" --rc "MF=$RC_MF" \
    --log "UE-A=$s/ue-a.log" --log "UE-B=$s/ue-b.log" --log "MF=$s/mf.log" \
    --out "UE-A=$s/out-ue-a" --out "UE-B=$s/out-ue-b" --avatar "$W/bar/av-alice.glb" || rc=1
  echo "logs: $s/{ue-a,ue-b,mf}.log, events $e"
  return "$rc"
}

FAILED=()
for scn in "${SCENARIOS[@]}"; do
  run_scenario "$scn" || FAILED+=("$scn")
done

echo
echo "labnet logs: Kamailio $W/epcscf/kamailio.log, BAR $W/bar/bar.log"
if [[ -n $KEYLOG_FILE ]]; then
  if [[ -s $KEYLOG_FILE ]]; then
    loud "DTLS key log for Wireshark: $KEYLOG_FILE" \
         "(Preferences > Protocols > TLS > (Pre)-Master-Secret log filename; or" \
         " tshark -i lo -o tls.keylog_file:$KEYLOG_FILE -Y dtls during a run)"
  else
    loud "no DTLS key was logged to $KEYLOG_FILE (a release build, or no DTLS handshake)"
  fi
fi
if ((${#FAILED[@]})); then
  step "FAILED: scenario(s) ${FAILED[*]} (see the FAILED lines above)"
  exit 1
fi
step "done: every step of ${SCENARIOS[*]} behaved as expected"
