#include "lib/clickhouse/row_binary.h"

#include <gtest/gtest.h>

#include <limits>

namespace coroot::clickhouse {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(RowBinary, UnsignedIntegersAreLittleEndian) {
  RowBinaryWriter w;
  w.UInt8(0xab);
  w.UInt16(0x0102);
  w.UInt32(0x01020304);
  w.UInt64(0x0102030405060708ull);
  EXPECT_EQ(w.data(), Bytes({0xab, 0x02, 0x01, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}));
}

TEST(RowBinary, SignedIntegersAreTwosComplement) {
  RowBinaryWriter w;
  w.Int8(-1);
  w.Int16(-2);
  w.Int32(-3);
  w.Int64(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(w.data(), Bytes({0xff, 0xfe, 0xff, 0xfd, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x80}));
}

TEST(RowBinary, Floats) {
  RowBinaryWriter w;
  w.Float64(1.5);  // 0x3FF8000000000000
  w.Float32(-2.0f);  // 0xC0000000
  EXPECT_EQ(w.data(), Bytes({0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0xc0}));
}

TEST(RowBinary, VarUInt) {
  RowBinaryWriter w;
  w.VarUInt(0);
  w.VarUInt(127);
  w.VarUInt(128);
  w.VarUInt(300);
  w.VarUInt(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(w.data(), Bytes({0x00, 0x7f, 0x80, 0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0x01}));
}

TEST(RowBinary, StringHasVarintLength) {
  RowBinaryWriter w;
  w.String("hi");
  w.String("");
  w.String(std::string(200, 'x'));
  ASSERT_EQ(w.size(), 3u + 1u + 2u + 200u);
  EXPECT_EQ(w.data().substr(0, 6), Bytes({2, 'h', 'i', 0, 0xc8, 0x01}));
  EXPECT_EQ(w.data().substr(6), std::string(200, 'x'));
}

TEST(RowBinary, StringKeepsBinaryBytes) {
  RowBinaryWriter w;
  w.String(std::string("a\0b", 3));
  EXPECT_EQ(w.data(), Bytes({3, 'a', 0, 'b'}));
}

TEST(RowBinary, FixedStringPadsAndRefusesOverflow) {
  RowBinaryWriter w;
  ASSERT_TRUE(w.FixedString("ab", 4).ok());
  EXPECT_EQ(w.data(), Bytes({'a', 'b', 0, 0}));
  Status st = w.FixedString("abcde", 4);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.size(), 4u) << "a refused value must not write anything";
}

TEST(RowBinary, DateTimeIsUInt32Seconds) {
  RowBinaryWriter w;
  w.DateTime(1700000000);  // 0x6553F100
  EXPECT_EQ(w.data(), Bytes({0x00, 0xf1, 0x53, 0x65}));
}

TEST(RowBinary, DateTime64ScalesNanoseconds) {
  const int64_t ns = 1700000000123456789;
  EXPECT_EQ(RowBinaryWriter::ScaleNanos(ns, 9), ns);
  EXPECT_EQ(RowBinaryWriter::ScaleNanos(ns, 6), 1700000000123456);
  EXPECT_EQ(RowBinaryWriter::ScaleNanos(ns, 3), 1700000000123);
  EXPECT_EQ(RowBinaryWriter::ScaleNanos(ns, 0), 1700000000);
  EXPECT_EQ(RowBinaryWriter::ScaleNanos(-1, 3), -1) << "floors before the epoch";
  RowBinaryWriter w;
  w.DateTime64FromNanos(1500, 6);  // 1 µs
  w.DateTime64(-2);
  EXPECT_EQ(w.data(), Bytes({1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(RowBinary, ArrayAndMapPrefixes) {
  RowBinaryWriter w;
  w.StringArray({"a", "bc"});
  w.StringMap(std::vector<std::pair<std::string, std::string>>{{"k", "v"}, {"k2", ""}});
  w.StringMap(std::map<std::string, std::string>{});
  EXPECT_EQ(w.data(), Bytes({2, 1, 'a', 2, 'b', 'c',              // Array(String)
                             2, 1, 'k', 1, 'v', 2, 'k', '2', 0,  // Map(String,String)
                             0}));                               // empty map
  RowBinaryWriter u;
  u.ArraySize(3);
  u.UInt32(1);
  u.UInt32(2);
  u.UInt32(3);
  EXPECT_EQ(u.data(), Bytes({3, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}));
}

TEST(RowBinary, NullableAndBool) {
  RowBinaryWriter w;
  w.NullFlag(true);
  w.NullFlag(false);
  w.String("x");
  w.Bool(true);
  EXPECT_EQ(w.data(), Bytes({1, 0, 1, 'x', 1}));
}

TEST(RowBinary, TakeEmptiesTheWriter) {
  RowBinaryWriter w;
  w.UInt8(7);
  std::string out = w.Take();
  EXPECT_EQ(out, Bytes({7}));
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace coroot::clickhouse
