#!/usr/bin/env bash
# RAM per call for each configuration preset (configs/*.h): the heap one IMS data-channel
# call holds with the bootstrap channels (streams 0 and 10) and one application channel open,
# split into SDK-owned bytes (what reaches the allocator hook, imsdc/alloc.h), usrsctp and
# mbedTLS, with the settings that bound each. Measured on the host by
# tests/target/ram_per_call.cpp (see its header for how bytes are attributed).
#
# usage: tests/target/ram_report.sh [PRESET...]     (default: handset deskphone tiny)
# Env:   IMSDC_RAM_BUDGET_TINY  SDK-owned budget per call for "tiny", bytes (default 32768)
#        JOBS                   parallel build jobs (default 2)
#
# Builds only what it needs in build/preset-<name> (the CMake preset's directory: core, fake
# port and the measuring program). Prints one table; exits 1 when a measurement failed its
# own consistency checks, 2 when the tiny budget is not met, else 0.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1

PRESETS=("$@")
((${#PRESETS[@]})) || PRESETS=(handset deskphone tiny)
BUDGET_TINY=${IMSDC_RAM_BUDGET_TINY:-32768}
JOBS=${JOBS:-2}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

status=0
for p in "${PRESETS[@]}"; do
  dir=build/preset-$p
  if [[ ! -f $dir/build.ninja ]]; then
    cmake --preset "$p" >/dev/null || { echo "ram_report: configure $p failed" >&2; exit 1; }
  fi
  cmake --build "$dir" -j"$JOBS" --target imsdc_ram_per_call >/dev/null \
    || { echo "ram_report: build $p failed" >&2; exit 1; }
  if ! "$dir/tests/imsdc_ram_per_call" --preset "$p" --tsv >>"$OUT"; then
    echo "ram_report: $p: the measurement failed its consistency checks" >&2
    status=1
  fi
done

kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
# value PRESET OWNER SIDE COLUMN (4 = live, 5 = peak)
value() { awk -F'\t' -v p="$1" -v o="$2" -v s="$3" -v c="$4" '$1 == p && $2 == o && $3 == s { print $c }' "$OUT"; }
setting() { awk -F'\t' -v p="$1" -v k="$2" '$1 == p && $2 == "settings" {
  n = split($3, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], x, "="); if (x[1] == k) print x[2] } }' "$OUT"; }

echo "RAM per call (one UE's side of a call: bootstrap channels 0 and 10 + one application channel"
echo "open, after a bootstrap GET and one message each way); KiB, live at rest / peak during set-up"
echo
printf '| preset | DC max msg / channels | SDK-owned (hook) | usrsctp per association | usrsctp process-wide | mbedTLS per association | SDK budget |\n'
printf '|---|---|---|---|---|---|---|\n'
for p in "${PRESETS[@]}"; do
  grep -q "^$p	sdk	ue-a" "$OUT" || continue
  # The larger of the two sides (offerer/DTLS server A, answerer/DTLS client B).
  sdk=0 sdk_peak=0 sctp=0 sctp_peak=0 tls=0 tls_peak=0
  for side in ue-a ue-b; do
    v=$(value "$p" sdk "$side" 4); ((v > sdk)) && sdk=$v
    v=$(value "$p" sdk "$side" 5); ((v > sdk_peak)) && sdk_peak=$v
    v=$(value "$p" usrsctp "$side" 4); ((v > sctp)) && sctp=$v
    v=$(value "$p" usrsctp "$side" 5); ((v > sctp_peak)) && sctp_peak=$v
    v=$(value "$p" mbedtls "$side" 4); ((v > tls)) && tls=$v
    v=$(value "$p" mbedtls "$side" 5); ((v > tls_peak)) && tls_peak=$v
  done
  sctp_global=$(value "$p" usrsctp global 4)
  budget="-"
  if [[ $p == tiny ]]; then
    if ((sdk <= BUDGET_TINY)); then
      budget="met (≤ $(kib "$BUDGET_TINY"))"
    else
      budget="NOT met: +$(kib $((sdk - BUDGET_TINY))) over $(kib "$BUDGET_TINY")"
      ((status == 0)) && status=2
    fi
  fi
  printf '| %s | %s B / %s | %s / %s | %s / %s | %s | %s / %s | %s |\n' "$p" \
    "$(setting "$p" dc_max_message)" "$(setting "$p" dc_max_channels)" \
    "$(kib "$sdk")" "$(kib "$sdk_peak")" "$(kib "$sctp")" "$(kib "$sctp_peak")" \
    "$(kib "$sctp_global")" "$(kib "$tls")" "$(kib "$tls_peak")" "$budget"
done
echo
first=${PRESETS[0]}
echo "Bounded by: usrsctp per association: AssociationConfig::max_streams ($(setting "$first" max_streams)"
echo "streams each way, state for every stream is allocated at association set-up; application"
echo "channels start at stream id 1000, TS 26.114) and SO_SNDBUF/SO_RCVBUF (limits, not"
echo "preallocated). mbedTLS per association: MBEDTLS_SSL_IN_CONTENT_LEN/OUT_CONTENT_LEN"
echo "($(setting "$first" mbedtls_in)/$(setting "$first" mbedtls_out) in Debian's build) for the record buffers, plus the handshake"
echo "(certificates, ECDHE) at peak. SDK-owned: the receive piece buffer, the DTLS plaintext"
echo "buffer (MBEDTLS_SSL_IN_CONTENT_LEN), queues and the channel table (IMSDC_DC_MAX_CHANNELS)."
for p in "${PRESETS[@]}"; do
  c=$(awk -F'\t' -v p="$p" '$1 == p && $2 == "check" { print $3 }' "$OUT")
  [[ -n $c ]] && echo "check $p: $c"
done
if [[ " ${PRESETS[*]} " == *" tiny "* ]] && [[ -x build/preset-tiny/tests/imsdc_ram_per_call ]]; then
  echo
  echo "Largest SDK-owned blocks with tiny (one side):"
  build/preset-tiny/tests/imsdc_ram_per_call --preset tiny --top 4 2>&1 >/dev/null \
    | awk '/largest live SDK blocks/ { on = 1; next } /live blocks after/ { on = 0 } on && / ue-a / { print "  " $0 }'
fi
exit "$status"
