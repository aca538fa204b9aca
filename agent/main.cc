// coroot-node-agent: collects node (and, later, container, network and L7) metrics, serves them
// on /metrics and, in push mode, sends them to the Coroot server by remote write.
#include <csignal>
#include <mutex>
#include <unordered_map>
#include <iostream>

#include "agent/config/config.h"
#include "agent/containers/proc_pid.h"
#include "agent/containers/registry.h"
#include "agent/export/metrics_pusher.h"
#include "agent/node/cloud/cloud_info.h"
#include "agent/node/machine_identity.h"
#include "agent/node/node_collector.h"
#include "agent/tracer/cgroup_stats_iter.h"
#include "agent/tracer/ebpf_collector.h"
#include "agent/tracer/proc_tracer.h"
#include "agent/tracer/runtime_probes.h"
#include "agent/version.h"
#include "lib/base/log.h"
#include "lib/http/server.h"
#include "lib/prom/exposition.h"

using namespace coroot;

namespace {

class AgentInfo : public prom::ICollector {
 public:
  void Collect(std::vector<prom::MetricFamily>* out) override {
    prom::MetricFamily f("node_agent_info", prom::MetricType::kGauge, "Agent build information");
    f.Add({{"version", agent::kVersion}}, 1);
    out->push_back(std::move(f));
  }
};

// The tracer's events name their container as the container registry does (/docker/<name>,
// /k8s/<ns>/<pod>/<container>, ...): the event's cgroup path (found by cgroup id even when the
// process has already exited) is looked up in the registry's decisions. A cgroup's container never
// changes, so known answers are cached by cgroup id; processes outside reported containers
// resolve to "" and their events are dropped and counted by the tracer.
// On hybrid hosts this keys by the v2 path, which is the registry's id except for Kubernetes pods
// whose v1 cpu/memory path is used instead (§1.c).
class RegistryResolver : public agent::tracer::IContainerResolver {
 public:
  explicit RegistryResolver(std::shared_ptr<agent::containers::ContainerRegistry> registry)
      : registry_(std::move(registry)) {}
  std::string ContainerKey(uint32_t pid, uint64_t cgroup_id) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = known_.find(cgroup_id);
      if (it != known_.end()) return it->second;
    }
    std::string path = paths_.ContainerKey(pid, cgroup_id);
    std::string id = path.empty() ? "" : registry_->ContainerIdOfCgroup(path);
    if (id.empty() || cgroup_id == 0) return id;
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.size() >= kMaxCached) known_.clear();
    known_[cgroup_id] = id;
    return id;
  }

 private:
  static constexpr size_t kMaxCached = 16384;
  std::shared_ptr<agent::containers::ContainerRegistry> registry_;
  agent::tracer::ProcCgroupResolver paths_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::string> known_;
};

}  // namespace

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  agent::Config cfg;
  FlagSet flags("coroot-node-agent");
  agent::RegisterFlags(&flags, &cfg);
  bool help = false, version = false;
  flags.Bool("version", "", &version, false, "print the version and exit");
  if (auto st = flags.Parse(argc, argv, &help); !st.ok()) {
    std::cerr << "coroot-node-agent: " << st.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (help) {
    std::cout << flags.Usage();
    return 0;
  }
  if (version) {
    std::cout << agent::kVersion << "\n";
    return 0;
  }
  bool listen_explicit = false;
  for (int i = 1; i < argc; i++) listen_explicit |= std::string(argv[i]).rfind("--listen", 0) == 0;
  listen_explicit |= std::getenv("LISTEN") != nullptr;
  agent::Finish(&cfg, listen_explicit);

  auto identity = agent::node::ReadMachineIdentity("", "/proc/1/ns/uts");
  if (!identity.ok()) {
    LOG(WARNING) << "host UTS namespace not readable (" << identity.status().message()
                 << "); using the agent's own hostname";
    identity = agent::node::ReadMachineIdentity("", "");
  }
  if (!identity.ok()) {
    LOG(ERROR) << "cannot identify this machine: " << identity.status().ToString();
    return 1;
  }
  LOG(INFO) << "machine_id=" << identity->machine_id << " system_uuid=" << identity->system_uuid
            << " hostname=" << identity->hostname << " kernel=" << identity->kernel_release;

  prom::Registry registry;
  registry.SetConstLabels({{"machine_id", identity->machine_id}, {"system_uuid", identity->system_uuid}});
  registry.Register(std::make_shared<AgentInfo>());
  registry.Register(std::make_shared<agent::node::NodeCollector>());
  // node_cloud_info: DMI → the provider's metadata service, in the background (bounded by short
  // timeouts); the --provider/--region/... flags override what it says.
  agent::node::cloud::CloudInfoOptions cloud_opts;
  cloud_opts.overrides.provider = cfg.provider;
  cloud_opts.overrides.region = cfg.region;
  cloud_opts.overrides.availability_zone = cfg.availability_zone;
  cloud_opts.overrides.instance_type = cfg.instance_type;
  cloud_opts.overrides.instance_life_cycle = cfg.instance_life_cycle;
  auto cloud_info = std::make_shared<agent::node::cloud::CloudInfoCollector>(cloud_opts);
  cloud_info->Start();
  registry.Register(cloud_info);
  const agent::containers::RegistryOptions container_options = agent::containers::OptionsFromConfig(cfg);
  auto containers = std::make_shared<agent::containers::ContainerRegistry>(container_options);
  if (auto st = containers->Init(); !st.ok()) {
    LOG(WARNING) << "containers: " << st.ToString();
  }
  // Containers' CPU throttling and pressure from one read of the eBPF cgroup iterator per
  // hierarchy per gather, instead of up to four cgroup files per container.
  {
    const cgroup::CgroupFs& fs = container_options.cgroupfs;
    auto started = agent::tracer::CgroupStatsIter::Start({fs.V1("cpu", ""), fs.V1("memory", ""), fs.v2_root});
    if (started.ok()) {
      std::shared_ptr<agent::tracer::CgroupStatsIter> iter = std::move(started).value();
      containers->SetCgroupCounters(
          std::make_unique<agent::containers::CgroupCountersSnapshot>(agent::tracer::CgroupCountersReader(iter)));
    } else {
      LOG(WARNING) << "eBPF cgroup iterator is disabled (" << started.status().ToString()
                   << "): containers' CPU throttling and pressure come from their cgroup files";
    }
  }
  containers->Start();
  registry.Register(containers);

  // eBPF process events: the registry learns each new process at once (short-lived ones are
  // attributed to their container between scans), exits, and OOM kills as Coroot counts them.
  std::shared_ptr<agent::tracer::ProcTracer> proc_events;
  {
    auto started = agent::tracer::ProcTracer::Start({}, [c = containers.get()](const coroot_proc_event& e) {
      if (e.type == COROOT_PROC_START) c->OnProcessStart(static_cast<int>(e.pid), e.cgroup_id, e.ts_ns);
      if (e.type == COROOT_PROC_MOVE) c->OnProcessMoved(static_cast<int>(e.pid));
      if (e.type == COROOT_PROC_EXIT)
        c->OnProcessExit(static_cast<int>(e.pid), e.cgroup_id, (e.flags & COROOT_PROC_OOM_KILLED) != 0);
    });
    if (started.ok()) {
      proc_events = std::move(started).value();
      containers->SetProcessEvents(true);
      if (proc_events->move_hook_attached())
        containers->SetMoveEvents([pe = proc_events] { return pe->kernel_drops(); });
      // Scans list processes from the task walk (or iterator) where /proc has the kernel's global pids.
      if (agent::containers::ProcIsOfInitialPidNamespace(container_options.proc_root))
        containers->SetPidLister(agent::tracer::ProcessLister(proc_events));
      // Container delays from one run of the task walk (or read of the task iterator) per gather
      // instead of a netlink round trip per process.
      if (proc_events->ReadTaskDelays().ok()) {
        containers->SetDelaySource(
            std::make_unique<agent::containers::SnapshotDelaySource>(agent::tracer::TaskDelaysReader(proc_events)));
      }
      if (proc_events->oom_hook_attached()) {
        containers->SetOomKillsFromEbpf(true);
      } else {
        LOG(WARNING) << "OOM kills: the oom/mark_victim hook is not attached; container_oom_kills_total comes from "
                        "the cgroups' oom_kill counters";
      }
    } else {
      LOG(WARNING) << "eBPF process events are disabled (" << started.status().ToString()
                   << "): containers learn processes from /proc scans only, OOM kills from the cgroups' oom_kill "
                      "counters";
    }
  }

  // eBPF uprobes on the registry's Python and Node.js processes: container_python_thread_lock_wait_time_seconds
  // and container_nodejs_event_loop_blocked_time_seconds_total.
  std::shared_ptr<agent::tracer::RuntimeProbes> runtime_probes;
  {
    auto started = agent::tracer::RuntimeProbes::Start({});
    if (started.ok()) {
      runtime_probes = *started;
      containers->SetRuntimeSource(runtime_probes);
      registry.Register(runtime_probes);
    } else {
      LOG(WARNING) << "eBPF runtime uprobes are disabled (" << started.status().ToString()
                   << "): no Python GIL wait or Node.js event-loop metrics";
    }
  }

  // eBPF: TCP connection tracking (container_net_tcp_*) and L7 request tracing (container_http_*,
  // container_postgres_*, ...). Without privileges, BTF or the needed tracepoints the agent keeps
  // running without it. --disable-l7-tracing drops the syscall hooks that only L7 tracing needs
  // (connect's fd, read/write/accept/close); TCP tracking stays on, as in Coroot.
  std::shared_ptr<agent::tracer::EbpfCollector> ebpf;
  {
    agent::tracer::EbpfOptions eo;
    eo.ephemeral_port_range = cfg.ephemeral_port_range;
    eo.track_public_network = cfg.track_public_network;
    eo.tracer.connect_fd_hooks = !cfg.disable_l7_tracing;
    eo.l7 = !cfg.disable_l7_tracing;
    eo.instrumentation_delay = std::chrono::duration_cast<std::chrono::seconds>(cfg.instrumentation_delay);
    eo.net_latency.enabled = !cfg.disable_pinger;  // container_net_latency_seconds (ICMP probes)
    // L7 events are 1 KiB each: a ring that holds ~8k of them between two drains.
    if (eo.l7) eo.tracer.ring_buffer_bytes = 8 << 20;
    eo.l7_metrics.max_fqdns_per_container = static_cast<size_t>(cfg.max_fqdns_per_container);
    eo.l7_metrics.http_exclude = agent::protocols::http::PathFilter(cfg.exclude_http_requests_by_path);
    eo.resolver = std::make_shared<RegistryResolver>(containers);
    auto started = agent::tracer::EbpfCollector::Start(eo);
    if (started.ok()) {
      ebpf = *started;
      registry.Register(ebpf);
    } else {
      LOG(WARNING) << "eBPF tracing is disabled, container_net_tcp_* will not be reported: "
                   << started.status().ToString();
    }
  }

  std::shared_ptr<prom::Spool> spool;
  std::shared_ptr<prom::RemoteWriteSender> sender;
  std::unique_ptr<agent::MetricsPusher> pusher;
  if (cfg.PushMode()) {
    spool = std::make_shared<prom::Spool>(cfg.wal_dir + "/spool", cfg.max_spool_size);
    if (auto st = spool->Open(); !st.ok()) {
      LOG(ERROR) << "spool: " << st.ToString();
      return 1;
    }
    prom::SenderOptions so;
    so.url = cfg.MetricsUrl();
    so.api_key = cfg.api_key;
    so.client.ca_file = cfg.ca_file;
    so.client.insecure_skip_verify = cfg.insecure_skip_verify;
    sender = std::make_shared<prom::RemoteWriteSender>(so, spool);
    registry.Register(sender);
    pusher = std::make_unique<agent::MetricsPusher>(
        &registry, spool, sender.get(), agent::InstanceLabel(identity->machine_id, identity->system_uuid),
        cfg.scrape_interval);
    sender->Start();
    pusher->Start();
    LOG(INFO) << "pushing metrics to " << so.url << " every " << cfg.scrape_interval.count() << " ms";
  }

  http::ServerOptions opts;
  opts.listen = cfg.listen;
  opts.threads = 1;
  opts.max_body_bytes = 1 << 20;
  http::Server srv(opts);
  srv.Handle("GET", "/metrics", [&registry](const http::Request&, http::Response* r) {
    prom::Gathered g = registry.GatherApart();
    r->body = prom::WriteText(g.families, g.const_labels);
    r->SetHeader("Content-Type", prom::kTextContentType);
  });
  srv.Handle("GET", "/health", [](const http::Request&, http::Response* r) { *r = http::Response::Text(200, "OK"); });
  if (auto st = srv.Start(); !st.ok()) {
    LOG(ERROR) << st.ToString();
    return 1;
  }
  LOG(INFO) << "coroot-node-agent " << agent::kVersion << " listening on " << cfg.listen << " (port " << srv.port()
            << ")";

  int sig = 0;
  sigwait(&set, &sig);
  LOG(INFO) << "received signal " << sig << ", stopping";
  srv.Stop();
  if (proc_events) proc_events->Stop();
  containers->Stop();
  if (runtime_probes) runtime_probes->Stop();
  if (pusher) pusher->Stop();
  if (sender) sender->Stop();
  if (ebpf) ebpf->Stop();
  return 0;
}
