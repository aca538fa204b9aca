// OtlpHandler over HTTP requests, with a fake ClickHouse behind the real writer.
#include "server/ingest/otlp_handler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "lib/compress/compress.h"
#include "lib/protowire/wire.h"

namespace coroot::server {
namespace {

using namespace std::chrono_literals;

class FakeClickHouse : public clickhouse::IClickHouseClient {
 public:
  StatusOr<std::string> Query(const std::string& sql, const std::string&) override {
    std::lock_guard<std::mutex> l(mu);
    queries++;
    return std::string();
  }
  Status Insert(const std::string& table, const std::string& format, const std::string& data) override {
    std::lock_guard<std::mutex> l(mu);
    if (!fail.ok()) return fail;
    inserts.push_back(table + " FORMAT " + format);
    bytes += data.size();
    return Status::Ok();
  }
  Status Ping() override { return Status::Ok(); }
  std::string Describe() const override { return "fake"; }

  std::mutex mu;
  int queries = 0;
  size_t bytes = 0;
  std::vector<std::string> inserts;
  Status fail;
};

// One span as protobuf: ExportTraceServiceRequest{resource_spans{scope_spans{spans{...}}}}.
std::string OneSpan(std::string trace_id = std::string(16, '\x01')) {
  protowire::Writer span, ss, rs, top;
  span.BytesField(1, trace_id);
  span.BytesField(2, std::string(8, '\x02'));
  span.BytesField(5, "op");
  ss.MessageField(2, span);
  rs.MessageField(2, ss);
  top.MessageField(1, rs);
  return top.out();
}

class Handler : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/coroot_otlp_handler_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = ProjectStore::Open(dir_ + "/db.sqlite");
    ASSERT_TRUE(store.ok());
    projects_ = std::move(*store);
    ASSERT_TRUE(projects_->Bootstrap("http://127.0.0.1:1", "").ok());
  }
  void TearDown() override {
    handler_.reset();
    if (writer_) writer_->Stop(1s);
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Make(storage::OtelWriterOptions wo = {}) {
    writer_ = std::make_unique<storage::OtelWriter>(&ch_, wo);
    writer_->Start();
    OtlpHandlerOptions o;
    o.max_decoded_bytes = 1 << 20;
    o.database_of = [](const Project& p) { return "coroot_" + p.id; };
    handler_ = std::make_unique<OtlpHandler>(projects_.get(), writer_.get(), o);
  }
  http::Response Post(bool logs, const std::string& body, const std::string& type, const std::string& encoding = "",
                      const std::string& key = "") {
    http::Request req;
    req.method = "POST";
    req.body = body;
    req.headers = {{"Content-Type", type}};
    if (!encoding.empty()) req.headers.push_back({"Content-Encoding", encoding});
    if (!key.empty()) req.headers.push_back({"X-Api-Key", key});
    http::Response resp;
    logs ? handler_->HandleLogs(req, &resp) : handler_->HandleTraces(req, &resp);
    return resp;
  }

  std::string dir_;
  FakeClickHouse ch_;
  std::unique_ptr<ProjectStore> projects_;
  std::unique_ptr<storage::OtelWriter> writer_;
  std::unique_ptr<OtlpHandler> handler_;
};

TEST_F(Handler, AcceptsProtobufAndJsonInEveryEncodingAndInsertsBatches) {
  Make();
  auto r = Post(false, OneSpan(), "application/x-protobuf");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("Content-Type"), "application/x-protobuf");
  for (const char* enc : {"gzip", "deflate", "zstd", "snappy"}) {
    std::string body = OneSpan();
    std::string z = std::string(enc) == "gzip"      ? compress::ZlibCompress(body, compress::ZlibFormat::kGzip)
                    : std::string(enc) == "deflate" ? compress::ZlibCompress(body, compress::ZlibFormat::kZlib)
                    : std::string(enc) == "zstd"    ? compress::ZstdCompress(body)
                                                    : compress::SnappyCompress(body);
    EXPECT_EQ(Post(false, z, "application/x-protobuf", enc).status, 200) << enc;
  }
  r = Post(true, R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hi"}}]}]}]})",
           "application/json; charset=utf-8");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  ASSERT_TRUE(writer_->Flush(10s).ok());
  std::lock_guard<std::mutex> l(ch_.mu);
  ASSERT_EQ(ch_.inserts.size(), 2u);  // the five span requests went in as one batch
  std::string db = "`coroot_" + projects_->List()[0].id + "`";
  EXPECT_EQ(ch_.inserts[0].rfind(db + ".otel_traces (Timestamp, TraceId", 0), 0u) << ch_.inserts[0];
  EXPECT_NE(ch_.inserts[0].find("FORMAT Native"), std::string::npos);
  EXPECT_EQ(ch_.inserts[1].rfind(db + ".otel_logs (", 0), 0u) << ch_.inserts[1];
  EXPECT_GT(ch_.queries, 5);  // the schema
}

