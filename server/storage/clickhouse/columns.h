#pragma once
// Column buffers for batches of rows: each column is one or two contiguous buffers, so appending a
// row allocates nothing beyond amortized growth (no per-row strings, vectors or maps).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coroot::server::storage {

// Appends `from`, each plus `base`, to `to`. insert() grows the vector geometrically; an exact
// reserve() per append would copy the whole vector on every append (quadratic over a batch).
inline void AppendRebased(std::vector<size_t>* to, const std::vector<size_t>& from, size_t base) {
  const size_t first = to->size();
  to->insert(to->end(), from.begin(), from.end());
  for (size_t i = first; i < to->size(); ++i) (*to)[i] += base;
}

// Strings back to back in one buffer; ends[i] is where string i ends.
class StringColumn {
 public:
  size_t size() const { return ends_.size(); }
  std::string_view operator[](size_t i) const {
    size_t b = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_.data() + b, ends_[i] - b);
  }
  void Add(std::string_view s) {
    data_.append(s.data(), s.size());
    ends_.push_back(data_.size());
  }
  // Builds the next value in place: append to buf(), then Finish().
  std::string& buf() { return data_; }
  void Finish() { ends_.push_back(data_.size()); }
  // Drops bytes written to buf() since the last Finish()/Add().
  void AbortPending() { data_.resize(ends_.empty() ? 0 : ends_.back()); }

  void Append(const StringColumn& o) {
    const size_t base = data_.size();
    data_.append(o.data_);
    AppendRebased(&ends_, o.ends_, base);
  }
  void Clear() {
    data_.clear();
    ends_.clear();
  }
  size_t bytes() const { return data_.size() + ends_.size() * sizeof(size_t); }
  // Drops everything from value n on.
  void Truncate(size_t n) {
    if (n >= ends_.size()) return;
    ends_.resize(n);
    data_.resize(n == 0 ? 0 : ends_.back());
  }

 private:
  std::string data_;
  std::vector<size_t> ends_;
};

// Offsets of a variable-length column (Array or Map): ends[i] = index one past row i's last element.
class Offsets {
 public:
  size_t size() const { return ends_.size(); }
  size_t begin(size_t i) const { return i == 0 ? 0 : ends_[i - 1]; }
  size_t end(size_t i) const { return ends_[i]; }
  void Push(size_t end) { ends_.push_back(end); }
  void Append(const Offsets& o, size_t base) { AppendRebased(&ends_, o.ends_, base); }
  void Clear() { ends_.clear(); }
  void Truncate(size_t n) {
    if (n < ends_.size()) ends_.resize(n);
  }
  size_t last() const { return ends_.empty() ? 0 : ends_.back(); }
  size_t bytes() const { return ends_.size() * sizeof(size_t); }

 private:
  std::vector<size_t> ends_;
};

// Map(String, String) per row: the pairs of every row back to back.
struct MapColumn {
  StringColumn keys, values;
  Offsets rows;

  size_t size() const { return rows.size(); }
  void Put(std::string_view k, std::string_view v) {
    keys.Add(k);
    values.Add(v);
  }
  // Closes the current row with the pairs Put since the previous EndRow().
  void EndRow() { rows.Push(keys.size()); }
  size_t pairs() const { return keys.size(); }
  void Append(const MapColumn& o) {
    rows.Append(o.rows, keys.size());
    keys.Append(o.keys);
    values.Append(o.values);
  }
  void Clear() {
    keys.Clear();
    values.Clear();
    rows.Clear();
  }
  size_t bytes() const { return keys.bytes() + values.bytes() + rows.bytes(); }
};

}  // namespace coroot::server::storage
