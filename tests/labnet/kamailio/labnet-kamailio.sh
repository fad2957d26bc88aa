#!/usr/bin/env bash
# labnet eP-CSCF: Kamailio 5.6 as a WSS-only registrar / proxy on loopback, for the imsdc
# registration tests and the demo. TEST NETWORK ONLY: every key, password and token it makes is
# test material.
#
#   labnet-kamailio.sh start DIR [--port P] [--ca CADIR] [--min-expires N] [--flow-timer N]
#                      [--origin URL]... [--pcscf-id ID] [--wwsf-pub PEM] [--pool PATTERN]...
#                      [--impu-domain D]... [--nonce-ttl S] [--no-sti] [--mf AOR]
#                      [--third-party-ids FILE] [--debug N]
#       Creates DIR (state, logs, pid), renders DIR/kamailio.cfg from kamailio.cfg.in, starts
#       Kamailio listening on tls:127.0.0.1:P and tls:[::1]:P (WebSocket over TLS only), waits
#       (at most 10 s) until both accept TLS, prints KAMAILIO_PORT=P and exits 0.
#         --port P         default: a free port
#         --ca CADIR       server certificate DNS:localhost from the test operator CA
#                          (tests/labnet/ca/make-ca.sh init CADIR; server ...); without it a
#                          self-signed DNS:localhost certificate; either way DIR/tls/server.pem
#                          (+ DIR/tls/ca.pem, the file clients should trust)
#         --min-expires N  registrar minimum expiry (default 60); shorter -> 423 + Min-Expires
#         --flow-timer N   Flow-Timer in outbound 200 OKs (default 25; 0 = none)
#         --origin URL     allowed WebSocket Origin, repeatable (default https://wwsf.ims.example)
#         --pcscf-id ID    the bearer token audience (default pcscf.ims.example)
#         --wwsf-pub PEM   WWSF public key (default: DIR/wwsf/wwsf-pub.pem, made if missing,
#                          with its private key DIR/wwsf/wwsf-key.pem for wwsf-token.py)
#         --pool PATTERN   IMPIs the WWSF may hand out (fnmatch), repeatable
#                          (default *@wwsf.ims.example)
#         --impu-domain D  domains a bearer-registered IMPU may have, repeatable (default
#                          wwsf.ims.example, enterprise.example)
#         --nonce-ttl S    digest nonce lifetime; an older nonce gets 401 stale=true (default 300)
#         --no-sti         do not sign INVITEs (by default initial INVITEs from a registered user
#                          with a telephone number to a telephone number get a SHAKEN Identity
#                          header, attest A, from Kamailio's secsipid module: see README.md)
#         --mf AOR         route initial INVITEs through a media function (the imsdc mf B2BUA,
#                          IMS AS/DCSF + MF) registered as AOR (sip:USER@DOMAIN, DOMAIN one of
#                          ims.example, wwsf.ims.example, enterprise.example), e.g.
#                          sip:mf@ims.example. AOR becomes a digest user (IMPI USER@DOMAIN,
#                          SHA-256, password DIR/passwords/USER; see 'users DIR') that registers
#                          over WSS like a UE. The connection its REGISTER succeeded on is the
#                          trusted one (decided by the connection, never by a header): a UE's
#                          initial INVITE (after the usual checks: registered caller, token,
#                          P-Asserted-Identity, Privacy) goes to the MF with the Request-URI
#                          unchanged and unsigned (480 "Media Function Unavailable" when the MF
#                          is not registered); an initial INVITE on the MF's connection is
#                          trusted (any From; its P-Preferred-Identity, else its
#                          P-Asserted-Identity, is asserted without a token), routed to the
#                          callee and signed as usual. Log lines: "labnet: MF: ...". README.md
#         --third-party-ids FILE
#                          the third-party ID server's data (JSON, see rcd.py and README.md):
#                          asserted identity (sip:USER@DOMAIN) -> name card {"nam": display
#                          name (optional), "jcl": https URL of its jCard, "jcard": the jCard
#                          (RFC 7095: version, fn, optionally org and a photo/logo URI whose
#                          file lies next to FILE, named by the URL's last path segment)}.
#                          Validated (a bad FILE: exit 2, DIR untouched),
#                          copied to DIR/thirdparty/ (ids.json + linked files); each jCard and
#                          linked file is published into DIR/sti/certs/ under its URL's last
#                          path segment (callees read it there like the x5u certificate).
#                          An INVITE signed for an identity with an entry gets a second
#                          Identity header: an RCD PASSporT (ppt rcd, RFC 9795: rcd {nam,
#                          jcl}, rcdi digests; orig, dest, iat; the STI key and x5u), next to
#                          the unchanged SHAKEN one. Not with --no-sti. Without this option
#                          no Rich Call Data is signed.
#         --debug N        Kamailio debug level (default 2)
#   labnet-kamailio.sh stop DIR      TERM, then KILL after 5 s; idempotent; keeps DIR's files
#   labnet-kamailio.sh kill DIR      SIGKILL at once (reconnect tests); keeps config and port
#   labnet-kamailio.sh restart DIR   stops if running, starts again with DIR/kamailio.cfg
#   labnet-kamailio.sh users DIR     lists the digest users (IMPI, AoR, algorithm, password file)
#
# Test hooks (see README.md): DIR/fail503 (the next REGISTER gets 503 + Retry-After: <file
# content if a number, else 2>; the file is then deleted); --min-expires; --nonce-ttl;
# DIR/users.conf (created with alice and bob when missing; edit it before start to add users);
# DIR/numbers.conf (AoR -> telephone number, created with alice's and bob's when missing).
# --mf AOR adds AOR's line to DIR/users.conf (when the AoR is not there yet).
# STI test PKI (made at first start): DIR/sti/root.pem (the STI root a callee trusts),
# DIR/sti/certs/sti.pem (the signing certificate; the x5u URL's last path segment, for a local
# certificate cache), DIR/sti/sti-key.pem (the signing key, mode 0600); the x5u URL is
# https://sti.ims.example/certs/sti.pem (never fetched: nothing serves it).
# With --third-party-ids: DIR/thirdparty/ids.json (+ linked files), the published jCards in
# DIR/sti/certs/.
# Exit 0 on success, 1 on failure, 2 on misuse; messages on stderr.
set -euo pipefail

