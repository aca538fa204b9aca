#include "agent/protocols/http2/hpack.h"

#include <gtest/gtest.h>

#include "agent/protocols/http2/huffman.h"

namespace coroot::agent::protocols::http2 {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

using Fields = std::vector<HeaderField>;

// RFC 7541 Appendix C.4: three requests on one connection, Huffman-coded, sharing the table.
TEST(Hpack, Rfc7541RequestExamplesWithHuffman) {
  HpackDecoder d;
  Fields f;
  ASSERT_TRUE(d.Decode(Hex("828684418cf1e3c2e5f23a6ba0ab90f4ff"), &f).ok());
  EXPECT_EQ(f, (Fields{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"}}));
  EXPECT_EQ(d.table_bytes(), 57u);

  f.clear();
  ASSERT_TRUE(d.Decode(Hex("828684be5886a8eb10649cbf"), &f).ok());
  EXPECT_EQ(f, (Fields{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"},
                       {"cache-control", "no-cache"}}));
  EXPECT_EQ(d.table_bytes(), 110u);

  f.clear();
  ASSERT_TRUE(d.Decode(Hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"), &f).ok());
  EXPECT_EQ(f, (Fields{{":method", "GET"}, {":scheme", "https"}, {":path", "/index.html"},
                       {":authority", "www.example.com"}, {"custom-key", "custom-value"}}));
  EXPECT_EQ(d.table_bytes(), 164u);
  EXPECT_EQ(d.table_entries(), 3u);
}

// RFC 7541 Appendix C.5: responses with a 256-byte table, where the fourth entry evicts the first.
TEST(Hpack, Rfc7541ResponsesEvictUnderA256ByteTable) {
  HpackDecoder d;
  d.SetMaxTableSize(256);
  Fields f;
  ASSERT_TRUE(d.Decode(Hex("4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
                           "6e1768747470733a2f2f7777772e6578616d706c652e636f6d"),
                       &f)
                  .ok());
  EXPECT_EQ(f[0], (HeaderField{":status", "302"}));
  EXPECT_EQ(f[2], (HeaderField{"date", "Mon, 21 Oct 2013 20:13:21 GMT"}));
  EXPECT_EQ(d.table_bytes(), 222u);
  f.clear();
  ASSERT_TRUE(d.Decode(Hex("4803333037c1c0bf"), &f).ok());
  EXPECT_EQ(f, (Fields{{":status", "307"}, {"cache-control", "private"}, {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                       {"location", "https://www.example.com"}}));
  EXPECT_EQ(d.table_bytes(), 222u);
  EXPECT_EQ(d.table_entries(), 4u);
}

TEST(Hpack, IntegersWithPrefixesRoundTrip) {
  for (int prefix : {4, 5, 6, 7}) {
    for (uint64_t v : {0ull, 1ull, 14ull, 15ull, 30ull, 31ull, 62ull, 63ull, 126ull, 127ull, 128ull, 1337ull,
                       1ull << 20, 0xffffffffull}) {
      std::string enc = EncodeInteger(v, prefix, 0);
      size_t pos = 0;
      uint64_t got = 0;
      ASSERT_TRUE(DecodeInteger(enc, &pos, prefix, &got).ok()) << v;
      EXPECT_EQ(got, v);
      EXPECT_EQ(pos, enc.size());
    }
  }
  // RFC 7541 C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a.
  EXPECT_EQ(EncodeInteger(1337, 5, 0), Hex("1f9a0a"));
}

TEST(Hpack, MalformedBlocksAreErrorsNotCrashes) {
  HpackDecoder d;
  Fields f;
  EXPECT_FALSE(d.Decode(Hex("80"), &f).ok());            // index 0
  EXPECT_FALSE(d.Decode(Hex("be"), &f).ok());            // dynamic index 62 with an empty table
  EXPECT_FALSE(d.Decode(Hex("ff"), &f).ok());            // truncated integer
  EXPECT_FALSE(d.Decode(Hex("ffffffffffff7f"), &f).ok());  // integer overflow
  EXPECT_FALSE(d.Decode(Hex("400a6b"), &f).ok());        // string longer than the block
  EXPECT_FALSE(d.Decode(Hex("3fe1ff03"), &f).ok());      // size update above the 4096 limit
  EXPECT_FALSE(d.Decode(Hex("82" "20"), &f).ok());       // size update after a field
  // Huffman: EOS inside, and padding that is not all ones.
  EXPECT_FALSE(d.Decode(Hex("4084ffffffff0161"), &f).ok());
  EXPECT_FALSE(d.Decode(Hex("008100") + Hex("0161"), &f).ok());
}

TEST(Hpack, HeaderListAndTableAreBounded) {
  HpackDecoder d(/*max_header_list_bytes=*/1000);
  Fields f;
  std::string block = std::string(1, '\0') + EncodeString("x-big", false) + EncodeString(std::string(2000, 'a'), false);
  Status st = d.Decode(block, &f);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  // Huffman strings are bounded by their decoded size too.
  block = std::string(1, '\0') + EncodeString("x-big", false) + EncodeString(std::string(2000, 'a'), true);
  EXPECT_EQ(d.Decode(block, &f).code(), StatusCode::kResourceExhausted);

  // An entry bigger than the table empties it rather than growing past the limit.
  HpackDecoder t;
  f.clear();
  ASSERT_TRUE(t.Decode("\x40" + EncodeString("k", false) + EncodeString("v", false), &f).ok());
  EXPECT_EQ(t.table_entries(), 1u);
  ASSERT_TRUE(t.Decode("\x40" + EncodeString("k", false) + EncodeString(std::string(5000, 'v'), false), &f).ok());
  EXPECT_EQ(t.table_entries(), 0u);
  EXPECT_EQ(t.table_bytes(), 0u);
  // A peer's SETTINGS cannot make us keep more than the cap.
  t.SetMaxTableSize(1u << 30);
  EXPECT_FALSE(t.Decode(EncodeInteger(HpackDecoder::kMaxTableSizeCap + 1, 5, 0x20), &f).ok());
  EXPECT_TRUE(t.Decode(EncodeInteger(HpackDecoder::kMaxTableSizeCap, 5, 0x20), &f).ok());
}

TEST(Huffman, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::string s : {std::string(), std::string("www.example.com"), std::string("no-cache"), all, all + all}) {
    std::string out;
    ASSERT_TRUE(HuffmanDecode(HuffmanEncode(s), &out, 1 << 20).ok());
    EXPECT_EQ(out, s);
  }
  // RFC 7541 C.4.1: "www.example.com".
  EXPECT_EQ(HuffmanEncode("www.example.com"), Hex("f1e3c2e5f23a6ba0ab90f4ff"));
}

}  // namespace
}  // namespace coroot::agent::protocols::http2
