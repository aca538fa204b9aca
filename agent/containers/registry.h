#pragma once
// ContainerRegistry: every container on the node and its resources, with Coroot's metric names.
//
// A scan walks /proc, reads each process's cgroup, maps the cgroup to a container id (spec §1.c)
// and keeps per-container state: its processes and their start times (→ container_restarts_total
// when the oldest start time moves forward on a new process), when it was first seen
// (--min-container-age) and when its last process left (dead containers are dropped after a TTL).
// Collect() reads the container's cgroup files (v1, v2 or hybrid) at gather time.
//
// With eBPF (agent/tracer/ProcTracer, registry_events.cc) the registry also learns each new process
// at once, with its cgroup, so short-lived processes are attributed to their container between
// scans, and process exits; OOM kills are then counted as Coroot counts them: an exit of a process
// the kernel's oom/mark_victim chose. Without that hook they come from the kernel's per-cgroup
// counter (v1 memory.oom_control / v2 memory.events "oom_kill").
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/containers/cgroup_counters.h"
#include "agent/containers/containerd.h"
#include "agent/containers/crio.h"
#include "agent/containers/delay_counter.h"
#include "agent/containers/dockerd.h"
#include "agent/containers/mounts.h"
#include "agent/containers/runtime_counter.h"
#include "agent/containers/runtime_source.h"
#include "agent/containers/systemd_dbus.h"
#include "lib/base/status.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/container_id.h"
#include "lib/cgroup/proc_cgroup.h"
#include "lib/prom/metric.h"

namespace coroot::agent {
struct Config;
}

