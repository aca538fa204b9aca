#include "agent/protocols/span.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols {
namespace {

const SpanValue* Attr(const SpanData& s, const std::string& key) {
  for (const auto& [k, v] : s.attributes)
    if (k == key) return &v;
  return nullptr;
}

std::string Str(const SpanData& s, const std::string& key) {
  const SpanValue* v = Attr(s, key);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "<absent>";
}

TEST(SpanTest, Http) {
  L7Request r;
  r.protocol = L7Protocol::kHttp;
  r.method = "POST";
  r.path = "/api/v1/items?x=1";
  r.http_status_code = 503;
  auto s = BuildSpan(r, "10.0.0.5:8080");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "POST");
  EXPECT_EQ(Str(*s, "http.url"), "http://10.0.0.5:8080/api/v1/items?x=1");
  EXPECT_EQ(Str(*s, "http.method"), "POST");
  EXPECT_EQ(std::get<int64_t>(*Attr(*s, "http.status_code")), 503);
  EXPECT_TRUE(s->error);
  r.http_status_code = 399;
  EXPECT_FALSE(BuildSpan(r, "h:1")->error);
}

TEST(SpanTest, Databases) {
  L7Request pg;
  pg.protocol = L7Protocol::kPostgres;
  pg.statement = "SELECT 1";
  pg.status = "failed";
  auto s = BuildSpan(pg, "db:5432");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "query");
  EXPECT_EQ(Str(*s, "db.system"), "postgresql");
  EXPECT_EQ(Str(*s, "db.statement"), "SELECT 1");
  EXPECT_TRUE(s->error);

  L7Request redis;
  redis.protocol = L7Protocol::kRedis;
  redis.method = "GET";
  redis.statement = "GET user:1";
  redis.status = "ok";
  auto rs = BuildSpan(redis, "r:6379");
  EXPECT_EQ(rs->name, "GET");
  EXPECT_EQ(Str(*rs, "db.operation"), "GET");
  EXPECT_EQ(Str(*rs, "db.statement"), "GET user:1");
  EXPECT_FALSE(rs->error);

  L7Request mc;
  mc.protocol = L7Protocol::kMemcached;
  mc.method = "get";
  mc.keys = {"a", "b"};
  auto ms = BuildSpan(mc, "m:11211");
  EXPECT_EQ(std::get<std::vector<std::string>>(*Attr(*ms, "db.memcached.item")), (std::vector<std::string>{"a", "b"}));
  mc.keys = {"a"};
  EXPECT_EQ(Str(*BuildSpan(mc, "m:11211"), "db.memcached.item"), "a");

  L7Request zk;
  zk.protocol = L7Protocol::kZookeeper;
  zk.method = "getData";
  zk.statement = "getData /app";
  zk.status = "failed";
  zk.raw_status = -4;
  auto zs = BuildSpan(zk, "zk:2181");
  EXPECT_EQ(zs->name, "getData");
  EXPECT_EQ(Str(*zs, "db.system"), "zookeeper");
  EXPECT_EQ(std::get<int64_t>(*Attr(*zs, "zookeeper.status_code")), -4);
  EXPECT_TRUE(zs->error);
}

TEST(SpanTest, NoSpanForMetricsOnlyProtocolsAndInbound) {
  for (L7Protocol p : {L7Protocol::kKafka, L7Protocol::kCassandra, L7Protocol::kRabbitmq, L7Protocol::kNats,
                       L7Protocol::kDubbo2, L7Protocol::kDns, L7Protocol::kFoundationdb}) {
    L7Request r;
    r.protocol = p;
    EXPECT_FALSE(BuildSpan(r, "x:1").has_value()) << static_cast<int>(p);
  }
  L7Request in;
  in.protocol = L7Protocol::kHttp;
  in.is_inbound = true;
  EXPECT_FALSE(BuildSpan(in, "x:1").has_value());
}

}  // namespace
}  // namespace coroot::agent::protocols
