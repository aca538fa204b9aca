#pragma once
// POST /v1/profiles (spec §1.f, §3.1): a pprof profile (gzip-compressed or raw; Content-Encoding
// gzip also accepted) with labels in the query string.
//   X-Api-Key → project (unknown key: 404 "project not found");
//   service.name required (400 without it); every other single-valued query parameter becomes a
//   label (multi-valued ones are ignored, as in Coroot);
//   malformed pprof: 400 with the reason; decompressed past the limit: 413;
//   ingestion buffer full: 429 with Retry-After; success: 200 with an empty body.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "lib/http/message.h"
#include "lib/prom/metric.h"
#include "server/ingest/pprof/pprof.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_writer.h"

namespace coroot::server {

struct ProfilesHandlerOptions {
  pprof::Limits limits;
  int retry_after_seconds = 5;
  std::function<std::string(const Project&)> database_of;
};

class ProfilesHandler : public prom::ICollector {
 public:
  ProfilesHandler(ProjectStore* projects, storage::OtelWriter* writer, ProfilesHandlerOptions options)
      : projects_(projects), writer_(writer), opt_(std::move(options)) {}

  void Handle(const http::Request& req, http::Response* resp);
  void Collect(std::vector<prom::MetricFamily>* out) override;

 private:
  ProjectStore* projects_;
  storage::OtelWriter* writer_;
  ProfilesHandlerOptions opt_;
  std::atomic<uint64_t> accepted_{0}, rows_{0}, unknown_key_{0}, invalid_{0}, too_large_{0}, backpressure_{0},
      storage_error_{0};
};

}  // namespace coroot::server
