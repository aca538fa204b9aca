#pragma once
// The static Huffman code of HPACK (RFC 7541 §5.2, Appendix B), decode side.
//
// The code is canonical: codes are assigned in order of (length, symbol), so the 257 code lengths
// alone define it. We keep only those lengths and derive the decoding tables from them once.
#include <cstddef>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::protocols::http2 {

// Appends the decoding of `in` to *out. Fails on an EOS symbol inside the data, padding longer than
// 7 bits or not all ones (RFC 7541 §5.2), or when the output would exceed max_out bytes.
Status HuffmanDecode(std::string_view in, std::string* out, size_t max_out);

// Encoder, used by tests and fuzz seeds to build header blocks.
std::string HuffmanEncode(std::string_view in);

}  // namespace coroot::agent::protocols::http2
