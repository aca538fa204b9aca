#pragma once
// HTTP/2 connections seen by the kernel: one Stitcher (agent/protocols/http2) per connection,
// keyed by (pid, fd, connection time) so that a reused fd starts afresh. Bounded: at the limit the
// connection idle longest is evicted; Gc drops connections idle for longer than the idle limit.
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "agent/protocols/http2/stitch.h"
#include "l7_abi.h"

namespace coroot::agent::tracer {

class H2Connections {
 public:
  explicit H2Connections(size_t max_connections = 4096, uint64_t idle_ns = 600ull * 1000000000);

  // Feeds one chunk; the requests it completes are appended to *done.
  void Feed(const coroot_h2_chunk& c, std::vector<protocols::http2::Request>* done);
  void Gc(uint64_t now_ns);

  size_t size() const { return conns_.size(); }
  uint64_t evicted() const { return evicted_; }
  protocols::http2::StitcherStats stats() const;  // summed over the open connections

 private:
  using Key = std::tuple<uint32_t, uint64_t, uint64_t>;  // pid, fd, connection timestamp
  struct Conn {
    std::unique_ptr<protocols::http2::Stitcher> stitcher;
    uint64_t last_ns = 0;
  };
  size_t max_;
  uint64_t idle_ns_;
  std::map<Key, Conn> conns_;
  uint64_t evicted_ = 0;
};

}  // namespace coroot::agent::tracer
