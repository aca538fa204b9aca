#!/usr/bin/env bash
# Configures and builds everything into ${BUILD_DIR:-build} (CMake + Ninja).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
ninja -C "$build" ${NINJA_FLAGS:-}
