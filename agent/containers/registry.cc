#include "agent/containers/registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_map>

#include "agent/config/config.h"
#include "agent/containers/app_type.h"
#include "agent/containers/cgroup_v2_id.h"
#include "agent/containers/jvm.h"
#include "agent/containers/mounts.h"
#include "agent/containers/proc_pid.h"
#include "lib/base/file.h"
#include "lib/base/log.h"
#include "lib/base/strings.h"
#include "lib/cgroup/cpu.h"
#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/io.h"
#include "lib/cgroup/memory.h"
#include "lib/cgroup/psi.h"

namespace coroot::agent::containers {

namespace {

using prom::Labels;
using prom::MetricFamily;
using prom::MetricType;

constexpr size_t kMaxAppTypesPerContainer = 16;
constexpr size_t kMaxJvmsPerContainer = 8;
constexpr uint64_t kMountsEveryGathers = 10;

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Families of one gather, created on first use so that empty ones are never emitted.
class Families {
 public:
  // name is a string literal: its address finds the family without comparing names (this runs
  // for every sample); the name itself only the first time that address is seen.
  MetricFamily& Get(const char* name, MetricType type, const char* help) {
    if (auto lit = by_literal_.find(name); lit != by_literal_.end()) return fams_[lit->second];
    auto it = index_.find(std::string_view(name));
    if (it == index_.end()) {
      it = index_.emplace(name, fams_.size()).first;
      fams_.emplace_back(name, type, help);
    }
    by_literal_.emplace(name, it->second);
    return fams_[it->second];
  }
  void MoveTo(std::vector<MetricFamily>* out) {
    for (MetricFamily& f : fams_)
      if (!f.samples.empty()) out->push_back(std::move(f));
  }

 private:
  std::map<std::string, size_t, std::less<>> index_;  // looked up by name without a string copy
  std::unordered_map<const char*, size_t> by_literal_;
  std::vector<MetricFamily> fams_;
};

Labels With(const Labels& base, std::initializer_list<prom::Label> extra) {
  Labels l;
  l.reserve(base.size() + extra.size());  // one allocation, not a copy and then a grown copy
  l.insert(l.end(), base.begin(), base.end());
  l.insert(l.end(), extra.begin(), extra.end());
  return l;
}

}  // namespace

ContainerRegistry::MountView ContainerRegistry::MountViewOf(const std::string& proc_pid_dir) {
  struct stat ns {};
  struct statx root {};
  if (stat((proc_pid_dir + "/ns/mnt").c_str(), &ns) != 0 ||
      statx(AT_FDCWD, (proc_pid_dir + "/root").c_str(), 0, STATX_INO | STATX_MNT_ID, &root) != 0 ||
      !(root.stx_mask & STATX_MNT_ID) || ns.st_ino == 0)
    return {};
  return {static_cast<uint64_t>(ns.st_dev), static_cast<uint64_t>(ns.st_ino),
          static_cast<uint64_t>(makedev(root.stx_dev_major, root.stx_dev_minor)), root.stx_ino, root.stx_mnt_id};
}

RegistryOptions OptionsFromConfig(const Config& cfg) {
  RegistryOptions o;
  std::string root = cfg.cgroupfs_root.empty() ? "/sys/fs/cgroup" : cfg.cgroupfs_root;
  o.cgroupfs = cgroup::DetectCgroupFs(root);
  if (StatusOr<std::string> base = cgroup::HostCgroupBasePath(); base.ok()) {
    o.base_cgroup_path = *base;
    if (!base->empty()) {
      LOG(INFO) << "in a cgroup namespace of its own: host cgroup base path " << *base;
    }
  } else {
    LOG(WARNING) << "cannot learn the host cgroup base path (" << base.status().ToString()
                 << "); cgroup paths are taken as they are";
  }
  o.allowlist = cfg.container_allowlist;
  o.denylist = cfg.container_denylist;
  o.min_container_age = cfg.min_container_age;
  o.skip_systemd_system_services = cfg.skip_systemd_system_services;
  o.delay_accounting = true;
  return o;
}

ContainerRegistry::ContainerRegistry(RegistryOptions options) : options_(std::move(options)) {
  // Sockets are the host's, seen through PID 1's root; where that is closed to us (a sandbox, or
  // an agent without CAP_SYS_PTRACE) but the same path exists in our own root, use that.
  auto reachable = [](const std::string& path) {
    if (access(path.c_str(), F_OK) == 0 || !StartsWith(path, "/proc/1/root/")) return path;
    std::string local = path.substr(12);
    return access(local.c_str(), F_OK) == 0 ? local : path;
  };
  if (!options_.docker_socket.empty()) docker_ = std::make_unique<DockerClient>(reachable(options_.docker_socket));
  for (const std::string& s : options_.crio_sockets)
    if (std::string p = reachable(s); access(p.c_str(), F_OK) == 0) {
      crio_ = std::make_unique<CrioClient>(p);
      break;
    }
  for (const std::string& s : options_.containerd_sockets)
    if (std::string p = reachable(s); access(p.c_str(), F_OK) == 0) {
      containerd_ = std::make_unique<ContainerdClient>(p);
      break;
    }
  if (!options_.systemd_socket.empty())
    if (std::string p = reachable(options_.systemd_socket); access(p.c_str(), F_OK) == 0)
      systemd_ = std::make_unique<SystemdClient>(p);
  long hz = sysconf(_SC_CLK_TCK);
  if (hz > 0) ticks_per_second_ = static_cast<double>(hz);
  if (StatusOr<std::string> st = ReadFile(options_.proc_root + "/stat", 1 << 20); st.ok()) {
    if (StatusOr<uint64_t> bt = ParseBootTime(*st); bt.ok()) boot_time_ = *bt;
  }
}

ContainerRegistry::~ContainerRegistry() { Stop(); }

Status ContainerRegistry::Init() {
  Status result;
  auto compile = [&result](const std::vector<std::string>& in, std::vector<std::regex>* out) {
    for (const std::string& re : in) {
      if (re.empty()) continue;
      try {  // std::regex throws on bad syntax; this is the boundary
        out->emplace_back(re, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        result = InvalidArgument("bad container regex \"" + re + "\": " + e.what());
      }
    }
  };
  compile(options_.allowlist, &allow_);
  compile(options_.denylist, &deny_);
  if (options_.delay_accounting) {
    if (Status on = EnableDelayAccounting(options_.proc_root); !on.ok()) {
      LOG(WARNING) << on.ToString() << "; container delay metrics will stay at zero";
    }
    if (StatusOr<std::unique_ptr<TaskstatsClient>> ts = TaskstatsClient::Open(); ts.ok()) {
      delays_ = std::make_unique<NetlinkDelaySource>(std::move(*ts));
    } else {
      LOG(WARNING) << "no container delay metrics: " << ts.status().ToString();
    }
  }
  return result;
}

void ContainerRegistry::Start() {
  Scan();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(run_mu_);
    while (!run_cv_.wait_for(lock, process_events_ ? options_.scan_interval_with_events : options_.scan_interval,
                             [this] { return stopping_; })) {
      lock.unlock();
      Scan();
      lock.lock();
    }
  });
}

