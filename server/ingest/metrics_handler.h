#pragma once
// POST /v1/metrics: remote write from agents. Authenticates the API key, validates the body
// (snappy, protobuf, bounds) and forwards it to the project's TSDB.
#include <atomic>

#include "lib/http/message.h"
#include "lib/prom/metric.h"
#include "server/projects/project_store.h"
#include "server/storage/prom/remote_write_forwarder.h"

namespace coroot::server {

class MetricsHandler : public prom::ICollector {
 public:
  MetricsHandler(ProjectStore* projects, RemoteWriteForwarder* forwarder, size_t max_decoded_bytes)
      : projects_(projects), forwarder_(forwarder), max_decoded_(max_decoded_bytes) {}

  void Handle(const http::Request& req, http::Response* resp);
  void Collect(std::vector<prom::MetricFamily>* out) override;

 private:
  ProjectStore* projects_;
  RemoteWriteForwarder* forwarder_;
  size_t max_decoded_;
  std::atomic<uint64_t> accepted_{0}, series_{0}, rejected_auth_{0}, rejected_invalid_{0}, failed_forward_{0};
};

}  // namespace coroot::server
