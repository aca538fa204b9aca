#pragma once
// TcpTracker: the user-space connection table. It turns the kernel's TCP events (bpf/tcp_abi.h)
// into Coroot's container_net_tcp_* series, keyed by container and destination, applying the
// destination rules of net_rules.h. Every table is bounded; what does not fit is counted in
// coroot_node_agent_tcp_dropped_total{reason}.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "agent/tracer/container_resolver.h"
#include "agent/tracer/net_rules.h"
#include "lib/prom/metric.h"
#include "tcp_abi.h"

namespace coroot::agent::tracer {

struct TcpTrackerOptions {
  size_t max_connections = 65536;  // open connections in the table
  size_t max_series = 100000;      // (container, destination) pairs with counters
  size_t max_listens = 16384;
  // A closed listen socket is reported with value 0 for this long, then forgotten.
  std::chrono::seconds closed_listen_ttl{600};
  // Series with no open connection and no change for this long are forgotten (as Coroot drops
  // closed connections after 10 min); counters that come back start again from 0.
  std::chrono::seconds idle_series_ttl{600};
  // The addresses of a network namespace (through a process in it), to report a listen on
  // 0.0.0.0 / :: as one listen_addr per address, as Coroot does. Unset or empty: reported as is.
  std::function<std::vector<Ip>(uint32_t pid, uint32_t netns)> netns_addresses;
  // The post-NAT destination of a new connection ("" = unknown): the actual_destination label.
  std::function<std::string(const coroot_tcp_event& e)> actual_destination;
};

class TcpTracker : public prom::ICollector {
 public:
  TcpTracker(DestinationFilter filter, std::shared_ptr<IContainerResolver> resolver, TcpTrackerOptions options = {});

  // One kernel event (any thread).
  void OnEvent(const coroot_tcp_event& e);
  // Current byte totals of an open connection (from the socket iterator).
  void OnConnBytes(const coroot_conn_bytes& b);
  // Startup reconciliation: state that existed before the tracer was attached.
  void AddExistingConnection(uint32_t pid, uint32_t netns, const Ip& src, uint16_t sport, const Ip& dst,
                             uint16_t dport);
  // remote: the listening socket's (empty) peer address as the kernel reports it: 0.0.0.0 for
  // IPv4 sockets, :: for IPv6 ones (the default picks by the family of addr).
  void AddExistingListen(uint32_t pid, uint32_t netns, const Ip& addr, uint16_t port);
  void AddExistingListen(uint32_t pid, uint32_t netns, const Ip& addr, uint16_t port, const Ip& remote);

  void Collect(std::vector<prom::MetricFamily>* out) override;

  // Labels of the open connection that process pid made on fd (L7 requests are counted under
  // them). False when there is none: not connected under the agent, or skipped by the rules.
  struct ConnectionLabels {
    std::string container, destination, actual_destination;
  };
  bool LookupConnection(uint32_t pid, int64_t fd, ConnectionLabels* out) const;

  size_t open_connections() const;
  // The IPs of the destinations and actual destinations that containers' series still hold
  // (open connections and those closed less than idle_series_ttl ago), in FormatIp's form.
  std::set<std::string> DestinationIps() const;
  // Network namespaces with open connections, each with the pid of one process in it.
  std::map<uint32_t, uint32_t> OpenConnectionNamespaces() const;
  // The IPv4 destination IPs of open connections (loopback and IPv6 left out: what
  // container_net_latency_seconds probes), by network namespace and container.
  struct NetnsDestinations {
    uint32_t pid = 0;  // a process in the namespace
    std::map<std::string, std::set<Ip>> containers;
  };
  std::map<uint32_t, NetnsDestinations> OpenDestinationsByNamespace() const;

 private:
  struct SeriesKey {
    std::string container, destination, actual_destination;
    bool operator<(const SeriesKey& o) const {
      return std::tie(container, destination, actual_destination) <
             std::tie(o.container, o.destination, o.actual_destination);
    }
  };
  struct Series {
    uint64_t successful = 0, failed = 0, retransmits = 0, bytes_sent = 0, bytes_received = 0;
    double connect_seconds = 0;
    int64_t active = 0;
    bool connected = false;  // has had a connection (not only failed attempts): emit the connection series
    std::chrono::steady_clock::time_point updated;
  };
  struct Conn {
    SeriesKey key;
    uint32_t pid = 0;
    int64_t fd = -1;
    uint32_t netns = 0;
    Ip dst{};
    bool reconciled = false;  // existed before the agent: byte totals have no baseline
    uint64_t sent_seen = 0, received_seen = 0;
    std::string tuple;  // TupleKey(): index into by_tuple_
  };
  struct ListenKey {
    std::string container, addr;
    bool operator<(const ListenKey& o) const { return std::tie(container, addr) < std::tie(o.container, o.addr); }
  };
  struct Listen {
    int64_t open = 0;
    std::chrono::steady_clock::time_point closed_at;
  };
  // Identity of a reconciled connection (no socket address is known for it).
  static std::string TupleKey(uint32_t netns, const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport);

  Series* SeriesFor(const SeriesKey& key);  // nullptr (and counted) when the table is full
  void Drop(const std::string& reason);
  void Skip(Verdict v);
  void CloseConn(std::unordered_map<uint64_t, Conn>::iterator it, const coroot_tcp_event* e);

  DestinationFilter filter_;
  std::shared_ptr<IContainerResolver> resolver_;
  TcpTrackerOptions options_;

  mutable std::mutex mu_;
  std::map<SeriesKey, Series> series_;
  std::unordered_map<uint64_t, Conn> conns_;              // by kernel socket address (or synthetic id)
  std::unordered_map<std::string, uint64_t> by_tuple_;  // tuple -> key in conns_
  std::unordered_map<uint64_t, uint64_t> by_fd_;          // pid << 32 | fd -> key in conns_
  uint64_t next_synthetic_id_ = 1;                        // below any kernel address
  std::map<ListenKey, Listen> listens_;
  // The listen_addr entries of one socket (several when 0.0.0.0 / :: was expanded).
  std::vector<ListenKey> ListenKeys(const std::string& container, const Ip& addr, uint16_t port,
                                    const std::vector<Ip>& netns_addrs) const;
  bool OpenListen(const std::vector<ListenKey>& keys);  // false (and counted) when the table is full
  void CloseListen(const std::vector<ListenKey>& keys);

  std::unordered_map<uint64_t, std::vector<ListenKey>> listen_socks_;
  std::unordered_map<std::string, std::vector<ListenKey>> reconciled_listens_;  // tuple -> seeded from /proc
  std::map<std::string, uint64_t> dropped_;  // reason -> count
  std::map<std::string, uint64_t> skipped_;  // rule -> count
  uint64_t events_ = 0;
};

}  // namespace coroot::agent::tracer
