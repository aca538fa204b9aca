#include "lib/compress/compress.h"

#include <gtest/gtest.h>

namespace coroot::compress {
namespace {

std::string Sample() {
  std::string s;
  for (int i = 0; i < 1000; i++) s += "node_resources_cpu_usage_seconds_total{mode=\"user\"} " + std::to_string(i) + "\n";
  return s;
}

TEST(Compress, RoundTripsEveryCodec) {
  std::string raw = Sample();
  EXPECT_EQ(*SnappyDecompress(SnappyCompress(raw), raw.size()), raw);
  for (auto f : {ZlibFormat::kGzip, ZlibFormat::kZlib, ZlibFormat::kRawDeflate})
    EXPECT_EQ(*ZlibDecompress(ZlibCompress(raw, f), f, raw.size()), raw);
  EXPECT_EQ(*ZstdDecompress(ZstdCompress(raw), raw.size()), raw);
  EXPECT_EQ(*DecodeContentEncoding("gzip", ZlibCompress(raw, ZlibFormat::kGzip), 1 << 20), raw);
  EXPECT_EQ(*DecodeContentEncoding("deflate", ZlibCompress(raw, ZlibFormat::kRawDeflate), 1 << 20), raw);
  EXPECT_EQ(*DecodeContentEncoding("zstd", ZstdCompress(raw), 1 << 20), raw);
  EXPECT_EQ(*DecodeContentEncoding("", raw, 1 << 20), raw);
}

TEST(Compress, BombsAreRefusedBeforeAllocating) {
  std::string zeros(50 << 20, '\0');  // 50 MiB of zeros compresses to a few KiB
  auto gz = ZlibCompress(zeros, ZlibFormat::kGzip);
  auto zs = ZstdCompress(zeros);
  auto sn = SnappyCompress(zeros);
  EXPECT_LT(gz.size(), 100u << 10);
  EXPECT_EQ(ZlibDecompress(gz, ZlibFormat::kGzip, 1 << 20).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ZstdDecompress(zs, 1 << 20).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(SnappyDecompress(sn, 1 << 20).status().code(), StatusCode::kResourceExhausted);
}

TEST(Compress, CorruptAndTruncatedInputIsAnError) {
  std::string raw = Sample();
  auto gz = ZlibCompress(raw, ZlibFormat::kGzip);
  EXPECT_EQ(ZlibDecompress(gz.substr(0, gz.size() / 2), ZlibFormat::kGzip, 1 << 20).status().code(),
            StatusCode::kInvalidArgument);
  auto zs = ZstdCompress(raw);
  EXPECT_FALSE(ZstdDecompress(zs.substr(0, zs.size() / 2), 1 << 20).ok());
  EXPECT_EQ(SnappyDecompress("not snappy at all", 1 << 20).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeContentEncoding("br", "x", 10).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coroot::compress
