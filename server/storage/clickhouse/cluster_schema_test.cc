// The full schema in cluster mode, checked by the current engine (libchdb 26.7): every statement
// SchemaStatements() gives for a cluster is accepted, with Replicated engines whose ZooKeeper paths
// expand on a real ZooKeeper, distributed tables over the one local shard, and the read API's
// queries valid over the distributed tables. libchdb has no distributed-DDL worker (it refuses ON
// CLUSTER: "Replicated DDL queries are disabled") and keeps replicated tables read-only, so the
// statements run here without their ON CLUSTER clause, ALTERs (refused by a read-only replica) are
// left out, and no rows are inserted; the real cluster's
// behaviour (DDL on every node, replication, sharded inserts) is cluster_test.cc's part.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_client.h"
#include "lib/testing/process.h"
#include "lib/testing/zookeeper.h"
#include "server/api/trace_heatmap.h"
#include "server/storage/clickhouse/cluster.h"
#include "server/storage/clickhouse/otel_writer.h"
#include "server/storage/clickhouse/schema.h"

namespace coroot::server::storage {
namespace {

// ZooKeeper, then one engine for the binary configured as node (shard 01, replica r1) of cluster
// `coroot`, whose only shard is this process (tcp_port names it: a shard on the local port is read
// and written in-process).
class ClusterEngine : public ::testing::Environment {
 public:
  void SetUp() override {
    zk_ = std::make_unique<testing::ZooKeeperServer>();
    ASSERT_TRUE(zk_->ready()) << zk_->Log();
    dir_ = testing::MakeTempDir("coroot_cluster_schema_");
    const int port = testing::FreePort();
    std::ofstream(dir_ + "/config.xml") << "<clickhouse>\n  <tcp_port>" << port << "</tcp_port>\n"
        "  <zookeeper><node><host>127.0.0.1</host><port>" << zk_->port() << "</port></node></zookeeper>\n"
        "  <macros><shard>01</shard><replica>r1</replica></macros>\n"
        "  <remote_servers><coroot><shard><replica><host>localhost</host><port>" << port
        << "</port></replica></shard></coroot></remote_servers>\n</clickhouse>\n";
    clickhouse::EmbeddedOptions o;
    o.data_dir = dir_ + "/data";
    o.extra_args = {"--config-file=" + dir_ + "/config.xml"};
    auto c = clickhouse::EmbeddedClient::Open(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client = c->release();
  }
  void TearDown() override {
    // Closing an engine that still holds replicated tables hangs in libchdb: drop them first.
    if (client != nullptr) (void)client->Query("DROP DATABASE IF EXISTS coroot_cluster_project SYNC");
    delete client;  // closes the engine before exit
    client = nullptr;
    zk_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  static inline clickhouse::EmbeddedClient* client = nullptr;

 private:
  std::unique_ptr<testing::ZooKeeperServer> zk_;
  std::string dir_;
};
[[maybe_unused]] ::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(new ClusterEngine);

class ClusterSchema : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(ClusterEngine::client, nullptr); }
  std::string Q(const std::string& sql) {
    auto r = ClusterEngine::client->Query(sql, "TSVRaw");
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? Trim(*r) : "<error: " + r.status().message() + ">";
  }
};

const std::string kDb = "coroot_cluster_project";

std::vector<std::string> ClusterStatements() {
  SchemaOptions o;
  o.database = kDb;
  o.cluster = Cluster("coroot");
  return SchemaStatements(o);
}

// The schema's statements as one node runs them (what a distributed-DDL worker executes): without
// ON CLUSTER, and without the ALTERs of existing tables.
std::vector<std::string> OnThisNode() {
  const std::string clause = " ON CLUSTER `coroot`";
  std::vector<std::string> out;
  for (std::string sql : ClusterStatements()) {
    if (sql.rfind("ALTER", 0) == 0) continue;
    for (size_t at; (at = sql.find(clause)) != std::string::npos;) sql.erase(at, clause.size());
    out.push_back(sql);
  }
  return out;
}

void CreateOnThisNode() {
  for (const std::string& sql : OnThisNode()) {
    auto r = ClusterEngine::client->Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
}

TEST_F(ClusterSchema, EveryStatementRunsOnTheCluster) {
  for (const std::string& sql : ClusterStatements()) {
    EXPECT_NE(sql.find(" ON CLUSTER `coroot`"), std::string::npos) << sql;
  }
  SchemaOptions single;
  single.database = kDb;
  for (const std::string& sql : SchemaStatements(single)) {
    EXPECT_EQ(sql.find("ON CLUSTER"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("Replicated"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("_distributed"), std::string::npos) << sql;
  }
}

TEST_F(ClusterSchema, AcceptedByTheEngineWithReplicatedAndDistributedTables) {
  CreateOnThisNode();
  CreateOnThisNode();  // twice: the server runs them at every start
  const std::string in_db = " WHERE database = '" + kDb + "'";
  EXPECT_EQ(Q("SELECT name, engine FROM system.tables" + in_db + " AND engine != 'MaterializedView' ORDER BY name"),
            "otel_logs\tReplicatedMergeTree\n"
            "otel_logs_distributed\tDistributed\n"
            "otel_logs_service_name_severity_text\tReplicatedReplacingMergeTree\n"
            "otel_logs_service_name_severity_text_distributed\tDistributed\n"
            "otel_traces\tReplicatedMergeTree\n"
            "otel_traces_distributed\tDistributed\n"
            "otel_traces_histogram\tReplicatedSummingMergeTree\n"
            "otel_traces_histogram_distributed\tDistributed\n"
            "otel_traces_service_name\tReplicatedReplacingMergeTree\n"
            "otel_traces_service_name_distributed\tDistributed\n"
            "otel_traces_trace_id_ts\tReplicatedMergeTree\n"
            "otel_traces_trace_id_ts_distributed\tDistributed\n"
            "profiling_profiles\tReplicatedReplacingMergeTree\n"
            "profiling_profiles_distributed\tDistributed\n"
            "profiling_samples\tReplicatedMergeTree\n"
            "profiling_samples_distributed\tDistributed\n"
            "profiling_stacks\tReplicatedReplacingMergeTree\n"
            "profiling_stacks_distributed\tDistributed");
  // Views read and fill the local tables.
  EXPECT_EQ(Q("SELECT count() FROM system.tables" + in_db + " AND engine = 'MaterializedView' AND "
              "create_table_query NOT LIKE '%_distributed%'"),
            "5");
  // ZooKeeper paths with this node's macros; the version column of ReplacingMergeTree kept.
  EXPECT_EQ(Q("SELECT zookeeper_path, replica_name FROM system.replicas" + in_db + " AND table = 'otel_traces'"),
            "/clickhouse/tables/01/" + kDb + "/otel_traces\tr1");
  EXPECT_EQ(Q("SELECT count() FROM system.replicas" + in_db), "9");
  EXPECT_NE(Q("SELECT engine_full FROM system.tables" + in_db + " AND name = 'profiling_stacks'").find("'{replica}', LastSeen)"),
            std::string::npos);
  // Sharding keys: a trace's spans and a stack's samples stay on one shard.
  EXPECT_NE(Q("SELECT engine_full FROM system.tables" + in_db + " AND name = 'otel_traces_distributed'")
                .find("Distributed('coroot', '" + kDb + "', 'otel_traces', cityHash64(TraceId))"),
            std::string::npos);
  EXPECT_NE(Q("SELECT engine_full FROM system.tables" + in_db + " AND name = 'profiling_samples_distributed'")
                .find("StackHash)"),
            std::string::npos);
  // The distributed table has every column of its local table.
  EXPECT_EQ(Q("SELECT count() FROM system.columns" + in_db + " AND table = 'otel_traces_distributed'"),
            Q("SELECT count() FROM system.columns" + in_db + " AND table = 'otel_traces'"));
}

// The queries of the read API, over the distributed tables (empty here: read-only replicas).
TEST_F(ClusterSchema, ReadQueriesRunOverTheDistributedTables) {
  CreateOnThisNode();
  const Cluster c("coroot");
  HeatmapQuery q;
  q.service = "api";
  q.from_ms = 1700000000000, q.to_ms = q.from_ms + 3600000;
  Q(HeatmapSql(c, kDb, q));  // from otel_traces_histogram
  q.step_s = 30;
  Q(HeatmapSql(c, kDb, q));  // from raw spans
  EXPECT_EQ(Q("SELECT count() FROM " + c.ReadTable(kDb, "otel_logs") + " WHERE otel_logs.ServiceName = 'x'"), "0");
  EXPECT_EQ(Q("SELECT sum(rows) FROM " + c.SystemParts() + " WHERE database = '" + kDb + "'"), "0");

  // The settings every cluster insert carries are known to the engine.
  OtelWriterOptions wo;
  wo.cluster = c;
  OtelWriter writer(ClusterEngine::client, wo);
  const std::string settings = writer.InsertSettings();
  EXPECT_NE(settings.find("insert_distributed_sync = 1"), std::string::npos) << settings;
  Q("SELECT 1 SETTINGS " + settings);
  EXPECT_EQ(writer.cluster().name(), "coroot");
}

}  // namespace
}  // namespace coroot::server::storage
