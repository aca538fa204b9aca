// Integration test of the logs/traces schema against the real embedded engine (libchdb).
// One engine per process: every test shares the client opened by the environment.
#include "server/storage/clickhouse/schema.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_test_environment.h"

namespace coroot::server::storage {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new clickhouse::EmbeddedTestEnvironment("coroot_schema_test"));
clickhouse::EmbeddedClient* Engine() { return clickhouse::EmbeddedTestEnvironment::client(); }
const std::string& EngineError() { return clickhouse::EmbeddedTestEnvironment::error(); }

class Schema : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(Engine(), nullptr) << EngineError(); }
  std::string Q(const std::string& sql) {
    auto r = Engine()->Query(sql, "TSVRaw");
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? Trim(*r) : "<error>";
  }
};

TEST(SchemaNames, ProjectDatabaseAndTtl) {
  EXPECT_EQ(ProjectDatabase("abc123XY"), "coroot_abc123XY");
  EXPECT_EQ(ProjectDatabase("a-b.c`d"), "coroot_a_b_c_d");
  EXPECT_EQ(TtlInterval(std::chrono::hours(24 * 7)), "toIntervalDay(7)");
  EXPECT_EQ(TtlInterval(std::chrono::hours(36)), "toIntervalSecond(129600)");
  EXPECT_EQ(TtlInterval(std::chrono::milliseconds(10)), "toIntervalSecond(1)");
}

