// OtelWriter and the batch encodings against the real embedded engine (one per process).
#include "server/storage/clickhouse/otel_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_test_environment.h"

namespace coroot::server::storage {
namespace {

using namespace std::chrono_literals;

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new clickhouse::EmbeddedTestEnvironment("coroot_writer_test"));
clickhouse::EmbeddedClient* Engine() { return clickhouse::EmbeddedTestEnvironment::client(); }
const std::string& EngineError() { return clickhouse::EmbeddedTestEnvironment::error(); }

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Row i: i % 3 events, i % 2 links, i % 4 span attributes, unicode and empty strings.
void AddSpan(SpanBatch* b, int i, int64_t base) {
  b->timestamp.push_back(base + i * 1000 + 7);
  b->trace_id.Add("trace-" + std::to_string(i / 3));
  b->span_id.Add("span-" + std::to_string(i));
  b->parent_span_id.Add(i % 3 == 0 ? "" : "span-" + std::to_string(i - 1));
  b->trace_state.Add(i % 5 == 0 ? "k=v" : "");
  b->span_name.Add(i % 2 ? "GET /é" : "SELECT");
  b->span_kind.Add(i % 2 ? "SPAN_KIND_SERVER" : "SPAN_KIND_CLIENT");
  b->service_name.Add("svc-" + std::to_string(i % 4));
  b->resource_attributes.Put("service.name", "svc-" + std::to_string(i % 4));
  b->resource_attributes.EndRow();
  for (int a = 0; a < i % 4; ++a) b->span_attributes.Put("a" + std::to_string(a), std::to_string(i * a));
  b->span_attributes.EndRow();
  b->duration.push_back(i * 1000000);
  b->status_code.Add(i % 7 == 0 ? "STATUS_CODE_ERROR" : "STATUS_CODE_UNSET");
  b->status_message.Add(i % 7 == 0 ? "boom" : "");
  for (int e = 0; e < i % 3; ++e) {
    b->event_timestamp.push_back(base + i * 1000 + e);
    b->event_name.Add("ev" + std::to_string(e));
    if (e == 1) b->event_attributes.Put("x", "y" + std::to_string(i));
    b->event_attributes.EndRow();
  }
  b->events.Push(b->event_timestamp.size());
  for (int l = 0; l < i % 2; ++l) {
    b->link_trace_id.Add("lt" + std::to_string(i));
    b->link_span_id.Add("ls" + std::to_string(i));
    b->link_trace_state.Add("");
    b->link_attributes.Put("r", "s");
    b->link_attributes.EndRow();
  }
  b->links.Push(b->link_trace_id.size());
}

void AddLog(LogBatch* b, int i, int64_t base) {
  b->timestamp.push_back(base + i);
  b->trace_id.Add(i % 2 ? "t" + std::to_string(i) : "");
  b->span_id.Add("");
  b->trace_flags.push_back(i % 2);
  b->severity_text.Add(i % 3 ? "INFO" : "ERROR");
  b->severity_number.push_back(i % 3 ? 9 : 17);
  b->service_name.Add("svc-" + std::to_string(i % 2));
  b->body.Add("message " + std::to_string(i) + " ünïcode");
  b->resource_attributes.Put("service.name", "svc-" + std::to_string(i % 2));
  b->resource_attributes.EndRow();
  if (i % 2) b->log_attributes.Put("k", std::to_string(i));
  b->log_attributes.EndRow();
}

class Writer : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(Engine(), nullptr) << EngineError(); }
  std::string Q(const std::string& sql) {
    auto r = Engine()->Query(sql, "TSV");
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? *r : "<error>";
  }
};

