#include "agent/protocols/clickhouse/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::clickhouse {
namespace {

using std::string_view_literals::operator""sv;

// A Query packet as a revision-54412 client (ClickHouse 18.16) sends it: no query id, kind 1,
// empty initial user and id, address "0.0.0.0:0", TCP, os user "", host "vm", client name,
// 18.16 rev 54412, quota key "", patch 1, no settings, stage 2, compression 1, the query.
constexpr auto kQuery54412 =
    "\x01\x00\x01\x00\x00\x09" "0.0.0.0:0" "\x01\x00\x02" "vm" "\x11" "ClickHouse client"
    "\x12\x10\x8c\xa9\x03\x00\x01\x00\x02\x01\x0f" "SELECT 1 AS one"sv;

// The same at revision 54460 (a 23.x client): an 8-byte start time before the interface,
// distributed depth, no OpenTelemetry, parallel-replica fields, one setting, empty secret,
// and a 36-char query id.
constexpr auto kQuery54460 =
    "\x01\x24" "0123456789abcdef0123456789abcdef0123" "\x01\x00\x00\x0f" "127.0.0.1:45678"
    "\x01\x02\x03\x04\x05\x06\x07\x08"
    "\x01\x04" "root" "\x04" "host" "\x11" "ClickHouse client" "\x17\x08\xbc\xa9\x03"
    "\x00\x00\x05\x00\x00\x00\x00"
    "\x0e" "max_threads_xx" "\x00\x01" "4" "\x00"
    "\x00\x02\x00\x08" "SHOW DBS"sv;

TEST(ClickhouseParseTest, OldRevisionQuery) {
  EXPECT_TRUE(DetectRequest(kQuery54412));
  Query q;
  ASSERT_EQ(ParseQuery(kQuery54412, &q), ParseResult::kSuccess);
  EXPECT_EQ(q.revision, 54412u);
  EXPECT_EQ(q.client_name, "ClickHouse client");
  EXPECT_EQ(q.query, "SELECT 1 AS one");
  L7Request r;
  ASSERT_EQ(ParseRequest(kQuery54412, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.method, "query");
  EXPECT_EQ(r.statement, "SELECT 1 AS one");
}

TEST(ClickhouseParseTest, NewRevisionQuery) {
  EXPECT_TRUE(DetectRequest(kQuery54460));
  Query q;
  ASSERT_EQ(ParseQuery(kQuery54460, &q), ParseResult::kSuccess);
  EXPECT_EQ(q.revision, 54460u);
  EXPECT_EQ(q.query_id, "0123456789abcdef0123456789abcdef0123");
  EXPECT_EQ(q.query, "SHOW DBS");
}

TEST(ClickhouseParseTest, CutQueryText) {
  Query q;
  ASSERT_EQ(ParseQuery(kQuery54412.substr(0, kQuery54412.size() - 4), &q), ParseResult::kNeedMoreData);
  EXPECT_EQ(q.query, "SELECT 1 AS");
  EXPECT_TRUE(q.truncated);
}

TEST(ClickhouseParseTest, Rejects) {
  Query q;
  EXPECT_FALSE(DetectRequest("\x01\x05" "abcde" "\x01\x00\x00\x00"sv));  // query id neither empty nor 36
  EXPECT_FALSE(DetectRequest("\x01\x00\x03\x00\x00\x00"sv));             // query kind 3
  EXPECT_FALSE(DetectRequest("\x02\x00\x01\x00\x00\x00"sv));             // a Data packet
  // The kernel detector's stricter checks: the interface, the revision and its layout.
  std::string iface(kQuery54412), rev(kQuery54412), layout(kQuery54460);
  iface[15] = 2;
  EXPECT_FALSE(DetectRequest(iface));
  rev[42] = 0x02;  // a revision below 54000
  EXPECT_FALSE(DetectRequest(rev));
  layout[96] = '\x8c';  // revision 54412 (no start time at that revision) after a start time
  EXPECT_FALSE(DetectRequest(layout));
  // An AMQP Basic.Publish frame also starts with 1, 0, 1: no Query.
  EXPECT_FALSE(DetectRequest("\x01\x00\x01\x00\x00\x00\x16\x00\x3c\x00\x28\x00\x00\x06orders\x07created\x00\xce"sv));
  EXPECT_EQ(ParseQuery("\x01\x00\x01\x00\x00\x00\x07"sv, &q), ParseResult::kNeedMoreData);
  // Interface byte 9 in both layouts.
  std::string bad(kQuery54412);
  bad[15] = 9;
  EXPECT_EQ(ParseQuery(bad, &q), ParseResult::kInvalid);
  EXPECT_EQ(ParseQuery("\x01\x00\x00\x00\x02\x01\x03\x01\x02\x03"sv, &q), ParseResult::kInvalid);  // binary query
}

TEST(ClickhouseParseTest, ResponseStatus) {
  std::string_view s;
  ASSERT_EQ(ParseResponseStatus("\x05"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x01\x00"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x02\x3c\x00\x00\x00"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  EXPECT_EQ(ParseResponseStatus("\x04"sv, &s), ParseResult::kInvalid);  // Pong answers a Ping, not a query
  EXPECT_EQ(ParseResponseStatus("", &s), ParseResult::kNeedMoreData);
}

}  // namespace
}  // namespace coroot::agent::protocols::clickhouse