TEST_F(Schema, CreatedTwiceWithTablesColumnsCodecsIndexesAndTtls) {
  SchemaOptions o;
  o.database = "coroot_p1";
  o.layout = SchemaLayout::kCoroot;  // Coroot's codecs to the letter; kCompact is tested below
  o.traces_ttl = std::chrono::hours(24 * 3);
  o.logs_ttl = std::chrono::hours(24 * 5);
  o.profiles_ttl = std::chrono::hours(24 * 2);
  Status st = CreateSchema(Engine(), o);
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = CreateSchema(Engine(), o);  // idempotent
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(name || ':' || engine), ',') FROM "
              "(SELECT name, engine FROM system.tables WHERE database = 'coroot_p1' ORDER BY name)"),
            "otel_logs:MergeTree,"
            "otel_logs_service_name_severity_text:ReplacingMergeTree,"
            "otel_logs_service_name_severity_text_mv:MaterializedView,"
            "otel_traces:MergeTree,"
            "otel_traces_histogram:SummingMergeTree,"
            "otel_traces_histogram_mv:MaterializedView,"
            "otel_traces_service_name:ReplacingMergeTree,"
            "otel_traces_service_name_mv:MaterializedView,"
            "otel_traces_trace_id_ts:MergeTree,"
            "otel_traces_trace_id_ts_mv:MaterializedView,"
            "profiling_profiles:ReplacingMergeTree,"
            "profiling_profiles_mv:MaterializedView,"
            "profiling_samples:MergeTree,"
            "profiling_stacks:ReplacingMergeTree");

  // Columns of otel_logs in order, with types and codecs.
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(name || ' ' || type || ' ' || compression_codec), '\\n') FROM "
              "(SELECT name, type, compression_codec FROM system.columns WHERE database = 'coroot_p1' AND "
              "table = 'otel_logs' ORDER BY position)"),
            "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))\n"
            "TraceId String CODEC(ZSTD(1))\n"
            "SpanId String CODEC(ZSTD(1))\n"
            "TraceFlags UInt32 CODEC(ZSTD(1))\n"
            "SeverityText LowCardinality(String) CODEC(ZSTD(1))\n"
            "SeverityNumber Int32 CODEC(ZSTD(1))\n"
            "ServiceName LowCardinality(String) CODEC(ZSTD(1))\n"
            "Body String CODEC(ZSTD(1))\n"
            "ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))\n"
            "LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))");
  // otel_traces: the nested columns are flattened, and the materialized column exists.
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(name || ' ' || type || ' ' || default_kind), '\\n') FROM "
              "(SELECT name, type, default_kind FROM system.columns WHERE database = 'coroot_p1' AND "
              "table = 'otel_traces' ORDER BY position)"),
            "Timestamp DateTime64(9) \nTraceId String \nSpanId String \nParentSpanId String \nTraceState String \n"
            "SpanName LowCardinality(String) \nSpanKind LowCardinality(String) \nServiceName LowCardinality(String) \n"
            "ResourceAttributes Map(LowCardinality(String), String) \n"
            "SpanAttributes Map(LowCardinality(String), String) \nDuration Int64 \n"
            "StatusCode LowCardinality(String) \nStatusMessage String \n"
            "Events.Timestamp Array(DateTime64(9)) \nEvents.Name Array(LowCardinality(String)) \n"
            "Events.Attributes Array(Map(LowCardinality(String), String)) \n"
            "Links.TraceId Array(String) \nLinks.SpanId Array(String) \nLinks.TraceState Array(String) \n"
            "Links.Attributes Array(Map(LowCardinality(String), String)) \n"
            "NetSockPeerAddr LowCardinality(String) MATERIALIZED");

  // Skip indexes.
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(table || '.' || name || ' ' || type_full || ' ' || expr), '\\n') "
              "FROM (SELECT * FROM system.data_skipping_indices WHERE database = 'coroot_p1' ORDER BY table, name)"),
            "otel_logs.idx_body tokenbf_v1(32768, 3, 0) Body\n"
            "otel_logs.idx_log_attr_key bloom_filter(0.01) mapKeys(LogAttributes)\n"
            "otel_logs.idx_log_attr_value bloom_filter(0.01) mapValues(LogAttributes)\n"
            "otel_logs.idx_res_attr_key bloom_filter(0.01) mapKeys(ResourceAttributes)\n"
            "otel_logs.idx_res_attr_value bloom_filter(0.01) mapValues(ResourceAttributes)\n"
            "otel_logs.idx_trace_id bloom_filter(0.001) TraceId\n"
            "otel_traces.idx_duration minmax Duration\n"
            "otel_traces.idx_res_attr_key bloom_filter(0.01) mapKeys(ResourceAttributes)\n"
            "otel_traces.idx_res_attr_value bloom_filter(0.01) mapValues(ResourceAttributes)\n"
            "otel_traces.idx_span_attr_key bloom_filter(0.01) mapKeys(SpanAttributes)\n"
            "otel_traces.idx_span_attr_value bloom_filter(0.01) mapValues(SpanAttributes)\n"
            "otel_traces.idx_trace_id bloom_filter(0.001) TraceId\n"
            "otel_traces_trace_id_ts.idx_trace_id bloom_filter(0.001) TraceId");

  // TTLs from the options, sorting keys and settings.
  std::string logs = Q("SELECT create_table_query FROM system.tables WHERE database='coroot_p1' AND name='otel_logs'");
  EXPECT_NE(logs.find("TTL toDateTime(Timestamp) + toIntervalDay(5)"), std::string::npos) << logs;
  EXPECT_NE(logs.find("ttl_only_drop_parts = 1"), std::string::npos) << logs;
  std::string traces =
      Q("SELECT create_table_query FROM system.tables WHERE database='coroot_p1' AND name='otel_traces'");
  EXPECT_NE(traces.find("TTL toDateTime(Timestamp) + toIntervalDay(3)"), std::string::npos) << traces;
  EXPECT_EQ(Q("SELECT sorting_key FROM system.tables WHERE database='coroot_p1' AND name='otel_traces'"),
            "ServiceName, SpanName, toUnixTimestamp(Timestamp), TraceId");
  EXPECT_EQ(Q("SELECT sorting_key FROM system.tables WHERE database='coroot_p1' AND name='otel_logs'"),
            "ServiceName, SeverityText, toUnixTimestamp(Timestamp), TraceId");
  for (const char* tbl : {"otel_logs_service_name_severity_text", "otel_traces_service_name", "otel_traces_histogram",
                          "otel_traces_trace_id_ts"}) {
    std::string ddl = Q(std::string("SELECT create_table_query FROM system.tables WHERE database='coroot_p1' AND name='") +
                        tbl + "'");
    EXPECT_NE(ddl.find(std::string(tbl).find("logs") != std::string::npos ? "toIntervalDay(5)" : "toIntervalDay(3)"),
              std::string::npos)
        << ddl;
  }

  for (const char* tbl : {"profiling_stacks", "profiling_samples", "profiling_profiles"}) {
    std::string ddl = Q(std::string("SELECT create_table_query FROM system.tables WHERE database='coroot_p1' AND name='") +
                        tbl + "'");
    EXPECT_NE(ddl.find("toIntervalDay(2)"), std::string::npos) << ddl;
  }
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(name || ' ' || type), ', ') FROM (SELECT name, type FROM "
              "system.columns WHERE database = 'coroot_p1' AND table = 'profiling_samples' ORDER BY position)"),
            "ServiceName LowCardinality(String), Type LowCardinality(String), Start DateTime64(9), End DateTime64(9), "
            "Labels Map(LowCardinality(String), String), StackHash UInt64, Value Int64");
  EXPECT_EQ(Q("SELECT sorting_key FROM system.tables WHERE database='coroot_p1' AND name='profiling_samples'"),
            "ServiceName, Type, toUnixTimestamp(Start), toUnixTimestamp(End)");
  EXPECT_EQ(Q("SELECT engine_full LIKE 'ReplacingMergeTree(LastSeen)%' FROM system.tables WHERE database='coroot_p1' "
              "AND name='profiling_stacks'"),
            "1");

  // A second run with other TTLs does not alter existing tables.
  SchemaOptions other = o;
  other.logs_ttl = std::chrono::hours(24);
  ASSERT_TRUE(CreateSchema(Engine(), other).ok());
  logs = Q("SELECT create_table_query FROM system.tables WHERE database='coroot_p1' AND name='otel_logs'");
  EXPECT_NE(logs.find("toIntervalDay(5)"), std::string::npos) << logs;
}

