#include "server/api/telemetry_api.h"

#include <cctype>
#include <chrono>

#include "lib/base/strings.h"
#include "server/auth/access.h"
#include "server/api/trace_heatmap.h"

namespace coroot::server {

using clickhouse::QuoteString;

namespace {

void Error(http::Response* resp, int code, const std::string& message) {
  *resp = http::Response::Json(code, "{\"error\":\"" + JsonEscape(message) + "\"}");
}

bool ParseLimit(const std::string& s, uint64_t def, uint64_t max, uint64_t* out) {
  if (s.empty()) {
    *out = def;
    return true;
  }
  if (!ParseUint64(s, out)) return false;
  if (*out == 0 || *out > max) *out = max;
  return true;
}

// Output aliases reuse column names (Timestamp, Duration): filters must see the columns.
const std::string kColumnsFirst = " SETTINGS prefer_column_name_to_alias = 1";

const char* kBuckets[] = {"unknown", "trace", "debug", "info", "warn", "error", "fatal"};

// A query ClickHouse refused: a regular expression of the user's that RE2 cannot compile is the
// user's error (400), anything else the server's (500).
void QueryError(http::Response* resp, const Status& st) {
  constexpr int kCannotCompileRegexp = 427;
  Error(resp, clickhouse::ParseErrorCode(st.message()) == kCannotCompileRegexp ? 400 : 500, st.message());
}

const char* kAttrUsage = "attr is <name>=<value>, <name>!=<value>, <name>~<regexp> or <name>!~<regexp>";

}  // namespace

bool AttributeFilterSql(const std::string& filter, const std::vector<std::string>& maps, std::string* sql) {
  // The operator is the first '=' or '~', with a '!' before it for the negations.
  const size_t op_at = filter.find_first_of("=~");
  if (op_at == std::string::npos || op_at == 0) return false;
  const bool negated = filter[op_at - 1] == '!';
  const std::string name = filter.substr(0, negated ? op_at - 1 : op_at);
  const std::string value = filter.substr(op_at + 1);
  if (name.empty()) return false;
  const bool regexp = filter[op_at] == '~';
  std::string any;
  for (const std::string& m : maps) {
    const std::string v = m + "[" + QuoteString(name) + "]";
    any += (any.empty() ? "" : " OR ") +
           (regexp ? "match(" + v + ", " + QuoteString(value) + ")" : v + " = " + QuoteString(value));
  }
  *sql = negated ? "NOT (" + any + ")" : "(" + any + ")";
  return true;
}

std::string SeverityBucketSql(const std::string& c) {
  return "multiIf(" + c + " <= 0, 0, " + c + " > 24, 6, intDiv(" + c + " - 1, 4) + 1)";
}

int SeverityBucketOf(const std::string& name) {
  std::string n = ToLower(name);
  if (n == "warning") n = "warn";
  if (n == "critical") n = "fatal";
  for (int i = 0; i < 7; ++i)
    if (n == kBuckets[i]) return i;
  return -1;
}

bool TelemetryApi::Database(const http::Request& req, http::Response* resp, std::string* db) {
  auto project = project_of_(req);
  if (!project.ok()) {
    auth::Access::Refuse(project.status(), resp);
    return false;
  }
  *db = database_of_(*project);
  if (Status st = writer_->EnsureSchema(*db); !st.ok()) {
    Error(resp, 503, st.message());
    return false;
  }
  return true;
}

StatusOr<std::string> TelemetryApi::Rows(const std::string& sql) {
  ASSIGN_OR_RETURN(std::string out, client_->Query(sql, "JSONEachRow"));
  std::string arr = "[";
  size_t start = 0;
  bool first = true;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    if (nl == std::string::npos) nl = out.size();
    if (nl > start) {
      if (!first) arr += ',';
      first = false;
      arr.append(out, start, nl - start);
    }
    start = nl + 1;
  }
  arr += "]";
  return arr;
}

