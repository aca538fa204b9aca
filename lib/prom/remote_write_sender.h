#pragma once
// Sends spooled remote-write bodies, oldest first, to one endpoint. 2xx removes the file; network
// errors, 5xx and 429 back off exponentially (initial → max) and retry the same file; any other
// 4xx means the receiver will never take it, so it is dropped and counted instead of blocking
// everything behind it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lib/http/client.h"
#include "lib/prom/metric.h"
#include "lib/prom/spool.h"

namespace coroot::prom {

struct SenderOptions {
  std::string url;  // e.g. http://coroot:8080/v1/metrics
  std::string api_key;
  std::string user_agent = "coroot-node-agent";
  std::chrono::milliseconds initial_backoff{5000};
  std::chrono::milliseconds max_backoff{60000};
  http::ClientOptions client;
};

class RemoteWriteSender : public ICollector {
 public:
  RemoteWriteSender(SenderOptions options, std::shared_ptr<Spool> spool);
  ~RemoteWriteSender() override;

  void Start();
  void Stop();
  // Wakes the sender (after a new file is spooled) so it does not wait out an idle poll.
  void Notify();

  uint64_t sent() const { return sent_.load(); }
  uint64_t failures() const { return failures_.load(); }
  uint64_t rejected() const { return rejected_.load(); }

  // Self-metrics: sent/failed/dropped counts and the spool's size.
  void Collect(std::vector<MetricFamily>* out) override;

 private:
  void Run();
  // Returns true when the file left the spool (sent or rejected).
  bool SendOne(const Spool::Entry& e, std::string* error);

  SenderOptions opts_;
  std::shared_ptr<Spool> spool_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool notified_ = false;
  std::atomic<uint64_t> sent_{0}, failures_{0}, rejected_{0};
};

}  // namespace coroot::prom
