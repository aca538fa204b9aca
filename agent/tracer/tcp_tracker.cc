#include "agent/tracer/tcp_tracker.h"

#include <cstring>

namespace coroot::agent::tracer {

namespace {
Ip ToIp(const __u8 (&a)[16]) {
  Ip ip;
  std::memcpy(ip.data(), a, 16);
  return ip;
}
}  // namespace

TcpTracker::TcpTracker(DestinationFilter filter, std::shared_ptr<IContainerResolver> resolver,
                       TcpTrackerOptions options)
    : filter_(std::move(filter)), resolver_(std::move(resolver)), options_(options) {}

std::string TcpTracker::TupleKey(uint32_t netns, const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport) {
  std::string k(44, '\0');
  std::memcpy(k.data(), &netns, 4);
  std::memcpy(k.data() + 4, src.data(), 16);
  std::memcpy(k.data() + 20, dst.data(), 16);
  std::memcpy(k.data() + 36, &sport, 2);
  std::memcpy(k.data() + 38, &dport, 2);
  return k;
}

void TcpTracker::Drop(const std::string& reason) { dropped_[reason]++; }
void TcpTracker::Skip(Verdict v) { skipped_[VerdictName(v)]++; }

TcpTracker::Series* TcpTracker::SeriesFor(const SeriesKey& key) {
  auto now = std::chrono::steady_clock::now();
  auto it = series_.find(key);
  if (it != series_.end()) {
    it->second.updated = now;
    return &it->second;
  }
  if (series_.size() >= options_.max_series) {
    Drop("series_table_full");
    return nullptr;
  }
  Series* s = &series_[key];
  s->updated = now;
  return s;
}

namespace {
uint64_t FdKey(uint32_t pid, int64_t fd) { return (static_cast<uint64_t>(pid) << 32) | static_cast<uint32_t>(fd); }
}  // namespace

bool TcpTracker::LookupConnection(uint32_t pid, int64_t fd, ConnectionLabels* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = by_fd_.find(FdKey(pid, fd));
  if (f == by_fd_.end()) return false;
  auto it = conns_.find(f->second);
  if (it == conns_.end()) return false;
  out->container = it->second.key.container;
  out->destination = it->second.key.destination;
  out->actual_destination = it->second.key.actual_destination;
  return true;
}

std::set<std::string> TcpTracker::DestinationIps() const {
  // "10.0.0.1:5432" / "[::1]:5432" -> the address part.
  auto host = [](const std::string& d) -> std::string {
    if (!d.empty() && d[0] == '[') {
      size_t end = d.find(']');
      return end == std::string::npos ? std::string() : d.substr(1, end - 1);
    }
    size_t colon = d.rfind(':');
    return colon == std::string::npos ? d : d.substr(0, colon);
  };
  std::set<std::string> ips;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, s] : series_) {
    if (!k.destination.empty()) ips.insert(host(k.destination));
    if (!k.actual_destination.empty()) ips.insert(host(k.actual_destination));
  }
  return ips;
}

