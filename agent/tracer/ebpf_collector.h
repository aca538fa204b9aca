#pragma once
// EbpfCollector: the node agent's eBPF part as one metric collector. It starts the Tracer, feeds
// its events to a TcpTracker, seeds the tracker (and the kernel's `reconciled` map) with the
// connections that existed before, and on every Collect refreshes the byte counters of open
// connections and adds the tracer's self-metrics. A NetLatencyMonitor probes the open
// connections' destinations in the background (container_net_latency_seconds).
#include <atomic>
#include <memory>
#include <string>

#include "agent/tracer/conntrack.h"
#include "agent/tracer/container_resolver.h"
#include "agent/tracer/l7_tracker.h"
#include "agent/tracer/net_latency.h"
#include "agent/tracer/tls_probes.h"
#include "agent/tracer/tcp_tracker.h"
#include "agent/tracer/tracer.h"
#include "lib/base/status.h"
#include "lib/prom/metric.h"

namespace coroot::agent::tracer {

struct EbpfOptions {
  TracerOptions tracer;
  TcpTrackerOptions tracker;
  std::string ephemeral_port_range = "32768-60999";  // --ephemeral-port-range
  std::string track_public_network = "0.0.0.0/0";   // --track-public-network
  std::string proc_root = "/proc";
  bool reconcile = true;  // seed state from /proc at start
  bool conntrack = true;  // actual_destination from the conntrack table (netlink)
  std::shared_ptr<IContainerResolver> resolver;  // default: ProcCgroupResolver
  // L7 tracing (--disable-l7-tracing turns it off): the read/write hooks and the L7 metrics.
  bool l7 = true;
  protocols::L7MetricsOptions l7_metrics;
  // TLS plaintext through uprobes (OpenSSL, Go crypto/tls); only with L7 tracing.
  bool tls = true;
  std::chrono::seconds instrumentation_delay{30};  // --instrumentation-delay
  // container_net_latency_seconds: ICMP probes of open connections' destinations on a timer
  // (its proc_root is taken from proc_root above).
  NetLatencyOptions net_latency;
};

class EbpfCollector : public prom::ICollector {
 public:
  // Fails when eBPF cannot be used here (no privileges, no BTF, required hook missing); the
  // caller logs the reason and runs without it.
  static StatusOr<std::shared_ptr<EbpfCollector>> Start(EbpfOptions options);
  ~EbpfCollector() override;

  void Collect(std::vector<prom::MetricFamily>* out) override;
  void Stop();

  TcpTracker& tracker() { return *tracker_; }
  L7Tracker* l7() { return l7_.get(); }  // null when L7 tracing is off
  TlsProbes* tls() { return tls_.get(); }  // null when TLS tracing is off
  NetLatencyMonitor* net_latency() { return net_latency_.get(); }  // null when disabled
  Tracer& tracer() { return *tracer_; }
  // Number of pre-existing connections and listens found at start.
  size_t reconciled() const { return reconciled_; }

 private:
  EbpfCollector() = default;
  Status Reconcile(const std::string& proc_root);

  struct ConntrackStats {
    std::atomic<uint64_t> found{0}, not_found{0}, error{0};
  };
  std::shared_ptr<ConntrackStats> conntrack_stats_ = std::make_shared<ConntrackStats>();
  std::shared_ptr<TcpTracker> tracker_;
  std::shared_ptr<L7Tracker> l7_;
  std::shared_ptr<TlsProbes> tls_;
  std::shared_ptr<NetLatencyMonitor> net_latency_;
  std::unique_ptr<Tracer> tracer_;
  size_t reconciled_ = 0;
  std::string proc_root_ = "/proc";
  uint32_t own_netns_ = 0;
};

// Inode of the network namespace of /proc/1 (the host's, for an agent in the host PID namespace),
// or of this process when /proc/1 is not readable.
uint32_t HostNetnsInode(const std::string& proc_root = "/proc");

}  // namespace coroot::agent::tracer
