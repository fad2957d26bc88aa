#!/usr/bin/env bash
# Runs test_capi against fresh fixtures (make_fixtures.sh) in a temporary directory.
#   run_test_capi.sh TEST_CAPI
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/imsdc-capi-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
bash "$HERE/make_fixtures.sh" "$T"
"$1" "$T"
