#include "lib/compress/compress.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/base/strings.h"

namespace coroot::compress {

std::string SnappyCompress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

StatusOr<std::string> SnappyDecompress(std::string_view in, size_t max_size) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &len)) return InvalidArgument("snappy: corrupt input");
  if (len > max_size)
    return ResourceExhausted("snappy: decompressed size " + std::to_string(len) + " exceeds limit " +
                             std::to_string(max_size));
  std::string out;
  if (!snappy::Uncompress(in.data(), in.size(), &out)) return InvalidArgument("snappy: corrupt input");
  return out;
}

static int WindowBits(ZlibFormat f) {
  switch (f) {
    case ZlibFormat::kGzip: return 15 + 16;
    case ZlibFormat::kZlib: return 15;
    case ZlibFormat::kRawDeflate: return -15;
  }
  return 15;
}

std::string ZlibCompress(std::string_view raw, ZlibFormat format, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, WindowBits(format), 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, raw.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

StatusOr<std::string> ZlibDecompress(std::string_view in, ZlibFormat format, size_t max_size) {
  z_stream zs{};
  // For "deflate" HTTP bodies both zlib-wrapped and raw streams occur; 15+32 auto-detects gzip/zlib.
  int wb = format == ZlibFormat::kRawDeflate ? -15 : 15 + 32;
  if (inflateInit2(&zs, wb) != Z_OK) return Internal("zlib: init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string msg = zs.msg ? zs.msg : "corrupt input";
      inflateEnd(&zs);
      return InvalidArgument("zlib: " + msg);
    }
    size_t produced = sizeof buf - zs.avail_out;
    if (out.size() + produced > max_size) {
      inflateEnd(&zs);
      return ResourceExhausted("zlib: decompressed size exceeds limit " + std::to_string(max_size));
    }
    out.append(buf, produced);
    if (rc == Z_OK && zs.avail_in == 0 && produced == 0) {
      inflateEnd(&zs);
      return InvalidArgument("zlib: truncated input");
    }
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

std::string ZstdCompress(std::string_view raw, int level) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

StatusOr<std::string> ZstdDecompress(std::string_view in, size_t max_size) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_initDStream(ds);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::string out;
  char buf[65536];
  size_t rc = 1;
  while (true) {
    ZSTD_outBuffer output{buf, sizeof buf, 0};
    rc = ZSTD_decompressStream(ds, &output, &input);
    if (ZSTD_isError(rc)) {
      std::string msg = ZSTD_getErrorName(rc);
      ZSTD_freeDStream(ds);
      return InvalidArgument("zstd: " + msg);
    }
    if (out.size() + output.pos > max_size) {
      ZSTD_freeDStream(ds);
      return ResourceExhausted("zstd: decompressed size exceeds limit " + std::to_string(max_size));
    }
    out.append(buf, output.pos);
    if (rc == 0 && input.pos == input.size) break;  // frame(s) complete
    if (input.pos == input.size && output.pos == 0) {
      ZSTD_freeDStream(ds);
      return InvalidArgument("zstd: truncated input");
    }
  }
  ZSTD_freeDStream(ds);
  return out;
}

StatusOr<std::string> DecodeContentEncoding(std::string_view encoding, std::string_view body, size_t max_size) {
  std::string e = ToLower(Trim(encoding));
  if (e.empty() || e == "identity") {
    if (body.size() > max_size) return ResourceExhausted("body exceeds limit " + std::to_string(max_size));
    return std::string(body);
  }
  if (e == "gzip" || e == "x-gzip") return ZlibDecompress(body, ZlibFormat::kGzip, max_size);
  if (e == "deflate" || e == "zlib") {
    auto r = ZlibDecompress(body, ZlibFormat::kZlib, max_size);
    if (r.ok() || r.status().code() == StatusCode::kResourceExhausted) return r;
    return ZlibDecompress(body, ZlibFormat::kRawDeflate, max_size);
  }
  if (e == "zstd") return ZstdDecompress(body, max_size);
  if (e == "snappy") return SnappyDecompress(body, max_size);
  return InvalidArgument("unsupported Content-Encoding: " + std::string(encoding));
}

}  // namespace coroot::compress
