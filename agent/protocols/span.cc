#include "agent/protocols/span.h"

namespace coroot::agent::protocols {
namespace {

SpanData Db(std::string name, const char* system, const L7Request& r) {
  SpanData s;
  s.name = std::move(name);
  s.attributes.emplace_back("db.system", std::string(system));
  s.error = r.status == kStatusFailed;
  return s;
}

}  // namespace

std::optional<SpanData> BuildSpan(const L7Request& r, std::string_view peer) {
  if (r.is_inbound) return std::nullopt;
  switch (r.protocol) {
    case L7Protocol::kHttp: {
      SpanData s;
      s.name = r.method.empty() ? "unknown" : r.method;
      s.attributes.emplace_back("http.url", "http://" + std::string(peer) + r.path);
      s.attributes.emplace_back("http.method", r.method);
      s.attributes.emplace_back("http.status_code", static_cast<int64_t>(r.http_status_code));
      s.error = r.http_status_code >= 400;
      return s;
    }
    case L7Protocol::kPostgres: {
      SpanData s = Db("query", "postgresql", r);
      s.attributes.emplace_back("db.statement", r.statement);
      return s;
    }
    case L7Protocol::kMysql: {
      SpanData s = Db("query", "mysql", r);
      s.attributes.emplace_back("db.statement", r.statement);
      return s;
    }
    case L7Protocol::kMongo: {
      SpanData s = Db("query", "mongodb", r);
      s.attributes.emplace_back("db.statement", r.statement);
      return s;
    }
    case L7Protocol::kClickhouse: {
      SpanData s = Db("query", "clickhouse", r);
      s.attributes.emplace_back("db.statement", r.statement);
      return s;
    }
    case L7Protocol::kRedis: {
      SpanData s = Db(r.method, "redis", r);
      s.attributes.emplace_back("db.operation", r.method);
      s.attributes.emplace_back("db.statement", r.statement);
      return s;
    }
    case L7Protocol::kMemcached: {
      SpanData s = Db(r.method, "memcached", r);
      s.attributes.emplace_back("db.operation", r.method);
      if (r.keys.size() == 1)
        s.attributes.emplace_back("db.memcached.item", r.keys[0]);
      else
        s.attributes.emplace_back("db.memcached.item", r.keys);
      return s;
    }
    case L7Protocol::kZookeeper: {
      SpanData s = Db(r.method, "zookeeper", r);
      s.attributes.emplace_back("db.operation", r.method);
      s.attributes.emplace_back("db.statement", r.statement);
      s.attributes.emplace_back("zookeeper.status_code", static_cast<int64_t>(r.raw_status));
      s.error = r.status != kStatusOk;
      return s;
    }
    default:
      return std::nullopt;  // metrics only
  }
}

}  // namespace coroot::agent::protocols
