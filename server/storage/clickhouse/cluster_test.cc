// Cluster mode (cluster.h) on a real ClickHouse cluster: Debian's clickhouse-server 18.16, four
// nodes (two shards of two replicas) and a real ZooKeeper, plus a fifth node without ZooKeeper.
// 18.16 predates the schema's types (Map, DateTime64, codecs, TTL), so tables here are in its
// dialect, built with the same Cluster pieces the schema uses; that every statement of the full
// schema is accepted in cluster mode by the current engine is cluster_schema_test.cc's part.
#include "server/storage/clickhouse/cluster.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "lib/base/strings.h"
#include "lib/clickhouse/http_client.h"
#include "lib/clickhouse/row_binary.h"
#include "lib/testing/process.h"
#include "lib/testing/zookeeper.h"

namespace coroot::server::storage {
namespace {

using namespace std::chrono_literals;

struct Node {
  std::string dir;
  int http_port = 0, tcp_port = 0;
  std::unique_ptr<testing::ChildProcess> proc;
  std::unique_ptr<clickhouse::RemoteClient> client;
};

// Four nodes, macros shard 0s / replica rR, cluster `coroot` over all four and cluster `default`
// over the first node only (detection must prefer `coroot`); node 4 (the fifth) stands alone.
class ClickHouseCluster {
 public:
  ClickHouseCluster() {
    if (!zk_.ready()) return;
    dir_ = testing::MakeTempDir("coroot_ch_cluster_");
    for (auto& n : nodes_) n.http_port = testing::FreePort(), n.tcp_port = testing::FreePort();
    std::string coroot, first;
    for (int s = 0; s < 2; ++s) {
      coroot += "<shard><internal_replication>true</internal_replication>";
      for (int r = 0; r < 2; ++r) coroot += Replica(nodes_[s * 2 + r]);
      coroot += "</shard>";
    }
    first = "<shard>" + Replica(nodes_[0]) + "</shard>";
    std::ofstream(dir_ + "/users.xml") << R"(<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
)";
    for (int i = 0; i < 5; ++i) {
      Node& n = nodes_[i];
      n.dir = dir_ + "/n" + std::to_string(i);
      std::filesystem::create_directories(n.dir + "/data");
      std::filesystem::create_directories(n.dir + "/tmp");
      std::string cluster_part;
      if (i < 4) {
        cluster_part = "  <zookeeper><node><host>127.0.0.1</host><port>" + std::to_string(zk_.port()) +
                       "</port></node></zookeeper>\n  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n"
                       "  <macros><shard>0" + std::to_string(i / 2 + 1) + "</shard><replica>r" + std::to_string(i % 2 + 1) +
                       "</replica></macros>\n  <remote_servers><coroot>" + coroot + "</coroot><default>" + first +
                       "</default></remote_servers>\n";
      }
      std::ofstream(n.dir + "/config.xml") << "<?xml version=\"1.0\"?>\n<yandex>\n"
          "  <logger><level>warning</level><log>" << n.dir << "/server.log</log><errorlog>" << n.dir
          << "/server.err.log</errorlog></logger>\n"
          "  <listen_host>127.0.0.1</listen_host>\n"
          "  <http_port>" << n.http_port << "</http_port>\n"
          "  <tcp_port>" << n.tcp_port << "</tcp_port>\n"
          "  <interserver_http_port>" << testing::FreePort() << "</interserver_http_port>\n"
          "  <interserver_http_host>127.0.0.1</interserver_http_host>\n"
          "  <mark_cache_size>67108864</mark_cache_size>\n"
          "  <path>" << n.dir << "/data/</path>\n"
          "  <tmp_path>" << n.dir << "/tmp/</tmp_path>\n"
          "  <users_config>" << dir_ << "/users.xml</users_config>\n"
          "  <default_profile>default</default_profile>\n"
          "  <default_database>default</default_database>\n"
          "  <timezone>UTC</timezone>\n" << cluster_part << "</yandex>\n";
      n.proc = std::make_unique<testing::ChildProcess>(
          std::vector<std::string>{"/usr/sbin/clickhouse-server", "--config-file=" + n.dir + "/config.xml"},
          n.dir + "/stdout.log");
    }
    for (Node& n : nodes_) {
      std::string url = "http://127.0.0.1:" + std::to_string(n.http_port);
      if (!testing::WaitFor([&] { return testing::HttpOk(url + "/ping"); }, 30s)) return;
      clickhouse::RemoteOptions o;
      o.address = url;
      // 18.16 takes insert settings only as URL parameters (no INSERT ... SETTINGS yet).
      o.settings = {{"insert_distributed_sync", "1"}};
      auto c = clickhouse::RemoteClient::Create(o);
      if (!c.ok()) return;
      n.client = std::move(*c);
    }
    ready_ = true;
  }
  ~ClickHouseCluster() {
    for (Node& n : nodes_) n.proc.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  std::string Log() const {
    if (!zk_.ready()) return zk_.Log();
    std::string out;
    for (const Node& n : nodes_) out += n.proc ? n.proc->Log() : "";
    return out;
  }
  // Nodes 0-3 make the cluster; node 4 has no ZooKeeper.
  clickhouse::RemoteClient* node(int i) { return nodes_[i].client.get(); }

 private:
  static std::string Replica(const Node& n) {
    return "<replica><host>127.0.0.1</host><port>" + std::to_string(n.tcp_port) + "</port></replica>";
  }
  testing::ZooKeeperServer zk_;
  std::string dir_;
  Node nodes_[5];
  bool ready_ = false;
};

ClickHouseCluster* g_cluster = nullptr;

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_cluster == nullptr) g_cluster = new ClickHouseCluster;
  }
  void SetUp() override { ASSERT_TRUE(g_cluster->ready()) << "the cluster did not start: " << g_cluster->Log(); }
  std::string Q(int node, const std::string& sql) {
    auto r = g_cluster->node(node)->Query(sql, "TSVRaw");
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? Trim(*r) : "<error: " + r.status().message() + ">";
  }
};

