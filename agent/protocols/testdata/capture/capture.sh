#!/usr/bin/env bash
# Re-captures the real-traffic fixtures in ../real/: starts each real server on a free loopback port
# under a temp dir, runs a real client through relay.py, stops everything by PID.
# Needs (Debian 12): redis-server redis-tools memcached libmemcached-tools postgresql-15 mariadb-server
# mariadb-client curl python3. Run as root (postgres/mariadb run as their own users).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/../real
TMP=$(mktemp -d /tmp/l7capture.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not up" >&2; return 1; }
# relay <upstream_port> <out> <connections> : starts the relay on port $R (ready = it printed "ready";
# probing the port would be recorded as a connection)
relay() {
  R=$(port)
  python3 "$HERE/relay.py" "$R" "$1" "$2" --connections "$3" > "$TMP/relay.$R.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q ready "$TMP/relay.$R.log" 2>/dev/null && return 0; sleep 0.05; done
  echo "relay not up" >&2; return 1
}
mkdir -p "$OUT"

# ---- HTTP/1.1: python3 http.server, curl ----
HP=$(port); mkdir -p "$TMP/www"; echo hello > "$TMP/www/index.html"
(cd "$TMP/www" && exec python3 -m http.server "$HP" --bind 127.0.0.1) > "$TMP/http.log" 2>&1 & PIDS+=($!)
wait_port "$HP"
relay "$HP" "$OUT/http_get_ok.bin" 1; curl -s -o /dev/null "http://127.0.0.1:$R/index.html?lang=en&x=1"
relay "$HP" "$OUT/http_get_404.bin" 1; curl -s -o /dev/null "http://127.0.0.1:$R/missing/page"
relay "$HP" "$OUT/http_post_501.bin" 1; curl -s -o /dev/null -d 'a=1' "http://127.0.0.1:$R/api/v1/items"

# ---- Redis 7: redis-cli (RESP2 and RESP3 via HELLO 3) ----
RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" > "$TMP/redis.log" 2>&1 & PIDS+=($!)
wait_port "$RP"
# One redis-cli per command (non-interactive mode sends only the command; the interactive mode
# would first fetch COMMAND DOCS).
redis_cmds=("SET user:1 alice" "GET user:1" "INCR user:1" "HSET h f1 v1 f2 v2" "NOSUCHCMD x" "DEL user:1 h")
relay "$RP" "$OUT/redis_session.bin" ${#redis_cmds[@]}
for c in "${redis_cmds[@]}"; do redis-cli -p "$R" $c > /dev/null; done
redis3_cmds=("HGETALL nothing" "LPOP nothing" "CONFIG GET maxmemory" "GET")
relay "$RP" "$OUT/redis_resp3.bin" ${#redis3_cmds[@]}
for c in "${redis3_cmds[@]}"; do redis-cli -3 -p "$R" $c > /dev/null; done

# ---- memcached 1.6: libmemcached's memccat (get), and the text protocol typed by hand ----
MP=$(port)
memcached -l 127.0.0.1 -p "$MP" -U 0 -u nobody > "$TMP/memcached.log" 2>&1 & PIDS+=($!)
wait_port "$MP"
relay "$MP" "$OUT/memcached_session.bin" 1
python3 - "$R" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for line in [b"set greeting 0 60 5\r\nhello\r\n", b"get greeting missing\r\n", b"incr greeting 1\r\n",
             b"set counter 0 0 1\r\n7\r\n", b"incr counter 5\r\n", b"delete missing\r\n", b"bogus\r\n",
             b"touch counter 10\r\n", b"gets greeting counter\r\n"]:
    s.sendall(line); time.sleep(0.05); s.recv(4096)
s.close()
PY
relay "$MP" "$OUT/memcached_memccat.bin" 1
memccat --servers="127.0.0.1:$R" greeting > /dev/null || true

# ---- PostgreSQL 15: psql (simple query) and pgbench (libpq extended protocol, prepared) ----
PP=$(port); PG=$TMP/pg; mkdir -p "$PG/data" "$PG/run"; chown -R postgres:postgres "$PG"
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/initdb -D $PG/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" > "$TMP/initdb.log" 2>&1
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/postgres -D $PG/data -c listen_addresses=127.0.0.1 -c port=$PP -c unix_socket_directories=$PG/run" > "$TMP/pg.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do /usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -p "$PP" && break; sleep 0.1; done
export PGSSLMODE=disable PGGSSENCMODE=disable
relay "$PP" "$OUT/postgres_simple.bin" 1
psql -h 127.0.0.1 -p "$R" -U postgres -qAt -c "SELECT 1 AS one" -c "SELECT * FROM no_such_table" -c "CREATE TABLE t(id int, name text)" > /dev/null 2>&1 || true
/usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p "$PP" -U postgres -i -s 1 -q postgres > /dev/null 2>&1
relay "$PP" "$OUT/postgres_pgbench_prepared.bin" 2
/usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p "$R" -U postgres -n -M prepared -S -t 3 -c 1 postgres > /dev/null 2>&1
relay "$PP" "$OUT/postgres_pgbench_extended.bin" 2
/usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p "$R" -U postgres -n -M extended -S -t 2 -c 1 postgres > /dev/null 2>&1

# ---- MariaDB 10.11: the mariadb client (COM_QUERY) and a binary-protocol client (prepare/execute/close) ----
YP=$(port); MY=$TMP/my; mkdir -p "$MY/data" "$MY/run"; chown -R mysql:mysql "$MY"
mariadb-install-db --no-defaults --user=mysql --datadir="$MY/data" --auth-root-authentication-method=normal --skip-test-db > "$TMP/mdb-install.log" 2>&1
/usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MY/data" --socket="$MY/run/m.sock" --pid-file="$MY/run/m.pid" \
  --bind-address=127.0.0.1 --port="$YP" > "$TMP/mariadb.log" 2>&1 & PIDS+=($!)
wait_port "$YP"
relay "$YP" "$OUT/mysql_query.bin" 1
mariadb --protocol=tcp -h 127.0.0.1 -P "$R" -u root --skip-ssl -e "SELECT 1 AS one; SELECT * FROM mysql.no_such_table; SELECT @@version_comment" > /dev/null 2>&1 || true
relay "$YP" "$OUT/mysql_prepared.bin" 1
python3 "$HERE/mysql_binary_client.py" "$R"
echo "captured into $OUT:"; ls -l "$OUT"
