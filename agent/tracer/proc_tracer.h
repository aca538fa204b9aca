#pragma once
// ProcTracer: process start/exit and OOM kills from tracepoints (bpf/proc.bpf.c). It loads only
// the process programs and maps of the agent's BPF object (the same skeleton as Tracer, a
// separate instance), so it can run, or fail, independently of TCP tracing. Events are delivered
// on a thread of its own, promptly: a consumer reads /proc/<pid> of a new process while it lives.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/containers/delay_source.h"
#include "agent/tracer/tracer.h"
#include "lib/base/status.h"
#include "proc_abi.h"

struct coroot_containers_bpf;
struct ring_buffer;
struct bpf_link;

namespace coroot::agent::tracer {

struct ProcTracerOptions {
  std::chrono::milliseconds poll_timeout{200};  // Stop() latency; events wake the reader at once
  std::string tracefs;                          // "" = detect
  bool oom_hook = true;                         // false: count OOM kills from cgroup files only
  // Records the task walk's array holds; a host with more tasks is read with the task iterator.
  uint32_t task_walk_capacity = COROOT_TASK_DELAYS_MAX;
};

class ProcTracer {
 public:
  using EventHandler = std::function<void(const coroot_proc_event&)>;

  // Fails when the start or exit hook cannot attach (the caller keeps /proc scans only). The OOM
  // hook is optional: see oom_hook_attached().
  static StatusOr<std::unique_ptr<ProcTracer>> Start(const ProcTracerOptions& options, EventHandler handler);
  ~ProcTracer();
  ProcTracer(const ProcTracer&) = delete;
  ProcTracer& operator=(const ProcTracer&) = delete;

  void Stop();
  // Delivers what is in the ring now (tests).
  void Drain();
  const std::vector<HookState>& hooks() const { return hooks_; }
  bool oom_hook_attached() const;
  bool move_hook_attached() const;  // cgroup_attach_task: processes moved between cgroups
  uint64_t events() const { return events_.load(); }
  uint64_t kernel_drops();  // events lost because the ring was full
  // Every task's CPU and block-I/O delays now, for the whole host at once: from the task walk
  // (bpf/task_delays.bpf.c: one run of a syscall program over the task list, records read in
  // place) when it loaded, else, or when a run fails (past task_walk_capacity tasks), from
  // the iter/task program (one read(); ~0.65 us per task here, a pid lookup and a program run
  // each).
  // Unavailable when neither loaded. `via` picks one (tests, benchmarks).
  enum class TaskSource { kAny, kWalk, kIterator };
  StatusOr<std::vector<coroot_task_delay>> ReadTaskDelays(TaskSource via = TaskSource::kAny);
  Status ForEachTaskDelay(const std::function<void(const coroot_task_delay&)>& fn, TaskSource via = TaskSource::kAny);

 private:
  ProcTracer() = default;
  Status Init(const ProcTracerOptions& options);
  // level 0 loads every program; 1 leaves the task walk out, 2 the task iterator too.
  Status Load(const std::string& tracefs, const ProcTracerOptions& options, int level);
  Status WalkTasks(const std::function<void(const coroot_task_delay&)>& fn);  // iter_mu_ held
  Status Attach();
  bool hook_attached(const std::string& program) const;
  void Run();
  static int OnSample(void* ctx, void* data, size_t size);

  ProcTracerOptions options_;
  EventHandler handler_;
  coroot_containers_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::vector<bpf_link*> links_;
  bpf_link* task_iter_link_ = nullptr;  // one of links_
  const coroot_task_delay* walked_ = nullptr;  // the task walk's output array, mmapped read-only
  size_t walked_bytes_ = 0;
  uint32_t walked_capacity_ = 0;  // records
  std::mutex iter_mu_;
  std::vector<HookState> hooks_;
  std::mutex rb_mu_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<uint64_t> events_{0}, malformed_{0};
};

// The registry's reader of every task's delays over the tracer (ForEachTaskDelay).
containers::SnapshotDelaySource::Reader TaskDelaysReader(std::shared_ptr<ProcTracer> tracer,
                                                         ProcTracer::TaskSource via = ProcTracer::TaskSource::kAny);
// Every process of the host (thread group leaders) from the same records, as pids of the initial
// pid namespace: the registry's lister for /proc of that namespace.
std::function<StatusOr<std::vector<int>>()> ProcessLister(std::shared_ptr<ProcTracer> tracer,
                                                          ProcTracer::TaskSource via = ProcTracer::TaskSource::kAny);

}  // namespace coroot::agent::tracer
