// OTLP ingestion end to end: the real `coroot` binary with its embedded ClickHouse, fed by the real
// OpenTelemetry JS SDK exporters (tests/otel/emit.js: traces as protobuf and JSON, logs as protobuf
// and JSON), read back field by field through the read API. Then hostile input: every bad request
// gets a clear 4xx and the server keeps serving.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "lib/base/strings.h"
#include "lib/compress/compress.h"
#include "lib/http/client.h"
#include "lib/protowire/wire.h"
#include "lib/testing/process.h"
#include "server/auth/session_cookie.h"
#include "server/projects/project_store.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <future>

namespace coroot::testing {
namespace {

using namespace std::chrono_literals;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

const char* kAdminPassword = "it's a test";

struct Server {
  std::string dir;
  int port = 0, grpc_port = 0;
  std::unique_ptr<ChildProcess> proc;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string grpc_addr() const { return "127.0.0.1:" + std::to_string(grpc_port); }
  void Start(const std::string& log) {
    proc = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("server/coroot"), "--listen", "127.0.0.1:" + std::to_string(port),
                                 "--grpc-listen", grpc_addr(), "--data-dir", dir + "/data",
                                 "--bootstrap-prometheus-url", "http://127.0.0.1:1", "--max-request-body", "1MB",
                                 "--auth-bootstrap-admin-password", kAdminPassword},
        dir + "/" + log);
  }
};
Server* g_server = nullptr;
std::string g_session;  // "coroot_session=..." of the admin's login

class OtelIngest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_server = new Server();
    g_server->dir = MakeTempDir("coroot_otel_ingest");
    g_server->port = FreePort();
    g_server->grpc_port = FreePort();
    g_server->Start("coroot.log");
    WaitFor([] { return HttpOk(g_server->url() + "/health"); }, 60s);
    // The read API is used as the UI does: with the session of a logged-in user.
    auto login = Post("/api/login", std::string("{\"email\":\"admin\",\"password\":\"") + kAdminPassword + "\"}",
                      "application/json");
    ASSERT_EQ(login.status, 200) << login.body;
    std::string set_cookie = login.Header("Set-Cookie");
    g_session = set_cookie.substr(0, set_cookie.find(';'));
    ASSERT_EQ(g_session.rfind("coroot_session=", 0), 0u) << set_cookie;
  }
  static void TearDownTestSuite() {
    if (g_server->proc) g_server->proc->Stop(15, 30s);
    std::error_code ec;
    std::filesystem::remove_all(g_server->dir, ec);
    delete g_server;
  }
  void SetUp() override {
    ASSERT_TRUE(HttpOk(g_server->url() + "/health")) << g_server->proc->Log();
  }

  static http::ClientResponse Post(const std::string& path, const std::string& body, const std::string& type,
                                   const std::string& encoding = "", const std::string& key = "") {
    http::ClientRequest r;
    r.method = "POST";
    r.url = g_server->url() + path;
    r.body = body;
    r.headers = {{"Content-Type", type}};
    if (!encoding.empty()) r.headers.push_back({"Content-Encoding", encoding});
    if (!key.empty()) r.headers.push_back({"X-Api-Key", key});
    auto resp = http::Fetch(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::ClientResponse{};
  }
  static int GetStatus(const std::string& path) {
    http::ClientRequest r;
    r.url = g_server->url() + path;
    r.headers = {{"Cookie", g_session}};
    auto resp = http::Fetch(r);
    return resp.ok() ? resp->status : -1;
  }
  static std::string Get(const std::string& path) {
    http::ClientRequest r;
    r.url = g_server->url() + path;
    r.headers = {{"Cookie", g_session}};
    auto resp = http::Fetch(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (!resp.ok()) return "";
    EXPECT_EQ(resp->status, 200) << path << ": " << resp->body;
    return resp->body;
  }
};

// ---- small JSON helpers over simdjson's DOM (exceptions off: error codes) ----

std::string S(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v) != simdjson::SUCCESS) return "<missing " + std::string(key) + ">";
  return std::string(v);
}
int64_t I(simdjson::dom::element e, const char* key) {
  int64_t v = -1;
  if (e[key].get_int64().get(v) != simdjson::SUCCESS) return -999;
  return v;
}
// A JSON object of strings as "k=v;..." in key order.
std::string Obj(simdjson::dom::element e) {
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return "<not an object>";
  std::map<std::string, std::string> m;
  for (auto field : o) {
    std::string_view v;
    m[std::string(field.key)] = field.value.get_string().get(v) == simdjson::SUCCESS ? std::string(v) : "<non-string>";
  }
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ";") + k + "=" + v;
  return out;
}
std::string Strings(simdjson::dom::element e) {
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) return "<not an array>";
  std::string out;
  for (auto x : a) {
    std::string_view v;
    out += (out.empty() ? "" : ",") + std::string(x.get_string().get(v) == simdjson::SUCCESS ? v : "<non-string>");
  }
  return out;
}

