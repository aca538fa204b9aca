// OTLP request bodies for the benchmarks: what an SDK of an instrumented service would send.
#include "bench/otlp_bench_requests.h"

#include <cstdlib>
#include <random>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace coroot::bench {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

void Str(pb_common::KeyValue* kv, const std::string& k, const std::string& v) {
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

std::string RandomBytes(std::mt19937_64& rng, int n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// When the records of a request happened. Live (default): as an SDK exports them, each request
// holding the 5 s before it was sent, requests 100 ms apart, ending now. OTLP_BENCH_SPREAD=hour:
// every record anywhere in the last hour (each insert then covers 60 minutes and the histogram
// view's output is nearly as many rows as its input: the view's worst case).
bool SpreadOverAnHour() {
  const char* s = std::getenv("OTLP_BENCH_SPREAD");
  return s && std::string(s) == "hour";
}
uint64_t RecordTime(std::mt19937_64& rng, uint64_t now_ns, size_t request, size_t requests) {
  if (SpreadOverAnHour()) return now_ns - rng() % 3600000000000ull;
  return now_ns - (requests - request) * 100000000ull - rng() % 5000000000ull;
}

}  // namespace

// Requests of `per_request` spans that look like an instrumented service's: resource with 6
// attributes, ~8 span attributes, an event on every fifth span, HTTP/DB client and server spans,
// calling 8 pods (OTLP_BENCH_SPREAD=hour: 255 peer addresses).
std::vector<std::string> MakeTraceRequests(int spans, int per_request, uint64_t now_ns) {
  std::mt19937_64 rng(42);
  std::vector<std::string> out;
  const size_t requests = (spans + per_request - 1) / per_request;
  const uint64_t peers = SpreadOverAnHour() ? 255 : 8;
  const char* services[] = {"checkout", "cart", "payments", "catalog", "frontend"};
  const char* names[] = {"GET /api/cart", "POST /api/checkout", "SELECT orders", "redis GET", "grpc Charge"};
  for (int done = 0; done < spans;) {
    ExportTraceServiceRequest req;
    auto* rs = req.add_resource_spans();
    const char* svc = services[out.size() % 5];
    Str(rs->mutable_resource()->add_attributes(), "service.name", svc);
    Str(rs->mutable_resource()->add_attributes(), "service.version", "1.8.3");
    Str(rs->mutable_resource()->add_attributes(), "host.name", "node-" + std::to_string(out.size() % 7));
    Str(rs->mutable_resource()->add_attributes(), "k8s.pod.name", std::string(svc) + "-7d9f8c6b5-x2x9z");
    Str(rs->mutable_resource()->add_attributes(), "k8s.namespace.name", "shop");
    Str(rs->mutable_resource()->add_attributes(), "telemetry.sdk.language", "nodejs");
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("@opentelemetry/instrumentation-http");
    ss->mutable_scope()->set_version("0.52.1");
    std::string trace = RandomBytes(rng, 16);
    for (int i = 0; i < per_request && done < spans; ++i, ++done) {
      auto* s = ss->add_spans();
      if (i % 4 == 0) trace = RandomBytes(rng, 16);
      s->set_trace_id(trace);
      s->set_span_id(RandomBytes(rng, 8));
      if (i % 4 != 0) s->set_parent_span_id(RandomBytes(rng, 8));
      int k = static_cast<int>(rng() % 5);
      s->set_name(names[k]);
      s->set_kind(k < 2 ? opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER
                        : opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
      uint64_t start = RecordTime(rng, now_ns, out.size(), requests);
      s->set_start_time_unix_nano(start);
      s->set_end_time_unix_nano(start + rng() % 500000000);
      Str(s->add_attributes(), "http.method", k == 1 ? "POST" : "GET");
      Str(s->add_attributes(), "http.route", "/api/cart/{id}");
      Str(s->add_attributes(), "http.url", "http://cart:8080/api/cart/" + std::to_string(rng() % 100000));
      auto* a = s->add_attributes();
      a->set_key("http.status_code");
      a->mutable_value()->set_int_value(rng() % 10 == 0 ? 500 : 200);
      Str(s->add_attributes(), "net.peer.name", "cart");
      Str(s->add_attributes(), "net.sock.peer.addr", "10.0." + std::to_string(rng() % peers) + ".7");
      a = s->add_attributes();
      a->set_key("net.peer.port");
      a->mutable_value()->set_int_value(8080);
      Str(s->add_attributes(), "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)");
      if (i % 5 == 0) {
        auto* e = s->add_events();
        e->set_time_unix_nano(start + 1000);
        e->set_name("exception");
        Str(e->add_attributes(), "exception.type", "TimeoutError");
        Str(e->add_attributes(), "exception.message", "upstream request timed out after 500ms");
      }
      if (rng() % 10 == 0) {
        s->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
        s->mutable_status()->set_message("upstream failed");
      }
    }
    out.push_back(req.SerializeAsString());
  }
  return out;
}

std::vector<std::string> MakeLogRequests(int logs, int per_request, uint64_t now_ns) {
  std::mt19937_64 rng(7);
  std::vector<std::string> out;
  const size_t requests = (logs + per_request - 1) / per_request;
  const char* services[] = {"checkout", "cart", "payments", "catalog", "frontend"};
  for (int done = 0; done < logs;) {
    ExportLogsServiceRequest req;
    auto* rl = req.add_resource_logs();
    Str(rl->mutable_resource()->add_attributes(), "service.name", services[out.size() % 5]);
    Str(rl->mutable_resource()->add_attributes(), "host.name", "node-" + std::to_string(out.size() % 7));
    Str(rl->mutable_resource()->add_attributes(), "container.id", RandomBytes(rng, 4) == "" ? "" : "3f2a9c0d1e7b");
    auto* sl = rl->add_scope_logs();
    for (int i = 0; i < per_request && done < logs; ++i, ++done) {
      auto* l = sl->add_log_records();
      l->set_time_unix_nano(RecordTime(rng, now_ns, out.size(), requests));
      int sev = (rng() % 10 == 0) ? 17 : 9;
      l->set_severity_number(static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(sev));
      l->set_severity_text(sev == 17 ? "ERROR" : "INFO");
      l->mutable_body()->set_string_value("GET /api/cart/" + std::to_string(rng() % 100000) +
                                          " 200 12ms user=" + std::to_string(rng() % 1000) + " cache=hit region=eu-west-1");
      Str(l->add_attributes(), "logger", "http.access");
      Str(l->add_attributes(), "thread", "worker-" + std::to_string(rng() % 16));
      if (i % 3 == 0) {
        l->set_trace_id(RandomBytes(rng, 16));
        l->set_span_id(RandomBytes(rng, 8));
      }
    }
    out.push_back(req.SerializeAsString());
  }
  return out;
}

}  // namespace coroot::bench
