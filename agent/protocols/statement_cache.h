#pragma once
// A per-connection map of prepared statements (name or id → SQL text), bounded in entries and in
// text length so that a client preparing without end cannot grow it; the oldest entry goes first.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coroot::agent::protocols {

class StatementCache {
 public:
  static constexpr size_t kDefaultMaxEntries = 256;
  static constexpr size_t kMaxTextBytes = 4096;

  explicit StatementCache(size_t max_entries = kDefaultMaxEntries) : max_entries_(max_entries) {}

  void Put(std::string_view key, std::string_view text) {
    if (max_entries_ == 0) return;
    std::string k(key);
    auto it = map_.find(k);
    std::string t(text.substr(0, kMaxTextBytes));
    if (it != map_.end()) {
      it->second = std::move(t);
      return;
    }
    while (map_.size() >= max_entries_ && !order_.empty()) {
      map_.erase(order_.front());
      order_.pop_front();
      evicted_++;
    }
    order_.push_back(k);
    map_.emplace(std::move(k), std::move(t));
  }
  const std::string* Get(std::string_view key) const {
    auto it = map_.find(std::string(key));
    return it == map_.end() ? nullptr : &it->second;
  }
  void Erase(std::string_view key) {
    std::string k(key);
    if (map_.erase(k) == 0) return;
    for (auto it = order_.begin(); it != order_.end(); ++it)
      if (*it == k) {
        order_.erase(it);
        break;
      }
  }
  size_t size() const { return map_.size(); }
  size_t evicted() const { return evicted_; }

 private:
  size_t max_entries_;
  std::unordered_map<std::string, std::string> map_;
  std::deque<std::string> order_;
  size_t evicted_ = 0;
};

// What the decoder keeps per connection between requests.
struct ConnectionState {
  StatementCache postgres;  // statement name → text ("" = the unnamed statement)
  StatementCache mysql;     // decimal statement id → text
};

}  // namespace coroot::agent::protocols
