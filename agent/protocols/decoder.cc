#include "agent/protocols/decoder.h"

namespace coroot::agent::protocols {

ConnectionState* L7Decoder::State(const L7Event& ev) {
  Key key{ev.pid, ev.fd, ev.connection_timestamp};
  auto it = conns_.find(key);
  if (it != conns_.end()) return &it->second;
  if (max_connections_ == 0) return nullptr;
  while (conns_.size() >= max_connections_ && !order_.empty()) {
    if (conns_.erase(order_.front()) > 0) evicted_++;
    order_.pop_front();
  }
  // Keep the order queue from growing with keys of forgotten connections.
  if (order_.size() > 2 * max_connections_) {
    std::deque<Key> live;
    for (const auto& k : order_)
      if (conns_.count(k)) live.push_back(k);
    order_.swap(live);
  }
  order_.push_back(key);
  return &conns_[key];
}

void L7Decoder::ForgetConnection(uint32_t pid, uint64_t fd) {
  auto it = conns_.lower_bound(Key{pid, fd, 0});
  while (it != conns_.end() && std::get<0>(it->first) == pid && std::get<1>(it->first) == fd) it = conns_.erase(it);
}

ParseResult L7Decoder::Decode(const L7Event& ev, L7Request* out) {
  *out = L7Request{};
  out->protocol = ev.protocol;
  out->status = EventStatusLabel(ev.protocol, ev.status);
  if (ev.protocol == L7Protocol::kHttp) out->http_status_code = ev.status;
  out->raw_status = ev.status;
  out->duration_ns = ev.duration_ns;
  out->is_inbound = ev.is_inbound;
  out->fd = ev.fd;
  out->pid = ev.pid;
  out->connection_timestamp = ev.connection_timestamp;
  out->truncated = ev.truncated();
  const ProtocolSpec* spec = FindProtocol(ev.protocol);
  if (spec == nullptr || spec->decode_request == nullptr) return ParseResult::kSuccess;
  ConnectionState scratch;
  ConnectionState* conn = State(ev);
  if (conn == nullptr) conn = &scratch;
  L7Request decoded = *out;
  ParseResult r = spec->decode_request(ev, conn, &decoded);
  if (r == ParseResult::kInvalid) {
    invalid_++;
    return r;
  }
  decoded.protocol = ev.protocol;  // decoders may not change what the kernel classified
  decoded.truncated = decoded.truncated || ev.truncated();
  *out = std::move(decoded);
  return r;
}

}  // namespace coroot::agent::protocols
