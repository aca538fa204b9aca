#!/usr/bin/env bash
# Fetches libchdb.so (the embedded ClickHouse engine) from npm into $CHDB_DIR. Idempotent.
set -euo pipefail
CHDB_VERSION=${CHDB_VERSION:-26.7.3-stable.1}
CHDB_DIR=${CHDB_DIR:-/opt/chdb}
if [ -f "$CHDB_DIR/libchdb.so" ] && [ "$(cat "$CHDB_DIR/VERSION" 2>/dev/null)" = "$CHDB_VERSION" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "setup: fetching @chdb/lib-linux-x64-gnu@$CHDB_VERSION from npm"
(cd "$work" && npm pack --silent "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >/dev/null)
mkdir -p "$CHDB_DIR"
tar -xzf "$work"/*.tgz -C "$work"
mv "$work/package/libchdb.so" "$CHDB_DIR/libchdb.so.tmp"
mv "$CHDB_DIR/libchdb.so.tmp" "$CHDB_DIR/libchdb.so"
echo "$CHDB_VERSION" > "$CHDB_DIR/VERSION"
