#include "agent/protocols/mysql/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::mysql {
namespace {

using std::string_view_literals::operator""sv;

TEST(MysqlParseTest, ComQuery) {
  constexpr auto kQuery = "\x09\x00\x00\x00\x03SELECT 1"sv;  // len 9, seq 0, COM_QUERY
  EXPECT_TRUE(DetectRequest(kQuery));
  Request r;
  ASSERT_EQ(ParseRequest(kQuery, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.command, kComQuery);
  EXPECT_EQ(r.query, "SELECT 1");
}

TEST(MysqlParseTest, StatementCommands) {
  Request e;
  ASSERT_EQ(ParseRequest("\x0a\x00\x00\x00\x17\x07\x00\x00\x00\x00\x01\x00\x00\x00"sv, &e), ParseResult::kSuccess);
  EXPECT_EQ(e.command, kComStmtExecute);
  EXPECT_EQ(e.statement_id, 7u);
  Request c;
  ASSERT_EQ(ParseRequest("\x05\x00\x00\x00\x19\x2a\x01\x00\x00"sv, &c), ParseResult::kSuccess);
  EXPECT_EQ(c.command, kComStmtClose);
  EXPECT_EQ(c.statement_id, 0x12au);
  Request p;
  ASSERT_EQ(ParseRequest("\x0d\x00\x00\x00\x16SELECT ? + 1"sv, &p), ParseResult::kSuccess);
  EXPECT_EQ(p.command, kComStmtPrepare);
  EXPECT_EQ(p.query, "SELECT ? + 1");
}

TEST(MysqlParseTest, CutQuery) {
  Request r;
  ASSERT_EQ(ParseRequest("\x00\x10\x00\x00\x03SELECT * FROM t WHERE"sv, &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.query, "SELECT * FROM t WHERE");
  EXPECT_TRUE(r.truncated);
}

TEST(MysqlParseTest, Invalid) {
  Request r;
  EXPECT_EQ(ParseRequest("\x09\x00\x00\x01\x03SELECT 1"sv, &r), ParseResult::kInvalid);  // seq 1
  EXPECT_EQ(ParseRequest("\x01\x00\x00\x00\x0e"sv, &r), ParseResult::kInvalid);         // COM_PING
  EXPECT_EQ(ParseRequest("\x02\x00\x00\x00\x17\x01"sv, &r), ParseResult::kInvalid);     // execute without id
  EXPECT_EQ(ParseRequest("\x00\x00\x00\x00"sv, &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("\x09\x00"sv, &r), ParseResult::kNeedMoreData);
  EXPECT_FALSE(DetectRequest("\x01\x00\x00\x00\x01"sv));  // COM_QUIT
  EXPECT_FALSE(DetectRequest("\x02\x00\x00\x00\x19\x01"sv));
}

TEST(MysqlParseTest, ResponseStatus) {
  std::string_view s;
  ASSERT_EQ(ParseResponseStatus("\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x01\x00\x00\x01\x02"sv, &s), ParseResult::kSuccess);  // column count 2
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x02\x00\x00\x01\x01\x01"sv, &s), ParseResult::kSuccess);  // MariaDB header
  EXPECT_EQ(s, "ok");
  EXPECT_EQ(ParseResponseStatus("\x02\x00\x00\x01\xfc\x01"sv, &s), ParseResult::kInvalid);
  ASSERT_EQ(ParseResponseStatus("\x05\x00\x00\x05\xfe\x00\x00\x02\x00"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x1a\x00\x00\x01\xff\x48\x04#42000You have an error"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  EXPECT_EQ(ParseResponseStatus("\x07\x00\x00\x00\x00"sv, &s), ParseResult::kInvalid);  // seq 0 is a request
  EXPECT_EQ(ParseResponseStatus("\x03\x00\x00\x01\x42\x43\x44"sv, &s), ParseResult::kInvalid);
  EXPECT_EQ(ParseResponseStatus("\x07\x00\x00"sv, &s), ParseResult::kNeedMoreData);
}

TEST(MysqlParseTest, PrepareOkAndError) {
  uint32_t id = 0;
  ASSERT_EQ(ParsePrepareOk("\x0c\x00\x00\x01\x00\x05\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00"sv, &id),
            ParseResult::kSuccess);
  EXPECT_EQ(id, 5u);
  EXPECT_EQ(ParsePrepareOk("\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"sv, &id), ParseResult::kInvalid);
  uint16_t code = 0;
  std::string_view msg;
  ASSERT_EQ(ParseError("\x1a\x00\x00\x01\xff\x48\x04#42000You have an error"sv, &code, &msg), ParseResult::kSuccess);
  EXPECT_EQ(code, 1096);
  EXPECT_EQ(msg, "You have an error");
}

}  // namespace
}  // namespace coroot::agent::protocols::mysql
