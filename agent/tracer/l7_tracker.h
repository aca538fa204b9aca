#pragma once
// L7Tracker: the kernel's L7 events (bpf/l7.bpf.c) -> L7Decoder -> L7Metrics (Coroot's
// container_<protocol>_* families). Outbound requests are counted under the container,
// destination and actual_destination of the connection the TCP tracker knows for (pid, fd);
// inbound ones under the container of the process that accepted (by the cgroup id the kernel
// recorded at accept: the resolver caches by it, and it works after the process has exited). Events that cannot be
// attributed are counted in coroot_node_agent_l7_events_dropped_total{reason}.
// DNS requests (no destination labels; UDP sockets are not in the TCP table) go to the container
// of the process, like inbound ones, and their A/AAAA answers feed the node's ip_to_fqdn table.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/protocols/decoder.h"
#include "agent/protocols/l7_metrics.h"
#include "agent/tracer/container_resolver.h"
#include "agent/tracer/h2_connections.h"
#include "agent/tracer/ip_to_fqdn.h"
#include "agent/tracer/tcp_tracker.h"
#include "l7_abi.h"
#include "lib/prom/metric.h"

namespace coroot::agent::tracer {

class L7Tracker : public prom::ICollector {
 public:
  L7Tracker(std::shared_ptr<TcpTracker> tcp, std::shared_ptr<IContainerResolver> resolver,
            protocols::L7MetricsOptions options = {});

  void OnEvent(const coroot_l7_event& e);  // any thread
  void OnH2Chunk(const coroot_h2_chunk& c);  // any thread
  size_t h2_connections() const;
  void Collect(std::vector<prom::MetricFamily>* out) override;

  uint64_t dropped(const std::string& reason) const;
  const IpToFqdn& ip_to_fqdn() const { return ip_to_fqdn_; }

 private:
  // Container and destination of a request on (pid, fd): the server's container for inbound ones,
  // the tracked connection's labels for outbound ones. On failure, the drop reason is counted
  // `requests` times and false returned.
  // by_process: the container of the process alone (inbound and DNS requests).
  bool Attribute(uint32_t pid, uint64_t fd, bool by_process, uint64_t cgroup_id, size_t requests,
                 TcpTracker::ConnectionLabels* labels);
  void Drop(const char* reason, size_t n = 1);

  std::shared_ptr<TcpTracker> tcp_;
  std::shared_ptr<IContainerResolver> resolver_;
  protocols::L7Metrics metrics_;
  IpToFqdn ip_to_fqdn_;
  mutable std::mutex mu_;
  protocols::L7Decoder decoder_;            // guarded by mu_
  std::map<std::string, uint64_t> dropped_;  // guarded by mu_
  H2Connections h2_;                         // guarded by mu_
};

}  // namespace coroot::agent::tracer