// otel_logs in the compact layout: name, type, codec per column.
const char* kCompactLogColumns =
    "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(3))\n"
    "TraceId String CODEC(ZSTD(1))\n"
    "SpanId String CODEC(ZSTD(1))\n"
    "TraceFlags UInt32 CODEC(T64, ZSTD(3))\n"
    "SeverityText LowCardinality(String) CODEC(ZSTD(3))\n"
    "SeverityNumber Int32 CODEC(T64, ZSTD(3))\n"
    "ServiceName LowCardinality(String) CODEC(ZSTD(3))\n"
    "Body String CODEC(ZSTD(1))\n"
    "ResourceAttributes Map(LowCardinality(String), LowCardinality(String)) CODEC(ZSTD(3))\n"
    "LogAttributes Map(LowCardinality(String), LowCardinality(String)) CODEC(ZSTD(3))";
// The same codecs on a table created with Coroot's types (an upgrade changes codecs only).
const char* kCompactLogCodecsOnCorootTypes =
    "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(3))\n"
    "TraceId String CODEC(ZSTD(1))\n"
    "SpanId String CODEC(ZSTD(1))\n"
    "TraceFlags UInt32 CODEC(T64, ZSTD(3))\n"
    "SeverityText LowCardinality(String) CODEC(ZSTD(3))\n"
    "SeverityNumber Int32 CODEC(T64, ZSTD(3))\n"
    "ServiceName LowCardinality(String) CODEC(ZSTD(3))\n"
    "Body String CODEC(ZSTD(1))\n"
    "ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(3))\n"
    "LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(3))";