TEST_F(Writer, NativeAndRowBinaryStoreIdenticalRows) {
  SpanBatch spans;
  LogBatch logs;
  int64_t base = NowNs() - 60'000'000'000;
  for (int i = 0; i < 500; ++i) AddSpan(&spans, i, base);
  for (int i = 0; i < 300; ++i) AddLog(&logs, i, base);
  for (const char* format : {"Native", "RowBinary"}) {
    OtelWriterOptions o;
    o.format = format;
    OtelWriter w(Engine(), o);
    w.Start();
    std::string db = std::string("coroot_fmt_") + format;
    SpanBatch s = spans;
    LogBatch l = logs;
    ASSERT_TRUE(w.AddSpans(db, &s).ok());
    ASSERT_TRUE(w.AddLogs(db, &l).ok());
    EXPECT_EQ(s.rows(), 0u);  // taken
    ASSERT_TRUE(w.Flush().ok());
    w.Stop();
  }
  const std::string spans_sql = " SELECT toUnixTimestamp64Nano(Timestamp), * EXCEPT Timestamp FROM {}.otel_traces ORDER BY SpanId";
  auto spans_of = [&](const std::string& db) {
    std::string sql = spans_sql;
    sql.replace(sql.find("{}"), 2, db);
    return Q(sql);
  };
  std::string native = spans_of("coroot_fmt_Native");
  EXPECT_EQ(native, spans_of("coroot_fmt_RowBinary"));
  EXPECT_EQ(Q("SELECT count(), sum(length(`Events.Name`)), sum(length(`Links.TraceId`)), "
              "sum(length(SpanAttributes)) FROM coroot_fmt_Native.otel_traces"),
            "500\t499\t250\t750\n");
  EXPECT_EQ(Q("SELECT `Events.Attributes`, `Links.Attributes`, SpanAttributes, SpanName FROM "
              "coroot_fmt_Native.otel_traces WHERE SpanId = 'span-5'"),
            "[{},{'x':'y5'}]\t[{'r':'s'}]\t{'a0':'0'}\tGET /é\n");
  EXPECT_EQ(Q("SELECT * FROM coroot_fmt_Native.otel_logs ORDER BY Timestamp"),
            Q("SELECT * FROM coroot_fmt_RowBinary.otel_logs ORDER BY Timestamp"));
  EXPECT_EQ(Q("SELECT count(), countIf(SeverityNumber = 17), sum(length(LogAttributes)) FROM coroot_fmt_Native.otel_logs"),
            "300\t100\t150\n");
}

