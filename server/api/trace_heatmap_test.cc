// The trace heatmap API on real spans in the embedded engine: exact counts per cell, from the
// histogram table (whole minutes) and from the raw spans (other steps), which must agree.
#include "server/api/trace_heatmap.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "lib/clickhouse/embedded_test_environment.h"
#include "server/api/telemetry_api.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_writer.h"

namespace coroot::server {
namespace {

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new clickhouse::EmbeddedTestEnvironment("coroot_heatmap_test"));

constexpr int64_t kT0 = 1796025600000;  // ms, 2026-12-01 00:00:00 UTC, a whole minute

void AddSpan(storage::SpanBatch* b, const std::string& service, const std::string& name, bool root, int64_t at_ms,
             double duration_ms, bool error) {
  b->timestamp.push_back(at_ms * 1000000 + 123);
  b->trace_id.Add("t" + std::to_string(b->rows()));
  b->span_id.Add("s" + std::to_string(b->rows()));
  b->parent_span_id.Add(root ? "" : "p");
  b->trace_state.Add("");
  b->span_name.Add(name);
  b->span_kind.Add(root ? "SPAN_KIND_SERVER" : "SPAN_KIND_CLIENT");
  b->service_name.Add(service);
  b->resource_attributes.EndRow();
  b->span_attributes.EndRow();
  b->duration.push_back(static_cast<int64_t>(duration_ms * 1e6));
  b->status_code.Add(error ? "STATUS_CODE_ERROR" : "STATUS_CODE_UNSET");
  b->status_message.Add("");
  b->events.Push(0);
  b->links.Push(0);
}

std::string Cell(int64_t time_ms, int bucket, int total, int failed) {
  return "{\"Time\":" + std::to_string(time_ms / 1000) + ",\"Bucket\":" + std::to_string(bucket) + ",\"Total\":" +
         std::to_string(total) + ",\"Failed\":" + std::to_string(failed) + "}";
}

class Heatmap : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto* engine = clickhouse::EmbeddedTestEnvironment::client();
    ASSERT_NE(engine, nullptr) << clickhouse::EmbeddedTestEnvironment::error();
    auto p = ProjectStore::Open(clickhouse::EmbeddedTestEnvironment::dir() + "/projects.sqlite");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    projects_ = p->release();
    ASSERT_TRUE(projects_->Bootstrap("http://127.0.0.1:1", "").ok());
    writer_ = new storage::OtelWriter(engine, storage::OtelWriterOptions());
    writer_->Start();
    api_ = new TelemetryApi([](const http::Request& r) { return projects_->FindByApiKey(r.Header("X-Api-Key")); }, engine, writer_, [](const Project&) { return std::string("coroot_heatmap"); });
    storage::SpanBatch b;
    AddSpan(&b, "api", "GET /a", true, kT0 + 10000, 3, false);      // minute 0, bucket 0
    AddSpan(&b, "api", "GET /a", true, kT0 + 20000, 7, true);       // minute 0, bucket 5, error
    AddSpan(&b, "api", "GET /a", true, kT0 + 30000, 7, false);      // minute 0, bucket 5
    AddSpan(&b, "api", "SELECT", false, kT0 + 15000, 30, false);    // minute 0, bucket 25, not a root
    AddSpan(&b, "api", "GET /a", true, kT0 + 70000, 120, true);     // minute 1, bucket 100, error
    AddSpan(&b, "api", "GET /a", true, kT0 + 130000, 12000, false); // minute 2, bucket 10000
    AddSpan(&b, "db", "query", true, kT0 + 10000, 1, true);         // another service
    AddSpan(&b, "api", "GET /a", true, kT0 + 180000, 3, false);     // just past the range
    ASSERT_TRUE(writer_->AddSpans("coroot_heatmap", &b).ok());
    ASSERT_TRUE(writer_->Flush().ok());
  }
  static void TearDownTestSuite() {
    delete api_;
    if (writer_) writer_->Stop();
    delete writer_;
    delete projects_;
  }
  std::string Get(const std::string& query, int status = 200) {
    http::Request req;
    req.method = "GET";
    req.query = query;
    http::Response resp;
    api_->TraceHeatmap(req, &resp);
    EXPECT_EQ(resp.status, status) << resp.body;
    return resp.body;
  }
  static std::string Body(const std::string& source, const std::vector<std::string>& cells) {
    std::string out = "{\"buckets_ms\":[0,5,10,25,50,100,250,500,1000,2500,5000,10000],\"source\":\"" + source +
                      "\",\"cells\":[";
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
    return out + "]}";
  }
  static inline ProjectStore* projects_ = nullptr;
  static inline storage::OtelWriter* writer_ = nullptr;
  static inline TelemetryApi* api_ = nullptr;
};

