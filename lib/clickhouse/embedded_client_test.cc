// Integration test of EmbeddedClient against the real libchdb engine.
// libchdb allows one engine per process, so every test here shares one client, opened by a global
// test environment and closed by it before the process exits (an open engine crashes exit()).
#include "lib/clickhouse/embedded_client.h"
#include "lib/clickhouse/embedded_test_environment.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "lib/base/strings.h"
#include "lib/clickhouse/row_binary.h"

namespace coroot::clickhouse {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new EmbeddedTestEnvironment("coroot_chdb_test"));
EmbeddedClient* Engine() { return EmbeddedTestEnvironment::client(); }

class Embedded : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(Engine(), nullptr) << EmbeddedTestEnvironment::error(); }

  // The single value of a one-row, one-column TSV result.
  std::string Scalar(const std::string& sql) {
    auto r = Engine()->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? Trim(*r) : "<error>";
  }
  void Exec(const std::string& sql) {
    auto r = Engine()->Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
};

// A cut-down otel_logs: the features Coroot's schema relies on.
std::string LogsTableDdl(const std::string& name) {
  return "CREATE TABLE " + name + R"( (
  Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  SeverityNumber Int32 CODEC(ZSTD(1)),
  TraceId String CODEC(ZSTD(1)),
  Body String CODEC(ZSTD(1)),
  Attrs Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  Duration UInt64,
  Score Float64,
  Tags Array(String),
  Flags FixedString(2),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_attr_keys mapKeys(Attrs) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, toUnixTimestamp(Timestamp))
TTL toDateTime(Timestamp) + INTERVAL 7 DAY
SETTINGS index_granularity = 64, ttl_only_drop_parts = 1)";
}

struct Row {
  int64_t ts_ns;
  std::string service;
  int32_t severity;
  std::string trace_id;
  std::string body;
  std::vector<std::pair<std::string, std::string>> attrs;
  uint64_t duration;
  double score;
  std::vector<std::string> tags;
};

int64_t NowMinusHourNs() {
  auto now = std::chrono::system_clock::now();
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - 3600;
  return s * 1000000000;
}

std::string TraceIdOf(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016x%016x", i * 7919u, i);
  return buf;
}

Row MakeRow(int i, int64_t base_ns) {
  Row r;
  r.ts_ns = base_ns + int64_t(i) * 1000000 + 123;  // ms apart, plus nanoseconds that must survive
  r.service = "svc-" + std::to_string(i % 3);
  r.severity = i % 24;
  r.trace_id = TraceIdOf(i);
  // The first 60 rows only: the token sits in the first granule of each service, so the index can skip.
  r.body = i < 60 ? "request failed: NullPointerException in handler " + std::to_string(i)
                  : "GET /api/item/" + std::to_string(i) + " status=200";
  r.attrs = {{"k", "v" + std::to_string(i)}, {"host", "host-" + std::to_string(i % 5)}};
  if (i % 7 == 0) r.attrs.emplace_back("error", "true");
  r.duration = uint64_t(i) * 1000;
  r.score = i * 0.25;
  for (int t = 0; t < i % 3; ++t) r.tags.push_back("t" + std::to_string(t));
  return r;
}

void WriteRow(RowBinaryWriter& w, const Row& r) {
  w.DateTime64FromNanos(r.ts_ns, 9);
  w.String(r.service);
  w.Int32(r.severity);
  w.String(r.trace_id);
  w.String(r.body);
  w.StringMap(r.attrs);
  w.UInt64(r.duration);
  w.Float64(r.score);
  w.StringArray(r.tags);
  Status st = w.FixedString("ab", 2);
  (void)st;
}

const char kColumns[] = "(Timestamp, ServiceName, SeverityNumber, TraceId, Body, Attrs, Duration, Score, Tags, Flags)";

TEST_F(Embedded, DescribeAndPing) {
  EXPECT_TRUE(Engine()->Ping().ok());
  std::string d = Engine()->Describe();
  EXPECT_NE(d.find("libchdb"), std::string::npos) << d;
  EXPECT_NE(d.find(EmbeddedTestEnvironment::dir()), std::string::npos) << d;
  EXPECT_EQ(Scalar("SELECT version() >= '24'"), "1") << Scalar("SELECT version()");
}

