#!/usr/bin/env bash
# The end-to-end test (ctest labnet_demo, label "labnet"): samples/demo.sh with an already
# built imsdc, every scenario (main, wrong-avatar, tampered), no dependency installation.
#   demo_test.sh IMSDC
# Passes demo.sh's exit status through. On success the demo's work directory is removed
# (demo.sh keeps it for people reading the logs); on failure it is kept and named.
set -uo pipefail
IMSDC=${1:?usage: demo_test.sh IMSDC}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
OUT=$(mktemp /tmp/imsdc-demo-test.XXXXXX)
trap 'rm -f "$OUT"' EXIT
bash "$ROOT/samples/demo.sh" --no-deps --imsdc "$IMSDC" --scenario all </dev/null 2>&1 | tee "$OUT"
rc=${PIPESTATUS[0]}
W=$(sed -n 's|^work directory: \(/tmp/imsdc-demo\.[A-Za-z0-9]*\)$|\1|p' "$OUT" | tail -n 1)
if ((rc == 0)) && [[ -n $W && -d $W ]]; then
  rm -rf -- "$W"
elif [[ -n $W ]]; then
  echo "demo_test.sh: demo.sh exited $rc; work directory kept: $W"
fi
exit "$rc"
