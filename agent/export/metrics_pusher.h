#pragma once
// Push mode: every scrape interval, gathers the registry, encodes a remote-write body (with
// instance, job and up=1 as Coroot's agent adds them), snappy-compresses it into the spool and
// wakes the sender.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "lib/prom/metric.h"
#include "lib/prom/remote_write_sender.h"
#include "lib/prom/spool.h"

namespace coroot::agent {

// Coroot's `instance` label: the machine id, or md5(machine_id + system_uuid without dashes)
// when a system UUID is known and differs from the machine id.
std::string InstanceLabel(const std::string& machine_id, const std::string& system_uuid);

class MetricsPusher {
 public:
  MetricsPusher(const prom::Registry* registry, std::shared_ptr<prom::Spool> spool,
                prom::RemoteWriteSender* sender, std::string instance, std::chrono::milliseconds interval);
  ~MetricsPusher();
  void Start();
  void Stop();
  // One gather → spool cycle (also used by tests and at shutdown).
  Status PushOnce();

 private:
  const prom::Registry* registry_;
  std::shared_ptr<prom::Spool> spool_;
  prom::RemoteWriteSender* sender_;
  std::string instance_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace coroot::agent
