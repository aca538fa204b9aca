#include "agent/tracer/proc_tracer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "agent/tracer/bpf_iter_records.h"
#include "agent/tracer/ring_wait.h"
#include "coroot_containers.skel.h"
#include "lib/base/log.h"

namespace coroot::agent::tracer {

namespace {

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

struct Spec {
  const char* program;
  bool required;
};
const Spec kSpecs[] = {
    {"coroot_task_newtask", true},
    {"coroot_sched_process_exit", true},
    {"coroot_oom_mark_victim", false},
    {"coroot_cgroup_attach_task", false},
    {"coroot_task_delays_iter", false},
    {"coroot_task_delays_walk", false},
};
constexpr const char* kTaskIter = "coroot_task_delays_iter";
constexpr const char* kTaskWalk = "coroot_task_delays_walk";  // a syscall program: run, not attached
// The maps those programs use; every other map of the object is not created by this instance.
const std::set<std::string> kMaps = {"proc_events", "oom_victims", "proc_drops", "task_delays_out"};

}  // namespace

StatusOr<std::unique_ptr<ProcTracer>> ProcTracer::Start(const ProcTracerOptions& options, EventHandler handler) {
  std::unique_ptr<ProcTracer> t(new ProcTracer());
  t->handler_ = std::move(handler);
  if (auto st = t->Init(options); !st.ok()) return st;
  t->thread_ = std::thread([p = t.get()] { p->Run(); });
  return t;
}

Status ProcTracer::Init(const ProcTracerOptions& options) {
  options_ = options;
  if (!Exists("/sys/kernel/btf/vmlinux"))
    return Unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot be relocated");
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) != 1)
    return PermissionDenied("this process cannot load BPF tracepoint programs (needs root, or CAP_BPF and CAP_PERFMON)");
  std::string tracefs = options.tracefs;
  if (tracefs.empty())
    for (const char* p : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
      if (Exists(std::string(p) + "/events")) {
        tracefs = p;
        break;
      }

  // The task walk (open-coded task iterator, 6.7+) and the task iterator (BPF_PROG_TYPE_TRACING)
  // are the programs most likely to be refused: when the object does not load with them, it is
  // loaded again without the walk, then without both.
  for (int level = 0;; level++) {
    Status st = Load(tracefs, options, level);
    if (st.ok()) break;
    if (level == 2) return st;
    LOG(WARNING) << st.ToString() << (level == 0 ? "; retrying without the task walk (syscall program)"
                                                 : "; retrying without the task iterator (iter/task)");
  }
  return Attach();
}

Status ProcTracer::Load(const std::string& tracefs, const ProcTracerOptions& options, int level) {
  if (skel_) coroot_containers_bpf__destroy(skel_);
  hooks_.clear();
  skel_ = coroot_containers_bpf__open();
  if (!skel_) return ErrnoStatus("opening the BPF object", errno);
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    const char* name = bpf_program__name(prog);
    const Spec* spec = nullptr;
    for (const Spec& s : kSpecs)
      if (strcmp(s.program, name) == 0) spec = &s;
    if (!spec) {
      bpf_program__set_autoload(prog, false);  // another loader's program
      continue;
    }
    HookState h;
    h.program = name;
    h.required = spec->required;
    h.hook = bpf_program__section_name(prog);
    std::string tp = h.hook.rfind("tracepoint/", 0) == 0 ? h.hook.substr(strlen("tracepoint/")) : "";
    if (!tp.empty() && !tracefs.empty() && !Exists(tracefs + "/events/" + tp))
      h.error = "tracepoint " + tp + " does not exist on this kernel";
    if (h.program == "coroot_oom_mark_victim" && !options.oom_hook) h.error = "disabled by configuration";
    if ((h.program == kTaskWalk && level >= 1) || (h.program == kTaskIter && level >= 2))
      h.error = "the BPF object failed to load with it";
    if (!h.error.empty()) bpf_program__set_autoload(prog, false);
    hooks_.push_back(h);
  }
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skel_->obj) {
    std::string name = bpf_map__name(map);
    if (!kMaps.count(name) && name.find('.') == std::string::npos) bpf_map__set_autocreate(map, false);
    if (name == "task_delays_out") {
      if (level >= 1) bpf_map__set_autocreate(map, false);  // the walk's only
      bpf_map__set_max_entries(map, std::max<uint32_t>(options.task_walk_capacity, 1));
    }
  }
  if (int err = coroot_containers_bpf__load(skel_); err != 0)
    return ErrnoStatus("loading the process BPF programs (verifier or permissions)", -err);
  return Status::Ok();
}

