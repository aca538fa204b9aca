#include "agent/protocols/postgres/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::postgres {
namespace {

using std::string_view_literals::operator""sv;

// Query "SELECT 1": 'Q', int32 length 13 (4 + 8 text + NUL), text, NUL.
constexpr std::string_view kQuery = "Q\0\0\0\x0dSELECT 1\0"sv;
// Parse "s1" "SELECT $1" 0 params; Bind portal "" statement "s1" 0 formats, 0 params, 0 result formats;
// Execute portal "" max 0; Sync.
constexpr std::string_view kExtended =
    "P\0\0\0\x13s1\0SELECT $1\0\0\0"
    "B\0\0\0\x0e\0s1\0\0\0\0\0\0\0"
    "E\0\0\0\x09\0\0\0\0\0"
    "S\0\0\0\x04"sv;

TEST(PostgresParseTest, DetectsQueryCloseAndSync) {
  EXPECT_TRUE(DetectRequest(kQuery));
  EXPECT_TRUE(DetectRequest(kExtended));
  EXPECT_TRUE(DetectRequest("C\0\0\0\x08S\x73\x31\0"sv));   // Close statement "s1", exactly filling the buffer
  EXPECT_FALSE(DetectRequest("Q\0\0\0\x0dSELECT 1"sv));     // length+1 != size
  EXPECT_FALSE(DetectRequest("X\0\0\0\x04"sv));
  EXPECT_FALSE(DetectRequest(""));
}

TEST(PostgresParseTest, SimpleQuery) {
  Request r;
  ASSERT_EQ(ParseRequest(kQuery, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.kind, Request::Kind::kSimpleQuery);
  EXPECT_EQ(r.query, "SELECT 1");
  EXPECT_FALSE(r.truncated);
}

TEST(PostgresParseTest, ExtendedQuery) {
  Request r;
  ASSERT_EQ(ParseRequest(kExtended, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.kind, Request::Kind::kExtendedQuery);
  ASSERT_EQ(r.parses.size(), 1u);
  EXPECT_EQ(r.parses[0].name, "s1");
  EXPECT_EQ(r.parses[0].query, "SELECT $1");
  EXPECT_TRUE(r.has_bind);
  EXPECT_EQ(r.bind_statement, "s1");
  EXPECT_EQ(r.query, "SELECT $1");
}

TEST(PostgresParseTest, CutQueryIsKept) {
  Request r;
  // Length says 0x40 bytes but only part of the text arrived (payload head cut).
  ASSERT_EQ(ParseRequest("Q\0\0\0\x40SELECT * FROM big"sv, &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.query, "SELECT * FROM big");
  EXPECT_TRUE(r.truncated);
}

TEST(PostgresParseTest, Invalid) {
  Request r;
  EXPECT_EQ(ParseRequest("Q\0\0\0\x02"sv, &r), ParseResult::kInvalid);          // length < 4
  EXPECT_EQ(ParseRequest("S\0\0\0\x04"sv, &r), ParseResult::kInvalid);          // Sync alone: no request
  EXPECT_EQ(ParseRequest("Z\0\0\0\x05I"sv, &r), ParseResult::kInvalid);         // a backend message
  EXPECT_EQ(ParseRequest("Q\0\0\0\x08" "abcd"sv, &r), ParseResult::kInvalid);      // text without NUL
  EXPECT_EQ(ParseRequest("C\0\0\0\x07X\x61\0"sv, &r), ParseResult::kInvalid);   // Close of neither S nor P
  EXPECT_EQ(ParseRequest("", &r), ParseResult::kInvalid);
}

TEST(PostgresParseTest, SplitStopsAtMessageCap) {
  std::string many;
  for (size_t i = 0; i < kMaxMessagesPerBuffer + 1; i++) many += std::string("H\0\0\0\x04", 5);
  std::vector<Message> msgs;
  EXPECT_EQ(SplitMessages(many, &msgs), ParseResult::kInvalid);
  EXPECT_EQ(msgs.size(), kMaxMessagesPerBuffer);
}

TEST(PostgresParseTest, ResponseStatus) {
  std::string_view s;
  // ParseComplete, BindComplete, then DataRow → ok.
  ASSERT_EQ(ParseResponseStatus("1\0\0\0\x04" "2\0\0\0\x04" "D\0\0\0\x0b\0\x01\0\0\0\x01" "1"sv, &s),
            ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("E\0\0\0\x0cSERROR\0\0"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  ASSERT_EQ(ParseResponseStatus("1\0\0\0\x04" "E\0\0\0\x0cSERROR\0\0"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "failed");
  ASSERT_EQ(ParseResponseStatus("C\0\0\0\x0dSELECT 1\0"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  EXPECT_EQ(ParseResponseStatus("1\0\0\0\x04"sv, &s), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseResponseStatus("Q\0\0\0\x04"sv, &s), ParseResult::kInvalid);
  EXPECT_EQ(ParseResponseStatus("1\0\0\0\x01"sv, &s), ParseResult::kInvalid);
}

TEST(PostgresParseTest, ErrorMessage) {
  EXPECT_EQ(ErrorMessage("SERROR\0C42P01\0Mrelation \"t\" does not exist\0\0"sv), "relation \"t\" does not exist");
  EXPECT_EQ(ErrorMessage("SERROR\0"sv), "");
  EXPECT_EQ(ErrorMessage("SERR"sv), "");
}

}  // namespace
}  // namespace coroot::agent::protocols::postgres
