#include "agent/protocols/nats/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::nats {
namespace {

TEST(NatsParseTest, ProduceAndConsume) {
  struct Case {
    const char* bytes;
    const char* method;
    const char* subject;
    const char* verb;
  } cases[] = {{"PUB orders.new 5\r\nhello\r\n", "produce", "orders.new", "PUB"},
               {"PUB a.b _INBOX.1 3\r\nabc\r\n", "produce", "a.b", "PUB"},
               {"HPUB s 22 27\r\nNATS/1.0\r\nK: V\r\n\r\n\r\nhello\r\n", "produce", "s", "HPUB"},
               {"MSG orders.new 9 5\r\nhello\r\n", "consume", "orders.new", "MSG"},
               {"MSG s 1 reply.to 5\r\nhello\r\n", "consume", "s", "MSG"},
               {"HMSG s 1 22 27\r\n", "consume", "s", "HMSG"}};
  for (const auto& c : cases) {
    EXPECT_TRUE(DetectRequest(c.bytes)) << c.bytes;
    L7Request r;
    ASSERT_EQ(ParseMessage(c.bytes, &r), ParseResult::kSuccess) << c.bytes;
    EXPECT_EQ(r.protocol, L7Protocol::kNats);
    EXPECT_EQ(r.method, c.method);
    EXPECT_EQ(r.path, c.subject);
    EXPECT_EQ(r.statement, c.verb);
    EXPECT_EQ(r.status, "ok");
  }
}

TEST(NatsParseTest, CountMessages) {
  EXPECT_EQ(CountMessages("PUB a 5\r\nhello\r\n", true), 1u);
  EXPECT_EQ(CountMessages("PUB a 5\r\nhello\r\n", false), 0u);
  // A client's batch, with a PING in the middle and an HPUB.
  EXPECT_EQ(CountMessages("PUB a 2\r\nhi\r\nPING\r\nPUB b r.1 0\r\n\r\nHPUB c 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", true), 3u);
  // A server's coalesced deliveries; a payload that contains CRLF is skipped by its size.
  EXPECT_EQ(CountMessages("MSG a 1 4\r\n\r\n\r\n\r\nMSG a 1 2\r\nhi\r\nHMSG a 1 12 12\r\nNATS/1.0\r\n\r\n\r\n", false),
            3u);
  // The head ends inside the second message's payload, then inside a control line.
  EXPECT_EQ(CountMessages("MSG a 1 2\r\nhi\r\nMSG a 1 10\r\nhel", false), 2u);
  EXPECT_EQ(CountMessages("MSG a 1 2\r\nhi\r\nMSG a 1", false), 1u);
  // A message of the other direction or garbage ends the count.
  EXPECT_EQ(CountMessages("MSG a 1 2\r\nhi\r\nPUB a 2\r\nhi\r\n", false), 1u);
  EXPECT_EQ(CountMessages("MSG a 1 2\r\nhi\r\n\x01\x02\r\nMSG a 1 2\r\nhi\r\n", false), 1u);
  EXPECT_EQ(CountMessages("MSG a 1 99999999999999999\r\nhi\r\n", false), 1u);
  EXPECT_EQ(CountMessages("", true), 0u);
}

TEST(NatsParseTest, Invalid) {
  L7Request r;
  EXPECT_EQ(ParseMessage("PUB a\r\n", &r), ParseResult::kInvalid);            // no byte count
  EXPECT_EQ(ParseMessage("PUB a b\r\n", &r), ParseResult::kInvalid);          // count not a number
  EXPECT_EQ(ParseMessage("PUB a b c 5\r\n", &r), ParseResult::kInvalid);      // too many fields
  EXPECT_EQ(ParseMessage("SUB a 1\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseMessage("PUBX a 1\r\n", &r), ParseResult::kInvalid);
  EXPECT_EQ(ParseMessage("PUB a 1", &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(ParseMessage("MSG a 1\r\n", &r), ParseResult::kInvalid);          // sid and count needed
}

}  // namespace
}  // namespace coroot::agent::protocols::nats