// Polls `path` until its array `field` has at least n elements; returns the body.
std::string WaitForRows(const std::string& path, const char* field, size_t n, simdjson::dom::parser* parser,
                        simdjson::dom::array* rows) {
  std::string body;
  bool ok = WaitFor(
      [&] {
        http::ClientRequest r;
        r.url = g_server->url() + path;
        r.headers = {{"Cookie", g_session}};
        auto resp = http::Fetch(r);
        if (!resp.ok() || resp->status != 200) return false;
        body = resp->body;
        simdjson::dom::element doc;
        if (parser->parse(body).get(doc) != simdjson::SUCCESS) return false;
        if (doc[field].get_array().get(*rows) != simdjson::SUCCESS) return false;
        return rows->size() >= n;
      },
      30s);
  EXPECT_TRUE(ok) << path << " never had " << n << " " << field << ": " << body;
  return body;
}

TEST_F(OtelIngest, OpenTelemetrySdkExportersFieldByField) {
  const std::string run = "sdk" + std::to_string(::getpid());
  ChildProcess node({"node", SourcePath("tests/otel/emit.js"), g_server->url(), run, "", g_server->grpc_addr()},
                    g_server->dir + "/emit.log");
  ASSERT_TRUE(WaitFor([&] { return !node.running(); }, 60s)) << node.Log();
  // The last line of the output is the JSON with the ids the SDK generated.
  std::string log = Trim(node.Log());
  std::string info = log.substr(log.rfind('\n') == std::string::npos ? 0 : log.rfind('\n') + 1);
  simdjson::dom::parser ip;
  simdjson::dom::element sent;
  ASSERT_EQ(ip.parse(info).get(sent), simdjson::SUCCESS) << log;
  const std::string trace_id = S(sent, "trace_id");
  ASSERT_EQ(trace_id.size(), 32u) << log;

  // ---- protobuf traces: the whole trace by id ----
  simdjson::dom::parser p;
  simdjson::dom::array spans;
  WaitForRows("/api/v1/traces?trace_id=" + trace_id, "spans", 2, &p, &spans);
  ASSERT_EQ(spans.size(), 2u);
  simdjson::dom::element root = spans.at(0), child = spans.at(1);  // ordered by start time
  EXPECT_EQ(S(root, "Timestamp"), S(sent, "root_start"));
  EXPECT_EQ(S(root, "TraceId"), trace_id);
  EXPECT_EQ(S(root, "SpanId"), S(sent, "root_span_id"));
  EXPECT_EQ(S(root, "ParentSpanId"), "");
  EXPECT_EQ(S(root, "SpanName"), "GET /checkout");
  EXPECT_EQ(S(root, "SpanKind"), "SPAN_KIND_SERVER");
  EXPECT_EQ(S(root, "ServiceName"), run + "-proto");
  EXPECT_EQ(S(root, "Duration"), "50000000");
  EXPECT_EQ(S(root, "StatusCode"), "STATUS_CODE_OK");
  EXPECT_EQ(Obj(root["ResourceAttributes"]),
            "deployment.environment=test;host.cores=2;service.name=" + run + "-proto");
  EXPECT_EQ(Obj(root["SpanAttributes"]),
            "http.method=GET;http.status_code=500;otel.scope.name=checkout-lib;otel.scope.version=1.4.2;"
            "ratio=0.5;retry=true;tags=[\"a\",\"b\"]");
  EXPECT_EQ(Strings(root["EventsName"]), "");
  EXPECT_EQ(Strings(root["LinksTraceId"]), "");

  EXPECT_EQ(S(child, "Timestamp"), S(sent, "child_start"));
  EXPECT_EQ(S(child, "TraceId"), trace_id);
  EXPECT_EQ(S(child, "SpanId"), S(sent, "child_span_id"));
  EXPECT_EQ(S(child, "ParentSpanId"), S(sent, "root_span_id"));
  EXPECT_EQ(S(child, "SpanName"), "SELECT orders");
  EXPECT_EQ(S(child, "SpanKind"), "SPAN_KIND_CLIENT");
  EXPECT_EQ(S(child, "Duration"), "30000000");
  EXPECT_EQ(S(child, "StatusCode"), "STATUS_CODE_ERROR");
  EXPECT_EQ(S(child, "StatusMessage"), "query timeout");
  EXPECT_EQ(Obj(child["SpanAttributes"]),
            "db.system=postgresql;net.peer.name=db;net.peer.port=5432;net.sock.peer.addr=10.1.2.3;"
            "otel.scope.name=checkout-lib;otel.scope.version=1.4.2");
  EXPECT_EQ(Strings(child["EventsName"]), "exception");
  EXPECT_EQ(Strings(child["EventsTimestamp"]), S(sent, "event_time"));
  EXPECT_EQ(Obj(child["EventsAttributes"].at(0)), "exception.message=timeout;exception.type=TimeoutError");
  EXPECT_EQ(Strings(child["LinksTraceId"]), S(sent, "other_trace_id"));
  EXPECT_EQ(Strings(child["LinksSpanId"]), S(sent, "other_span_id"));
  EXPECT_EQ(Obj(child["LinksAttributes"].at(0)), "link.reason=retry");

  // ---- span search: each filter alone and together ----
  const int64_t start_ms = std::stoll(S(root, "Timestamp")) / 1000000;
  const std::string window = "&from=" + std::to_string(start_ms - 1000) + "&to=" + std::to_string(start_ms + 60000);
  const std::string search = "/api/v1/traces?service=" + run + "-proto";
  // The service's spans: the trace's root and child, and the root span of the trace the child links to.
  const std::string r = S(sent, "root_span_id"), c = S(sent, "child_span_id"), o = S(sent, "other_span_id");
  auto ids = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return Join(v, ",");
  };
  auto spans_found = [&](const std::string& filters, const std::string& range) {
    simdjson::dom::parser fp;
    simdjson::dom::element d;
    std::string b = Get(search + filters + range);
    std::vector<std::string> out;
    if (fp.parse(b).get(d) != simdjson::SUCCESS) return std::string("<bad json: ") + b + ">";
    for (auto sp : d["spans"].get_array()) out.push_back(S(sp, "SpanId"));
    return ids(out);
  };
  auto found_ids = [&](const std::string& filters) { return spans_found(filters, window); };
  EXPECT_EQ(found_ids(""), ids({r, c, o}));
  EXPECT_EQ(found_ids("&span_name=GET%20%2Fcheckout"), r);
  EXPECT_EQ(found_ids("&root=1"), ids({r, o}));
  EXPECT_EQ(found_ids("&min_duration_ms=40"), r);
  EXPECT_EQ(found_ids("&min_duration_ms=30&max_duration_ms=50"), ids({r, c}));
  EXPECT_EQ(found_ids("&status=error"), c);
  EXPECT_EQ(found_ids("&status=OK"), r);
  EXPECT_EQ(found_ids("&status=unset"), o);
  EXPECT_EQ(found_ids("&attr=http.method%3DGET"), r);
  EXPECT_EQ(found_ids("&attr=http.method!%3DGET"), ids({c, o}));
  EXPECT_EQ(found_ids("&attr=deployment.environment%3Dtest"), ids({r, c, o}));  // a resource attribute
  EXPECT_EQ(found_ids("&attr=net.sock.peer.addr~%5E10%5C.1%5C."), c);
  EXPECT_EQ(found_ids("&attr=db.system!~sql%24"), ids({r, o}));
  EXPECT_EQ(found_ids("&attr=http.method%3DGET&status=error"), "");
  EXPECT_EQ(spans_found("", "&from=" + std::to_string(start_ms + 1000) + "&to=" + std::to_string(start_ms + 60000)), "");
  for (const char* bad : {"&attr=noop", "&attr=%3Dx", "&attr=a~(", "&status=fine", "&min_duration_ms=x", "&from=y"}) {
    EXPECT_EQ(GetStatus(search + bad), 400) << bad;
  }
  EXPECT_EQ(GetStatus(search + "&to=1000&from=2000"), 400);

  // ---- JSON traces ----
  simdjson::dom::parser pj;
  simdjson::dom::array jspans;
  WaitForRows("/api/v1/traces?service=" + run + "-json", "spans", 1, &pj, &jspans);
  ASSERT_EQ(jspans.size(), 1u);
  simdjson::dom::element js = jspans.at(0);
  EXPECT_EQ(S(js, "TraceId"), S(sent, "json_trace_id"));
  EXPECT_EQ(S(js, "SpanId"), S(sent, "json_span_id"));
  EXPECT_EQ(S(js, "Timestamp"), S(sent, "json_start"));
  EXPECT_EQ(S(js, "SpanKind"), "SPAN_KIND_CONSUMER");
  EXPECT_EQ(S(js, "Duration"), "25000000");
  EXPECT_EQ(S(js, "StatusCode"), "STATUS_CODE_UNSET");
  EXPECT_EQ(Obj(js["SpanAttributes"]), "attempt=3;messaging.system=kafka;otel.scope.name=json-lib");
  EXPECT_EQ(Strings(js["EventsName"]), "rebalance");
  EXPECT_EQ(Obj(js["EventsAttributes"].at(0)), "partitions=[1,2,3]");

  // ---- logs: protobuf (with the root span's context) and JSON (structured body) ----
  simdjson::dom::parser pl;
  simdjson::dom::array logs;
  WaitForRows("/api/v1/logs?service=" + run + "-logs", "logs", 1, &pl, &logs);
  ASSERT_EQ(logs.size(), 1u);
  simdjson::dom::element l = logs.at(0);
  EXPECT_EQ(S(l, "Timestamp"), S(sent, "log_time"));
  EXPECT_EQ(S(l, "TraceId"), trace_id);
  EXPECT_EQ(S(l, "SpanId"), S(sent, "root_span_id"));
  EXPECT_EQ(I(l, "TraceFlags"), 1);
  EXPECT_EQ(S(l, "SeverityText"), "WARN");
  EXPECT_EQ(I(l, "SeverityNumber"), 13);
  EXPECT_EQ(I(l, "Severity"), 4);
  EXPECT_EQ(S(l, "Body"), "disk almost full on /dev/sda");
  EXPECT_EQ(Obj(l["LogAttributes"]), "disk=/dev/sda;used_pct=97");
  EXPECT_EQ(Obj(l["ResourceAttributes"]), "service.name=" + run + "-logs");

  simdjson::dom::parser pl2;
  simdjson::dom::array jlogs;
  std::string body = WaitForRows("/api/v1/logs?service=" + run + "-logs-json&severity=error", "logs", 1, &pl2, &jlogs);
  ASSERT_EQ(jlogs.size(), 1u);
  EXPECT_EQ(S(jlogs.at(0), "Timestamp"), S(sent, "json_log_time"));
  EXPECT_EQ(S(jlogs.at(0), "SeverityText"), "ERROR");
  EXPECT_EQ(I(jlogs.at(0), "SeverityNumber"), 17);
  EXPECT_EQ(S(jlogs.at(0), "Body"), "{\"msg\":\"payment declined\",\"code\":7}");
  EXPECT_EQ(S(jlogs.at(0), "TraceId"), "");
  // Filters: word search (case variants), severity, trace id; the histogram counts what matched.
  simdjson::dom::parser pf;
  simdjson::dom::element doc;
  std::string found = Get("/api/v1/logs?search=DECLINED&service=" + run + "-logs-json");
  ASSERT_EQ(pf.parse(found).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(doc["logs"].get_array().size(), 1u) << found;
  EXPECT_EQ(I(doc["histogram"].at(0), "Severity"), 5) << found;
  EXPECT_EQ(I(doc["histogram"].at(0), "Count"), 1) << found;
  // Attribute filters look at the record's attributes and its resource's.
  auto log_count = [&](const std::string& filters) {
    simdjson::dom::parser lp;
    simdjson::dom::element d;
    std::string b = Get("/api/v1/logs?service=" + run + "-logs" + filters);
    return lp.parse(b).get(d) == simdjson::SUCCESS ? d["logs"].get_array().size() : size_t(999);
  };
  EXPECT_EQ(log_count("&attr=disk%3D%2Fdev%2Fsda"), 1u);
  EXPECT_EQ(log_count("&attr=used_pct!%3D97"), 0u);
  EXPECT_EQ(log_count("&attr=service.name~-logs%24"), 1u);
  EXPECT_EQ(log_count("&attr=disk~nvme"), 0u);
  EXPECT_EQ(GetStatus("/api/v1/logs?attr=disk~%5B"), 400);
  std::string none = Get("/api/v1/logs?severity=warn&service=" + run + "-logs-json");
  ASSERT_EQ(pf.parse(none).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(doc["logs"].get_array().size(), 0u) << none;
  std::string by_trace = Get("/api/v1/logs?trace_id=" + trace_id);
  ASSERT_EQ(pf.parse(by_trace).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(doc["logs"].get_array().size(), 1u) << by_trace;

  // ---- OTLP/gRPC exporters: a trace and a log record ----
  simdjson::dom::parser pg;
  simdjson::dom::array gspans;
  WaitForRows("/api/v1/traces?service=" + run + "-grpc", "spans", 1, &pg, &gspans);
  ASSERT_EQ(gspans.size(), 1u);
  simdjson::dom::element gs = gspans.at(0);
  EXPECT_EQ(S(gs, "TraceId"), S(sent, "grpc_trace_id"));
  EXPECT_EQ(S(gs, "SpanId"), S(sent, "grpc_span_id"));
  EXPECT_EQ(S(gs, "Timestamp"), S(sent, "grpc_start"));
  EXPECT_EQ(S(gs, "SpanName"), "grpc call");
  EXPECT_EQ(S(gs, "SpanKind"), "SPAN_KIND_PRODUCER");
  EXPECT_EQ(S(gs, "Duration"), "12000000");
  EXPECT_EQ(S(gs, "StatusCode"), "STATUS_CODE_ERROR");
  EXPECT_EQ(S(gs, "StatusMessage"), "unavailable");
  EXPECT_EQ(Obj(gs["SpanAttributes"]), "otel.scope.name=grpc-lib;otel.scope.version=0.1.0;rpc.system=grpc;size=1.25");
  simdjson::dom::parser pgl;
  simdjson::dom::array glogs;
  WaitForRows("/api/v1/logs?service=" + run + "-grpc-logs", "logs", 1, &pgl, &glogs);
  ASSERT_EQ(glogs.size(), 1u);
  EXPECT_EQ(S(glogs.at(0), "Timestamp"), S(sent, "grpc_log_time"));
  EXPECT_EQ(S(glogs.at(0), "Body"), "sent over gRPC");
  EXPECT_EQ(S(glogs.at(0), "TraceId"), S(sent, "grpc_trace_id"));
  EXPECT_EQ(S(glogs.at(0), "SpanId"), S(sent, "grpc_span_id"));
  EXPECT_EQ(I(glogs.at(0), "SeverityNumber"), 9);
  EXPECT_EQ(Obj(glogs.at(0)["LogAttributes"]), "transport=grpc");

  // ---- the MV-fed tables and the storage stats ----
  std::string storage = Get("/api/v1/storage");
  EXPECT_NE(storage.find("\"table\":\"otel_traces\""), std::string::npos) << storage;
  EXPECT_NE(storage.find("\"table\":\"otel_traces_trace_id_ts\""), std::string::npos) << storage;
  EXPECT_NE(storage.find("\"table\":\"otel_traces_histogram\""), std::string::npos) << storage;
  simdjson::dom::parser sp;
  simdjson::dom::element st;
  ASSERT_EQ(sp.parse(storage).get(st), simdjson::SUCCESS) << storage;
  bool seen = false;
  for (auto t : st["tables"].get_array()) {
    if (S(t, "table") != "otel_traces") continue;
    seen = true;
    auto num = [&](const char* k) {
      double v = -1;
      if (t[k].get_double().get(v) != simdjson::SUCCESS) {
        std::string_view sv;
        if (t[k].get_string().get(sv) == simdjson::SUCCESS) v = std::stod(std::string(sv));
      }
      return v;
    };
    EXPECT_GE(num("rows"), 3) << storage;
    EXPECT_GT(num("bytes_on_disk"), num("compressed_bytes") * 0.5) << storage;
    EXPECT_GT(num("compressed_bytes"), 0) << storage;
    EXPECT_NEAR(num("compression_ratio"), num("uncompressed_bytes") / num("compressed_bytes"), 0.01) << storage;
  }
  EXPECT_TRUE(seen) << storage;
}

ExportTraceServiceRequest OneSpan(const std::string& service, const std::string& trace_id) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  auto* s = rs->add_scope_spans()->add_spans();
  s->set_trace_id(trace_id);
  s->set_span_id("\x01\x02\x03\x04\x05\x06\x07\x08");
  s->set_name("op");
  auto now = std::chrono::system_clock::now().time_since_epoch();
  s->set_start_time_unix_nano(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  s->set_end_time_unix_nano(s->start_time_unix_nano() + 1000);
  return req;
}

// google.rpc.Status { int32 code = 1; string message = 2; } → code.
int RpcCode(const std::string& body) {
  protowire::Reader r(body);
  uint32_t f;
  protowire::WireType t;
  uint64_t v = 0;
  while (!r.done() && r.Next(&f, &t)) {
    if (f == 1 && t == protowire::kVarint) return r.Varint(&v) ? static_cast<int>(v) : -1;
    if (!r.Skip(t)) break;
  }
  return -1;
}

TEST_F(OtelIngest, EncodingsAndPartialSuccess) {
  const std::string tid(16, '\x42');
  std::string pb = OneSpan("enc-svc", tid).SerializeAsString();
  EXPECT_EQ(Post("/v1/traces", pb, "application/x-protobuf").status, 200);
  EXPECT_EQ(Post("/v1/traces", compress::ZlibCompress(pb, compress::ZlibFormat::kGzip), "application/x-protobuf", "gzip").status, 200);
  EXPECT_EQ(Post("/v1/traces", compress::ZlibCompress(pb, compress::ZlibFormat::kZlib), "application/x-protobuf", "deflate").status, 200);
  EXPECT_EQ(Post("/v1/traces", compress::ZstdCompress(pb), "application/x-protobuf", "zstd").status, 200);
  EXPECT_EQ(Post("/v1/traces", compress::SnappyCompress(pb), "application/x-protobuf", "snappy").status, 200);
  simdjson::dom::parser p;
  simdjson::dom::array spans;
  WaitForRows("/api/v1/traces?service=enc-svc", "spans", 5, &p, &spans);
  EXPECT_EQ(spans.size(), 5u);

  // One good span and one with a 3-byte trace id: 200 with partial_success.rejected_spans = 1.
  auto req = OneSpan("partial-svc", tid);
  *req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans() = req.resource_spans(0).scope_spans(0).spans(0);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_trace_id("abc");
  auto resp = Post("/v1/traces", req.SerializeAsString(), "application/x-protobuf");
  ASSERT_EQ(resp.status, 200);
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse out;
  ASSERT_TRUE(out.ParseFromString(resp.body));
  EXPECT_EQ(out.partial_success().rejected_spans(), 1);
  EXPECT_NE(out.partial_success().error_message().find("trace_id of 3 bytes"), std::string::npos);
  // The same in JSON.
  auto jresp = Post("/v1/traces",
                    R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","name":"x"},{"name":"ok"}]}]}]})",
                    "application/json");
  EXPECT_EQ(jresp.status, 200);
  EXPECT_NE(jresp.body.find("\"rejectedSpans\":\"1\""), std::string::npos) << jresp.body;
  EXPECT_EQ(jresp.Header("Content-Type"), "application/json");
  // A successful protobuf response is an empty ExportTraceServiceResponse.
  auto ok = Post("/v1/traces", pb, "application/x-protobuf");
  EXPECT_EQ(ok.body, "");
  EXPECT_EQ(ok.Header("Content-Type"), "application/x-protobuf");
}

TEST_F(OtelIngest, HostileInputGetsClear4xxAndTheServerStaysUp) {
  std::string pb = OneSpan("hostile-svc", std::string(16, '\x07')).SerializeAsString();
  // Truncated protobuf.
  auto r = Post("/v1/traces", pb.substr(0, pb.size() - 3), "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(RpcCode(r.body), 3) << r.body;  // INVALID_ARGUMENT
  r = Post("/v1/logs", std::string("\x0a\x10\x12\x0e", 4), "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  // A gzip bomb: 64 MiB of zeros in ~64 KiB; the decoded limit is 8 x --max-request-body (1 MB).
  std::string bomb = compress::ZlibCompress(std::string(64u << 20, '\0'), compress::ZlibFormat::kGzip, 9);
  ASSERT_LT(bomb.size(), 1u << 20);
  r = Post("/v1/traces", bomb, "application/x-protobuf", "gzip");
  EXPECT_EQ(r.status, 413) << r.body;
  r = Post("/v1/logs", compress::ZstdCompress(std::string(64u << 20, 'a'), 19), "application/json", "zstd");
  EXPECT_EQ(r.status, 413) << r.body;
  // Corrupt compressed data, unknown encodings and content types.
  EXPECT_EQ(Post("/v1/traces", "not gzip at all", "application/x-protobuf", "gzip").status, 400);
  EXPECT_EQ(Post("/v1/traces", pb, "application/x-protobuf", "br").status, 415);
  EXPECT_EQ(Post("/v1/traces", pb, "text/plain").status, 415);
  // Bad JSON, wrong JSON types, deep nesting.
  r = Post("/v1/logs", "{\"resourceLogs\":[{", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":3"), std::string::npos) << r.body;
  EXPECT_EQ(Post("/v1/logs", R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]})",
                 "application/json").status,
            400);
  std::string deep = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)";
  for (int i = 0; i < 5000; ++i) deep += R"({"arrayValue":{"values":[)";
  EXPECT_EQ(Post("/v1/logs", deep, "application/json").status, 400);
  // Deep nesting in protobuf: 10,000 nested arrays.
  std::string value = "\x0a\x01x";  // AnyValue{string_value: "x"}
  for (int i = 0; i < 10000 && value.size() < (700u << 10); ++i) {
    protowire::Writer arr, any;
    arr.BytesField(1, value);
    any.BytesField(5, arr.out());
    value = any.out();
  }
  ExportTraceServiceRequest dreq = OneSpan("deep-svc", std::string(16, '\x08'));
  protowire::Writer kvw;
  kvw.BytesField(1, "deep");
  kvw.BytesField(2, value);
  // Splice the raw KeyValue in (the generated parser would itself refuse this depth).
  std::string dspan = dreq.resource_spans(0).scope_spans(0).spans(0).SerializeAsString();
  protowire::Writer sp, ss, rs, top;
  sp.out() = dspan;
  sp.BytesField(9, kvw.out());
  ss.BytesField(2, sp.out());
  rs.BytesField(2, ss.out());
  top.BytesField(1, rs.out());
  r = Post("/v1/traces", top.out(), "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("nested deeper"), std::string::npos);
  // Unknown API key.
  r = Post("/v1/traces", pb, "application/x-protobuf", "", "no-such-key");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("project not found"), std::string::npos) << r.body;
  EXPECT_EQ(Post("/v1/logs", "{}", "application/json", "", "no-such-key").status, 404);
  // A body over --max-request-body.
  EXPECT_EQ(Post("/v1/traces", std::string(2u << 20, 'x'), "application/x-protobuf").status, 413);
  // Huge attributes and invalid UTF-8 are accepted, cut and repaired.
  auto big = OneSpan("big-svc", std::string(16, '\x09'));
  auto* span = big.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
  for (int i = 0; i < 1000; ++i) {
    auto* a = span->add_attributes();
    a->set_key("k" + std::to_string(i));
    a->mutable_value()->set_int_value(i);
  }
  auto* huge = span->add_attributes();
  huge->set_key("huge");
  huge->mutable_value()->set_bytes_value(std::string(300000, 'z'));
  span->set_name(std::string("bad \xff\xfe name"));  // serialized raw: the field is `string` but unchecked here
  std::string big_body = big.SerializePartialAsString();
  r = Post("/v1/traces", compress::ZlibCompress(big_body, compress::ZlibFormat::kGzip), "application/x-protobuf", "gzip");
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser p;
  simdjson::dom::array spans;
  WaitForRows("/api/v1/traces?service=big-svc", "spans", 1, &p, &spans);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(S(spans.at(0), "SpanName"), "bad \xef\xbf\xbd\xef\xbf\xbd name");
  simdjson::dom::object attrs;
  ASSERT_EQ(spans.at(0)["SpanAttributes"].get_object().get(attrs), simdjson::SUCCESS);
  EXPECT_EQ(attrs.size(), 256u);  // the per-map limit (the scope has no name: nothing added)

  // Still up, and the outcomes are counted.
  EXPECT_TRUE(HttpOk(g_server->url() + "/health"));
  EXPECT_TRUE(g_server->proc->running());
  std::string metrics = Get("/metrics");
  EXPECT_NE(metrics.find("coroot_ingest_otlp_requests_total{outcome=\"invalid\",signal=\"traces\"}"), std::string::npos);
  EXPECT_EQ(metrics.find("coroot_ingest_otlp_requests_total{outcome=\"invalid\",signal=\"traces\"} 0\n"), std::string::npos)
      << metrics;
}

