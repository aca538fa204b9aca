#pragma once
// SpaceManager keeps ClickHouse's local disks under a usage threshold, as Coroot's does (spec §3.2):
// every interval (1 h), for each local disk (system.disks, type Local) used above the threshold
// (70 %), it drops the oldest partition (one day, PARTITION BY toDate) of every otel_* and
// profiling_* table with parts on that disk, in the project databases, keeping at least
// min_partitions (1) per table. One partition per table per pass: the next pass re-reads the
// usage. Flags: --disable-clickhouse-space-manager, --clickhouse-space-manager-usage-threshold,
// --clickhouse-space-manager-min-partitions.
// On a cluster (cluster.h) it watches the disks of the node it talks to, as Coroot's does; a drop
// from a replicated table reaches that shard's other replicas, other shards are not looked at.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"
#include "lib/prom/metric.h"

namespace coroot::server::storage {

struct SpaceManagerOptions {
  double usage_threshold_percent = 70;
  int64_t min_partitions = 1;
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  // The databases it may drop from (the projects' databases), asked on every pass.
  std::function<std::vector<std::string>()> databases;
};

class SpaceManager : public prom::ICollector {
 public:
  SpaceManager(clickhouse::IClickHouseClient* client, SpaceManagerOptions options)
      : client_(client), opt_(std::move(options)) {}
  ~SpaceManager() override { Stop(); }

  // One pass; returns what it dropped as "database.table partition_id".
  StatusOr<std::vector<std::string>> RunOnce();

  // A pass now and then every interval, on a thread of its own, until Stop().
  void Start();
  void Stop();

  void Collect(std::vector<prom::MetricFamily>* out) override;

 private:
  clickhouse::IClickHouseClient* client_;
  SpaceManagerOptions opt_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<uint64_t> dropped_{0}, failures_{0};
};

}  // namespace coroot::server::storage
