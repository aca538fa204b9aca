#include "agent/tracer/runtime_probes.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/tracer/tls/elf_image.h"
#include "agent/tracer/tls/tls_targets.h"
#include "coroot_runtime.skel.h"
#include "lib/base/file.h"
#include "lib/base/log.h"

namespace coroot::agent::tracer {

using containers::Runtime;
using containers::RuntimeProcess;
using containers::RuntimeTimes;

namespace {

constexpr const char* kPrograms[] = {
    "coroot_python_cond_wait_enter", "coroot_python_cond_wait_exit", "coroot_nodejs_poll_enter",
    "coroot_nodejs_poll_exit",       "coroot_nodejs_io_cb_enter",    "coroot_nodejs_io_cb_exit",
};
// The maps those programs use; no other map of the object is created by this instance.
const std::set<std::string> kMaps = {"runtime_stats", "python_waits", "nodejs_loops"};

constexpr const char* kNodejsCallbacks[] = {"uv__stream_io", "uv__async_io", "uv__poll_io", "uv__server_io",
                                            "uv__udp_io"};
constexpr size_t kMaxProblems = 64;

std::string_view Basename(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Libraries that may define the runtime's functions (glibc < 2.34 keeps pthread in libpthread).
bool Candidate(std::string_view path, Runtime runtime) {
  std::string_view b = Basename(path);
  if (runtime == Runtime::kPython)
    return StartsWith(b, "libc.so") || StartsWith(b, "libc-") || StartsWith(b, "libpthread") ||
           StartsWith(b, "ld-musl") || StartsWith(b, "libc.musl");
  return StartsWith(b, "libuv.so") || StartsWith(b, "libnode.so");
}

}  // namespace

StatusOr<std::shared_ptr<RuntimeProbes>> RuntimeProbes::Start(const RuntimeProbesOptions& options) {
  std::shared_ptr<RuntimeProbes> p(new RuntimeProbes());
  p->options_ = options;
  struct stat st;
  if (stat("/sys/kernel/btf/vmlinux", &st) != 0)
    return Unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot be relocated");
  if (auto s = p->Load(); !s.ok()) return s;
  p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  return p;
}

Status RuntimeProbes::Load() {
  skel_ = coroot_runtime_bpf__open();
  if (!skel_) return ErrnoStatus("opening the BPF object", errno);
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    const char* name = bpf_program__name(prog);
    bool ours = std::any_of(std::begin(kPrograms), std::end(kPrograms),
                            [&](const char* p) { return strcmp(p, name) == 0; });
    if (!ours) {
      bpf_program__set_autoload(prog, false);  // another loader's program
      continue;
    }
    HookState h;
    h.program = name;
    h.hook = bpf_program__section_name(prog);
    hooks_.push_back(h);
  }
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skel_->obj) {
    std::string name = bpf_map__name(map);
    if (!kMaps.count(name) && name.find('.') == std::string::npos) bpf_map__set_autocreate(map, false);
  }
  if (int err = coroot_runtime_bpf__load(skel_); err != 0) {
    for (auto& h : hooks_) h.error = "the BPF object did not load";
    return ErrnoStatus("loading the runtime uprobe programs (verifier or permissions)", -err);
  }
  stats_fd_ = bpf_map__fd(skel_->maps.runtime_stats);
  loops_fd_ = bpf_map__fd(skel_->maps.nodejs_loops);
  for (auto& h : hooks_) h.attached = true;  // loaded: attached per process on demand
  LOG(INFO) << "eBPF runtime uprobes (Python GIL wait, Node.js event loop): loaded, attached per process";
  return Status::Ok();
}

std::unordered_map<int, RuntimeTimes> RuntimeProbes::Refresh(const std::vector<RuntimeProcess>& processes) {
  std::unordered_map<int, RuntimeTimes> out;
  std::lock_guard<std::mutex> lock(mu_);
  wanted_ = processes;
  for (const RuntimeProcess& p : processes) {
    auto it = procs_.find(p.pid);
    if (it == procs_.end() || it->second.start_ticks != p.start_ticks) continue;
    coroot_runtime_stats s{};
    uint32_t key = static_cast<uint32_t>(p.pid);
    RuntimeTimes& t = out[p.pid];  // probed but no figure yet: zero
    if (bpf_map_lookup_elem(stats_fd_, &key, &s) == 0) {
      t.python_lock_wait_ns = s.python_lock_wait_ns;
      t.nodejs_blocked_ns = s.nodejs_blocked_ns;
    }
  }
  return out;
}

