#pragma once
// HPACK header-block decoder (RFC 7541) for one direction of one HTTP/2 connection.
//
// The agent watches both ends of a connection without taking part, so it must decode every header
// block a peer sends, in order, to keep its copy of the peer's dynamic table in step. Memory is
// bounded by the table size (capped at kMaxTableSizeCap whatever the peer announces) and by the
// header-list limit per block.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::protocols::http2 {

struct HeaderField {
  std::string name;
  std::string value;
  bool operator==(const HeaderField&) const = default;
};

class HpackDecoder {
 public:
  static constexpr size_t kDefaultTableSize = 4096;     // SETTINGS_HEADER_TABLE_SIZE's initial value
  static constexpr size_t kMaxTableSizeCap = 1u << 16;  // the most we keep per direction
  static constexpr size_t kDefaultMaxHeaderList = 64u << 10;

  explicit HpackDecoder(size_t max_header_list_bytes = kDefaultMaxHeaderList)
      : max_header_list_(max_header_list_bytes) {}

  // Decodes one complete header block (HEADERS + CONTINUATION payloads joined), appending the
  // fields to *out. On error the table may be out of step with the peer's: call Reset().
  Status Decode(std::string_view block, std::vector<HeaderField>* out);

  // The peer's SETTINGS_HEADER_TABLE_SIZE as seen by the encoder we mirror: the largest size a
  // dynamic-table-size update may ask for (capped at kMaxTableSizeCap).
  void SetMaxTableSize(size_t n);
  // Forgets the dynamic table (after lost bytes), back to the initial state.
  void Reset();

  size_t table_bytes() const { return table_bytes_; }
  size_t table_entries() const { return table_.size(); }

 private:
  Status LookUp(uint64_t index, std::string_view* name, std::string_view* value) const;
  void Insert(HeaderField field);
  void Evict(size_t limit);

  std::deque<HeaderField> table_;  // newest first: dynamic index 62 is table_[0]
  size_t table_bytes_ = 0;         // RFC 7541 §4.1: name + value + 32 per entry
  size_t table_limit_ = kDefaultTableSize;
  size_t settings_limit_ = kDefaultTableSize;
  size_t max_header_list_;
};

// RFC 7541 §5.1 integer with an N-bit prefix, starting at in[*pos]; advances *pos. Values above
// 2^32 are refused (no field needs them, and it bounds the loop).
Status DecodeInteger(std::string_view in, size_t* pos, int prefix_bits, uint64_t* value);

// Encoder side, for tests and fuzz seeds: literal or indexed representations as RFC 7541 writes them.
std::string EncodeInteger(uint64_t value, int prefix_bits, uint8_t first_byte_flags);
std::string EncodeString(std::string_view s, bool huffman);

}  // namespace coroot::agent::protocols::http2