// The same rows read back from both layouts give the same answer, column for column.
TEST_F(Schema, CompactLayoutReadsBackLikeCoroots) {
  for (auto [db, layout] : {std::pair{"coroot_same_a", SchemaLayout::kCoroot}, {"coroot_same_b", SchemaLayout::kCompact}}) {
    SchemaOptions o;
    o.database = db;
    o.layout = layout;
    ASSERT_TRUE(CreateSchema(Engine(), o).ok());
    Q(std::string("INSERT INTO ") + db + ".otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, "
      "SeverityNumber, ServiceName, Body, ResourceAttributes, LogAttributes) SELECT fromUnixTimestamp64Nano(toInt64(1796025600000000000 - "
      "number * 1000000007)), if(number % 3 = 0, hex(number), ''), '', 0, 'INFO', 9, 'svc' || toString(number % 4), 'line ' || "
      "toString(number), map('host.name', 'node-' || toString(number % 5)), map('pid', toString(number)) "
      "FROM numbers(1000)");
    Q(std::string("INSERT INTO ") + db + ".otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, "
      "ServiceName, ResourceAttributes, SpanAttributes, Duration, StatusCode, `Events.Timestamp`, `Events.Name`, "
      "`Events.Attributes`) SELECT fromUnixTimestamp64Nano(toInt64(1796025600000000000 - number * 1000000007)), hex(intDiv(number, 4)), hex(number), "
      "if(number % 4 = 0, '', hex(number - 1)), 'GET', 'svc' || toString(number % 3), map('k', 'v'), "
      "map('http.url', '/x/' || toString(number)), number * 1000, 'STATUS_CODE_UNSET', "
      "[fromUnixTimestamp64Nano(toInt64(1796025600000000000))], "
      "['e'], [map('a', 'b')] FROM numbers(1000)");
  }
  for (const char* t : {"otel_logs", "otel_traces"}) {
    std::string a = Q(std::string("SELECT * FROM coroot_same_a.") + t + " ORDER BY Timestamp, SpanId FORMAT JSONEachRow");
    std::string b = Q(std::string("SELECT * FROM coroot_same_b.") + t + " ORDER BY Timestamp, SpanId FORMAT JSONEachRow");
    EXPECT_GT(a.size(), 1000u) << t;
    size_t diff = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
    EXPECT_TRUE(a == b) << t << " differs at byte " << diff << ": " << a.substr(diff, 200) << " vs "
                        << b.substr(diff, 200);
  }
  EXPECT_EQ(Q("SELECT count() FROM coroot_same_b.otel_logs WHERE ResourceAttributes['host.name'] = 'node-3' AND "
              "hasToken(Body, '13')"),
            "1");
}

// A table created in Coroot's layout keeps its columns and sort key and gets the compact codecs.
TEST_F(Schema, CodecUpgradeOfCorootTables) {
  SchemaOptions o;
  o.database = "coroot_upgrade";
  o.layout = SchemaLayout::kCoroot;
  ASSERT_TRUE(CreateSchema(Engine(), o).ok());
  Q("INSERT INTO coroot_upgrade.otel_logs (Timestamp, ServiceName, Body) VALUES (now64(9), 'svc', 'before')");
  o.layout = SchemaLayout::kCompact;
  Status st = CreateSchema(Engine(), o);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(CreateSchema(Engine(), o).ok());  // idempotent
  Q("INSERT INTO coroot_upgrade.otel_logs (Timestamp, ServiceName, Body) VALUES (now64(9), 'svc', 'after')");
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(name || ' ' || type || ' ' || compression_codec), '\\n') FROM "
              "(SELECT name, type, compression_codec FROM system.columns WHERE database = 'coroot_upgrade' AND "
              "table = 'otel_logs' ORDER BY position)"),
            kCompactLogCodecsOnCorootTypes);
  EXPECT_EQ(Q("SELECT sorting_key FROM system.tables WHERE database='coroot_upgrade' AND name='otel_logs'"),
            "ServiceName, SeverityText, toUnixTimestamp(Timestamp), TraceId");
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(Body), ',') FROM (SELECT Body FROM coroot_upgrade.otel_logs "
              "ORDER BY Timestamp)"),
            "before,after");
  // Fresh tables in the compact layout.
  o.database = "coroot_compact";
  ASSERT_TRUE(CreateSchema(Engine(), o).ok());
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(name || ' ' || type || ' ' || compression_codec), '\\n') FROM "
              "(SELECT name, type, compression_codec FROM system.columns WHERE database = 'coroot_compact' AND "
              "table = 'otel_logs' ORDER BY position)"),
            kCompactLogColumns);
}

