#pragma once
// A container's delay counters from its tasks' figures.
#include <unordered_map>
#include <vector>

#include "agent/containers/delay_source.h"

namespace coroot::agent::containers {

// The kernel's delays are per live task, so their plain sum would fall whenever a task exits and
// Prometheus would read a counter reset. Instead the growth of every task since the last update
// is added to a running total: a task seen for the first time adds all it has (its whole life was
// in this container), a task whose figures went down is a reused id and counts from zero.
class DelayCounter {
 public:
  // tasks: the container's tasks now. Tasks not in the list are forgotten.
  void Update(const std::vector<TaskSample>& tasks) {
    std::unordered_map<uint64_t, TaskDelays> now;
    now.reserve(tasks.size());
    for (const TaskSample& t : tasks) {
      TaskDelays prev;
      if (auto it = last_.find(t.key); it != last_.end() && it->second.cpu_delay_ns <= t.delays.cpu_delay_ns &&
                                       it->second.blkio_delay_ns <= t.delays.blkio_delay_ns)
        prev = it->second;
      if (!rebase_) {
        total_.cpu_delay_ns += t.delays.cpu_delay_ns - prev.cpu_delay_ns;
        total_.blkio_delay_ns += t.delays.blkio_delay_ns - prev.blkio_delay_ns;
      }
      now[t.key] = t.delays;
    }
    last_ = std::move(now);
    rebase_ = false;
    updated_ = true;
  }
  // The source changed (its keys mean something else): the next update only takes baselines,
  // unless nothing was counted yet (then the new source's first sight counts, as for a new task).
  void Rebase() {
    last_.clear();
    rebase_ = updated_;
  }
  const TaskDelays& total() const { return total_; }

 private:
  std::unordered_map<uint64_t, TaskDelays> last_;
  TaskDelays total_;
  bool rebase_ = false;
  bool updated_ = false;
};

}  // namespace coroot::agent::containers
