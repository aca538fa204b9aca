// The parsers on bytes real clients and servers exchanged (captured by testdata/capture/capture.sh
// through a recording TCP relay; see testdata/real/README.md). Expected values are what the
// clients sent and the servers answered in those sessions.
#include <gtest/gtest.h>

#include "agent/protocols/clickhouse/parse.h"
#include "agent/protocols/decoder.h"
#include "agent/protocols/l7_metrics.h"
#include "agent/protocols/http/parse.h"
#include "agent/protocols/memcached/parse.h"
#include "agent/protocols/mysql/parse.h"
#include "agent/protocols/postgres/parse.h"
#include "agent/protocols/redis/parse.h"
#include "agent/protocols/registry.h"
#include "agent/protocols/test_util.h"

namespace coroot::agent::protocols {
namespace {

using testing::Chunk;
using testing::ReadCapture;

struct Exchange {
  int connection;
  std::string request;
  std::string response;  // the first server chunk after the request ("" if none came)
};

// Pairs each client chunk that the registry classifies as `proto` with the next server chunk on the
// same connection, the way the kernel pairs a write with the following read. Every classified
// chunk must be classified as `proto` (no cross-protocol false positives on real traffic).
std::vector<Exchange> Pair(const std::vector<Chunk>& chunks, L7Protocol proto) {
  std::vector<Exchange> out;
  std::map<int, size_t> pending;
  for (const auto& c : chunks) {
    if (c.from_client) {
      L7Protocol p = DetectRequestProtocol(c.bytes);
      if (p == L7Protocol::kUnknown) continue;
      EXPECT_EQ(p, proto) << "misclassified: " << c.bytes.substr(0, 40);
      pending[c.connection] = out.size();
      out.push_back({c.connection, c.bytes, ""});
    } else {
      auto it = pending.find(c.connection);
      if (it == pending.end()) continue;
      out[it->second].response = c.bytes;
      pending.erase(it);
    }
  }
  return out;
}

std::string Status(L7Protocol proto, const std::string& response) {
  std::string s;
  if (FindProtocol(proto)->decode_response_status(response, &s) != ParseResult::kSuccess) return "<none>";
  return s;
}

L7Event EventFor(const Exchange& x, L7Protocol proto, uint32_t statement_id = 0) {
  L7Event ev;
  ev.protocol = proto;
  ev.pid = 1;
  ev.fd = static_cast<uint64_t>(x.connection) + 3;
  ev.connection_timestamp = 1;
  ev.payload = std::string_view(x.request).substr(0, kMaxPayloadSize);
  ev.payload_size = x.request.size();
  ev.statement_id = statement_id;
  // The kernel's verdict, mirrored: every real reply must classify.
  std::string st = Status(proto, x.response);
  if (!x.response.empty()) EXPECT_NE(st, "<none>") << x.response.substr(0, 16);
  ev.status = st == "failed" ? kEventStatusFailed : st == "ok" ? kEventStatusOk : kEventStatusUnknown;
  return ev;
}

TEST(RealTrafficTest, CaptureFilesAreWellFormed) {
  for (const char* f : {"real/http_get_ok.bin", "real/http_get_404.bin", "real/http_post_501.bin",
                        "real/redis_session.bin", "real/redis_resp3.bin", "real/memcached_session.bin",
                        "real/memcached_memccat.bin", "real/postgres_simple.bin", "real/postgres_pgbench_prepared.bin",
                        "real/postgres_pgbench_extended.bin", "real/mysql_query.bin", "real/mysql_prepared.bin",
                        "real/clickhouse_native.bin"})
    EXPECT_FALSE(ReadCapture(f).empty()) << f;
}

TEST(RealTrafficTest, HttpCurlAgainstPythonHttpServer) {
  struct Case {
    const char* file;
    const char* method;
    const char* path;
    int code;
    const char* status;
  } cases[] = {{"real/http_get_ok.bin", "GET", "/index.html?lang=en&x=1", 200, "2xx"},
               {"real/http_get_404.bin", "GET", "/missing/page", 404, "4xx"},
               {"real/http_post_501.bin", "POST", "/api/v1/items", 501, "5xx"}};
  for (const auto& c : cases) {
    auto ex = Pair(ReadCapture(c.file), L7Protocol::kHttp);
    ASSERT_EQ(ex.size(), 1u) << c.file;
    L7Request r;
    ASSERT_EQ(http::ParseRequest(ex[0].request, &r), ParseResult::kSuccess);
    EXPECT_EQ(r.method, c.method);
    EXPECT_EQ(r.path, c.path);
    int code = 0;
    ASSERT_EQ(http::ParseResponseStatus(ex[0].response, &code), ParseResult::kSuccess);
    EXPECT_EQ(code, c.code);
    EXPECT_EQ(Status(L7Protocol::kHttp, ex[0].response), c.status);
  }
}

TEST(RealTrafficTest, RedisCliResp2) {
  auto ex = Pair(ReadCapture("real/redis_session.bin"), L7Protocol::kRedis);
  ASSERT_EQ(ex.size(), 6u);
  const std::pair<const char*, const char*> want[] = {{"SET user:1", "ok"},      {"GET user:1", "ok"},
                                                      {"INCR user:1", "failed"}, {"HSET h", "ok"},
                                                      {"NOSUCHCMD x", "failed"}, {"DEL user:1", "ok"}};
  for (size_t i = 0; i < ex.size(); i++) {
    L7Request r;
    ASSERT_EQ(redis::ParseRequest(ex[i].request, &r), ParseResult::kSuccess);
    EXPECT_EQ(r.statement, want[i].first);
    EXPECT_EQ(Status(L7Protocol::kRedis, ex[i].response), want[i].second) << r.statement;
  }
}

TEST(RealTrafficTest, RedisCliResp3) {
  auto ex = Pair(ReadCapture("real/redis_resp3.bin"), L7Protocol::kRedis);
  ASSERT_EQ(ex.size(), 8u);  // each of the 4 connections: HELLO 3, then the command
  const std::pair<const char*, const char*> want[] = {{"HELLO 3", "ok"}, {"HGETALL nothing", "ok"},     // %0 map
                                                      {"HELLO 3", "ok"}, {"LPOP nothing", "ok"},        // _ null
                                                      {"HELLO 3", "ok"}, {"CONFIG GET", "ok"},
                                                      {"HELLO 3", "ok"}, {"GET", "failed"}};  // arity error
  for (size_t i = 0; i < ex.size(); i++) {
    L7Request r;
    ASSERT_EQ(redis::ParseRequest(ex[i].request, &r), ParseResult::kSuccess);
    EXPECT_EQ(r.statement, want[i].first);
    EXPECT_EQ(Status(L7Protocol::kRedis, ex[i].response), want[i].second) << r.statement;
  }
}

TEST(RealTrafficTest, MemcachedTextProtocol) {
  auto ex = Pair(ReadCapture("real/memcached_session.bin"), L7Protocol::kMemcached);
  // "bogus" is not a request the detector knows, so 8 of the 9 commands pair.
  ASSERT_EQ(ex.size(), 8u);
  struct Want {
    const char* method;
    const char* keys;
    const char* status;
  } want[] = {{"set", "greeting", "ok"},   {"get", "greeting missing", "ok"}, {"incr", "greeting", "failed"},
              {"set", "counter", "ok"},    {"incr", "counter", "ok"},         {"delete", "missing", "ok"},
              {"touch", "counter", "ok"}, {"gets", "greeting counter", "ok"}};
  for (size_t i = 0; i < ex.size(); i++) {
    L7Request r;
    ASSERT_EQ(memcached::ParseRequest(ex[i].request, &r), ParseResult::kSuccess);
    EXPECT_EQ(r.method, want[i].method);
    EXPECT_EQ(r.statement, want[i].keys);
    EXPECT_EQ(Status(L7Protocol::kMemcached, ex[i].response), want[i].status) << r.statement;
  }
  auto chunks = ReadCapture("real/memcached_session.bin");
  ASSERT_EQ(chunks.size(), 18u);
  EXPECT_EQ(chunks[12].bytes, "bogus\r\n");
  EXPECT_EQ(Status(L7Protocol::kMemcached, chunks[13].bytes), "failed");  // ERROR
  auto cat = Pair(ReadCapture("real/memcached_memccat.bin"), L7Protocol::kMemcached);
  ASSERT_EQ(cat.size(), 1u);  // libmemcached's "get greeting"; its "quit" is not a request
  L7Request r;
  ASSERT_EQ(memcached::ParseRequest(cat[0].request, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.keys, std::vector<std::string>{"greeting"});
  EXPECT_EQ(Status(L7Protocol::kMemcached, cat[0].response), "ok");
}

TEST(RealTrafficTest, PostgresPsqlSimpleQueries) {
  auto ex = Pair(ReadCapture("real/postgres_simple.bin"), L7Protocol::kPostgres);
  ASSERT_EQ(ex.size(), 3u);  // the startup message and Terminate are not requests
  L7Decoder d;
  const std::pair<const char*, const char*> want[] = {{"SELECT 1 AS one", "ok"},
                                                      {"SELECT * FROM no_such_table", "failed"},
                                                      {"CREATE TABLE t(id int, name text)", "ok"}};
  for (size_t i = 0; i < ex.size(); i++) {
    L7Request r;
    ASSERT_EQ(d.Decode(EventFor(ex[i], L7Protocol::kPostgres), &r), ParseResult::kSuccess);
    EXPECT_EQ(r.statement, want[i].first);
    EXPECT_EQ(r.status, want[i].second);
  }
  std::vector<postgres::Message> msgs;
  ASSERT_EQ(postgres::SplitMessages(ex[1].response, &msgs), ParseResult::kSuccess);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(postgres::ErrorMessage(msgs[0].body), "relation \"no_such_table\" does not exist");
}

TEST(RealTrafficTest, PostgresPgbenchPreparedStatements) {
  constexpr const char* kSql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1;";
  auto ex = Pair(ReadCapture("real/postgres_pgbench_prepared.bin"), L7Protocol::kPostgres);
  // Connection 0: pgbench's two setup queries; connection 1: Parse P_0 + Sync, then 3 × Bind/Execute.
  ASSERT_EQ(ex.size(), 6u);
  L7Decoder d;
  L7Request r;
  ASSERT_EQ(d.Decode(EventFor(ex[0], L7Protocol::kPostgres), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "select count(*) from pgbench_branches");
  EXPECT_EQ(ex[2].connection, 1);
  ASSERT_EQ(d.Decode(EventFor(ex[2], L7Protocol::kPostgres), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, kSql);
  EXPECT_EQ(r.status, "ok");  // ParseComplete then ReadyForQuery
  for (size_t i = 3; i < 6; i++) {
    ASSERT_EQ(d.Decode(EventFor(ex[i], L7Protocol::kPostgres), &r), ParseResult::kSuccess);
    EXPECT_EQ(r.statement, kSql) << i;
    EXPECT_EQ(r.status, "ok");
  }
  // A decoder that missed the Parse (agent started later) reports the statement name.
  L7Decoder late;
  ASSERT_EQ(late.Decode(EventFor(ex[4], L7Protocol::kPostgres), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "EXECUTE P_0 /* unknown */");
}

TEST(RealTrafficTest, PostgresPgbenchExtendedUnnamed) {
  auto ex = Pair(ReadCapture("real/postgres_pgbench_extended.bin"), L7Protocol::kPostgres);
  ASSERT_EQ(ex.size(), 4u);
  L7Decoder d;
  for (size_t i = 2; i < 4; i++) {
    postgres::Request req;
    ASSERT_EQ(postgres::ParseRequest(ex[i].request, &req), ParseResult::kSuccess);
    EXPECT_EQ(req.kind, postgres::Request::Kind::kExtendedQuery);
    EXPECT_EQ(req.bind_statement, "");  // the unnamed statement
    L7Request r;
    ASSERT_EQ(d.Decode(EventFor(ex[i], L7Protocol::kPostgres), &r), ParseResult::kSuccess);
    EXPECT_EQ(r.statement, "SELECT abalance FROM pgbench_accounts WHERE aid = $1;");
    EXPECT_EQ(r.status, "ok");
  }
}

TEST(RealTrafficTest, MariadbClientQueries) {
  auto ex = Pair(ReadCapture("real/mysql_query.bin"), L7Protocol::kMysql);
  ASSERT_EQ(ex.size(), 2u);  // handshake response (seq 1) and COM_QUIT are not requests
  L7Decoder d;
  L7Request r;
  // libmariadb negotiated metadata caching: the result-set header is 2 bytes (count 1, flag 1).
  EXPECT_EQ(ex[0].response.substr(0, 6), std::string("\x02\x00\x00\x01\x01\x01", 6));
  EXPECT_EQ(Status(L7Protocol::kMysql, ex[0].response), "ok");
  ASSERT_EQ(d.Decode(EventFor(ex[0], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT 1 AS one");
  EXPECT_EQ(r.status, "ok");
  ASSERT_EQ(d.Decode(EventFor(ex[1], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT * FROM mysql.no_such_table");
  EXPECT_EQ(r.status, "failed");
  uint16_t code = 0;
  std::string_view msg;
  ASSERT_EQ(mysql::ParseError(ex[1].response, &code, &msg), ParseResult::kSuccess);
  EXPECT_EQ(code, 1146);  // ER_NO_SUCH_TABLE
  EXPECT_EQ(msg, "Table 'mysql.no_such_table' doesn't exist");
}

TEST(RealTrafficTest, MariadbBinaryProtocol) {
  auto ex = Pair(ReadCapture("real/mysql_prepared.bin"), L7Protocol::kMysql);
  ASSERT_EQ(ex.size(), 5u);  // prepare, execute, bad prepare, execute 999, close
  uint32_t id = 0;
  ASSERT_EQ(mysql::ParsePrepareOk(ex[0].response, &id), ParseResult::kSuccess);
  EXPECT_EQ(id, 1u);
  L7Decoder d;
  L7Request r;
  ASSERT_EQ(d.Decode(EventFor(ex[0], L7Protocol::kMysql, id), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT ? + 1 AS x, 'prepared' AS tag");
  ASSERT_EQ(d.Decode(EventFor(ex[1], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT ? + 1 AS x, 'prepared' AS tag");
  EXPECT_EQ(r.status, "ok");
  ASSERT_EQ(d.Decode(EventFor(ex[2], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT FROM WHERE");
  EXPECT_EQ(r.status, "failed");
  uint16_t code = 0;
  std::string_view msg;
  ASSERT_EQ(mysql::ParseError(ex[2].response, &code, &msg), ParseResult::kSuccess);
  EXPECT_EQ(code, 1064);  // ER_PARSE_ERROR
  ASSERT_EQ(d.Decode(EventFor(ex[3], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "EXECUTE 999 /* unknown */");
  EXPECT_EQ(r.status, "failed");
  ASSERT_EQ(mysql::ParseError(ex[3].response, &code, &msg), ParseResult::kSuccess);
  EXPECT_EQ(code, 1243);  // ER_UNKNOWN_STMT_HANDLER
  EXPECT_EQ(ex[4].response, "");  // COM_STMT_CLOSE has no reply
  ASSERT_EQ(d.Decode(EventFor(ex[4], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "CLOSE 1");
  ASSERT_EQ(d.Decode(EventFor(ex[1], L7Protocol::kMysql), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "EXECUTE 1 /* unknown */");  // closed
}

TEST(RealTrafficTest, ClickhouseClientNativeProtocol) {
  auto chunks = ReadCapture("real/clickhouse_native.bin");
  auto ex = Pair(chunks, L7Protocol::kClickhouse);
  // Hello and Ping are not queries; one Query per connection.
  ASSERT_EQ(ex.size(), 2u);
  clickhouse::Query q;
  ASSERT_EQ(clickhouse::ParseQuery(ex[0].request, &q), ParseResult::kSuccess);
  EXPECT_EQ(q.revision, 54412u);  // clickhouse-client 18.16.1
  EXPECT_EQ(q.client_name, "ClickHouse client");
  EXPECT_EQ(q.query, "SELECT 1 AS one");
  EXPECT_EQ(Status(L7Protocol::kClickhouse, ex[0].response), "ok");  // a Data packet (the header block)
  L7Decoder d;
  L7Request r;
  ASSERT_EQ(d.Decode(EventFor(ex[1], L7Protocol::kClickhouse), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT * FROM no_such_table");
  EXPECT_EQ(r.status, "failed");
  int32_t code = 0;
  std::string_view msg;
  ASSERT_EQ(clickhouse::ParseException(ex[1].response, &code, &msg), ParseResult::kSuccess);
  EXPECT_EQ(code, 60);  // UNKNOWN_TABLE
  EXPECT_EQ(msg, "DB::Exception: Table default.no_such_table doesn't exist.");
}

// Every captured exchange that got a reply, through the decoder into the metric accumulator, the way
// kernel events would flow: each one must be counted exactly once under its protocol's family with
// the status its real reply had.
TEST(RealTrafficTest, AllCapturesThroughDecoderAndMetrics) {
  struct Capture {
    const char* file;
    L7Protocol proto;
    const char* destination;
  } captures[] = {{"real/http_get_ok.bin", L7Protocol::kHttp, "127.0.0.1:8000"},
                  {"real/http_get_404.bin", L7Protocol::kHttp, "127.0.0.1:8000"},
                  {"real/http_post_501.bin", L7Protocol::kHttp, "127.0.0.1:8000"},
                  {"real/redis_session.bin", L7Protocol::kRedis, "127.0.0.1:6379"},
                  {"real/redis_resp3.bin", L7Protocol::kRedis, "127.0.0.1:6379"},
                  {"real/memcached_session.bin", L7Protocol::kMemcached, "127.0.0.1:11211"},
                  {"real/memcached_memccat.bin", L7Protocol::kMemcached, "127.0.0.1:11211"},
                  {"real/postgres_simple.bin", L7Protocol::kPostgres, "127.0.0.1:5432"},
                  {"real/postgres_pgbench_prepared.bin", L7Protocol::kPostgres, "127.0.0.1:5432"},
                  {"real/postgres_pgbench_extended.bin", L7Protocol::kPostgres, "127.0.0.1:5432"},
                  {"real/mysql_query.bin", L7Protocol::kMysql, "127.0.0.1:3306"},
                  {"real/mysql_prepared.bin", L7Protocol::kMysql, "127.0.0.1:3306"},
                  {"real/clickhouse_native.bin", L7Protocol::kClickhouse, "127.0.0.1:9000"}};
  L7Metrics metrics;
  L7Decoder decoder;
  int fed = 0;
  for (const auto& c : captures) {
    for (const auto& x : Pair(ReadCapture(c.file), c.proto)) {
      if (x.response.empty()) continue;  // no reply (COM_STMT_CLOSE): the kernel emits nothing
      L7Event ev = EventFor(x, c.proto);
      if (c.proto == L7Protocol::kHttp) ASSERT_EQ(http::ParseResponseStatus(x.response, &ev.status), ParseResult::kSuccess);
      if (c.proto == L7Protocol::kMysql) (void)mysql::ParsePrepareOk(x.response, &ev.statement_id);
      ev.duration_ns = 2000000;  // 2 ms
      L7Request r;
      ASSERT_NE(decoder.Decode(ev, &r), ParseResult::kInvalid) << c.file;
      ASSERT_EQ(metrics.Add("/docker/app", c.destination, "", r), L7Metrics::AddResult::kCounted);
      fed++;
    }
  }
  EXPECT_EQ(fed, 47);
  std::vector<prom::MetricFamily> fams;
  metrics.Collect(&fams);
  std::map<std::string, double> got;  // "family|status" → count
  double total = 0;
  for (const auto& f : fams) {
    if (f.type != prom::MetricType::kCounter) continue;
    for (const auto& smp : f.samples) {
      std::string status;
      for (const auto& l : smp.labels)
        if (l.name == "status") status = l.value;
      got[f.name + "|" + status] += smp.value;
      total += smp.value;
    }
  }
  EXPECT_EQ(total, 47);
  std::map<std::string, double> want = {
      {"container_http_requests_total|2xx", 1},        {"container_http_requests_total|4xx", 1},
      {"container_http_requests_total|5xx", 1},        {"container_redis_queries_total|ok", 11},
      {"container_redis_queries_total|failed", 3},     {"container_memcached_queries_total|ok", 8},
      {"container_memcached_queries_total|failed", 1}, {"container_postgres_queries_total|ok", 12},
      {"container_postgres_queries_total|failed", 1},  {"container_mysql_queries_total|ok", 3},
      {"container_mysql_queries_total|failed", 3},     {"container_clickhouse_queries_total|ok", 1},
      {"container_clickhouse_queries_total|failed", 1}};
  EXPECT_EQ(got, want);
  // One latency histogram per protocol/destination, each holding all of its records in le=0.005.
  for (const auto& f : fams) {
    if (f.type != prom::MetricType::kHistogram) continue;
    ASSERT_EQ(f.histograms.size(), 1u) << f.name;
    EXPECT_EQ(f.histograms[0].cumulative_counts[0], f.histograms[0].count) << f.name;
  }
}

}  // namespace
}  // namespace coroot::agent::protocols
