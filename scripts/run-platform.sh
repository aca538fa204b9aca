#!/usr/bin/env bash
# Sets up, builds and starts the whole platform on this machine: Prometheus (with its remote-write
# receiver), the coroot server and the node agent pushing to it. Ctrl-C stops everything it started.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=${COROOT_RUN_DIR:-/tmp/coroot-run}
prom_port=${PROMETHEUS_PORT:-9090}
server_port=${COROOT_PORT:-8080}
agent_port=${AGENT_PORT:-10300}

"$top/scripts/setup.sh"
"$top/scripts/build.sh"
build=${BUILD_DIR:-$top/build}
mkdir -p "$run/prometheus" "$run/server" "$run/agent" "$run/logs"

pids=()
stop() {
  echo; echo "stopping..."
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped"
}
trap stop EXIT
trap 'exit 130' INT TERM

wait_http() {  # wait_http URL NAME
  for _ in $(seq 1 200); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$2 did not start; see $run/logs/$2.log" >&2; exit 1
}

cat > "$run/prometheus/prometheus.yml" <<YML
global: {scrape_interval: 15s, evaluation_interval: 15s}
YML
prometheus --config.file="$run/prometheus/prometheus.yml" --storage.tsdb.path="$run/prometheus/data" \
  --web.listen-address=127.0.0.1:$prom_port --web.enable-remote-write-receiver \
  --storage.tsdb.retention.time=2d > "$run/logs/prometheus.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$prom_port/-/ready" prometheus

"$build/server/coroot" --listen=127.0.0.1:$server_port --data-dir="$run/server" \
  --bootstrap-prometheus-url=http://127.0.0.1:$prom_port > "$run/logs/coroot.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$server_port/health" coroot

"$build/agent/coroot-node-agent" --listen=127.0.0.1:$agent_port \
  --collector-endpoint=http://127.0.0.1:$server_port --wal-dir="$run/agent" > "$run/logs/coroot-node-agent.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$agent_port/health" coroot-node-agent

cat <<TXT

The platform is running:
  coroot server        http://127.0.0.1:$server_port   (health: /health, self-metrics: /metrics)
                       read API: log in as admin (empty password unless AUTH_BOOTSTRAP_ADMIN_PASSWORD was set):
                       curl -c jar -d '{"email":"admin","password":""}' http://127.0.0.1:$server_port/api/login
                       curl -b jar 'http://127.0.0.1:$server_port/api/v1/logs'
  node agent metrics   http://127.0.0.1:$agent_port/metrics   (pushed to the server every 15 s)
  Prometheus           http://127.0.0.1:$prom_port/graph?g0.expr=node_resources_cpu_usage_seconds_total
  logs                 $run/logs/
Press Ctrl-C to stop everything.
TXT
wait -n "${pids[@]}" || true
echo "a component exited; see $run/logs/" >&2
