#include "agent/protocols/memcached/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::memcached {
namespace {

TEST(MemcachedParseTest, StorageCommandKey) {
  L7Request r;
  ASSERT_EQ(ParseRequest("set user:42 0 3600 5\r\nhello\r\n", &r), ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kMemcached);
  EXPECT_EQ(r.method, "set");
  EXPECT_EQ(r.keys, std::vector<std::string>{"user:42"});
  EXPECT_EQ(r.statement, "user:42");
  L7Request c;
  ASSERT_EQ(ParseRequest("cas k 0 0 1 12345 noreply\r\nx\r\n", &c), ParseResult::kSuccess);
  EXPECT_EQ(c.keys, std::vector<std::string>{"k"});
}

TEST(MemcachedParseTest, RetrievalKeys) {
  L7Request r;
  ASSERT_EQ(ParseRequest("gets a b  c\r\n", &r), ParseResult::kSuccess);
  EXPECT_EQ(r.method, "gets");
  EXPECT_EQ(r.keys, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.statement, "a b c");
  L7Request g;
  ASSERT_EQ(ParseRequest("gat 300 k1 k2\r\n", &g), ParseResult::kSuccess);
  EXPECT_EQ(g.keys, (std::vector<std::string>{"k1", "k2"}));  // the exptime is not a key
  L7Request d;
  ASSERT_EQ(ParseRequest("incr hits 1\r\n", &d), ParseResult::kSuccess);
  EXPECT_EQ(d.keys, std::vector<std::string>{"hits"});
}

TEST(MemcachedParseTest, CutLine) {
  L7Request r;
  ASSERT_EQ(ParseRequest("get k1 k2 k", &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.keys, (std::vector<std::string>{"k1", "k2", "k"}));
  EXPECT_TRUE(r.truncated);
}

TEST(MemcachedParseTest, Invalid) {
  L7Request r;
  EXPECT_EQ(ParseRequest("stats\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("get \r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("get a\x01" "b\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("get " + std::string(251, 'k') + "\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequest("GET a\r\n", &r), ParseResult::kInvalid);
  EXPECT_TRUE(DetectRequest("delete x\r\n"));
  EXPECT_FALSE(DetectRequest("delete x"));
  EXPECT_FALSE(DetectRequest("version\r\n"));
}

TEST(MemcachedParseTest, KeysAreBounded) {
  std::string req = "get";
  for (size_t i = 0; i < kMaxKeys + 5; i++) req += " k" + std::to_string(i);
  L7Request r;
  ASSERT_EQ(ParseRequest(req + "\r\n", &r), ParseResult::kSuccess);
  EXPECT_EQ(r.keys.size(), kMaxKeys);
  EXPECT_EQ(r.keys.back(), "k" + std::to_string(kMaxKeys - 1));
}

TEST(MemcachedParseTest, ResponseStatus) {
  std::string_view s;
  struct Case {
    std::string_view bytes, status;
  } cases[] = {{"VALUE k 0 1\r\nx\r\nEND\r\n", "ok"}, {"END\r\n", "ok"},        {"STORED\r\n", "ok"},
               {"NOT_STORED\r\n", "ok"},            {"DELETED\r\n", "ok"},    {"NOT_FOUND\r\n", "ok"},
               {"TOUCHED\r\n", "ok"},               {"EXISTS\r\n", "ok"},     {"42\r\n", "ok"},
               {"ERROR\r\n", "failed"},             {"CLIENT_ERROR bad data chunk\r\n", "failed"},
               {"SERVER_ERROR out of memory\r\n", "failed"}};
  for (const auto& c : cases) {
    ASSERT_EQ(ParseResponseStatus(c.bytes, &s), ParseResult::kSuccess) << c.bytes;
    EXPECT_EQ(s, c.status) << c.bytes;
  }
  EXPECT_EQ(ParseResponseStatus("STOR", &s), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseResponseStatus("HELLO\r\n", &s), ParseResult::kInvalid);
  EXPECT_EQ(ParseResponseStatus("-1\r\n", &s), ParseResult::kInvalid);
}

}  // namespace
}  // namespace coroot::agent::protocols::memcached
