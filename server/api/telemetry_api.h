#pragma once
// Read API for logs and traces stored in ClickHouse (JSON over HTTP; the project is the X-Api-Key's or,
// for a logged-in user, ?project=: auth/access.h):
//   GET /api/v1/traces?trace_id=…            every span of a trace (time-bounded via otel_traces_trace_id_ts)
//   GET /api/v1/traces?service=…&span_name=…&min_duration_ms=…&max_duration_ms=…&status=error|ok|unset
//                     &root=1&attr=…&from=…&to=…&limit=…
//        newest spans that pass every filter given, within from/to (default: the last hour)
//   GET /api/v1/logs?service=…&severity=…&trace_id=…&search=…&attr=…&from=…&to=…&limit=…&step=…
//        newest log records first, plus a histogram by severity bucket and time step (spec §3.3)
//   attr (repeatable): <name>=<value>, <name>!=<value>, <name>~<RE2 regexp>, <name>!~<regexp>,
//        matched against the span's/record's attributes and its resource's; a bad regexp is a 400
//   GET /api/v1/traces/heatmap?service=…&span_name=…&root=1&from=…&to=…&step=…
//        span counts and error counts per time step × duration bucket (trace_heatmap.h); from/to
//        default to the last hour
//   GET /api/v1/storage                      per table of the project's database: rows, compressed and
//        uncompressed bytes, bytes on disk, compression ratio, active parts (every shard on a cluster)
// Times: from/to in unix milliseconds; step in seconds. Nanosecond timestamps and 64-bit integers
// are JSON strings.
#include <functional>
#include <string>
#include <vector>

#include "lib/clickhouse/client.h"
#include "lib/http/message.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_writer.h"

namespace coroot::server {

class TelemetryApi {
 public:
  TelemetryApi(ProjectOfRequest project_of, clickhouse::IClickHouseClient* client, storage::OtelWriter* writer,
               std::function<std::string(const Project&)> database_of)
      : project_of_(std::move(project_of)), client_(client), writer_(writer), database_of_(std::move(database_of)) {}

  void Traces(const http::Request& req, http::Response* resp);
  void Logs(const http::Request& req, http::Response* resp);
  void Storage(const http::Request& req, http::Response* resp);
  void TraceHeatmap(const http::Request& req, http::Response* resp);

 private:
  // The project's database (schema ensured), or a filled error response.
  bool Database(const http::Request& req, http::Response* resp, std::string* db);
  // Runs a JSONEachRow query and returns its rows as a JSON array.
  StatusOr<std::string> Rows(const std::string& sql);

  ProjectOfRequest project_of_;
  clickhouse::IClickHouseClient* client_;
  storage::OtelWriter* writer_;
  std::function<std::string(const Project&)> database_of_;
};

// Severity bucket of an OTLP severity number (0 unknown, 1 trace, 2 debug, 3 info, 4 warn, 5 error,
// 6 fatal) as SQL, and the bucket of a name ("warn" → 4; -1 when unknown).
std::string SeverityBucketSql(const std::string& column);
int SeverityBucketOf(const std::string& name);

// The SQL condition of an attr filter over the given Map columns (true when one of them matches;
// the negations: when none does); false when `filter` is not <name><op><value>.
bool AttributeFilterSql(const std::string& filter, const std::vector<std::string>& maps, std::string* sql);

}  // namespace coroot::server
