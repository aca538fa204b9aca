#include "server/storage/clickhouse/schema.h"

#include <map>

#include "lib/base/strings.h"

namespace coroot::server::storage {

namespace {

// One column of otel_logs/otel_traces: its type and its codec in each layout.
struct Column {
  const char* name;
  const char* type;
  const char* coroot_codec;
  const char* compact_codec;
  const char* compact_type = nullptr;  // when it differs from Coroot's
};

const char* kLcMap = "Map(LowCardinality(String), LowCardinality(String))";

// Sort keys. Ours drops SpanName from Coroot's traces key: the spans of one trace in one service
// (a server span and its client calls) then sit side by side, sorted by TraceId within the second,
// so the repeated TraceId and the ParentSpanId that repeats a neighbour's SpanId compress to a few
// bytes instead of 16 + 8 bytes of random hex (ids are ~60 % of a span's bytes in Coroot's layout).
// The logs key stays Coroot's (measured: ordering by the full timestamp gained nothing).
const char* kCorootLogsOrder = "(ServiceName, SeverityText, toUnixTimestamp(Timestamp), TraceId)";
const char* kCorootTracesOrder = "(ServiceName, SpanName, toUnixTimestamp(Timestamp), TraceId)";
const char* kCompactLogsOrder = "(ServiceName, SeverityText, toUnixTimestamp(Timestamp), TraceId)";
const char* kCompactTracesOrder = "(ServiceName, toUnixTimestamp(Timestamp), TraceId)";

const std::vector<Column>& LogColumns() {
  static const std::vector<Column> c = {
      {"Timestamp", "DateTime64(9)", "Delta, ZSTD(1)", "Delta, ZSTD(3)"},
      {"TraceId", "String", "ZSTD(1)", "ZSTD(1)"},
      {"SpanId", "String", "ZSTD(1)", "ZSTD(1)"},
      {"TraceFlags", "UInt32", "ZSTD(1)", "T64, ZSTD(3)"},
      {"SeverityText", "LowCardinality(String)", "ZSTD(1)", "ZSTD(3)"},
      {"SeverityNumber", "Int32", "ZSTD(1)", "T64, ZSTD(3)"},
      {"ServiceName", "LowCardinality(String)", "ZSTD(1)", "ZSTD(3)"},
      {"Body", "String", "ZSTD(1)", "ZSTD(1)"},
      {"ResourceAttributes", "Map(LowCardinality(String), String)", "ZSTD(1)", "ZSTD(3)", kLcMap},
      {"LogAttributes", "Map(LowCardinality(String), String)", "ZSTD(1)", "ZSTD(3)", kLcMap},
  };
  return c;
}

// Events and Links are Coroot's Nested columns, written flattened (what Nested becomes anyway) so
// that each can carry its own codec.
const std::vector<Column>& SpanColumns() {
  static const std::vector<Column> c = {
      {"Timestamp", "DateTime64(9)", "Delta, ZSTD(1)", "Delta, ZSTD(3)"},
      {"TraceId", "String", "ZSTD(1)", "ZSTD(1)"},
      {"SpanId", "String", "ZSTD(1)", "ZSTD(1)"},
      {"ParentSpanId", "String", "ZSTD(1)", "ZSTD(1)"},
      {"TraceState", "String", "ZSTD(1)", "ZSTD(3)"},
      {"SpanName", "LowCardinality(String)", "ZSTD(1)", "ZSTD(3)"},
      {"SpanKind", "LowCardinality(String)", "ZSTD(1)", "ZSTD(3)"},
      {"ServiceName", "LowCardinality(String)", "ZSTD(1)", "ZSTD(3)"},
      {"ResourceAttributes", "Map(LowCardinality(String), String)", "ZSTD(1)", "ZSTD(3)", kLcMap},
      {"SpanAttributes", "Map(LowCardinality(String), String)", "ZSTD(1)", "ZSTD(3)", kLcMap},
      {"Duration", "Int64", "ZSTD(1)", "T64, ZSTD(3)"},
      {"StatusCode", "LowCardinality(String)", "ZSTD(1)", "ZSTD(3)"},
      {"StatusMessage", "String", "ZSTD(1)", "ZSTD(3)"},
      {"Events.Timestamp", "Array(DateTime64(9))", "ZSTD(1)", "ZSTD(3)"},
      {"Events.Name", "Array(LowCardinality(String))", "ZSTD(1)", "ZSTD(3)"},
      {"Events.Attributes", "Array(Map(LowCardinality(String), String))", "ZSTD(1)", "ZSTD(3)"},
      {"Links.TraceId", "Array(String)", "ZSTD(1)", "ZSTD(3)"},
      {"Links.SpanId", "Array(String)", "ZSTD(1)", "ZSTD(3)"},
      {"Links.TraceState", "Array(String)", "ZSTD(1)", "ZSTD(3)"},
      {"Links.Attributes", "Array(Map(LowCardinality(String), String))", "ZSTD(1)", "ZSTD(3)"},
  };
  return c;
}

std::string ColumnsSql(const std::vector<Column>& cols, SchemaLayout layout) {
  std::string out;
  for (const Column& c : cols) {
    if (!out.empty()) out += ",\n";
    const bool compact = layout == SchemaLayout::kCompact;
    out += "  " + clickhouse::QuoteIdentifier(c.name) + " " + (compact && c.compact_type ? c.compact_type : c.type) +
           " CODEC(" +
           (layout == SchemaLayout::kCompact ? c.compact_codec : c.coroot_codec) + ")";
  }
  return out;
}

// "CODEC(Delta(8), ZSTD(3))" and "Delta, ZSTD(3)" alike → "Delta,ZSTD(3)".
std::string NormalizeCodec(std::string c) {
  if (c.rfind("CODEC(", 0) == 0) c = c.substr(6, c.size() - 7);
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] == ' ') continue;
    if (c.compare(i, 6, "Delta(") == 0 && (i == 0 || c[i - 1] != 'e')) {  // not DoubleDelta's own
      out += "Delta";
      i = c.find(')', i);
      continue;
    }
    out += c[i];
  }
  return out;
}

