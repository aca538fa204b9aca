#pragma once
// The server's configuration: Coroot's flags and env vars (spec §3.13), parsed once.
#include <string>

#include "lib/base/flags.h"

namespace coroot::server {

struct Config {
  std::string config_file;
  std::string listen;
  std::string grpc_listen;
  bool grpc_disabled = false;
  std::string url_base_path;
  std::string data_dir;
  Duration cache_ttl, traces_ttl, logs_ttl, profiles_ttl, metrics_ttl;
  std::string pg_connection_string;
  bool disable_usage_statistics = false;
  std::string auth_anonymous_role, auth_bootstrap_admin_password;

  std::string bootstrap_prometheus_url, bootstrap_prometheus_extra_selector, bootstrap_remote_write_url;
  Duration bootstrap_refresh_interval;
  std::string bootstrap_clickhouse_address, bootstrap_clickhouse_user, bootstrap_clickhouse_password,
      bootstrap_clickhouse_database;

  bool disable_clickhouse_space_manager = false;
  int64_t clickhouse_space_manager_usage_threshold = 70, clickhouse_space_manager_min_partitions = 1;

  int64_t http_threads = 4;
  uint64_t max_request_body = 0;
  uint64_t ingest_buffer_size = 0, ingest_wal_size = 0;
};

// Registers every flag on fs, bound to cfg's fields.
void RegisterFlags(FlagSet* fs, Config* cfg);

}  // namespace coroot::server
