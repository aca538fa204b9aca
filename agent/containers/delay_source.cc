#include "agent/containers/delay_source.h"

#include <algorithm>

#include "lib/base/log.h"

namespace coroot::agent::containers {

void NetlinkDelaySource::TasksOf(int pid, std::vector<TaskSample>* out) {
  StatusOr<TaskDelays> d = client_->Tgid(pid);
  if (d.ok()) out->push_back({static_cast<uint64_t>(pid), *d});
}

void SnapshotDelaySource::Refresh() {
  tasks_.clear();
  StatusOr<std::vector<ThreadDelays>> tasks = reader_();
  if (!tasks.ok()) {
    if (!warned_) {
      LOG(WARNING) << "container delays: " << tasks.status().ToString();
    }
    warned_ = true;
    return;
  }
  tasks_ = std::move(tasks).value();
  auto by_tgid = [](const ThreadDelays& a, const ThreadDelays& b) { return a.tgid < b.tgid; };
  if (!std::is_sorted(tasks_.begin(), tasks_.end(), by_tgid)) std::sort(tasks_.begin(), tasks_.end(), by_tgid);
}

void SnapshotDelaySource::TasksOf(int pid, std::vector<TaskSample>* out) {
  ThreadDelays key;
  key.tgid = static_cast<uint32_t>(pid);
  auto [first, last] = std::equal_range(tasks_.begin(), tasks_.end(), key,
                                        [](const ThreadDelays& a, const ThreadDelays& b) { return a.tgid < b.tgid; });
  for (auto it = first; it != last; ++it) out->push_back({it->tid, it->delays});
}

}  // namespace coroot::agent::containers
