#include "agent/protocols/registry.h"

#include "agent/protocols/http2/frame.h"

#include <algorithm>
#include <array>

#include "agent/protocols/cassandra/parse.h"
#include "agent/protocols/clickhouse/parse.h"
#include "agent/protocols/dns/parse.h"
#include "agent/protocols/dubbo/parse.h"
#include "agent/protocols/foundationdb/parse.h"
#include "agent/protocols/http/parse.h"
#include "agent/protocols/kafka/parse.h"
#include "agent/protocols/memcached/parse.h"
#include "agent/protocols/mongo/parse.h"
#include "agent/protocols/mysql/parse.h"
#include "agent/protocols/mysql/stitch.h"
#include "agent/protocols/nats/parse.h"
#include "agent/protocols/postgres/parse.h"
#include "agent/protocols/postgres/stitch.h"
#include "agent/protocols/rabbitmq/parse.h"
#include "agent/protocols/redis/parse.h"
#include "agent/protocols/zookeeper/parse.h"

namespace coroot::agent::protocols {
namespace {

// ---- request decoders: the common signature over each protocol's parser ----

ParseResult DecodeHttp(const L7Event& ev, ConnectionState*, L7Request* out) {
  return http::ParseRequest(ev.payload, out);
}

ParseResult DecodePostgres(const L7Event& ev, ConnectionState* conn, L7Request* out) {
  postgres::Request req;
  ParseResult r = postgres::ParseRequest(ev.payload, &req);
  if (r == ParseResult::kInvalid) return r;
  out->statement = postgres::StitchStatement(req, &conn->postgres);
  out->method = "query";
  out->truncated = out->truncated || req.truncated;
  return r;
}

ParseResult DecodeRedis(const L7Event& ev, ConnectionState*, L7Request* out) {
  return redis::ParseRequest(ev.payload, out);
}

ParseResult DecodeMemcached(const L7Event& ev, ConnectionState*, L7Request* out) {
  return memcached::ParseRequest(ev.payload, out);
}

ParseResult DecodeMysql(const L7Event& ev, ConnectionState* conn, L7Request* out) {
  mysql::Request req;
  ParseResult r = mysql::ParseRequest(ev.payload, &req);
  if (r == ParseResult::kInvalid) return r;
  // A prepare's statement id comes with the event (read by the kernel from PREPARE_OK); only a
  // complete statement text is worth remembering.
  uint32_t prepared = (req.command == mysql::kComStmtPrepare && ev.status != kEventStatusFailed && !req.truncated)
                          ? ev.statement_id
                          : 0;
  out->statement = mysql::StitchStatement(req, prepared, &conn->mysql);
  out->method = "query";
  out->truncated = out->truncated || req.truncated;
  return r;
}

ParseResult DecodeDns(const L7Event& ev, ConnectionState*, L7Request* out) {
  std::string status_from_event = out->status;
  ParseResult r = dns::ParseRequest(ev.payload, out);
  if (out->status.empty()) out->status = status_from_event;
  return r;
}

ParseResult DecodeMongo(const L7Event& ev, ConnectionState*, L7Request* out) {
  return mongo::ParseRequest(ev.payload, out);
}

ParseResult DecodeKafka(const L7Event& ev, ConnectionState*, L7Request* out) {
  return kafka::ParseRequest(ev.payload, out);
}

// A broker message (fire and forget): the kernel's verdict on the status stands, and every message
// of the event's head counts.
template <ParseResult (*Parse)(std::string_view, L7Request*), size_t (*Count)(std::string_view, bool)>
ParseResult DecodeMessages(const L7Event& ev, ConnectionState*, L7Request* out) {
  std::string status = out->status;
  ParseResult r = Parse(ev.payload, out);
  out->status = status;
  if (r == ParseResult::kSuccess)
    out->messages = std::max<uint32_t>(1, static_cast<uint32_t>(Count(ev.payload, out->method == kMethodProduce)));
  return r;
}

ParseResult DecodeCassandra(const L7Event& ev, ConnectionState*, L7Request* out) {
  int16_t stream = 0;
  return cassandra::ParseRequest(ev.payload, out, &stream);
}

ParseResult DecodeClickhouse(const L7Event& ev, ConnectionState*, L7Request* out) {
  return clickhouse::ParseRequest(ev.payload, out);
}

ParseResult DecodeDubbo(const L7Event& ev, ConnectionState*, L7Request* out) {
  uint64_t id = 0;
  return dubbo::ParseRequest(ev.payload, out, &id);
}

ParseResult DecodeZookeeper(const L7Event& ev, ConnectionState*, L7Request* out) {
  return zookeeper::ParseRequest(ev.payload, out);
}

ParseResult DecodeFoundationdb(const L7Event& ev, ConnectionState*, L7Request* out) {
  return foundationdb::ParseRequest(ev.payload, out);
}

// ---- response classifiers ----

ParseResult HttpStatus(std::string_view buf, std::string* status) {
  int code = 0;
  ParseResult r = http::ParseResponseStatus(buf, &code);
  if (r == ParseResult::kSuccess) *status = http::StatusClass(code);
  return r;
}

template <ParseResult (*F)(std::string_view, std::string_view*)>
ParseResult ViewStatus(std::string_view buf, std::string* status) {
  std::string_view s;
  ParseResult r = F(buf, &s);
  if (r == ParseResult::kSuccess) *status = std::string(s);
  return r;
}

// The same for parsers that also return the id naming the request (unused here: the kernel paired them).
template <typename Id, ParseResult (*F)(std::string_view, std::string_view*, Id*)>
ParseResult ViewStatusWithId(std::string_view buf, std::string* status) {
  std::string_view s;
  Id id{};
  ParseResult r = F(buf, &s, &id);
  if (r == ParseResult::kSuccess) *status = std::string(s);
  return r;
}

ParseResult DnsStatus(std::string_view buf, std::string* status) {
  dns::Message m;
  ParseResult r = dns::ParseMessage(buf, &m);
  if (r != ParseResult::kSuccess) return r;
  if (!m.is_response) return ParseResult::kInvalid;
  *status = std::string(dns::RcodeName(m.rcode));
  return r;
}

constexpr std::array<ProtocolSpec, kMaxProtocolId> kRegistry = {{
    {L7Protocol::kHttp, "http", "container_http_requests_total", "container_http_requests_duration_seconds_total",
     "container_http_inbound_requests_total", "container_http_inbound_requests_duration_seconds_total",
     http::DetectRequest, DecodeHttp, HttpStatus},
    {L7Protocol::kPostgres, "postgres", "container_postgres_queries_total",
     "container_postgres_queries_duration_seconds_total", "container_postgres_inbound_queries_total",
     "container_postgres_inbound_queries_duration_seconds_total", postgres::DetectRequest, DecodePostgres,
     ViewStatus<postgres::ParseResponseStatus>},
    {L7Protocol::kRedis, "redis", "container_redis_queries_total", "container_redis_queries_duration_seconds_total",
     "container_redis_inbound_queries_total", "container_redis_inbound_queries_duration_seconds_total",
     redis::DetectRequest, DecodeRedis, ViewStatus<redis::ParseResponseStatus>},
    {L7Protocol::kMemcached, "memcached", "container_memcached_queries_total",
     "container_memcached_queries_duration_seconds_total", "container_memcached_inbound_queries_total",
     "container_memcached_inbound_queries_duration_seconds_total", memcached::DetectRequest, DecodeMemcached,
     ViewStatus<memcached::ParseResponseStatus>},
    {L7Protocol::kMysql, "mysql", "container_mysql_queries_total", "container_mysql_queries_duration_seconds_total",
     "container_mysql_inbound_queries_total", "container_mysql_inbound_queries_duration_seconds_total",
     mysql::DetectRequest, DecodeMysql, ViewStatus<mysql::ParseResponseStatus>},
    {L7Protocol::kMongo, "mongo", "container_mongo_queries_total", "container_mongo_queries_duration_seconds_total",
     "container_mongo_inbound_queries_total", "container_mongo_inbound_queries_duration_seconds_total",
     mongo::DetectRequest, DecodeMongo, nullptr},
    {L7Protocol::kKafka, "kafka", "container_kafka_requests_total", "container_kafka_requests_duration_seconds_total",
     "container_kafka_inbound_requests_total", "container_kafka_inbound_requests_duration_seconds_total",
     kafka::DetectRequest, DecodeKafka, nullptr},
    {L7Protocol::kCassandra, "cassandra", "container_cassandra_queries_total",
     "container_cassandra_queries_duration_seconds_total", "container_cassandra_inbound_queries_total",
     "container_cassandra_inbound_queries_duration_seconds_total", cassandra::DetectRequest, DecodeCassandra,
     ViewStatusWithId<int16_t, cassandra::ParseResponseStatus>},
    {L7Protocol::kRabbitmq, "rabbitmq", "container_rabbitmq_messages_total", "", "", "", rabbitmq::DetectRequest,
     DecodeMessages<rabbitmq::ParseMessage, rabbitmq::CountMessages>, nullptr},
    {L7Protocol::kNats, "nats", "container_nats_messages_total", "", "", "", nats::DetectRequest,
     DecodeMessages<nats::ParseMessage, nats::CountMessages>, nullptr},
    // HTTP/2 and gRPC share the HTTP families; their frames are paired per connection with HPACK
    // state (http2::Stitcher), so there is no per-event decoder here.
    {L7Protocol::kHttp2, "http2", "container_http_requests_total", "container_http_requests_duration_seconds_total",
     "container_http_inbound_requests_total", "container_http_inbound_requests_duration_seconds_total",
     http2::LooksLikeHttp2, nullptr, nullptr},
    {L7Protocol::kDubbo2, "dubbo", "container_dubbo_requests_total", "container_dubbo_requests_duration_seconds_total",
     "container_dubbo_inbound_requests_total", "container_dubbo_inbound_requests_duration_seconds_total",
     dubbo::DetectRequest, DecodeDubbo, ViewStatusWithId<uint64_t, dubbo::ParseResponseStatus>},
    {L7Protocol::kDns, "dns", "container_dns_requests_total", "container_dns_requests_duration_seconds_total",
     "container_dns_inbound_requests_total", "container_dns_inbound_requests_duration_seconds_total",
     dns::DetectRequest, DecodeDns, DnsStatus},
    {L7Protocol::kClickhouse, "clickhouse", "container_clickhouse_queries_total",
     "container_clickhouse_queries_duration_seconds_total", "container_clickhouse_inbound_queries_total",
     "container_clickhouse_inbound_queries_duration_seconds_total", clickhouse::DetectRequest, DecodeClickhouse,
     ViewStatus<clickhouse::ParseResponseStatus>},
    {L7Protocol::kZookeeper, "zookeeper", "container_zookeeper_requests_total",
     "container_zookeeper_requests_duration_seconds_total", "container_zookeeper_inbound_requests_total",
     "container_zookeeper_inbound_requests_duration_seconds_total", zookeeper::DetectRequest, DecodeZookeeper,
     ViewStatusWithId<int32_t, zookeeper::ParseResponseStatus>},
    {L7Protocol::kFoundationdb, "foundationdb", "container_foundationdb_requests_total",
     "container_foundationdb_requests_duration_seconds_total", "container_foundationdb_inbound_requests_total",
     "container_foundationdb_inbound_requests_duration_seconds_total", foundationdb::DetectRequest,
     DecodeFoundationdb, ViewStatusWithId<uint16_t, foundationdb::ParseResponseStatus>},
}};

}  // namespace

std::span<const ProtocolSpec> Registry() { return kRegistry; }

const ProtocolSpec* FindProtocol(L7Protocol id) {
  auto i = static_cast<size_t>(id);
  if (i == 0 || i > kRegistry.size()) return nullptr;
  return &kRegistry[i - 1];
}

const ProtocolSpec* FindProtocolByName(std::string_view name) {
  for (const auto& p : kRegistry)
    if (p.name == name) return &p;
  return nullptr;
}

L7Protocol DetectRequestProtocol(std::string_view buf) {
  for (const auto& p : kRegistry)
    if (p.detect_request != nullptr && p.detect_request(buf)) return p.id;
  return L7Protocol::kUnknown;
}

std::string EventStatusLabel(L7Protocol protocol, int32_t status) {
  switch (protocol) {
    case L7Protocol::kHttp:
      return http::StatusClass(status);
    case L7Protocol::kDns:
      return status >= 0 && status <= 15 ? std::string(dns::RcodeName(static_cast<uint8_t>(status)))
                                         : std::string(kStatusUnknown);
    case L7Protocol::kZookeeper:
      // ZooKeeper err codes: 0 ok; -1..-9 (system errors) and -123 failed; other API errors
      // (e.g. -101 NoNode) are answers, not failures.
      if (status == 0) return std::string(kStatusOk);
      if ((status <= -1 && status >= -9) || status == -123) return std::string(kStatusFailed);
      return std::string(kStatusOk);
    default:
      if (status == kEventStatusOk) return std::string(kStatusOk);
      if (status == kEventStatusFailed) return std::string(kStatusFailed);
      return std::string(kStatusUnknown);
  }
}

}  // namespace coroot::agent::protocols
