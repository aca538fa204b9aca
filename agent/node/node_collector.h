#pragma once
// NodeCollector: the node-level series of Coroot's agent (node_info, node_uptime_seconds,
// node_resources_cpu|memory|disk_*, node_net_*), read live on every Collect().
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/node/machine_identity.h"
#include "agent/node/net_interfaces.h"
#include "agent/node/proc_diskstats.h"
#include "agent/node/proc_meminfo.h"
#include "agent/node/proc_stat.h"
#include "lib/base/status.h"
#include "lib/prom/metric.h"

namespace coroot::agent::node {

struct NodeCollectorOptions {
  // Prefix of /proc and /sys ("" = as this process sees them; the agent runs with the host's PID
  // namespace, so its /proc is the host's).
  std::string host_root;
  // Namespaces to read from, as Coroot does ("" = the agent's own). When one cannot be entered
  // (no CAP_SYS_ADMIN) the collector logs a warning and uses its own.
  std::string host_uts_ns = "/proc/1/ns/uts";
  std::string host_net_ns = "/proc/1/ns/net";
};

// One reading of every source; a source that failed is left empty.
struct NodeSnapshot {
  std::optional<Uname> uname;
  std::optional<double> uptime_seconds;
  std::optional<CpuStat> cpu;
  std::optional<MemInfo> memory;
  std::optional<std::vector<DiskStat>> disks;
  std::optional<std::vector<NetInterface>> net;
};

// Turns a snapshot into metric families with Coroot's exact names. Pure, so tests can check it.
void AppendNodeFamilies(const NodeSnapshot& snapshot, std::vector<prom::MetricFamily>* out);

class NodeCollector : public prom::ICollector {
 public:
  explicit NodeCollector(NodeCollectorOptions options = {});
  void Collect(std::vector<prom::MetricFamily>* out) override;

  // Reads every source now; failures are logged (once per distinct error) and left out.
  NodeSnapshot ReadSnapshot();

 private:
  void WarnOnce(const Status& status);

  NodeCollectorOptions options_;
  std::optional<Uname> uname_;  // read once: hostname and kernel do not change under a running agent
  std::mutex mu_;
  std::set<std::string> warned_;  // errors already logged, bounded by kMaxWarned
};

}  // namespace coroot::agent::node
