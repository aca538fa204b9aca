#pragma once
// A container's runtime counters (container_python_thread_lock_wait_time_seconds,
// container_nodejs_event_loop_blocked_time_seconds_total) from its processes' figures.
#include <map>
#include <utility>
#include <vector>

#include "agent/containers/runtime_source.h"

namespace coroot::agent::containers {

// The kernel keeps figures per live process, so their plain sum would fall when a process exits.
// As for delays (delay_counter.h), the growth of each process since the last update is added to
// a running total: a process seen for the first time adds all it has, one whose figures went
// down counts from zero. What a process gains between the last gather and its exit is lost.
class RuntimeCounter {
 public:
  struct Sample {
    RuntimeProcess process;
    RuntimeTimes times;
  };
  // The container's probed processes now; the others are forgotten.
  void Update(const std::vector<Sample>& samples) {
    std::map<std::pair<int, uint64_t>, RuntimeTimes> now;
    for (const Sample& s : samples) {
      auto key = std::make_pair(s.process.pid, s.process.start_ticks);
      RuntimeTimes prev;
      if (auto it = last_.find(key); it != last_.end() &&
                                     it->second.python_lock_wait_ns <= s.times.python_lock_wait_ns &&
                                     it->second.nodejs_blocked_ns <= s.times.nodejs_blocked_ns)
        prev = it->second;
      total_.python_lock_wait_ns += s.times.python_lock_wait_ns - prev.python_lock_wait_ns;
      total_.nodejs_blocked_ns += s.times.nodejs_blocked_ns - prev.nodejs_blocked_ns;
      (s.process.runtime == Runtime::kPython ? python_ : nodejs_) = true;
      now[key] = s.times;
    }
    last_ = std::move(now);
  }
  const RuntimeTimes& total() const { return total_; }
  // Whether a process of that runtime was ever probed in the container (its metric is reported).
  bool python() const { return python_; }
  bool nodejs() const { return nodejs_; }

 private:
  std::map<std::pair<int, uint64_t>, RuntimeTimes> last_;
  RuntimeTimes total_;
  bool python_ = false, nodejs_ = false;
};

}  // namespace coroot::agent::containers
