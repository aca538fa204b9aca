// The server's remote ClickHouse path under faults (issue 6): a client streams spans and retries
// what is refused (429/503, or a server that is not there), as OTel exporters do, while
//   1. ClickHouse is killed (SIGKILL) mid-stream,
//   2. the buffer and WAL fill up behind it (the client gets 429 and waits),
//   3. the coroot server is killed (SIGKILL) while ClickHouse is still down, and started again,
//   4. ClickHouse is started again on the same data.
// Then every span the server acknowledged must be in ClickHouse. The ClickHouse here is
// tests/clickhouse_shim (the HTTP interface over the embedded 26.7 engine): Debian's 18.16
// server predates the schema's types.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "lib/base/strings.h"
#include "lib/clickhouse/http_client.h"
#include "lib/http/client.h"
#include "lib/testing/process.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace coroot::testing {
namespace {

using namespace std::chrono_literals;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

constexpr int kRequests = 300, kSpansPerRequest = 100;

// Request i: kSpansPerRequest spans of one trace, span ids i*kSpansPerRequest + j.
std::string Request(int i) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("fault-svc");
  auto* scope = rs->add_scope_spans();
  const uint64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::string trace_id(16, '\0');
  for (int b = 0; b < 4; ++b) trace_id[b] = static_cast<char>((i >> (8 * b)) & 0xff);
  trace_id[15] = 1;
  for (int j = 0; j < kSpansPerRequest; ++j) {
    auto* s = scope->add_spans();
    s->set_trace_id(trace_id);
    uint64_t id = static_cast<uint64_t>(i) * kSpansPerRequest + j + 1;
    s->set_span_id(std::string(reinterpret_cast<const char*>(&id), 8));
    s->set_name("op-" + std::to_string(j % 7));
    s->set_start_time_unix_nano(now + j);
    s->set_end_time_unix_nano(now + j + 1000000);
    auto* a = s->add_attributes();
    a->set_key("payload");
    a->mutable_value()->set_string_value(std::string(200, static_cast<char>('a' + j % 26)));
  }
  return req.SerializeAsString();
}

class ClickHouseFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("coroot_ch_faults");
    ch_port_ = FreePort();
    port_ = FreePort();
  }
  void TearDown() override {
    server_.reset();
    shim_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void StartShim(const std::string& log) {
    shim_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("tests/clickhouse_http_shim"), "--listen",
                                 "127.0.0.1:" + std::to_string(ch_port_), "--path", dir_ + "/clickhouse"},
        dir_ + "/" + log);
    ASSERT_TRUE(WaitFor([&] { return HttpOk("http://127.0.0.1:" + std::to_string(ch_port_) + "/ping"); }, 60s))
        << shim_->Log();
  }
  void StartServer(const std::string& log) {
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("server/coroot"), "--listen", "127.0.0.1:" + std::to_string(port_),
                                 "--grpc-disabled", "--data-dir", dir_ + "/data", "--bootstrap-prometheus-url",
                                 "http://127.0.0.1:1", "--bootstrap-clickhouse-address",
                                 "127.0.0.1:" + std::to_string(ch_port_), "--bootstrap-clickhouse-database",
                                 "coroot_faults", "--ingest-buffer-size", "2MB", "--ingest-wal-size", "8MB",
                                 "--disable-clickhouse-space-manager"},
        dir_ + "/" + log);
    ASSERT_TRUE(WaitFor([&] { return HttpOk(url() + "/health"); }, 60s)) << server_->Log();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string dir_;
  int ch_port_ = 0, port_ = 0;
  std::unique_ptr<ChildProcess> shim_, server_;
};

TEST_F(ClickHouseFaults, KilledClickHouseAndServerLoseNothingAcknowledged) {
  StartShim("shim1.log");
  StartServer("coroot1.log");

  std::atomic<int> acknowledged{0}, refused_429{0}, refused_other{0}, unreachable{0};
  std::atomic<bool> give_up{false};
  std::thread client([&] {
    for (int i = 0; i < kRequests && !give_up; ++i) {
      const std::string body = Request(i);
      while (!give_up) {  // the exporter's retry loop
        http::ClientRequest r;
        r.method = "POST";
        r.url = url() + "/v1/traces";
        r.body = body;
        r.headers = {{"Content-Type", "application/x-protobuf"}};
        auto resp = http::Fetch(r);
        if (resp.ok() && resp->status == 200) {
          acknowledged += kSpansPerRequest;
          break;
        }
        if (!resp.ok()) {
          unreachable++;
        } else if (resp->status == 429) {
          refused_429++;
          EXPECT_NE(resp->Header("Retry-After"), "");
        } else {
          refused_other++;
        }
        std::this_thread::sleep_for(100ms);
      }
    }
  });

  auto wait_until = [](const std::function<bool()>& cond, std::chrono::seconds limit) { return WaitFor(cond, limit); };
  EXPECT_TRUE(wait_until([&] { return acknowledged >= kRequests * kSpansPerRequest / 4; }, 120s));
  shim_->Stop(SIGKILL);  // 1. ClickHouse dies mid-stream
  const int at_kill = acknowledged;
  // 2. accepted requests pile up in the buffer and the WAL until they refuse with 429
  EXPECT_TRUE(wait_until([&] { return refused_429 > 0; }, 60s)) << "acknowledged " << acknowledged;
  const int while_down = acknowledged - at_kill;
  server_->Stop(SIGKILL);  // 3. the server dies too, with all of that not yet in ClickHouse
  StartServer("coroot2.log");  // up (healthy) while its WAL waits for ClickHouse
  std::this_thread::sleep_for(2s);
  StartShim("shim2.log");  // 4. ClickHouse is back, on the same data
  EXPECT_TRUE(wait_until([&] { return acknowledged == kRequests * kSpansPerRequest; }, 240s))
      << "acknowledged " << acknowledged;
  give_up = true;
  client.join();

  clickhouse::RemoteOptions o;
  o.address = "127.0.0.1:" + std::to_string(ch_port_);
  auto ch = clickhouse::RemoteClient::Create(o);
  ASSERT_TRUE(ch.ok());
  std::string counts;
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = (*ch)->Query("SELECT uniqExact(SpanId), count() FROM coroot_faults.otel_traces", "TSVRaw");
        counts = r.ok() ? Trim(*r) : r.status().ToString();
        return counts.rfind(std::to_string(acknowledged.load()) + "\t", 0) == 0;
      },
      120s))
      << "stored (distinct spans, rows): " << counts << "; acknowledged: " << acknowledged << "\n"
      << server_->Log();
  // Rows inserted but not yet released from the WAL when the server was killed are inserted again:
  // at least once, never lost. Count them.
  const auto tab = counts.find('\t');
  const long rows = tab == std::string::npos ? 0 : std::stol(counts.substr(tab + 1));
  std::cout << "[ info ] acknowledged " << acknowledged << " spans (" << at_kill << " before ClickHouse died, "
            << while_down << " while it was down); refused 429: " << refused_429 << ", other: " << refused_other
            << ", unreachable: " << unreachable << "; stored rows " << rows << " (duplicates "
            << rows - acknowledged << ")\n";
  EXPECT_GT(refused_429.load(), 0);
  EXPECT_NE(server_->Log().find("WAL: "), std::string::npos) << server_->Log();  // the second run replayed
}

}  // namespace
}  // namespace coroot::testing