std::vector<RuntimeProbes::FileSite> RuntimeProbes::SitesInFile(const std::string& path, Runtime runtime) {
  auto file = tls::MappedFile::Open(path);
  if (!file.ok()) return {};
  auto key = std::make_pair(file->dev(), file->inode());
  if (auto it = files_.find(key); it != files_.end()) return it->second;
  std::vector<FileSite> sites;
  if (auto elf = tls::ElfImage::Parse(file->bytes()); elf.ok()) {
    std::set<uint64_t> seen;
    auto add = [&](uint64_t vaddr, const char* enter, const char* exit) {
      std::optional<uint64_t> off = elf->FileOffset(vaddr);
      if (!off || !seen.insert(*off).second) return;
      sites.push_back({enter, *off, false});
      sites.push_back({exit, *off, true});
    };
    if (runtime == Runtime::kPython) {
      // glibc has two versions of it (GLIBC_2.2.5 and GLIBC_2.3.2) at two addresses: both.
      elf->ForEachFunction([&](const tls::ElfSymbol& s) {
        if (s.name == "pthread_cond_timedwait")
          add(s.value, "coroot_python_cond_wait_enter", "coroot_python_cond_wait_exit");
        return true;
      });
    } else if (auto poll = elf->FindFunction("uv__io_poll")) {
      add(poll->value, "coroot_nodejs_poll_enter", "coroot_nodejs_poll_exit");
      for (const char* cb : kNodejsCallbacks)
        if (auto f = elf->FindFunction(cb)) add(f->value, "coroot_nodejs_io_cb_enter", "coroot_nodejs_io_cb_exit");
    }
  }
  if (files_.size() >= options_.max_files) files_.clear();
  files_[key] = sites;
  return sites;
}

StatusOr<std::vector<RuntimeProbes::Site>> RuntimeProbes::SitesOf(const RuntimeProcess& p) {
  const std::string dir = options_.proc_root + "/" + std::to_string(p.pid);
  auto maps = ReadFile(dir + "/maps", 16 << 20);
  if (!maps.ok()) return maps.status();
  std::vector<std::string> paths = {dir + "/exe"};
  for (const tls::MappedFileRef& m : tls::ParseMappedFiles(*maps))
    if (Candidate(m.path, p.runtime)) paths.push_back(dir + "/root" + m.path);  // through the process's root
  std::vector<Site> out;
  for (const std::string& path : paths)
    for (const FileSite& s : SitesInFile(path, p.runtime)) out.push_back({s, path});
  if (out.empty())
    return NotFound(p.runtime == Runtime::kPython ? "no pthread_cond_timedwait in its executable or libc"
                                                  : "no uv__io_poll in its executable or a libuv");
  return out;
}

void RuntimeProbes::Forget(int pid) {
  uint32_t key = static_cast<uint32_t>(pid);
  bpf_map_delete_elem(stats_fd_, &key);
  bpf_map_delete_elem(loops_fd_, &key);
}

void RuntimeProbes::Attach(const RuntimeProcess& p) {
  auto fail = [&](const std::string& why) {
    failed_.insert({p.pid, p.start_ticks});
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_++ < kMaxProblems) {
      LOG(WARNING) << "runtime uprobes: pid " << p.pid << " not probed: " << why;
    }
    if (problems_.size() >= kMaxProblems) problems_.erase(problems_.begin());
    problems_[p.pid] = why;
  };
  StatusOr<std::vector<Site>> sites = SitesOf(p);
  if (!sites.ok()) return fail(sites.status().message());
  Forget(p.pid);  // figures of an earlier process with this pid
  Probed probed;
  probed.start_ticks = p.start_ticks;
  for (const Site& s : *sites) {
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, s.at.program);
    bpf_link* link = prog ? bpf_program__attach_uprobe(prog, s.at.retprobe, p.pid, s.path.c_str(), s.at.offset)
                          : nullptr;
    if (!link) {
      int err = errno;
      for (bpf_link* l : probed.links) bpf_link__destroy(l);
      return fail(std::string(s.at.retprobe ? "uretprobe " : "uprobe ") + s.at.program + " on " + s.path + ": " +
                  strerror(err));
    }
    probed.links.push_back(link);
  }
  std::lock_guard<std::mutex> lock(mu_);
  procs_[p.pid] = std::move(probed);
}

