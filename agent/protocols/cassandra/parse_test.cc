#include "agent/protocols/cassandra/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::cassandra {
namespace {

using std::string_view_literals::operator""sv;

// QUERY on stream 5: long string "SELECT * FROM t", consistency ONE, flags 0.
constexpr auto kQuery = "\x04\x00\x00\x05\x07\x00\x00\x00\x16\x00\x00\x00\x0f" "SELECT * FROM t" "\x00\x01\x00"sv;
// EXECUTE on stream 6 of prepared id ab cd.
constexpr auto kExecute = "\x04\x00\x00\x06\x0a\x00\x00\x00\x07\x00\x02\xab\xcd\x00\x01\x00"sv;

TEST(CassandraParseTest, Requests) {
  EXPECT_TRUE(DetectRequest(kQuery));
  EXPECT_TRUE(DetectRequest(kExecute));
  L7Request r;
  int16_t stream = -1;
  ASSERT_EQ(ParseRequest(kQuery, &r, &stream), ParseResult::kSuccess);
  EXPECT_EQ(stream, 5);
  EXPECT_EQ(r.method, "QUERY");
  EXPECT_EQ(r.statement, "SELECT * FROM t");
  L7Request e;
  ASSERT_EQ(ParseRequest(kExecute, &e, &stream), ParseResult::kSuccess);
  EXPECT_EQ(stream, 6);
  EXPECT_EQ(e.statement, "EXECUTE abcd");
  L7Request c;
  ASSERT_EQ(ParseRequest(kQuery.substr(0, 20), &c, &stream), ParseResult::kNeedMoreData);
  EXPECT_EQ(c.statement, "SELECT ");
  EXPECT_TRUE(c.truncated);
}

TEST(CassandraParseTest, LongPreparedIdIsCut) {
  // The fuzzer's find: EXECUTE with a 63-byte id; the statement shows its first 32 bytes.
  std::string frame("\x04\x00\x00\x06\x0a\x00\x00\x00\x41\x00\x3f", 11);
  frame += std::string(63, '\xed') + std::string("\x00\x01", 2);
  L7Request r;
  int16_t stream = 0;
  ASSERT_EQ(ParseRequest(frame, &r, &stream), ParseResult::kSuccess);
  std::string want = "EXECUTE ";
  for (int i = 0; i < 32; i++) want += "ed";
  EXPECT_EQ(r.statement, want);
}

TEST(CassandraParseTest, Responses) {
  std::string_view s;
  int16_t stream = 0;
  ASSERT_EQ(ParseResponseStatus("\x84\x00\x00\x05\x08\x00\x00\x00\x04\x00\x00\x00\x01"sv, &s, &stream),
            ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  EXPECT_EQ(stream, 5);
  ASSERT_EQ(ParseResponseStatus("\x84\x00\x00\x06\x00\x00\x00\x00\x06\x00\x00\x22\x00\x00\x00"sv, &s, &stream),
            ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  EXPECT_EQ(stream, 6);
  EXPECT_EQ(ParseResponseStatus(kQuery, &s, &stream), ParseResult::kInvalid);  // a request
}

TEST(CassandraParseTest, Invalid) {
  L7Request r;
  int16_t stream = 0;
  EXPECT_FALSE(DetectRequest("\x03\x00\x00\x05\x07\x00\x00\x00\x00"sv));  // v3
  EXPECT_FALSE(DetectRequest("\x04\x00\x00\x05\x05\x00\x00\x00\x00"sv));  // OPTIONS
  EXPECT_FALSE(DetectRequest("\x04\x00\xff\xff\x07\x00\x00\x00\x00"sv));  // negative stream (server events)
  EXPECT_EQ(ParseRequest("\x04\x00\x00\x05\x07\x7f\xff\xff\xff"sv, &r, &stream), ParseResult::kInvalid);  // huge body
  EXPECT_EQ(ParseRequest("\x04\x00\x00\x05\x07\x00\x00\x00\x08\x00\x00\x00\x40\x41\x42\x43\x44"sv, &r, &stream),
            ParseResult::kInvalid);  // query length beyond the body
}

}  // namespace
}  // namespace coroot::agent::protocols::cassandra