TEST_F(Writer, FlushesAtRowCountAndAfterTheInterval) {
  OtelWriterOptions o;
  o.flush_rows = 100;
  o.flush_interval = 1500ms;
  OtelWriter w(Engine(), o);
  w.Start();
  int64_t base = NowNs();
  LogBatch a;
  for (int i = 0; i < 150; ++i) AddLog(&a, i, base);
  ASSERT_TRUE(w.AddLogs("coroot_flush", &a).ok());
  // 150 >= 100 rows: inserted without waiting for the interval.
  auto t0 = std::chrono::steady_clock::now();
  bool early = false;
  while (std::chrono::steady_clock::now() - t0 < 1200ms) {
    if (w.EnsureSchema("coroot_flush").ok() && Q("SELECT count() FROM coroot_flush.otel_logs") == "150\n") {
      early = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(early);
  LogBatch b;
  for (int i = 0; i < 10; ++i) AddLog(&b, i, base);
  ASSERT_TRUE(w.AddLogs("coroot_flush", &b).ok());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Q("SELECT count() FROM coroot_flush.otel_logs"), "150\n");  // 10 rows wait for the interval...
  std::this_thread::sleep_for(2000ms);
  EXPECT_EQ(Q("SELECT count() FROM coroot_flush.otel_logs"), "160\n");  // ...and then go in
  w.Stop();
}

// Within min_insert_interval of a table's last insert, a full batch waits (and keeps growing)
// unless max_insert_rows are waiting: 3 inserts for 150 + 150 + 1000 rows.
TEST_F(Writer, InsertsAtMostOncePerIntervalUnlessMaxRowsWait) {
  OtelWriterOptions o;
  o.flush_rows = 100;
  o.flush_interval = std::chrono::hours(1);
  o.min_insert_interval = 1500ms;
  o.max_insert_rows = 1000;
  OtelWriter w(Engine(), o);
  ASSERT_TRUE(w.EnsureSchema("coroot_interval").ok());
  w.Start();
  const std::string count = "SELECT count() FROM coroot_interval.otel_logs";
  auto wait_for_count = [&](const std::string& want, std::chrono::milliseconds limit) {
    auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < limit) {
      if (Q(count) == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  int64_t base = NowNs();
  LogBatch a, b, c;
  for (int i = 0; i < 150; ++i) AddLog(&a, i, base);
  for (int i = 0; i < 150; ++i) AddLog(&b, i, base);
  for (int i = 0; i < 1000; ++i) AddLog(&c, i, base);
  ASSERT_TRUE(w.AddLogs("coroot_interval", &a).ok());
  EXPECT_TRUE(wait_for_count("150\n", 1000ms));  // the table's first insert: at once
  ASSERT_TRUE(w.AddLogs("coroot_interval", &b).ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Q(count), "150\n");                  // 150 >= flush_rows, but the last insert was just now
  EXPECT_TRUE(wait_for_count("300\n", 3000ms));  // in once the interval has passed
  ASSERT_TRUE(w.AddLogs("coroot_interval", &c).ok());
  EXPECT_TRUE(wait_for_count("1300\n", 1000ms));  // max_insert_rows waiting: no wait for the interval
  std::vector<prom::MetricFamily> out;
  w.Collect(&out);
  double inserts = -1;
  for (const auto& f : out)
    if (f.name == "coroot_clickhouse_inserts_total")
      for (const auto& s : f.samples)
        if (s.labels.size() == 1 && s.labels[0].value == "ok") inserts = s.value;
  EXPECT_EQ(inserts, 3);
  w.Stop();
}

TEST_F(Writer, FullBufferRefusesAndStopFlushesTheRest) {
  OtelWriterOptions o;
  o.flush_interval = std::chrono::hours(1);
  o.max_buffer_bytes = 64 * 1024;
  OtelWriter w(Engine(), o);
  w.Start();
  int64_t base = NowNs();
  int accepted = 0, refused = 0;
  for (int r = 0; r < 100; ++r) {
    LogBatch b;
    for (int i = 0; i < 20; ++i) AddLog(&b, r * 20 + i, base);
    Status st = w.AddLogs("coroot_full", &b);
    if (st.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
      ++refused;
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
  EXPECT_LE(w.buffered_bytes(), o.max_buffer_bytes);
  std::vector<prom::MetricFamily> m;
  w.Collect(&m);
  bool counted = false;
  for (auto& f : m)
    for (auto& s : f.samples)
      if (f.name == "coroot_clickhouse_dropped_total" && s.value == refused) counted = true;
  EXPECT_TRUE(counted);
  w.Stop();  // the hour-long interval is not waited for
  EXPECT_EQ(Q("SELECT count() FROM coroot_full.otel_logs"), std::to_string(accepted * 20) + "\n");
}

TEST_F(Writer, RefusedRowsAreDroppedAndCountedNotRetriedForever) {
  OtelWriterOptions o;
  OtelWriter w(Engine(), o);
  w.Start();
  // A batch whose columns disagree (one trace id too few) makes a malformed insert.
  LogBatch b;
  AddLog(&b, 1, NowNs());
  AddLog(&b, 2, NowNs());
  b.trace_id.Truncate(1);
  ASSERT_TRUE(w.AddLogs("coroot_bad", &b).ok());
  Status st = w.Flush(20s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  LogBatch good;
  AddLog(&good, 3, NowNs());
  ASSERT_TRUE(w.AddLogs("coroot_bad", &good).ok());
  ASSERT_TRUE(w.Flush(20s).ok());
  EXPECT_EQ(Q("SELECT count() FROM coroot_bad.otel_logs"), "1\n");
  w.Stop();
}

// Parts written without their skip indexes answer the same, and get the indexes when merged.
TEST_F(Writer, SkipIndexesLeftToMergesAnswerTheSameAndAreBuiltByMerges) {
  int64_t base = NowNs() - 60'000'000'000;
  for (bool at_merge : {true, false}) {
    OtelWriterOptions o;
    o.skip_indexes_at_merge = at_merge;
    OtelWriter w(Engine(), o);
    EXPECT_EQ(w.InsertSettings(), at_merge ? "materialize_skip_indexes_on_insert = 0" : "");
    w.Start();
    const std::string db = at_merge ? "coroot_idx_merge" : "coroot_idx_insert";
    for (int part = 0; part < 2; ++part) {  // two inserts: two parts to merge
      SpanBatch spans;
      LogBatch logs;
      for (int i = 0; i < 300; ++i) AddSpan(&spans, part * 300 + i, base);
      for (int i = 0; i < 300; ++i) AddLog(&logs, part * 300 + i, base);
      ASSERT_TRUE(w.AddSpans(db, &spans).ok());
      ASSERT_TRUE(w.AddLogs(db, &logs).ok());
      ASSERT_TRUE(w.Flush().ok());
    }
    w.Stop();
  }
  auto index_bytes = [&](const std::string& db, const std::string& table) {
    return Trim(Q("SELECT min(secondary_indices_compressed_bytes) > 0, count() FROM system.parts WHERE active AND "
                  "database = '" + db + "' AND table = '" + table + "'"));
  };
  for (const char* table : {"otel_traces", "otel_logs"}) {
    EXPECT_EQ(index_bytes("coroot_idx_merge", table), "0\t2") << table;
    EXPECT_EQ(index_bytes("coroot_idx_insert", table), "1\t2") << table;
  }
  // Queries the skip indexes serve (trace id, attribute value, body token) answer the same.
  const std::vector<std::string> queries = {
      "SELECT SpanId FROM {}.otel_traces WHERE TraceId = 'trace-150' ORDER BY SpanId",
      "SELECT count() FROM {}.otel_traces WHERE has(mapValues(SpanAttributes), '670')",
      "SELECT count() FROM {}.otel_logs WHERE hasToken(Body, '477')",
      "SELECT count() FROM {}.otel_logs WHERE TraceId = 't451'"};
  auto answers = [&](const std::string& db) {
    std::string out;
    for (std::string sql : queries) out += Q(sql.replace(sql.find("{}"), 2, db)) + "|";
    return out;
  };
  const std::string expected = answers("coroot_idx_insert");
  EXPECT_EQ(expected, "span-450\nspan-451\nspan-452\n|1\n|1\n|1\n|");
  EXPECT_EQ(answers("coroot_idx_merge"), expected);
  // A merge builds them.
  for (const char* table : {"otel_traces", "otel_logs"}) {
    Q(std::string("OPTIMIZE TABLE coroot_idx_merge.") + table + " FINAL");
    EXPECT_EQ(index_bytes("coroot_idx_merge", table), "1\t1") << table;
  }
  EXPECT_EQ(answers("coroot_idx_merge"), expected);
}

// A server that does not know the setting (older than it) gets inserts without it; one whose
// answer fails is asked again at the next insert.
TEST(WriterInsertSettings, OnlyWhereTheServerKnowsTheSetting) {
  struct Recorder : clickhouse::IClickHouseClient {
    StatusOr<std::string> Query(const std::string& sql, const std::string&) override {
      // Only the question about the skip-index setting (cluster detection asks about others).
      if (sql.find("materialize_skip_indexes_on_insert") == std::string::npos) return std::string();
      ++asked;
      if (!answers.empty()) {
        std::string a = answers.front();
        answers.erase(answers.begin());
        if (a == "fail") return Unavailable("connection refused");
        return a;
      }
      return std::string("0\n");
    }
    Status Insert(const std::string& table, const std::string&, const std::string&) override {
      inserts.push_back(table);
      return Status::Ok();
    }
    Status Ping() override { return Status::Ok(); }
    std::string Describe() const override { return "recorder"; }
    std::vector<std::string> answers, inserts;
    int asked = 0;
  };
  auto has_settings = [](const std::string& t) { return t.find(" SETTINGS ") != std::string::npos; };
  // Two inserts of one log record each.
  auto insert_twice = [](Recorder* server) {
    OtelWriter w(server, OtelWriterOptions());
    w.Start();
    for (int i = 0; i < 2; ++i) {
      LogBatch b;
      AddLog(&b, i, NowNs());
      ASSERT_TRUE(w.AddLogs("db", &b).ok());
      ASSERT_TRUE(w.Flush().ok());
    }
    w.Stop();
  };
  Recorder old_server;
  old_server.answers = {"0\n"};
  insert_twice(&old_server);
  ASSERT_EQ(old_server.inserts.size(), 2u);
  EXPECT_FALSE(has_settings(old_server.inserts[0]) || has_settings(old_server.inserts[1]));
  EXPECT_EQ(old_server.asked, 1);  // once
  Recorder flaky;
  flaky.answers = {"fail", "1\n"};
  insert_twice(&flaky);
  ASSERT_EQ(flaky.inserts.size(), 2u);
  EXPECT_FALSE(has_settings(flaky.inserts[0]));
  EXPECT_EQ(flaky.inserts[1],
            "`db`.otel_logs " + std::string(LogBatch::Columns()) + " SETTINGS materialize_skip_indexes_on_insert = 0");
  EXPECT_EQ(flaky.asked, 2);
}

}  // namespace
}  // namespace coroot::server::storage
