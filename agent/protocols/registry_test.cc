#include "agent/protocols/registry.h"

#include <gtest/gtest.h>

#include <set>

namespace coroot::agent::protocols {
namespace {

using std::string_view_literals::operator""sv;

TEST(RegistryTest, OneEntryPerIdInOrder) {
  auto reg = Registry();
  ASSERT_EQ(reg.size(), static_cast<size_t>(kMaxProtocolId));
  std::set<std::string_view> names;
  for (size_t i = 0; i < reg.size(); i++) {
    EXPECT_EQ(static_cast<size_t>(reg[i].id), i + 1);
    EXPECT_TRUE(names.insert(reg[i].name).second) << reg[i].name;
    EXPECT_EQ(FindProtocol(reg[i].id), &reg[i]);
    EXPECT_EQ(FindProtocolByName(reg[i].name), &reg[i]);
    // Every family is Coroot-shaped.
    EXPECT_TRUE(reg[i].requests_total.starts_with("container_")) << reg[i].name;
    EXPECT_TRUE(reg[i].requests_total.ends_with("_total")) << reg[i].name;
    if (!reg[i].requests_duration.empty()) {
      EXPECT_TRUE(reg[i].requests_duration.ends_with("_duration_seconds_total"));
    }
  }
  EXPECT_EQ(FindProtocol(L7Protocol::kUnknown), nullptr);
  EXPECT_EQ(FindProtocol(static_cast<L7Protocol>(17)), nullptr);
  EXPECT_EQ(FindProtocolByName("gopher"), nullptr);
}

TEST(RegistryTest, FamilyNames) {
  EXPECT_EQ(FindProtocol(L7Protocol::kHttp)->requests_total, "container_http_requests_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kHttp)->inbound_requests_duration,
            "container_http_inbound_requests_duration_seconds_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kHttp2)->requests_total, "container_http_requests_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kPostgres)->requests_total, "container_postgres_queries_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kMysql)->inbound_requests_total, "container_mysql_inbound_queries_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kDns)->requests_duration, "container_dns_requests_duration_seconds_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kZookeeper)->requests_total, "container_zookeeper_requests_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kRabbitmq)->requests_total, "container_rabbitmq_messages_total");
  EXPECT_EQ(FindProtocol(L7Protocol::kNats)->requests_duration, "");
  EXPECT_EQ(FindProtocol(L7Protocol::kDubbo2)->name, "dubbo");
}

TEST(RegistryTest, DetectsEachImplementedProtocol) {
  EXPECT_EQ(DetectRequestProtocol("GET / HTTP/1.1\r\n\r\n"), L7Protocol::kHttp);
  EXPECT_EQ(DetectRequestProtocol("Q\0\0\0\x0dSELECT 1\0"sv), L7Protocol::kPostgres);
  EXPECT_EQ(DetectRequestProtocol("*1\r\n$4\r\nPING\r\n"), L7Protocol::kRedis);
  EXPECT_EQ(DetectRequestProtocol("get k\r\n"), L7Protocol::kMemcached);
  EXPECT_EQ(DetectRequestProtocol("\x09\x00\x00\x00\x03SELECT 1"sv), L7Protocol::kMysql);
  EXPECT_EQ(DetectRequestProtocol("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01"sv),
            L7Protocol::kDns);
  EXPECT_EQ(DetectRequestProtocol("SSH-2.0-OpenSSH_9.2\r\n"), L7Protocol::kUnknown);
  EXPECT_EQ(DetectRequestProtocol(""), L7Protocol::kUnknown);
}

TEST(RegistryTest, ResponseStatusThroughTheTable) {
  std::string s;
  ASSERT_EQ(FindProtocol(L7Protocol::kHttp)->decode_response_status("HTTP/1.1 302 Found\r\n", &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "3xx");
  ASSERT_EQ(FindProtocol(L7Protocol::kRedis)->decode_response_status("-ERR x\r\n", &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  ASSERT_EQ(FindProtocol(L7Protocol::kDns)->decode_response_status(
                "\x00\x07\x81\x82\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01"sv, &s),
            ParseResult::kSuccess);
  EXPECT_EQ(s, "servfail");
  EXPECT_EQ(FindProtocol(L7Protocol::kDns)->decode_response_status(
                "\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01"sv, &s),
            ParseResult::kInvalid);  // a query is not a response
}

TEST(RegistryTest, EventStatusLabels) {
  EXPECT_EQ(EventStatusLabel(L7Protocol::kHttp, 200), "2xx");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kHttp, 0), "unknown");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kDns, 3), "nxdomain");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kDns, 99), "unknown");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kDns, -1), "unknown");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kPostgres, kEventStatusOk), "ok");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kPostgres, kEventStatusFailed), "failed");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kPostgres, 0), "unknown");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kZookeeper, 0), "ok");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kZookeeper, -4), "failed");    // ConnectionLoss
  EXPECT_EQ(EventStatusLabel(L7Protocol::kZookeeper, -123), "failed");
  EXPECT_EQ(EventStatusLabel(L7Protocol::kZookeeper, -101), "ok");      // NoNode is an answer
}

}  // namespace
}  // namespace coroot::agent::protocols