const std::string kRange = "&from=" + std::to_string(kT0) + "&to=" + std::to_string(kT0 + 180000);

TEST_F(Heatmap, WholeMinutesComeFromTheHistogramTable) {
  EXPECT_EQ(Get("service=api&step=60" + kRange),
            Body("otel_traces_histogram", {Cell(kT0, 0, 1, 0), Cell(kT0, 5, 2, 1), Cell(kT0, 25, 1, 0),
                                           Cell(kT0 + 60000, 100, 1, 1), Cell(kT0 + 120000, 10000, 1, 0)}));
  // Two-minute steps fold minutes 0 and 1.
  EXPECT_EQ(Get("service=api&step=120" + kRange),
            Body("otel_traces_histogram", {Cell(kT0, 0, 1, 0), Cell(kT0, 5, 2, 1), Cell(kT0, 25, 1, 0),
                                           Cell(kT0, 100, 1, 1), Cell(kT0 + 120000, 10000, 1, 0)}));
  EXPECT_EQ(Get("service=api&span_name=SELECT&step=60" + kRange),
            Body("otel_traces_histogram", {Cell(kT0, 25, 1, 0)}));
  EXPECT_EQ(Get("service=api&root=1&step=60" + kRange),
            Body("otel_traces_histogram", {Cell(kT0, 0, 1, 0), Cell(kT0, 5, 2, 1), Cell(kT0 + 60000, 100, 1, 1),
                                           Cell(kT0 + 120000, 10000, 1, 0)}));
  // Every service.
  EXPECT_EQ(Get("step=60" + kRange),
            Body("otel_traces_histogram", {Cell(kT0, 0, 2, 1), Cell(kT0, 5, 2, 1), Cell(kT0, 25, 1, 0),
                                           Cell(kT0 + 60000, 100, 1, 1), Cell(kT0 + 120000, 10000, 1, 0)}));
}

TEST_F(Heatmap, OtherStepsComeFromTheSpans) {
  EXPECT_EQ(Get("service=api&step=30" + kRange),
            Body("otel_traces", {Cell(kT0, 0, 1, 0), Cell(kT0, 5, 1, 1), Cell(kT0, 25, 1, 0), Cell(kT0 + 30000, 5, 1, 0),
                                 Cell(kT0 + 60000, 100, 1, 1), Cell(kT0 + 120000, 10000, 1, 0)}));
  // A range that does not start on a minute: spans before it are left out (the one at +10 s).
  EXPECT_EQ(Get("service=api&root=1&step=60&from=" + std::to_string(kT0 + 12000) + "&to=" + std::to_string(kT0 + 180000)),
            Body("otel_traces", {Cell(kT0, 5, 2, 1), Cell(kT0 + 60000, 100, 1, 1), Cell(kT0 + 120000, 10000, 1, 0)}));
}

TEST_F(Heatmap, BothSourcesAgree) {
  std::string hist = Get("service=api&step=60" + kRange);
  // to one millisecond short of a minute forces the raw path; that millisecond holds no span.
  std::string raw = Get("service=api&step=60&from=" + std::to_string(kT0) + "&to=" + std::to_string(kT0 + 180000 - 1));
  EXPECT_EQ(hist.substr(hist.find("\"cells\"")), raw.substr(raw.find("\"cells\"")));
  EXPECT_NE(raw.find("\"source\":\"otel_traces\""), std::string::npos);
}

TEST_F(Heatmap, BadParameters) {
  Get("step=0", 400);
  Get("from=" + std::to_string(kT0 + 1000) + "&to=" + std::to_string(kT0), 400);
  Get("step=1&from=1&to=" + std::to_string(kT0), 400);  // too many steps
  Get("from=x", 400);
}

}  // namespace
}  // namespace coroot::server
