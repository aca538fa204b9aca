#include "agent/protocols/redis/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::redis {
namespace {

TEST(RedisParseTest, CommandAndFirstArg) {
  L7Request r;
  ASSERT_EQ(ParseRequest("*3\r\n$3\r\nSET\r\n$5\r\nmykey\r\n$7\r\nmyvalue\r\n", &r), ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kRedis);
  EXPECT_EQ(r.method, "SET");
  EXPECT_EQ(r.statement, "SET mykey");
  L7Request p;
  ASSERT_EQ(ParseRequest("*1\r\n$4\r\nPING\r\n", &p), ParseResult::kSuccess);
  EXPECT_EQ(p.statement, "PING");
}

TEST(RedisParseTest, AllArgs) {
  std::vector<std::string_view> args;
  ASSERT_EQ(ParseCommand("*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$0\r\n\r\n$2\r\nv1\r\n", &args), ParseResult::kSuccess);
  ASSERT_EQ(args.size(), 4u);
  EXPECT_EQ(args[1], "h");
  EXPECT_EQ(args[2], "");
  EXPECT_EQ(args[3], "v1");
}

TEST(RedisParseTest, CutValueKeepsCommand) {
  L7Request r;
  ASSERT_EQ(ParseRequest("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$100000\r\nxxxx", &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.statement, "SET key");
  EXPECT_TRUE(r.truncated);
  L7Request k;
  ASSERT_EQ(ParseRequest("*2\r\n$3\r\nGET\r\n$10\r\nabc", &k), ParseResult::kNeedMoreData);
  EXPECT_EQ(k.statement, "GET abc");
}

TEST(RedisParseTest, Invalid) {
  L7Request r;
  EXPECT_EQ(ParseRequest("*0\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("*1\r\n$-1\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("*1\r\n$3\r\nGETxx", &r), ParseResult::kInvalid);       // missing CRLF after bulk
  EXPECT_EQ(ParseRequest("*1\r\n$3\r\n1-!\r\n", &r), ParseResult::kInvalid);  // not a command name
  EXPECT_EQ(ParseRequest("*1\r\n$99999999999\r\n", &r), ParseResult::kInvalid);  // absurd length
  EXPECT_EQ(ParseRequest("PING\r\n", &r), ParseResult::kInvalid);                 // inline commands are not classified
  EXPECT_EQ(ParseRequest("*1\r\n$4\r\nPI", &r), ParseResult::kInvalid);           // the command itself is cut
  EXPECT_TRUE(DetectRequest("*1\r\n$4\r\nPING\r\n"));
  EXPECT_FALSE(DetectRequest("*1\r\n$4\r\n1ING\r\n"));
  EXPECT_FALSE(DetectRequest("+OK\r\n"));
}

TEST(RedisParseTest, ArgumentCountIsBounded) {
  std::string req = "*100000\r\n";
  for (size_t i = 0; i < kMaxArgs + 10; i++) req += "$1\r\na\r\n";
  std::vector<std::string_view> args;
  EXPECT_EQ(ParseCommand(req, &args), ParseResult::kSuccess);
  EXPECT_EQ(args.size(), kMaxArgs);
}

TEST(RedisParseTest, ResponseStatus) {
  std::string_view s;
  struct Case {
    std::string_view bytes, status;
  } cases[] = {{"+OK\r\n", "ok"},        {":1\r\n", "ok"},         {"$-1\r\n", "ok"},   {"*0\r\n", "ok"},
               {"_\r\n", "ok"},          {"%1\r\n", "ok"},         {",1.5\r\n", "ok"},  {"#t\r\n", "ok"},
               {"-ERR no\r\n", "failed"}, {"!21\r\nSYNTAX invalid\r\n", "failed"}};
  for (const auto& c : cases) {
    ASSERT_EQ(ParseResponseStatus(c.bytes, &s), ParseResult::kSuccess) << c.bytes;
    EXPECT_EQ(s, c.status) << c.bytes;
  }
  EXPECT_EQ(ParseResponseStatus("", &s), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseResponseStatus("HTTP/1.1 200", &s), ParseResult::kInvalid);
}

}  // namespace
}  // namespace coroot::agent::protocols::redis