// A table created in Coroot's layout (by Coroot itself or an older build) gets the compact codecs,
// column by column where they differ; ClickHouse only records them (no rewrite): parts written or
// merged from then on use them.
Status UpgradeCodecs(clickhouse::IClickHouseClient* client, const std::string& database, const Cluster& cluster) {
  const std::string db = clickhouse::QuoteIdentifier(database);
  ASSIGN_OR_RETURN(std::string current,
                   client->Query("SELECT table, name, compression_codec FROM system.columns WHERE database = " +
                                     clickhouse::QuoteString(database) + " AND table IN ('otel_logs', 'otel_traces')",
                                 "TSVRaw"));
  std::map<std::string, std::string> codec;  // "table.column" → normalized codec
  size_t start = 0;
  while (start < current.size()) {
    size_t nl = current.find('\n', start);
    if (nl == std::string::npos) nl = current.size();
    std::string line = current.substr(start, nl - start);
    start = nl + 1;
    size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    codec[line.substr(0, t1) + "." + line.substr(t1 + 1, t2 - t1 - 1)] = NormalizeCodec(line.substr(t2 + 1));
  }
  for (auto [table, cols] : {std::pair{"otel_logs", &LogColumns()}, {"otel_traces", &SpanColumns()}}) {
    for (const Column& c : *cols) {
      auto it = codec.find(std::string(table) + "." + c.name);
      if (it == codec.end() || it->second == NormalizeCodec(c.compact_codec)) continue;
      std::string sql = "ALTER TABLE " + db + "." + table + cluster.OnCluster() + " MODIFY COLUMN " + clickhouse::QuoteIdentifier(c.name) +
                        " CODEC(" + c.compact_codec + ")";
      auto r = client->Query(sql);
      if (!r.ok()) return r.status().WithContext(sql);
    }
  }
  return Status::Ok();
}

}  // namespace

