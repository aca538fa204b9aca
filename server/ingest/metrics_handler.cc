#include "server/ingest/metrics_handler.h"

#include "lib/base/strings.h"
#include "lib/compress/compress.h"
#include "lib/prom/remote_write.h"

namespace coroot::server {

void MetricsHandler::Handle(const http::Request& req, http::Response* resp) {
  auto project = projects_->FindByApiKey(req.Header("X-Api-Key"));
  if (!project.ok()) {
    rejected_auth_++;
    *resp = http::Response::Text(404, project.status().message());
    return;
  }
  std::string url = project->EffectiveRemoteWriteUrl();
  if (url.empty()) {
    failed_forward_++;
    *resp = http::Response::Text(503, "project '" + project->name + "' has no Prometheus configured");
    return;
  }
  std::string encoding = ToLower(Trim(req.Header("Content-Encoding")));
  if (!encoding.empty() && encoding != "snappy") {
    rejected_invalid_++;
    *resp = http::Response::Text(415, "remote write needs Content-Encoding: snappy, got " + encoding);
    return;
  }
  auto raw = compress::SnappyDecompress(req.body, max_decoded_);
  if (!raw.ok()) {
    rejected_invalid_++;
    int code = raw.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
    *resp = http::Response::Text(code, raw.status().message());
    return;
  }
  auto decoded = prom::Decode(*raw);
  if (!decoded.ok()) {
    rejected_invalid_++;
    int code = decoded.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
    *resp = http::Response::Text(code, decoded.status().message());
    return;
  }
  *resp = forwarder_->Forward(url, req);
  if (resp->status / 100 == 2) {
    accepted_++;
    series_ += decoded->series.size();
  } else {
    failed_forward_++;
  }
}

void MetricsHandler::Collect(std::vector<prom::MetricFamily>* out) {
  prom::MetricFamily req("coroot_ingest_metrics_requests_total", prom::MetricType::kCounter,
                         "Remote-write requests received on /v1/metrics, by outcome");
  req.Add({{"outcome", "accepted"}}, static_cast<double>(accepted_.load()));
  req.Add({{"outcome", "unknown_api_key"}}, static_cast<double>(rejected_auth_.load()));
  req.Add({{"outcome", "invalid"}}, static_cast<double>(rejected_invalid_.load()));
  req.Add({{"outcome", "storage_error"}}, static_cast<double>(failed_forward_.load()));
  prom::MetricFamily series("coroot_ingest_metrics_series_total", prom::MetricType::kCounter,
                            "Series forwarded to the metrics storage");
  series.Add({}, static_cast<double>(series_.load()));
  out->push_back(std::move(req));
  out->push_back(std::move(series));
}

}  // namespace coroot::server