TEST_F(ClusterTest, DetectsTheCorootClusterOnlyWhereZooKeeperIs) {
  auto c = DetectCluster(g_cluster->node(0));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->on());
  EXPECT_EQ(c->name(), "coroot");  // preferred over `default`, which node 0 also has
  auto single = DetectCluster(g_cluster->node(4));
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_FALSE(single->on());
  EXPECT_EQ(single->InsertTable("db", "otel_logs"), "`db`.otel_logs");
  EXPECT_EQ(single->Engine("ReplacingMergeTree", "LastSeen"), "ReplacingMergeTree(LastSeen)");
}

// Tables created once, through node 0, exist on every node as replicated tables; rows inserted into
// the distributed table spread over both shards, each shard's replicas hold the same rows, views
// run on the shard that got the rows, and reads through the distributed tables see them all.
TEST_F(ClusterTest, ReplicatedAndDistributedTablesCarryRowsToEveryShardAndReplica) {
  auto detected = DetectCluster(g_cluster->node(0));
  ASSERT_TRUE(detected.ok());
  const Cluster c = *detected;
  const std::string db = "coroot_cluster_test";
  const std::string qdb = "`" + db + "`";
  const std::vector<std::string> ddl = {
      "CREATE DATABASE IF NOT EXISTS " + qdb + c.OnCluster(),
      "CREATE TABLE IF NOT EXISTS " + qdb + ".spans" + c.OnCluster() +
          " (Day Date, TraceId String, ServiceName String, Duration Int64) ENGINE = " + c.Engine("MergeTree") +
          " PARTITION BY Day ORDER BY (ServiceName, TraceId)",
      "CREATE TABLE IF NOT EXISTS " + qdb + ".per_service" + c.OnCluster() +
          " (ServiceName String, Total UInt64) ENGINE = " + c.Engine("SummingMergeTree") + " ORDER BY ServiceName",
      "CREATE MATERIALIZED VIEW IF NOT EXISTS " + qdb + ".per_service_mv" + c.OnCluster() + " TO " + qdb +
          ".per_service AS SELECT ServiceName, count() AS Total FROM " + qdb + ".spans GROUP BY ServiceName",
      "CREATE TABLE IF NOT EXISTS " + qdb + ".last_seen" + c.OnCluster() +
          " (ServiceName String, LastSeen DateTime) ENGINE = " + c.Engine("ReplacingMergeTree", "LastSeen") +
          " ORDER BY ServiceName",
      c.DistributedTableSql(db, "spans", "cityHash64(TraceId)"),
      c.DistributedTableSql(db, "per_service", "rand()"),
      c.DistributedTableSql(db, "last_seen", "rand()"),
  };
  for (const std::string& sql : ddl) {
    auto r = g_cluster->node(0)->Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
  // A second run changes nothing (the server creates the schema at every start).
  for (const std::string& sql : ddl) ASSERT_TRUE(g_cluster->node(0)->Query(sql).ok()) << sql;

  for (int n = 0; n < 4; ++n) {
    const std::string shard = "0" + std::to_string(n / 2 + 1), replica = "r" + std::to_string(n % 2 + 1);
    EXPECT_EQ(Q(n, "SELECT engine FROM system.tables WHERE database = '" + db + "' ORDER BY name"),
              "ReplicatedReplacingMergeTree\nDistributed\nReplicatedSummingMergeTree\nDistributed\n"
              "MaterializedView\nReplicatedMergeTree\nDistributed")
        << "node " << n;
    EXPECT_EQ(Q(n, "SELECT replica_path FROM system.replicas WHERE database = '" + db + "' AND table = 'spans'"),
              "/clickhouse/tables/" + shard + "/" + db + "/spans/replicas/" + replica);
  }

  // 1,000 spans of 100 traces over 4 services, inserted on node 3 (any node will do).
  clickhouse::RowBinaryWriter w;
  const int kSpans = 1000;
  for (int i = 0; i < kSpans; ++i) {
    w.UInt16(19000);  // Date: days since the epoch
    w.String("trace-" + std::to_string(i % 100));
    w.String("svc-" + std::to_string(i % 4));
    w.Int64(i);
  }
  Status st = g_cluster->node(3)->Insert(c.InsertTable(db, "spans") + " (Day, TraceId, ServiceName, Duration)",
                                         "RowBinary", w.Take());
  ASSERT_TRUE(st.ok()) << st.ToString();

  for (int n = 0; n < 4; ++n) Q(n, "SYSTEM SYNC REPLICA " + qdb + ".spans");
  for (int n = 0; n < 4; ++n) Q(n, "SYSTEM SYNC REPLICA " + qdb + ".per_service");
  const int shard1 = std::stoi(Q(0, "SELECT count() FROM " + qdb + ".spans"));
  const int shard2 = std::stoi(Q(2, "SELECT count() FROM " + qdb + ".spans"));
  EXPECT_GT(shard1, 0);
  EXPECT_GT(shard2, 0);
  EXPECT_EQ(shard1 + shard2, kSpans);
  EXPECT_EQ(Q(1, "SELECT count() FROM " + qdb + ".spans"), std::to_string(shard1));  // replica of shard 1
  EXPECT_EQ(Q(3, "SELECT count() FROM " + qdb + ".spans"), std::to_string(shard2));
  // cityHash64(TraceId) keeps each trace on one shard.
  const std::string traces1 = Q(0, "SELECT groupUniqArray(TraceId) FROM " + qdb + ".spans");
  for (const std::string& id : {std::string("trace-0"), std::string("trace-1"), std::string("trace-2")}) {
    const bool on1 = traces1.find("'" + id + "'") != std::string::npos;
    EXPECT_EQ(Q(on1 ? 2 : 0, "SELECT count() FROM " + qdb + ".spans WHERE TraceId = '" + id + "'"), "0") << id;
  }

  // Reads through the distributed tables, from any node, with columns qualified by the table name.
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(Q(n, "SELECT count(), sum(spans.Duration) FROM " + c.ReadTable(db, "spans")),
              std::to_string(kSpans) + "\t" + std::to_string(kSpans * (kSpans - 1) / 2));
    EXPECT_EQ(Q(n, "SELECT ServiceName, sum(Total) FROM " + c.ReadTable(db, "per_service") +
                       " GROUP BY ServiceName ORDER BY ServiceName"),
              "svc-0\t250\nsvc-1\t250\nsvc-2\t250\nsvc-3\t250");
  }
  // Storage stats over one replica of every shard.
  EXPECT_EQ(Q(0, "SELECT sum(rows) FROM " + c.SystemParts() + " WHERE database = '" + db + "' AND table = 'spans' AND active"),
            std::to_string(kSpans));
}

