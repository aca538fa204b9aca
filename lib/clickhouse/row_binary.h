#pragma once
// A writer for ClickHouse's RowBinary input format: values are written row by row, column by
// column, in the order of the INSERT's column list, with no framing between rows.
//   integers/floats: little-endian, fixed width      String: varint length + bytes
//   FixedString(N): exactly N bytes (zero-padded)    DateTime: UInt32 seconds
//   DateTime64(P): Int64 ticks of 10^-P s            Array(T): varint count + elements
//   Map(K,V): varint count + k,v pairs               Nullable(T): UInt8 1 = NULL, 0 + value
//   LowCardinality(T) is written as T; Nested(a T, b U) as the separate columns Array(T), Array(U).
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"

namespace coroot::clickhouse {

class RowBinaryWriter {
 public:
  void UInt8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void UInt16(uint16_t v) { Fixed(v); }
  void UInt32(uint32_t v) { Fixed(v); }
  void UInt64(uint64_t v) { Fixed(v); }
  void Int8(int8_t v) { Fixed(v); }
  void Int16(int16_t v) { Fixed(v); }
  void Int32(int32_t v) { Fixed(v); }
  void Int64(int64_t v) { Fixed(v); }
  void Float32(float v) { Fixed(v); }
  void Float64(double v) { Fixed(v); }
  void Bool(bool v) { UInt8(v ? 1 : 0); }

  void String(std::string_view s) {
    VarUInt(s.size());
    buf_.append(s);
  }
  // FixedString(n): shorter values are zero-padded; longer ones are refused (ClickHouse would
  // reject the whole batch, so the caller must decide whether to truncate).
  Status FixedString(std::string_view s, size_t n);

  void DateTime(uint32_t unix_seconds) { UInt32(unix_seconds); }
  // DateTime64(precision) from a time in nanoseconds since the epoch (precision 0..9).
  void DateTime64FromNanos(int64_t unix_nanos, int precision) { Int64(ScaleNanos(unix_nanos, precision)); }
  // DateTime64 from ticks already in the column's precision.
  void DateTime64(int64_t ticks) { Int64(ticks); }

  void ArraySize(size_t n) { VarUInt(n); }
  void MapSize(size_t n) { VarUInt(n); }
  void NullFlag(bool is_null) { UInt8(is_null ? 1 : 0); }

  // Map(String, String) (or LowCardinality(String) keys).
  void StringMap(const std::vector<std::pair<std::string, std::string>>& kv);
  void StringMap(const std::map<std::string, std::string>& kv);
  // Array(String).
  void StringArray(const std::vector<std::string>& v);

  void VarUInt(uint64_t v);

  const std::string& data() const { return buf_; }
  size_t size() const { return buf_.size(); }
  // Hands the bytes over and leaves the writer empty, ready for the next batch.
  std::string Take() { return std::exchange(buf_, {}); }
  void Clear() { buf_.clear(); }
  void Reserve(size_t n) { buf_.reserve(n); }

  static int64_t ScaleNanos(int64_t unix_nanos, int precision);

 private:
  template <typename T>
  void Fixed(T v) {
    // RowBinary is little-endian; so is every platform we build for.
    static_assert(std::endian::native == std::endian::little, "RowBinary writer assumes a little-endian host");
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    buf_.append(bytes, sizeof(T));
  }

  std::string buf_;
};

}  // namespace coroot::clickhouse
