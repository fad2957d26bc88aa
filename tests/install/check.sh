#!/usr/bin/env bash
# Installs a build of imsdc into a temporary prefix and builds a consumer against it twice:
# with find_package(imsdc) (CMake package + exported targets) and with pkg-config. Both
# consumers must run. Usage: tests/install/check.sh BUILD_DIR (a non-sanitized build)
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
cmake -S "$HERE" -B "$T/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$T/prefix" >/dev/null
cmake --build "$T/cmake" >/dev/null
"$T/cmake/consumer" | grep -q ' Zm9v 1$'
echo "ok: find_package(imsdc) consumer"
export PKG_CONFIG_PATH=$T/prefix/lib/pkgconfig
# shellcheck disable=SC2046
c++ -std=c++17 "$HERE/main.cpp" -o "$T/pc-consumer" $(pkg-config --cflags --libs --static imsdc)
"$T/pc-consumer" | grep -q ' Zm9v 1$'
echo "ok: pkg-config consumer"