TEST_F(Embedded, SchemaKeepsTtlCodecsAndIndexes) {
  Exec("CREATE DATABASE IF NOT EXISTS coroot_schema");
  Exec(LogsTableDdl("coroot_schema.otel_logs"));
  auto r = Engine()->Query("SHOW CREATE TABLE coroot_schema.otel_logs", "TSVRaw");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string& ddl = *r;
  for (const char* want : {"Map(LowCardinality(String), String)", "DateTime64(9)", "CODEC(Delta(8), ZSTD(1))",
                           "TTL toDateTime(Timestamp) + toIntervalDay(7)",
                           "INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1",
                           "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
                           "INDEX idx_attr_keys mapKeys(Attrs) TYPE bloom_filter(0.01) GRANULARITY 1",
                           "ttl_only_drop_parts = 1"}) {
    EXPECT_NE(ddl.find(want), std::string::npos) << "missing " << want << " in:\n" << ddl;
  }
  // Creating it again is a typed error, not a crash.
  auto again = Engine()->Query(LogsTableDdl("coroot_schema.otel_logs"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
}

TEST_F(Embedded, RowBinaryAndJsonRoundTrip) {
  Exec("CREATE DATABASE IF NOT EXISTS coroot_rt");
  Exec("DROP TABLE IF EXISTS coroot_rt.logs");
  Exec(LogsTableDdl("coroot_rt.logs"));

  const int n = 600;
  const int64_t base = NowMinusHourNs();
  std::vector<Row> rows;
  RowBinaryWriter w;
  for (int i = 0; i < n; ++i) {
    rows.push_back(MakeRow(i, base));
    WriteRow(w, rows.back());
  }
  // Two batches: the stream insert must work more than once on the same connection.
  std::string all = w.Take();
  RowBinaryWriter first, second;
  for (int i = 0; i < n; ++i) WriteRow(i < n / 2 ? first : second, rows[i]);
  ASSERT_EQ(first.size() + second.size(), all.size());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Engine()->Insert(std::string("coroot_rt.logs ") + kColumns, "RowBinary", first.data()).ok());
  Status st = Engine()->Insert(std::string("coroot_rt.logs ") + kColumns, "RowBinary", second.data());
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::cout << "[ info ] embedded RowBinary insert of " << n << " rows: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";

  // JSONEachRow, with a Map given as an object and the timestamp as text in the engine's time zone.
  // The time is recent: a part wholly past the TTL may be dropped by a background merge at any moment.
  const std::string recent = Scalar("SELECT toString(toStartOfMinute(now()) - INTERVAL 1 HOUR)");
  std::string json =
      R"({"Timestamp":")" + recent + R"(.123456789","ServiceName":"json-svc","SeverityNumber":17,"TraceId":"t-json-1",)"
      R"("Body":"json row one timeout","Attrs":{"k":"json-v1","http.method":"POST"},"Duration":5,"Score":0.5,"Tags":["x","y"],"Flags":"cd"})"
      "\n"
      R"({"Timestamp":")" + recent + R"(","ServiceName":"json-svc","SeverityNumber":9,"TraceId":"t-json-2",)"
      R"("Body":"json row two","Attrs":{},"Duration":7,"Score":1.25,"Tags":[],"Flags":"ef"})"
      "\n";
  st = Engine()->Insert("coroot_rt.logs", "JSONEachRow", json);
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_EQ(Scalar("SELECT count() FROM coroot_rt.logs"), std::to_string(n + 2));
  EXPECT_EQ(Scalar("SELECT count(), sum(Duration), sum(Score) FROM coroot_rt.logs WHERE ServiceName LIKE 'svc-%'"),
            "600\t179700000\t44925");
  EXPECT_EQ(Scalar("SELECT count() FROM coroot_rt.logs WHERE ServiceName = 'svc-1'"), "200");
  // Map lookups.
  EXPECT_EQ(Scalar("SELECT Attrs['k'] FROM coroot_rt.logs WHERE TraceId = '" + TraceIdOf(123) + "'"), "v123");
  EXPECT_EQ(Scalar("SELECT countIf(Attrs['error'] = 'true') FROM coroot_rt.logs"), "86");
  EXPECT_EQ(Scalar("SELECT count() FROM coroot_rt.logs WHERE Attrs['host'] = 'host-3'"), "120");
  EXPECT_EQ(Scalar("SELECT Attrs['http.method'], Attrs['missing'] = '' FROM coroot_rt.logs WHERE TraceId = 't-json-1'"),
            "POST\t1");
  // Exact values of one row, nanoseconds included.
  const Row& r = rows[123];
  EXPECT_EQ(Scalar("SELECT toUnixTimestamp64Nano(Timestamp), ServiceName, SeverityNumber, Body, Duration, Score, "
                   "Tags, Flags, mapSort(Attrs) FROM coroot_rt.logs WHERE TraceId = '" + r.trace_id + "'"),
            std::to_string(r.ts_ns) + "\tsvc-0\t3\tGET /api/item/123 status=200\t123000\t30.75\t[]\tab\t"
            "{'host':'host-3','k':'v123'}");
  EXPECT_EQ(Scalar("SELECT Tags, Flags, SeverityNumber FROM coroot_rt.logs WHERE TraceId = 't-json-1'"),
            "['x','y']\tcd\t17");
  EXPECT_EQ(Scalar("SELECT toString(Timestamp) FROM coroot_rt.logs WHERE TraceId = 't-json-1'"),
            recent + ".123456789");

  // Token search. force_data_skipping_indices makes the query fail if idx_body is not used.
  EXPECT_EQ(Scalar("SELECT count() FROM coroot_rt.logs WHERE hasToken(Body, 'NullPointerException') "
                   "SETTINGS force_data_skipping_indices = 'idx_body'"),
            "60");
  EXPECT_EQ(Scalar("SELECT count() FROM coroot_rt.logs WHERE hasToken(Body, 'timeout') "
                   "SETTINGS force_data_skipping_indices = 'idx_body'"),
            "1");
  // ... and it skips granules: the token lives in 3 of the table's granules.
  auto plan = Engine()->Query(
      "EXPLAIN indexes = 1 SELECT count() FROM coroot_rt.logs WHERE hasToken(Body, 'NullPointerException')",
      "TSVRaw");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto at = plan->find("Name: idx_body");
  ASSERT_NE(at, std::string::npos) << *plan;
  auto g = plan->find("Granules: ", at);
  ASSERT_NE(g, std::string::npos) << *plan;
  uint64_t selected = 0, total = 0;
  std::string granules = plan->substr(g + 10, plan->find('\n', g) - g - 10);  // "3/11"
  auto slash = granules.find('/');
  ASSERT_NE(slash, std::string::npos) << granules;
  ASSERT_TRUE(ParseUint64(granules.substr(0, slash), &selected) && ParseUint64(granules.substr(slash + 1), &total))
      << granules;
  EXPECT_LT(selected, total) << *plan;
  // The bloom filter on TraceId is used for point lookups.
  EXPECT_EQ(Scalar("SELECT count() FROM coroot_rt.logs WHERE TraceId = '" + TraceIdOf(7) +
                   "' SETTINGS force_data_skipping_indices = 'idx_trace_id'"),
            "1");
}

TEST_F(Embedded, TtlDropsExpiredParts) {
  Exec("CREATE DATABASE IF NOT EXISTS coroot_ttl");
  Exec("DROP TABLE IF EXISTS coroot_ttl.logs");
  Exec(LogsTableDdl("coroot_ttl.logs"));
  RowBinaryWriter w;
  const int64_t now = NowMinusHourNs();
  WriteRow(w, MakeRow(1, now));
  WriteRow(w, MakeRow(2, now - int64_t(30) * 86400 * 1000000000));  // 30 days old: its own partition
  ASSERT_TRUE(Engine()->Insert(std::string("coroot_ttl.logs ") + kColumns, "RowBinary", w.data()).ok());
  Exec("OPTIMIZE TABLE coroot_ttl.logs FINAL");
  EXPECT_EQ(Scalar("SELECT groupArray(TraceId) FROM coroot_ttl.logs"), "['" + TraceIdOf(1) + "']");
}

TEST_F(Embedded, ErrorsCarryTheServerMessageAndLeaveTheClientUsable) {
  auto bad = Engine()->Query("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Code: 62"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("Syntax error"), std::string::npos) << bad.status().message();

  auto unknown = Engine()->Query("SELECT * FROM no_such_table_here");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("Code: 60"), std::string::npos) << unknown.status().message();
  EXPECT_NE(unknown.status().message().find("no_such_table_here"), std::string::npos) << unknown.status().message();

  Status ins = Engine()->Insert("no_such_db.no_such_table", "RowBinary", std::string(4, '\0'));
  ASSERT_FALSE(ins.ok());
  EXPECT_NE(ins.message().find("Code: 81"), std::string::npos) << ins.message();

  Exec("CREATE TABLE IF NOT EXISTS default.small (a UInt32, s String) ENGINE = MergeTree ORDER BY a");
  Exec("TRUNCATE TABLE default.small");
  // Truncated RowBinary: a UInt32 needs 4 bytes.
  ins = Engine()->Insert("default.small", "RowBinary", std::string("\x01\x00", 2));
  ASSERT_FALSE(ins.ok());
  EXPECT_EQ(ins.code(), StatusCode::kInvalidArgument) << ins.ToString();
  EXPECT_NE(ins.message().find("Code: 33"), std::string::npos) << ins.message();

  auto bad_format = Engine()->Query("SELECT 1", "NoSuchFormat");
  EXPECT_FALSE(bad_format.ok());

  // Still works.
  EXPECT_TRUE(Engine()->Ping().ok());
  RowBinaryWriter w;
  w.UInt32(42);
  w.String("ok");
  ASSERT_TRUE(Engine()->Insert("default.small (a, s)", "RowBinary", w.data()).ok());
  EXPECT_EQ(Scalar("SELECT a, s FROM default.small"), "42\tok");
  EXPECT_TRUE(Engine()->Insert("default.small", "RowBinary", "").ok()) << "empty insert is a no-op";
}