void ContainerRegistry::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ContainerRegistry::Filtered(const std::string& id) const {
  if (!allow_.empty() && std::none_of(allow_.begin(), allow_.end(), [&](const std::regex& r) {
        return std::regex_search(id, r);
      }))
    return true;
  return std::any_of(deny_.begin(), deny_.end(), [&](const std::regex& r) { return std::regex_search(id, r); });
}

ContainerRegistry::CgroupDecision ContainerRegistry::MakeDecision(const std::string& cgroup_id, int pid,
                                                                 Clock::time_point now,
                                                                 std::vector<std::string>* drops) const {
  CgroupDecision d{"", now, nullptr};
  StatusOr<cgroup::CgroupContainer> c = cgroup::ClassifyCgroup(cgroup_id);
  if (c.ok()) {
    using T = cgroup::ContainerType;
    if (c->type == T::kSandbox) c->id = cgroup::GvisorSandboxId(ReadCmdline(options_.proc_root, pid));
    auto md = std::make_shared<cgroup::ContainerMetadata>();
    bool runtime = (c->type == T::kDocker || c->type == T::kContainerd || c->type == T::kSandbox ||
                    c->type == T::kCrio) && !c->id.empty();
    bool have_md = !runtime;
    // Runtime containers need their runtime's metadata to be named (as in Coroot): CRI-O's own
    // API for CRI-O containers, containerd's (namespace k8s.io) for the kubelet's containerd
    // containers, the Docker Engine API for the others, and containerd's `moby` namespace for
    // Docker's containers when dockerd does not know them or does not answer.
    if (runtime) {
      StatusOr<cgroup::ContainerMetadata> got = NotFound("no runtime client");
      bool asked = false;
      if (c->type == T::kCrio && crio_) {
        got = crio_->Inspect(c->id);
        asked = true;
      } else if (c->type == T::kContainerd && containerd_) {
        got = containerd_->Get("k8s.io", c->id);
        asked = true;
      } else if (c->type != T::kCrio && c->type != T::kContainerd) {
        if (docker_) {
          got = docker_->Inspect(c->id);
          asked = true;
        }
        if (!got.ok() && containerd_) {
          StatusOr<cgroup::ContainerMetadata> moby = containerd_->Get("moby", c->id);
          if (moby.ok() || !asked) got = std::move(moby);
          asked = true;
        }
      }
      if (got.ok()) {
        *md = std::move(got).value();
        have_md = true;
      } else if (asked && got.status().code() != StatusCode::kNotFound) {
        drops->push_back("runtime_unavailable");
      }
    }
    // systemd units: TriggeredBy and Type from systemd itself (container_info's labels and the
    // --skip-systemd-system-services rule); without an answer they stay "", as in Coroot.
    if (c->type == T::kSystemdService && systemd_) {
      if (StatusOr<SystemdUnitProperties> u = systemd_->GetUnitProperties(cgroup::SystemdUnit(cgroup_id)); u.ok()) {
        md->systemd_triggered_by = u->triggered_by;
        md->systemd_type = u->type;
      }
    }
    std::string id = have_md ? cgroup::ContainerIdFor(*c, *md, std::chrono::system_clock::now()) : "";
    if (!id.empty() && options_.skip_systemd_system_services && c->type == T::kSystemdService &&
        cgroup::IsSystemdSystemService(cgroup::SystemdUnit(id), md->systemd_type, md->systemd_triggered_by))
      id.clear();
    if (!id.empty() && Filtered(id)) id.clear();
    d.container_id = id;
    d.md = std::move(md);
  }
  return d;
}

