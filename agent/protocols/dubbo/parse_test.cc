#include "agent/protocols/dubbo/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::dubbo {
namespace {

using std::string_view_literals::operator""sv;

// Request id 7, flags 0xc2 (request, two-way, hessian2), body 43 bytes: "2.0.2",
// "org.demo.GreetService", "1.0.0", "sayHello" as compact hessian2 strings.
constexpr auto kRequest =
    "\xda\xbb\xc2\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x2b"
    "\x05" "2.0.2" "\x15" "org.demo.GreetService" "\x05" "1.0.0" "\x08" "sayHello"sv;

TEST(DubboParseTest, Request) {
  EXPECT_TRUE(DetectRequest(kRequest));
  L7Request r;
  uint64_t id = 0;
  ASSERT_EQ(ParseRequest(kRequest, &r, &id), ParseResult::kSuccess);
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(r.protocol, L7Protocol::kDubbo2);
  EXPECT_EQ(r.method, "org.demo.GreetService/sayHello");
  EXPECT_FALSE(r.truncated);
  // Cut inside the body: the header is still a request; the names may be missing.
  L7Request c;
  ASSERT_EQ(ParseRequest(kRequest.substr(0, 30), &c, &id), ParseResult::kSuccess);
  EXPECT_EQ(c.method, "");
  EXPECT_TRUE(c.truncated);
}

TEST(DubboParseTest, NotRequests) {
  EXPECT_FALSE(DetectRequest("\xda\xbb\xe2\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00"sv));  // heartbeat event
  EXPECT_FALSE(DetectRequest("\xda\xbb\x82\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00"sv));  // one-way
  EXPECT_FALSE(DetectRequest("\xda\xbc\xc2\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00"sv));  // magic
  EXPECT_FALSE(DetectRequest("\xda\xbb\xc2\x00\x00\x00\x00\x00\x00\x00\x00\x07\x7f\xff\xff\xff"sv));  // huge body
  EXPECT_FALSE(DetectRequest("\xda\xbb\xc2"sv));
}

TEST(DubboParseTest, ResponseStatus) {
  std::string_view s;
  uint64_t id = 0;
  ASSERT_EQ(ParseResponseStatus("\xda\xbb\x02\x14\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x01\x91"sv, &s, &id),
            ParseResult::kSuccess);
  EXPECT_EQ(s, "ok");
  EXPECT_EQ(id, 7u);
  ASSERT_EQ(ParseResponseStatus("\xda\xbb\x02\x46\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00"sv, &s, &id),
            ParseResult::kSuccess);  // 70 service error
  EXPECT_EQ(s, "failed");
  EXPECT_EQ(id, 8u);
  EXPECT_EQ(ParseResponseStatus("\xda\xbb\x02\x15\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00"sv, &s, &id),
            ParseResult::kInvalid);  // 21 is not a status
  EXPECT_EQ(ParseResponseStatus(kRequest, &s, &id), ParseResult::kInvalid);
}

}  // namespace
}  // namespace coroot::agent::protocols::dubbo
