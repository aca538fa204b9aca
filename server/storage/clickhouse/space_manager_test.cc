// SpaceManager against the real embedded engine: real day partitions of the schema's tables.
#include "server/storage/clickhouse/space_manager.h"

#include <gtest/gtest.h>

#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_test_environment.h"
#include "server/storage/clickhouse/schema.h"

namespace coroot::server::storage {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new clickhouse::EmbeddedTestEnvironment("coroot_space_test"));
clickhouse::EmbeddedClient* Engine() { return clickhouse::EmbeddedTestEnvironment::client(); }

std::string Q(const std::string& sql) {
  auto r = Engine()->Query(sql, "TSVRaw");
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? Trim(*r) : "<error>";
}

// Partition ids of a table's active parts, oldest first, comma-separated.
std::string Partitions(const std::string& db, const std::string& table) {
  return Q("SELECT arrayStringConcat(arraySort(groupUniqArray(partition_id)), ',') FROM system.parts WHERE active "
           "AND database = '" + db + "' AND table = '" + table + "'");
}

// Logs on days -2, -1, 0 and spans on days -1, 0 (relative to today).
void Fill(const std::string& db) {
  SchemaOptions o;
  o.database = db;
  ASSERT_TRUE(CreateSchema(Engine(), o).ok());
  for (int day : {2, 1, 0}) {
    Q("INSERT INTO " + db + ".otel_logs (Timestamp, ServiceName, Body) SELECT now64(9) - toIntervalDay(" +
      std::to_string(day) + "), 'svc', 'hello'");
    if (day < 2)
      Q("INSERT INTO " + db + ".otel_traces (Timestamp, TraceId, ServiceName, SpanName) SELECT now64(9) - "
        "toIntervalDay(" + std::to_string(day) + "), 't" + std::to_string(day) + "', 'svc', 'GET'");
  }
  // A table the space manager must not touch: neither otel_* nor profiling_*.
  Q("CREATE TABLE IF NOT EXISTS " + db + ".other (d Date) ENGINE = MergeTree PARTITION BY d ORDER BY d");
  Q("INSERT INTO " + db + ".other SELECT today() - number FROM numbers(3)");
}

std::string Day(int ago) { return Q("SELECT toYYYYMMDD(today() - " + std::to_string(ago) + ")"); }

TEST(SpaceManager, DropsTheOldestPartitionOfEachTableWhileOverTheThreshold) {
  ASSERT_NE(Engine(), nullptr) << clickhouse::EmbeddedTestEnvironment::error();
  Fill("coroot_space_a");
  Fill("coroot_space_b");  // not a project database here: never touched
  ASSERT_EQ(Partitions("coroot_space_a", "otel_logs"), Day(2) + "," + Day(1) + "," + Day(0));

  SpaceManagerOptions o;
  o.databases = [] { return std::vector<std::string>{"coroot_space_a"}; };
  o.usage_threshold_percent = 100;  // a disk is never more than 100 % used: nothing to do
  {
    SpaceManager sm(Engine(), o);
    auto r = sm.RunOnce();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->empty());
  }
  o.usage_threshold_percent = 0;  // every disk in use is over it
  SpaceManager sm(Engine(), o);
  auto r = sm.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // One partition per table per pass, oldest first; tables with one partition left alone.
  EXPECT_EQ(Partitions("coroot_space_a", "otel_logs"), Day(1) + "," + Day(0));
  EXPECT_EQ(Partitions("coroot_space_a", "otel_traces"), Day(0));
  EXPECT_EQ(Partitions("coroot_space_a", "otel_traces_trace_id_ts"), Day(0));
  EXPECT_NE(std::find(r->begin(), r->end(), "coroot_space_a.otel_logs " + Day(2)), r->end()) << Join(*r, "; ");
  EXPECT_NE(std::find(r->begin(), r->end(), "coroot_space_a.otel_traces " + Day(1)), r->end()) << Join(*r, "; ");
  EXPECT_EQ(Q("SELECT count() FROM coroot_space_a.otel_logs"), "2");

  r = sm.RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Partitions("coroot_space_a", "otel_logs"), Day(0));
  EXPECT_EQ(Partitions("coroot_space_a", "otel_traces"), Day(0));  // min_partitions = 1 kept
  r = sm.RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty()) << Join(*r, "; ");
  EXPECT_EQ(Q("SELECT count() FROM coroot_space_a.otel_logs"), "1");

  // Untouched: other tables, other databases.
  EXPECT_EQ(Partitions("coroot_space_a", "other"), Day(2) + "," + Day(1) + "," + Day(0));
  EXPECT_EQ(Partitions("coroot_space_b", "otel_logs"), Day(2) + "," + Day(1) + "," + Day(0));
}

TEST(SpaceManager, KeepsMinPartitions) {
  ASSERT_NE(Engine(), nullptr) << clickhouse::EmbeddedTestEnvironment::error();
  Fill("coroot_space_c");
  SpaceManagerOptions o;
  o.databases = [] { return std::vector<std::string>{"coroot_space_c"}; };
  o.usage_threshold_percent = 0;
  o.min_partitions = 2;
  SpaceManager sm(Engine(), o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sm.RunOnce().ok());
  EXPECT_EQ(Partitions("coroot_space_c", "otel_logs"), Day(1) + "," + Day(0));
  EXPECT_EQ(Partitions("coroot_space_c", "otel_traces"), Day(1) + "," + Day(0));
}

}  // namespace
}  // namespace coroot::server::storage
