#pragma once
// The one interface the server uses to reach ClickHouse, with two transports behind it:
//   - EmbeddedClient (embedded_client.h): libchdb, a current ClickHouse engine in-process;
//   - RemoteClient (http_client.h): the ClickHouse HTTP interface of a server or cluster.
// Both speak the same SQL; callers build the schema and queries once.
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::clickhouse {

class IClickHouseClient {
 public:
  virtual ~IClickHouseClient() = default;

  // Runs one statement (DDL or SELECT) and returns the result body in `format`
  // ("TSV", "JSONEachRow", "RowBinary", ...). DDL returns an empty body.
  virtual StatusOr<std::string> Query(const std::string& sql, const std::string& format = "TSV") = 0;

  // INSERT INTO <table_and_columns> FORMAT <format> with `data` as the payload,
  // e.g. Insert("db.t (a, b)", "RowBinary", bytes). Empty data is a no-op.
  virtual Status Insert(const std::string& table_and_columns, const std::string& format, const std::string& data) = 0;

  // Cheap liveness check (the engine/server answers a trivial query).
  virtual Status Ping() = 0;

  // For logs: "embedded libchdb at /var/lib/coroot/ch" or "http://host:8123 (db default, user u)".
  // Never contains the password.
  virtual std::string Describe() const = 0;
};

// "Code: 60. DB::Exception: ..." → 60; 0 when the text carries no code.
int ParseErrorCode(std::string_view message);

// Turns a ClickHouse error text into a Status whose code fits the ClickHouse error code
// (syntax errors and unknown tables/columns/functions → kInvalidArgument, ...). `fallback` is
// used when the text has no code or the code is not one we classify.
Status ErrorFromMessage(std::string_view message, StatusCode fallback = StatusCode::kInternal);

// A single-quoted SQL string literal with backslash escapes: O'Brien → 'O\'Brien'.
std::string QuoteString(std::string_view s);
// A back-quoted identifier: my-db → `my-db`.
std::string QuoteIdentifier(std::string_view s);

}  // namespace coroot::clickhouse
