#include "agent/config/config.h"

namespace coroot::agent {

std::string Config::MetricsUrl() const {
  if (!metrics_endpoint.empty()) return metrics_endpoint;
  if (collector_endpoint.empty()) return "";
  std::string base = collector_endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/v1/metrics";
}

void RegisterFlags(FlagSet* fs, Config* c) {
  fs->String("listen", "LISTEN", &c->listen, "0.0.0.0:80", "HTTP listen address (127.0.0.1:10300 in push mode)");
  fs->String("cgroupfs-root", "CGROUPFS_ROOT", &c->cgroupfs_root, "/sys/fs/cgroup", "host cgroupfs mount");
  fs->Bool("disable-log-parsing", "DISABLE_LOG_PARSING", &c->disable_log_parsing, false, "disable log parsing");
  fs->Bool("disable-json-log-parsing", "DISABLE_JSON_LOG_PARSING", &c->disable_json_log_parsing, false,
           "disable JSON log parsing");
  fs->Bool("disable-pinger", "DISABLE_PINGER", &c->disable_pinger, false, "disable ICMP RTT to upstreams");
  fs->Bool("disable-l7-tracing", "DISABLE_L7_TRACING", &c->disable_l7_tracing, false, "disable L7 tracing");
  fs->Bool("disable-gpu-monitoring", "DISABLE_GPU_MONITORING", &c->disable_gpu_monitoring, false,
           "disable GPU monitoring");
  fs->Bool("enable-java-tls", "ENABLE_JAVA_TLS", &c->enable_java_tls, false, "trace Java TLS");
  fs->Bool("enable-java-async-profiler", "ENABLE_JAVA_ASYNC_PROFILER", &c->enable_java_async_profiler, false,
           "profile JVMs with async-profiler");
  fs->Dur("java-async-profiler-delay", "JAVA_ASYNC_PROFILER_DELAY", &c->java_async_profiler_delay, "30s",
          "delay before profiling a JVM");
  fs->String("go-heap-profiler", "GO_HEAP_PROFILER", &c->go_heap_profiler, "enabled", "disabled, enabled or force");
  fs->Dur("instrumentation-delay", "INSTRUMENTATION_DELAY", &c->instrumentation_delay, "30s",
          "delay before TLS and runtime uprobes");
  fs->Strings("container-allowlist", "CONTAINER_ALLOWLIST", &c->container_allowlist,
              "regexes of containers to monitor (repeatable)");
  fs->Strings("container-denylist", "CONTAINER_DENYLIST", &c->container_denylist,
              "regexes of containers to skip (repeatable)");
  fs->Dur("min-container-age", "MIN_CONTAINER_AGE", &c->min_container_age, "30s",
          "report containers older than this");
  fs->Bool("skip-systemd-system-services", "SKIP_SYSTEMD_SYSTEM_SERVICES", &c->skip_systemd_system_services, true,
           "skip systemd system services");
  fs->Int("max-fqdns-per-container", "MAX_FQDNS_PER_CONTAINER", &c->max_fqdns_per_container, 50,
          "distinct DNS names per container");
  fs->Strings("exclude-http-requests-by-path", "EXCLUDE_HTTP_REQUESTS_BY_PATH", &c->exclude_http_requests_by_path,
              "HTTP paths to ignore (globs)");
  fs->String("track-public-network", "TRACK_PUBLIC_NETWORK", &c->track_public_network, "0.0.0.0/0",
             "public networks to track");
  fs->String("ephemeral-port-range", "EPHEMERAL_PORT_RANGE", &c->ephemeral_port_range, "32768-60999",
             "ports skipped as ephemeral");
  fs->String("provider", "PROVIDER", &c->provider, "", "override the cloud provider");
  fs->String("region", "REGION", &c->region, "", "override the region");
  fs->String("availability-zone", "AVAILABILITY_ZONE", &c->availability_zone, "", "override the availability zone");
  fs->String("instance-type", "INSTANCE_TYPE", &c->instance_type, "", "override the instance type");
  fs->String("instance-life-cycle", "INSTANCE_LIFE_CYCLE", &c->instance_life_cycle, "",
             "override the instance life cycle");
  fs->Int("log-patterns-per-container", "LOG_PATTERNS_PER_CONTAINER", &c->log_patterns_per_container, 256,
          "log patterns kept per container");
  fs->Int("max-label-length", "MAX_LABEL_LENGTH", &c->max_label_length, 4096, "longest label value");
  fs->String("collector-endpoint", "COLLECTOR_ENDPOINT", &c->collector_endpoint, "",
             "base URL of the Coroot server (enables push mode)");
  fs->String("api-key", "API_KEY", &c->api_key, "", "project API key");
  fs->String("metrics-endpoint", "METRICS_ENDPOINT", &c->metrics_endpoint, "", "remote-write URL");
  fs->String("logs-endpoint", "LOGS_ENDPOINT", &c->logs_endpoint, "", "OTLP logs URL");
  fs->String("traces-endpoint", "TRACES_ENDPOINT", &c->traces_endpoint, "", "OTLP traces URL");
  fs->String("profiles-endpoint", "PROFILES_ENDPOINT", &c->profiles_endpoint, "", "profiles URL");
  fs->Double("traces-sampling", "TRACES_SAMPLING", &c->traces_sampling, 1.0, "share of traces sent");
  fs->Double("profiles-prune-fraction", "PROFILES_PRUNE_FRACTION", &c->profiles_prune_fraction, 0.0025,
             "drop call paths below this share");
  fs->Bool("insecure-skip-verify", "INSECURE_SKIP_VERIFY", &c->insecure_skip_verify, false,
           "skip TLS certificate verification");
  fs->String("ca-file", "CA_FILE", &c->ca_file, "", "CA bundle for TLS");
  fs->Dur("scrape-interval", "SCRAPE_INTERVAL", &c->scrape_interval, "15s", "push-mode gather interval");
  fs->String("wal-dir", "WAL_DIR", &c->wal_dir, "/tmp/coroot-node-agent", "spool directory");
  fs->Bytes("max-spool-size", "MAX_SPOOL_SIZE", &c->max_spool_size, "500MB", "spool size cap");
  fs->Double("log-per-second", "LOG_PER_SECOND", &c->log_per_second, 10, "own log rate limit");
  fs->Int("log-burst", "LOG_BURST", &c->log_burst, 100, "own log burst");
}

void Finish(Config* c, bool listen_set_explicitly) {
  if (c->PushMode() && !listen_set_explicitly) c->listen = "127.0.0.1:10300";
}

}  // namespace coroot::agent