std::string ProjectDatabase(const std::string& project_id) {
  std::string out = "coroot_";
  for (char c : project_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string TtlInterval(std::chrono::milliseconds ttl) {
  int64_t ms = ttl.count();
  constexpr int64_t kDay = 86400000;
  if (ms >= kDay && ms % kDay == 0) return "toIntervalDay(" + std::to_string(ms / kDay) + ")";
  int64_t s = ms / 1000;
  if (s < 1) s = 1;
  return "toIntervalSecond(" + std::to_string(s) + ")";
}

// A "last seen" table (Coroot's *_service_name* tables and profiling_profiles): one row per key
// combination with the newest time of a source row, kept by a materialized view over the source.
static void AddLastSeenTable(std::vector<std::string>* s, const Cluster& cluster, const std::string& db,
                             const std::string& name,
                             const std::vector<std::string>& keys, const std::string& source,
                             const std::string& time_column, const std::string& ttl) {
  std::string columns;
  for (const auto& k : keys) columns += "  " + k + " LowCardinality(String) CODEC(ZSTD(1)),\n";
  const std::string key_list = Join(keys, ", ");
  s->push_back("CREATE TABLE IF NOT EXISTS " + db + "." + name + cluster.OnCluster() + " (\n" + columns +
               "  LastSeen DateTime64(9) CODEC(Delta, ZSTD(1))\n"
               ") ENGINE = " + cluster.Engine("ReplacingMergeTree") + "\n"
               "PRIMARY KEY (" + key_list + ")\n"
               "ORDER BY (" + key_list + ")\n"
               "PARTITION BY toDate(LastSeen)\n"
               "TTL toDateTime(LastSeen) + " + ttl + "\n"
               "SETTINGS ttl_only_drop_parts = 1");
  s->push_back("CREATE MATERIALIZED VIEW IF NOT EXISTS " + db + "." + name + "_mv" + cluster.OnCluster() + " TO " + db +
               "." + name + " AS\n" +
               "SELECT " + key_list + ", max(" + time_column + ") AS LastSeen\n" + "FROM " + db + "." + source + "\n" +
               "GROUP BY " + key_list);
}

std::vector<std::string> SchemaStatements(const SchemaOptions& o) {
  const std::string db = clickhouse::QuoteIdentifier(o.database);
  const Cluster& c = o.cluster;
  // A table or view to create: its name, then ON CLUSTER on a cluster.
  auto t = [&](const char* name) { return db + "." + name + c.OnCluster(); };
  // A table named in a statement's body (a view's target or source).
  auto ref = [&](const char* name) { return db + "." + name; };
  const std::string logs_ttl = TtlInterval(o.logs_ttl);
  const std::string traces_ttl = TtlInterval(o.traces_ttl);
  const std::string profiles_ttl = TtlInterval(o.profiles_ttl);
  std::vector<std::string> s;
  s.push_back("CREATE DATABASE IF NOT EXISTS " + db + c.OnCluster());

  // ---- logs ----
  const bool compact = o.layout == SchemaLayout::kCompact;
  s.push_back("CREATE TABLE IF NOT EXISTS " + t("otel_logs") + " (\n" + ColumnsSql(LogColumns(), o.layout) + R"(,
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1
) ENGINE = )" + c.Engine("MergeTree") + R"(
PARTITION BY toDate(Timestamp)
ORDER BY )" + (compact ? kCompactLogsOrder : kCorootLogsOrder) + R"(
TTL toDateTime(Timestamp) + )" + logs_ttl + R"(
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1)");

  AddLastSeenTable(&s, c, db, "otel_logs_service_name_severity_text", {"ServiceName", "SeverityText"}, "otel_logs",
                   "Timestamp", logs_ttl);

  // ---- traces ----
  // Coroot's materialized column, read by the histogram view.
  const std::string peer_addr =
      "NetSockPeerAddr LowCardinality(String) MATERIALIZED SpanAttributes['net.sock.peer.addr'] CODEC(ZSTD(1))";
  s.push_back("CREATE TABLE IF NOT EXISTS " + t("otel_traces") + " (\n" + ColumnsSql(SpanColumns(), o.layout) +
              ",\n  " + peer_addr + R"(,
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = )" + c.Engine("MergeTree") + R"(
PARTITION BY toDate(Timestamp)
ORDER BY )" + (compact ? kCompactTracesOrder : kCorootTracesOrder) + R"(
TTL toDateTime(Timestamp) + )" + traces_ttl + R"(
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1)");
  // Upgrade of tables created before the column existed.
  s.push_back("ALTER TABLE " + t("otel_traces") + " ADD COLUMN IF NOT EXISTS " + peer_addr);

  s.push_back("CREATE TABLE IF NOT EXISTS " + t("otel_traces_trace_id_ts") + R"( (
  TraceId String CODEC(ZSTD(1)),
  Start DateTime64(9) CODEC(Delta, ZSTD(1)),
  End DateTime64(9) CODEC(Delta, ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = )" + c.Engine("MergeTree") + R"(
PARTITION BY toDate(Start)
ORDER BY (TraceId, toUnixTimestamp(Start))
TTL toDateTime(Start) + )" + traces_ttl + R"(
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1)");
  s.push_back("CREATE MATERIALIZED VIEW IF NOT EXISTS " + t("otel_traces_trace_id_ts_mv") + " TO " +
              ref("otel_traces_trace_id_ts") + R"( AS
SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
FROM )" + ref("otel_traces") + R"(
WHERE TraceId != ''
GROUP BY TraceId)");

  AddLastSeenTable(&s, c, db, "otel_traces_service_name", {"ServiceName"}, "otel_traces", "Timestamp", traces_ttl);

  s.push_back("CREATE TABLE IF NOT EXISTS " + t("otel_traces_histogram") + R"( (
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  SpanName LowCardinality(String) CODEC(ZSTD(1)),
  SpanKind LowCardinality(String) CODEC(ZSTD(1)),
  Root UInt8 CODEC(ZSTD(1)),
  NetSockPeerAddr LowCardinality(String) CODEC(ZSTD(1)),
  NetPeerName LowCardinality(String) CODEC(ZSTD(1)),
  NetPeerPort LowCardinality(String) CODEC(ZSTD(1)),
  Timestamp DateTime CODEC(Delta, ZSTD(1)),
  Bucket Float64 CODEC(ZSTD(1)),
  Total UInt64 CODEC(ZSTD(1)),
  Failed UInt64 CODEC(ZSTD(1))
) ENGINE = )" + c.Engine("SummingMergeTree") + R"(
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, SpanKind, Root, Timestamp, NetSockPeerAddr, NetPeerName, NetPeerPort, Bucket)
TTL Timestamp + )" + traces_ttl + R"(
SETTINGS ttl_only_drop_parts = 1)");
  // The inner query names its minute Ts so that the outer alias Timestamp does not shadow the
  // span column it is computed from.
  s.push_back("CREATE MATERIALIZED VIEW IF NOT EXISTS " + t("otel_traces_histogram_mv") + " TO " +
              ref("otel_traces_histogram") + R"( AS
SELECT ServiceName, SpanName, SpanKind, Root, NetSockPeerAddr, NetPeerName, NetPeerPort, Ts AS Timestamp, Bucket,
  count() AS Total, countIf(StatusCode = 'STATUS_CODE_ERROR') AS Failed
FROM (
  SELECT ServiceName, SpanName, SpanKind, toUInt8(ParentSpanId = '') AS Root, NetSockPeerAddr,
    SpanAttributes['net.peer.name'] AS NetPeerName, SpanAttributes['net.peer.port'] AS NetPeerPort,
    toDateTime(toStartOfMinute(Timestamp)) AS Ts,
    toFloat64(roundDown(Duration / 1000000, [0, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000])) AS Bucket,
    StatusCode
  FROM )" + ref("otel_traces") + R"(
)
GROUP BY ServiceName, SpanName, SpanKind, Root, NetSockPeerAddr, NetPeerName, NetPeerPort, Timestamp, Bucket)");

  // ---- profiles ----
  s.push_back("CREATE TABLE IF NOT EXISTS " + t("profiling_stacks") + R"( (
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  Hash UInt64 CODEC(ZSTD(1)),
  LastSeen DateTime64(9) CODEC(Delta, ZSTD(1)),
  Stack Array(String) CODEC(ZSTD(1))
) ENGINE = )" + c.Engine("ReplacingMergeTree", "LastSeen") + R"(
PRIMARY KEY (ServiceName, Hash)
ORDER BY (ServiceName, Hash)
PARTITION BY toDate(LastSeen)
TTL toDateTime(LastSeen) + )" + profiles_ttl + R"(
SETTINGS ttl_only_drop_parts = 1)");
  s.push_back("CREATE TABLE IF NOT EXISTS " + t("profiling_samples") + R"( (
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  Type LowCardinality(String) CODEC(ZSTD(1)),
  Start DateTime64(9) CODEC(Delta, ZSTD(1)),
  End DateTime64(9) CODEC(Delta, ZSTD(1)),
  Labels Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  StackHash UInt64 CODEC(ZSTD(1)),
  Value Int64 CODEC(ZSTD(1))
) ENGINE = )" + c.Engine("MergeTree") + R"(
PARTITION BY toDate(Start)
ORDER BY (ServiceName, Type, toUnixTimestamp(Start), toUnixTimestamp(End))
TTL toDateTime(Start) + )" + profiles_ttl + R"(
SETTINGS ttl_only_drop_parts = 1)");
  AddLastSeenTable(&s, c, db, "profiling_profiles", {"ServiceName", "Type"}, "profiling_samples", "End", profiles_ttl);

  // ---- distributed tables (cluster only), after every ALTER of their local tables ----
  // Sharding keys as Coroot's: a trace's spans, and a stack's samples, stay on one shard.
  if (c.on()) {
    const std::pair<const char*, const char*> distributed[] = {
        {"otel_logs", "rand()"},
        {"otel_logs_service_name_severity_text", "rand()"},
        {"otel_traces", "cityHash64(TraceId)"},
        {"otel_traces_trace_id_ts", "cityHash64(TraceId)"},
        {"otel_traces_service_name", "rand()"},
        {"otel_traces_histogram", "rand()"},
        {"profiling_stacks", "Hash"},
        {"profiling_samples", "StackHash"},
        {"profiling_profiles", "rand()"},
    };
    for (const auto& [table, key] : distributed) s.push_back(c.DistributedTableSql(o.database, table, key));
  }
  return s;
}

Status CreateSchema(clickhouse::IClickHouseClient* client, const SchemaOptions& options) {
  if (options.database.empty()) return InvalidArgument("schema: empty database name");
  for (const std::string& sql : SchemaStatements(options)) {
    auto r = client->Query(sql);
    if (!r.ok()) {
      std::string head = sql.substr(0, sql.find('('));
      return r.status().WithContext("schema of " + options.database + " (" + head + ")");
    }
  }
  if (options.layout == SchemaLayout::kCompact) {
    if (Status st = UpgradeCodecs(client, options.database, options.cluster); !st.ok())
      return st.WithContext("schema of " + options.database + " (codec upgrade)");
  }
  return Status::Ok();
}

}  // namespace coroot::server::storage