// A raw unary call (bytes in, bytes out) so malformed messages can be sent.
grpc::Status RawCall(const std::string& method, const std::string& body, const std::string& key, std::string* resp) {
  auto channel = grpc::CreateChannel(g_server->grpc_addr(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  if (!key.empty()) ctx.AddMetadata("x-api-key", key);
  grpc::Slice slice(body);
  grpc::ByteBuffer req(&slice, 1), out;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &out, [&](grpc::Status st) { done.set_value(st); });
  grpc::Status st = done.get_future().get();
  std::vector<grpc::Slice> slices;
  resp->clear();
  if (st.ok() && out.Dump(&slices).ok())
    for (auto& s : slices) resp->append(reinterpret_cast<const char*>(s.begin()), s.size());
  return st;
}

TEST_F(OtelIngest, GrpcStatusCodesAndPartialSuccess) {
  const std::string traces = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  const std::string logs = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  auto good = OneSpan("grpc-raw-svc", std::string(16, '\x0b'));
  std::string resp;
  grpc::Status st = RawCall(traces, good.SerializeAsString(), "", &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp, "");
  st = RawCall(traces, good.SerializeAsString(), "no-such-key", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("project not found"), std::string::npos) << st.error_message();
  std::string body = good.SerializeAsString();
  st = RawCall(traces, body.substr(0, body.size() - 2), "", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  st = RawCall(logs, "\x0a\x05\x12\x03\x12\x01\x0b", "", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  // Over the message size limit (8 x --max-request-body = 8 MB).
  st = RawCall(traces, std::string(9u << 20, '\0'), "", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  // Partial success through the typed stub.
  auto req = good;
  *req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans() = req.resource_spans(0).scope_spans(0).spans(0);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_span_id("123");
  auto stub = opentelemetry::proto::collector::trace::v1::TraceService::NewStub(
      grpc::CreateChannel(g_server->grpc_addr(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse out;
  st = stub->Export(&ctx, req, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(out.partial_success().rejected_spans(), 1);
  simdjson::dom::parser p;
  simdjson::dom::array spans;
  WaitForRows("/api/v1/traces?service=grpc-raw-svc", "spans", 2, &p, &spans);
  EXPECT_EQ(spans.size(), 2u);
  EXPECT_TRUE(g_server->proc->running());
}

TEST_F(OtelIngest, CrashRightAfterTheAckLosesNothing) {
  // Acknowledged, then SIGKILL inside the 5 s batching window: the WAL replays it at the next start.
  auto req = OneSpan("crash-svc", std::string(16, '\x0c'));
  ASSERT_EQ(Post("/v1/traces", req.SerializeAsString(), "application/x-protobuf").status, 200);
  ASSERT_EQ(Post("/v1/logs", R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"crash-logs"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":")" +
                     std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count()) +
                     R"(","body":{"stringValue":"survives a crash"}}]}]}]})",
                 "application/json")
                .status,
            200);
  g_server->proc->Stop(SIGKILL, 10s);
  EXPECT_FALSE(g_server->proc->running());
  g_server->Start("coroot-after-crash.log");
  ASSERT_TRUE(WaitFor([] { return HttpOk(g_server->url() + "/health"); }, 60s)) << g_server->proc->Log();
  simdjson::dom::parser p;
  simdjson::dom::array rows;
  WaitForRows("/api/v1/traces?service=crash-svc", "spans", 1, &p, &rows);
  EXPECT_EQ(rows.size(), 1u);
  simdjson::dom::parser pl;
  simdjson::dom::array logs;
  WaitForRows("/api/v1/logs?service=crash-logs", "logs", 1, &pl, &logs);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(S(logs.at(0), "Body"), "survives a crash");
  EXPECT_NE(g_server->proc->Log().find("WAL: 2 rows from the previous run"), std::string::npos) << g_server->proc->Log();
}

