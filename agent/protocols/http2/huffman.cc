#include "agent/protocols/http2/huffman.h"

#include <array>
#include <cstdint>

namespace coroot::agent::protocols::http2 {

namespace {

constexpr int kSymbols = 257;  // 0..255 and EOS (256)
constexpr int kMaxLen = 30;

// Code length of each symbol, RFC 7541 Appendix B (symbols 0..256).
constexpr std::array<uint8_t, kSymbols> kCodeLength = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28,
    28, 28, 28, 6,  10, 10, 12, 13, 6,  8,  11, 10, 10, 8,  11, 8,  6,  6,  6,  5,  5,  5,  6,  6,  6,  6,  6,  6,  6,
    7,  8,  15, 6,  12, 10, 13, 6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,
    7,  8,  7,  8,  13, 19, 13, 14, 6,  15, 5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5,  6,  7,  6,  5,
    5,  6,  7,  7,  7,  7,  7,  15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24,
    24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22,
    23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26,
    27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23,
    22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30};

// Canonical decoding tables: for each length L, the first code of that length, how many codes
// have it, and where its symbols start in `sorted` (symbols ordered by (length, symbol)).
struct Tables {
  std::array<uint32_t, kMaxLen + 1> first_code{};
  std::array<uint32_t, kMaxLen + 1> count{};
  std::array<uint32_t, kMaxLen + 1> offset{};
  std::array<uint16_t, kSymbols> sorted{};
  std::array<uint32_t, kSymbols> code{};  // for the encoder

  Tables() {
    for (int s = 0; s < kSymbols; ++s) count[kCodeLength[s]]++;
    uint32_t next = 0, index = 0;
    for (int len = 1; len <= kMaxLen; ++len) {
      first_code[len] = next;
      offset[len] = index;
      for (int s = 0; s < kSymbols; ++s)
        if (kCodeLength[s] == len) {
          sorted[index++] = static_cast<uint16_t>(s);
          code[s] = next++;
        }
      next <<= 1;
    }
  }
};

const Tables& T() {
  static const Tables t;
  return t;
}

}  // namespace

Status HuffmanDecode(std::string_view in, std::string* out, size_t max_out) {
  const Tables& t = T();
  uint32_t code = 0;  // bits read since the last symbol
  int len = 0;
  size_t produced = 0;
  for (unsigned char byte : in) {
    for (int bit = 7; bit >= 0; --bit) {
      code = (code << 1) | ((byte >> bit) & 1u);
      ++len;
      if (len > kMaxLen) return InvalidArgument("hpack: invalid Huffman code");
      uint32_t rel = code - t.first_code[len];
      if (code >= t.first_code[len] && rel < t.count[len]) {
        uint16_t sym = t.sorted[t.offset[len] + rel];
        if (sym == 256) return InvalidArgument("hpack: EOS symbol inside a Huffman string");
        if (++produced > max_out) return ResourceExhausted("hpack: Huffman string longer than the limit");
        out->push_back(static_cast<char>(sym));
        code = 0;
        len = 0;
      }
    }
  }
  // What is left must be the most significant bits of EOS (all ones), at most 7 of them.
  if (len > 7) return InvalidArgument("hpack: Huffman padding longer than 7 bits");
  if (len > 0 && code != (1u << len) - 1) return InvalidArgument("hpack: Huffman padding is not EOS");
  return Status::Ok();
}

std::string HuffmanEncode(std::string_view in) {
  const Tables& t = T();
  std::string out;
  uint64_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << kCodeLength[c]) | t.code[c];
    bits += kCodeLength[c];
    while (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0) out.push_back(static_cast<char>(((acc << (8 - bits)) | (0xffu >> bits)) & 0xff));
  return out;
}

}  // namespace coroot::agent::protocols::http2
