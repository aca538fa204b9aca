#include "agent/tracer/ebpf_collector.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "agent/tracer/netns_addrs.h"
#include "agent/tracer/proc_net_tcp.h"
#include "lib/base/log.h"

namespace coroot::agent::tracer {

uint32_t HostNetnsInode(const std::string& proc_root) {
  struct stat st;
  if (stat((proc_root + "/1/ns/net").c_str(), &st) == 0) return static_cast<uint32_t>(st.st_ino);
  if (stat((proc_root + "/self/ns/net").c_str(), &st) == 0) return static_cast<uint32_t>(st.st_ino);
  return 0;
}

StatusOr<std::shared_ptr<EbpfCollector>> EbpfCollector::Start(EbpfOptions options) {
  ASSIGN_OR_RETURN(DestinationFilter filter,
                   DestinationFilter::Create(options.ephemeral_port_range, options.track_public_network,
                                             HostNetnsInode(options.proc_root)));
  auto resolver = options.resolver ? options.resolver : std::make_shared<ProcCgroupResolver>(options.proc_root);
  if (!options.tracker.netns_addresses) {
    options.tracker.netns_addresses = [root = options.proc_root](uint32_t pid, uint32_t) {
      return pid ? NetnsAddresses(root, pid) : std::vector<Ip>{};
    };
  }
  std::shared_ptr<EbpfCollector> c(new EbpfCollector());
  c->proc_root_ = options.proc_root;
  {
    struct stat st;
    if (stat((options.proc_root + "/self/ns/net").c_str(), &st) == 0) c->own_netns_ = static_cast<uint32_t>(st.st_ino);
  }
  if (options.conntrack && !options.tracker.actual_destination) {
    auto ct = std::make_shared<Conntrack>(options.proc_root);
    auto stats = c->conntrack_stats_;
    options.tracker.actual_destination = [ct, stats](const coroot_tcp_event& e) -> std::string {
      Ip src, dst;
      std::memcpy(src.data(), e.saddr, 16);
      std::memcpy(dst.data(), e.daddr, 16);
      auto r = ct->ActualDestination(e.pid, e.netns, src, e.sport, dst, e.dport);
      if (!r.ok()) {
        stats->error++;
        return "";
      }
      if (!r->has_value()) {
        stats->not_found++;
        return "";
      }
      stats->found++;
      return FormatIpPort((*r)->ip, (*r)->port);
    };
  }
  c->tracker_ = std::make_shared<TcpTracker>(std::move(filter), resolver, options.tracker);
  auto tracker = c->tracker_;
  Tracer::L7Handler on_l7;
  Tracer::H2Handler on_h2;
  options.tracer.l7_hooks = options.l7 && options.tracer.connect_fd_hooks;
  if (options.tracer.l7_hooks) {
    c->l7_ = std::make_shared<L7Tracker>(c->tracker_, resolver, options.l7_metrics);
    on_l7 = [l7 = c->l7_](const coroot_l7_event& e) { l7->OnEvent(e); };
    on_h2 = [l7 = c->l7_](const coroot_h2_chunk& e) { l7->OnH2Chunk(e); };
  }
  if (options.tracer.l7_hooks && options.tls) {
    tls::TlsInstrumenterOptions to;
    to.proc_root = options.proc_root;
    to.delay = options.instrumentation_delay;
    c->tls_ = std::make_shared<TlsProbes>(to);
  }
  ASSIGN_OR_RETURN(c->tracer_, Tracer::Start(
                                   options.tracer,
                                   [tracker, tls = c->tls_](const coroot_tcp_event& e) {
                                     tracker->OnEvent(e);
                                     if (tls) tls->OnTcpEvent(e);
                                   },
                                   std::move(on_l7), std::move(on_h2)));
  if (c->tls_) c->tls_->Start(c->tracer_.get());
  if (options.reconcile) {
    // After attaching, so nothing falls between the scan and the hooks; the tracker ignores a
    // connection that it already learned from an event.
    c->tracer_->Drain();
    if (auto st = c->Reconcile(options.proc_root); !st.ok()) {
      LOG(WARNING) << "eBPF: startup reconciliation from " << options.proc_root << " failed: " << st.ToString();
    }
  }
  if (options.net_latency.enabled) {
    options.net_latency.proc_root = options.proc_root;
    c->net_latency_ = std::make_shared<NetLatencyMonitor>(c->tracker_, options.net_latency);
    c->net_latency_->Start();
  }
  return c;
}

Status EbpfCollector::Reconcile(const std::string& proc_root) {
  ASSIGN_OR_RETURN(auto sockets, ScanExistingSockets(proc_root));
  for (const auto& s : sockets) {
    if (s.socket.state != kTcpListen && !s.outbound) continue;
    coroot_tuple_key k{};
    std::memcpy(k.saddr, s.socket.local.data(), 16);
    std::memcpy(k.daddr, s.socket.remote.data(), 16);
    k.sport = s.socket.local_port;
    k.dport = s.socket.remote_port;
    k.netns = s.netns;
    if (auto st = tracer_->AddReconciled(k); !st.ok()) {
      LOG(WARNING) << "eBPF: " << st.ToString();
      continue;
    }
    if (s.socket.state == kTcpListen) {
      tracker_->AddExistingListen(s.pid, s.netns, s.socket.local, s.socket.local_port, s.socket.remote);
    } else {
      tracker_->AddExistingConnection(s.pid, s.netns, s.socket.local, s.socket.local_port, s.socket.remote,
                                      s.socket.remote_port);
    }
    reconciled_++;
  }
  LOG(INFO) << "eBPF: reconciled " << reconciled_ << " listen sockets and outbound connections from " << proc_root;
  // DNS servers bound before the hooks: their sockets are traced from now on.
  ASSIGN_OR_RETURN(auto dns, ScanDnsServerSockets(proc_root));
  for (const auto& s : dns)
    if (auto st = tracer_->AddDnsServerSocket(s.pid, s.fd); !st.ok()) LOG(WARNING) << "eBPF: " << st.ToString();
  if (!dns.empty()) LOG(INFO) << "eBPF: tracing " << dns.size() << " DNS server sockets bound before the start";
  return Status::Ok();
}

void EbpfCollector::Collect(std::vector<prom::MetricFamily>* out) {
  if (tracer_) {
    tracer_->Drain();
    auto tracker = tracker_;
    auto feed = [&tracker](const coroot_conn_bytes& b) { tracker->OnConnBytes(b); };
    (void)tracer_->ReadConnBytes(feed);
    // Connections in other namespaces (containers): one iterator per namespace, entered through
    // a process that has a connection there. Bounded by the number of such namespaces.
    for (const auto& [netns, pid] : tracker_->OpenConnectionNamespaces()) {
      if (netns == own_netns_) continue;
      int fd = open((proc_root_ + "/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;  // the process is gone: its connections get their totals at close
      struct stat st;
      if (fstat(fd, &st) == 0 && st.st_ino == netns) (void)tracer_->ReadConnBytes(feed, fd);
      close(fd);
    }
    tracer_->CollectSelfMetrics(out);
  }
  if (tls_) tls_->CollectSelfMetrics(out);
  tracker_->Collect(out);
  if (l7_) l7_->Collect(out);
  if (net_latency_) net_latency_->Collect(out);
  prom::MetricFamily ct("coroot_node_agent_conntrack_lookups_total", prom::MetricType::kCounter,
                        "Conntrack lookups of new connections (actual_destination), by result");
  ct.Add({{"result", "found"}}, static_cast<double>(conntrack_stats_->found.load()));
  ct.Add({{"result", "not_found"}}, static_cast<double>(conntrack_stats_->not_found.load()));
  ct.Add({{"result", "error"}}, static_cast<double>(conntrack_stats_->error.load()));
  out->push_back(std::move(ct));
}

void EbpfCollector::Stop() {
  if (net_latency_) net_latency_->Stop();
  if (tls_) tls_->Stop();  // before the tracer: it attaches through it
  if (tracer_) tracer_->Stop();
}

EbpfCollector::~EbpfCollector() { Stop(); }

}  // namespace coroot::agent::tracer