PROG=labnet-kamailio.sh
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
MAKE_CA=$REPO/tests/labnet/ca/make-ca.sh
PY=/usr/bin/python3 # Debian's interpreter: python3-jwt/-cryptography are installed for it
KAMAILIO=${KAMAILIO:-kamailio}
START_TIMEOUT=10
STI_X5U=https://sti.ims.example/certs/sti.pem
STOP_TIMEOUT=5

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}
misuse() { echo "$PROG: $*" >&2; echo "(run '$PROG --help' for usage)" >&2; exit 2; }
die() { echo "$PROG: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (run: toolchains/install-deps.sh kamailio)"
}

abs_dir() { # DIR -> absolute path (DIR may not exist yet)
  local d=$1
  [[ $d == /* ]] || d=$PWD/$d
  printf '%s\n' "$d"
}

check_dir_name() {
  [[ $1 =~ ^[A-Za-z0-9._/+-]+$ ]] || misuse "DIR must consist of [A-Za-z0-9._/+-] (got '$1')"
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

read_pid() { # DIR -> pid or empty
  local f=$1/kamailio.pgid
  if [[ -s $f ]]; then tr -dc '0-9' <"$f"; fi
}

group_alive() { # PGID
  pgrep -g "$1" >/dev/null 2>&1
}

free_port() {
  "$PY" - <<'EOF'
import socket
for _ in range(50):
    s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s4.bind(("127.0.0.1", 0))
    port = s4.getsockname()[1]
    try:
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.bind(("::1", port))
        s6.close()
        s4.close()
        print(port)
        break
    except OSError:
        s4.close()
else:
    raise SystemExit("no free port on 127.0.0.1 and ::1")
EOF
}

random_secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))'; }

write_secret_file() { # PATH (created only when missing, mode 0600)
  [[ -s $1 ]] && return 0
  (umask 077 && random_secret >"$1")
}

origin_regex() { # ORIGIN... -> Kamailio regex; non-alphanumerics as [c] (no backslashes needed)
  local o out="" sep=""
  for o in "$@"; do
    [[ $o =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || misuse "--origin must look like https://host[:port] (got '$o')"
    out+=$sep$(printf '%s' "$o" | sed 's/[^A-Za-z0-9]/[&]/g')
    sep='|'
  done
  printf '^(%s)$' "$out"
}

issue_cert() { # DIR CADIR(optional)
  local dir=$1 cadir=$2 tls=$1/tls
  mkdir -p "$tls"
  chmod 700 "$tls"
  if [[ -n $cadir ]]; then
    [[ -x $MAKE_CA ]] || die "$MAKE_CA is missing (needed for --ca)"
    "$MAKE_CA" init "$cadir" || die "make-ca.sh init $cadir failed"
    "$MAKE_CA" server "$cadir" localhost "$tls/server" || die "make-ca.sh server failed"
    cp "$cadir/root.pem" "$tls/ca.pem"
  else
    if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/O=imsdc Test/CN=localhost" -addext "subjectAltName=DNS:localhost" \
      -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
      -keyout "$tls/server-key.pem" -out "$tls/server.pem" >"$tls/openssl.log" 2>&1; then
      cat "$tls/openssl.log" >&2
      die "openssl could not make the self-signed server certificate"
    fi
    cp "$tls/server.pem" "$tls/ca.pem"
  fi
  chmod 600 "$tls/server-key.pem"
}

write_tls_cfg() { # DIR
  cat >"$1/tls.cfg" <<EOF
# labnet eP-CSCF TLS profile (test only)
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $1/tls/server-key.pem
certificate = $1/tls/server.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
EOF
}

# Kamailio quirk (5.6.3 + OpenSSL 3): the tls module keeps OpenSSL's state in shared memory.
# python3-cryptography (imported by bearer.py through app_python3) loads OpenSSL's "legacy"
# provider; loaded after the fork, legacy.so is mapped in one process only and the other
# processes crash (SIGSEGV in tls_accept). Activating the legacy provider through OPENSSL_CONF
# loads it in the main process before the fork, at the same address everywhere.
write_openssl_cnf() { # DIR
  cat >"$1/openssl.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
EOF
}

write_users() { # DIR: default digest users, kept when the file exists
  local dir=$1
  mkdir -p "$dir/passwords"
  chmod 700 "$dir/passwords"
  write_secret_file "$dir/passwords/alice"
  write_secret_file "$dir/passwords/bob"
  [[ -s $dir/users.conf ]] && return 0
  cat >"$dir/users.conf" <<'EOF'
# labnet digest users (test only). Realm: ims.example. Columns:
# IMPI (digest username)  AoR (To URI it may register)  algorithm (SHA-256|MD5)  password file
alice@ims.example  sip:alice@ims.example  SHA-256  passwords/alice
bob@ims.example    sip:bob@ims.example    MD5      passwords/bob
EOF
}

add_mf_user() { # DIR AOR: the media function's digest user (kept when the AoR is listed)
  local dir=$1 aor=$2 impi name a_impi a_aor a_alg a_pw
  impi=${aor#sip:}
  name=${impi%@*}
  while read -r a_impi a_aor a_alg a_pw; do
    [[ -z $a_impi || $a_impi == \#* ]] && continue
    if [[ $a_aor == "$aor" ]]; then
      [[ $a_impi == "$impi" ]] || die "--mf $aor: users.conf has this AoR for IMPI $a_impi, expected $impi"
      return 0
    fi
    [[ $a_impi != "$impi" ]] || die "--mf $aor: IMPI $impi already has the AoR $a_aor in users.conf"
    [[ $a_pw != "passwords/$name" ]] || die "--mf $aor: passwords/$name belongs to $a_impi in users.conf"
  done <"$dir/users.conf"
  write_secret_file "$dir/passwords/$name"
  printf '%-18s %-22s %-8s %s\n' "$impi" "$aor" SHA-256 "passwords/$name" >>"$dir/users.conf"
}

write_numbers() { # DIR: default AoR -> telephone number map, kept when the file exists
  [[ -s $1/numbers.conf ]] && return 0
  cat >"$1/numbers.conf" <<'EOF'
# labnet telephone numbers (test only): the tel URI of each AoR's implicit registration set
# (TS 24.229). The proxy asserts it (a second P-Asserted-Identity) and signs with it (SHAKEN
# orig); a Request-URI with this number (sip:+1...@ims.example;user=phone) reaches the AoR.
# Columns: AoR  telephone number (E.164)
sip:alice@ims.example  +15551110001
sip:bob@ims.example    +15552220002
EOF
}

# STI test PKI: a root (the STI-CA) and a SHAKEN signing certificate with a TNAuthList SPC
# (RFC 8226), made once per DIR with openssl. TEST ONLY.
ossl_sti() { # LOG ARGS...
  local log=$1
  shift
  openssl "$@" >>"$log" 2>&1 || { cat "$log" >&2; die "openssl $1 failed (STI PKI)"; }
}
make_sti() { # DIR
  local sti=$1/sti
  local log=$sti/openssl.log
  [[ -s $sti/root.pem && -s $sti/certs/sti.pem && -s $sti/sti-key.pem ]] && return 0
  mkdir -p "$sti/certs"
  chmod 700 "$sti"
  : >"$log"
  ossl_sti "$log" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$sti/root-key.pem"
  ossl_sti "$log" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$sti/sti-key.pem"
  chmod 600 "$sti/root-key.pem" "$sti/sti-key.pem"
  ossl_sti "$log" req -x509 -new -key "$sti/root-key.pem" -days 30 -sha256 \
    -subj "/O=imsdc Test/CN=imsdc Test STI Root CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$sti/root.pem"
  ossl_sti "$log" req -new -key "$sti/sti-key.pem" -subj "/O=imsdc Test/CN=SHAKEN 1234" \
    -out "$sti/sti.csr"
  printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
    "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" \
    "1.3.6.1.5.5.7.1.26 = DER:30:08:a0:06:16:04:31:32:33:34" >"$sti/sti.ext"
  ossl_sti "$log" x509 -req -in "$sti/sti.csr" -CA "$sti/root.pem" -CAkey "$sti/root-key.pem" \
    -days 30 -sha256 -set_serial "0x$(openssl rand -hex 8)" -extfile "$sti/sti.ext" \
    -out "$sti/certs/sti.pem"
}

have_secsipid() {
  local moddir
  moddir=$("$KAMAILIO" -h 2>&1 | sed -n 's/.*Modules search path (default: \(.*\)).*/\1/p')
  [[ -e $moddir/secsipid.so ]]
}

json_list() { # ITEM... -> JSON array
  "$PY" -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"
}

write_auth_json() { # DIR PCSCF_ID WWSF_PUB NONCE_TTL POOL_JSON DOMAINS_JSON RCD(0|1)
  "$PY" - "$@" "$STI_X5U" <<'EOF'
import json, sys
d, pcscf, pub, ttl, pool, domains, rcd, x5u = sys.argv[1:]
s = {
    "realm": "ims.example",
    "pcscf_id": pcscf,
    "issuer": "https://wwsf.ims.example",
    "scope": "webrtc-ims-client-access-to-ims",
    "wwsf_public_key": pub,
    "pool": json.loads(pool),
    "impu_domains": json.loads(domains),
    "users_file": d + "/users.conf",
    "numbers_file": d + "/numbers.conf",
    "nonce_secret_file": d + "/nonce-secret",
    "nonce_ttl": int(ttl),
    "fail503_file": d + "/fail503",
    "sti_key": d + "/sti/sti-key.pem",
    "sti_x5u": x5u,
    "third_party_ids": d + "/thirdparty/ids.json" if rcd == "1" else None,
}
with open(d + "/auth.json", "w") as f:
    json.dump(s, f, indent=1)
EOF
}

render_cfg() { # DIR PORT MIN_EXPIRES FLOW_TIMER ORIGIN_RE DEBUG STI(0|1) MF_AOR(or empty) RCD(0|1)
  local sti_define="# STI signing off (--no-sti)" mf_define="# no media function (no --mf)"
  local rcd_define="# no third-party ID server data (no --third-party-ids)"
  local mf_aor=${8:-none}
  (($7)) && sti_define="#!define WITH_STI"
  ((${9:-0})) && rcd_define="#!define WITH_RCD"
  [[ -n $8 ]] && mf_define="#!define WITH_MF"
  "$PY" - "$HERE/kamailio.cfg.in" "$1/kamailio.cfg" "DIR=$1" "SRCDIR=$HERE" "PORT=$2" \
    "MIN_EXPIRES=$3" "FLOW_TIMER=$4" "ORIGIN_RE=$5" "DEBUG=$6" "STI_DEFINE=$sti_define" \
    "STI_CERT_URL=$STI_X5U" "STI_KEY=$1/sti/sti-key.pem" "MF_DEFINE=$mf_define" \
    "MF_AOR=$mf_aor" "RCD_DEFINE=$rcd_define" <<'EOF'
import re, sys
src, dst, *pairs = sys.argv[1:]
values = dict(p.split("=", 1) for p in pairs)
text = open(src).read()
def sub(m):
    name = m.group(1)
    if name not in values:
        raise SystemExit("kamailio.cfg.in: no value for @%s@" % name)
    return values[name]
text = re.sub(r"@([A-Z_]+)@", sub, text)
open(dst, "w").write(text)
EOF
}

tls_ready() { # HOST PORT
  timeout 3 openssl s_client -connect "$1:$2" -servername localhost -brief </dev/null >/dev/null 2>&1
}

launch() { # DIR PORT: starts Kamailio from DIR/kamailio.cfg and waits until it serves TLS
  local dir=$1 port=$2 pgid deadline
  export OPENSSL_CONF=$dir/openssl.cnf
  "$KAMAILIO" -c -f "$dir/kamailio.cfg" >"$dir/cfgcheck.log" 2>&1 \
    || { cat "$dir/cfgcheck.log" >&2; die "Kamailio rejects $dir/kamailio.cfg (see above)"; }
  mkdir -p "$dir/run"
  {
    echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) start on port $port"
  } >>"$dir/kamailio.log"
  # -DD: the main process stays in the foreground (no daemon fork), so $! is its pid; setsid
  # gives it its own process group, which stop/kill use to reach every child.
  setsid "$KAMAILIO" -f "$dir/kamailio.cfg" -P "$dir/kamailio.pid" -DD -E --atexit=no -w "$dir/run" \
    -m 64 -M 8 >>"$dir/kamailio.log" 2>&1 </dev/null &
  pgid=$!
  disown "$pgid" 2>/dev/null || true
  echo "$pgid" >"$dir/kamailio.pgid"
  echo "$port" >"$dir/port"
  deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! pid_alive "$pgid"; then
      tail -n 30 "$dir/kamailio.log" >&2
      rm -f "$dir/kamailio.pgid"
      die "Kamailio exited during start-up (log: $dir/kamailio.log)"
    fi
    if tls_ready 127.0.0.1 "$port" && tls_ready "[::1]" "$port"; then
      echo "KAMAILIO_PORT=$port"
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$dir/kamailio.log" >&2
  stop_group "$dir" KILL
  die "Kamailio did not accept TLS on 127.0.0.1:$port and [::1]:$port within ${START_TIMEOUT}s"
}

stop_group() { # DIR SIGNAL(TERM|KILL)
  local dir=$1 sig=$2 pgid deadline
  pgid=$(read_pid "$dir")
  if [[ -z $pgid ]]; then
    return 0
  fi
  if group_alive "$pgid"; then
    if [[ $sig == TERM ]] && pid_alive "$pgid"; then
      kill -TERM "$pgid" 2>/dev/null || true
      deadline=$((SECONDS + STOP_TIMEOUT))
      while group_alive "$pgid" && ((SECONDS < deadline)); do sleep 0.1; done
    fi
    if group_alive "$pgid"; then
      kill -KILL -- "-$pgid" 2>/dev/null || true
      deadline=$((SECONDS + STOP_TIMEOUT))
      while group_alive "$pgid" && ((SECONDS < deadline)); do sleep 0.1; done
    fi
    group_alive "$pgid" && die "Kamailio process group $pgid did not end"
  fi
  rm -f "$dir/kamailio.pgid" "$dir/kamailio.pid"
}

running_check() { # DIR: refuse to start twice
  local pgid
  pgid=$(read_pid "$1")
  if [[ -n $pgid ]] && group_alive "$pgid"; then
    die "Kamailio is already running for $1 (process group $pgid); stop it first"
  fi
}

cmd_start() {
  (($# >= 1)) || misuse "start needs DIR"
  local dir port="" cadir="" min_expires=60 flow_timer=25 pcscf_id=pcscf.ims.example
  local wwsf_pub="" nonce_ttl=300 debug=2 sti=1 mf_aor="" tp_ids=""
  local -a origins=() pools=() domains=()
  dir=$(abs_dir "$1")
  shift
  check_dir_name "$dir"
  while (($#)); do
    if [[ $1 == --no-sti ]]; then
      sti=0
      shift
      continue
    fi
    (($# >= 2)) || misuse "$1 needs a value"
    case $1 in
      --port)
        if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < 1024 || $2 > 65535)); then misuse "--port takes 1024..65535"; fi
        port=$2 ;;
      --ca) cadir=$(abs_dir "$2") ;;
      --min-expires) [[ $2 =~ ^[0-9]+$ ]] || misuse "--min-expires takes seconds"; min_expires=$2 ;;
      --flow-timer) [[ $2 =~ ^[0-9]+$ ]] || misuse "--flow-timer takes seconds"; flow_timer=$2 ;;
      --origin) origins+=("$2") ;;
      --pcscf-id) [[ $2 =~ ^[A-Za-z0-9.:/_-]+$ ]] || misuse "--pcscf-id: bad value"; pcscf_id=$2 ;;
      --wwsf-pub) [[ -s $2 ]] || misuse "--wwsf-pub: $2 is missing"; wwsf_pub=$(abs_dir "$2") ;;
      --pool) pools+=("$2") ;;
      --impu-domain) domains+=("$2") ;;
      --nonce-ttl)
        if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < 1)); then misuse "--nonce-ttl takes seconds >= 1"; fi
        nonce_ttl=$2 ;;
      --mf)
        [[ $2 =~ ^sip:[a-z0-9][a-z0-9._-]*@(ims\.example|wwsf\.ims\.example|enterprise\.example)$ ]] \
          || misuse "--mf takes sip:USER@DOMAIN (lower case; DOMAIN ims.example, wwsf.ims.example or enterprise.example), got '$2'"
        mf_aor=$2 ;;
      --third-party-ids)
        [[ -f $2 && -r $2 ]] || misuse "--third-party-ids: $2 is not a readable file"
        tp_ids=$(abs_dir "$2") ;;
      --debug) [[ $2 =~ ^-?[0-9]$ ]] || misuse "--debug takes -5..9"; debug=$2 ;;
      *) misuse "unknown option $1" ;;
    esac
    shift 2
  done
  if [[ -n $tp_ids ]] && ! ((sti)); then
    misuse "--third-party-ids needs STI signing (the Rich Call Data PASSporT is signed next to the SHAKEN one): drop --no-sti"
  fi
  ((${#origins[@]})) || origins=(https://wwsf.ims.example)
  ((${#pools[@]})) || pools=("*@wwsf.ims.example")
  ((${#domains[@]})) || domains=(wwsf.ims.example enterprise.example)
  need "$KAMAILIO"
  need openssl
  need setsid
  need pgrep
  [[ -x $PY ]] || die "$PY is missing (apt package python3)"
  "$PY" -c 'import jwt, cryptography' 2>/dev/null || die "python3-jwt / python3-cryptography are not installed"
  # Clients reach the labnet as "localhost" (its certificates name it: mbedTLS checks DNS
  # names only).
  getent ahosts localhost | grep -qE '^(127\.0\.0\.1|::1) ' \
    || die "\"localhost\" does not resolve to 127.0.0.1 or ::1: add \"127.0.0.1 localhost\" to /etc/hosts"
  if [[ -n $tp_ids ]]; then # before DIR is touched: a bad file is a usage error
    "$PY" "$HERE/rcd.py" check "$tp_ids" || misuse "--third-party-ids: $tp_ids is not valid (see above)"
  fi

  mkdir -p "$dir"
  running_check "$dir"
  [[ -n $port ]] || port=$(free_port)
  issue_cert "$dir" "$cadir"
  write_tls_cfg "$dir"
  write_openssl_cnf "$dir"
  write_users "$dir"
  [[ -z $mf_aor ]] || add_mf_user "$dir" "$mf_aor"
  write_numbers "$dir"
  if ((sti)); then
    have_secsipid || die "Kamailio has no secsipid module (apt package kamailio-secsipid-modules; toolchains/install-deps.sh kamailio), or start with --no-sti"
    make_sti "$dir"
  fi
  if [[ -n $tp_ids ]]; then
    "$PY" "$HERE/rcd.py" install "$tp_ids" "$dir" >"$dir/thirdparty.log" \
      || die "cannot install the third-party ID server data $tp_ids"
  fi
  write_secret_file "$dir/nonce-secret"
  if [[ -z $wwsf_pub ]]; then
    "$PY" "$HERE/wwsf-token.py" --gen-key "$dir/wwsf" || die "cannot make the WWSF test key"
    wwsf_pub=$dir/wwsf/wwsf-pub.pem
  fi
  rm -f "$dir/fail503"
  write_auth_json "$dir" "$pcscf_id" "$wwsf_pub" "$nonce_ttl" "$(json_list "${pools[@]}")" \
    "$(json_list "${domains[@]}")" "$([[ -n $tp_ids ]] && echo 1 || echo 0)"
  render_cfg "$dir" "$port" "$min_expires" "$flow_timer" "$(origin_regex "${origins[@]}")" "$debug" "$sti" \
    "$mf_aor" "$([[ -n $tp_ids ]] && echo 1 || echo 0)"
  launch "$dir" "$port"
}

cmd_stop() {
  (($# == 1)) || misuse "stop takes DIR"
  local dir
  dir=$(abs_dir "$1")
  [[ -d $dir ]] || return 0
  stop_group "$dir" TERM
}

cmd_kill() {
  (($# == 1)) || misuse "kill takes DIR"
  local dir
  dir=$(abs_dir "$1")
  [[ -d $dir ]] || return 0
  stop_group "$dir" KILL
}

cmd_restart() {
  (($# == 1)) || misuse "restart takes DIR"
  local dir port
  dir=$(abs_dir "$1")
  [[ -s $dir/kamailio.cfg && -s $dir/port ]] || die "$dir has no labnet Kamailio (run start first)"
  port=$(tr -dc '0-9' <"$dir/port")
  stop_group "$dir" TERM
  launch "$dir" "$port"
}

cmd_users() {
  (($# == 1)) || misuse "users takes DIR"
  local dir
  dir=$(abs_dir "$1")
  [[ -s $dir/users.conf ]] || die "$dir/users.conf does not exist (run start first)"
  local impi aor alg pw
  printf '%-22s %-28s %-8s %s\n' IMPI AOR ALGORITHM PASSWORD-FILE
  while read -r impi aor alg pw; do
    [[ -z $impi || $impi == \#* ]] && continue
    [[ $pw == /* ]] || pw=$dir/$pw
    printf '%-22s %-28s %-8s %s\n' "$impi" "$aor" "$alg" "$pw"
  done <"$dir/users.conf"
}

(($# >= 1)) || { usage; exit 2; }
cmd=$1
shift
case $cmd in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  kill) cmd_kill "$@" ;;
  restart) cmd_restart "$@" ;;
  users) cmd_users "$@" ;;
  -h|--help|help) usage; exit 0 ;;
  *) misuse "unknown command '$cmd'" ;;
esac