// ClickHouse Cloud cannot run here: a client that answers the detection's queries as Cloud's
// servers do (ZooKeeper and a `default` cluster, but cloud_mode_engine 2).
class CloudLikeClient : public clickhouse::IClickHouseClient {
 public:
  explicit CloudLikeClient(std::string mode) : mode_(std::move(mode)) {}
  StatusOr<std::string> Query(const std::string& sql, const std::string&) override {
    if (sql.find("cloud_mode_engine") != std::string::npos) return mode_;
    if (sql.find("system.zookeeper") != std::string::npos) return std::string("1\n");
    if (sql.find("system.clusters") != std::string::npos) return std::string("default\n");
    return InvalidArgument("unexpected query: " + sql);
  }
  Status Insert(const std::string&, const std::string&, const std::string&) override { return Status::Ok(); }
  Status Ping() override { return Status::Ok(); }
  std::string Describe() const override { return "cloud-like"; }

 private:
  std::string mode_;
};

TEST(DetectCluster, ClickHouseCloudIsOneServer) {
  CloudLikeClient cloud("2\n"), self_managed("1\n"), old("");
  EXPECT_FALSE(DetectCluster(&cloud)->on());
  EXPECT_EQ(DetectCluster(&self_managed)->name(), "default");
  EXPECT_EQ(DetectCluster(&old)->name(), "default");  // servers without the setting
}

class ClusterEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_cluster;
    g_cluster = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);

}  // namespace
}  // namespace coroot::server::storage
