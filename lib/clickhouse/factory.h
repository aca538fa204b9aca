#pragma once
// Picks the transport: embedded libchdb when no address is given (one machine, the default),
// the HTTP interface of a remote server/cluster otherwise.
#include <chrono>
#include <memory>
#include <string>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"

namespace coroot::clickhouse {

struct Options {
  // Remote: "host:port" of the HTTP interface (or http(s)://host:port). Empty: embedded.
  std::string address;
  std::string user = "default";
  std::string password;
  std::string database = "default";
  std::chrono::milliseconds timeout{60000};  // remote only
  // Embedded: the engine's data directory (required) and where libchdb.so is (empty: DefaultLibchdbPath()).
  std::string data_dir;
  std::string libchdb_path;
};

// Embedded: loads libchdb and opens the engine (fails if the library is missing, or one is already
// open in this process). Remote: checks the address only; the server may come up later, so call
// Ping() to wait for it.
StatusOr<std::unique_ptr<IClickHouseClient>> Connect(const Options& options);

}  // namespace coroot::clickhouse
