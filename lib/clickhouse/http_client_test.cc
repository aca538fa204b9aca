// Integration test of RemoteClient against a real ClickHouse server: Debian's clickhouse-server
// (18.16), started here on free loopback ports. 18.16 predates Map, DateTime64, codecs and TTL, so
// this covers the transport (queries, gzip RowBinary inserts, errors, auth); the full schema is
// proven on the embedded engine (embedded_client_test.cc).
#include "lib/clickhouse/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "lib/base/strings.h"
#include "lib/clickhouse/factory.h"
#include "lib/clickhouse/row_binary.h"
#include "lib/http/client.h"
#include "lib/testing/process.h"

namespace coroot::clickhouse {
namespace {

using namespace std::chrono_literals;

// One server for the whole binary: it takes a second to start.
class ClickHouseServer {
 public:
  ClickHouseServer() {
    dir_ = testing::MakeTempDir("coroot_ch_http_");
    http_port_ = testing::FreePort();
    int tcp_port = testing::FreePort();
    std::filesystem::create_directories(dir_ + "/data");
    std::filesystem::create_directories(dir_ + "/tmp");
    std::ofstream(dir_ + "/config.xml") << "<?xml version=\"1.0\"?>\n<yandex>\n"
        "  <logger><level>warning</level><log>" << dir_ << "/server.log</log><errorlog>" << dir_
        << "/server.err.log</errorlog></logger>\n"
        "  <listen_host>127.0.0.1</listen_host>\n"
        "  <http_port>" << http_port_ << "</http_port>\n"
        "  <tcp_port>" << tcp_port << "</tcp_port>\n"
        "  <mark_cache_size>67108864</mark_cache_size>\n"
        "  <path>" << dir_ << "/data/</path>\n"
        "  <tmp_path>" << dir_ << "/tmp/</tmp_path>\n"
        "  <users_config>" << dir_ << "/users.xml</users_config>\n"
        "  <default_profile>default</default_profile>\n"
        "  <default_database>default</default_database>\n"
        "  <timezone>UTC</timezone>\n"
        "</yandex>\n";
    // Two users: `default` without a password and `writer` with one, to prove basic auth.
    std::ofstream(dir_ + "/users.xml") << R"(<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <writer><password>s3cr'et:pw</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></writer>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
)";
    proc_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{"/usr/sbin/clickhouse-server", "--config-file=" + dir_ + "/config.xml"},
        dir_ + "/stdout.log");
    ready_ = testing::WaitFor([&] { return testing::HttpOk(url() + "/ping"); }, 30s);
  }
  ~ClickHouseServer() {
    proc_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(http_port_); }
  std::string url() const { return "http://" + address(); }
  std::string Log() const { return proc_->Log(); }

 private:
  std::string dir_;
  int http_port_ = 0;
  std::unique_ptr<testing::ChildProcess> proc_;
  bool ready_ = false;
};

ClickHouseServer* g_server = nullptr;

class Remote : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_server == nullptr) g_server = new ClickHouseServer;
  }
  void SetUp() override {
    ASSERT_TRUE(g_server->ready()) << "clickhouse-server did not start: " << g_server->Log();
    RemoteOptions o;
    o.address = g_server->address();
    auto c = RemoteClient::Create(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }
  std::string Scalar(const std::string& sql) {
    auto r = client_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? Trim(*r) : "<error>";
  }
  std::unique_ptr<RemoteClient> client_;
};

TEST_F(Remote, PingAndDescribe) {
  EXPECT_TRUE(client_->Ping().ok());
  EXPECT_EQ(client_->Describe(), "ClickHouse http://" + g_server->address() + " (database default, user default)");
  EXPECT_EQ(Scalar("SELECT version()").substr(0, 3), "18.");
}

TEST_F(Remote, FactoryPicksTheHttpTransportForAnAddress) {
  Options o;
  o.address = g_server->address();
  auto c = Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->Ping().ok());
  EXPECT_NE(dynamic_cast<RemoteClient*>(c->get()), nullptr);
}

