#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
top=$(cd "$(dirname "$0")/.." && pwd)

# Keep package postinst scripts from starting services: we start servers ourselves, by PID.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
fi

packages=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config git curl ca-certificates procps
  clang llvm lld libclang-rt-14-dev
  # eBPF
  libbpf-dev bpftool libelf-dev zlib1g-dev libcapstone-dev
  # libraries
  libboost1.81-dev libboost-program-options1.81-dev libssl-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libsnappy-dev libzstd-dev liblz4-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libpq-dev libmariadb-dev libhiredis-dev
  # real servers for the platform and its tests
  prometheus prometheus-node-exporter clickhouse-server clickhouse-client
  postgresql-15 postgresql-contrib mariadb-server mariadb-client redis-server redis-tools
  memcached libmemcached-tools
  # message brokers and ZooKeeper with their Python clients (agent_tracer_l7_brokers_bpf_test)
  nats-server rabbitmq-server zookeeper python3-pika python3-kazoo
  # test tools
  python3 iproute2 nftables
  python3-dbus python3-gi  # stand-in for systemd's private D-Bus socket (agent_containers_cgroup_test)
  dnsmasq-base bind9-dnsutils  # DNS tracing test: a local dnsmasq, dig (no dnsmasq service)
  bpftrace  # baseline of bench/l7_tracer_bench
  # container runtimes started by hand in the container-discovery tests
  docker.io containerd runc busybox-static
)
# Node.js and npm (for libchdb and the UI): the machine's own if present, Debian's otherwise.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# Go (builds tests/profiles/workload.go for the profiles integration test): the machine's own if
# present (/usr/local/go), Debian's golang-go otherwise (its runtime/pprof is enough).
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || packages+=(golang-go)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kernel filesystems the eBPF agent needs.
mountpoint -q /sys/fs/bpf        || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "setup: cannot mount bpffs"
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || echo "setup: cannot mount tracefs"
mountpoint -q /sys/kernel/debug  || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || echo "setup: cannot mount debugfs"

# Embedded ClickHouse engine (libchdb) from npm, kept outside the source tree.
"$top/scripts/install-libchdb.sh"

# The OpenTelemetry JS SDK used by the OTLP integration test (pinned by package-lock.json).
if [ ! -d "$top/tests/otel/node_modules" ]; then
  (cd "$top/tests/otel" && npm ci --no-audit --no-fund >/dev/null)
fi
echo "setup: done"
