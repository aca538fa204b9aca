#include "agent/node/node_collector.h"

#include <tuple>
#include <utility>

#include "agent/node/proc_uptime.h"
#include "lib/base/log.h"

namespace coroot::agent::node {

namespace {

using prom::Labels;
using prom::MetricFamily;
using prom::MetricType;

// Distinct errors remembered for WarnOnce; past this the memory is cleared, so a stream of ever
// new messages costs a repeat log line now and then, never unbounded memory.
constexpr size_t kMaxWarned = 256;

void Emit(MetricFamily f, std::vector<MetricFamily>* out) {
  if (!f.samples.empty()) out->push_back(std::move(f));
}

}  // namespace

void AppendNodeFamilies(const NodeSnapshot& s, std::vector<MetricFamily>* out) {
  const auto kGauge = MetricType::kGauge;
  const auto kCounter = MetricType::kCounter;

  if (s.uname) {
    MetricFamily f("node_info", kGauge, "Node hostname and kernel version (value is always 1)");
    f.Add({{"hostname", s.uname->hostname}, {"kernel_version", s.uname->kernel_release}}, 1);
    Emit(std::move(f), out);
  }
  if (s.uptime_seconds) {
    MetricFamily f("node_uptime_seconds", kGauge, "Seconds since the node booted");
    f.Add({}, *s.uptime_seconds);
    Emit(std::move(f), out);
  }
  if (s.cpu) {
    const CpuStat& c = *s.cpu;
    MetricFamily f("node_resources_cpu_usage_seconds_total", kCounter, "CPU time spent in each mode, all CPUs");
    std::pair<const char*, double> modes[] = {{"user", c.user},     {"nice", c.nice}, {"system", c.system},
                                              {"idle", c.idle},     {"iowait", c.iowait}, {"irq", c.irq},
                                              {"softirq", c.softirq}, {"steal", c.steal}};
    for (const auto& [mode, v] : modes) f.Add({{"mode", mode}}, v);
    Emit(std::move(f), out);
    MetricFamily cores("node_resources_cpu_logical_cores", kGauge, "Number of logical CPU cores");
    cores.Add({}, c.logical_cores);
    Emit(std::move(cores), out);
  }
  if (s.memory) {
    const MemInfo& m = *s.memory;
    std::tuple<const char*, const char*, uint64_t> mems[] = {
        {"node_resources_memory_total_bytes", "Total usable memory (MemTotal)", m.total_bytes},
        {"node_resources_memory_free_bytes", "Unused memory (MemFree)", m.free_bytes},
        {"node_resources_memory_available_bytes", "Memory available for new work without swapping (MemAvailable)",
         m.available_bytes},
        {"node_resources_memory_cached_bytes", "Page cache (Cached)", m.cached_bytes}};
    for (const auto& [name, help, v] : mems) {
      MetricFamily f(name, kGauge, help);
      f.Add({}, static_cast<double>(v));
      Emit(std::move(f), out);
    }
  }
  if (s.disks) {
    MetricFamily reads("node_resources_disk_reads_total", kCounter, "Completed disk reads");
    MetricFamily writes("node_resources_disk_writes_total", kCounter, "Completed disk writes");
    MetricFamily rbytes("node_resources_disk_read_bytes_total", kCounter, "Bytes read from the disk");
    MetricFamily wbytes("node_resources_disk_written_bytes_total", kCounter, "Bytes written to the disk");
    MetricFamily rtime("node_resources_disk_read_time_seconds_total", kCounter, "Time spent on disk reads");
    MetricFamily wtime("node_resources_disk_write_time_seconds_total", kCounter, "Time spent on disk writes");
    MetricFamily iotime("node_resources_disk_io_time_seconds_total", kCounter, "Time the disk had I/O in flight");
    for (const DiskStat& d : *s.disks) {
      Labels l = {{"device", d.device}};
      reads.Add(l, static_cast<double>(d.reads));
      writes.Add(l, static_cast<double>(d.writes));
      rbytes.Add(l, static_cast<double>(d.read_bytes));
      wbytes.Add(l, static_cast<double>(d.written_bytes));
      rtime.Add(l, d.read_time_seconds);
      wtime.Add(l, d.write_time_seconds);
      iotime.Add(l, d.io_time_seconds);
    }
    for (MetricFamily* f : {&reads, &writes, &rbytes, &wbytes, &rtime, &wtime, &iotime}) Emit(std::move(*f), out);
  }
  if (s.net) {
    MetricFamily rxb("node_net_received_bytes_total", kCounter, "Bytes received by the interface");
    MetricFamily txb("node_net_transmitted_bytes_total", kCounter, "Bytes transmitted by the interface");
    MetricFamily rxp("node_net_received_packets_total", kCounter, "Packets received by the interface");
    MetricFamily txp("node_net_transmitted_packets_total", kCounter, "Packets transmitted by the interface");
    MetricFamily up("node_net_interface_up", kGauge, "1 if the interface is up and has a link, else 0");
    MetricFamily ip("node_net_interface_ip", kGauge, "IP address assigned to the interface (value is always 1)");
    for (const NetInterface& n : *s.net) {
      Labels l = {{"interface", n.stat.name}};
      rxb.Add(l, static_cast<double>(n.stat.rx_bytes));
      txb.Add(l, static_cast<double>(n.stat.tx_bytes));
      rxp.Add(l, static_cast<double>(n.stat.rx_packets));
      txp.Add(l, static_cast<double>(n.stat.tx_packets));
      up.Add(l, n.up ? 1 : 0);
      for (const std::string& a : n.ips) ip.Add({{"interface", n.stat.name}, {"ip", a}}, 1);
    }
    for (MetricFamily* f : {&rxb, &txb, &rxp, &txp, &up, &ip}) Emit(std::move(*f), out);
  }
}

NodeCollector::NodeCollector(NodeCollectorOptions options) : options_(std::move(options)) {
  StatusOr<Uname> u = ReadUname(options_.host_uts_ns);
  if (!u.ok() && !options_.host_uts_ns.empty()) {
    WarnOnce(u.status().WithContext("reading the host's hostname; using the agent's own"));
    u = ReadUname("");
  }
  if (u.ok()) {
    uname_ = std::move(u).value();
  } else {
    WarnOnce(u.status());
  }
}

void NodeCollector::WarnOnce(const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (warned_.size() >= kMaxWarned) warned_.clear();
  if (!warned_.insert(status.ToString()).second) return;
  LOG(WARNING) << "node collector: " << status.ToString();
}

NodeSnapshot NodeCollector::ReadSnapshot() {
  NodeSnapshot s;
  const std::string proc = options_.host_root + "/proc";
  const std::string sys = options_.host_root + "/sys";
  s.uname = uname_;

  if (StatusOr<double> v = ReadUptime(proc); v.ok()) {
    s.uptime_seconds = *v;
  } else {
    WarnOnce(v.status());
  }
  if (StatusOr<CpuStat> v = ReadProcStat(proc); v.ok()) {
    s.cpu = *v;
  } else {
    WarnOnce(v.status());
  }
  if (StatusOr<MemInfo> v = ReadMeminfo(proc); v.ok()) {
    s.memory = *v;
  } else {
    WarnOnce(v.status());
  }
  if (StatusOr<Diskstats> v = ReadDiskstats(proc, sys); v.ok()) {
    if (v->skipped_lines > 0) WarnOnce(DataLoss(proc + "/diskstats: skipped malformed lines"));
    s.disks = std::move(v->disks);
  } else {
    WarnOnce(v.status());
  }

  int skipped = 0;
  StatusOr<std::vector<NetInterface>> net = ReadNetInterfaces(options_.host_net_ns, &skipped);
  if (!net.ok() && !options_.host_net_ns.empty()) {
    WarnOnce(net.status().WithContext("reading the host's network interfaces; using the agent's own"));
    net = ReadNetInterfaces("", &skipped);
  }
  if (net.ok()) {
    if (skipped > 0) WarnOnce(DataLoss("/proc/net/dev: skipped malformed lines"));
    s.net = std::move(net).value();
  } else {
    WarnOnce(net.status());
  }
  return s;
}

void NodeCollector::Collect(std::vector<MetricFamily>* out) { AppendNodeFamilies(ReadSnapshot(), out); }

}  // namespace coroot::agent::node
