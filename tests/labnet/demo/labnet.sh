#!/usr/bin/env bash
# The demo's local reference network (samples/demo.sh): test operator CA, device keys and
# certificates, tokens, the eP-CSCF (Kamailio, tests/labnet/kamailio) with the media function's
# user, and the BAR (tests/labnet/bar/bar.mjs). Everything listens on loopback only (Kamailio
# on 127.0.0.1 and ::1, the BAR on 127.0.0.1). TEST NETWORK ONLY: every key, password and
# token it makes is test material.
#
#   labnet.sh setup W IMSDC   fixtures in W (made by openssl, imsdc and python; nothing runs):
#       W/ca/                 test operator CA (tests/labnet/ca/make-ca.sh init)
#       W/ue-a/, W/ue-b/      device key + CSR by "imsdc keygen", certificate issued by the CA
#                             from the CSR, stored by "imsdc cert import" (UE-A: IMPU
#                             sip:alice@enterprise.example; UE-B: sip:bob@ims.example)
#       W/mf/                 the MF's key + certificate (device-key.pem, device-cert.pem) from
#                             the operator CA, DNS SAN dcas.ims.example (the dc_as the BAR
#                             checks) and localhost: its TLS client identity towards the BAR;
#                             W/mf/avatars.json (what GET /avatars answers each UE)
#       W/mf-dtls/            the MF's DTLS key + certificate, from the media function CA
#                             (W/ca/mf-ca.pem, which the UEs trust as the access edge)
#       W/bar/                the BAR's server certificate (DNS:localhost), the manifest signer,
#                             the avatars av-alice (320 KiB) and av-bob (192 KiB) as glTF binary
#                             files (make-glb.py), bar.json
#       W/epcscf/numbers.conf sip:e12345@enterprise.example +15551110001 (UE-A's third-party
#                             identity), sip:bob@ims.example +15552220002
#       W/thirdparty/ids.json the third-party ID server data: the enterprise name card of
#                             sip:e12345@enterprise.example (nam "Alice Example", jCard fn
#                             "Alice Example", org "Example Enterprise", published at
#                             https://id.enterprise.example/jcards/e12345.json)
#   labnet.sh start W         Kamailio (labnet-kamailio.sh start W/epcscf --ca W/ca --mf
#                             sip:mf@ims.example --third-party-ids W/thirdparty/ids.json: it
#                             signs the MF's INVITE to UE-B with SHAKEN and, for UE-A's
#                             enterprise identity, Rich Call Data; the jCard is published in
#                             STI_CERTS), UE-A's registration token (WWSF, IMPI
#                             alice@wwsf.ims.example, IMPU sip:alice@enterprise.example) and
#                             enterprise token (sip:e12345@enterprise.example) in W/ue-a, then
#                             the BAR; writes W/labnet.env (shell variables: KAMAILIO_PORT,
#                             SIP_SERVER, SIP_CA, BAR_URL, BAR_CA, MF_IMPI, MF_PASSWORD_FILE,
#                             BOB_PASSWORD_FILE, STI_ROOT, STI_CERTS). Every wait is bounded.
#   labnet.sh stop W          ends what the demo started in W: the imsdc processes recorded in
#                             W/run/*.pid, the BAR, Kamailio. Idempotent; keeps W's files.
#   labnet.sh status W        what is running
# Logs: W/epcscf/kamailio.log, W/bar/bar.log. Exit 0 on success, 1 on failure, 2 on misuse.
set -euo pipefail

PROG=labnet.sh
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
LABNET=$(cd -- "$HERE/.." && pwd)
REPO=$(cd -- "$LABNET/../.." && pwd)
MAKE_CA=$LABNET/ca/make-ca.sh
KAMAILIO_SH=$LABNET/kamailio/labnet-kamailio.sh
WWSF_TOKEN=$LABNET/kamailio/wwsf-token.py
BAR_MJS=$LABNET/bar/bar.mjs
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

# The demo's identities.
UE_A_IMPU=sip:alice@enterprise.example
UE_A_IMPI=alice@wwsf.ims.example
UE_A_THIRD_PARTY=sip:e12345@enterprise.example
UE_A_THIRD_PARTY_IMPI=enterprise-pool-7@wwsf.ims.example
UE_A_TN=+15551110001
UE_A_NAME="Alice Example"
UE_A_ORG="Example Enterprise"
UE_A_JCARD_URL=https://id.enterprise.example/jcards/e12345.json
UE_B_IMPU=sip:bob@ims.example
UE_B_TN=+15552220002
MF_IMPU=sip:mf@ims.example
DC_AS=dcas.ims.example
BAR_ID=bar.ims.example

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
misuse() { echo "$PROG: $*" >&2; usage >&2; exit 2; }
die() { echo "$PROG: $*" >&2; exit 1; }
say() { [[ ${LABNET_QUIET:-0} == 1 ]] || echo "$*"; }

