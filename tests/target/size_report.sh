#!/usr/bin/env bash
# Footprint of imsdc's portable core on Cortex-M4F (-Os, arm-none-eabi-gcc, newlib-nano):
# text/data/bss per module and for the dependencies, against the budget of <= 96 KiB text for
# imsdc's own core (without mbedTLS and cJSON).
#
# Builds (or reuses) build/cortexm (tests/target, toolchains/arm-none-eabi-cortex-m4.cmake) and
# reads the linker map of its footprint image, imsdc_footprint.elf: every object of the core
# linked whole and without --gc-sections, so all of the core is counted, and code that several
# modules instantiate (std::string, std::vector) is counted once, in the first module that
# pulled it in. Dependencies count what the core references. Ends with tests/target/ram_report.sh
# when it exists.
#
# usage: tests/target/size_report.sh [BUILD_DIR]      (default build/cortexm)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
BUILD=${1:-build/cortexm}
BUDGET=$((96 * 1024))

bash toolchains/build-cortexm-deps.sh build/deps/cortexm >&2
if [[ ! -f $BUILD/build.ninja && ! -f $BUILD/Makefile ]]; then
  cmake -S tests/target -B "$BUILD" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/toolchains/arm-none-eabi-cortex-m4.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel >&2
fi
cmake --build "$BUILD" -j2 --target imsdc_footprint >&2
MAP=$BUILD/imsdc_footprint.elf.map
[[ -f $MAP ]] || { echo "size_report: no $MAP" >&2; exit 1; }

compiler=$(arm-none-eabi-gcc --version | head -n 1)
mbedtls=$(sed -n 's/^mbedtls=//p' build/deps/cortexm/.imsdc-cortexm-stamp 2>/dev/null || echo '?')
cjson=$(sed -n 's/^cjson=//p' build/deps/cortexm/.imsdc-cortexm-stamp 2>/dev/null || echo '?')

# Input sections of the map: " .text.name 0xADDR 0xSIZE file" (the name may sit alone on the
# line before). The output section decides text (code, rodata, tables), data or bss.
awk -v budget="$BUDGET" -v compiler="$compiler" -v mbedtls="$mbedtls" -v cjson="$cjson" '
  function module(file) {
    if (file ~ /libimsdc_cm_[a-z]+\.a\(/) { m = file; sub(/.*libimsdc_cm_/, "", m); sub(/\.a\(.*/, "", m); return m }
    if (file ~ /libimsdc_port_baremetal\.a\(/) return "port"
    if (file ~ /libmbedcrypto\.a\(/) return "mbedtls-crypto"
    if (file ~ /libmbedx509\.a\(/) return "mbedtls-x509"
    if (file ~ /libmbedtls\.a\(/) return "mbedtls-tls"
    if (file ~ /libcjson\.a\(/) return "cjson"
    return "libc/libstdc++/startup"
  }
  function hex(s,   v, i, c) {
    v = 0; s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
    return v
  }
  function add(file, size,   m) {
    if (out == "") return
    m = module(file)
    if (out == "bss" && file ~ /libimsdc_port_baremetal\.a\(arena/) m = "arena"
    if (out == "data") data[m] += size; else if (out == "bss") bss[m] += size; else text[m] += size
  }
  /^Linker script and memory map/ { inmap = 1; next }
  !inmap { next }
  /^\.data/ { out = "data" } /^\.bss/ { out = "bss" }
  /^\.(isr_vector|text|ARM|preinit_array|init_array|fini_array)/ { out = "text" }
  /^\.(comment|debug|ARM\.attributes|stab)/ { out = "" }
  /^ \*fill\*/ { next }
  /^ [^ ]+$/ { pending = 1; next }   # a long section name alone; its numbers follow
  /^ +[^ ]* *0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]/ {
    n = split($0, f, " ")
    file = f[n]; size = hex(f[n - 1])
    if (f[n - 2] !~ /^0x/) { pending = 0; next }
    if (file ~ /\.(o|obj)\)?$/) add(file, size)
    pending = 0
  }
  END {
    split("base crypto sip sdp dc avatar identity port", core, " ")
    names["base"] = "base (status, codecs, log, alloc)"
    names["crypto"] = "crypto (keys, x509, JOSE, AEAD)"
    names["sip"] = "sip (parser, builder, auth, txn, reg, calls)"
    names["sdp"] = "sdp (parse, write, offer/answer)"
    names["dc"] = "dc parsers (STUN, DCEP, ClientHello)"
    names["avatar"] = "avatar (tokens, JWE, manifest, ...)"
    names["identity"] = "identity (PASSporT, RCD, JCS)"
    names["port"] = "port (sdk/src/port + ports/baremetal)"
    printf "imsdc footprint, Cortex-M4F -Os (%s)\n", compiler
    printf "mbedTLS %s (ports/baremetal/mbedtls_config.h), cJSON %s, newlib-nano\n\n", mbedtls, cjson
    printf "%-46s %9s %7s %7s\n", "module", "text", "data", "bss"
    for (i = 1; i <= 8; i++) {
      m = core[i]
      printf "%-46s %9d %7d %7d\n", names[m], text[m], data[m], bss[m]
      tt += text[m]; td += data[m]; tb += bss[m]
    }
    printf "%-46s %9d %7d %7d\n", "imsdc core total", tt, td, tb
    printf "\n%-46s %9s %7s %7s\n", "dependencies", "text", "data", "bss"
    split("mbedtls-crypto mbedtls-x509 mbedtls-tls cjson", deps, " ")
    for (i = 1; i <= 4; i++) {
      m = deps[i]; printf "%-46s %9d %7d %7d\n", m, text[m], data[m], bss[m]
      dt += text[m]
    }
    m = "libc/libstdc++/startup"; printf "%-46s %9d %7d %7d\n", m, text[m], data[m], bss[m]
    printf "%-46s %9s %7s %7d\n", "allocator arena (IMSDC_BAREMETAL_ARENA_SIZE)", "-", "-", bss["arena"]
    printf "\nbudget: imsdc core text %d bytes (%.1f KiB) vs <= %d bytes (96 KiB): ", tt, tt / 1024, budget
    if (tt <= budget) printf "MET\n"; else printf "NOT MET, over by %d bytes (%.1f KiB)\n", tt - budget, (tt - budget) / 1024
  }
' "$MAP"

# The dependency archives as built (everything the lean config enables, e.g. the DTLS stack
# that sdk/src/dc/dtls.cpp uses, which is not part of the portable core above).
echo
printf '%-46s %9s %7s %7s\n' "dependency archives as built (lean config)" text data bss
for lib in mbedcrypto mbedx509 mbedtls cjson; do
  read -r t d b _ < <(arm-none-eabi-size -t "build/deps/cortexm/lib/lib$lib.a" | tail -n 1)
  printf '%-46s %9s %7s %7s\n' "lib$lib.a" "$t" "$d" "$b"
done

if [[ -f tests/target/ram_report.sh ]]; then
  echo
  bash tests/target/ram_report.sh
fi
