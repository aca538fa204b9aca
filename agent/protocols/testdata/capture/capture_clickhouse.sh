#!/usr/bin/env bash
# Captures ../real/clickhouse_native.bin: Debian's clickhouse-server 18.16 on a free loopback port,
# clickhouse-client (native protocol, port 9000-style) through relay.py. See capture.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/../real
TMP=$(mktemp -d /tmp/l7capture-ch.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CP=$(port); HP=$(port)
mkdir -p "$TMP"/{data,tmp,user_files,log}
cat > "$TMP/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$TMP/log/server.log</log><errorlog>$TMP/log/server.err.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$HP</http_port>
  <tcp_port>$CP</tcp_port>
  <path>$TMP/data/</path>
  <tmp_path>$TMP/tmp/</tmp_path>
  <user_files_path>$TMP/user_files/</user_files_path>
  <users_config>$TMP/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
</yandex>
XML
cat > "$TMP/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
/usr/sbin/clickhouse-server --config-file="$TMP/config.xml" > "$TMP/server.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$HP/ping" > /dev/null && break; sleep 0.05; done
R=$(port)
python3 "$HERE/relay.py" "$R" "$CP" "$OUT/clickhouse_native.bin" --connections 2 > "$TMP/relay.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do grep -q ready "$TMP/relay.log" 2>/dev/null && break; sleep 0.05; done
clickhouse-client --host 127.0.0.1 --port "$R" --query "SELECT 1 AS one" > /dev/null
clickhouse-client --host 127.0.0.1 --port "$R" --query "SELECT * FROM no_such_table" > /dev/null 2>&1 || true
sleep 0.3
ls -l "$OUT/clickhouse_native.bin"