void ContainerRegistry::Scan() {
  const Clock::time_point now = Clock::now();
  struct Seen {
    int pid;
    const PidCache* pc;  // a node of the new cache (std::map nodes stay put when it is moved)
  };
  bool truncated = false;
  std::vector<int> pids = ListProcesses(&truncated);
  std::vector<Seen> seen;
  seen.reserve(pids.size());
  const uint64_t scan = scans_ + 1;  // scans_ is only written by Scan(), which does not run concurrently
  std::map<int, PidCache> cache;
  // With process events, a cached pid that has not exited since the last scan is the same
  // process: its stat need not be read again (a reused pid shows up as an exit).
  std::set<int> exited;
  bool trust_cache = false;
  std::function<uint64_t()> events_lost;
  {
    std::lock_guard<std::mutex> lock(mu_);
    trust_cache = process_events_ && !exited_overflow_;
    exited.swap(exited_pids_);
    exited_overflow_ = false;
    events_lost = events_lost_;
  }
  uint64_t revalidate = static_cast<uint64_t>(std::max(1, options_.revalidate_every_scans));
  if (events_lost) {
    const uint64_t lost = events_lost();
    if (lost != events_lost_seen_) {
      trust_cache = false;
      revalidate = 1;  // every process's cgroup read again now
    } else if (trust_cache) {
      revalidate = UINT64_MAX;  // moves and exits are events: no periodic re-read
    }
    events_lost_seen_ = lost;
  }
  // The processes of one cgroup share one ProcCgroup (the first read of it that this scan holds),
  // so that what follows looks each cgroup up once rather than once per process.
  std::unordered_map<std::string, std::shared_ptr<const cgroup::ProcCgroup>> shared;
  auto keep = [&](int pid, PidCache&& pc) {
    PidCache& in = cache.emplace(pid, std::move(pc)).first->second;
    if (!in.cg) return;
    auto [it, added] = shared.try_emplace(in.cg_id, in.cg);
    if (!added && it->second != in.cg && it->second->paths == in.cg->paths) in.cg = it->second;
    seen.push_back({pid, &in});
  };
  for (int pid : pids) {
    if (auto old = pid_cache_.find(pid); trust_cache && old != pid_cache_.end() && !exited.count(pid) &&
                                         scan - old->second.read_at_scan < revalidate) {
      keep(pid, std::move(old->second));
      continue;
    }
    StatusOr<PidStat> st = ReadPidStat(options_.proc_root, pid);
    if (!st.ok()) continue;  // exited (or a kernel oddity): nothing to attribute
    PidCache pc;
    auto old = pid_cache_.find(pid);
    if (old != pid_cache_.end() && old->second.start_ticks == st->start_ticks && old->second.comm == st->comm &&
        scan - old->second.read_at_scan < revalidate) {
      pc = std::move(old->second);
    } else {
      StatusOr<cgroup::ProcCgroup> cg = cgroup::ReadProcCgroup(options_.proc_root, pid, options_.base_cgroup_path);
      if (!cg.ok()) continue;
      pc.start_ticks = st->start_ticks;
      pc.comm = std::move(st->comm);
      pc.read_at_scan = scan;
      pc.cg_id = cg->Id();
      if (!pc.cg_id.empty()) pc.cg = std::make_shared<const cgroup::ProcCgroup>(std::move(cg).value());
    }
    keep(pid, std::move(pc));
  }
  pid_cache_ = std::move(cache);

  // Cgroups seen for the first time (or again after ignored_ttl) are decided without the lock.
  std::vector<std::pair<std::string, int>> undecided;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = decisions_.begin(); it != decisions_.end();)
      it = now - it->second.at > options_.ignored_ttl ? decisions_.erase(it) : std::next(it);
    std::set<std::string> asked;
    const cgroup::ProcCgroup* last = nullptr;
    for (const Seen& s : seen) {
      if (s.pc->cg.get() == last) continue;  // the same cgroup as the process before
      last = s.pc->cg.get();
      if (!decisions_.count(s.pc->cg_id) && asked.insert(s.pc->cg_id).second) undecided.emplace_back(s.pc->cg_id, s.pid);
    }
  }
  std::vector<std::pair<std::string, CgroupDecision>> made;
  std::vector<std::string> drops;
  for (const auto& [cg_id, pid] : undecided) made.emplace_back(cg_id, MakeDecision(cg_id, pid, now, &drops));

  std::lock_guard<std::mutex> lock(mu_);
  scans_++;
  if (truncated) Drop("max_processes");
  for (const std::string& reason : drops) Drop(reason);
  for (auto& [cg_id, d] : made) {
    if (decisions_.size() >= options_.max_ignored_cgroups) {
      decisions_.clear();  // bounded: forget everything, decide again next time
      Drop("cgroup_cache_full");
    }
    decisions_[cg_id] = std::move(d);
  }
  if (!made.empty()) {  // v2 ids of new cgroups, for the eBPF process events: one stat per cgroup
    std::set<std::string_view> unlearned;
    for (const auto& m : made) unlearned.insert(m.first);
    for (const Seen& s : seen)
      if (unlearned.erase(s.pc->cg_id)) LearnV2IdLocked(*s.pc->cg, s.pc->cg_id);
  }

  std::set<std::string> refused;
  // The container of each shared ProcCgroup (null: none we report), looked up once.
  std::unordered_map<const cgroup::ProcCgroup*, Container*> container_of;
  for (const Seen& s : seen) {
    const PidCache& pc = *s.pc;
    auto [known, added] = container_of.try_emplace(pc.cg.get(), nullptr);
    if (added) {
      auto dit = decisions_.find(pc.cg_id);
      if (dit == decisions_.end()) continue;  // forgotten when the cache hit its bound
      const std::string& cid = dit->second.container_id;
      if (cid.empty()) continue;
      if (!containers_.count(cid) && containers_.size() >= options_.max_containers) {
        if (refused.insert(cid).second) Drop("max_containers");
        continue;
      }
      known->second = ContainerForLocked(pc.cg_id, *pc.cg, s.pid, now);
    }
    if (!known->second) continue;
    Container& c = *known->second;
    if (c.cgroup_id != pc.cg_id) c.cgroup_id = pc.cg_id;  // two cgroups of one container: the last one wins
    if (c.paths_checked != pc.cg) {
      if (c.paths.paths != pc.cg->paths) SetPaths(&c, *pc.cg);
      c.paths_checked = pc.cg;
    }
    auto p = c.processes.find(s.pid);
    if (p == c.processes.end() || p->second.start_ticks != pc.start_ticks) {
      Process proc;
      proc.start_ticks = pc.start_ticks;
      std::string cmdline = ReadCmdline(options_.proc_root, s.pid);
      proc.app_type = GuessApplicationType(cmdline, ReadExe(options_.proc_root, s.pid));
      proc.jvm = IsJvm(cmdline);
      p = c.processes.insert_or_assign(s.pid, std::move(proc)).first;
      c.new_process = true;
    }
    p->second.seen_at_scan = scan;
  }

  for (auto it = containers_.begin(); it != containers_.end();) {
    Container& c = it->second;
    for (auto p = c.processes.begin(); p != c.processes.end();)
      p = p->second.seen_at_scan == scan ? std::next(p) : c.processes.erase(p);
    bool new_process = c.new_process || c.started_by_event;
    c.new_process = c.started_by_event = false;
    if (new_process && !c.processes.empty()) {
      uint64_t oldest = UINT64_MAX;
      for (const auto& [pid, proc] : c.processes) oldest = std::min(oldest, proc.start_ticks);
      // Coroot's rule: a restart is when the oldest process start time moves forward.
      if (!c.started_at) {
        c.started_at = oldest;
        c.created_unix = static_cast<double>(boot_time_) + static_cast<double>(oldest) / ticks_per_second_;
      } else if (oldest > *c.started_at) {
        c.restarts++;
        c.started_at = oldest;
      }
    }
    if (c.processes.empty()) {
      if (!c.zombie_since) c.zombie_since = now;
    } else {
      c.zombie_since.reset();
    }
    if (c.zombie_since && now - *c.zombie_since > options_.dead_container_ttl) {
      LOG(INFO) << "deleting dead container: " << c.id;
      for (auto d = decisions_.begin(); d != decisions_.end();)
        d = d->second.container_id == c.id ? decisions_.erase(d) : std::next(d);
      it = containers_.erase(it);
      continue;
    }
    ++it;
  }
}