void TelemetryApi::Traces(const http::Request& req, http::Response* resp) {
  std::string db;
  if (!Database(req, resp, &db)) return;
  const storage::Cluster cluster = writer_->cluster();
  const std::string trace_id = req.QueryParam("trace_id");
  uint64_t limit;
  if (!ParseLimit(req.QueryParam("limit"), 1000, 10000, &limit)) return Error(resp, 400, "bad limit");
  std::string where;
  if (!trace_id.empty()) {
    // Bound the scan by the trace's time range, as Coroot does.
    const std::string ids = cluster.ReadTable(db, "otel_traces_trace_id_ts");
    where = "TraceId = " + QuoteString(trace_id) + " AND Timestamp BETWEEN (SELECT min(Start) FROM " + ids +
            " WHERE TraceId = " + QuoteString(trace_id) + ") AND (SELECT max(End) FROM " + ids +
            " WHERE TraceId = " + QuoteString(trace_id) + ")";
  } else {
    // A search: the newest spans that pass every filter, within [from, to] (default: the last hour).
    std::vector<std::string> cond;
    uint64_t from = 0, to = 0;
    if (auto f = req.QueryParam("from"); !f.empty() && !ParseUint64(f, &from)) return Error(resp, 400, "bad from");
    if (auto f = req.QueryParam("to"); !f.empty() && !ParseUint64(f, &to)) return Error(resp, 400, "bad to");
    if (to == 0) {
      to = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
    }
    if (from == 0) from = to > 3600000 ? to - 3600000 : 0;
    if (from > to) return Error(resp, 400, "from must not be after to");
    cond.push_back("Timestamp BETWEEN fromUnixTimestamp64Milli(" + std::to_string(from) +
                   ") AND fromUnixTimestamp64Milli(" + std::to_string(to) + ")");
    for (const auto& [k, v] : req.QueryParams()) {
      uint64_t ms = 0;
      if (k == "service") {
        cond.push_back("ServiceName = " + QuoteString(v));
      } else if (k == "span_name") {
        cond.push_back("SpanName = " + QuoteString(v));
      } else if (k == "root") {
        if (v == "1" || v == "true") cond.push_back("ParentSpanId = ''");
      } else if (k == "min_duration_ms" || k == "max_duration_ms") {
        if (!ParseUint64(v, &ms) || ms > 1000000000) return Error(resp, 400, "bad " + k);
        cond.push_back(std::string("Duration ") + (k == "min_duration_ms" ? ">=" : "<=") + " " +
                       std::to_string(ms * 1000000));
      } else if (k == "status") {
        static const std::pair<const char*, const char*> kStatus[] = {
            {"error", "STATUS_CODE_ERROR"}, {"ok", "STATUS_CODE_OK"}, {"unset", "STATUS_CODE_UNSET"}};
        std::string code;
        for (const auto& [name, c] : kStatus)
          if (ToLower(v) == name) code = c;
        if (code.empty()) return Error(resp, 400, "status is error, ok or unset");
        cond.push_back("StatusCode = '" + code + "'");
      } else if (k == "attr") {
        std::string sql;
        if (!AttributeFilterSql(v, {"SpanAttributes", "ResourceAttributes"}, &sql))
          return Error(resp, 400, kAttrUsage);
        cond.push_back(sql);
      }
    }
    where = Join(cond, " AND ");
  }
  std::string sql =
      "SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS Timestamp, TraceId, SpanId, ParentSpanId, TraceState, "
      "SpanName, SpanKind, ServiceName, ResourceAttributes, SpanAttributes, toString(Duration) AS Duration, "
      "StatusCode, StatusMessage, "
      "arrayMap(x -> toString(toUnixTimestamp64Nano(x)), `Events.Timestamp`) AS EventsTimestamp, "
      "`Events.Name` AS EventsName, `Events.Attributes` AS EventsAttributes, `Links.TraceId` AS LinksTraceId, "
      "`Links.SpanId` AS LinksSpanId, `Links.TraceState` AS LinksTraceState, `Links.Attributes` AS LinksAttributes "
      "FROM " + cluster.ReadTable(db, "otel_traces") + " WHERE " + where + " ORDER BY " +
      (trace_id.empty() ? "otel_traces.Timestamp DESC" : "otel_traces.Timestamp") + " LIMIT " + std::to_string(limit) +
      kColumnsFirst;
  auto rows = Rows(sql);
  if (!rows.ok()) return QueryError(resp, rows.status());
  *resp = http::Response::Json(200, "{\"spans\":" + *rows + "}");
}

