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

// Frames of a delivery: content header (type 2) and body (type 3) after the method frame.
constexpr auto kHeader =
    "\x02\x00\x01\x00\x00\x00\x0e\x00\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\xce"sv;
constexpr auto kBody = "\x03\x00\x01\x00\x00\x00\x02hi\xce"sv;

TEST(RabbitmqParseTest, CountMessages) {
  std::string one = std::string(kDeliver) + std::string(kHeader) + std::string(kBody);
  EXPECT_EQ(CountMessages(one, false), 1u);
  EXPECT_EQ(CountMessages(one, true), 0u);
  // What RabbitMQ wrote in one go to a consumer: Basic.ConsumeOk, then three deliveries.
  std::string consume_ok("\x01\x00\x01\x00\x00\x00\x09\x00\x3c\x00\x15\x04" "ctag" "\xce"sv);
  std::string burst = consume_ok + one + one + one;
  EXPECT_EQ(CountMessages(burst, false), 3u);
  // Cut in the middle of the third delivery's method frame header: two complete, the third's
  // class and method ids are past the end.
  EXPECT_EQ(CountMessages(std::string_view(burst).substr(0, consume_ok.size() + 2 * one.size() + 9), false), 2u);
  // Cut inside the third delivery's method frame payload (its ids are there): counted.
  EXPECT_EQ(CountMessages(std::string_view(burst).substr(0, consume_ok.size() + 2 * one.size() + 12), false), 3u);
  // Publishes, each with its header and body, in one write.
  std::string pub = std::string(kPublish) + std::string(kHeader) + std::string(kBody);
  EXPECT_EQ(CountMessages(pub + pub, true), 2u);
  // A broken frame end stops the count.
  std::string bad = one;
  bad[kDeliver.size() - 1] = 0;
  EXPECT_EQ(CountMessages(bad + one, false), 1u);
  EXPECT_EQ(CountMessages("", false), 0u);
  EXPECT_EQ(CountMessages("AMQP\x00\x00\x09\x01"sv, true), 0u);
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
