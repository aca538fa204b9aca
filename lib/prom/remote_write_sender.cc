#include "lib/prom/remote_write_sender.h"

#include "lib/base/file.h"
#include "lib/base/log.h"

namespace coroot::prom {

RemoteWriteSender::RemoteWriteSender(SenderOptions options, std::shared_ptr<Spool> spool)
    : opts_(std::move(options)), spool_(std::move(spool)) {}

RemoteWriteSender::~RemoteWriteSender() { Stop(); }

void RemoteWriteSender::Start() { thread_ = std::thread([this] { Run(); }); }

void RemoteWriteSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RemoteWriteSender::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

bool RemoteWriteSender::SendOne(const Spool::Entry& e, std::string* error) {
  auto body = ReadFile(e.path);
  if (!body.ok()) {  // unreadable (e.g. removed by hand): drop it, it can never be sent
    *error = body.status().ToString();
    rejected_++;
    (void)spool_->Remove(e);
    return true;
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = opts_.url;
  req.headers = {{"Content-Type", "application/x-protobuf"},
                 {"Content-Encoding", "snappy"},
                 {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                 {"User-Agent", opts_.user_agent}};
  if (!opts_.api_key.empty()) req.headers.push_back({"X-Api-Key", opts_.api_key});
  req.body = std::move(*body);
  auto resp = http::Fetch(req, opts_.client);
  if (!resp.ok()) {
    *error = resp.status().ToString();
    return false;
  }
  if (resp->status / 100 == 2) {
    sent_++;
    (void)spool_->Remove(e);
    return true;
  }
  *error = "HTTP " + std::to_string(resp->status) + ": " + resp->body.substr(0, 200);
  if (resp->status / 100 == 4 && resp->status != 429 && resp->status != 408) {
    rejected_++;
    LOG(WARNING) << "remote write to " << opts_.url << " rejected, dropping " << e.path << ": " << *error;
    (void)spool_->Remove(e);
    return true;
  }
  return false;
}

void RemoteWriteSender::Run() {
  auto backoff = opts_.initial_backoff;
  while (true) {
    std::optional<Spool::Entry> e = spool_->Oldest();
    bool failed = false;
    if (e) {
      std::string error;
      if (SendOne(*e, &error)) {
        backoff = opts_.initial_backoff;
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        continue;
      }
      failures_++;
      failed = true;
      LOG(WARNING) << "remote write to " << opts_.url << " failed (retry in " << backoff.count() << " ms): " << error;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (failed) {
      cv_.wait_for(lock, backoff, [this] { return stop_; });
      backoff = std::min(backoff * 2, opts_.max_backoff);
    } else {
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || notified_; });
      notified_ = false;
    }
    if (stop_) return;
  }
}

void RemoteWriteSender::Collect(std::vector<MetricFamily>* out) {
  MetricFamily sent("coroot_remote_write_sent_total", MetricType::kCounter, "Remote-write bodies delivered");
  sent.Add({}, static_cast<double>(sent_.load()));
  MetricFamily failed("coroot_remote_write_failures_total", MetricType::kCounter,
                      "Remote-write attempts that failed and will be retried");
  failed.Add({}, static_cast<double>(failures_.load()));
  MetricFamily dropped("coroot_remote_write_dropped_total", MetricType::kCounter,
                       "Remote-write bodies dropped unsent, by reason");
  dropped.Add({{"reason", "rejected"}}, static_cast<double>(rejected_.load()));
  dropped.Add({{"reason", "spool_full"}}, static_cast<double>(spool_->dropped_files()));
  MetricFamily bytes("coroot_remote_write_spool_bytes", MetricType::kGauge, "Bytes waiting in the spool");
  bytes.Add({}, static_cast<double>(spool_->total_bytes()));
  out->push_back(std::move(sent));
  out->push_back(std::move(failed));
  out->push_back(std::move(dropped));
  out->push_back(std::move(bytes));
}

}  // namespace coroot::prom
