# shellcheck shell=bash disable=SC2034
# What the labnet test scripts share; sourced, never run. Before sourcing, a script sets
#   T      its work directory (mktemp -d)
#   KEEP   1: keep T even when every case passed (--keep)
# and, when it starts Kamailio, D (the labnet-kamailio.sh directory). It may add to
#   BG     background programs to kill (and reap) on exit
#   SHOW   files whose last lines a failure prints
# The EXIT trap kills BG, stops Kamailio (when STARTED=1) and removes T unless a case failed,
# the script failed or KEEP=1; then it names T and the logs to read.
LAB=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/kamailio/labnet-kamailio.sh
FAILS=0
STARTED=0
BG=()
SHOW=()

labnet_cleanup() {
  local rc=$? p
  for p in "${BG[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if ((STARTED)); then "$LAB" stop "$D" >/dev/null 2>&1 || true; fi
  if ((rc == 0 && FAILS == 0 && KEEP == 0)); then
    rm -rf "$T"
  else
    echo "work directory kept: $T${D:+ (Kamailio log: $D/kamailio.log)}"
  fi
}
trap labnet_cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() {
  local f
  printf 'FAIL  %s: %s\n' "$1" "$2"
  for f in "${SHOW[@]}"; do
    [[ -s $f ]] && sed 's/^/      | /' "$f" | tail -n 20
  done
  FAILS=$((FAILS + 1))
}
check() { # NAME COMMAND...: pass when COMMAND succeeds
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}
log_has() { grep -qE "$1" "$D/kamailio.log"; }

wait_for() { # FILE REGEX COUNT SECONDS: until FILE has COUNT lines matching REGEX
  local file=$1 re=$2 n=$3 deadline=$((SECONDS + $4)) c
  while ((SECONDS < deadline)); do
    c=$(grep -cE "$re" "$file" 2>/dev/null || true)
    ((${c:-0} >= n)) && return 0
    sleep 0.2
  done
  return 1
}

# start_kamailio [labnet-kamailio.sh start options]: Kamailio in D; sets PORT.
start_kamailio() {
  "$LAB" start "$D" "$@" >"$T/start.out"
  STARTED=1
  PORT=$(sed -n 's/^KAMAILIO_PORT=//p' "$T/start.out")
  [[ -n $PORT ]] || { echo "FAIL: Kamailio did not report its port"; exit 1; }
}

# start_bar CONFIG LOG: the labnet BAR (bar/bar.mjs, mutual TLS) on a free port; sets BAR.
start_bar() {
  node "$(dirname -- "$LAB")/../bar/bar.mjs" --config "$1" --port-file "$T/bar.port" 2>"$2" &
  BG+=($!)
  for _ in $(seq 100); do [[ -s $T/bar.port ]] && break; sleep 0.1; done
  [[ -s $T/bar.port ]] || { cat "$2"; echo "FAIL: the BAR did not start"; exit 1; }
  BAR=https://localhost:$(cat "$T/bar.port")
}
