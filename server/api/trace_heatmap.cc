#include "server/api/trace_heatmap.h"

#include "lib/clickhouse/client.h"

namespace coroot::server {

using clickhouse::QuoteString;

const std::vector<int>& HeatmapBucketsMs() {
  static const std::vector<int> b = {0, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
  return b;
}

bool HeatmapFromHistogram(const HeatmapQuery& q) {
  return q.step_s % 60 == 0 && q.from_ms % 60000 == 0 && q.to_ms % 60000 == 0;
}

std::string HeatmapSql(const storage::Cluster& cluster, const std::string& database, const HeatmapQuery& q) {
  std::string buckets = "[";
  for (int b : HeatmapBucketsMs()) buckets += (buckets.size() > 1 ? ", " : "") + std::to_string(b);
  buckets += "]";
  const std::string step = "toIntervalSecond(" + std::to_string(q.step_s) + ")";
  std::string where = "Timestamp >= toDateTime(" + std::to_string(q.from_ms / 1000) + ") AND Timestamp < toDateTime(" +
                      std::to_string(q.to_ms / 1000) + ")";
  if (!q.service.empty()) where += " AND ServiceName = " + QuoteString(q.service);
  if (!q.span_name.empty()) where += " AND SpanName = " + QuoteString(q.span_name);
  if (HeatmapFromHistogram(q)) {
    // Minutes are whole, so a minute row belongs to exactly one step.
    if (q.root_only) where += " AND Root = 1";
    return "SELECT toUnixTimestamp(toStartOfInterval(Timestamp, " + step + ")) AS Time, toUInt32(Bucket) AS Bucket, "
           "sum(Total) AS Total, sum(Failed) AS Failed FROM " + cluster.ReadTable(database, "otel_traces_histogram") + " WHERE " + where +
           " GROUP BY Time, Bucket ORDER BY Time, Bucket SETTINGS prefer_column_name_to_alias = 1, output_format_json_quote_64bit_integers = 0";
  }
  // Raw spans: nanosecond bounds, as the range asks.
  where = "Timestamp >= fromUnixTimestamp64Milli(" + std::to_string(q.from_ms) +
          ") AND Timestamp < fromUnixTimestamp64Milli(" + std::to_string(q.to_ms) + ")";
  if (!q.service.empty()) where += " AND ServiceName = " + QuoteString(q.service);
  if (!q.span_name.empty()) where += " AND SpanName = " + QuoteString(q.span_name);
  if (q.root_only) where += " AND ParentSpanId = ''";
  return "SELECT toUnixTimestamp(toStartOfInterval(Timestamp, " + step + ")) AS Time, "
         "toUInt32(roundDown(Duration / 1000000, " + buckets + ")) AS Bucket, count() AS Total, "
         "countIf(StatusCode = 'STATUS_CODE_ERROR') AS Failed FROM " + cluster.ReadTable(database, "otel_traces") + " WHERE " + where +
         " GROUP BY Time, Bucket ORDER BY Time, Bucket SETTINGS prefer_column_name_to_alias = 1, output_format_json_quote_64bit_integers = 0";
}

}  // namespace coroot::server
