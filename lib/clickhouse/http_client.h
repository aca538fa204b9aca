#pragma once
// RemoteClient: ClickHouse over its HTTP interface (port 8123 by default), for a server or a cluster.
// Every call is one blocking POST; statements go in the body, inserts go as
// `?query=INSERT INTO t (...) FORMAT <fmt>` with the data gzip-compressed in the body (supported since
// long before 18.16). Errors carry the server's text ("Code: 60. DB::Exception: ...").
// Thread-safe: the client holds no connection state (one connection per request).
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"

namespace coroot::clickhouse {

struct RemoteOptions {
  std::string address;  // "host:port" (the HTTP port), "host" (→ 8123), "http://host:port", "https://host:port"
  std::string user = "default";
  std::string password;
  std::string database = "default";
  std::chrono::milliseconds timeout{60000};
  size_t max_response_bytes = 256u << 20;
  bool compress_inserts = true;  // Content-Encoding: gzip on insert bodies
  int gzip_level = 1;            // fast: inserts are on the ingest path, the network is rarely the limit
  std::string ca_file;           // https: extra CA bundle
  bool insecure_skip_verify = false;
  // Extra settings sent with every request as URL parameters, e.g. {"max_execution_time", "30"}.
  std::vector<std::pair<std::string, std::string>> settings;
};

// "host:port" → "http://host:port"; keeps an explicit http(s):// scheme; drops any path and a trailing '/'.
StatusOr<std::string> NormalizeAddress(const std::string& address);

class RemoteClient final : public IClickHouseClient {
 public:
  static StatusOr<std::unique_ptr<RemoteClient>> Create(const RemoteOptions& options);

  StatusOr<std::string> Query(const std::string& sql, const std::string& format = "TSV") override;
  Status Insert(const std::string& table_and_columns, const std::string& format, const std::string& data) override;
  Status Ping() override;
  std::string Describe() const override;

 private:
  RemoteClient(RemoteOptions options, std::string base_url)
      : options_(std::move(options)), base_url_(std::move(base_url)) {}
  // POSTs body to /?<params> and returns the response body, or the server's error.
  StatusOr<std::string> Post(const std::vector<std::pair<std::string, std::string>>& params, std::string body,
                             bool gzip);

  RemoteOptions options_;
  std::string base_url_;  // "http://host:port"
};

}  // namespace coroot::clickhouse
