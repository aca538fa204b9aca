#pragma once
// Where a gather gets the delays of a container's processes: netlink taskstats (one request per
// process) or a snapshot of every task on the host (the eBPF task iterator: one read per gather).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "agent/containers/taskstats.h"

namespace coroot::agent::containers {

// One task's figures. key tells tasks apart within a source (a pid or a thread id).
struct TaskSample {
  uint64_t key = 0;
  TaskDelays delays;
};

class DelaySource {
 public:
  virtual ~DelaySource() = default;
  // Called once per gather, before any TasksOf().
  virtual void Refresh() {}
  // Appends the samples of pid's thread group; nothing when it is gone.
  virtual void TasksOf(int pid, std::vector<TaskSample>* out) = 0;
};

// TASKSTATS_CMD_GET per process: the kernel sums the thread group, exited threads included.
class NetlinkDelaySource : public DelaySource {
 public:
  explicit NetlinkDelaySource(std::unique_ptr<TaskstatsClient> client) : client_(std::move(client)) {}
  void TasksOf(int pid, std::vector<TaskSample>* out) override;

 private:
  std::unique_ptr<TaskstatsClient> client_;
};

// Per-thread figures of every task, read once per gather.
struct ThreadDelays {
  uint32_t tid = 0, tgid = 0;
  TaskDelays delays;
};
class SnapshotDelaySource : public DelaySource {
 public:
  using Reader = std::function<StatusOr<std::vector<ThreadDelays>>()>;
  explicit SnapshotDelaySource(Reader reader) : reader_(std::move(reader)) {}
  void Refresh() override;
  void TasksOf(int pid, std::vector<TaskSample>* out) override;

 private:
  Reader reader_;
  // This gather's tasks sorted by tgid: one vector reused across gathers rather than a map of
  // per-process vectors rebuilt each time (thousands of allocations per gather).
  std::vector<ThreadDelays> tasks_;
  struct Slot {
    uint32_t tgid = 0, first = 0;  // first: tgid's first index in tasks_
    bool used = false;
  };
  static size_t Hash(uint32_t tgid) { return (tgid * 0x9E3779B1u) >> 7; }
  std::vector<Slot> slots_;  // open addressing, a power of two at least twice tasks_'s processes
  bool warned_ = false;
};

}  // namespace coroot::agent::containers