TEST_F(Schema, MaterializedViewsFeedTheirTables) {
  SchemaOptions o;
  o.database = "coroot_mv";
  ASSERT_TRUE(CreateSchema(Engine(), o).ok());
  // Two spans of one trace (a root server span and an erroring 30 ms client span) one minute ago.
  Q("INSERT INTO coroot_mv.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, "
    "SpanAttributes, Duration, StatusCode) VALUES "
    "(toDateTime64(now() - 60, 9), 't1', 's1', '', 'GET /', 'SPAN_KIND_SERVER', 'front', {}, 2000000, "
    "'STATUS_CODE_UNSET'), "
    "(toDateTime64(now() - 59, 9), 't1', 's2', 's1', 'SELECT', 'SPAN_KIND_CLIENT', 'front', "
    "{'net.sock.peer.addr':'10.0.0.1','net.peer.name':'db','net.peer.port':'5432'}, 30000000, 'STATUS_CODE_ERROR')");
  EXPECT_EQ(Q("SELECT NetSockPeerAddr FROM coroot_mv.otel_traces WHERE SpanId = 's2'"), "10.0.0.1");
  EXPECT_EQ(Q("SELECT TraceId, toUnixTimestamp64Nano(End) - toUnixTimestamp64Nano(Start) FROM coroot_mv.otel_traces_trace_id_ts"), "t1\t1000000000");
  EXPECT_EQ(Q("SELECT ServiceName FROM coroot_mv.otel_traces_service_name"), "front");
  EXPECT_EQ(Q("SELECT SpanName, SpanKind, Root, NetSockPeerAddr, NetPeerName, NetPeerPort, Bucket, Total, Failed "
              "FROM coroot_mv.otel_traces_histogram ORDER BY SpanName"),
            "GET /\tSPAN_KIND_SERVER\t1\t\t\t\t0\t1\t0\n"
            "SELECT\tSPAN_KIND_CLIENT\t0\t10.0.0.1\tdb\t5432\t25\t1\t1");
  Q("INSERT INTO coroot_mv.otel_logs (Timestamp, ServiceName, SeverityText, SeverityNumber, Body) VALUES "
    "(toDateTime64(now() - 5, 9), 'front', 'ERROR', 17, 'boom'), (toDateTime64(now() - 4, 9), 'front', 'INFO', 9, 'ok')");
  EXPECT_EQ(Q("SELECT ServiceName, SeverityText FROM coroot_mv.otel_logs_service_name_severity_text ORDER BY 2"),
            "front\tERROR\nfront\tINFO");
  Q("INSERT INTO coroot_mv.profiling_samples (ServiceName, Type, Start, End, StackHash, Value) VALUES "
    "('front', 'ebpf:cpu:nanoseconds', toDateTime64(now() - 120, 9), toDateTime64(now() - 60, 9), 1, 10), "
    "('front', 'ebpf:cpu:nanoseconds', toDateTime64(now() - 60, 9), toDateTime64(now(), 9), 2, 20)");
  EXPECT_EQ(Q("SELECT ServiceName, Type, toUnixTimestamp(LastSeen) >= toUnixTimestamp(now()) - 5 FROM "
              "coroot_mv.profiling_profiles"),
            "front\tebpf:cpu:nanoseconds\t1");
}

}  // namespace
}  // namespace coroot::server::storage
