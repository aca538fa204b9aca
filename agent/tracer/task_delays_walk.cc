#include "agent/tracer/task_delays_walk.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "agent/tracer/proc_tracer.h"
#include "coroot.skel.h"

namespace coroot::agent::tracer {

namespace {
constexpr const char* kProgram = "coroot_task_delays_walk";
}  // namespace

StatusOr<std::unique_ptr<TaskDelaysWalk>> TaskDelaysWalk::Start() {
  struct stat st;
  if (stat("/sys/kernel/btf/vmlinux", &st) != 0)
    return Unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot be relocated");
  std::unique_ptr<TaskDelaysWalk> w(new TaskDelaysWalk());
  w->skel_ = coroot_bpf__open();
  if (!w->skel_) return ErrnoStatus("opening the BPF object", errno);
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, w->skel_->obj) {
    if (strcmp(bpf_program__name(prog), kProgram) != 0) bpf_program__set_autoload(prog, false);
  }
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, w->skel_->obj) {
    // The output array and the object's global data only.
    std::string name = bpf_map__name(map);
    if (name != "task_delays_out" && name.find('.') == std::string::npos) bpf_map__set_autocreate(map, false);
  }
  if (int err = coroot_bpf__load(w->skel_); err != 0)
    return ErrnoStatus("loading the task walk (syscall program with the open-coded task iterator)", -err);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  w->mapped_bytes_ = (sizeof(coroot_task_delay) * COROOT_TASK_DELAYS_MAX + page - 1) / page * page;
  void* p = mmap(nullptr, w->mapped_bytes_, PROT_READ, MAP_SHARED, bpf_map__fd(w->skel_->maps.task_delays_out), 0);
  if (p == MAP_FAILED) return ErrnoStatus("mapping the task walk's output", errno);
  w->records_ = static_cast<const coroot_task_delay*>(p);
  // One run now: a kernel that loads the program but cannot run it is found here, not at a gather.
  RETURN_IF_ERROR(w->ForEach([](const coroot_task_delay&) {}));
  return w;
}

Status TaskDelaysWalk::ForEach(const std::function<void(const coroot_task_delay&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.coroot_task_delays_walk), &opts) != 0)
    return ErrnoStatus("running the task walk", errno);
  runs_++;
  if (skel_->bss->coroot_task_delays_overflow)
    return ResourceExhausted("more than " + std::to_string(COROOT_TASK_DELAYS_MAX) + " tasks: the task walk's array is full");
  const uint32_t n = skel_->bss->coroot_task_delays_count;
  for (uint32_t i = 0; i < n && i < COROOT_TASK_DELAYS_MAX; i++) fn(records_[i]);
  return Status::Ok();
}

TaskDelaysWalk::~TaskDelaysWalk() {
  if (records_) munmap(const_cast<coroot_task_delay*>(records_), mapped_bytes_);
  if (skel_) coroot_bpf__destroy(skel_);
}

containers::SnapshotDelaySource::Reader TaskDelaysWalkReader(std::shared_ptr<TaskDelaysWalk> walk,
                                                             std::shared_ptr<ProcTracer> tracer) {
  return [walk, tracer]() -> StatusOr<std::vector<containers::ThreadDelays>> {
    std::vector<containers::ThreadDelays> out;
    auto add = [&out](const coroot_task_delay& t) { out.push_back({t.tid, t.tgid, {t.cpu_delay_ns, t.blkio_delay_ns}}); };
    Status st = walk->ForEach(add);
    if (st.ok()) return out;
    if (st.code() != StatusCode::kResourceExhausted || !tracer) return st;
    RETURN_IF_ERROR(tracer->ForEachTaskDelay(add));
    return out;
  };
}

std::function<StatusOr<std::vector<int>>()> TaskWalkProcessLister(std::shared_ptr<TaskDelaysWalk> walk,
                                                                  std::shared_ptr<ProcTracer> tracer) {
  return [walk, tracer]() -> StatusOr<std::vector<int>> {
    std::vector<int> out;
    bool init = false;
    // The walk starts at the idle task (pid 0), which is no process.
    Status st = walk->ForEach([&](const coroot_task_delay& t) {
      if (t.tid == t.tgid && t.tgid != 0) out.push_back(static_cast<int>(t.tgid));
      init = init || t.tgid == 1;
    });
    // Pid 1 is missing from the task list on some hosts (seen on 6.18 here, as from the iterator),
    // and lives as long as the namespace does.
    if (st.ok() && !init) out.push_back(1);
    if (st.ok()) return out;  // in the task list's order (the registry sorts)
    if (st.code() != StatusCode::kResourceExhausted || !tracer) return st;
    return ProcessLister(tracer)();
  };
}

}  // namespace coroot::agent::tracer