void TcpTracker::OnEvent(const coroot_tcp_event& e) {
  // Resolving the container reads /proc: do it before taking the lock.
  std::string container;
  if (e.type == COROOT_TCP_CONNECT_OK || e.type == COROOT_TCP_CONNECT_FAILED || e.type == COROOT_TCP_LISTEN_OPEN)
    container = resolver_->ContainerKey(e.pid, e.cgroup_id);
  std::string actual;
  if (e.type == COROOT_TCP_CONNECT_OK && options_.actual_destination &&
      filter_.CheckConnection(ToIp(e.daddr), e.dport, e.netns) == Verdict::kTrack)
    actual = options_.actual_destination(e);
  std::vector<Ip> netns_addrs;
  if (e.type == COROOT_TCP_LISTEN_OPEN && options_.netns_addresses && IsUnspecified(ToIp(e.saddr)))
    netns_addrs = options_.netns_addresses(e.pid, e.netns);

  std::lock_guard<std::mutex> lock(mu_);
  events_++;
  Ip src = ToIp(e.saddr), dst = ToIp(e.daddr);
  switch (e.type) {
    case COROOT_TCP_CONNECT_OK:
    case COROOT_TCP_CONNECT_FAILED: {
      Verdict v = filter_.CheckConnection(dst, e.dport, e.netns);
      if (v != Verdict::kTrack) {
        Skip(v);
        return;
      }
      if (container.empty()) {
        Drop("unknown_container");
        return;
      }
      SeriesKey key{container, FormatIpPort(dst, e.dport), actual};
      Series* s = SeriesFor(key);
      if (!s) return;
      if (e.type == COROOT_TCP_CONNECT_FAILED) {
        s->failed++;
        return;
      }
      s->successful++;
      s->connected = true;
      s->connect_seconds += static_cast<double>(e.duration_ns) / 1e9;
      if (auto prev = conns_.find(e.sk); prev != conns_.end()) {
        // The kernel reused a socket whose CLOSE event never arrived (ring buffer overflow).
        Drop("close_event_missed");
        CloseConn(prev, nullptr);
      }
      if (conns_.size() >= options_.max_connections) {
        Drop("connection_table_full");
        return;
      }
      s->active++;
      s->connected = true;
      Conn& c = conns_[e.sk];
      c.key = key;
      c.pid = e.pid;
      c.fd = e.fd;
      c.netns = e.netns;
      c.dst = dst;
      c.tuple = TupleKey(e.netns, src, e.sport, dst, e.dport);
      by_tuple_[c.tuple] = e.sk;
      if (e.fd >= 0) by_fd_[FdKey(e.pid, e.fd)] = e.sk;
      return;
    }
    case COROOT_TCP_CLOSE: {
      auto it = conns_.find(e.sk);
      if (it == conns_.end() && e.pid == 0) {  // a connection seeded from /proc
        auto r = by_tuple_.find(TupleKey(e.netns, src, e.sport, dst, e.dport));
        if (r != by_tuple_.end()) it = conns_.find(r->second);
      }
      if (it == conns_.end()) return;  // a connection that was skipped by the rules
      CloseConn(it, &e);
      return;
    }
    case COROOT_TCP_RETRANSMIT: {
      auto it = conns_.find(e.sk);
      if (it == conns_.end()) {
        auto r = by_tuple_.find(TupleKey(e.netns, src, e.sport, dst, e.dport));
        if (r != by_tuple_.end()) it = conns_.find(r->second);
      }
      if (it == conns_.end()) {
        skipped_["retransmit_of_untracked_connection"]++;
        return;
      }
      if (Series* s = SeriesFor(it->second.key)) s->retransmits += e.segments ? e.segments : 1;
      return;
    }
    case COROOT_TCP_LISTEN_OPEN: {
      Verdict v = filter_.CheckListen(src, e.sport, e.netns);
      if (v != Verdict::kTrack) {
        Skip(v);
        return;
      }
      if (container.empty()) {
        Drop("unknown_container");
        return;
      }
      if (listen_socks_.count(e.sk)) return;  // duplicate
      auto keys = ListenKeys(container, src, e.sport, netns_addrs);
      if (OpenListen(keys)) listen_socks_[e.sk] = std::move(keys);
      return;
    }
    case COROOT_TCP_LISTEN_CLOSE: {
      if (auto it = listen_socks_.find(e.sk); it != listen_socks_.end()) {
        CloseListen(it->second);
        listen_socks_.erase(it);
      } else if (auto r = reconciled_listens_.find(TupleKey(e.netns, src, e.sport, dst, 0));
                 e.pid == 0 && r != reconciled_listens_.end()) {
        CloseListen(r->second);
        reconciled_listens_.erase(r);
      }
      return;
    }
    default:
      Drop("unknown_event_type");
  }
}

std::vector<TcpTracker::ListenKey> TcpTracker::ListenKeys(const std::string& container, const Ip& addr, uint16_t port,
                                                         const std::vector<Ip>& netns_addrs) const {
  std::vector<ListenKey> keys;
  if (IsUnspecified(addr)) {
    bool v4_only = IsV4Mapped(addr);  // 0.0.0.0 covers IPv4 only; :: covers both (dual stack)
    for (const auto& ip : netns_addrs)
      if (!v4_only || IsV4Mapped(ip)) keys.push_back({container, FormatIpPort(ip, port)});
  }
  if (keys.empty()) keys.push_back({container, FormatIpPort(addr, port)});
  return keys;
}

bool TcpTracker::OpenListen(const std::vector<ListenKey>& keys) {
  size_t added = 0;
  for (const auto& k : keys) added += listens_.count(k) ? 0 : 1;
  if (listens_.size() + added > options_.max_listens) {
    Drop("listen_table_full");
    return false;
  }
  for (const auto& k : keys) listens_[k].open++;
  return true;
}

