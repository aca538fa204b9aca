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

struct coroot_bpf;
struct ring_buffer;
struct bpf_link;

namespace coroot::agent::tracer {

struct ProcTracerOptions {
  std::chrono::milliseconds poll_timeout{200};  // Stop() latency; events wake the reader at once
  std::string tracefs;                          // "" = detect
  bool oom_hook = true;                         // false: count OOM kills from cgroup files only
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
  // Every task's CPU and block-I/O delays now, from the iter/task program (one read() for the
  // whole host). Unavailable when the iterator did not load.
  StatusOr<std::vector<coroot_task_delay>> ReadTaskDelays();
  Status ForEachTaskDelay(const std::function<void(const coroot_task_delay&)>& fn);

 private:
  ProcTracer() = default;
  Status Init(const ProcTracerOptions& options);
  Status Load(const std::string& tracefs, const ProcTracerOptions& options, bool with_task_iter);
  Status Attach();
  bool hook_attached(const std::string& program) const;
  void Run();
  static int OnSample(void* ctx, void* data, size_t size);

  ProcTracerOptions options_;
  EventHandler handler_;
  coroot_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::vector<bpf_link*> links_;
  bpf_link* task_iter_link_ = nullptr;  // one of links_
  std::mutex iter_mu_;
  std::vector<HookState> hooks_;
  std::mutex rb_mu_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<uint64_t> events_{0}, malformed_{0};
};

// The registry's reader of every task's delays over the tracer's task iterator.
containers::SnapshotDelaySource::Reader TaskDelaysReader(std::shared_ptr<ProcTracer> tracer);
// Every process of the host (thread group leaders) over the same iterator, as pids of the initial
// pid namespace: the registry's lister for /proc of that namespace.
std::function<StatusOr<std::vector<int>>()> ProcessLister(std::shared_ptr<ProcTracer> tracer);

}  // namespace coroot::agent::tracer
