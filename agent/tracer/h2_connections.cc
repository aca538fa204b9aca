#include "agent/tracer/h2_connections.h"

#include <algorithm>
#include <string_view>

namespace coroot::agent::tracer {

namespace http2 = protocols::http2;

H2Connections::H2Connections(size_t max_connections, uint64_t idle_ns) : max_(max_connections), idle_ns_(idle_ns) {}

void H2Connections::Feed(const coroot_h2_chunk& c, std::vector<http2::Request>* done) {
  Key key{c.pid, c.fd, c.connection_timestamp};
  auto it = conns_.find(key);
  if (it == conns_.end()) {
    if (conns_.size() >= max_) {
      auto oldest = std::min_element(conns_.begin(), conns_.end(),
                                     [](const auto& a, const auto& b) { return a.second.last_ns < b.second.last_ns; });
      conns_.erase(oldest);
      evicted_++;
    }
    it = conns_.emplace(key, Conn{std::make_unique<http2::Stitcher>(), 0}).first;
  }
  it->second.last_ns = c.ts_ns;
  const size_t n = std::min<uint64_t>(c.size, sizeof(c.payload));
  it->second.stitcher->Feed(c.direction == COROOT_H2_CLIENT_TO_SERVER ? http2::Direction::kClientToServer
                                                                      : http2::Direction::kServerToClient,
                            c.ts_ns, std::string_view(c.payload, n), c.size, done);
}

void H2Connections::Gc(uint64_t now_ns) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (now_ns > it->second.last_ns && now_ns - it->second.last_ns > idle_ns_) {
      it = conns_.erase(it);
      continue;
    }
    it->second.stitcher->Gc(now_ns);
    ++it;
  }
}

http2::StitcherStats H2Connections::stats() const {
  http2::StitcherStats total;
  for (const auto& [k, c] : conns_) {
    const auto& s = c.stitcher->stats();
    total.frames += s.frames;
    total.header_blocks += s.header_blocks;
    total.requests += s.requests;
    total.desyncs += s.desyncs;
    total.streams_dropped += s.streams_dropped;
  }
  return total;
}

}  // namespace coroot::agent::tracer
