#include "agent/protocols/decoder.h"

#include <gtest/gtest.h>

#include <cstring>

namespace coroot::agent::protocols {
namespace {

using std::string_view_literals::operator""sv;

// Encodes the kernel's l7 event layout byte by byte (little-endian), as the perf buffer delivers it.
std::string RawEvent(uint64_t fd, uint64_t conn_ts, uint32_t pid, int32_t status, uint64_t duration, uint8_t proto,
                     bool inbound, uint32_t stmt_id, uint64_t payload_size, std::string_view payload) {
  std::string b;
  auto put = [&b](uint64_t v, int n) {
    for (int i = 0; i < n; i++) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(fd, 8);
  put(conn_ts, 8);
  put(pid, 4);
  put(static_cast<uint32_t>(status), 4);
  put(duration, 8);
  put(proto, 1);
  put(0, 1);
  put(inbound ? 1 : 0, 1);
  put(0, 1);
  put(stmt_id, 4);
  put(payload_size, 8);
  std::string p(payload);
  p.resize(kMaxPayloadSize, '\0');
  return b + p;
}

TEST(L7EventTest, DecodesTheKernelLayout) {
  std::string raw = RawEvent(7, 123456789, 4242, 404, 2500000, 1, true, 0, 26, "GET /x HTTP/1.1\r\nHost: a\r\n");
  ASSERT_EQ(raw.size(), kL7EventSize);
  L7Event ev;
  ASSERT_EQ(DecodeL7Event(raw, &ev), ParseResult::kSuccess);
  EXPECT_EQ(ev.fd, 7u);
  EXPECT_EQ(ev.connection_timestamp, 123456789u);
  EXPECT_EQ(ev.pid, 4242u);
  EXPECT_EQ(ev.status, 404);
  EXPECT_EQ(ev.duration_ns, 2500000u);
  EXPECT_EQ(ev.protocol, L7Protocol::kHttp);
  EXPECT_TRUE(ev.is_inbound);
  EXPECT_EQ(ev.payload, "GET /x HTTP/1.1\r\nHost: a\r\n");
  EXPECT_FALSE(ev.truncated());
}

TEST(L7EventTest, BoundsAndRejects) {
  L7Event ev;
  std::string raw = RawEvent(1, 1, 1, 0, 0, 2, false, 0, 1u << 20, "Q\0\0\0\x40SELECT"sv);
  ASSERT_EQ(DecodeL7Event(raw, &ev), ParseResult::kSuccess);
  EXPECT_EQ(ev.payload.size(), kMaxPayloadSize);  // payload_size beyond 1024 is capped
  EXPECT_TRUE(ev.truncated());
  EXPECT_EQ(DecodeL7Event(raw.substr(0, kL7EventHeaderSize - 1), &ev), ParseResult::kNeedMoreData);
  ASSERT_EQ(DecodeL7Event(raw.substr(0, kL7EventHeaderSize + 10), &ev), ParseResult::kSuccess);
  EXPECT_EQ(ev.payload.size(), 10u);  // a short record: only what is there
  EXPECT_EQ(DecodeL7Event(RawEvent(1, 1, 1, 0, 0, 0, false, 0, 0, ""), &ev), ParseResult::kInvalid);
  EXPECT_EQ(DecodeL7Event(RawEvent(1, 1, 1, 0, 0, 17, false, 0, 0, ""), &ev), ParseResult::kInvalid);
}

L7Event Event(L7Protocol proto, std::string_view payload, int32_t status, uint64_t fd = 5, uint32_t stmt = 0) {
  L7Event ev;
  ev.fd = fd;
  ev.pid = 100;
  ev.connection_timestamp = 1000;
  ev.protocol = proto;
  ev.status = status;
  ev.duration_ns = 1500000;
  ev.statement_id = stmt;
  ev.payload = payload;
  ev.payload_size = payload.size();
  return ev;
}

TEST(L7DecoderTest, HttpRecord) {
  L7Decoder d;
  L7Request r;
  ASSERT_EQ(d.Decode(Event(L7Protocol::kHttp, "GET /api/items?page=2 HTTP/1.1\r\n\r\n", 503), &r),
            ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kHttp);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/items?page=2");
  EXPECT_EQ(r.status, "5xx");
  EXPECT_EQ(r.http_status_code, 503);
  EXPECT_EQ(r.raw_status, 503);
  EXPECT_EQ(r.duration_ns, 1500000u);
  EXPECT_EQ(r.fd, 5u);
  EXPECT_EQ(r.pid, 100u);
  EXPECT_EQ(r.connection_timestamp, 1000u);
  EXPECT_FALSE(r.truncated);
}

TEST(L7DecoderTest, PostgresPreparedStatementsArePerConnection) {
  L7Decoder d;
  L7Request r;
  constexpr auto kParse = "P\0\0\0\x16q1\0SELECT now()\0\0\0S\0\0\0\x04"sv;
  constexpr auto kBind = "B\0\0\0\x0e\0q1\0\0\0\0\0\0\0E\0\0\0\x09\0\0\0\0\0S\0\0\0\x04"sv;
  ASSERT_EQ(d.Decode(Event(L7Protocol::kPostgres, kParse, kEventStatusOk, 5), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT now()");
  ASSERT_EQ(d.Decode(Event(L7Protocol::kPostgres, kBind, kEventStatusOk, 5), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT now()");
  EXPECT_EQ(r.status, "ok");
  // The same Bind on another connection (fd 6) has not seen the Parse.
  ASSERT_EQ(d.Decode(Event(L7Protocol::kPostgres, kBind, kEventStatusFailed, 6), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "EXECUTE q1 /* unknown */");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(d.connections(), 2u);
  d.ForgetConnection(100, 5);
  EXPECT_EQ(d.connections(), 1u);
  ASSERT_EQ(d.Decode(Event(L7Protocol::kPostgres, kBind, kEventStatusOk, 5), &r), ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "EXECUTE q1 /* unknown */");
}

TEST(L7DecoderTest, MysqlStatementIdFromTheEvent) {
  L7Decoder d;
  L7Request r;
  ASSERT_EQ(d.Decode(Event(L7Protocol::kMysql, "\x0d\x00\x00\x00\x16SELECT ? + 1"sv, kEventStatusOk, 5, 3), &r),
            ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT ? + 1");
  ASSERT_EQ(d.Decode(Event(L7Protocol::kMysql, "\x0a\x00\x00\x00\x17\x03\x00\x00\x00\x00\x01\x00\x00\x00"sv,
                           kEventStatusOk, 5),
                     &r),
            ParseResult::kSuccess);
  EXPECT_EQ(r.statement, "SELECT ? + 1");
}

TEST(L7DecoderTest, InvalidPayloadStillGivesCommonFields) {
  L7Decoder d;
  L7Request r;
  EXPECT_EQ(d.Decode(Event(L7Protocol::kRedis, "garbage", kEventStatusFailed), &r), ParseResult::kInvalid);
  EXPECT_EQ(r.protocol, L7Protocol::kRedis);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.method, "");
  EXPECT_EQ(d.invalid_payloads(), 1u);
  // A protocol without a decoder here: common fields only.
  EXPECT_EQ(d.Decode(Event(L7Protocol::kHttp2, "\x10\x00\x00\x00"sv, kEventStatusOk), &r),
            ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kHttp2);
  EXPECT_EQ(r.status, "ok");
  EXPECT_EQ(r.duration_ns, 1500000u);
  // A cut Kafka header: the common fields, nothing invented.
  EXPECT_EQ(d.Decode(Event(L7Protocol::kKafka, "\x00\x00\x00\x10"sv, kEventStatusOk), &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.protocol, L7Protocol::kKafka);
  EXPECT_EQ(r.method, "");
  EXPECT_EQ(r.status, "ok");
}

TEST(L7DecoderTest, ConnectionTableIsBounded) {
  L7Decoder d(4);
  L7Request r;
  for (uint64_t fd = 0; fd < 10; fd++)
    ASSERT_EQ(d.Decode(Event(L7Protocol::kPostgres, "Q\0\0\0\x0dSELECT 1\0"sv, kEventStatusOk, fd), &r),
              ParseResult::kSuccess);
  EXPECT_EQ(d.connections(), 4u);
  EXPECT_EQ(d.evicted_connections(), 6u);
}

}  // namespace
}  // namespace coroot::agent::protocols
