#!/usr/bin/env bash
# The single entry point for imsdc's tests (CI runs it through .ci/run).
#
# usage: tests/run.sh [--quick] [--no-aarch64] [--no-armhf] [--no-presets]
#   --quick       install only the base dependencies, build the dev preset and run its
#                 "unit" label only
#   --no-aarch64  skip the aarch64 tier (cross build, unit tests under qemu-aarch64)
#   --no-armhf    skip the armhf tier (cross build, unit tests under qemu-arm)
#   --no-presets  skip the configuration presets (configs/tiny.h, configs/deskphone.h)
#   (the cortex-m4 tier, on-target tests of the portable core under qemu-system-arm, runs
#   unless --quick)
# Environment: IMSDC_SKIP_DEPS=1 skips toolchains/install-deps.sh.
#
# Steps: install dependencies; configure + build the "dev" preset (build/dev); run each
# ctest label of LABELS in turn (a label without tests is skipped; tests carrying none of
# these labels run last as "other"); then configure + build the "aarch64" preset and run its
# "unit" label through the toolchain's CMAKE_CROSSCOMPILING_EMULATOR; the same for "armhf"
# (qemu-arm, configs/handset.h); then the "tiny" and "deskphone" configuration presets
# (build/preset-*: core + unit tests, host Release). Prints a table of
# suites and closes with one line "N passed, N failed". A failed step (dependencies,
# configure, build, a ctest run that ends abnormally) counts as one failed test. Exits 1
# when anything failed, 2 on a usage error.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

LABELS=(unit pkcs11 interop integration labnet)
JOBS=2

quick=0
aarch64=1
armhf=1
presets=1
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --no-aarch64) aarch64=0 ;;
    --no-armhf) armhf=0 ;;
    --no-presets) presets=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
((quick)) && { aarch64=0; armhf=0; presets=0; }

LOG_DIR=build/test-logs
mkdir -p "$LOG_DIR"

ROW_NAME=() ROW_TESTS=() ROW_PASSED=() ROW_FAILED=() ROW_SECONDS=()
STEP_FAILED=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
banner() { printf '\n=== %s\n' "$*"; }

add_row() { # NAME TESTS PASSED FAILED SECONDS
  ROW_NAME+=("$1") ROW_TESTS+=("$2") ROW_PASSED+=("$3") ROW_FAILED+=("$4") ROW_SECONDS+=("$5")
}

# Runs a build step; a failure becomes a row with one failed test. Returns the status.
step() { # NAME CMD...
  local name=$1 start rc
  shift
  banner "$name: $*"
  start=$(now)
  "$@"
  rc=$?
  STEP_SECONDS=$(elapsed "$start")
  if ((rc != 0)); then
    echo "run.sh: step '$name' failed (exit $rc)" >&2
    STEP_FAILED=1
    add_row "$name" 1 0 1 "$(elapsed "$start")"
  else
    echo "--- $name done in $(elapsed "$start") s"
  fi
  return "$rc"
}

# Number of tests that "ctest -N ARGS" lists.
count_tests() { # BUILD_DIR ARGS...
  local dir=$1
  shift
  ctest --test-dir "$dir" -N "$@" 2>/dev/null | awk '/^Total Tests:/ { n = $3 } END { print n + 0 }'
}

# Runs one ctest selection and records its counts, read from ctest's closing line
# "NN% tests passed, F tests failed out of T".
run_suite() { # NAME BUILD_DIR ARGS...
  local name=$1 dir=$2 n start rc log summary total failed secs
  shift 2
  n=$(count_tests "$dir" "$@")
  if ((n == 0)); then
    echo "--- $name: no tests, skipped"
    return 0
  fi
  log=$LOG_DIR/${name//\//-}.log
  banner "$name: $n tests (ctest --test-dir $dir $* --output-on-failure -j$JOBS)"
  start=$(now)
  ctest --test-dir "$dir" "$@" --output-on-failure -j"$JOBS" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  secs=$(elapsed "$start")
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -z $summary ]]; then
    echo "run.sh: $name: ctest printed no summary (exit $rc)" >&2
    STEP_FAILED=1
    add_row "$name" "$n" 0 "$n" "$secs"
    return 1
  fi
  failed=$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
  total=$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
  if ((rc != 0 && failed == 0)); then
    # ctest failed for another reason (e.g. a test that could not be started).
    echo "run.sh: $name: ctest exited $rc with no failed test; counted as one failure" >&2
    STEP_FAILED=1
    failed=1
    ((total >= 1)) || total=1
  fi
  add_row "$name" "$total" "$((total - failed))" "$failed" "$secs"
  ((failed == 0))
}

# --- dependencies ---
if [[ ${IMSDC_SKIP_DEPS:-0} != 1 ]]; then
  deps_groups=()
  ((quick)) && deps_groups=(base)
  step deps bash toolchains/install-deps.sh "${deps_groups[@]}"
fi

# --- dev (host, sanitizers) ---
if step dev/configure cmake --preset dev && step dev/build cmake --build --preset dev -j"$JOBS"; then
  if ((quick)); then
    run_suite dev/unit build/dev -L '^unit$'
  else
    known="^($(IFS='|'; echo "${LABELS[*]}"))\$"
    for label in "${LABELS[@]}"; do
      run_suite "dev/$label" build/dev -L "^$label\$"
    done
    run_suite dev/other build/dev -LE "$known"
  fi
fi

