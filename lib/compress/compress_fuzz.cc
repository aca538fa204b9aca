// Feeds arbitrary bytes to every decoder: they must fail cleanly and stay within the bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/compress/compress.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMax = 1 << 20;
  using namespace coroot::compress;
  for (auto e : {"gzip", "deflate", "zstd", "snappy"}) {
    auto r = DecodeContentEncoding(e, in, kMax);
    if (r.ok() && r->size() > kMax) __builtin_trap();
  }
  return 0;
}
