#pragma once
// node_cloud_info (spec §1.a): the cloud metadata of this node, fetched once in the background so
// the agent's start never waits for it, with the --provider/--region/--availability-zone/
// --instance-type/--instance-life-cycle overrides (§1.g) applied on top.
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/node/cloud/cloud_metadata.h"
#include "lib/prom/metric.h"

namespace coroot::agent::node::cloud {

struct CloudInfoOptions {
  std::string sys_root = "/sys";  // DMI files are read from <sys_root>/class/dmi/id/
  FetchOptions fetch;
  // Flag values; a non-empty one replaces what the metadata says. Only provider, region,
  // availability_zone, instance_type and instance_life_cycle are flags.
  CloudMetadata overrides;
};

// m with every non-empty field of overrides put in its place.
CloudMetadata ApplyOverrides(CloudMetadata m, const CloudMetadata& overrides);
bool IsEmpty(const CloudMetadata& m);
// node_cloud_info{provider, account_id, instance_id, instance_type, instance_life_cycle, region,
// availability_zone, availability_zone_id, local_ipv4, public_ipv4} 1.
void AppendCloudInfo(const CloudMetadata& m, std::vector<prom::MetricFamily>* out);

class CloudInfoCollector : public prom::ICollector {
 public:
  explicit CloudInfoCollector(CloudInfoOptions options);
  ~CloudInfoCollector() override;  // waits for the fetch (bounded by its timeouts)

  // Starts the background detection and fetch; returns at once.
  void Start();
  // Exports node_cloud_info once the fetch has finished (metadata and/or overrides); nothing
  // before that, and nothing when neither metadata nor overrides say anything.
  void Collect(std::vector<prom::MetricFamily>* out) override;

  bool done() const { return done_.load(); }
  // What node_cloud_info carries; nullopt until done or when there is nothing to say.
  std::optional<CloudMetadata> Get() const;

 private:
  void Run();

  CloudInfoOptions options_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::optional<CloudMetadata> info_;
};

}  // namespace coroot::agent::node::cloud