namespace coroot::agent::containers {

using Clock = std::chrono::steady_clock;

struct RegistryOptions {
  std::string proc_root = "/proc";
  cgroup::CgroupFs cgroupfs;  // where the hierarchies are (DetectCgroupFs)
  std::string base_cgroup_path;  // the host cgroup namespace root as this process sees it
  std::string sys_root = "/sys";
  // Docker Engine API socket ("" = do not ask Docker). The host's, seen through PID 1's root.
  std::string docker_socket = "/proc/1/root/run/docker.sock";
  // systemd's private D-Bus socket ("" = do not ask systemd): TriggeredBy and Type of units.
  std::string systemd_socket = "/proc/1/root/run/systemd/private";
  // CRI-O's socket: the first of these that exists when the registry starts.
  std::vector<std::string> crio_sockets = {"/proc/1/root/var/run/crio/crio.sock", "/proc/1/root/run/crio/crio.sock"};
  // containerd's socket: the first of these that exists when the registry starts (spec §1.c order).
  std::vector<std::string> containerd_sockets = {
      "/proc/1/root/var/snap/microk8s/common/run/containerd.sock", "/proc/1/root/run/k0s/containerd.sock",
      "/proc/1/root/run/k3s/containerd/containerd.sock", "/proc/1/root/run/containerd/containerd.sock"};
  std::vector<std::string> allowlist, denylist;  // regexes on container_id (ECMAScript syntax)
  std::chrono::milliseconds min_container_age{30'000};
  bool skip_systemd_system_services = true;
  std::chrono::milliseconds scan_interval{5'000};
  // While eBPF process events arrive, a scan only reconciles (events lost, cgroup moves).
  std::chrono::milliseconds scan_interval_with_events{60'000};
  std::chrono::milliseconds dead_container_ttl{10 * 60'000};  // Coroot's GC interval
  std::chrono::milliseconds ignored_ttl{15'000};              // cgroups found not to be containers
  size_t max_containers = 4096;
  size_t max_processes = 262'144;  // per scan; Linux's default pid_max is 4M, most hosts hold far fewer
  size_t max_ignored_cgroups = 65'536;
  size_t max_mounts_per_container = 16;
  // container_resources_{cpu,disk}_delay_seconds_total from netlink taskstats (turns
  // kernel.task_delayacct on). Off by default so fixture trees never query the host's pids;
  // the agent's flags turn it on.
  bool delay_accounting = false;
  // A process's cgroup is read again when it execs (its comm changes), when its pid is reused,
  // and at least every this many scans (a process moved between cgroups without exec).
  int revalidate_every_scans = 12;
};

// Flags → options (spec §1.g names): --cgroupfs-root, --container-allowlist/-denylist,
// --min-container-age, --skip-systemd-system-services.
RegistryOptions OptionsFromConfig(const Config& cfg);

// A point-in-time view of one container, for tests and debugging.
struct ContainerInfo {
  std::string id, app_id, cgroup_id;
  cgroup::ContainerType type = cgroup::ContainerType::kUnknown;
  std::vector<int> pids;
  uint64_t restarts = 0;
  bool reported = false;  // old enough for --min-container-age
  std::set<std::string> application_types;
  std::string image;
  uint64_t processes_started = 0;  // new processes seen by eBPF (short-lived ones included)
  uint64_t oom_kills = 0;          // OOM-killed processes seen by eBPF
};

class ContainerRegistry : public prom::ICollector {
 public:
  explicit ContainerRegistry(RegistryOptions options);
  ~ContainerRegistry() override;

  // Bad allow/deny regexes are reported here (and then ignored).
  Status Init();
  // Scans now and then every scan_interval on a thread of its own, until Stop().
  void Start();
  void Stop();

  // One pass over /proc. Public so tests can drive the registry without the thread.
  void Scan();
  void Collect(std::vector<prom::MetricFamily>* out) override;
  std::vector<ContainerInfo> Containers();
  // memory.stat reads and reuses (its counters stood still, ReadMemory) since the start.
  struct MemoryStatCounts {
    uint64_t read = 0, reused = 0;
  };
  MemoryStatCounts MemoryStatReads();

  // The container_id of a cgroup (its path, as ProcCgroup::Id() gives it), for the eBPF
  // tracer's events: "" when the cgroup has not been scanned yet or holds no container we report.
  std::string ContainerIdOfCgroup(const std::string& cgroup_id);

  // eBPF process events (registry_events.cc), called from the tracer's thread. cgroup_v2_id is the
  // kernel's id of the process's v2 cgroup, which still names it after the process is gone.
  void OnProcessStart(int pid, uint64_t cgroup_v2_id, uint64_t boot_ns);
  // A process (its leader: the eBPF hook leaves other threads' moves out) was moved to another
  // cgroup, once per hierarchy it moved in. A process that lives is attributed to its new
  // cgroup's container at once, and taken off any other container; it is not counted as a start.
  void OnProcessMoved(int pid);
  void OnProcessExit(int pid, uint64_t cgroup_v2_id, bool oom_killed);
  // True once the oom/mark_victim hook is attached: container_oom_kills_total then counts the
  // exits of OOM victims instead of reading the cgroup's counter.
  void SetOomKillsFromEbpf(bool on) { oom_from_ebpf_ = on; }
  // True while process events arrive: /proc is then scanned every scan_interval_with_events.
  void SetProcessEvents(bool on) { process_events_ = on; }
  // Process moves arrive as events too (eBPF cgroup_attach_task), and lost() counts the events
  // the kernel could not deliver. While lost() stays put, a cached process's cgroup is not read
  // again every revalidate_every_scans (a move, or a pid's reuse, would have been an event);
  // when it has grown, the next scan reads every process's cgroup again.
  void SetMoveEvents(std::function<uint64_t()> lost);
  // Where scans list the host's processes instead of reading the /proc directory (the agent hands
  // over the eBPF task iterator: one read() rather than the kernel making a /proc dentry for each
  // process). Its pids must be those of proc_root's namespace. When it fails, scans read /proc.
  using PidLister = std::function<StatusOr<std::vector<int>>()>;
  void SetPidLister(PidLister lister);
  // Replaces where container delays come from (the agent hands over the eBPF task iterator once
  // it runs). Counters keep their totals; each container's next gather only takes baselines.
  void SetDelaySource(std::unique_ptr<DelaySource> source);
  // Where container_python_thread_lock_wait_time_seconds and
  // container_nodejs_event_loop_blocked_time_seconds_total come from (the agent's eBPF runtime
  // uprobes); null: not reported. Each gather hands it the Python and Node.js processes.
  void SetRuntimeSource(std::shared_ptr<RuntimeSource> source);
  // Where CPU throttling and pressure come from first (the agent's eBPF cgroup iterator):
  // refreshed at each gather; containers it does not cover read their files. Null: files only.
  void SetCgroupCounters(std::unique_ptr<CgroupCountersSnapshot> snapshot);

 private:
  struct Process {
    uint64_t start_ticks = 0;
    std::string app_type;
    bool jvm = false;
    uint64_t seen_at_scan = 0;  // the last scan that found it in /proc
  };
  // What a process's mountinfo depends on: its mount namespace and its root (inode and mount).
  // Processes with the same view see the same mountinfo and the same filesystems, so the
  // containers they are in (systemd services on a host, the containers of a pod) share one read
  // of it per refresh and one statfs per mount per gather.
  struct MountView {
    uint64_t ns_dev = 0, ns_ino = 0, root_dev = 0, root_ino = 0, root_mnt = 0;  // all 0: unknown
    auto operator<=>(const MountView&) const = default;
    bool known() const { return ns_ino != 0; }
  };
  struct SharedMounts {
    uint64_t gather = 0;  // when mountinfo was read
    std::vector<std::pair<Mount, BlockDevice>> disk_mounts;
  };
  struct Container {
    std::string id, app_id;
    cgroup::CgroupContainer cgroup;
    std::string cgroup_id;
    cgroup::ProcCgroup paths;  // last seen from a live process; kept after it exits
    cgroup::CgroupDirs dirs;   // the directories of paths (set with them, by SetPaths)
    // The scan's shared ProcCgroup that paths were last checked against: the processes of a
    // cgroup share one, so a scan compares paths once per container, not once per process.
    std::shared_ptr<const cgroup::ProcCgroup> paths_checked;
    bool new_process = false;  // the scan found a process it had not seen
    std::map<int, Process> processes;
    std::optional<uint64_t> started_at;  // oldest process start, clock ticks since boot
    uint64_t restarts = 0;
    Clock::time_point first_seen;
    double created_unix = 0;  // oldest process start at first sight, seconds since the epoch
    std::optional<Clock::time_point> zombie_since;
    std::shared_ptr<const cgroup::ContainerMetadata> md;
    uint64_t ebpf_starts = 0, oom_kills = 0;
    // Block-device mounts (one per device) as a process of the container sees them: mountinfo is
    // the costliest file of a gather, so it is read again only every kMountsEveryGathers gathers
    // or when that process changes.
    // Each with its block device, resolved when mountinfo is read (a mounted device keeps its
    // number and name); mounts of no block device are left out then.
    std::vector<std::pair<Mount, BlockDevice>> disk_mounts;
    int disk_mounts_pid = 0;
    uint64_t disk_mounts_gather = 0;
    MountView mount_view;  // of disk_mounts_pid: containers with the same view share one read
    bool started_by_event = false;  // a process event added a process: recheck restarts at the next scan
    DelayCounter delays;
    RuntimeCounter runtimes;
    CgroupKeys cgroup_keys;  // of dirs, for the cgroup counters' snapshot
    MemoryStatCache memory_stat;  // the last memory.stat figures, reused while the counters stand still
  };
  struct CgroupDecision {
    std::string container_id;  // "" = not a container we report
    Clock::time_point at;
    std::shared_ptr<const cgroup::ContainerMetadata> md;
  };

  // Classifies a cgroup and names its container (asking the runtime API if needed). Runs without
  // the lock: a runtime call may take up to its timeout. Drops to count are appended to *drops.
  CgroupDecision MakeDecision(const std::string& cgroup_id, int pid, Clock::time_point now,
                              std::vector<std::string>* drops) const;
  bool Filtered(const std::string& container_id) const;
  bool OldEnough(const Container& c, Clock::time_point now) const;
  static MountView MountViewOf(const std::string& proc_pid_dir);  // unknown where /proc says nothing
  void SetPaths(Container* c, const cgroup::ProcCgroup& paths) const {
    c->paths = paths;
    c->dirs = cgroup::DirsOf(options_.cgroupfs, paths);
    c->cgroup_keys = {};
    c->memory_stat = {};
    c->paths_checked.reset();
  }
  void Drop(const std::string& reason) { dropped_[reason]++; }
  // Finds or creates the container of a decided cgroup (mu_ held); null when not reported or
  // max_containers is hit.
  Container* ContainerForLocked(const std::string& cg_id, const cgroup::ProcCgroup& paths, int pid,
                                Clock::time_point now);
  // OnProcessStart and OnProcessMoved: attributes pid to the container of its cgroup now.
  void AddProcessFromEvent(int pid, uint64_t cgroup_v2_id, uint64_t boot_ns, bool moved);
  // Remembers a cgroup's v2 id (mu_ held), bounded.
  void LearnV2IdLocked(const cgroup::ProcCgroup& paths, const std::string& cg_id);
  // The pids a scan looks at, sorted (the lister's or /proc's), at most max_processes.
  std::vector<int> ListProcesses(bool* truncated);

  RegistryOptions options_;
  std::vector<std::regex> allow_, deny_;
  std::unique_ptr<DockerClient> docker_;
  std::unique_ptr<CrioClient> crio_;
  std::unique_ptr<ContainerdClient> containerd_;
  std::unique_ptr<SystemdClient> systemd_;
  std::unique_ptr<DelaySource> delays_;  // null: no delay metrics
  std::shared_ptr<RuntimeSource> runtimes_;  // null: no runtime metrics
  std::unique_ptr<CgroupCountersSnapshot> cgroup_counters_;  // null: every container's files
  double ticks_per_second_ = 100;
  uint64_t boot_time_ = 0;

  std::mutex mu_;
  std::map<std::string, Container> containers_;           // by container_id
  std::map<std::string, CgroupDecision> decisions_;       // by cgroup id
  std::map<std::string, uint64_t> dropped_;               // reason → count
  uint64_t scans_ = 0;
  uint64_t gathers_ = 0;
  MemoryStatCounts memory_stat_reads_;
  std::set<int> exited_pids_;     // exits seen by eBPF since the last scan (bounded)
  bool exited_overflow_ = false;  // more than that: the next scan reads every pid
  std::function<uint64_t()> events_lost_;  // set by SetMoveEvents: moves are events
  uint64_t events_lost_seen_ = 0;          // Scan()'s last reading of it
  PidLister pid_lister_;                   // empty: readdir of proc_root
  bool pid_lister_warned_ = false;
  std::unordered_map<uint64_t, std::string> v2_ids_;  // v2 cgroup id → cgroup id ("" = not found)
  std::atomic<bool> oom_from_ebpf_{false}, process_events_{false};
  struct PidCache {
    uint64_t start_ticks = 0;
    std::string comm;
    uint64_t read_at_scan = 0;
    std::shared_ptr<const cgroup::ProcCgroup> cg;  // null: at the root everywhere
    std::string cg_id;
  };
  std::map<int, PidCache> pid_cache_;  // only touched by Scan(), bounded by max_processes
  std::map<MountView, SharedMounts> mount_views_;  // reads of the last kMountsEveryGathers gathers

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace coroot::agent::containers
