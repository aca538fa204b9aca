#include "agent/node/cloud/cloud_info.h"

#include <utility>

#include "lib/base/log.h"

namespace coroot::agent::node::cloud {

CloudMetadata ApplyOverrides(CloudMetadata m, const CloudMetadata& o) {
  auto set = [](std::string* field, const std::string& v) {
    if (!v.empty()) *field = v;
  };
  set(&m.provider, o.provider);
  set(&m.account_id, o.account_id);
  set(&m.instance_id, o.instance_id);
  set(&m.instance_type, o.instance_type);
  set(&m.instance_life_cycle, o.instance_life_cycle);
  set(&m.region, o.region);
  set(&m.availability_zone, o.availability_zone);
  set(&m.availability_zone_id, o.availability_zone_id);
  set(&m.local_ipv4, o.local_ipv4);
  set(&m.public_ipv4, o.public_ipv4);
  return m;
}

bool IsEmpty(const CloudMetadata& m) { return m == CloudMetadata{}; }

void AppendCloudInfo(const CloudMetadata& m, std::vector<prom::MetricFamily>* out) {
  prom::MetricFamily f("node_cloud_info", prom::MetricType::kGauge,
                       "Cloud provider, account, instance and placement of the node (value is always 1)");
  f.Add({{"provider", m.provider},
         {"account_id", m.account_id},
         {"instance_id", m.instance_id},
         {"instance_type", m.instance_type},
         {"instance_life_cycle", m.instance_life_cycle},
         {"region", m.region},
         {"availability_zone", m.availability_zone},
         {"availability_zone_id", m.availability_zone_id},
         {"local_ipv4", m.local_ipv4},
         {"public_ipv4", m.public_ipv4}},
        1);
  out->push_back(std::move(f));
}

CloudInfoCollector::CloudInfoCollector(CloudInfoOptions options) : options_(std::move(options)) {}

CloudInfoCollector::~CloudInfoCollector() {
  if (thread_.joinable()) thread_.join();
}

void CloudInfoCollector::Start() {
  if (thread_.joinable() || done_) return;
  thread_ = std::thread([this] { Run(); });
}

void CloudInfoCollector::Run() {
  CloudMetadata m;
  std::string provider = DetectProvider(ReadDmi(options_.sys_root));
  if (provider.empty()) {
    LOG(INFO) << "cloud metadata: no cloud provider recognised from DMI (" << options_.sys_root
              << "/class/dmi/id); node_cloud_info carries only the flag overrides, if any";
  } else {
    StatusOr<CloudMetadata> fetched = FetchMetadata(provider, options_.fetch);
    if (fetched.ok()) {
      m = std::move(fetched).value();
      LOG(INFO) << "cloud metadata: provider=" << m.provider << " instance_id=" << m.instance_id
                << " region=" << m.region << " availability_zone=" << m.availability_zone;
    } else {
      LOG(WARNING) << "cloud metadata: " << fetched.status().ToString()
                   << "; node_cloud_info carries only the flag overrides, if any";
    }
  }
  m = ApplyOverrides(std::move(m), options_.overrides);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!IsEmpty(m)) info_ = std::move(m);
  }
  done_ = true;
}

std::optional<CloudMetadata> CloudInfoCollector::Get() const {
  if (!done_) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  return info_;
}

void CloudInfoCollector::Collect(std::vector<prom::MetricFamily>* out) {
  if (std::optional<CloudMetadata> m = Get()) AppendCloudInfo(*m, out);
}

}  // namespace coroot::agent::node::cloud
