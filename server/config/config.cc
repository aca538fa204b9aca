#include "server/config/config.h"

namespace coroot::server {

void RegisterFlags(FlagSet* fs, Config* c) {
  fs->String("config", "CONFIG", &c->config_file, "", "YAML configuration file (projects and API keys)");
  fs->String("listen", "LISTEN", &c->listen, ":8080", "HTTP listen address");
  fs->String("grpc-listen", "GRPC_LISTEN", &c->grpc_listen, ":4317", "OTLP/gRPC listen address");
  fs->Bool("grpc-disabled", "GRPC_DISABLED", &c->grpc_disabled, false, "disable the OTLP/gRPC server");
  fs->String("url-base-path", "URL_BASE_PATH", &c->url_base_path, "/", "base path of every URL");
  fs->String("data-dir", "DATA_DIR", &c->data_dir, "./data", "directory for the config database and caches");
  fs->Dur("cache-ttl", "CACHE_TTL", &c->cache_ttl, "30d", "metric cache retention");
  fs->Dur("traces-ttl", "TRACES_TTL", &c->traces_ttl, "7d", "traces retention");
  fs->Dur("logs-ttl", "LOGS_TTL", &c->logs_ttl, "7d", "logs retention");
  fs->Dur("profiles-ttl", "PROFILES_TTL", &c->profiles_ttl, "7d", "profiles retention");
  fs->Dur("metrics-ttl", "METRICS_TTL", &c->metrics_ttl, "7d", "metrics retention (ClickHouse metrics mode)");
  fs->String("pg-connection-string", "PG_CONNECTION_STRING", &c->pg_connection_string, "",
             "PostgreSQL for the config database (SQLite when empty)");
  fs->Bool("disable-usage-statistics", "DISABLE_USAGE_STATISTICS", &c->disable_usage_statistics, false,
           "never send usage statistics");
  fs->String("auth-anonymous-role", "AUTH_ANONYMOUS_ROLE", &c->auth_anonymous_role, "", "role of anonymous users");
  fs->String("auth-bootstrap-admin-password", "AUTH_BOOTSTRAP_ADMIN_PASSWORD", &c->auth_bootstrap_admin_password,
             "", "initial admin password");
  fs->String("bootstrap-prometheus-url", "BOOTSTRAP_PROMETHEUS_URL", &c->bootstrap_prometheus_url, "",
             "Prometheus of the default project");
  fs->String("bootstrap-prometheus-extra-selector", "BOOTSTRAP_PROMETHEUS_EXTRA_SELECTOR",
             &c->bootstrap_prometheus_extra_selector, "", "extra selector added to every query");
  fs->String("bootstrap-prometheus-remote-write-url", "BOOTSTRAP_PROMETHEUS_REMOTE_WRITE_URL",
             &c->bootstrap_remote_write_url, "", "remote-write URL (default <prometheus url>/api/v1/write)");
  fs->Dur("bootstrap-refresh-interval", "BOOTSTRAP_REFRESH_INTERVAL", &c->bootstrap_refresh_interval, "30s",
          "metric cache refresh interval");
  fs->String("bootstrap-clickhouse-address", "BOOTSTRAP_CLICKHOUSE_ADDRESS", &c->bootstrap_clickhouse_address, "",
             "ClickHouse HTTP address (embedded engine when empty)");
  fs->String("bootstrap-clickhouse-user", "BOOTSTRAP_CLICKHOUSE_USER", &c->bootstrap_clickhouse_user, "default",
             "ClickHouse user");
  fs->String("bootstrap-clickhouse-password", "BOOTSTRAP_CLICKHOUSE_PASSWORD", &c->bootstrap_clickhouse_password,
             "", "ClickHouse password");
  fs->String("bootstrap-clickhouse-database", "BOOTSTRAP_CLICKHOUSE_DATABASE", &c->bootstrap_clickhouse_database,
             "default", "ClickHouse database");
  fs->Bool("disable-clickhouse-space-manager", "CLICKHOUSE_SPACE_MANAGER_DISABLED",
           &c->disable_clickhouse_space_manager, false, "never drop old partitions to free disk space");
  fs->Int("clickhouse-space-manager-usage-threshold", "CLICKHOUSE_SPACE_MANAGER_USAGE_THRESHOLD",
          &c->clickhouse_space_manager_usage_threshold, 70,
          "disk usage (%) above which the oldest logs/traces/profiles partitions are dropped");
  fs->Int("clickhouse-space-manager-min-partitions", "CLICKHOUSE_SPACE_MANAGER_MIN_PARTITIONS",
          &c->clickhouse_space_manager_min_partitions, 1, "partitions (days) every table keeps");
  fs->Int("http-threads", "HTTP_THREADS", &c->http_threads, 4, "HTTP I/O threads");
  fs->Bytes("max-request-body", "MAX_REQUEST_BODY", &c->max_request_body, "64MB",
            "largest accepted request body (compressed)");
  fs->Bytes("ingest-buffer-size", "INGEST_BUFFER_SIZE", &c->ingest_buffer_size, "256MB",
            "logs, spans and profiles held in memory for ClickHouse; past it clients get 429");
  fs->Bytes("ingest-wal-size", "INGEST_WAL_SIZE", &c->ingest_wal_size, "1GB",
            "on-disk log of accepted OTLP requests not yet in ClickHouse; past it clients get 429");
}

}  // namespace coroot::server
