#pragma once
// The node agent's configuration: Coroot's flags and env vars (spec §1.g), parsed once.
#include <string>
#include <vector>

#include "lib/base/flags.h"

namespace coroot::agent {

struct Config {
  std::string listen;
  std::string cgroupfs_root;
  bool disable_log_parsing = false, disable_json_log_parsing = false, disable_pinger = false,
       disable_l7_tracing = false, disable_gpu_monitoring = false, enable_java_tls = false,
       enable_java_async_profiler = false, skip_systemd_system_services = true, insecure_skip_verify = false;
  Duration java_async_profiler_delay, instrumentation_delay, min_container_age, scrape_interval;
  std::string go_heap_profiler;
  std::vector<std::string> container_allowlist, container_denylist, exclude_http_requests_by_path;
  int64_t max_fqdns_per_container = 50, log_patterns_per_container = 256, max_label_length = 4096;
  std::string track_public_network, ephemeral_port_range;
  std::string provider, region, availability_zone, instance_type, instance_life_cycle;
  std::string collector_endpoint, api_key, metrics_endpoint, logs_endpoint, traces_endpoint, profiles_endpoint;
  double traces_sampling = 1.0, profiles_prune_fraction = 0.0025;
  std::string ca_file, wal_dir;
  uint64_t max_spool_size = 0;
  double log_per_second = 10;
  int64_t log_burst = 100;

  // Derived: where metrics are pushed ("" = pull mode only).
  std::string MetricsUrl() const;
  bool PushMode() const { return !MetricsUrl().empty(); }
};

void RegisterFlags(FlagSet* fs, Config* cfg);
// Fills derived defaults after parsing (e.g. the listen address in push mode).
void Finish(Config* cfg, bool listen_set_explicitly);

}  // namespace coroot::agent
