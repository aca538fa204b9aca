#include "lib/clickhouse/row_binary.h"

namespace coroot::clickhouse {

void RowBinaryWriter::VarUInt(uint64_t v) {
  // LEB128, as ClickHouse's writeVarUInt.
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
}

Status RowBinaryWriter::FixedString(std::string_view s, size_t n) {
  if (s.size() > n)
    return InvalidArgument("value of " + std::to_string(s.size()) + " bytes does not fit FixedString(" +
                           std::to_string(n) + ")");
  buf_.append(s);
  buf_.append(n - s.size(), '\0');
  return Status::Ok();
}

void RowBinaryWriter::StringMap(const std::vector<std::pair<std::string, std::string>>& kv) {
  MapSize(kv.size());
  for (const auto& [k, v] : kv) {
    String(k);
    String(v);
  }
}

void RowBinaryWriter::StringMap(const std::map<std::string, std::string>& kv) {
  MapSize(kv.size());
  for (const auto& [k, v] : kv) {
    String(k);
    String(v);
  }
}

void RowBinaryWriter::StringArray(const std::vector<std::string>& v) {
  ArraySize(v.size());
  for (const auto& s : v) String(s);
}

int64_t RowBinaryWriter::ScaleNanos(int64_t unix_nanos, int precision) {
  if (precision >= 9) return unix_nanos;
  if (precision < 0) precision = 0;
  int64_t div = 1;
  for (int i = precision; i < 9; ++i) div *= 10;
  // Floor division, so times before 1970 round down like ClickHouse's own conversion.
  int64_t q = unix_nanos / div;
  if (unix_nanos % div < 0) --q;
  return q;
}

}  // namespace coroot::clickhouse
