#!/usr/bin/env bash
# Test operator CA for imsdc, made with the openssl command-line tool: an implementation
# independent of the SDK's mbedTLS code, so certificates and CSRs are cross-checked.
#
#   make-ca.sh init DIR
#       Creates, when missing (existing CAs are kept):
#         DIR/root.pem      DIR/root-key.pem        "imsdc Test Operator Root CA"   (--ca root)
#         DIR/other-root.pem DIR/other-root-key.pem "imsdc Test Other CA"           (--ca other)
#         DIR/mf-ca.pem     DIR/mf-ca-key.pem       "imsdc Test Media Function CA"  (--ca mf)
#       Each is a self-signed P-256 ECDSA root, CA:TRUE, keyCertSign+cRLSign, 10 years.
#       "other" is for negative tests (a valid chain to the wrong anchor); "mf" is the
#       anchor the UE trusts for access-edge (media function) DTLS certificates.
#   make-ca.sh sign-csr DIR CSR OUT [--ca root|other|mf] [--days N] [--expired|--not-yet-valid]
#       Issues a device certificate (PEM) for a CSR (PEM or DER). The CSR's extensions are
#       copied (its subjectAltName, e.g. URI:sip:alice@ims.example), then the device profile
#       replaces any of the same kind: CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
#       clientAuth+serverAuth.
#   make-ca.sh server DIR NAME OUTPREFIX [--ca ...] [--days N] [--expired|--not-yet-valid]
#       OUTPREFIX-key.pem + OUTPREFIX.pem: P-256 key, CN=NAME, SAN DNS:localhost (and DNS:NAME
#       when NAME is not localhost), serverAuth+clientAuth.
#   make-ca.sh device DIR IMPU OUTPREFIX [--ca ...] [--days N] [--expired|--not-yet-valid]
#       OUTPREFIX-key.pem + OUTPREFIX.pem: a key made by openssl and a device certificate
#       with SAN URI:IMPU, for tests that do not need the SDK's key generation.
#
# Validity: --days N (default 365) from now; --expired gives 2020-01-01..2020-01-02 (entirely
# in the past); --not-yet-valid gives 2099-01-01..2099-12-31. Serial numbers are random
# 64-bit. Output names are fixed by the arguments; nothing prompts. Exit 0 on success, 1 on
# failure, 2 on misuse, with a message on stderr.
set -euo pipefail

PROG=make-ca.sh
DEFAULT_DAYS=365
ROOT_DAYS=3650
EXPIRED_START=20200101000000Z
EXPIRED_END=20200102000000Z
FUTURE_START=20990101000000Z
FUTURE_END=20991231235959Z

usage() {
  cat >&2 <<EOF
usage: $PROG init DIR
       $PROG sign-csr DIR CSR OUT [--ca root|other|mf] [--days N] [--expired|--not-yet-valid]
       $PROG server DIR NAME OUTPREFIX [--ca root|other|mf] [--days N] [--expired|--not-yet-valid]
       $PROG device DIR IMPU OUTPREFIX [--ca root|other|mf] [--days N] [--expired|--not-yet-valid]
EOF
}
misuse() { echo "$PROG: $*" >&2; usage; exit 2; }
die() { echo "$PROG: $*" >&2; exit 1; }

command -v openssl >/dev/null 2>&1 || die "openssl is not installed (toolchains/install-deps.sh installs it)"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Runs openssl quietly; on failure shows what it said and stops.
ossl() {
  if ! openssl "$@" >"$TMP/ossl.log" 2>&1; then
    echo "$PROG: openssl $1 failed:" >&2
    sed 's/^/  /' "$TMP/ossl.log" >&2
    exit 1
  fi
}

new_key() { # OUT
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1"
}

random_serial() { openssl rand -hex 8; }

# The extension profiles, as an openssl config file.
write_profiles() { # FILE
  cat >"$1" <<'EOF'
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
}

# The profile of every issued (leaf) certificate; it replaces extensions of the same kind
# that a CSR asks for.
LEAF_EXTENSIONS='basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid'

# The ca config used only when the validity must be given as dates (openssl x509 in
# OpenSSL 3.0 has no -not_before/-not_after; openssl ca has -startdate/-enddate).
write_ca_config() { # FILE DBDIR
  cat >"$1" <<EOF
[ ca ]
default_ca = imsdc_test_ca
[ imsdc_test_ca ]
database = $2/index.txt
new_certs_dir = $2
serial = $2/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
email_in_dn = no
[ policy_any ]
commonName = optional
EOF
}

