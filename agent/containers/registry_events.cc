// ContainerRegistry: eBPF process events (agent/tracer/ProcTracer). A new process is attributed
// to its container at once, so processes that live less than a scan interval are not missed; an
// exit takes the process off its container and, for an OOM victim, counts an OOM kill.
#include <cmath>

#include "agent/containers/app_type.h"
#include "agent/containers/cgroup_v2_id.h"
#include "agent/containers/jvm.h"
#include "agent/containers/proc_pid.h"
#include "agent/containers/registry.h"

namespace coroot::agent::containers {

void ContainerRegistry::OnProcessStart(int pid, uint64_t cgroup_v2_id, uint64_t boot_ns) {
  AddProcessFromEvent(pid, cgroup_v2_id, boot_ns, /*moved=*/false);
}

void ContainerRegistry::OnProcessMoved(int pid) {
  // pid is a process's leader: the eBPF hook leaves the moves of other threads out.
  AddProcessFromEvent(pid, 0, 0, /*moved=*/true);
}

void ContainerRegistry::AddProcessFromEvent(int pid, uint64_t cgroup_v2_id, uint64_t boot_ns, bool moved) {
  const Clock::time_point now = Clock::now();
  // While the process lives, /proc has its exact start time and every hierarchy's path.
  cgroup::ProcCgroup paths;
  std::string cg_id;
  uint64_t start_ticks = 0;
  bool alive = false;
  if (StatusOr<PidStat> st = ReadPidStat(options_.proc_root, pid); st.ok()) {
    if (StatusOr<cgroup::ProcCgroup> cg = cgroup::ReadProcCgroup(options_.proc_root, pid, options_.base_cgroup_path);
        cg.ok()) {
      paths = std::move(cg).value();
      cg_id = paths.Id();
      start_ticks = st->start_ticks;
      alive = true;
    }
  }
  if (!alive && moved) return;  // a moved process that is gone: nothing to attribute
  if (!alive) {
    // Already gone: its cgroup is named by the kernel's v2 id, known from earlier scans or found
    // in the v2 tree (once per unknown id; "not found" is remembered too).
    start_ticks = static_cast<uint64_t>(std::floor(static_cast<double>(boot_ns) / 1e9 * ticks_per_second_));
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = v2_ids_.find(cgroup_v2_id);
      if (it != v2_ids_.end()) {
        cg_id = it->second;
        known = true;
      }
    }
    if (!known) {
      std::string v2 = FindCgroupV2Path(options_.cgroupfs, cgroup_v2_id);
      if (v2 == "/") v2.clear();
      if (!v2.empty()) {
        paths.paths[""] = v2;
        cg_id = paths.Id();
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (v2_ids_.size() >= options_.max_ignored_cgroups) v2_ids_.clear();
      v2_ids_[cgroup_v2_id] = cg_id;
    }
  }
  if (cg_id.empty()) return;  // at the root: no container

  bool decided;
  {
    std::lock_guard<std::mutex> lock(mu_);
    decided = decisions_.count(cg_id) > 0;
  }
  if (!decided) {  // a cgroup no scan has seen yet: decide now (may ask the runtime), unlocked
    std::vector<std::string> drops;
    CgroupDecision d = MakeDecision(cg_id, pid, now, &drops);
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& reason : drops) Drop(reason);
    if (decisions_.size() >= options_.max_ignored_cgroups) {
      decisions_.clear();
      Drop("cgroup_cache_full");
    }
    decisions_.emplace(cg_id, std::move(d));
    if (alive) LearnV2IdLocked(paths, cg_id);
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    auto d = decisions_.find(cg_id);
    if (d == decisions_.end() || d->second.container_id.empty()) return;  // not a container we report
  }
  Process proc;
  proc.start_ticks = start_ticks;
  if (alive) {
    std::string cmdline = ReadCmdline(options_.proc_root, pid);
    proc.app_type = GuessApplicationType(cmdline, ReadExe(options_.proc_root, pid));
    proc.jvm = IsJvm(cmdline);
  }
  std::lock_guard<std::mutex> lock(mu_);
  bool known = decisions_.count(cg_id) && !decisions_[cg_id].container_id.empty() &&
               containers_.count(decisions_[cg_id].container_id);
  if (!known && containers_.size() >= options_.max_containers) {
    Drop("max_containers");
    return;
  }
  Container* c = ContainerForLocked(cg_id, paths, pid, now);
  if (!c) return;
  if (alive && !paths.paths.empty()) SetPaths(c, paths);
  if (moved) {
    for (auto& [id, other] : containers_)
      if (&other != c) other.processes.erase(pid);
    if (auto it = c->processes.find(pid); it != c->processes.end()) return;  // known here already
  } else {
    c->ebpf_starts++;
  }
  // A short-lived process stays here until its exit event (or the next scan) takes it off.
  c->processes[pid] = std::move(proc);
  c->started_by_event = true;
  c->zombie_since.reset();
}

void ContainerRegistry::OnProcessExit(int pid, uint64_t cgroup_v2_id, bool oom_killed) {
  constexpr size_t kMaxExited = 65536;
  std::lock_guard<std::mutex> lock(mu_);
  if (process_events_) {  // the next scan reads this pid's /proc files again (it may be reused)
    if (exited_pids_.size() < kMaxExited) {
      exited_pids_.insert(pid);
    } else {
      exited_overflow_ = true;
    }
  }
  Container* c = nullptr;
  if (auto v = v2_ids_.find(cgroup_v2_id); v != v2_ids_.end() && !v->second.empty()) {
    if (auto d = decisions_.find(v->second); d != decisions_.end() && !d->second.container_id.empty())
      if (auto it = containers_.find(d->second.container_id); it != containers_.end()) c = &it->second;
  }
  if (!c || !c->processes.count(pid)) {  // not a process of that cgroup's container: look the pid up
    for (auto& [id, cont] : containers_)
      if (cont.processes.count(pid)) {
        c = &cont;
        break;
      }
  }  // else the cgroup's container (an OOM victim that started before the agent still counts)
  if (!c) return;
  c->processes.erase(pid);
  if (oom_killed) c->oom_kills++;
}

}  // namespace coroot::agent::containers
