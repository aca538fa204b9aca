// POST /v1/profiles: status codes (200, 400, 404, 413, 429), labels from the query string, and the
// writer's two inserts (stacks before samples) — against a fake ClickHouse.
#include "server/ingest/profiles_handler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>

#include "lib/compress/compress.h"
#include "server/api/profiles_api.h"
#include "pprof/profile.pb.h"

namespace coroot::server {
namespace {

using namespace std::chrono_literals;

class FakeClickHouse : public clickhouse::IClickHouseClient {
 public:
  StatusOr<std::string> Query(const std::string&, const std::string&) override { return std::string(); }
  Status Insert(const std::string& table, const std::string& format, const std::string& data) override {
    std::lock_guard<std::mutex> l(mu);
    inserts.push_back(table + " FORMAT " + format);
    return Status::Ok();
  }
  Status Ping() override { return Status::Ok(); }
  std::string Describe() const override { return "fake"; }
  std::mutex mu;
  std::vector<std::string> inserts;
};

std::string OneProfile() {
  perftools::profiles::Profile p;
  for (const char* s : {"", "ebpf:cpu:nanoseconds", "nanoseconds", "main.f", "f.go"}) p.add_string_table(s);
  auto* st = p.add_sample_type();
  st->set_type(1);
  st->set_unit(2);
  auto* f = p.add_function();
  f->set_id(1);
  f->set_name(3);
  f->set_filename(4);
  auto* l = p.add_location();
  l->set_id(1);
  l->add_line()->set_function_id(1);
  auto* s = p.add_sample();
  s->add_location_id(1);
  s->add_value(10);
  p.set_time_nanos(1'700'000'000'000'000'000);
  return compress::ZlibCompress(p.SerializeAsString(), compress::ZlibFormat::kGzip);
}

class ProfilesHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/coroot_profiles_handler_test.XXXXXX";
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
  void Make(storage::OtelWriterOptions wo = {}, bool start = true) {
    writer_ = std::make_unique<storage::OtelWriter>(&ch_, wo);
    if (start) writer_->Start();
    ProfilesHandlerOptions o;
    o.limits.max_decompressed_bytes = 1 << 20;
    o.database_of = [](const Project& p) { return "coroot_" + p.id; };
    handler_ = std::make_unique<ProfilesHandler>(projects_.get(), writer_.get(), o);
  }
  http::Response Post(const std::string& query, const std::string& body, const std::string& key = "") {
    http::Request req;
    req.method = "POST";
    req.query = query;
    req.body = body;
    if (!key.empty()) req.headers.push_back({"X-Api-Key", key});
    http::Response resp;
    handler_->Handle(req, &resp);
    return resp;
  }

  std::string dir_;
  FakeClickHouse ch_;
  std::unique_ptr<ProjectStore> projects_;
  std::unique_ptr<storage::OtelWriter> writer_;
  std::unique_ptr<ProfilesHandler> handler_;
};

TEST_F(ProfilesHandlerTest, StatusCodes) {
  Make();
  EXPECT_EQ(Post("service.name=svc&host.name=n1", OneProfile()).status, 200);
  auto r = Post("host.name=n1", OneProfile());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("service.name is empty"), std::string::npos);
  // A repeated service.name is multi-valued, hence ignored (as Coroot): missing.
  EXPECT_EQ(Post("service.name=a&service.name=b", OneProfile()).status, 400);
  r = Post("service.name=svc", OneProfile(), "nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("project not found"), std::string::npos);
  std::string raw = OneProfile();
  r = Post("service.name=svc", raw.substr(0, raw.size() - 5));
  EXPECT_EQ(r.status, 400);
  r = Post("service.name=svc", compress::ZlibCompress(std::string(4u << 20, '\0'), compress::ZlibFormat::kGzip));
  EXPECT_EQ(r.status, 413) << r.body;
  ASSERT_TRUE(writer_->Flush(10s).ok());
  std::lock_guard<std::mutex> l(ch_.mu);
  ASSERT_EQ(ch_.inserts.size(), 2u);
  EXPECT_NE(ch_.inserts[0].find(".profiling_stacks (ServiceName, Hash, LastSeen, Stack) FORMAT Native"),
            std::string::npos)
      << ch_.inserts[0];
  EXPECT_NE(ch_.inserts[1].find(".profiling_samples (ServiceName, Type, Start, End, Labels, StackHash, Value)"),
            std::string::npos)
      << ch_.inserts[1];
}

TEST_F(ProfilesHandlerTest, FullBufferIs429WithRetryAfter) {
  storage::OtelWriterOptions wo;
  wo.max_buffer_bytes = 64;  // smaller than one profile's rows
  Make(wo, false);
  auto r = Post("service.name=svc", OneProfile());
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.Header("Retry-After"), "5");
}

TEST(FlameGraph, TreeFromLeafFirstStacksWithBaseline) {
  FlameNode root;
  root.name = "total";
  root.Add({"leaf a.go:1", "mid a.go:2", "main a.go:3"}, 30, false);
  root.Add({"mid a.go:2", "main a.go:3"}, 10, false);
  root.Add({"other b.go:1", "main a.go:3"}, 50, false);
  root.Add({"leaf a.go:1", "mid a.go:2", "main a.go:3"}, 7, true);
  std::string json;
  root.ToJson(&json, false);
  EXPECT_EQ(json,
            "{\"name\":\"total\",\"total\":90,\"self\":0,\"children\":["
            "{\"name\":\"main a.go:3\",\"total\":90,\"self\":0,\"children\":["
            "{\"name\":\"other b.go:1\",\"total\":50,\"self\":50,\"children\":[]},"
            "{\"name\":\"mid a.go:2\",\"total\":40,\"self\":10,\"children\":["
            "{\"name\":\"leaf a.go:1\",\"total\":30,\"self\":30,\"children\":[]}]}]}]}");
  json.clear();
  root.ToJson(&json, true);
  EXPECT_NE(json.find("{\"name\":\"leaf a.go:1\",\"total\":30,\"self\":30,\"base_total\":7,\"base_self\":7,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"name\":\"total\",\"total\":90,\"self\":0,\"base_total\":7,"), std::string::npos) << json;
}

}  // namespace
}  // namespace coroot::server
