#include "server/storage/clickhouse/cluster.h"

#include "lib/base/strings.h"

namespace coroot::server::storage {

using clickhouse::QuoteIdentifier;
using clickhouse::QuoteString;

std::string Cluster::OnCluster() const { return on() ? " ON CLUSTER " + QuoteIdentifier(name_) : ""; }

std::string Cluster::Engine(const std::string& family, const std::string& args) const {
  if (!on()) return args.empty() ? family : family + "(" + args + ")";
  // Coroot's ZooKeeper path: the server expands the macros ({shard} and {replica} from each node's
  // <macros>, {database} and {table} from the statement).
  std::string replicated = "Replicated" + family + "('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'";
  if (!args.empty()) replicated += ", " + args;
  return replicated + ")";
}

std::string Cluster::DistributedTableSql(const std::string& database, const std::string& table,
                                         const std::string& sharding_key) const {
  if (!on()) return "";
  const std::string db = QuoteIdentifier(database);
  return "CREATE TABLE IF NOT EXISTS " + db + "." + QuoteIdentifier(table + "_distributed") + OnCluster() + " AS " +
         db + "." + QuoteIdentifier(table) + " ENGINE = Distributed(" + QuoteIdentifier(name_) + ", " + db + ", " +
         QuoteIdentifier(table) + ", " + sharding_key + ")";
}

std::string Cluster::InsertTable(const std::string& database, const std::string& table) const {
  // Table names are the schema's own constants: plain identifiers.
  return QuoteIdentifier(database) + "." + (on() ? table + "_distributed" : table);
}

std::string Cluster::ReadTable(const std::string& database, const std::string& table) const {
  if (!on()) return InsertTable(database, table);
  return InsertTable(database, table) + " AS " + table;
}

std::string Cluster::SystemParts() const {
  return on() ? "cluster(" + QuoteString(name_) + ", system.parts)" : "system.parts";
}

std::string Cluster::InsertSettings() const { return on() ? "insert_distributed_sync = 1" : ""; }

StatusOr<Cluster> DetectCluster(clickhouse::IClickHouseClient* client) {
  // ClickHouse Cloud replicates every table itself (SharedMergeTree): one server to us.
  ASSIGN_OR_RETURN(std::string cloud,
                   client->Query("SELECT value FROM system.settings WHERE name = 'cloud_mode_engine'", "TSVRaw"));
  if (uint64_t mode = 0; ParseUint64(Trim(cloud), &mode) && mode >= 2) return Cluster();
  // EXISTS TABLE and system.clusters: what 18.16 already understands (it has no SHOW CLUSTERS).
  ASSIGN_OR_RETURN(std::string zk, client->Query("EXISTS TABLE system.zookeeper"));
  if (Trim(zk) != "1") return Cluster();
  ASSIGN_OR_RETURN(std::string names, client->Query("SELECT DISTINCT cluster FROM system.clusters", "TSVRaw"));
  bool has_default = false;
  for (const std::string& n : Split(names, '\n')) {
    if (n == "coroot") return Cluster("coroot");
    if (n == "default") has_default = true;
  }
  return has_default ? Cluster("default") : Cluster();
}

}  // namespace coroot::server::storage
