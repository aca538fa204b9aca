// Fuzzes the HTTP/2 stitcher (framing, HPACK, Huffman) with arbitrary writes from both sides.
// Input: a sequence of records [1 byte: direction in bit 0, truncation in bit 1][2 bytes length][bytes].
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/protocols/http2/stitch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroot::agent::protocols::http2;
  Stitcher::Limits limits;
  limits.max_streams = 64;
  limits.max_header_block = 16 << 10;
  Stitcher s(limits);
  std::vector<Request> done;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  uint64_t ts = 0;
  while (in.size() >= 3) {
    uint8_t tag = static_cast<uint8_t>(in[0]);
    size_t len = static_cast<uint8_t>(in[1]) | (static_cast<size_t>(static_cast<uint8_t>(in[2])) << 8);
    in.remove_prefix(3);
    std::string_view chunk = in.substr(0, len);
    in.remove_prefix(chunk.size());
    Direction dir = (tag & 1) ? Direction::kServerToClient : Direction::kClientToServer;
    size_t total = (tag & 2) ? chunk.size() + 100 : chunk.size();
    s.Feed(dir, ts++, chunk, total, &done);
    for (const auto& r : done) (void)StatusLabel(r);
    done.clear();
  }
  s.Gc(ts + 1000000000000ull);
  return 0;
}