ContainerRegistry::Container* ContainerRegistry::ContainerForLocked(const std::string& cg_id,
                                                                    const cgroup::ProcCgroup& paths, int pid,
                                                                    Clock::time_point now) {
  auto dit = decisions_.find(cg_id);
  if (dit == decisions_.end() || dit->second.container_id.empty()) return nullptr;
  const CgroupDecision& decision = dit->second;
  const std::string& cid = decision.container_id;
  auto it = containers_.find(cid);
  if (it == containers_.end()) {
    if (containers_.size() >= options_.max_containers) return nullptr;
    Container c;
    c.id = cid;
    c.app_id = cgroup::AppIdFor(cid);
    c.cgroup = cgroup::ClassifyCgroup(cg_id).ok() ? *cgroup::ClassifyCgroup(cg_id) : cgroup::CgroupContainer{};
    c.cgroup_id = cg_id;
    SetPaths(&c, paths);
    c.first_seen = now;
    c.md = decision.md;
    it = containers_.emplace(cid, std::move(c)).first;
    LOG(INFO) << "detected a new container: pid=" << pid << " cg=" << cg_id << " id=" << cid;
  }
  it->second.cgroup_id = cg_id;
  return &it->second;
}

void ContainerRegistry::LearnV2IdLocked(const cgroup::ProcCgroup& paths, const std::string& cg_id) {
  std::string v2 = paths.Path("");
  if (v2.empty()) return;
  uint64_t id = CgroupV2Id(options_.cgroupfs, v2);
  if (id == 0) return;
  if (v2_ids_.size() >= options_.max_ignored_cgroups) v2_ids_.clear();  // bounded
  v2_ids_[id] = cg_id;
}