void TcpTracker::CloseListen(const std::vector<ListenKey>& keys) {
  for (const auto& k : keys) {
    auto l = listens_.find(k);
    if (l != listens_.end() && --l->second.open <= 0) {
      l->second.open = 0;
      l->second.closed_at = std::chrono::steady_clock::now();
    }
  }
}

void TcpTracker::CloseConn(std::unordered_map<uint64_t, Conn>::iterator it, const coroot_tcp_event* e) {
  Conn& c = it->second;
  if (Series* s = SeriesFor(c.key)) {
    if (s->active > 0) s->active--;
    if (e && !c.reconciled) {
      if (e->bytes_sent > c.sent_seen) s->bytes_sent += e->bytes_sent - c.sent_seen;
      if (e->bytes_received > c.received_seen) s->bytes_received += e->bytes_received - c.received_seen;
    }
  }
  auto t = by_tuple_.find(c.tuple);
  if (t != by_tuple_.end() && t->second == it->first) by_tuple_.erase(t);
  if (c.fd >= 0) {
    auto f = by_fd_.find(FdKey(c.pid, c.fd));
    if (f != by_fd_.end() && f->second == it->first) by_fd_.erase(f);
  }
  conns_.erase(it);
}

void TcpTracker::OnConnBytes(const coroot_conn_bytes& b) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = conns_.find(b.sk);
  if (it == conns_.end() || it->second.reconciled) return;
  Conn& c = it->second;
  auto s = series_.find(c.key);
  if (s == series_.end()) return;
  s->second.updated = std::chrono::steady_clock::now();
  // Totals only grow; a smaller value is a stale read of a socket being reused.
  if (b.bytes_sent > c.sent_seen) {
    s->second.bytes_sent += b.bytes_sent - c.sent_seen;
    c.sent_seen = b.bytes_sent;
  }
  if (b.bytes_received > c.received_seen) {
    s->second.bytes_received += b.bytes_received - c.received_seen;
    c.received_seen = b.bytes_received;
  }
}

void TcpTracker::AddExistingConnection(uint32_t pid, uint32_t netns, const Ip& src, uint16_t sport, const Ip& dst,
                                       uint16_t dport) {
  std::string container = resolver_->ContainerKey(pid, 0);
  std::lock_guard<std::mutex> lock(mu_);
  Verdict v = filter_.CheckConnection(dst, dport, netns);
  if (v != Verdict::kTrack) {
    Skip(v);
    return;
  }
  if (container.empty()) {
    Drop("unknown_container");
    return;
  }
  std::string tk = TupleKey(netns, src, sport, dst, dport);
  if (by_tuple_.count(tk)) return;  // already known (e.g. seen by the tracer since it attached)
  if (conns_.size() >= options_.max_connections) {
    Drop("connection_table_full");
    return;
  }
  SeriesKey key{container, FormatIpPort(dst, dport), ""};
  Series* s = SeriesFor(key);
  if (!s) return;
  s->active++;
  s->connected = true;
  uint64_t id = next_synthetic_id_++;
  Conn& c = conns_[id];
  c.key = key;
  c.pid = pid;
  c.netns = netns;
  c.dst = dst;
  c.reconciled = true;
  c.tuple = tk;
  by_tuple_[tk] = id;
}

void TcpTracker::AddExistingListen(uint32_t pid, uint32_t netns, const Ip& addr, uint16_t port) {
  AddExistingListen(pid, netns, addr, port, IsV4Mapped(addr) ? IpV4(0, 0, 0, 0) : Ip{});
}

void TcpTracker::AddExistingListen(uint32_t pid, uint32_t netns, const Ip& addr, uint16_t port, const Ip& remote) {
  std::string container = resolver_->ContainerKey(pid, 0);
  std::vector<Ip> netns_addrs;
  if (options_.netns_addresses && IsUnspecified(addr)) netns_addrs = options_.netns_addresses(pid, netns);
  std::lock_guard<std::mutex> lock(mu_);
  Verdict v = filter_.CheckListen(addr, port, netns);
  if (v != Verdict::kTrack) {
    Skip(v);
    return;
  }
  if (container.empty()) {
    Drop("unknown_container");
    return;
  }
  // Its close comes from the kernel by tuple (the caller registers it in the `reconciled` map).
  std::string tk = TupleKey(netns, addr, port, remote, 0);
  if (reconciled_listens_.count(tk)) return;
  if (reconciled_listens_.size() >= options_.max_listens) {
    Drop("listen_table_full");
    return;
  }
  auto keys = ListenKeys(container, addr, port, netns_addrs);
  if (OpenListen(keys)) reconciled_listens_[tk] = std::move(keys);
}

