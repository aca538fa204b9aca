#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test: unit, fuzz-corpus replays, and integration
# tests with real servers (Prometheus, ClickHouse, ...). Ends with CTest's summary.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
t0=$(date +%s)
"$top/scripts/build.sh"
echo "build took $(( $(date +%s) - t0 )) s"
cd "${BUILD_DIR:-$top/build}"
ctest --output-on-failure --timeout 600 -j "${CTEST_JOBS:-2}" "$@"