// Rows written with RowBinaryWriter, gzip-compressed on the wire, read back value by value.
TEST_F(Remote, RowBinaryGzipRoundTrip) {
  ASSERT_TRUE(client_->Query("DROP TABLE IF EXISTS rt").ok());
  auto ddl = client_->Query(
      "CREATE TABLE rt (ts DateTime, svc String, sev Int32, dur UInt64, score Float64, "
      "tags Array(String), flags FixedString(2), note Nullable(String)) "
      "ENGINE = MergeTree PARTITION BY toDate(ts) ORDER BY (svc, ts)");
  ASSERT_TRUE(ddl.ok()) << ddl.status().ToString();

  const uint32_t base = 1764460800;  // 2025-11-30 00:00:00 UTC
  const int n = 20000;
  RowBinaryWriter w;
  for (int i = 0; i < n; ++i) {
    w.DateTime(base + i);
    w.String("svc-" + std::to_string(i % 4));
    w.Int32(-i);
    w.UInt64(uint64_t(i) * 1000000007ull);
    w.Float64(i * 0.25);
    w.StringArray(i % 2 ? std::vector<std::string>{"a", "b'c"} : std::vector<std::string>{});
    ASSERT_TRUE(w.FixedString(i % 2 ? "xy" : "z", 2).ok());
    w.NullFlag(i % 3 == 0);
    if (i % 3 != 0) w.String("note\t" + std::to_string(i));
  }
  Status st = client_->Insert("rt (ts, svc, sev, dur, score, tags, flags, note)", "RowBinary", w.data());
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_EQ(Scalar("SELECT count(), uniqExact(svc), sum(sev), sum(score) FROM rt"),
            std::to_string(n) + "\t4\t" + std::to_string(-int64_t(n) * (n - 1) / 2) + "\t" +
                std::to_string(int64_t(n) * (n - 1) / 8));
  EXPECT_EQ(Scalar("SELECT toUnixTimestamp(ts), svc, sev, dur, tags, flags, note FROM rt WHERE sev = -12347"),
            std::to_string(base + 12347) + "\tsvc-3\t-12347\t" + std::to_string(12347ull * 1000000007ull) +
                "\t['a','b\\'c']\txy\tnote\\t12347");
  EXPECT_EQ(Scalar("SELECT flags, isNull(note) FROM rt WHERE sev = -12"), std::string("z\\0\t1"));
  EXPECT_EQ(Scalar("SELECT countIf(isNull(note)) FROM rt"), std::to_string((n + 2) / 3));
}

TEST_F(Remote, ErrorsCarryServerCodesAndClientStaysUsable) {
  auto syntax = client_->Query("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("Code: 62"), std::string::npos) << syntax.status().ToString();

  auto unknown = client_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("Code: 60"), std::string::npos) << unknown.status().ToString();

  // Truncated RowBinary: the server refuses the batch, nothing is half-inserted.
  ASSERT_TRUE(client_->Query("DROP TABLE IF EXISTS trunc").ok());
  ASSERT_TRUE(client_->Query("CREATE TABLE trunc (a UInt64, s String) ENGINE = MergeTree ORDER BY a").ok());
  RowBinaryWriter w;
  w.UInt64(1);
  w.String("ok");
  w.UInt64(2);
  w.VarUInt(100);  // a string that claims 100 bytes and has 3
  std::string bad = w.data() + "abc";
  Status ins = client_->Insert("trunc (a, s)", "RowBinary", bad);
  EXPECT_FALSE(ins.ok());
  EXPECT_EQ(ins.code(), StatusCode::kInvalidArgument) << ins.ToString();
  EXPECT_EQ(Scalar("SELECT count() FROM trunc"), "0");

  EXPECT_TRUE(client_->Ping().ok());
}

TEST_F(Remote, AuthenticatesWithBasicAuthAndRefusesBadPasswords) {
  ASSERT_TRUE(client_->Query("CREATE DATABASE IF NOT EXISTS other").ok());
  RemoteOptions o;
  o.address = "http://" + g_server->address() + "/";
  o.user = "writer";
  o.password = "s3cr'et:pw";
  o.database = "other";
  auto good = RemoteClient::Create(o);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE((*good)->Ping().ok());
  auto db = (*good)->Query("SELECT currentDatabase()");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(Trim(*db), "other");
  EXPECT_EQ((*good)->Describe().find("s3cr"), std::string::npos) << "the password must never be printed";

  o.password = "wrong";
  auto bad = RemoteClient::Create(o);
  ASSERT_TRUE(bad.ok());
  Status st = (*bad)->Ping();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
}

TEST_F(Remote, UnreachableServerIsUnavailableNotACrash) {
  RemoteOptions o;
  o.address = "127.0.0.1:" + std::to_string(testing::FreePort());
  o.timeout = 2s;
  auto c = RemoteClient::Create(o);
  ASSERT_TRUE(c.ok());
  Status st = (*c)->Ping();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("ClickHouse http://" + o.address), std::string::npos) << st.ToString();
}

TEST_F(Remote, ResponseSizeIsBounded) {
  RemoteOptions o;
  o.address = g_server->address();
  o.max_response_bytes = 1 << 16;
  auto c = RemoteClient::Create(o);
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Query("SELECT number FROM system.numbers LIMIT 1000000");
  EXPECT_FALSE(r.ok());
  auto small = (*c)->Query("SELECT number FROM system.numbers LIMIT 10");
  EXPECT_TRUE(small.ok()) << small.status().ToString();
}

class ServerEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_server;
    g_server = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(new ServerEnvironment);

}  // namespace
}  // namespace coroot::clickhouse