std::map<uint32_t, uint32_t> TcpTracker::OpenConnectionNamespaces() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint32_t, uint32_t> out;
  for (const auto& [sk, c] : conns_)
    if (!c.reconciled && c.pid) out.emplace(c.netns, c.pid);
  return out;
}

std::map<uint32_t, TcpTracker::NetnsDestinations> TcpTracker::OpenDestinationsByNamespace() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint32_t, NetnsDestinations> out;
  for (const auto& [sk, c] : conns_) {
    if (!c.pid || !IsV4Mapped(c.dst) || IsLoopback(c.dst) || IsUnspecified(c.dst)) continue;
    auto& n = out[c.netns];
    if (!n.pid) n.pid = c.pid;
    n.containers[c.key.container].insert(c.dst);
  }
  return out;
}

size_t TcpTracker::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conns_.size();
}

void TcpTracker::Collect(std::vector<prom::MetricFamily>* out) {
  using prom::MetricFamily;
  using prom::MetricType;
  MetricFamily ok("container_net_tcp_successful_connects_total", MetricType::kCounter,
                  "Number of successful TCP connects");
  MetricFamily time("container_net_tcp_connection_time_seconds_total", MetricType::kCounter,
                    "Time spent on TCP connects");
  MetricFamily failed("container_net_tcp_failed_connects_total", MetricType::kCounter,
                      "Number of failed TCP connects");
  MetricFamily active("container_net_tcp_active_connections", MetricType::kGauge,
                      "Number of active outbound connections used by the container");
  MetricFamily retrans("container_net_tcp_retransmits_total", MetricType::kCounter,
                       "Number of retransmitted TCP segments");
  MetricFamily sent("container_net_tcp_bytes_sent_total", MetricType::kCounter, "Number of bytes sent to the peer");
  MetricFamily received("container_net_tcp_bytes_received_total", MetricType::kCounter,
                        "Number of bytes received from the peer");
  MetricFamily listen("container_net_tcp_listen_info", MetricType::kGauge,
                      "Listen address of the container (1 = open, 0 = closed recently)");
  MetricFamily dropped("coroot_node_agent_tcp_dropped_total", MetricType::kCounter,
                       "TCP events or table entries dropped by the agent, by reason");
  MetricFamily skipped("coroot_node_agent_tcp_skipped_total", MetricType::kCounter,
                       "TCP connections and listens not tracked by rule (spec: ephemeral ports, loopback, public)");
  MetricFamily events("coroot_node_agent_tcp_events_total", MetricType::kCounter, "TCP events processed");

  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.active <= 0 && now - it->second.updated > options_.idle_series_ttl) {
      it = series_.erase(it);
      continue;
    }
    const auto& k = it->first;
    const auto& s = it->second;
    ++it;
    prom::Labels full{{"container_id", k.container},
                      {"destination", k.destination},
                      {"actual_destination", k.actual_destination}};
    if (s.connected) {
      ok.Add(full, static_cast<double>(s.successful));
      time.Add(full, s.connect_seconds);
      active.Add(full, static_cast<double>(s.active));
      retrans.Add(full, static_cast<double>(s.retransmits));
      sent.Add(full, static_cast<double>(s.bytes_sent));
      received.Add(full, static_cast<double>(s.bytes_received));
    }
    if (s.failed) failed.Add({{"container_id", k.container}, {"destination", k.destination}}, static_cast<double>(s.failed));
  }
  for (auto it = listens_.begin(); it != listens_.end();) {
    if (it->second.open == 0 && now - it->second.closed_at > options_.closed_listen_ttl) {
      it = listens_.erase(it);
      continue;
    }
    listen.Add({{"container_id", it->first.container}, {"listen_addr", it->first.addr}, {"proxy", ""}},
               it->second.open > 0 ? 1 : 0);
    ++it;
  }
  for (const auto& [r, n] : dropped_) dropped.Add({{"reason", r}}, static_cast<double>(n));
  for (const auto& [r, n] : skipped_) skipped.Add({{"reason", r}}, static_cast<double>(n));
  events.Add({}, static_cast<double>(events_));
  for (auto* f : {&ok, &time, &failed, &active, &retrans, &sent, &received, &listen, &dropped, &skipped, &events})
    out->push_back(std::move(*f));
}

}  // namespace coroot::agent::tracer
