// OTLP ingestion benchmark: spans (and log records) per CPU-second from an OTLP/HTTP protobuf body
// through the /v1/traces handler (decode → columnar batch → batching writer → insert) to rows in
// the embedded ClickHouse engine, beside raw inserts of the same rows (encoded from batches decoded
// in advance) into identical tables in the same run: in 10,000-row blocks (Coroot's insert size) and
// in 100,000-row blocks (where the engine's cost per insert stops mattering: its best rate).
//   otlp_ingest_bench [spans=100000] [logs=100000]     (OTLP_BENCH_SPREAD=hour: see RecordTime;
//   OTLP_BENCH_MIN_INSERT_INTERVAL_MS / OTLP_BENCH_MAX_INSERT_ROWS vary the writer's insert rule)
// Measured: RowBinary, Native, and Native with the WAL (appended and fdatasync'ed before a request is
// answered) in front; the handler spans also from 8 concurrent clients (with the WAL: fdatasyncs per request).
// CPU time is the whole process's (getrusage), so the engine's own threads are counted for both, and
// each figure waits for the background merges its inserts started. The writer cuts a batch at
// 10,000 rows when it is idle; while an insert runs, the next batch keeps growing (the line shows
// how many inserts it made).
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lib/clickhouse/embedded_client.h"
#include "lib/base/strings.h"
#include "lib/clickhouse/row_binary.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "server/ingest/otlp_handler.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_wal.h"
#include "server/storage/clickhouse/otel_writer.h"

using namespace coroot;
namespace pb_common = opentelemetry::proto::common::v1;
using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

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

struct Figure {
  double rows = 0, wall = 0, cpu = 0;
  double per_cpu() const { return rows / cpu; }
};

