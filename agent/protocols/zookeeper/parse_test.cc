#include "agent/protocols/zookeeper/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::zookeeper {
namespace {

using std::string_view_literals::operator""sv;

// getData("/app/config", watch=false), xid 5: len 24 = xid 4 + op 4 + path (4 + 11) + bool 1.
constexpr auto kGetData = "\x00\x00\x00\x18\x00\x00\x00\x05\x00\x00\x00\x04\x00\x00\x00\x0b/app/config\x00"sv;
constexpr auto kPing = "\x00\x00\x00\x08\xff\xff\xff\xfe\x00\x00\x00\x0b"sv;

TEST(ZookeeperParseTest, PathRequest) {
  EXPECT_TRUE(DetectRequest(kGetData));
  L7Request r;
  ASSERT_EQ(ParseRequest(kGetData, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kZookeeper);
  EXPECT_EQ(r.method, "getData");
  EXPECT_EQ(r.path, "/app/config");
  EXPECT_EQ(r.statement, "getData /app/config");
}

TEST(ZookeeperParseTest, PingAndCut) {
  EXPECT_TRUE(DetectRequest(kPing));
  L7Request r;
  ASSERT_EQ(ParseRequest(kPing, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.method, "ping");
  EXPECT_EQ(r.path, "");
  L7Request c;
  ASSERT_EQ(ParseRequest(kGetData.substr(0, 20), &c), ParseResult::kNeedMoreData);
  EXPECT_EQ(c.path, "/app");
  EXPECT_TRUE(c.truncated);
}

TEST(ZookeeperParseTest, Invalid) {
  L7Request r;
  EXPECT_EQ(ParseRequest("\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x0a"sv, &r), ParseResult::kInvalid);  // op 10
  EXPECT_EQ(ParseRequest("\x00\x00\x00\x08\xff\xff\xff\xf0\x00\x00\x00\x0b"sv, &r), ParseResult::kInvalid);  // xid -16
  EXPECT_EQ(ParseRequest("\x00\x00\x00\x10\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x03" "abc"sv, &r),
            ParseResult::kInvalid);  // path without '/'
  EXPECT_EQ(ParseRequest("\x00\x00\x00\x10\x00\x00\x00\x01\x00\x00\x00\x04\x7f\xff\xff\xff"sv, &r),
            ParseResult::kInvalid);  // absurd path length
  EXPECT_FALSE(DetectRequest(kGetData.substr(0, 20)));  // length disagrees with a short buffer
}

TEST(ZookeeperParseTest, ResponseStatus) {
  std::string_view s;
  int32_t err = 1;
  ASSERT_EQ(ParseResponseStatus("\x00\x00\x00\x10\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x00"sv,
                                &s, &err),
            ParseResult::kSuccess);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x00\x00\x00\x10\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x2a\xff\xff\xff\x9b"sv,
                                &s, &err),
            ParseResult::kSuccess);
  EXPECT_EQ(err, -101);  // NoNode: an answer, not a failure
  EXPECT_EQ(s, "ok");
  ASSERT_EQ(ParseResponseStatus("\x00\x00\x00\x10\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x2a\xff\xff\xff\xfc"sv,
                                &s, &err),
            ParseResult::kSuccess);
  EXPECT_EQ(err, -4);  // ConnectionLoss
  EXPECT_EQ(s, "failed");
  EXPECT_EQ(ParseResponseStatus("\x00\x00\x00\x10\x00\x00"sv, &s, &err), ParseResult::kNeedMoreData);
}

}  // namespace
}  // namespace coroot::agent::protocols::zookeeper
