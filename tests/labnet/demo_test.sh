#!/usr/bin/env bash
# The end-to-end test (ctest labnet_demo, label "labnet"): samples/demo.sh with an already
# built imsdc, every scenario (main, wrong-avatar, tampered), no dependency installation.
#   demo_test.sh IMSDC
# Passes demo.sh's exit status through, and then checks that no secret reached what the
# processes wrote (logs, events): the signatures of UE-A's registration and enterprise
# tokens, the digest passwords of UE-B and the MF, private JWK members. On success the
# demo's work directory is removed (demo.sh keeps it for people reading the logs); on failure
# it is kept and named.
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
  leaks=0
  secrets=()
  for t in "$W/ue-a/registration.token" "$W/ue-a/enterprise.token"; do
    s=$(tr -d '\n' <"$t")
    secrets+=("${s##*.}") # the signature: unique to the token
  done
  for p in "$W/epcscf/passwords/bob" "$W/epcscf/passwords/mf"; do
    secrets+=("$(tr -d '\n' <"$p")")
  done
  for s in "${secrets[@]}"; do
    [[ ${#s} -ge 8 ]] || { echo "demo_test.sh: a secret is too short to search for"; leaks=1; continue; }
    if grep -rlF -- "$s" "$W"/main "$W"/wrong-avatar "$W"/tampered; then
      echo "demo_test.sh: FAIL: a token or password appears in the files above"
      leaks=1
    fi
  done
  if grep -rlE '"d" *: *"' "$W"/main "$W"/wrong-avatar "$W"/tampered; then
    echo "demo_test.sh: FAIL: a private JWK member appears in the files above"
    leaks=1
  fi
  if ((leaks)); then
    echo "demo_test.sh: work directory kept: $W"
    exit 1
  fi
  echo "demo_test.sh: no token, password or private key in the logs and events"
  rm -rf -- "$W"
elif [[ -n $W ]]; then
  echo "demo_test.sh: demo.sh exited $rc; work directory kept: $W"
fi
exit "$rc"
