#include "lib/prom/remote_write_sender.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "lib/http/server.h"

namespace coroot::prom {
namespace {

using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

struct Receiver {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<std::string> keys;
  std::atomic<int> status{204};
  http::Server server{{}};
  Receiver() {
    server.Handle("POST", "/v1/metrics", [this](const http::Request& req, http::Response* resp) {
      resp->status = status.load();
      if (resp->status / 100 == 2) {
        std::lock_guard<std::mutex> lock(mu);
        bodies.push_back(req.body);
        keys.push_back(req.Header("X-Api-Key") + "|" + req.Header("Content-Encoding") + "|" +
                       req.Header("X-Prometheus-Remote-Write-Version"));
      }
    });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return bodies.size();
  }
};

std::string TempDir() {
  std::string d = std::filesystem::temp_directory_path() / ("sender_test_" + std::to_string(::getpid()) + "_" +
                                                            std::to_string(rand()));
  std::filesystem::remove_all(d);
  return d;
}

TEST(Sender, DeliversInOrderWithHeaders) {
  Receiver rx;
  ASSERT_TRUE(rx.server.Start().ok());
  auto spool = std::make_shared<Spool>(TempDir(), 1 << 20);
  ASSERT_TRUE(spool->Open().ok());
  for (int i = 0; i < 3; i++) ASSERT_TRUE(spool->Put("body" + std::to_string(i), 1000 + i).ok());
  SenderOptions opts;
  opts.url = "http://127.0.0.1:" + std::to_string(rx.server.port()) + "/v1/metrics";
  opts.api_key = "k1";
  RemoteWriteSender sender(opts, spool);
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return rx.count() == 3; }));
  EXPECT_EQ(rx.bodies, (std::vector<std::string>{"body0", "body1", "body2"}));
  EXPECT_EQ(rx.keys[0], "k1|snappy|0.1.0");
  EXPECT_TRUE(WaitFor([&] { return spool->files() == 0; }));
}

TEST(Sender, RetriesThroughOutageWithoutLoss) {
  Receiver rx;
  rx.status = 503;
  ASSERT_TRUE(rx.server.Start().ok());
  auto spool = std::make_shared<Spool>(TempDir(), 1 << 20);
  ASSERT_TRUE(spool->Open().ok());
  SenderOptions opts;
  opts.url = "http://127.0.0.1:" + std::to_string(rx.server.port()) + "/v1/metrics";
  opts.initial_backoff = 20ms;
  opts.max_backoff = 100ms;
  RemoteWriteSender sender(opts, spool);
  sender.Start();
  for (int i = 0; i < 5; i++) ASSERT_TRUE(spool->Put("b" + std::to_string(i), 1000 + i).ok());
  ASSERT_TRUE(WaitFor([&] { return sender.failures() >= 3; }));
  EXPECT_EQ(rx.count(), 0u);
  rx.status = 200;
  ASSERT_TRUE(WaitFor([&] { return rx.count() == 5; }));
  EXPECT_EQ(rx.bodies.front(), "b0");
  EXPECT_EQ(rx.bodies.back(), "b4");
}

TEST(Sender, PermanentRejectionIsDroppedNotBlocking) {
  Receiver rx;
  rx.status = 400;
  ASSERT_TRUE(rx.server.Start().ok());
  auto spool = std::make_shared<Spool>(TempDir(), 1 << 20);
  ASSERT_TRUE(spool->Open().ok());
  ASSERT_TRUE(spool->Put("poison", 1000).ok());
  SenderOptions opts;
  opts.url = "http://127.0.0.1:" + std::to_string(rx.server.port()) + "/v1/metrics";
  RemoteWriteSender sender(opts, spool);
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return sender.rejected() == 1; }));
  EXPECT_EQ(spool->files(), 0u);
  std::vector<MetricFamily> fams;
  sender.Collect(&fams);
  bool found = false;
  for (auto& f : fams)
    for (auto& s : f.samples)
      if (f.name == "coroot_remote_write_dropped_total" && s.labels[0].value == "rejected") found = s.value == 1;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace coroot::prom
