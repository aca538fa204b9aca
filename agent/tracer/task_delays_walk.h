#pragma once
// TaskDelaysWalk: every task's CPU and block-I/O delays from one run of the syscall program of
// bpf/task_delays.bpf.c (BPF_PROG_RUN), read in place from its mmapped output array. It loads only
// that program and map of the agent's BPF object (its own instance). Cheaper per task than the
// iter/task program of ProcTracer, which stays the fallback (older kernels, hosts with more tasks
// than the array holds).
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

#include "agent/containers/delay_source.h"
#include "lib/base/status.h"
#include "proc_abi.h"

struct coroot_bpf;

namespace coroot::agent::tracer {

class ProcTracer;

class TaskDelaysWalk {
 public:
  // Unavailable when the kernel lacks the open-coded task iterator or BPF_PROG_RUN of syscall
  // programs (the caller keeps the iter/task reader).
  static StatusOr<std::unique_ptr<TaskDelaysWalk>> Start();
  ~TaskDelaysWalk();
  TaskDelaysWalk(const TaskDelaysWalk&) = delete;
  TaskDelaysWalk& operator=(const TaskDelaysWalk&) = delete;

  // fn(record) for every task now. ResourceExhausted when the host has more tasks than the
  // output array holds (COROOT_TASK_DELAYS_MAX): fn has then not been called.
  Status ForEach(const std::function<void(const coroot_task_delay&)>& fn);
  // Runs of the program so far.
  size_t runs() const { return runs_; }

 private:
  TaskDelaysWalk() = default;
  coroot_bpf* skel_ = nullptr;
  const coroot_task_delay* records_ = nullptr;  // the output map, mmapped read-only
  size_t mapped_bytes_ = 0;
  size_t runs_ = 0;
  std::mutex mu_;
};

// The registry's reader of task delays: the walk, and for a run that does not fit in its array,
// the tracer's task iterator (tracer may be null: then that run fails).
containers::SnapshotDelaySource::Reader TaskDelaysWalkReader(std::shared_ptr<TaskDelaysWalk> walk,
                                                             std::shared_ptr<ProcTracer> tracer);

// The registry's process lister over the walk (the tasks that lead their thread group), with the
// tracer's (ProcessLister) for a run that does not fit. Pids are those of the initial namespace.
std::function<StatusOr<std::vector<int>>()> TaskWalkProcessLister(std::shared_ptr<TaskDelaysWalk> walk,
                                                                  std::shared_ptr<ProcTracer> tracer);

}  // namespace coroot::agent::tracer
