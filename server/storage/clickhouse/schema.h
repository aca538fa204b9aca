#pragma once
// The ClickHouse schema for logs, traces and profiles (spec §3.2): otel_logs, otel_traces,
// profiling_stacks, profiling_samples and the tables their materialized views feed. Created idempotently (CREATE ... IF NOT EXISTS) at start and before a
// project's first insert; upgrades are additive (ADD COLUMN/INDEX IF NOT EXISTS). TTLs of existing
// tables are never altered (Coroot issue #470): a changed --logs-ttl applies to new databases only.
#include <chrono>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"
#include "server/storage/clickhouse/cluster.h"

namespace coroot::server::storage {

// Column codecs and sort order of otel_logs and otel_traces (the other tables are the same in both):
//   kCoroot:  Coroot's schema to the letter (the baseline of bench/storage_compression_bench);
//   kCompact: the same columns (so every query and insert is unchanged), with LowCardinality map
//             values, codecs and a traces sort order that store the same rows in fewer bytes;
//             see server/storage/README.md.
// Tables are created in the layout asked for; an existing table keeps its sort order and types
// (ClickHouse cannot change them in place) and gets kCompact's codecs by ALTER ... MODIFY COLUMN
// ... CODEC, which applies to parts written or merged from then on.
enum class SchemaLayout { kCoroot, kCompact };

struct SchemaOptions {
  std::string database;  // e.g. "coroot_<projectId>"; created when missing
  SchemaLayout layout = SchemaLayout::kCompact;
  std::chrono::milliseconds traces_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds logs_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds profiles_ttl{std::chrono::hours(24 * 7)};
  // On a cluster: ON CLUSTER, Replicated engines and <table>_distributed tables (cluster.h).
  Cluster cluster;
};

// Every statement, in order, that creates the schema (for tests and logs); CreateSchema then
// brings the codecs of existing otel_logs/otel_traces to the compact layout's where they differ.
std::vector<std::string> SchemaStatements(const SchemaOptions& options);

// Runs SchemaStatements() on the client. Safe to call any number of times.
Status CreateSchema(clickhouse::IClickHouseClient* client, const SchemaOptions& options);

// The ClickHouse database of a project: coroot_<projectId> with characters outside [A-Za-z0-9_]
// replaced by '_'.
std::string ProjectDatabase(const std::string& project_id);

// "toIntervalDay(7)" for whole days, else "toIntervalSecond(n)" (at least one second).
std::string TtlInterval(std::chrono::milliseconds ttl);

}  // namespace coroot::server::storage
