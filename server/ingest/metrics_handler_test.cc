#include "server/ingest/metrics_handler.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lib/compress/compress.h"
#include "lib/http/client.h"
#include "lib/http/server.h"
#include "lib/prom/remote_write.h"

namespace coroot::server {
namespace {

// A stand-in TSDB that records what it receives and answers with a chosen status.
struct Tsdb {
  http::Server server{{}};
  std::atomic<int> status{204};
  std::mutex mu;
  std::vector<http::Request> got;
  Tsdb() {
    server.Handle("POST", "/api/v1/write", [this](const http::Request& req, http::Response* resp) {
      std::lock_guard<std::mutex> lock(mu);
      got.push_back(req);
      resp->status = status.load();
    });
  }
};

class MetricsHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tsdb_.server.Start().ok());
    db_ = std::filesystem::temp_directory_path() / ("mh_" + std::to_string(::getpid()) + ".sqlite");
    std::filesystem::remove(db_);
    store_ = std::move(ProjectStore::Open(db_).value());
    ASSERT_TRUE(store_->Bootstrap("http://127.0.0.1:" + std::to_string(tsdb_.server.port()), "").ok());
    Project p = store_->List()[0];
    p.api_keys.push_back({"secret", ""});
    ASSERT_TRUE(store_->Save(p).ok());
    handler_ = std::make_unique<MetricsHandler>(store_.get(), &forwarder_, 1 << 20);
  }
  void TearDown() override { std::filesystem::remove(db_); }

  http::Response Post(const std::string& body, const std::string& key, const std::string& enc = "snappy") {
    http::Request req;
    req.method = "POST";
    req.path = "/v1/metrics";
    req.body = body;
    req.headers = {{"Content-Type", "application/x-protobuf"}, {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
    if (!enc.empty()) req.headers.push_back({"Content-Encoding", enc});
    if (!key.empty()) req.headers.push_back({"X-Api-Key", key});
    http::Response resp;
    handler_->Handle(req, &resp);
    return resp;
  }

  static std::string Body() {
    prom::WriteRequest w;
    w.series.push_back({{{"__name__", "up"}, {"job", "x"}}, {{1, 1000}}});
    return compress::SnappyCompress(prom::Encode(w));
  }

  Tsdb tsdb_;
  std::string db_;
  std::unique_ptr<ProjectStore> store_;
  RemoteWriteForwarder forwarder_;
  std::unique_ptr<MetricsHandler> handler_;
};

TEST_F(MetricsHandlerTest, ForwardsValidBodyWithoutApiKey) {
  auto r = Post(Body(), "secret");
  EXPECT_EQ(r.status, 204);
  ASSERT_EQ(tsdb_.got.size(), 1u);
  EXPECT_EQ(tsdb_.got[0].body, Body());
  EXPECT_EQ(tsdb_.got[0].Header("X-Api-Key"), "");
  EXPECT_EQ(tsdb_.got[0].Header("Content-Encoding"), "snappy");
  EXPECT_EQ(tsdb_.got[0].Header("X-Prometheus-Remote-Write-Version"), "0.1.0");
  EXPECT_EQ(Post(Body(), "").status, 204);  // no key: the default project
}

TEST_F(MetricsHandlerTest, RejectsBadInputClearly) {
  auto unknown = Post(Body(), "wrong-key");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, "project not found\n");
  auto not_snappy = Post("plain text", "secret");
  EXPECT_EQ(not_snappy.status, 400);
  EXPECT_NE(not_snappy.body.find("snappy"), std::string::npos);
  auto not_proto = Post(compress::SnappyCompress("\xff\xff\xff garbage"), "secret");
  EXPECT_EQ(not_proto.status, 400);
  EXPECT_NE(not_proto.body.find("malformed"), std::string::npos);
  auto bomb = Post(compress::SnappyCompress(std::string(4 << 20, '\0')), "secret");
  EXPECT_EQ(bomb.status, 413);
  EXPECT_EQ(Post(Body(), "secret", "gzip").status, 415);
  EXPECT_TRUE(tsdb_.got.empty());  // nothing invalid reached the TSDB
}

TEST_F(MetricsHandlerTest, StorageErrorsMapForAgentRetries) {
  tsdb_.status = 400;  // the TSDB refuses samples: answer 200 so the agent does not retry forever
  EXPECT_EQ(Post(Body(), "secret").status, 200);
  tsdb_.status = 500;
  EXPECT_EQ(Post(Body(), "secret").status, 500);
  tsdb_.server.Stop();  // unreachable: 503, the agent keeps its spool
  EXPECT_EQ(Post(Body(), "secret").status, 503);
}

}  // namespace
}  // namespace coroot::server
