#include "agent/containers/delay_source.h"

#include "lib/base/log.h"

namespace coroot::agent::containers {

void NetlinkDelaySource::TasksOf(int pid, std::vector<TaskSample>* out) {
  StatusOr<TaskDelays> d = client_->Tgid(pid);
  if (d.ok()) out->push_back({static_cast<uint64_t>(pid), *d});
}

void SnapshotDelaySource::Refresh() {
  by_tgid_.clear();
  StatusOr<std::vector<ThreadDelays>> tasks = reader_();
  if (!tasks.ok()) {
    if (!warned_) {
      LOG(WARNING) << "container delays: " << tasks.status().ToString();
    }
    warned_ = true;
    return;
  }
  for (const ThreadDelays& t : *tasks) by_tgid_[t.tgid].push_back({t.tid, t.delays});
}

void SnapshotDelaySource::TasksOf(int pid, std::vector<TaskSample>* out) {
  auto it = by_tgid_.find(static_cast<uint32_t>(pid));
  if (it != by_tgid_.end()) out->insert(out->end(), it->second.begin(), it->second.end());
}

}  // namespace coroot::agent::containers
