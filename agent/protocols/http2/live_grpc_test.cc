// The stitcher on real gRPC traffic: grpc++'s own HTTP/2 client and server (HPACK with Huffman
// and a dynamic table, trailers, Trailers-Only errors) talk through a relay in this test that
// hands the stitcher every chunk each side wrote, as the kernel would. Counts must be exact.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "agent/protocols/http2/stitch.h"
#include "lib/testing/process.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace coroot::agent::protocols::http2 {
namespace {

namespace tracesvc = opentelemetry::proto::collector::trace::v1;
namespace logssvc = opentelemetry::proto::collector::logs::v1;

uint64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A TCP relay on 127.0.0.1 that feeds one Stitcher per accepted connection.
class Relay {
 public:
  explicit Relay(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Relay() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) {
      close(c.client);
      close(c.server);
    }
    close(listen_fd_);
  }
  int port() const { return port_; }
  std::vector<Request> Requests() {
    std::lock_guard<std::mutex> l(mu_);
    return done_;
  }
  StitcherStats Stats() {
    std::lock_guard<std::mutex> l(mu_);
    StitcherStats total;
    for (auto& c : conns_) {
      total.desyncs += c.stitcher->stats().desyncs;
      total.streams_dropped += c.stitcher->stats().streams_dropped;
      total.header_blocks += c.stitcher->stats().header_blocks;
    }
    return total;
  }

 private:
  struct Conn {
    int client = -1, server = -1;
    bool client_open = true, server_open = true;  // false once that side sent EOF
    std::unique_ptr<Stitcher> stitcher;
  };

  void Run() {
    char buf[65536];
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto& c : conns_) {
        // A side that sent EOF is not polled again (fd -1 is skipped by poll).
        fds.push_back({c.client_open ? c.client : -1, POLLIN, 0});
        fds.push_back({c.server_open ? c.server : -1, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        Conn c;
        c.client = accept(listen_fd_, nullptr, nullptr);
        c.server = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(upstream_port_);
        connect(c.server, reinterpret_cast<sockaddr*>(&a), sizeof a);
        c.stitcher = std::make_unique<Stitcher>();
        std::lock_guard<std::mutex> l(mu_);
        conns_.push_back(std::move(c));
        continue;
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
        Conn& c = conns_[(i - 1) / 2];
        bool from_client = (i - 1) % 2 == 0;
        int src = from_client ? c.client : c.server, dst = from_client ? c.server : c.client;
        ssize_t n = read(src, buf, sizeof buf);
        if (n <= 0) {
          // Pass the EOF on, as a proxy would: the peer may be closing a connection it no longer needs.
          (from_client ? c.client_open : c.server_open) = false;
          shutdown(dst, SHUT_WR);
          continue;
        }
        {
          std::lock_guard<std::mutex> l(mu_);
          c.stitcher->Feed(from_client ? Direction::kClientToServer : Direction::kServerToClient, NowNs(),
                           std::string_view(buf, n), n, &done_);
        }
        for (ssize_t off = 0; off < n;) {
          // MSG_NOSIGNAL: a peer that already closed must not kill the test with SIGPIPE.
          ssize_t w = send(dst, buf + off, n - off, MSG_NOSIGNAL);
          if (w <= 0) break;
          off += w;
        }
      }
    }
  }

  int upstream_port_;
  int listen_fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Conn> conns_;
  std::vector<Request> done_;
};

// Answers by the number of resource spans: 1 → OK, 2 → NOT_FOUND, 3 → PERMISSION_DENIED.
class TraceImpl final : public tracesvc::TraceService::Service {
  grpc::Status Export(grpc::ServerContext*, const tracesvc::ExportTraceServiceRequest* req,
                      tracesvc::ExportTraceServiceResponse*) override {
    switch (req->resource_spans_size()) {
      case 2: return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such trace sink");
      case 3: return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "denied");
      default: return grpc::Status::OK;
    }
  }
};

class LogsImpl final : public logssvc::LogsService::Service {
  grpc::Status Export(grpc::ServerContext*, const logssvc::ExportLogsServiceRequest*,
                      logssvc::ExportLogsServiceResponse* resp) override {
    resp->mutable_partial_success()->set_error_message(std::string(3000, 'e'));  // a larger body
    return grpc::Status::OK;
  }
};

TEST(Http2Live, RealGrpcCallsAreCountedExactlyWithTheirStatus) {
  TraceImpl trace;
  LogsImpl logs;
  int server_port = testing::FreePort();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(server_port), grpc::InsecureServerCredentials());
  builder.RegisterService(&trace);
  builder.RegisterService(&logs);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  Relay relay(server_port);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(relay.port()), grpc::InsecureChannelCredentials());
  auto tstub = tracesvc::TraceService::NewStub(channel);
  auto lstub = logssvc::LogsService::NewStub(channel);

  std::map<std::string, int> sent;  // "path status" → calls made
  const int kOk = 40, kNotFound = 7, kDenied = 3, kLogs = 11;
  auto call_trace = [&](int spans, int i) {
    tracesvc::ExportTraceServiceRequest req;
    for (int s = 0; s < spans; ++s) req.add_resource_spans();
    tracesvc::ExportTraceServiceResponse resp;
    grpc::ClientContext ctx;
    // Distinct metadata values churn the dynamic table (insertions and evictions on both sides).
    ctx.AddMetadata("x-tenant", "tenant-" + std::to_string(i) + std::string(i % 7 * 50, 't'));
    grpc::Status st = tstub->Export(&ctx, req, &resp);
    sent["/opentelemetry.proto.collector.trace.v1.TraceService/Export grpc:" +
         std::string(GrpcCodeName(st.error_code()))]++;
  };
  for (int i = 0; i < kOk; ++i) call_trace(1, i);
  for (int i = 0; i < kNotFound; ++i) call_trace(2, i);
  for (int i = 0; i < kDenied; ++i) call_trace(3, i);
  for (int i = 0; i < kLogs; ++i) {
    logssvc::ExportLogsServiceRequest req;
    logssvc::ExportLogsServiceResponse resp;
    grpc::ClientContext ctx;
    grpc::Status st = lstub->Export(&ctx, req, &resp);
    sent["/opentelemetry.proto.collector.logs.v1.LogsService/Export grpc:" + std::string(GrpcCodeName(st.error_code()))]++;
  }
  ASSERT_EQ(sent["/opentelemetry.proto.collector.trace.v1.TraceService/Export grpc:OK"], kOk);
  ASSERT_EQ(sent["/opentelemetry.proto.collector.trace.v1.TraceService/Export grpc:NOT_FOUND"], kNotFound);

  std::map<std::string, int> seen;
  ASSERT_TRUE(testing::WaitFor(
      [&] { return relay.Requests().size() >= static_cast<size_t>(kOk + kNotFound + kDenied + kLogs); },
      std::chrono::seconds(10)));
  for (const Request& r : relay.Requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.scheme, "http");
    EXPECT_TRUE(r.is_grpc()) << r.content_type;
    EXPECT_EQ(r.status, 200);
    EXPECT_GT(r.duration_ns, 0u);
    seen[r.path + " " + StatusLabel(r)]++;
  }
  EXPECT_EQ(seen, sent);
  auto stats = relay.Stats();
  EXPECT_EQ(stats.desyncs, 0u);
  EXPECT_EQ(stats.streams_dropped, 0u);
  server->Shutdown();
}

}  // namespace
}  // namespace coroot::agent::protocols::http2