// How many inserts the writer made: its batches grow past flush_rows while an insert is running.
std::string InsertsOf(server::storage::OtelWriter& writer) {
  std::vector<prom::MetricFamily> out;
  writer.Collect(&out);
  for (const auto& f : out)
    if (f.name == "coroot_clickhouse_inserts_total")
      for (const auto& s : f.samples)
        if (s.labels.size() == 1 && s.labels[0].value == "ok") return std::to_string(int64_t(s.value)) + " inserts";
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  int spans = argc > 1 ? std::atoi(argv[1]) : 100000;
  int logs = argc > 2 ? std::atoi(argv[2]) : 100000;
  std::string dir = "/tmp/coroot_otlp_bench";
  std::filesystem::remove_all(dir);
  clickhouse::EmbeddedOptions eo;
  eo.data_dir = dir + "/ch";
  auto client = clickhouse::EmbeddedClient::Open(eo);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  auto projects = server::ProjectStore::Open(dir + "/db.sqlite");
  if (!projects.ok() || !(*projects)->Bootstrap("http://127.0.0.1:1", "").ok()) return 1;
  auto project = (*projects)->FindByApiKey("");

  uint64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  auto trace_reqs = MakeTraceRequests(spans, 1000, now_ns);
  auto log_reqs = MakeLogRequests(logs, 1000, now_ns);
  size_t trace_bytes = 0, log_bytes = 0;
  for (auto& r : trace_reqs) trace_bytes += r.size();
  for (auto& r : log_reqs) log_bytes += r.size();

  // The same rows decoded into batches of `rows` (untimed): the raw baselines' input. 10,000 is
  // Coroot's insert size; 100,000 is where the engine's per-insert cost stops mattering.
  auto span_batches_of = [&](size_t rows) {
    std::vector<server::storage::SpanBatch> out(1);
    for (const auto& r : trace_reqs) {
      if (out.back().rows() >= rows) out.emplace_back();
      server::storage::SpanBatch b;
      (void)server::otlp::DecodeTracesProto(r, server::otlp::DecodeLimits(), &b);
      out.back().Append(b);
    }
    return out;
  };
  auto span_batches = span_batches_of(10000), span_batches_big = span_batches_of(100000);
  std::vector<server::storage::LogBatch> log_batches(1);
  for (const auto& r : log_reqs) {
    if (log_batches.back().rows() >= 10000) log_batches.emplace_back();
    server::storage::LogBatch b;
    (void)server::otlp::DecodeLogsProto(r, server::otlp::DecodeLimits(), &b);
    log_batches.back().Append(b);
  }

  // Background merges an insert starts are part of its cost: each figure waits for them to end
  // (and the next figure does not pay for them).
  auto merges_done = [&] {
    for (int i = 0; i < 600; ++i) {
      auto r = (*client)->Query("SELECT count() FROM system.merges");
      if (!r.ok() || Trim(*r) == "0") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  auto measure = [&](auto fn, double rows) {
    Figure f;
    merges_done();
    double c0 = CpuSeconds(), w0 = Now();
    fn();
    merges_done();
    f.cpu = CpuSeconds() - c0;
    f.wall = Now() - w0;
    f.rows = rows;
    return f;
  };
  auto line = [](const std::string& what, const Figure& f) {
    std::printf("  %-52s %8.0f rows/CPU-s %8.0f rows/s wall (%.2f CPU-s, %.2f s)\n", what.c_str(), f.per_cpu(),
                f.rows / f.wall, f.cpu, f.wall);
  };
  auto count = [&](const std::string& t) {
    auto r = (*client)->Query("SELECT count() FROM " + t);
    return r.ok() ? Trim(*r) : r.status().ToString();
  };

  std::printf("OTLP ingest benchmark: %d spans (%zu requests of 1000, %.0f bytes/span), %d log records (%.0f bytes/record)\n",
              spans, trace_reqs.size(), double(trace_bytes) / spans, logs, double(log_bytes) / logs);
  Figure dec = measure(
      [&] {
        for (const auto& body : trace_reqs) {
          server::storage::SpanBatch b;
          (void)server::otlp::DecodeTracesProto(body, server::otlp::DecodeLimits(), &b);
        }
      },
      spans);
  line("decode only: OTLP protobuf spans -> columnar batch", dec);
  // For comparison: protoc-generated classes only parsing the same bodies (no conversion to rows).
  Figure gen = measure(
      [&] {
        for (const auto& body : trace_reqs) {
          ExportTraceServiceRequest m;
          if (!m.ParseFromString(body)) std::exit(1);
        }
      },
      spans);
  line("parse only: protoc-generated ExportTraceServiceRequest", gen);
  Figure dec_l = measure(
      [&] {
        for (const auto& body : log_reqs) {
          server::storage::LogBatch b;
          (void)server::otlp::DecodeLogsProto(body, server::otlp::DecodeLimits(), &b);
        }
      },
      logs);
  line("decode only: OTLP protobuf logs -> columnar batch", dec_l);
  // The WAL alone: every span request's body appended (and fdatasync'ed) from 1 and from 8 clients,
  // nothing else running, so the syncs bound the rate and sharing them shows.
  for (int clients : {1, 8}) {
    server::storage::WalOptions wl;
    wl.dir = dir + "/wal_alone" + std::to_string(clients);
    auto wal = server::storage::OtelWal::Open(wl);
    if (!wal.ok()) return 1;
    Figure f = measure(
        [&] {
          auto append = [&](size_t first) {
            for (size_t i = first; i < trace_reqs.size(); i += clients)
              if (!(*wal)->Append({false, false, "db", trace_reqs[i]}, 1).ok()) std::exit(1);
          };
          std::vector<std::thread> threads;
          for (int t = 1; t < clients; ++t) threads.emplace_back(append, t);
          append(0);
          for (auto& t : threads) t.join();
        },
        spans);
    line("WAL append alone, " + std::to_string(clients) + " client(s)", f);
    std::printf("  WAL append alone, %d client(s): %.0f requests/s wall, %.2f fdatasyncs per request\n", clients,
                trace_reqs.size() / f.wall, double((*wal)->syncs()) / trace_reqs.size());
    wal->reset();
    std::filesystem::remove_all(wl.dir);
  }

  // Rounds: the first warms the engine up (its figures are not printed); each round uses fresh databases.
  for (int round = 0; round < 2; ++round)
  for (const std::string variant : {"RowBinary", "Native", "Native+WAL"}) {
    const bool print = round == 1;
    const bool with_wal = variant == "Native+WAL";
    const std::string format = with_wal ? "Native" : variant;
    std::string sfx = (with_wal ? "NativeWal" : format) + std::to_string(round);
    std::string ours_db = "coroot_ours_" + sfx, raw_db = "coroot_raw_" + sfx, nomv_db = "coroot_nomv_" + sfx,
                big_db = "coroot_big_" + sfx;
    server::storage::OtelWriterOptions wo;
    wo.format = format;
    // The writer's insert rule can be varied to see what insert size costs (the server's defaults otherwise).
    if (const char* v = std::getenv("OTLP_BENCH_MIN_INSERT_INTERVAL_MS")) wo.min_insert_interval = std::chrono::milliseconds(std::atoi(v));
    if (const char* v = std::getenv("OTLP_BENCH_MAX_INSERT_ROWS")) wo.max_insert_rows = static_cast<size_t>(std::atoll(v));
    std::unique_ptr<server::storage::OtelWal> wal;
    if (with_wal) {
      server::storage::WalOptions wl;
      wl.dir = dir + "/wal" + sfx;
      auto w = server::storage::OtelWal::Open(wl);
      if (!w.ok()) return 1;
      wal = std::move(*w);
      wo.on_stored = [&wal](const std::map<uint64_t, uint64_t>& m) { wal->Release(m); };
    }
    server::storage::OtelWriter writer(client->get(), wo);
    const std::string conc_db = "coroot_conc_" + sfx;
    if (!writer.EnsureSchema(ours_db).ok() || !writer.EnsureSchema(raw_db).ok() ||
        !writer.EnsureSchema(big_db).ok() || !writer.EnsureSchema(conc_db).ok())
      return 1;
    writer.Start();
    std::string handler_db = ours_db;
    server::OtlpHandlerOptions ho;
    ho.database_of = [&](const server::Project&) { return handler_db; };
    ho.wal = wal.get();
    server::OtlpHandler handler(projects->get(), &writer, ho);
    // Raw: encode (already decoded rows) and insert, batch by batch.
    auto raw_insert = [&](const auto& batches, const char* table, const char* cols) {
      for (const auto& b : batches) {
        std::string data;
        if (format == "Native") {
          b.WriteNative(&data);
        } else {
          clickhouse::RowBinaryWriter w;
          b.WriteRowBinary(&w);
          data = w.Take();
        }
        Status st = (*client)->Insert(raw_db + "." + table + " " + cols, format, data);
        if (!st.ok()) {
          std::fprintf(stderr, "raw insert: %s\n", st.ToString().c_str());
          std::exit(1);
        }
      }
    };
    std::atomic<uint64_t> refused{0};  // 429s answered (each retried after 100 ms)
    // `clients` threads send the requests (request i from thread i % clients), as concurrent
    // exporters would: with the WAL, their fdatasyncs can be shared (group commit).
    auto through_handler = [&](const std::vector<std::string>& reqs, bool traces, int clients = 1) {
      auto send = [&](int first) {
        for (size_t i = first; i < reqs.size(); i += clients) {
          http::Request req;
          req.method = "POST";
          req.headers = {{"Content-Type", "application/x-protobuf"}};
          req.body = reqs[i];
          http::Response resp;
          traces ? handler.HandleTraces(req, &resp) : handler.HandleLogs(req, &resp);
          // 429: the writer's buffer is full while ClickHouse catches up; an SDK retries later.
          while (resp.status == 429) {
            refused++;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            resp = http::Response();
            traces ? handler.HandleTraces(req, &resp) : handler.HandleLogs(req, &resp);
          }
          if (resp.status != 200) {
            std::fprintf(stderr, "handler answered %d: %s\n", resp.status, resp.body.c_str());
            std::_Exit(1);  // not exit(): the writer's and the engine's threads are running
          }
        }
      };
      std::vector<std::thread> threads;
      for (int t = 1; t < clients; ++t) threads.emplace_back(send, t);
      send(0);
      for (auto& t : threads) t.join();
      if (!writer.Flush(std::chrono::minutes(10)).ok()) std::exit(1);
    };
    // The same tables without the materialized views: what the MVs cost the engine.
    if (!(*client)->Query("CREATE DATABASE " + nomv_db).ok() ||
        !(*client)->Query("CREATE TABLE " + nomv_db + ".otel_traces AS " + raw_db + ".otel_traces").ok())
      return 1;
    std::string keep_raw = raw_db;
    raw_db = nomv_db;
    Figure nomv_t = measure([&] { raw_insert(span_batches, "otel_traces", server::storage::SpanBatch::Columns()); }, spans);
    raw_db = big_db;
    Figure big_t = measure([&] { raw_insert(span_batches_big, "otel_traces", server::storage::SpanBatch::Columns()); }, spans);
    raw_db = keep_raw;
    Figure raw_t = measure([&] { raw_insert(span_batches, "otel_traces", server::storage::SpanBatch::Columns()); }, spans);
    uint64_t syncs0 = wal ? wal->syncs() : 0;
    Figure ours_t = measure([&] { through_handler(trace_reqs, true); }, spans);
    double syncs_per_request_1 = wal ? double(wal->syncs() - syncs0) / trace_reqs.size() : 0;
    Figure raw_l = measure([&] { raw_insert(log_batches, "otel_logs", server::storage::LogBatch::Columns()); }, logs);
    Figure ours_l = measure([&] { through_handler(log_reqs, false); }, logs);
    // The spans again from kClients concurrent clients, into a database of their own.
    constexpr int kClients = 8;
    handler_db = conc_db;
    syncs0 = wal ? wal->syncs() : 0;
    Figure conc_t = measure([&] { through_handler(trace_reqs, true, kClients); }, spans);
    double syncs_per_request = wal ? double(wal->syncs() - syncs0) / trace_reqs.size() : 0;
    handler_db = ours_db;
    if (!print) {
      writer.Stop();
      continue;
    }
    line("spans, " + variant + ": raw insert, otel_traces without its MVs", nomv_t);
    line("spans, " + variant + ": raw columnar insert, 10,000-row blocks (baseline)", raw_t);
    line("spans, " + variant + ": raw columnar insert, 100,000-row blocks (baseline)", big_t);
    line("spans, " + variant + ": OTLP handler -> ClickHouse rows (" + InsertsOf(writer) + ")", ours_t);
    line("spans, " + variant + ": OTLP handler, " + std::to_string(kClients) + " concurrent clients", conc_t);
    if (refused > 0) std::printf("  %s: 429 answered %llu times (buffer full; retried)\n", variant.c_str(),
                                 static_cast<unsigned long long>(refused.load()));
    if (wal)
      std::printf("  %s: WAL fdatasyncs per span request: %.2f from 1 client, %.2f from %d concurrent clients\n",
                  variant.c_str(), syncs_per_request_1, syncs_per_request, kClients);
    line("logs, " + variant + ": raw columnar insert (baseline)", raw_l);
    line("logs, " + variant + ": OTLP handler -> ClickHouse rows", ours_l);
    std::printf("  %s: spans ours/raw = %.0f%% (10k blocks), %.0f%% (100k blocks), logs ours/raw = %.0f%%; "
                "rows stored: %s/%s spans (%s concurrent), %s/%s logs\n",
                variant.c_str(), 100 * ours_t.per_cpu() / raw_t.per_cpu(), 100 * ours_t.per_cpu() / big_t.per_cpu(),
                100 * ours_l.per_cpu() / raw_l.per_cpu(),
                count(ours_db + ".otel_traces").c_str(), count(raw_db + ".otel_traces").c_str(),
                count(conc_db + ".otel_traces").c_str(),
                count(ours_db + ".otel_logs").c_str(), count(raw_db + ".otel_logs").c_str());
    writer.Stop();
  }
  (*client)->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