bool ContainerRegistry::OldEnough(const Container& c, Clock::time_point now) const {
  if (options_.min_container_age.count() <= 0) return true;
  double age = boot_time_ > 0 && c.created_unix > 0
                   ? UnixNow() - c.created_unix
                   : std::chrono::duration<double>(now - c.first_seen).count();
  return age * 1000 >= static_cast<double>(options_.min_container_age.count());
}

std::string ContainerRegistry::ContainerIdOfCgroup(const std::string& cg_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = decisions_.find(cg_id);
  return it == decisions_.end() ? "" : it->second.container_id;
}

std::vector<ContainerInfo> ContainerRegistry::Containers() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ContainerInfo> out;
  Clock::time_point now = Clock::now();
  for (const auto& [id, c] : containers_) {
    ContainerInfo i;
    i.id = c.id;
    i.app_id = c.app_id;
    i.cgroup_id = c.cgroup_id;
    i.type = c.cgroup.type;
    for (const auto& [pid, p] : c.processes) {
      i.pids.push_back(pid);
      if (!p.app_type.empty()) i.application_types.insert(p.app_type);
    }
    i.restarts = c.restarts;
    i.reported = OldEnough(c, now);
    if (c.md) i.image = c.md->image;
    i.processes_started = c.ebpf_starts;
    i.oom_kills = c.oom_kills;
    out.push_back(std::move(i));
  }
  return out;
}

void ContainerRegistry::SetDelaySource(std::unique_ptr<DelaySource> source) {
  std::lock_guard<std::mutex> lock(mu_);
  delays_ = std::move(source);
  for (auto& [id, c] : containers_) c.delays.Rebase();
}

std::vector<int> ContainerRegistry::ListProcesses(bool* truncated) {
  PidLister lister;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lister = pid_lister_;
  }
  if (lister) {
    StatusOr<std::vector<int>> listed = lister();
    if (listed.ok()) {
      std::vector<int> pids = std::move(listed).value();
      if (!std::is_sorted(pids.begin(), pids.end())) std::sort(pids.begin(), pids.end());
      *truncated = pids.size() > options_.max_processes;
      if (*truncated) pids.resize(options_.max_processes);
      return pids;
    }
    if (!pid_lister_warned_) {
      LOG(WARNING) << "listing processes: " << listed.status().ToString() << "; reading /proc";
    }
    pid_lister_warned_ = true;
  }
  return ListPids(options_.proc_root, options_.max_processes, truncated);
}

void ContainerRegistry::SetPidLister(PidLister lister) {
  std::lock_guard<std::mutex> lock(mu_);
  pid_lister_ = std::move(lister);
}

void ContainerRegistry::SetMoveEvents(std::function<uint64_t()> lost) {
  std::lock_guard<std::mutex> lock(mu_);
  events_lost_ = std::move(lost);
}

void ContainerRegistry::SetRuntimeSource(std::shared_ptr<RuntimeSource> source) {
  std::lock_guard<std::mutex> lock(mu_);
  runtimes_ = std::move(source);
}

ContainerRegistry::MemoryStatCounts ContainerRegistry::MemoryStatReads() {
  std::lock_guard<std::mutex> lock(mu_);
  return memory_stat_reads_;
}

void ContainerRegistry::SetCgroupCounters(std::unique_ptr<CgroupCountersSnapshot> snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  cgroup_counters_ = std::move(snapshot);
}