TEST_F(Handler, ErrorsAreClearAndInTheRequestsContentType) {
  Make();
  auto r = Post(false, OneSpan(), "application/x-protobuf", "", "unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("project not found"), std::string::npos);
  r = Post(true, "{}", "application/json", "", "unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"code\":5,\"message\":\"project not found\"}");
  EXPECT_EQ(Post(false, OneSpan(), "text/plain").status, 415);
  EXPECT_EQ(Post(false, OneSpan(), "application/x-protobuf", "br").status, 415);
  r = Post(false, OneSpan().substr(0, 10), "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed protobuf"), std::string::npos);
  EXPECT_EQ(Post(false, "\x1f\x8b garbage", "application/x-protobuf", "gzip").status, 400);
  EXPECT_EQ(Post(false, compress::ZlibCompress(std::string(4 << 20, 'a'), compress::ZlibFormat::kGzip),
                 "application/x-protobuf", "gzip").status,
            413);
  EXPECT_EQ(Post(false, std::string(2 << 20, 'a'), "application/x-protobuf").status, 413);
  r = Post(false, R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"12"}]}]}]})", "application/json");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"rejectedSpans\":\"1\""), std::string::npos) << r.body;
  std::vector<prom::MetricFamily> m;
  handler_->Collect(&m);
  double invalid = 0, unknown = 0, unsupported = 0, too_large = 0;
  for (auto& f : m)
    for (auto& s : f.samples) {
      if (f.name != "coroot_ingest_otlp_requests_total") continue;
      for (auto& l : s.labels) {
        if (l.name != "outcome") continue;
        if (l.value == "invalid") invalid += s.value;
        if (l.value == "unknown_api_key") unknown += s.value;
        if (l.value == "unsupported") unsupported += s.value;
        if (l.value == "too_large") too_large += s.value;
      }
    }
  EXPECT_EQ(invalid, 2);
  EXPECT_EQ(unknown, 2);
  EXPECT_EQ(unsupported, 2);
  EXPECT_EQ(too_large, 2);
}

TEST_F(Handler, FullBufferAnswers429WithRetryAfter) {
  storage::OtelWriterOptions wo;
  wo.max_buffer_bytes = 32 * 1024;
  wo.flush_rows = 10;
  ch_.fail = Unavailable("ClickHouse is down");  // nothing drains
  Make(wo);
  int ok = 0;
  http::Response last;
  for (int i = 0; i < 500; ++i) {
    last = Post(false, OneSpan(), "application/x-protobuf");
    if (last.status != 200) break;
    ++ok;
  }
  EXPECT_GT(ok, 0);
  EXPECT_EQ(last.status, 429);
  EXPECT_EQ(last.Header("Retry-After"), "5");
  // A request that cannot fit (its protobuf body alone is more than the room left) is refused
  // before it is decoded: even a malformed one (400 otherwise) is told to come back later.
  EXPECT_EQ(Post(false, std::string(wo.max_buffer_bytes + 1, '\xff'), "application/x-protobuf").status, 429);
  // google.rpc.Status with code 8 (RESOURCE_EXHAUSTED).
  protowire::Reader rd(last.body);
  uint32_t f;
  protowire::WireType t;
  uint64_t code = 0;
  ASSERT_TRUE(rd.Next(&f, &t));
  ASSERT_TRUE(rd.Varint(&code));
  EXPECT_EQ(code, 8u);
  // The writer keeps retrying the failed insert (nothing is dropped) ...
  std::this_thread::sleep_for(1500ms);
  std::vector<prom::MetricFamily> m;
  writer_->Collect(&m);
  double failed = -1, dropped = -1;
  for (auto& f : m)
    for (auto& smp : f.samples) {
      if (f.name == "coroot_clickhouse_inserts_total" && smp.labels[0].value == "failed") failed = smp.value;
      if (f.name == "coroot_clickhouse_dropped_total" && smp.labels[0].value == "insert_refused") dropped = smp.value;
    }
  EXPECT_GE(failed, 1);
  EXPECT_EQ(dropped, 0);
  // ... and when ClickHouse comes back the buffered rows drain and requests are accepted again.
  {
    std::lock_guard<std::mutex> l(ch_.mu);
    ch_.fail = Status::Ok();
  }
  ASSERT_TRUE(writer_->Flush(60s).ok());
  EXPECT_EQ(Post(false, OneSpan(), "application/x-protobuf").status, 200);
  ASSERT_TRUE(writer_->Flush(60s).ok());
  std::lock_guard<std::mutex> l(ch_.mu);
  EXPECT_GE(ch_.inserts.size(), 2u);
  EXPECT_EQ(writer_->buffered_bytes(), 0u);
}

}  // namespace
}  // namespace coroot::server
