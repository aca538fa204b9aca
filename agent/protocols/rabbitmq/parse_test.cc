#include "agent/protocols/rabbitmq/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::rabbitmq {
namespace {

using std::string_view_literals::operator""sv;

// Basic.Publish on channel 1: reserved 0, exchange "orders", routing key "created", bits 0.
constexpr auto kPublish =
    "\x01\x00\x01\x00\x00\x00\x16\x00\x3c\x00\x28\x00\x00\x06" "orders" "\x07" "created" "\x00\xce"sv;
// Basic.Deliver: consumer tag "ctag", delivery tag 1, not redelivered, same exchange and key.
constexpr auto kDeliver =
    "\x01\x00\x01\x00\x00\x00\x21\x00\x3c\x00\x3c\x04" "ctag" "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x06" "orders"
    "\x07" "created" "\xce"sv;

TEST(RabbitmqParseTest, PublishAndDeliver) {
  L7Request p;
  ASSERT_EQ(ParseMessage(kPublish, &p), ParseResult::kSuccess);
  EXPECT_EQ(p.protocol, L7Protocol::kRabbitmq);
  EXPECT_EQ(p.method, "produce");
  EXPECT_EQ(p.path, "created");
  EXPECT_EQ(p.statement, "exchange=orders routing_key=created");
  L7Request d;
  ASSERT_EQ(ParseMessage(kDeliver, &d), ParseResult::kSuccess);
  EXPECT_EQ(d.method, "consume");
  EXPECT_EQ(d.statement, "exchange=orders routing_key=created");
  // Content header and body frames may follow in the same write.
  std::string with_header = std::string(kPublish) + std::string("\x02\x00\x01\x00\x00\x00\x00\xce", 8);
  EXPECT_TRUE(DetectRequest(with_header));
}

TEST(RabbitmqParseTest, Invalid) {
  L7Request r;
  std::string bad_end(kPublish);
  bad_end.back() = '\x00';
  EXPECT_EQ(ParseMessage(bad_end, &r), ParseResult::kInvalid);
  // Basic.Ack (60,80) is neither.
  EXPECT_EQ(ParseMessage("\x01\x00\x01\x00\x00\x00\x0d\x00\x3c\x00\x50\x00\x00\x00\x00\x00\x00\x00\x01\x00\xce"sv, &r),
            ParseResult::kInvalid);
  EXPECT_EQ(ParseMessage(kPublish.substr(0, 10), &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseMessage("AMQP\x00\x00\x09\x01"sv, &r), ParseResult::kInvalid);  // protocol header
}

}  // namespace
}  // namespace coroot::agent::protocols::rabbitmq
