#include "agent/protocols/byte_reader.h"

#include <gtest/gtest.h>

namespace coroot::agent::protocols {
namespace {

using std::string_view_literals::operator""sv;

TEST(BinaryReaderTest, ReadsBothByteOrders) {
  BinaryReader r("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"sv);
  uint16_t a = 0;
  uint32_t b = 0, c = 0;
  ASSERT_EQ(r.ReadBE16(&a), ParseResult::kSuccess);
  EXPECT_EQ(a, 0x0102);
  ASSERT_EQ(r.ReadLE32(&b), ParseResult::kSuccess);
  EXPECT_EQ(b, 0x06050403u);
  ASSERT_EQ(r.ReadLE24(&c), ParseResult::kSuccess);
  EXPECT_EQ(c, 0x090807u);
  EXPECT_EQ(r.remaining(), 2u);
  EXPECT_EQ(r.position(), 9u);
}

TEST(BinaryReaderTest, ShortReadsFailWithoutMoving) {
  BinaryReader r("\xff\xfe\xfd"sv);
  uint32_t v = 7;
  EXPECT_EQ(r.ReadBE32(&v), ParseResult::kNeedMoreData);
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(r.position(), 0u);
  std::string_view s;
  EXPECT_EQ(r.ReadBytes(4, &s), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.Skip(4), ParseResult::kNeedMoreData);
  int32_t sv = 0;
  EXPECT_EQ(r.ReadBE32s(&sv), ParseResult::kNeedMoreData);
  ASSERT_EQ(r.ReadBytes(3, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "\xff\xfe\xfd"sv);
  uint8_t u = 0;
  EXPECT_EQ(r.ReadU8(&u), ParseResult::kNeedMoreData);
  EXPECT_EQ(r.PeekU8(&u), ParseResult::kNeedMoreData);
  EXPECT_TRUE(r.empty());
}

TEST(BinaryReaderTest, SignedAndDelimited) {
  BinaryReader r("\xff\xff\xff\x85name\0rest\r\nx"sv);
  int32_t v = 0;
  ASSERT_EQ(r.ReadBE32s(&v), ParseResult::kSuccess);
  EXPECT_EQ(v, -123);
  std::string_view s;
  ASSERT_EQ(r.ReadCString(&s), ParseResult::kSuccess);
  EXPECT_EQ(s, "name");
  ASSERT_EQ(r.ReadUntil("\r\n"sv, &s), ParseResult::kSuccess);
  EXPECT_EQ(s, "rest");
  EXPECT_EQ(r.ReadCString(&s), ParseResult::kNeedMoreData);  // no NUL left
  EXPECT_EQ(r.rest(), "x");
}

}  // namespace
}  // namespace coroot::agent::protocols