void RuntimeProbes::ProbeNow() {
  std::lock_guard<std::mutex> pass(probe_mu_);
  std::vector<RuntimeProcess> wanted;
  std::vector<std::pair<int, Probed>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wanted = wanted_;
    for (auto it = procs_.begin(); it != procs_.end();) {
      bool keep = std::any_of(wanted.begin(), wanted.end(), [&](const RuntimeProcess& p) {
        return p.pid == it->first && p.start_ticks == it->second.start_ticks;
      });
      if (keep) {
        ++it;
        continue;
      }
      gone.emplace_back(it->first, std::move(it->second));
      it = procs_.erase(it);
    }
  }
  for (auto& [pid, probed] : gone) {
    for (bpf_link* l : probed.links) bpf_link__destroy(l);
    Forget(pid);
  }
  // Failures are remembered only while the process is wanted.
  std::set<std::pair<int, uint64_t>> still_failed;
  for (const RuntimeProcess& p : wanted)
    if (failed_.count({p.pid, p.start_ticks})) still_failed.insert({p.pid, p.start_ticks});
  failed_ = std::move(still_failed);

  size_t waiting = 0;
  for (const RuntimeProcess& p : wanted) {
    if (failed_.count({p.pid, p.start_ticks})) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (procs_.count(p.pid)) continue;  // probed (a reused pid was dropped above)
      if (procs_.size() >= options_.max_processes) {
        waiting++;  // the bound: it waits for room
        continue;
      }
    }
    Attach(p);
  }
  std::lock_guard<std::mutex> lock(mu_);
  waiting_ = waiting;
}

RuntimeProbes::Stats RuntimeProbes::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  s.processes = procs_.size();
  for (const auto& [pid, p] : procs_) s.uprobes += p.links.size();
  s.failures = failures_;
  s.waiting = waiting_;
  return s;
}

void RuntimeProbes::Collect(std::vector<prom::MetricFamily>* out) {
  const Stats s = stats();
  auto add = [&](const char* name, prom::MetricType type, const char* help, prom::Labels labels, double v) {
    out->emplace_back(name, type, help);
    out->back().Add(std::move(labels), v);
  };
  add("coroot_node_agent_runtime_probed_processes", prom::MetricType::kGauge,
      "Python and Node.js processes with runtime uprobes attached", {}, static_cast<double>(s.processes));
  add("coroot_node_agent_runtime_uprobes", prom::MetricType::kGauge, "Runtime uprobes attached", {},
      static_cast<double>(s.uprobes));
  add("coroot_node_agent_runtime_probe_failures_total", prom::MetricType::kCounter,
      "Python and Node.js processes whose runtime uprobes could not be attached", {},
      static_cast<double>(s.failures));
  add("coroot_node_agent_runtime_unprobed_processes", prom::MetricType::kGauge,
      "Python and Node.js processes left without runtime uprobes at the last pass",
      {{"reason", "max_processes"}}, static_cast<double>(s.waiting));
}

std::map<int, std::string> RuntimeProbes::problems() {
  std::lock_guard<std::mutex> lock(mu_);
  return problems_;
}

void RuntimeProbes::Run() {
  std::unique_lock<std::mutex> l(run_mu_);
  while (!stop_) {
    l.unlock();
    ProbeNow();
    l.lock();
    run_cv_.wait_for(l, options_.interval, [this] { return stop_; });
  }
}

void RuntimeProbes::Stop() {
  {
    std::lock_guard<std::mutex> l(run_mu_);
    if (stop_) return;
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> pass(probe_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [pid, p] : procs_)
    for (bpf_link* link : p.links) bpf_link__destroy(link);
  procs_.clear();
  if (skel_) coroot_runtime_bpf__destroy(skel_);
  skel_ = nullptr;
}

RuntimeProbes::~RuntimeProbes() { Stop(); }

}  // namespace coroot::agent::tracer
