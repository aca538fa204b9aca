#pragma once
// Where a gather gets the figures of the containers' language runtimes: Python's GIL wait and
// Node.js event-loop blocking, per process (the agent's eBPF uprobes, agent/tracer/runtime_probes.h).
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace coroot::agent::containers {

enum class Runtime : uint8_t { kPython, kNodejs };

struct RuntimeProcess {
  int pid = 0;
  uint64_t start_ticks = 0;  // tells a reused pid apart
  Runtime runtime = Runtime::kPython;
};

// Cumulative over the process's life since it was first probed.
struct RuntimeTimes {
  uint64_t python_lock_wait_ns = 0;
  uint64_t nodejs_blocked_ns = 0;
};

class RuntimeSource {
 public:
  virtual ~RuntimeSource() = default;
  // Once per gather, with every Python and Node.js process of the registry: from now on the
  // source probes these (and stops probing the others). Returns the figures of the processes it
  // probes now, by pid.
  virtual std::unordered_map<int, RuntimeTimes> Refresh(const std::vector<RuntimeProcess>& processes) = 0;
};

}  // namespace coroot::agent::containers
