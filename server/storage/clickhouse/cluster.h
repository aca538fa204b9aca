#pragma once
// ClickHouse cluster mode (spec §3.2). When the server we talk to has ZooKeeper (or Keeper) and a
// cluster named `coroot` (else `default`), every table is created ON CLUSTER, on each node, as a
// Replicated*MergeTree (the replicas of a shard share it through ZooKeeper), and beside it a
// `<table>_distributed` table that spreads inserts over the shards and gathers reads from all of
// them. Inserts and reads then name the distributed tables; materialized views stay per node and
// read the local table that their shard receives.
//
// A Cluster with an empty name is a single server: every helper then gives the plain SQL.
#include <string>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"

namespace coroot::server::storage {

class Cluster {
 public:
  Cluster() = default;
  explicit Cluster(std::string name) : name_(std::move(name)) {}

  bool on() const { return !name_.empty(); }
  const std::string& name() const { return name_; }

  // " ON CLUSTER `name`", or "" on a single server.
  std::string OnCluster() const;
  // The engine clause of a MergeTree-family table: "SummingMergeTree", or on a cluster
  // "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')";
  // `args` (e.g. ReplacingMergeTree's version column) follow the replication arguments.
  std::string Engine(const std::string& family, const std::string& args = "") const;
  // The statement that creates `table`'s distributed table (a no-op "" on a single server);
  // `sharding_key` picks the shard of each row (rand(), or a hash that keeps related rows together).
  std::string DistributedTableSql(const std::string& database, const std::string& table,
                                  const std::string& sharding_key) const;
  // The table that inserts go to: `database`.`table` or `database`.`table_distributed`.
  std::string InsertTable(const std::string& database, const std::string& table) const;
  // A FROM item for reads: the same table, aliased to its own name on a cluster so that queries
  // may qualify columns as `table.Column` either way.
  std::string ReadTable(const std::string& database, const std::string& table) const;
  // The system.parts of every shard (one replica each) on a cluster, else system.parts.
  std::string SystemParts() const;
  // The settings (SETTINGS clause without the keyword) every insert carries: on a cluster
  // "insert_distributed_sync = 1", so that an insert answers once every shard has its rows (not
  // when they are queued on this node's disk) and only then may the WAL forget them; else "".
  std::string InsertSettings() const;

 private:
  std::string name_;
};

// Asks the server: a Cluster named `coroot` (or `default`) when it has ZooKeeper/Keeper
// (system.zookeeper exists) and such a cluster in system.clusters; else a single server, as is
// ClickHouse Cloud (cloud_mode_engine >= 2), which replicates every table itself.
// Works on every ClickHouse from 18.16 on.
StatusOr<Cluster> DetectCluster(clickhouse::IClickHouseClient* client);

}  // namespace coroot::server::storage
