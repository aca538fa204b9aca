#include "agent/export/metrics_pusher.h"

#include <openssl/evp.h>

#include <chrono>

#include "lib/base/log.h"
#include "lib/base/strings.h"
#include "lib/compress/compress.h"
#include "lib/prom/remote_write.h"

namespace coroot::agent {

std::string InstanceLabel(const std::string& machine_id, const std::string& system_uuid) {
  std::string uuid;
  for (char c : system_uuid)
    if (c != '-') uuid.push_back(c);
  if (uuid.empty() || ToLower(uuid) == ToLower(machine_id)) return machine_id;
  std::string input = machine_id + uuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_md5(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<char*>(digest), len));
}

MetricsPusher::MetricsPusher(const prom::Registry* registry, std::shared_ptr<prom::Spool> spool,
                             prom::RemoteWriteSender* sender, std::string instance,
                             std::chrono::milliseconds interval)
    : registry_(registry), spool_(std::move(spool)), sender_(sender), instance_(std::move(instance)),
      interval_(interval) {}

MetricsPusher::~MetricsPusher() { Stop(); }

Status MetricsPusher::PushOnce() {
  prom::Gathered g = registry_->GatherApart();
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  // instance and job on every series (the server keys `up` by them); the constant labels on the
  // collectors' series, not on `up`.
  const prom::Labels job = {{"instance", instance_}, {"job", "coroot-node-agent"}};
  prom::Labels extra = job;
  extra.insert(extra.end(), g.const_labels.begin(), g.const_labels.end());
  auto req = prom::FromFamilies(g.families, now_ms, extra);
  prom::MetricFamily up("up", prom::MetricType::kGauge, "1 when the agent is running");
  up.Add({}, 1);
  prom::WriteRequest up_req = prom::FromFamilies({up}, now_ms, job);
  req.metadata.insert(req.metadata.end(), up_req.metadata.begin(), up_req.metadata.end());
  req.series.insert(req.series.end(), up_req.series.begin(), up_req.series.end());
  RETURN_IF_ERROR(spool_->Put(compress::SnappyCompress(prom::Encode(req)), now_ms));
  if (sender_) sender_->Notify();
  return Status::Ok();
}

void MetricsPusher::Start() {
  thread_ = std::thread([this] {
    while (true) {
      if (auto st = PushOnce(); !st.ok()) LOG(WARNING) << "spooling metrics: " << st.ToString();
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, interval_, [this] { return stop_; })) return;
    }
  });
}

void MetricsPusher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace coroot::agent
