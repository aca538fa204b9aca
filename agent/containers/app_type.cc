#include "agent/containers/app_type.h"

#include "lib/base/strings.h"

namespace coroot::agent::containers {

namespace {

bool Contains(std::string_view s, std::string_view x) { return s.find(x) != std::string_view::npos; }

// "<anything><name><digits>[.<digits>]" at the end, e.g. python3.11, php8.2, node18, nodejs.
bool EndsWithVersioned(std::string_view s, std::string_view name) {
  size_t i = s.size();
  while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') i--;
  if (i > 0 && s[i - 1] == '.') {
    size_t j = i - 1;
    while (j > 0 && s[j - 1] >= '0' && s[j - 1] <= '9') j--;
    i = j;
  }
  return EndsWith(s.substr(0, i), name);
}

std::string ByInterpreter(std::string_view cmd) {
  if (EndsWithVersioned(cmd, "php")) return "php";
  if (EndsWithVersioned(cmd, "python")) return "python";
  if (EndsWithVersioned(cmd, "node") || EndsWithVersioned(cmd, "nodejs")) return "nodejs";
  if (EndsWithVersioned(cmd, "ruby")) return "ruby";
  return "";
}

}  // namespace

std::string GuessApplicationType(std::string_view cmdline, std::string_view exe) {
  std::string_view arg0 = cmdline.substr(0, cmdline.find('\0'));
  // The first word of argv[0] (some programs rewrite it as "nginx: master process ..."), minus a
  // trailing ':'.
  size_t b = 0;
  while (b < arg0.size() && (arg0[b] == ' ' || arg0[b] == '\t')) b++;
  size_t e = b;
  while (e < arg0.size() && arg0[e] != ' ' && arg0[e] != '\t') e++;
  std::string_view cmd = arg0.substr(b, e - b);
  if (!cmd.empty() && cmd.back() == ':') cmd.remove_suffix(1);
  if (!cmd.empty()) {
    auto ends = [cmd](std::string_view x) { return EndsWith(cmd, x); };
    auto has = [cmdline](std::string_view x) { return Contains(cmdline, x); };
    if (ends("coroot")) return "coroot-community-edition";
    if (ends("coroot-ee")) return "coroot-enterprise-edition";
    if (ends("coroot-node-agent")) return "coroot-node-agent";
    if (ends("coroot-cluster-agent")) return "coroot-cluster-agent";
    if (ends("coroot-operator")) return "coroot-operator";
    if (ends("memcached")) return "memcached";
    if (ends("envoy")) return "envoy";
    if (has("org.elasticsearch.bootstrap")) return "elasticsearch";
    if (has("org.opensearch.bootstrap")) return "opensearch";
    if (has("kafka.Kafka") || has("io.confluent.support.metrics.SupportedKafka")) return "kafka";
    if (ends("mongod")) return "mongodb";
    if (ends("mongos")) return "mongos";
    if (ends("mysqld") || ends("mariadbd")) return "mysql";
    if (has("org.apache.zookeeper.server.quorum.QuorumPeerMain")) return "zookeeper";
    if (ends("redis-server")) return "redis";
    if (ends("redis-sentinel")) return "redis-sentinel";
    if (ends("keydb-server")) return "keydb";
    if (ends("valkey-server")) return "valkey";
    if (ends("dragonfly")) return "dragonfly";
    if (ends("beam.smp") && has("rabbit")) return "rabbitmq";
    if (ends("beam.smp") && has("couch")) return "couchbase";
    if (ends("pgbouncer")) return "pgbouncer";
    if (ends("postgres")) return "postgres";
    if (ends("haproxy")) return "haproxy";
    if (ends("nginx")) return "nginx";
    if (ends("w3wp")) return "dotnet";
    if (ends("kubelet")) return "kubelet";
    if (ends("kube-apiserver")) return "kube-apiserver";
    if (ends("kube-controller-manager")) return "kube-controller-manager";
    if (ends("kube-scheduler")) return "kube-scheduler";
    if (ends("k3s")) return "k3s";
    if (ends("etcd")) return "etcd";
    if (ends("dockerd")) return "dockerd";
    if (ends("consul")) return "consul";
    if (has("org.apache.cassandra.service.CassandraDaemon")) return "cassandra";
    if (ends("clickhouse-server")) return "clickhouse";
    if (ends("traefik")) return "traefik";
    if (ends("asd")) return "aerospike";
    if (ends("httpd")) return "httpd";
    if (ends("influxd")) return "influxdb";
    if (has("org.apache.catalina.startup.Bootstrap")) return "tomcat";
    if (ends("vault")) return "vault";
    if (ends("proxysql")) return "proxysql";
    if (ends("cockroach")) return "cockroach";
    if (ends("prometheus")) return "prometheus";
    if (ends("ceph-mon") || ends("ceph-mgr") || ends("ceph-osd") || ends("cephcsi")) return "ceph";
    if (ends("rook")) return "rook";
    if (ends("nats-server")) return "nats";
    if (ends("ollama")) return "ollama";
    if (ends("fdbserver")) return "foundationdb";
    if (ends("java")) return "java";
    if (Contains(cmd, "victoria-metrics") || Contains(cmd, "vmstorage") || Contains(cmd, "vminsert") ||
        Contains(cmd, "vmselect"))
      return "victoria-metrics";
    if (Contains(cmd, "victoria-logs")) return "victoria-logs";
    if (std::string t = ByInterpreter(cmd); !t.empty()) return t;
  }
  return ByInterpreter(exe);
}

}  // namespace coroot::agent::containers