TEST_F(OtelIngest, GracefulRestartKeepsAcceptedRows) {
  // Rows accepted just before SIGTERM (inside the 5 s batching window) are flushed before exit.
  auto req = OneSpan("restart-svc", std::string(16, '\x0a'));
  ASSERT_EQ(Post("/v1/traces", req.SerializeAsString(), "application/x-protobuf").status, 200);
  g_server->proc->Stop(15, 30s);
  g_server->Start("coroot2.log");
  ASSERT_TRUE(WaitFor([] { return HttpOk(g_server->url() + "/health"); }, 60s)) << g_server->proc->Log();
  std::string body = Get("/api/v1/traces?service=restart-svc");
  EXPECT_NE(body.find("\"ServiceName\":\"restart-svc\""), std::string::npos) << body;
}

// The read API answers a project's API key or a logged-in user's session, nothing else.
TEST_F(OtelIngest, ReadApiNeedsAnApiKeyOrASession) {
  auto get = [](const std::string& path, http::Headers headers) {
    http::ClientRequest r;
    r.url = g_server->url() + path;
    r.headers = std::move(headers);
    auto resp = http::Fetch(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::ClientResponse{};
  };
  const std::string logs = "/api/v1/logs?service=nobody";
  for (const char* path : {"/api/v1/logs", "/api/v1/traces?service=x", "/api/v1/traces/heatmap", "/api/v1/storage",
                           "/api/v1/profiles/types", "/api/user"}) {
    EXPECT_EQ(get(path, {}).status, 401) << path;
  }
  EXPECT_EQ(get(logs, {{"Cookie", g_session}}).status, 200);
  EXPECT_EQ(get(logs, {{"Cookie", "theme=dark; " + g_session + "; other=1"}}).status, 200);
  EXPECT_EQ(get(logs, {{"X-Api-Key", server::kDefaultApiKey}}).status, 200);
  EXPECT_EQ(get(logs, {{"X-Api-Key", "not-a-key"}}).status, 404);
  EXPECT_EQ(get(logs + "&project=no-such-project", {{"Cookie", g_session}}).status, 404);

  // A cookie whose signature or payload was changed is refused.
  const size_t dot = g_session.find('.');
  ASSERT_NE(dot, std::string::npos);
  std::string bad_mac = g_session;
  bad_mac[dot + 2] = bad_mac[dot + 2] == 'x' ? 'y' : 'x';
  EXPECT_EQ(get(logs, {{"Cookie", bad_mac}}).status, 401);
  std::string other_user = "coroot_session=" + server::auth::Base64UrlEncode("{\"id\":2,\"exp\":4102444800}") +
                           g_session.substr(dot);
  EXPECT_EQ(get(logs, {{"Cookie", other_user}}).status, 401);
  EXPECT_EQ(get(logs, {{"Cookie", "coroot_session=garbage"}}).status, 401);

  // Logins: a wrong password, an unknown user and a malformed body get no cookie.
  for (const char* body : {"{\"email\":\"admin\",\"password\":\"guess\"}", "{\"email\":\"root\",\"password\":\"\"}"}) {
    auto r = Post("/api/login", body, "application/json");
    EXPECT_EQ(r.status, 401) << body;
    EXPECT_EQ(r.Header("Set-Cookie"), "");
  }
  EXPECT_EQ(Post("/api/login", "{\"email\":", "application/json").status, 400);

  auto user = get("/api/user", {{"Cookie", g_session}});
  EXPECT_EQ(user.status, 200);
  EXPECT_EQ(user.body, "{\"id\":1,\"email\":\"admin\",\"name\":\"Admin\",\"role\":\"Admin\"}");
  auto out = Post("/api/logout", "", "application/json");
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.Header("Set-Cookie").find("coroot_session=; Path=/; Max-Age=0"), std::string::npos);
}

}  // namespace
}  // namespace coroot::testing