Status ProcTracer::Attach() {
  for (auto& h : hooks_) {
    if (!h.error.empty()) continue;
    if (h.program == kTaskWalk) {  // run at each read: its output array is read in place
      const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      walked_capacity_ = bpf_map__max_entries(skel_->maps.task_delays_out);
      walked_bytes_ = (sizeof(coroot_task_delay) * walked_capacity_ + page - 1) / page * page;
      void* p = mmap(nullptr, walked_bytes_, PROT_READ, MAP_SHARED, bpf_map__fd(skel_->maps.task_delays_out), 0);
      if (p == MAP_FAILED) {
        h.error = std::string("mapping its output failed: ") + strerror(errno);
        continue;
      }
      walked_ = static_cast<const coroot_task_delay*>(p);
      h.attached = true;
      continue;
    }
    bpf_link* link = bpf_program__attach(bpf_object__find_program_by_name(skel_->obj, h.program.c_str()));
    if (!link) {
      h.error = std::string("attach failed: ") + strerror(errno);
      continue;
    }
    links_.push_back(link);
    if (h.program == kTaskIter) task_iter_link_ = link;
    h.attached = true;
  }
  for (const auto& h : hooks_) {
    if (h.attached) {
      LOG(INFO) << "eBPF hook " << h.hook << " (" << h.program << "): attached";
    } else {
      LOG(WARNING) << "eBPF hook " << h.hook << " (" << h.program << "): NOT attached: " << h.error
                   << (h.required ? "" : "; continuing without it");
    }
  }
  for (const Spec& s : kSpecs) {
    auto it = std::find_if(hooks_.begin(), hooks_.end(), [&](const HookState& h) { return h.program == s.program; });
    if (it == hooks_.end()) return Internal(std::string("BPF program ") + s.program + " is not in the object");
    if (s.required && !it->attached)
      return Unavailable("required eBPF hook " + it->hook + " is not attached: " + it->error);
  }
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.proc_events), &ProcTracer::OnSample, this, nullptr);
  if (!rb_) return ErrnoStatus("creating the process ring buffer reader", errno);
  return Status::Ok();
}

bool ProcTracer::oom_hook_attached() const { return hook_attached("coroot_oom_mark_victim"); }
bool ProcTracer::move_hook_attached() const { return hook_attached("coroot_cgroup_attach_task"); }

bool ProcTracer::hook_attached(const std::string& program) const {
  for (const auto& h : hooks_)
    if (h.program == program) return h.attached;
  return false;
}

int ProcTracer::OnSample(void* ctx, void* data, size_t size) {
  auto* t = static_cast<ProcTracer*>(ctx);
  if (size < sizeof(coroot_proc_event)) {
    t->malformed_++;
    return 0;
  }
  coroot_proc_event e;
  std::memcpy(&e, data, sizeof(e));
  t->events_++;
  t->handler_(e);
  return 0;
}

Status ProcTracer::WalkTasks(const std::function<void(const coroot_task_delay&)>& fn) {
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.coroot_task_delays_walk), &opts) != 0)
    return ErrnoStatus("running the task walk", errno);
  if (skel_->bss->coroot_task_delays_overflow)
    return ResourceExhausted("more than " + std::to_string(walked_capacity_) + " tasks: the task walk's array is full");
  const uint32_t n = std::min<uint32_t>(skel_->bss->coroot_task_delays_count, walked_capacity_);
  for (uint32_t i = 0; i < n; i++)
    if (walked_[i].tid != 0) fn(walked_[i]);  // the walk starts at the idle task, no process
  return Status::Ok();
}