void ContainerRegistry::Collect(std::vector<MetricFamily>* out) {
  const auto kGauge = MetricType::kGauge;
  const auto kCounter = MetricType::kCounter;
  Families f;
  std::lock_guard<std::mutex> lock(mu_);
  cgroup::UntilWrittenBatch batch;  // limits written during this gather are read at the next
  Clock::time_point now = Clock::now();
  gathers_++;
  if (delays_) delays_->Refresh();
  if (cgroup_counters_) {
    CgroupKeySet wanted;
    for (auto& [id, c] : containers_)
      if (OldEnough(c, now)) WantKeys(c.dirs, &c.cgroup_keys, &wanted);
    cgroup_counters_->Refresh(wanted);
  }
  std::vector<TaskSample> tasks;
  // Every Python and Node.js process, also of containers not reported yet: their probes are then
  // in place (and counting) when the container is old enough.
  std::unordered_map<int, RuntimeTimes> runtime_times;
  std::vector<RuntimeCounter::Sample> runtime_samples;
  if (runtimes_) {
    std::vector<RuntimeProcess> wanted;
    for (const auto& [id, c] : containers_)
      for (const auto& [pid, p] : c.processes) {
        if (p.app_type == "python") wanted.push_back({pid, p.start_ticks, Runtime::kPython});
        if (p.app_type == "nodejs") wanted.push_back({pid, p.start_ticks, Runtime::kNodejs});
      }
    runtime_times = runtimes_->Refresh(wanted);
  }
  for (auto it = mount_views_.begin(); it != mount_views_.end();)
    it = gathers_ - it->second.gather >= kMountsEveryGathers ? mount_views_.erase(it) : std::next(it);
  // statfs of this gather, by view and mount point (the mount points live in the containers).
  std::map<std::pair<MountView, std::string_view>, StatusOr<FsUsage>> statfs_done;
  for (auto& [id, c] : containers_) {
    if (!OldEnough(c, now)) continue;
    // The container's labels, held once by all its samples (not copied into each).
    const auto l = std::make_shared<const Labels>(Labels{{"container_id", c.id}, {"app_id", c.app_id}});
    if (c.md && (!c.md->image.empty() || !c.md->systemd_triggered_by.empty()))
      f.Get("container_info", kGauge, "Meta information about the container")
          .Add(l,
               {{"image", c.md->image},
                {"systemd_triggered_by", c.md->systemd_triggered_by},
                {"systemd_type", c.md->systemd_type}},
               1);
    f.Get("container_restarts_total", kCounter, "Number of times the container was restarted")
        .Add(l, {}, static_cast<double>(c.restarts));

    if (StatusOr<cgroup::CpuStat> cpu = ReadCpu(c.dirs, &c.cgroup_keys, cgroup_counters_.get()); cpu.ok()) {
      if (cpu->limit_cores > 0)
        f.Get("container_resources_cpu_limit_cores", kGauge, "CPU limit of the container").Add(l, {}, cpu->limit_cores);
      f.Get("container_resources_cpu_usage_seconds_total", kCounter, "Total CPU time consumed by the container")
          .Add(l, {}, cpu->usage_seconds);
      f.Get("container_resources_cpu_throttled_seconds_total", kCounter,
            "Total time duration the container has been throttled")
          .Add(l, {}, cpu->throttled_seconds);
    }
    if (delays_) {
      tasks.clear();
      for (const auto& [pid, p] : c.processes) delays_->TasksOf(pid, &tasks);
      c.delays.Update(tasks);
      f.Get("container_resources_cpu_delay_seconds_total", kCounter,
            "Total time the container's processes have been waiting for a CPU while runnable")
          .Add(l, {}, static_cast<double>(c.delays.total().cpu_delay_ns) / 1e9);
      f.Get("container_resources_disk_delay_seconds_total", kCounter,
            "Total time the container's processes have been waiting for synchronous block I/O to complete")
          .Add(l, {}, static_cast<double>(c.delays.total().blkio_delay_ns) / 1e9);
    }
    if (runtimes_) {
      runtime_samples.clear();
      for (const auto& [pid, p] : c.processes)
        if (auto t = runtime_times.find(pid); t != runtime_times.end())
          runtime_samples.push_back(
              {{pid, p.start_ticks, p.app_type == "python" ? Runtime::kPython : Runtime::kNodejs}, t->second});
      c.runtimes.Update(runtime_samples);
      if (c.runtimes.python())
        f.Get("container_python_thread_lock_wait_time_seconds", kCounter,
              "Time spent by Python threads waiting for the GIL (in pthread_cond_timedwait)")
            .Add(l, {}, static_cast<double>(c.runtimes.total().python_lock_wait_ns) / 1e9);
      if (c.runtimes.nodejs())
        f.Get("container_nodejs_event_loop_blocked_time_seconds_total", kCounter,
              "Time the Node.js event loop spent running callbacks instead of polling for events")
            .Add(l, {}, static_cast<double>(c.runtimes.total().nodejs_blocked_ns) / 1e9);
    }
    if (StatusOr<cgroup::MemoryStat> m =
            ReadMemory(c.dirs, &c.cgroup_keys, cgroup_counters_.get(), !oom_from_ebpf_, &c.memory_stat);
        m.ok()) {
      (c.memory_stat.reused > 0 ? memory_stat_reads_.reused : memory_stat_reads_.read)++;
      f.Get("container_resources_memory_rss_bytes", kGauge,
            "Amount of physical memory used by the container (doesn't include page cache)")
          .Add(l, {}, static_cast<double>(m->rss_bytes));
      f.Get("container_resources_memory_cache_bytes", kGauge, "Amount of page cache memory allocated by the container")
          .Add(l, {}, static_cast<double>(m->cache_bytes));
      if (m->limit_bytes > 0)
        f.Get("container_resources_memory_limit_bytes", kGauge, "Memory limit of the container")
            .Add(l, {}, static_cast<double>(m->limit_bytes));
      if (!oom_from_ebpf_ && m->oom_kills.value_or(0) > 0)
        f.Get("container_oom_kills_total", kCounter, "Total number of times the container was terminated by the OOM killer")
            .Add(l, {}, static_cast<double>(*m->oom_kills));
    }
    if (oom_from_ebpf_ && c.oom_kills > 0)
      f.Get("container_oom_kills_total", kCounter, "Total number of times the container was terminated by the OOM killer")
          .Add(l, {}, static_cast<double>(c.oom_kills));
    if (StatusOr<cgroup::PsiStat> psi = ReadPressure(c.dirs, &c.cgroup_keys, cgroup_counters_.get()); psi.ok()) {
      std::tuple<const char*, const char*, const cgroup::Pressure*> ps[] = {
          {"container_resources_cpu_pressure_waiting_seconds_total", "Total time spent waiting for the CPU", &psi->cpu},
          {"container_resources_memory_pressure_waiting_seconds_total", "Total time spent waiting for memory",
           &psi->memory},
          {"container_resources_io_pressure_waiting_seconds_total", "Total time spent waiting for I/O", &psi->io}};
      for (const auto& [name, help, p] : ps) {
        MetricFamily& fam = f.Get(name, kCounter, help);
        fam.Add(l, {{"kind", "some"}}, p->some_seconds);
        fam.Add(l, {{"kind", "full"}}, p->full_seconds);
      }
    }
    // Disks: block-device mounts as a live process of the container sees them, with the cgroup's
    // I/O counters of that device.
    if (!c.processes.empty()) {
      int pid = c.processes.begin()->first;
      std::string root = options_.proc_root + "/" + std::to_string(pid);
      if (pid != c.disk_mounts_pid || gathers_ - c.disk_mounts_gather >= kMountsEveryGathers) {
        c.disk_mounts.clear();
        c.disk_mounts_pid = pid;
        c.disk_mounts_gather = gathers_;
        c.mount_view = MountViewOf(root);
        auto shared = c.mount_view.known() ? mount_views_.find(c.mount_view) : mount_views_.end();
        if (shared != mount_views_.end()) {
          // Read for another container with the same view in the last kMountsEveryGathers
          // gathers: take it, and its age, so this one is refreshed no later than it would be.
          c.disk_mounts = shared->second.disk_mounts;
          c.disk_mounts_gather = shared->second.gather;
        } else if (StatusOr<std::string> mi = ReadFile(root + "/mountinfo", 4 << 20); mi.ok()) {
          // The cgroup counts I/O per device, so one mount per device: the whole filesystem (root
          // "/") in preference to bind mounts of its directories, then the shortest mount point.
          // (Coroot picks the mounts the container opened files on, seen by eBPF; not done yet.)
          std::map<std::string, Mount> by_device;
          for (Mount& m : ParseMountinfo(*mi)) {
            if (StartsWith(m.major_minor, "0:")) continue;  // anonymous devices: tmpfs, proc, overlay, ...
            auto it = by_device.find(m.major_minor);
            if (it == by_device.end()) {
              if (by_device.size() < options_.max_mounts_per_container) by_device.emplace(m.major_minor, std::move(m));
              continue;
            }
            const Mount& cur = it->second;
            bool better = (m.root == "/") != (cur.root == "/") ? m.root == "/" : m.mount_point.size() < cur.mount_point.size();
            if (better) it->second = std::move(m);
          }
          for (auto& [mm, m] : by_device)
            if (StatusOr<BlockDevice> dev = ResolveBlockDevice(options_.sys_root, mm); dev.ok())
              c.disk_mounts.emplace_back(std::move(m), std::move(dev).value());
          if (c.mount_view.known()) mount_views_[c.mount_view] = {gathers_, c.disk_mounts};
        } else {
          c.disk_mounts_pid = 0;  // that process is gone: try another next time
        }
      }
      if (!c.disk_mounts.empty()) {
        StatusOr<cgroup::IoStats> io = cgroup::ReadIoStat(c.dirs);
        for (const auto& [m, dev] : c.disk_mounts) {
          std::optional<StatusOr<FsUsage>> fresh;
          const StatusOr<FsUsage>* u;
          if (c.mount_view.known()) {  // one statfs per filesystem per gather, as mountinfo
            auto key = std::make_pair(c.mount_view, std::string_view(m.mount_point));
            auto it = statfs_done.find(key);
            if (it == statfs_done.end()) it = statfs_done.emplace(key, StatFs(root + "/root" + m.mount_point)).first;
            u = &it->second;
          } else {
            u = &fresh.emplace(StatFs(root + "/root" + m.mount_point));
          }
          if (!u->ok()) continue;
          std::string volume;
          if (c.md) {
            auto v = c.md->volumes.find(m.mount_point);
            if (v != c.md->volumes.end()) volume = v->second;
          }
          const Labels dl = {{"mount_point", m.mount_point}, {"device", dev.name}, {"volume", volume}};
          f.Get("container_resources_disk_size_bytes", kGauge, "Total capacity of the volume")
              .Add(l, dl, static_cast<double>((*u)->size_bytes));
          f.Get("container_resources_disk_used_bytes", kGauge, "Used capacity of the volume")
              .Add(l, dl, static_cast<double>((*u)->used_bytes));
          f.Get("container_resources_disk_reserved_bytes", kGauge, "Reserved capacity of the volume")
              .Add(l, dl, static_cast<double>((*u)->reserved_bytes));
          if (!io.ok()) continue;
          auto s = io->find(dev.major_minor);
          if (s == io->end()) s = io->find(dev.disk_major_minor);
          if (s == io->end()) continue;
          f.Get("container_resources_disk_reads_total", kCounter,
                "Total number of reads completed successfully by the container")
              .Add(l, dl, static_cast<double>(s->second.reads));
          f.Get("container_resources_disk_read_bytes_total", kCounter,
                "Total number of bytes read from the disk by the container")
              .Add(l, dl, static_cast<double>(s->second.read_bytes));
          f.Get("container_resources_disk_writes_total", kCounter,
                "Total number of writes completed successfully by the container")
              .Add(l, dl, static_cast<double>(s->second.writes));
          f.Get("container_resources_disk_written_bytes_total", kCounter,
                "Total number of bytes written to the disk by the container")
              .Add(l, dl, static_cast<double>(s->second.written_bytes));
        }
      }
    }
    // JVMs: one set of series per distinct sun.rt.javaCommand in the container.
    std::set<std::string> jvms;
    for (const auto& [pid, p] : c.processes) {
      if (!p.jvm || jvms.size() >= kMaxJvmsPerContainer) continue;
      StatusOr<JvmStats> j = ReadJvmStats(options_.proc_root, pid);
      if (!j.ok() || !jvms.insert(j->jvm).second) continue;
      const Labels jl = {{"jvm", j->jvm}};
      f.Get("container_jvm_info", kGauge, "Meta information about the JVM")
          .Add(l, With(jl, {{"java_version", j->java_version}}), 1);
      f.Get("container_jvm_heap_size_bytes", kGauge, "Total heap size in bytes").Add(l, jl, j->heap_size_bytes);
      f.Get("container_jvm_heap_used_bytes", kGauge, "Used heap size in bytes").Add(l, jl, j->heap_used_bytes);
      f.Get("container_jvm_heap_max_size_bytes", kGauge, "Maximum heap size in bytes").Add(l, jl, j->heap_max_size_bytes);
      for (const auto& [gc, secs] : j->gc_seconds)
        f.Get("container_jvm_gc_time_seconds", kCounter, "Time spent in the given JVM garbage collector in seconds")
            .Add(l, With(jl, {{"gc", gc}}), secs);
      f.Get("container_jvm_safepoint_time_seconds", kCounter,
            "Time the application has been stopped for safepoint operations in seconds")
          .Add(l, jl, j->safepoint_seconds);
      f.Get("container_jvm_safepoint_sync_time_seconds", kCounter,
            "Time spent getting to safepoints in seconds")
          .Add(l, jl, j->safepoint_sync_seconds);
    }
    std::set<std::string> types;
    for (const auto& [pid, p] : c.processes)
      if (!p.app_type.empty() && types.size() < kMaxAppTypesPerContainer) types.insert(p.app_type);
    for (const std::string& t : types)
      f.Get("container_application_type", kGauge, "Type of the application running in the container (e.g. memcached)")
          .Add(l, {{"application_type", t}}, 1);
  }
  f.Get("coroot_agent_containers", kGauge, "Containers the agent tracks (incl. younger than --min-container-age)")
      .Add({}, static_cast<double>(containers_.size()));
  MetricFamily& dropped =
      f.Get("coroot_agent_containers_dropped_total", kCounter, "Containers or processes left out because a bound was hit");
  for (const auto& [reason, n] : dropped_) dropped.Add({{"reason", reason}}, static_cast<double>(n));
  f.MoveTo(out);
}

}  // namespace coroot::agent::containers
