#include "agent/protocols/kafka/parse.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols::kafka {
namespace {

using std::string_view_literals::operator""sv;

// Metadata v1, correlation id 7, client id "cli", topics = null array (-1): size 17.
constexpr auto kMetadata = "\x00\x00\x00\x11\x00\x03\x00\x01\x00\x00\x00\x07\x00\x03" "cli" "\xff\xff\xff\xff"sv;

TEST(KafkaParseTest, Header) {
  EXPECT_TRUE(DetectRequest(kMetadata));
  RequestHeader h;
  ASSERT_EQ(ParseRequestHeader(kMetadata, &h), ParseResult::kSuccess);
  EXPECT_EQ(h.api_key, 3);
  EXPECT_EQ(h.api_version, 1);
  EXPECT_EQ(h.correlation_id, 7);
  EXPECT_EQ(h.client_id, "cli");
  L7Request r;
  ASSERT_EQ(ParseRequest(kMetadata, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.method, "Metadata");
  EXPECT_EQ(r.statement, "Metadata v1");
}

TEST(KafkaParseTest, NamesAndRejects) {
  EXPECT_EQ(ApiKeyName(0), "Produce");
  EXPECT_EQ(ApiKeyName(18), "ApiVersions");
  EXPECT_EQ(ApiKeyName(67), "AllocateProducerIds");
  EXPECT_EQ(ApiKeyName(68), "");
  EXPECT_EQ(ApiKeyName(-1), "");
  RequestHeader h;
  // api_key 68, correlation id 0, size < 8.
  EXPECT_EQ(ParseRequestHeader("\x00\x00\x00\x0a\x00\x44\x00\x00\x00\x00\x00\x01\xff\xff"sv, &h), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequestHeader("\x00\x00\x00\x0a\x00\x03\x00\x00\x00\x00\x00\x00\xff\xff"sv, &h), ParseResult::kInvalid);
  EXPECT_EQ(ParseRequestHeader("\x00\x00\x00\x04\x00\x03\x00\x00\x00\x00\x00\x01\xff\xff"sv, &h), ParseResult::kInvalid);
  EXPECT_FALSE(DetectRequest(kMetadata.substr(0, 16)));  // size disagrees
  int32_t cid = 0;
  ASSERT_EQ(ParseResponseCorrelationId("\x00\x00\x00\x08\x00\x00\x00\x07\x00\x00\x00\x00"sv, &cid), ParseResult::kSuccess);
  EXPECT_EQ(cid, 7);
}

}  // namespace
}  // namespace coroot::agent::protocols::kafka