make_root() { # DIR BASENAME CN
  local dir=$1 base=$2 cn=$3
  if [[ -s $dir/$base.pem && -s $dir/$base-key.pem ]]; then
    return 0
  fi
  new_key "$TMP/$base-key.pem"
  write_profiles "$TMP/profiles.cnf"
  ossl req -new -x509 -config "$TMP/profiles.cnf" -extensions v3_root -key "$TMP/$base-key.pem" \
    -subj "/O=imsdc Test/CN=$cn" -days "$ROOT_DAYS" -sha256 -set_serial "0x$(random_serial)" \
    -out "$TMP/$base.pem"
  mv "$TMP/$base-key.pem" "$dir/$base-key.pem"
  mv "$TMP/$base.pem" "$dir/$base.pem"
}

ca_files() { # DIR CA -> sets CA_CERT CA_KEY
  local base
  case $2 in
    root) base=root ;;
    other) base=other-root ;;
    mf) base=mf-ca ;;
    *) misuse "--ca must be root, other or mf (got '$2')" ;;
  esac
  CA_CERT=$1/$base.pem
  CA_KEY=$1/$base-key.pem
  [[ -s $CA_CERT && -s $CA_KEY ]] || die "no CA '$2' in $1 (run: $PROG init $1)"
}

# Options shared by sign-csr, server and device. Sets POS (positional args), OPT_CA,
# OPT_DAYS, OPT_WINDOW (empty, expired or future).
parse_opts() {
  POS=()
  OPT_CA=root
  OPT_DAYS=$DEFAULT_DAYS
  OPT_WINDOW=
  local days_given=0
  while (($#)); do
    case $1 in
      --ca)
        (($# >= 2)) || misuse "--ca needs a value"
        OPT_CA=$2
        shift 2 ;;
      --days)
        (($# >= 2)) || misuse "--days needs a value"
        if ! [[ $2 =~ ^[0-9]{1,6}$ ]] || ((10#$2 < 1 || 10#$2 > 36500)); then
          misuse "--days takes a whole number of days from 1 to 36500 (for a certificate in the past use --expired)"
        fi
        OPT_DAYS=$((10#$2))
        days_given=1
        shift 2 ;;
      --expired) [[ -z $OPT_WINDOW ]] || misuse "give only one of --expired, --not-yet-valid"; OPT_WINDOW=expired; shift ;;
      --not-yet-valid) [[ -z $OPT_WINDOW ]] || misuse "give only one of --expired, --not-yet-valid"; OPT_WINDOW=future; shift ;;
      --) shift; POS+=("$@"); break ;;
      -*) misuse "unknown option $1" ;;
      *) POS+=("$1"); shift ;;
    esac
  done
  if [[ -n $OPT_WINDOW && $days_given == 1 ]]; then
    misuse "--days cannot be combined with --expired or --not-yet-valid"
  fi
}

# Issues a leaf certificate. CSR must be PEM. SAN_LINES (may be empty) are extra lines of a
# [ san ] section, e.g. "URI.1 = sip:alice@ims.example"; without them the CSR's
# subjectAltName is copied.
issue() { # CSR OUT SAN_LINES
  local csr=$1 out=$2 san=$3
  ca_files "$DIR" "$OPT_CA"
  {
    echo "[ leaf ]"
    printf '%s\n' "$LEAF_EXTENSIONS"
    if [[ -n $san ]]; then
      echo "subjectAltName = @san"
      echo "[ san ]"
      printf '%s\n' "$san"
    fi
  } >"$TMP/leaf.cnf"
  if [[ -z $OPT_WINDOW ]]; then
    ossl x509 -req -in "$csr" -CA "$CA_CERT" -CAkey "$CA_KEY" -set_serial "0x$(random_serial)" \
      -days "$OPT_DAYS" -sha256 -copy_extensions copy -extfile "$TMP/leaf.cnf" -extensions leaf \
      -out "$TMP/issued.pem"
  else
    local start end
    if [[ $OPT_WINDOW == expired ]]; then start=$EXPIRED_START end=$EXPIRED_END
    else start=$FUTURE_START end=$FUTURE_END; fi
    mkdir -p "$TMP/db"
    : >"$TMP/db/index.txt"
    random_serial >"$TMP/db/serial"
    write_ca_config "$TMP/ca.cnf" "$TMP/db"
    ossl ca -batch -config "$TMP/ca.cnf" -cert "$CA_CERT" -keyfile "$CA_KEY" -in "$csr" \
      -startdate "$start" -enddate "$end" -extfile "$TMP/leaf.cnf" -extensions leaf \
      -notext -preserveDN -out "$TMP/issued.pem"
  fi
  mv "$TMP/issued.pem" "$out"
}

check_dir() { # DIR
  [[ -d $1 ]] || die "directory $1 does not exist"
}

check_out_parent() { # PATH
  local parent
  parent=$(dirname -- "$1")
  [[ -d $parent ]] || die "output directory $parent does not exist"
}

# openssl -subj value: escape the characters it treats as separators.
subj_escape() { printf '%s' "$1" | sed 's/[\\/+=,]/\\&/g'; }

cmd_init() {
  (($# == 1)) || misuse "init takes exactly one argument: DIR"
  DIR=$1
  mkdir -p -- "$DIR"
  make_root "$DIR" root "imsdc Test Operator Root CA"
  make_root "$DIR" other-root "imsdc Test Other CA"
  make_root "$DIR" mf-ca "imsdc Test Media Function CA"
}

cmd_sign_csr() {
  parse_opts "$@"
  ((${#POS[@]} == 3)) || misuse "sign-csr takes DIR CSR OUT"
  DIR=${POS[0]}
  local csr=${POS[1]} out=${POS[2]}
  check_dir "$DIR"
  [[ -s $csr ]] || die "CSR file $csr is missing or empty"
  check_out_parent "$out"
  write_profiles "$TMP/profiles.cnf"
  local form=DER
  if grep -q -- '-----BEGIN' "$csr" 2>/dev/null; then form=PEM; fi
  if ! openssl req -inform "$form" -in "$csr" -outform PEM -out "$TMP/csr.pem" >"$TMP/ossl.log" 2>&1; then
    die "$csr is not a PEM or DER certificate request"
  fi
  # OpenSSL 3.0's "req -verify" exits 0 even when the signature is bad: read what it says.
  if ! openssl req -in "$TMP/csr.pem" -verify -noout >"$TMP/ossl.log" 2>&1 \
    || ! grep -q 'verify OK' "$TMP/ossl.log" || grep -qi 'fail' "$TMP/ossl.log"; then
    die "the signature of the certificate request $csr does not verify"
  fi
  issue "$TMP/csr.pem" "$out" ""
}

cmd_server() {
  parse_opts "$@"
  ((${#POS[@]} == 3)) || misuse "server takes DIR NAME OUTPREFIX"
  DIR=${POS[0]}
  local name=${POS[1]} prefix=${POS[2]}
  check_dir "$DIR"
  [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || misuse "NAME must be a DNS name (got '$name')"
  check_out_parent "$prefix"
  write_profiles "$TMP/profiles.cnf"
  local san="DNS.1 = localhost"
  [[ $name == localhost ]] || san+=$'\n'"DNS.2 = $name"
  new_key "$TMP/key.pem"
  ossl req -new -config "$TMP/profiles.cnf" -key "$TMP/key.pem" -subj "/O=imsdc Test/CN=$name" \
    -out "$TMP/req.pem"
  issue "$TMP/req.pem" "$TMP/cert.pem" "$san"
  mv "$TMP/key.pem" "$prefix-key.pem"
  mv "$TMP/cert.pem" "$prefix.pem"
}

cmd_device() {
  parse_opts "$@"
  ((${#POS[@]} == 3)) || misuse "device takes DIR IMPU OUTPREFIX"
  DIR=${POS[0]}
  local impu=${POS[1]} prefix=${POS[2]}
  check_dir "$DIR"
  # No blanks, and none of  # $ \ "  (special in openssl config values).
  local uri_re='^[A-Za-z][A-Za-z0-9+.-]*:[^[:space:][:cntrl:]#$\\"]+$'
  [[ $impu =~ $uri_re ]] \
    || misuse "IMPU must be a URI such as sip:alice@ims.example or tel:+15551234, without blanks or # \$ \\ \" (got '$impu')"
  check_out_parent "$prefix"
  write_profiles "$TMP/profiles.cnf"
  local cn=$impu
  ((${#cn} <= 64)) || cn="imsdc test device"
  new_key "$TMP/key.pem"
  ossl req -new -config "$TMP/profiles.cnf" -key "$TMP/key.pem" \
    -subj "/O=imsdc Test/CN=$(subj_escape "$cn")" -out "$TMP/req.pem"
  issue "$TMP/req.pem" "$TMP/cert.pem" "URI.1 = $impu"
  mv "$TMP/key.pem" "$prefix-key.pem"
  mv "$TMP/cert.pem" "$prefix.pem"
}

(($# >= 1)) || { usage; exit 2; }
cmd=$1
shift
case $cmd in
  init) cmd_init "$@" ;;
  sign-csr) cmd_sign_csr "$@" ;;
  server) cmd_server "$@" ;;
  device) cmd_device "$@" ;;
  -h|--help|help) usage; exit 0 ;;
  *) misuse "unknown command '$cmd'" ;;
esac
