#pragma once
// Compression codecs used on the wire (remote write: snappy; OTLP and ClickHouse: gzip, zlib, zstd).
// Every decoder takes a bound on the decompressed size so a small hostile body cannot become a
// huge allocation (decompression bombs get kResourceExhausted).
#include <cstddef>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::compress {

std::string SnappyCompress(std::string_view raw);
StatusOr<std::string> SnappyDecompress(std::string_view compressed, size_t max_size);

enum class ZlibFormat { kGzip, kZlib, kRawDeflate };
std::string ZlibCompress(std::string_view raw, ZlibFormat format, int level = 6);
StatusOr<std::string> ZlibDecompress(std::string_view compressed, ZlibFormat format, size_t max_size);

std::string ZstdCompress(std::string_view raw, int level = 3);
StatusOr<std::string> ZstdDecompress(std::string_view compressed, size_t max_size);

// Decodes an HTTP Content-Encoding ("", "identity", "gzip", "deflate", "zlib", "zstd", "snappy").
StatusOr<std::string> DecodeContentEncoding(std::string_view encoding, std::string_view body, size_t max_size);

}  // namespace coroot::compress
