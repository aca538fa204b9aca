#include "lib/clickhouse/factory.h"

#include "lib/clickhouse/embedded_client.h"
#include "lib/clickhouse/http_client.h"

namespace coroot::clickhouse {

StatusOr<std::unique_ptr<IClickHouseClient>> Connect(const Options& options) {
  if (options.address.empty()) {
    EmbeddedOptions eo;
    eo.data_dir = options.data_dir;
    eo.library_path = options.libchdb_path;
    eo.database = options.database;
    ASSIGN_OR_RETURN(std::unique_ptr<EmbeddedClient> c, EmbeddedClient::Open(eo));
    return std::unique_ptr<IClickHouseClient>(std::move(c));
  }
  RemoteOptions ro;
  ro.address = options.address;
  ro.user = options.user;
  ro.password = options.password;
  ro.database = options.database;
  ro.timeout = options.timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<RemoteClient> c, RemoteClient::Create(ro));
  return std::unique_ptr<IClickHouseClient>(std::move(c));
}

}  // namespace coroot::clickhouse