# --- static checks: architecture rules (grep), clang-format, clang-tidy ---
lint() {
  local bad
  # The core reaches the OS only through ports, and throws nothing.
  bad=$(grep -rnE '\bthrow\b|\btry[[:space:]]*\{|pthread_|[^_[:alnum:]]socket\(|[^_[:alnum:]]time\(|/dev/urandom' sdk/src \
        | grep -v '^sdk/src/port/' || true)
  [[ -z $bad ]] || { echo "core uses exceptions or OS calls outside sdk/src/port:"; echo "$bad"; return 1; }
  # No dependency header in the public API.
  bad=$(grep -rnE '#include[[:space:]]*[<"](mbedtls|usrsctp|libwebsockets|lws_|cjson|cJSON)' sdk/include || true)
  [[ -z $bad ]] || { echo "public header includes a dependency header:"; echo "$bad"; return 1; }
  # Formatting (.clang-format) of the code we own.
  git ls-files -co --exclude-standard -- 'sdk/*.h' 'sdk/*.cpp' 'platform/*.h' 'ports/*.h' 'ports/*.cpp' \
      'samples/*.h' 'samples/*.cpp' | xargs -r clang-format --dry-run -Werror || return 1
  # clang-tidy (.clang-tidy) over the core, with the dev build's compile commands.
  git ls-files -co --exclude-standard -- 'sdk/src/*.cpp' \
    | xargs -r -P"$JOBS" -n4 clang-tidy -p build/dev --quiet 2>&1 | grep -av 'warnings generated' \
    ; return "${PIPESTATUS[1]}"
}
if ((!quick)); then
  step lint lint && add_row lint 1 1 0 "$STEP_SECONDS"
fi

# --- release build, installed and consumed (find_package and pkg-config) ---
if ((!quick)); then
  if step release/configure cmake --preset release && step release/build cmake --build --preset release -j"$JOBS"; then
    step install bash tests/install/check.sh build/release && add_row install 2 2 0 "$STEP_SECONDS"
  fi
fi

# --- fuzz (clang + libFuzzer; each parser's fuzzer runs briefly) ---
if ((!quick)); then
  if step fuzz/configure cmake --preset fuzz && step fuzz/build cmake --build --preset fuzz -j"$JOBS"; then
    run_suite fuzz build/fuzz -L '^fuzz$'
  fi
fi

# --- aarch64 (cross, unit tests under qemu-aarch64) ---
if ((aarch64)); then
  if step aarch64/configure cmake --preset aarch64 && step aarch64/build cmake --build --preset aarch64 -j"$JOBS"; then
    run_suite aarch64/unit build/aarch64 -L '^unit$'
  fi
fi

# --- armhf (cross, unit tests under qemu-arm -L build/deps/armhf-sysroot) ---
# Built with configs/handset.h: this tier is also the handset preset's test.
if ((armhf)); then
  if step armhf/configure cmake --preset armhf && step armhf/build cmake --build --preset armhf -j"$JOBS"; then
    run_suite armhf/unit build/armhf -L '^unit$'
  fi
fi

# --- configuration presets (configs/*.h): core + unit tests + RAM-per-call check, host,
# Release, no sanitizers; handset is covered by the armhf tier above ---
if ((presets)); then
  for preset in tiny deskphone; do
    if step "$preset/configure" cmake --preset "$preset" \
        && step "$preset/build" cmake --build --preset "$preset" -j"$JOBS"; then
      # capi_unit needs the C API library, which these builds do not make.
      run_suite "$preset/unit" "build/preset-$preset" -L '^unit$' -E '^capi_'
    fi
  done
fi

# --- cortex-m4 (bare metal under qemu-system-arm) ---
# mbedTLS and cJSON from Debian's source packages (build/deps/cortexm), the portable core
# and tests/target's runner for Cortex-M4F (build/cortexm), run under QEMU mps2-an386.
if ((!quick)); then
  if step cortexm/deps bash toolchains/build-cortexm-deps.sh build/deps/cortexm \
    && step cortexm/configure cmake -S tests/target -B build/cortexm -G Ninja \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/toolchains/arm-none-eabi-cortex-m4.cmake" \
      -DCMAKE_BUILD_TYPE=MinSizeRel \
    && step cortexm/build cmake --build build/cortexm -j"$JOBS"; then
    run_suite cortexm/target build/cortexm -L '^target$'
    # The on-target runner's own summary line (ctest shows test output only on failure).
    grep -h -E '^[0-9]+ passed, [0-9]+ failed$' build/cortexm/Testing/Temporary/LastTest.log \
      | sed 's/^/cortexm runner under qemu-system-arm: /'
  fi
fi

# --- summary ---
total_passed=0
total_failed=0
banner "summary"
printf '%-22s %7s %7s %7s %9s\n' suite tests passed failed seconds
for i in "${!ROW_NAME[@]}"; do
  printf '%-22s %7s %7s %7s %9s\n' "${ROW_NAME[$i]}" "${ROW_TESTS[$i]}" "${ROW_PASSED[$i]}" \
    "${ROW_FAILED[$i]}" "${ROW_SECONDS[$i]}"
  total_passed=$((total_passed + ROW_PASSED[i]))
  total_failed=$((total_failed + ROW_FAILED[i]))
done
echo "$total_passed passed, $total_failed failed"

if ((total_failed > 0 || STEP_FAILED)); then
  exit 1
fi
exit 0
