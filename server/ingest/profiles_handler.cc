#include "server/ingest/profiles_handler.h"

#include <algorithm>
#include <map>

#include "lib/base/strings.h"
#include "lib/compress/compress.h"

namespace coroot::server {

void ProfilesHandler::Handle(const http::Request& req, http::Response* resp) {
  auto fail = [&](int code, const std::string& msg, std::atomic<uint64_t>* counter) {
    (*counter)++;
    *resp = http::Response::Text(code, msg + "\n");
    if (code == 429 || code == 503) resp->SetHeader("Retry-After", std::to_string(opt_.retry_after_seconds));
  };
  auto project = projects_->FindByApiKey(req.Header("X-Api-Key"));
  if (!project.ok()) return fail(404, project.status().message(), &unknown_key_);

  // Query-string labels: single-valued parameters only.
  std::map<std::string, std::vector<std::string>> params;
  for (auto& [k, v] : req.QueryParams()) params[k].push_back(v);
  std::string service;
  pprof::Labels labels;  // sorted by key (std::map order)
  for (auto& [k, vs] : params) {
    if (vs.size() != 1) continue;
    if (k == "service.name") {
      service = vs[0];
    } else {
      labels.emplace_back(k, vs[0]);
    }
  }
  if (service.empty()) return fail(400, "service.name is empty", &invalid_);

  std::string_view body = req.body;
  StatusOr<std::string> decoded = std::string();
  std::string encoding = ToLower(Trim(req.Header("Content-Encoding")));
  if (!encoding.empty() && encoding != "identity" && encoding != "gzip") {
    // gzip is detected by its magic bytes (agents send gzipped pprof without the header).
    decoded = compress::DecodeContentEncoding(encoding, req.body, opt_.limits.max_decompressed_bytes);
    if (!decoded.ok()) {
      bool big = decoded.status().code() == StatusCode::kResourceExhausted;
      return fail(big ? 413 : 400, decoded.status().message(), big ? &too_large_ : &invalid_);
    }
    body = *decoded;
  }
  storage::ProfileBatch batch;
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  auto res = pprof::Decode(body, service, labels, opt_.limits, now, &batch);
  if (!res.ok()) {
    bool big = res.status().code() == StatusCode::kResourceExhausted;
    return fail(big ? 413 : 400, res.status().message(), big ? &too_large_ : &invalid_);
  }
  Status st = writer_->AddProfiles(opt_.database_of(*project), &batch);
  if (!st.ok()) {
    bool full = st.code() == StatusCode::kResourceExhausted;
    return fail(full ? 429 : 503, st.message(), full ? &backpressure_ : &storage_error_);
  }
  accepted_++;
  rows_ += res->rows;
  *resp = http::Response::Text(200, "");
}

void ProfilesHandler::Collect(std::vector<prom::MetricFamily>* out) {
  prom::MetricFamily req("coroot_ingest_profiles_requests_total", prom::MetricType::kCounter,
                         "Profiles posted on /v1/profiles, by outcome");
  req.Add({{"outcome", "accepted"}}, static_cast<double>(accepted_.load()));
  req.Add({{"outcome", "unknown_api_key"}}, static_cast<double>(unknown_key_.load()));
  req.Add({{"outcome", "invalid"}}, static_cast<double>(invalid_.load()));
  req.Add({{"outcome", "too_large"}}, static_cast<double>(too_large_.load()));
  req.Add({{"outcome", "backpressure"}}, static_cast<double>(backpressure_.load()));
  req.Add({{"outcome", "storage_error"}}, static_cast<double>(storage_error_.load()));
  out->push_back(std::move(req));
  prom::MetricFamily rows("coroot_ingest_profile_samples_total", prom::MetricType::kCounter,
                          "profiling_samples rows accepted from /v1/profiles");
  rows.Add({}, static_cast<double>(rows_.load()));
  out->push_back(std::move(rows));
}

}  // namespace coroot::server
