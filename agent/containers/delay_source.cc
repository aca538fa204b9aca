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
  slots_.clear();
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
  // An open-addressing table from tgid to its first task: a probe or two per process instead of
  // a binary search over every task of the host (thousands of look-ups per gather).
  size_t size = 16;
  while (size < tasks_.size() * 2) size *= 2;
  slots_.assign(size, Slot{});
  for (size_t i = 0; i < tasks_.size(); i++) {
    if (i > 0 && tasks_[i].tgid == tasks_[i - 1].tgid) continue;
    size_t h = Hash(tasks_[i].tgid) & (size - 1);
    while (slots_[h].used) h = (h + 1) & (size - 1);
    slots_[h] = {tasks_[i].tgid, static_cast<uint32_t>(i), true};
  }
}

void SnapshotDelaySource::TasksOf(int pid, std::vector<TaskSample>* out) {
  if (slots_.empty()) return;
  const uint32_t tgid = static_cast<uint32_t>(pid);
  const size_t mask = slots_.size() - 1;
  for (size_t h = Hash(tgid) & mask; slots_[h].used; h = (h + 1) & mask) {
    if (slots_[h].tgid != tgid) continue;
    for (size_t i = slots_[h].first; i < tasks_.size() && tasks_[i].tgid == tgid; i++)
      out->push_back({tasks_[i].tid, tasks_[i].delays});
    return;
  }
}

}  // namespace coroot::agent::containers
