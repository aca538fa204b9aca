#pragma once
// L7Decoder: turns kernel l7 events into L7Request records, keeping per-connection state
// (prepared statements) in a bounded table keyed by (pid, fd, connection timestamp).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <tuple>

#include "agent/protocols/l7_event.h"
#include "agent/protocols/registry.h"
#include "agent/protocols/statement_cache.h"
#include "agent/protocols/types.h"

namespace coroot::agent::protocols {

class L7Decoder {
 public:
  static constexpr size_t kDefaultMaxConnections = 16384;

  explicit L7Decoder(size_t max_connections = kDefaultMaxConnections) : max_connections_(max_connections) {}

  // Fills out from the event: common fields always (protocol, status label, duration, direction,
  // fd/pid/connection timestamp, truncated); protocol fields when the payload decodes. Returns the
  // payload's parse result (kInvalid: the common fields are still valid and worth counting).
  ParseResult Decode(const L7Event& ev, L7Request* out);

  // The connection closed: its prepared statements go.
  void ForgetConnection(uint32_t pid, uint64_t fd);

  size_t connections() const { return conns_.size(); }
  uint64_t evicted_connections() const { return evicted_; }
  uint64_t invalid_payloads() const { return invalid_; }

 private:
  using Key = std::tuple<uint32_t, uint64_t, uint64_t>;  // pid, fd, connection timestamp
  ConnectionState* State(const L7Event& ev);

  size_t max_connections_;
  std::map<Key, ConnectionState> conns_;
  std::deque<Key> order_;  // insertion order for eviction (may hold keys already forgotten)
  uint64_t evicted_ = 0;
  uint64_t invalid_ = 0;
};

}  // namespace coroot::agent::protocols