void TelemetryApi::Logs(const http::Request& req, http::Response* resp) {
  std::string db;
  if (!Database(req, resp, &db)) return;
  std::string t = writer_->cluster().ReadTable(db, "otel_logs");
  std::vector<std::string> cond;
  uint64_t limit, from = 0, to = 0, step = 60;
  if (!ParseLimit(req.QueryParam("limit"), 100, 1000, &limit)) return Error(resp, 400, "bad limit");
  if (auto f = req.QueryParam("from"); !f.empty() && !ParseUint64(f, &from)) return Error(resp, 400, "bad from");
  if (auto f = req.QueryParam("to"); !f.empty() && !ParseUint64(f, &to)) return Error(resp, 400, "bad to");
  if (auto f = req.QueryParam("step"); !f.empty() && (!ParseUint64(f, &step) || step == 0))
    return Error(resp, 400, "bad step");
  if (from) cond.push_back("Timestamp >= fromUnixTimestamp64Milli(" + std::to_string(from) + ")");
  if (to) cond.push_back("Timestamp <= fromUnixTimestamp64Milli(" + std::to_string(to) + ")");
  for (const auto& [k, v] : req.QueryParams()) {
    if (k == "service") cond.push_back("ServiceName = " + QuoteString(v));
    if (k == "trace_id") cond.push_back("TraceId = " + QuoteString(v));
    if (k == "attr") {
      std::string sql;
      if (!AttributeFilterSql(v, {"LogAttributes", "ResourceAttributes"}, &sql))
        return Error(resp, 400, kAttrUsage);
      cond.push_back(sql);
    }
    if (k == "severity") {
      int b = SeverityBucketOf(v);
      if (b < 0) return Error(resp, 400, "unknown severity '" + v + "'");
      cond.push_back(SeverityBucketSql("SeverityNumber") + " = " + std::to_string(b));
    }
    if (k == "search") {
      for (const std::string& w : SplitAny(v, " \t")) {
        bool token = true;
        for (unsigned char c : w) token = token && (std::isalnum(c) || c >= 0x80);
        if (!token) {
          cond.push_back("positionCaseInsensitiveUTF8(Body, " + QuoteString(w) + ") > 0");
          continue;
        }
        std::string lower = ToLower(w), upper = w, title = lower;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
        std::string any;
        for (const std::string& x : {w, lower, upper, title}) any += (any.empty() ? "" : " OR ") +
                                                                   ("hasToken(Body, " + QuoteString(x) + ")");
        cond.push_back("(" + any + ")");
      }
    }
  }
  std::string where = cond.empty() ? "1" : Join(cond, " AND ");
  std::string sql =
      "SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS Timestamp, TraceId, SpanId, TraceFlags, SeverityText, "
      "SeverityNumber, " + SeverityBucketSql("SeverityNumber") + " AS Severity, ServiceName, Body, ResourceAttributes, "
      "LogAttributes FROM " + t + " WHERE " + where + " ORDER BY otel_logs.Timestamp DESC LIMIT " + std::to_string(limit) + kColumnsFirst;
  auto rows = Rows(sql);
  if (!rows.ok()) return QueryError(resp, rows.status());
  std::string hist_sql = "SELECT toString(toUnixTimestamp(toStartOfInterval(Timestamp, INTERVAL " +
                         std::to_string(step) + " SECOND))) AS Time, " + SeverityBucketSql("SeverityNumber") +
                         " AS Severity, count() AS Count FROM " + t + " WHERE " + where +
                         " GROUP BY Time, Severity ORDER BY Time, Severity" + kColumnsFirst;
  auto hist = Rows(hist_sql);
  if (!hist.ok()) return QueryError(resp, hist.status());
  *resp = http::Response::Json(200, "{\"logs\":" + *rows + ",\"histogram\":" + *hist + "}");
}

void TelemetryApi::TraceHeatmap(const http::Request& req, http::Response* resp) {
  std::string db;
  if (!Database(req, resp, &db)) return;
  HeatmapQuery q;
  q.service = req.QueryParam("service");
  q.span_name = req.QueryParam("span_name");
  q.root_only = req.QueryParam("root") == "1" || req.QueryParam("root") == "true";
  uint64_t from = 0, to = 0, step = 60;
  if (auto f = req.QueryParam("from"); !f.empty() && !ParseUint64(f, &from)) return Error(resp, 400, "bad from");
  if (auto f = req.QueryParam("to"); !f.empty() && !ParseUint64(f, &to)) return Error(resp, 400, "bad to");
  if (auto f = req.QueryParam("step"); !f.empty() && (!ParseUint64(f, &step) || step == 0))
    return Error(resp, 400, "bad step");
  if (to == 0) {
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    to = static_cast<uint64_t>(now - now % 60000 + 60000);
  }
  if (from == 0) from = to > 3600000 ? to - 3600000 : 0;
  if (from >= to) return Error(resp, 400, "from must be before to");
  if ((to - from) / 1000 / step > 11000) return Error(resp, 400, "too many steps (max 11000): raise step");
  q.from_ms = static_cast<int64_t>(from), q.to_ms = static_cast<int64_t>(to), q.step_s = static_cast<int64_t>(step);
  auto rows = Rows(HeatmapSql(writer_->cluster(), db, q));
  if (!rows.ok()) return Error(resp, 500, rows.status().message());
  std::string buckets;
  for (int b : HeatmapBucketsMs()) buckets += (buckets.empty() ? "" : ",") + std::to_string(b);
  *resp = http::Response::Json(200, "{\"buckets_ms\":[" + buckets + "],\"source\":\"" +
                                        (HeatmapFromHistogram(q) ? "otel_traces_histogram" : "otel_traces") +
                                        "\",\"cells\":" + *rows + "}");
}

void TelemetryApi::Storage(const http::Request& req, http::Response* resp) {
  std::string db;
  if (!Database(req, resp, &db)) return;
  auto rows = Rows(
      "SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS compressed_bytes, "
      "sum(data_uncompressed_bytes) AS uncompressed_bytes, sum(bytes_on_disk) AS bytes_on_disk, "
      "round(sum(data_uncompressed_bytes) / greatest(sum(data_compressed_bytes), 1), 2) AS compression_ratio, "
      "count() AS parts FROM " + writer_->cluster().SystemParts() +
      " WHERE database = " +
      QuoteString(db) + " AND active GROUP BY table ORDER BY table");
  if (!rows.ok()) return Error(resp, 500, rows.status().message());
  *resp = http::Response::Json(200, "{\"database\":\"" + JsonEscape(db) + "\",\"tables\":" + *rows + "}");
}

}  // namespace coroot::server