Status ProcTracer::ForEachTaskDelay(const std::function<void(const coroot_task_delay&)>& fn, TaskSource via) {
  std::lock_guard<std::mutex> lock(iter_mu_);  // Stop() may run on another thread
  std::optional<Status> walk_error;
  if (via != TaskSource::kIterator && walked_) {
    Status st = WalkTasks(fn);  // fails before calling fn: the iterator can take over
    if (st.ok() || via == TaskSource::kWalk) return st;
    walk_error = st;
  } else if (via == TaskSource::kWalk) {
    return Unavailable("the task walk is not loaded");
  }
  if (!task_iter_link_) return walk_error.value_or(Unavailable("the task iterator is not attached"));
  int fd = bpf_iter_create(bpf_link__fd(task_iter_link_));
  if (fd < 0) return ErrnoStatus("creating the task iterator", errno);
  return ReadIterRecords<coroot_task_delay>(fd, "task iterator", fn);
}

StatusOr<std::vector<coroot_task_delay>> ProcTracer::ReadTaskDelays(TaskSource via) {
  std::vector<coroot_task_delay> out;
  RETURN_IF_ERROR(ForEachTaskDelay([&out](const coroot_task_delay& t) { out.push_back(t); }, via));
  return out;
}

containers::SnapshotDelaySource::Reader TaskDelaysReader(std::shared_ptr<ProcTracer> tracer, ProcTracer::TaskSource via) {
  return [tracer, via]() -> StatusOr<std::vector<containers::ThreadDelays>> {
    std::vector<containers::ThreadDelays> out;
    RETURN_IF_ERROR(tracer->ForEachTaskDelay(
        [&out](const coroot_task_delay& t) { out.push_back({t.tid, t.tgid, {t.cpu_delay_ns, t.blkio_delay_ns}}); }, via));
    return out;
  };
}

std::function<StatusOr<std::vector<int>>()> ProcessLister(std::shared_ptr<ProcTracer> tracer, ProcTracer::TaskSource via) {
  return [tracer, via]() -> StatusOr<std::vector<int>> {
    std::vector<int> out;
    bool init = false;
    RETURN_IF_ERROR(tracer->ForEachTaskDelay(
        [&](const coroot_task_delay& t) {
          if (t.tid == t.tgid) out.push_back(static_cast<int>(t.tgid));
          init = init || t.tgid == 1;
        },
        via));
    // Pid 1 is missing from both the task iterator and the task list on this 6.18 host (their
    // first record is pid 2), and pid 1 lives as long as the namespace does.
    if (!init) out.push_back(1);
    return out;  // by tid from the iterator, in the task list's order from the walk: the registry sorts
  };
}

void ProcTracer::Run() {
  while (!stop_.load()) {
    int n = WaitForRing(rb_, static_cast<int>(options_.poll_timeout.count()));
    if (n > 0) Drain();
    if (n < 0 && n != -EINTR) {
      LOG(ERROR) << "eBPF: process ring buffer poll failed: " << strerror(-n);
      std::this_thread::sleep_for(options_.poll_timeout);
    }
  }
}

void ProcTracer::Drain() {
  std::lock_guard<std::mutex> lock(rb_mu_);
  if (rb_) ring_buffer__consume(rb_);
}

uint64_t ProcTracer::kernel_drops() {
  std::lock_guard<std::mutex> lock(iter_mu_);  // Stop() destroys skel_ under it
  if (!skel_) return 0;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<__u64> values(static_cast<size_t>(ncpu));
  __u32 zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.proc_drops), &zero, values.data()) != 0) return 0;
  uint64_t sum = 0;
  for (auto v : values) sum += v;
  return sum;
}

void ProcTracer::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  Drain();
  std::lock_guard<std::mutex> lock(rb_mu_);
  if (rb_) ring_buffer__free(rb_);
  rb_ = nullptr;
  std::lock_guard<std::mutex> iter_lock(iter_mu_);
  for (auto* l : links_) bpf_link__destroy(l);
  links_.clear();
  task_iter_link_ = nullptr;
  if (walked_) munmap(const_cast<coroot_task_delay*>(walked_), walked_bytes_);
  walked_ = nullptr;
  if (skel_) coroot_containers_bpf__destroy(skel_);
  skel_ = nullptr;
}

ProcTracer::~ProcTracer() { Stop(); }

}  // namespace coroot::agent::tracer