TEST_F(Embedded, SecondEngineIsRefused) {
  EmbeddedOptions o;
  o.data_dir = EmbeddedTestEnvironment::dir() + "/other";
  auto second = EmbeddedClient::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("one per process"), std::string::npos) << second.status().message();
  EXPECT_TRUE(Engine()->Ping().ok());
}

TEST_F(Embedded, ConcurrentCallsAreSerialized) {
  Exec("CREATE TABLE IF NOT EXISTS default.conc (t UInt32, i UInt32) ENGINE = MergeTree ORDER BY (t, i)");
  Exec("TRUNCATE TABLE default.conc");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (uint32_t i = 0; i < 25; ++i) {
        RowBinaryWriter w;
        w.UInt32(t);
        w.UInt32(i);
        if (!Engine()->Insert("default.conc", "RowBinary", w.data()).ok()) ++failures;
        if (!Engine()->Query("SELECT count() FROM default.conc").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Scalar("SELECT count(), uniqExact(t, i) FROM default.conc"), "100\t100");
}

// Information only (no timing assertion): RowBinary ingest rate through the stream-insert calls.
TEST_F(Embedded, RowBinaryThroughput) {
  Exec("CREATE DATABASE IF NOT EXISTS coroot_speed");
  Exec("DROP TABLE IF EXISTS coroot_speed.logs");
  Exec(LogsTableDdl("coroot_speed.logs"));
  const int n = 100000;
  const int64_t base = NowMinusHourNs();
  RowBinaryWriter w;
  for (int i = 0; i < n; ++i) WriteRow(w, MakeRow(i, base));
  auto t0 = std::chrono::steady_clock::now();
  Status st = Engine()->Insert(std::string("coroot_speed.logs ") + kColumns, "RowBinary", w.data());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Scalar("SELECT count() FROM coroot_speed.logs"), std::to_string(n));
  std::cout << "[ info ] embedded RowBinary: " << n << " rows (" << w.size() / 1024 << " KiB) in " << secs
            << " s = " << static_cast<int64_t>(n / secs) << " rows/s\n";
  RecordProperty("rows_per_second", static_cast<int>(n / secs));
}

}  // namespace
}  // namespace coroot::clickhouse