abs() { [[ $1 == /* ]] && printf '%s\n' "$1" || printf '%s\n' "$PWD/$1"; }

cmd_setup() {
  (($# == 2)) || misuse "setup takes W IMSDC"
  local w imsdc=$2
  w=$(abs "$1")
  [[ -x $imsdc ]] || die "$imsdc is not an executable imsdc"
  command -v openssl >/dev/null || die "openssl is missing (toolchains/install-deps.sh base)"
  [[ -x $PY ]] || die "$PY is missing (toolchains/install-deps.sh kamailio)"
  mkdir -p "$w"/{ue-a,ue-b,mf,bar,epcscf,run,state,thirdparty}
  local log=$w/setup.log
  : >"$log"

  bash "$MAKE_CA" init "$w/ca" >>"$log" 2>&1 || { cat "$log" >&2; die "make-ca.sh init failed"; }
  say "test operator CA: $w/ca/root.pem"

  local who impu
  for who in ue-a ue-b; do
    if [[ $who == ue-a ]]; then impu=$UE_A_IMPU; else impu=$UE_B_IMPU; fi
    "$imsdc" keygen --dir "$w/$who" --impu "$impu" >>"$log" 2>&1 \
      || { tail -n 5 "$log" >&2; die "imsdc keygen for $impu failed"; }
    bash "$MAKE_CA" sign-csr "$w/ca" "$w/$who/device.csr" "$w/$who/issued.pem" >>"$log" 2>&1 \
      || { tail -n 5 "$log" >&2; die "make-ca.sh sign-csr for $impu failed"; }
    "$imsdc" cert import --dir "$w/$who" "$w/$who/issued.pem" >>"$log" 2>&1 \
      || { tail -n 5 "$log" >&2; die "imsdc cert import for $impu failed"; }
    say "${who^^}: $impu: key + CSR (imsdc keygen), certificate from the CA" \
      "(imsdc cert import) in $w/$who"
  done

  # The MF: its DTLS certificate is also its TLS client identity towards the BAR, which
  # checks it names the attestation's dc_as.
  bash "$MAKE_CA" server "$w/ca" "$DC_AS" "$w/mf/device-cert" >>"$log" 2>&1 \
    || { tail -n 5 "$log" >&2; die "make-ca.sh server $DC_AS failed"; }
  mv "$w/mf/device-cert-key.pem" "$w/mf/device-key.pem"
  chmod 600 "$w/mf/device-key.pem"
  printf '{"%s":[{"id":"av-alice","name":"Alice (work)"}],"%s":[{"id":"av-bob","name":"Bob"}]}\n' \
    "$UE_A_IMPU" "$UE_B_IMPU" >"$w/mf/avatars.json"
  # Its DTLS certificate on the data channels it terminates comes from the media function CA,
  # the anchor the UEs trust for access-edge certificates (--access-edge-ca): so they can tell
  # an e2ae association (the MF) from an e2e one (the other UE, operator CA).
  mkdir -p "$w/mf-dtls"
  bash "$MAKE_CA" server "$w/ca" "$DC_AS" "$w/mf-dtls/device-cert" --ca mf >>"$log" 2>&1 \
    || { tail -n 5 "$log" >&2; die "make-ca.sh server $DC_AS --ca mf failed"; }
  mv "$w/mf-dtls/device-cert-key.pem" "$w/mf-dtls/device-key.pem"
  chmod 600 "$w/mf-dtls/device-key.pem"
  say "MF: $MF_IMPU: TLS client certificate (operator CA, DNS SAN $DC_AS) in $w/mf," \
    "DTLS certificate (media function CA) in $w/mf-dtls"

  bash "$MAKE_CA" server "$w/ca" localhost "$w/bar/bar" >>"$log" 2>&1 \
    || { tail -n 5 "$log" >&2; die "make-ca.sh server localhost failed"; }
  bash "$MAKE_CA" device "$w/ca" https://avatars.ims.example/signer "$w/bar/signer" >>"$log" 2>&1 \
    || { tail -n 5 "$log" >&2; die "make-ca.sh device (avatar signer) failed"; }
  "$PY" "$HERE/make-glb.py" "$w/bar/av-alice.glb" --name av-alice --size 327680
  "$PY" "$HERE/make-glb.py" "$w/bar/av-bob.glb" --name av-bob --size 196608
  cat >"$w/bar/bar.json" <<JSON
{"bar_id":"$BAR_ID","ca":"../ca/root.pem","cert":"bar.pem","key":"bar-key.pem",
 "subscribers":{"$UE_A_IMPU":["av-alice"],"$UE_B_IMPU":["av-bob"]},
 "avatars":{"av-alice":{"file":"av-alice.glb","cty":"model/gltf-binary"},
            "av-bob":{"file":"av-bob.glb","cty":"model/gltf-binary"}},
 "signer":{"cert":"signer.pem","key":"signer-key.pem"}}
JSON
  say "BAR: avatars av-alice (320 KiB, $UE_A_IMPU) and av-bob (192 KiB, $UE_B_IMPU)," \
    "model/gltf-binary, in $w/bar"

  # Written before Kamailio's first start, which keeps an existing numbers.conf.
  cat >"$w/epcscf/numbers.conf" <<EOF
# labnet demo telephone numbers (test only): AoR  E.164 number
$UE_A_THIRD_PARTY  $UE_A_TN
$UE_B_IMPU    $UE_B_TN
EOF
  say "numbers: $UE_A_THIRD_PARTY $UE_A_TN, $UE_B_IMPU $UE_B_TN ($w/epcscf/numbers.conf)"

  # The third-party ID server's name card of UE-A's enterprise identity: Kamailio signs it as
  # Rich Call Data (RFC 9795) next to the SHAKEN PASSporT; UE-B shows it verified.
  "$PY" - "$w/thirdparty/ids.json" "$UE_A_THIRD_PARTY" "$UE_A_NAME" "$UE_A_ORG" "$UE_A_JCARD_URL" <<'EOF'
import json, sys
path, aor, name, org, url = sys.argv[1:]
card = ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", name],
                  ["org", {}, "text", org], ["kind", {}, "text", "individual"]]]
with open(path, "w", encoding="utf-8") as f:
    json.dump({"identities": {aor: {"nam": name, "jcl": url, "jcard": card}}}, f, indent=1,
              ensure_ascii=False)
    f.write("\n")
EOF
  say "third-party ID server: $UE_A_THIRD_PARTY -> \"$UE_A_NAME\", $UE_A_ORG" \
    "(jCard $UE_A_JCARD_URL; $w/thirdparty/ids.json)"
}

bar_running() { # W
  local pid
  pid=$(cat "$1/bar/bar.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && grep -qa bar.mjs "/proc/$pid/cmdline" 2>/dev/null
}

cmd_start() {
  (($# == 1)) || misuse "start takes W"
  local w
  w=$(abs "$1")
  [[ -s $w/bar/bar.json && -s $w/epcscf/numbers.conf && -s $w/thirdparty/ids.json ]] \
    || die "$w has no fixtures (run: $PROG setup $w IMSDC)"
  command -v node >/dev/null || die "node is missing (toolchains/install-deps.sh node)"
  [[ -d $REPO/tests/interop/node_modules/jose ]] \
    || die "jose is missing (toolchains/install-deps.sh node)"
  local help
  help=$("$KAMAILIO_SH" --help 2>&1 || true)
  [[ $help == *"--mf AOR"* ]] \
    || die "$KAMAILIO_SH has no --mf option (the route through the media function)"
  [[ $help == *"--third-party-ids FILE"* ]] \
    || die "$KAMAILIO_SH has no --third-party-ids option (Rich Call Data of the name cards)"
  bar_running "$w" && die "the BAR of $w is running already (run: $PROG stop $w)"

  local out port
  out=$("$KAMAILIO_SH" start "$w/epcscf" --ca "$w/ca" --mf "$MF_IMPU" \
    --third-party-ids "$w/thirdparty/ids.json" 2>"$w/epcscf-start.log") \
    || { cat "$w/epcscf-start.log" >&2
         die "labnet-kamailio.sh start failed (log: $w/epcscf/kamailio.log)"; }
  port=$(sed -n 's/^KAMAILIO_PORT=//p' <<<"$out")
  [[ -n $port ]] || die "labnet-kamailio.sh start reported no port"
  say "eP-CSCF (Kamailio): wss://localhost:$port on 127.0.0.1 and ::1, log $w/epcscf/kamailio.log"
  say "STI: SHAKEN (attest A) and, for $UE_A_THIRD_PARTY, Rich Call Data (\"$UE_A_NAME\"," \
    "jCard published in $w/epcscf/sti/certs)"

  local impi aor pw mf_impi="" mf_pw=""
  while read -r impi aor _ pw; do
    if [[ $aor == "$MF_IMPU" ]]; then mf_impi=$impi mf_pw=$pw; fi
  done < <("$KAMAILIO_SH" users "$w/epcscf")
  [[ -n $mf_impi && -s $mf_pw ]] \
    || die "labnet-kamailio.sh start --mf made no digest user for $MF_IMPU" \
      "(see: $KAMAILIO_SH users $w/epcscf)"

  local key=$w/epcscf/wwsf/wwsf-key.pem
  (umask 077
   "$PY" "$WWSF_TOKEN" --key "$key" --sub "$UE_A_IMPI" --impu "$UE_A_IMPU" \
     >"$w/ue-a/registration.token"
   "$PY" "$WWSF_TOKEN" --key "$key" --sub "$UE_A_THIRD_PARTY_IMPI" --impu "$UE_A_THIRD_PARTY" \
     >"$w/ue-a/enterprise.token") || die "wwsf-token.py failed"
  say "WWSF: UE-A's registration token ($UE_A_IMPI, $UE_A_IMPU) and enterprise token" \
    "($UE_A_THIRD_PARTY)"

  rm -f "$w/bar/bar.port"
  setsid node "$BAR_MJS" --config "$w/bar/bar.json" --port-file "$w/bar/bar.port" --host 127.0.0.1 \
    >>"$w/bar/bar.log" 2>&1 </dev/null &
  echo $! >"$w/bar/bar.pid"
  local _
  for _ in $(seq 100); do
    [[ -s $w/bar/bar.port ]] && break
    bar_running "$w" || break
    sleep 0.1
  done
  [[ -s $w/bar/bar.port ]] \
    || { tail -n 20 "$w/bar/bar.log" >&2; die "the BAR did not start (log: $w/bar/bar.log)"; }
  local bar_port
  bar_port=$(tr -dc 0-9 <"$w/bar/bar.port")
  say "BAR: https://localhost:$bar_port on 127.0.0.1 (mutual TLS, jose), log $w/bar/bar.log"

  {
    printf 'KAMAILIO_PORT=%q\n' "$port"
    printf 'SIP_SERVER=%q\n' "wss://localhost:$port"
    printf 'SIP_CA=%q\n' "$w/epcscf/tls/ca.pem"
    printf 'BAR_URL=%q\n' "https://localhost:$bar_port"
    printf 'BAR_CA=%q\n' "$w/ca/root.pem"
    printf 'MF_IMPI=%q\n' "$mf_impi"
    printf 'MF_PASSWORD_FILE=%q\n' "$mf_pw"
    printf 'BOB_PASSWORD_FILE=%q\n' "$w/epcscf/passwords/bob"
    printf 'STI_ROOT=%q\n' "$w/epcscf/sti/root.pem"
    printf 'STI_CERTS=%q\n' "$w/epcscf/sti/certs"
  } >"$w/labnet.env"
}

# Ends process PID (TERM, then KILL after 5 s) when its command line contains PATTERN.
end_pid() { # PID PATTERN NAME
  local pid=$1 pat=$2 name=$3 _
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  grep -qa -- "$pat" "/proc/$pid/cmdline" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    grep -qa -- "$pat" "/proc/$pid/cmdline" 2>/dev/null || { say "stopped $name"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  say "killed $name"
}

cmd_stop() {
  (($# == 1)) || misuse "stop takes W"
  local w f
  w=$(abs "$1")
  [[ -d $w ]] || return 0
  for f in "$w"/run/*.pid; do
    [[ -e $f ]] || continue
    end_pid "$(cat "$f")" imsdc "$(basename "$f" .pid)"
    rm -f "$f"
  done
  if [[ -e $w/bar/bar.pid ]]; then
    end_pid "$(cat "$w/bar/bar.pid")" bar.mjs BAR
    rm -f "$w/bar/bar.pid"
  fi
  if [[ -s $w/epcscf/kamailio.pgid ]]; then
    "$KAMAILIO_SH" stop "$w/epcscf" >/dev/null || die "labnet-kamailio.sh stop $w/epcscf failed"
    say "stopped Kamailio"
  fi
}

cmd_status() {
  (($# == 1)) || misuse "status takes W"
  local w pgid
  w=$(abs "$1")
  pgid=$(tr -dc 0-9 2>/dev/null <"$w/epcscf/kamailio.pgid" || true)
  if [[ -n $pgid ]] && pgrep -g "$pgid" >/dev/null 2>&1; then
    echo "Kamailio: running (process group $pgid, port $(cat "$w/epcscf/port" 2>/dev/null))"
  else
    echo "Kamailio: not running"
  fi
  if bar_running "$w"; then
    echo "BAR: running (pid $(cat "$w/bar/bar.pid"))"
  else
    echo "BAR: not running"
  fi
}

(($# >= 1)) || misuse "a command is needed"
cmd=$1
shift
case $cmd in
  setup) cmd_setup "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  -h|--help|help) usage; exit 0 ;;
  *) misuse "unknown command '$cmd'" ;;
esac
