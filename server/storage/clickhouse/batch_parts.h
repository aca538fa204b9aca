#pragma once
// BatchParts: the rows of one table gathered from many requests for one insert, without copying
// them. Each request's decoded batch is kept whole as a part and the insert encodes the parts in
// turn (one Native block). Appending them into one batch instead copied every byte again, and
// growing buffers of tens of MB cost page faults on every insert. A small batch is appended to
// the last part while that part is small, so tiny requests do not make a part each.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "lib/clickhouse/row_binary.h"

namespace coroot::server::storage {

template <typename B>  // SpanBatch or LogBatch
class BatchParts {
 public:
  static constexpr size_t kSmallBatchRows = 256;  // a batch below this joins the last part...
  static constexpr size_t kSmallPartRows = 4096;  // ...while that part is below this

  // Takes the rows of `batch` (left empty).
  void Add(B* batch) {
    if (batch->rows() == 0) return;
    rows_ += batch->rows();
    bytes_ += batch->bytes();
    if (batch->rows() < kSmallBatchRows && !parts_.empty() && parts_.back().rows() < kSmallPartRows) {
      parts_.back().Append(*batch);
    } else {
      parts_.push_back(std::move(*batch));
    }
    batch->Clear();
  }
  size_t rows() const { return rows_; }
  size_t bytes() const { return bytes_; }
  const std::vector<B>& parts() const { return parts_; }
  bool Consistent() const {
    for (const B& p : parts_)
      if (!p.Consistent()) return false;
    return true;
  }
  void Clear() { *this = BatchParts(); }

  void WriteNative(std::string* out) const {
    std::vector<const B*> parts;
    parts.reserve(parts_.size());
    for (const B& p : parts_) parts.push_back(&p);
    B::WriteNative(parts, out);
  }
  // RowBinary is row after row: the parts' rows one after the other.
  void WriteRowBinary(clickhouse::RowBinaryWriter* w) const {
    for (const B& p : parts_) p.WriteRowBinary(w);
  }

 private:
  std::vector<B> parts_;
  size_t rows_ = 0, bytes_ = 0;
};

}  // namespace coroot::server::storage
