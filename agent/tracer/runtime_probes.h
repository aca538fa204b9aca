#pragma once
// RuntimeProbes: the uprobes of bpf/runtime.bpf.c on the processes the container registry says
// are Python or Node.js (agent/containers/app_type.cc), and their per-process figures.
//
// Each process gets uprobes of its own (attached with its pid), so the other programs that map
// the same libc or libuv pay nothing:
//   Python   pthread_cond_timedwait (entry + return) in its libc / libpthread / musl, or its
//            executable when that defines it
//   Node.js  uv__io_poll and uv__{stream,async,poll,server,udp}_io (entry + return) in its
//            executable (libuv linked in) or a mapped libuv.so / libnode.so
// A gather hands over the wanted processes (Refresh); a thread attaches and detaches every
// interval, so attaching (parsing a 100 MB node binary once per file) never runs under the
// registry's lock. Bounds: max_processes probed at once, max_files symbol lookups cached.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/containers/runtime_source.h"
#include "agent/tracer/tracer.h"
#include "lib/base/status.h"
#include "lib/prom/metric.h"
#include "runtime_abi.h"

struct coroot_runtime_bpf;
struct bpf_link;

namespace coroot::agent::tracer {

struct RuntimeProbesOptions {
  std::string proc_root = "/proc";
  size_t max_processes = 1024;
  size_t max_files = 256;
  std::chrono::milliseconds interval{1000};
};

class RuntimeProbes : public containers::RuntimeSource, public prom::ICollector {
 public:
  // Fails when the programs do not load (no BTF, no privileges, no uprobes).
  static StatusOr<std::shared_ptr<RuntimeProbes>> Start(const RuntimeProbesOptions& options);
  ~RuntimeProbes() override;
  RuntimeProbes(const RuntimeProbes&) = delete;
  RuntimeProbes& operator=(const RuntimeProbes&) = delete;
  void Stop();

  std::unordered_map<int, containers::RuntimeTimes> Refresh(
      const std::vector<containers::RuntimeProcess>& processes) override;
  // Attaches to and detaches from the processes of the last Refresh now (tests; the thread does
  // it every interval).
  void ProbeNow();

  struct Stats {
    size_t processes = 0;      // probed now
    size_t uprobes = 0;        // attached now
    uint64_t failures = 0;     // processes that could not be probed
    size_t waiting = 0;        // wanted but not probed at the last pass: max_processes reached
  };
  Stats stats();
  // The agent's own figures: coroot_node_agent_runtime_probed_processes, _uprobes,
  // _probe_failures_total and _unprobed_processes{reason="max_processes"}.
  void Collect(std::vector<prom::MetricFamily>* out) override;
  const std::vector<HookState>& hooks() const { return hooks_; }
  // Why a pid could not be probed (the last failures, bounded), for logs and tests.
  std::map<int, std::string> problems();

 private:
  struct FileSite {
    const char* program;
    uint64_t offset;  // file offset
    bool retprobe;
  };
  struct Site {
    FileSite at;
    std::string path;  // openable by the agent: /proc/<pid>/exe or /proc/<pid>/root/...
  };
  struct Probed {
    uint64_t start_ticks = 0;
    std::vector<bpf_link*> links;
  };
  RuntimeProbes() = default;
  Status Load();
  void Run();
  // The probe sites of a process: NotFound when none of its files has the functions.
  StatusOr<std::vector<Site>> SitesOf(const containers::RuntimeProcess& p);
  // The sites in one file, cached by (device, inode).
  std::vector<FileSite> SitesInFile(const std::string& path, containers::Runtime runtime);
  void Attach(const containers::RuntimeProcess& p);
  void Forget(int pid);  // the kernel's entries of a pid that is not probed (or no longer)

  RuntimeProbesOptions options_;
  coroot_runtime_bpf* skel_ = nullptr;
  std::vector<HookState> hooks_;
  int stats_fd_ = -1, loops_fd_ = -1;

  std::mutex mu_;  // procs_, wanted_, problems_, failures_, waiting_
  std::map<int, Probed> procs_;
  std::vector<containers::RuntimeProcess> wanted_;
  std::map<int, std::string> problems_;
  uint64_t failures_ = 0;
  size_t waiting_ = 0;  // see Stats::waiting

  std::mutex probe_mu_;  // one attach pass at a time; files_, failed_
  std::map<std::pair<uint64_t, uint64_t>, std::vector<FileSite>> files_;
  std::set<std::pair<int, uint64_t>> failed_;  // (pid, start_ticks) not retried

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace coroot::agent::tracer
