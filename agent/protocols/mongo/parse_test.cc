#include "agent/protocols/mongo/parse.h"

#include <gtest/gtest.h>

#include "agent/protocols/test_util.h"

namespace coroot::agent::protocols::mongo {
namespace {

using std::string_view_literals::operator""sv;
using testing::Fixture;

TEST(MongoParseTest, FindCommand) {
  std::string msg = Fixture("mongo/mongo_find.bin");
  ASSERT_EQ(msg.size(), 88u);
  EXPECT_TRUE(DetectRequest(msg));
  EXPECT_FALSE(DetectResponse(msg));
  L7Request r;
  ASSERT_EQ(ParseRequest(msg, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.protocol, L7Protocol::kMongo);
  EXPECT_EQ(r.method, "find");
  EXPECT_EQ(r.statement, R"({"find": "users", "filter": {"age": {"$gt": 30}}, "$db": "shop"})");
  EXPECT_FALSE(r.truncated);
}

TEST(MongoParseTest, InsertWithDocumentSequence) {
  std::string msg = Fixture("mongo/mongo_insert.bin");
  ASSERT_EQ(msg.size(), 160u);
  L7Request r;
  ASSERT_EQ(ParseRequest(msg, &r), ParseResult::kSuccess);
  EXPECT_EQ(r.method, "insert");
  EXPECT_EQ(r.statement,
            R"({"insert": "users", "$db": "shop"} documents: [{"_id": {"$oid": "000102030405060708090a0b"}, )"
            R"("name": "ann", "vip": true, "n": -5, "x": 1.5, "tags": ["a", null]}])");
}

TEST(MongoParseTest, CutMessageRendersWhatArrived) {
  std::string msg = Fixture("mongo/mongo_find.bin");
  L7Request r;
  EXPECT_EQ(ParseRequest(std::string_view(msg).substr(0, 60), &r), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.method, "find");
  EXPECT_TRUE(r.statement.starts_with(R"({"find": "users", "filter": {)")) << r.statement;
  EXPECT_TRUE(r.truncated);
}

TEST(MongoParseTest, RejectsBadBson) {
  std::string out;
  EXPECT_EQ(RenderBson("\x05\x00\x00\x00\x00"sv, &out), ParseResult::kSuccess);
  EXPECT_EQ(out, "{}");
  out.clear();
  EXPECT_EQ(RenderBson("\x04\x00\x00\x00"sv, &out), ParseResult::kInvalid);  // size < 5
  out.clear();
  EXPECT_EQ(RenderBson("\x08\x00\x00\x00\x42x\x00\x00"sv, &out), ParseResult::kInvalid);  // unknown type 0x42
  out.clear();
  EXPECT_EQ(RenderBson("\x09\x00\x00\x00\x08" "b\x00\x02\x00"sv, &out), ParseResult::kInvalid);  // bool 2
  out.clear();
  // A string whose length runs past the document.
  EXPECT_EQ(RenderBson("\x0e\x00\x00\x00\x02s\x00\xff\x00\x00\x00" "ab\x00"sv, &out), ParseResult::kInvalid);
}

TEST(MongoParseTest, DepthAndSizeAreBounded) {
  // 40 nested documents {"a": {"a": ...}}: deeper than kMaxDepth.
  std::string d = std::string("\x05\x00\x00\x00\x00", 5);
  for (int i = 0; i < 40; i++) {
    std::string body = std::string("\x03" "a\x00", 3) + d + std::string(1, '\0');
    uint32_t n = static_cast<uint32_t>(body.size() + 4);
    d = std::string(reinterpret_cast<const char*>(&n), 4) + body;
  }
  std::string out;
  EXPECT_EQ(RenderBson(d, &out), ParseResult::kInvalid);
  // A long string renders cut to the budget.
  std::string big(10000, 'x');
  std::string e = std::string("\x02s\x00", 3);
  uint32_t sl = static_cast<uint32_t>(big.size() + 1);
  e += std::string(reinterpret_cast<const char*>(&sl), 4) + big + std::string(1, '\0');
  std::string body = e + std::string(1, '\0');
  uint32_t n = static_cast<uint32_t>(body.size() + 4);
  std::string doc = std::string(reinterpret_cast<const char*>(&n), 4) + body;
  out.clear();
  EXPECT_EQ(RenderBson(doc, &out), ParseResult::kSuccess);
  EXPECT_EQ(out.size(), kMaxRenderedBytes + 3);
  EXPECT_TRUE(out.ends_with("..."));
}

TEST(MongoParseTest, Detector) {
  std::string msg = Fixture("mongo/mongo_find.bin");
  EXPECT_FALSE(DetectRequest(std::string_view(msg).substr(0, 80)));  // length disagrees
  std::string reply = msg;
  reply[8] = 7;  // responseTo = 7
  EXPECT_FALSE(DetectRequest(reply));
  EXPECT_TRUE(DetectResponse(reply));
  std::string op_query = msg;
  op_query[12] = static_cast<char>(0xd4);  // opCode 2004 (legacy OP_QUERY)
  EXPECT_FALSE(DetectRequest(op_query));
}

}  // namespace
}  // namespace coroot::agent::protocols::mongo
