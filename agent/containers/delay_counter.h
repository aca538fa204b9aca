#pragma once
// A container's delay counters from its tasks' figures.
#include <algorithm>
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
    // Both lists sorted by key and merged: no map nodes per task per gather (this runs for every
    // container at every gather), and the two vectors are reused.
    now_.assign(tasks.begin(), tasks.end());
    auto by_key = [](const TaskSample& a, const TaskSample& b) { return a.key < b.key; };
    if (!std::is_sorted(now_.begin(), now_.end(), by_key)) std::sort(now_.begin(), now_.end(), by_key);
    auto prev = last_.begin();
    for (const TaskSample& t : now_) {
      while (prev != last_.end() && prev->key < t.key) ++prev;
      TaskDelays base;
      if (prev != last_.end() && prev->key == t.key && prev->delays.cpu_delay_ns <= t.delays.cpu_delay_ns &&
          prev->delays.blkio_delay_ns <= t.delays.blkio_delay_ns)
        base = prev->delays;
      if (!rebase_) {
        total_.cpu_delay_ns += t.delays.cpu_delay_ns - base.cpu_delay_ns;
        total_.blkio_delay_ns += t.delays.blkio_delay_ns - base.blkio_delay_ns;
      }
    }
    last_.swap(now_);
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
  std::vector<TaskSample> last_;  // sorted by key
  std::vector<TaskSample> now_;   // scratch, kept for its capacity
  TaskDelays total_;
  bool rebase_ = false;
  bool updated_ = false;
};

}  // namespace coroot::agent::containers
