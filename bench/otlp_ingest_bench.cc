// OTLP ingestion benchmark: spans (and log records) per CPU-second from an OTLP/HTTP protobuf body
// through the /v1/traces handler (decode → columnar batch → batching writer → insert) to rows in
// the embedded ClickHouse engine, beside raw inserts of the same rows (encoded from batches decoded
// in advance) into identical tables in the same run: in 10,000-row blocks (Coroot's insert size) and
// in 100,000-row blocks (where the engine's cost per insert stops mattering: its best rate).
//   otlp_ingest_bench [spans=100000] [logs=100000]     (OTLP_BENCH_SPREAD=hour: see otlp_bench_requests.cc;
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
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_engine.h"
#include "bench/otlp_bench_requests.h"
#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_client.h"
#include "lib/clickhouse/row_binary.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "server/ingest/otlp_handler.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_wal.h"
#include "server/storage/clickhouse/otel_writer.h"

using namespace coroot;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Figure {
  double rows = 0, wall = 0, cpu = 0;
  std::string engine;  // the engine's counters that moved (OTLP_BENCH_EVENTS)
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
  auto client = bench::OpenFreshEngine(dir);
  auto projects = server::ProjectStore::Open(dir + "/db.sqlite");
  if (!projects.ok() || !(*projects)->Bootstrap("http://127.0.0.1:1", "").ok()) return 1;
  auto project = (*projects)->FindByApiKey("");

  uint64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  auto trace_reqs = bench::MakeTraceRequests(spans, 1000, now_ns);
  auto log_reqs = bench::MakeLogRequests(logs, 1000, now_ns);
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
      auto r = client->Query("SELECT count() FROM system.merges");
      if (!r.ok() || Trim(*r) == "0") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  // OTLP_BENCH_EVENTS=1: each figure also shows the engine's counters that moved (its inserts,
  // merges and where their time went).
  const bool events = std::getenv("OTLP_BENCH_EVENTS") != nullptr;
  auto measure = [&](auto fn, double rows) {
    Figure f;
    merges_done();
    const auto counters0 = events ? bench::EngineCounters(client.get()) : std::map<std::string, double>();
    double c0 = CpuSeconds(), w0 = Now();
    fn();
    merges_done();
    f.cpu = CpuSeconds() - c0;
    f.wall = Now() - w0;
    f.rows = rows;
    if (events) f.engine = bench::EngineCounterDeltas(counters0, bench::EngineCounters(client.get()), rows, "      ");
    return f;
  };
  auto line = [](const std::string& what, const Figure& f) {
    std::printf("  %-52s %8.0f rows/CPU-s %8.0f rows/s wall (%.2f CPU-s, %.2f s)\n", what.c_str(), f.per_cpu(),
                f.rows / f.wall, f.cpu, f.wall);
    std::fputs(f.engine.c_str(), stdout);
  };
  auto count = [&](const std::string& t) {
    auto r = client->Query("SELECT count() FROM " + t);
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
  // What the server does before the engine: decode, gather into 100,000-row inserts, encode Native.
  Figure pre = measure(
      [&] {
        server::storage::BatchParts<server::storage::SpanBatch> acc;
        auto encode = [&] {
          std::string data;
          data.reserve(acc.bytes() + acc.rows() * 64);
          acc.WriteNative(&data);
          acc.Clear();
        };
        for (const auto& body : trace_reqs) {
          server::storage::SpanBatch b;
          (void)server::otlp::DecodeTracesProto(body, server::otlp::DecodeLimits(), &b);
          acc.Add(&b);
          if (acc.rows() >= 100000) encode();
        }
        encode();
      },
      spans);
  line("decode + 100,000-row batches + Native encoding (no engine)", pre);
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
    server::storage::OtelWriter writer(client.get(), wo);
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
    // Raw: encode (already decoded rows) and insert, batch by batch, with the writer's insert
    // settings (the same work for the engine).
    const std::string raw_settings = writer.InsertSettings().empty() ? "" : " SETTINGS " + writer.InsertSettings();
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
        Status st = client->Insert(raw_db + "." + table + " " + cols + raw_settings, format, data);
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
    if (!client->Query("CREATE DATABASE " + nomv_db).ok() ||
        !client->Query("CREATE TABLE " + nomv_db + ".otel_traces AS " + raw_db + ".otel_traces").ok())
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
  client->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
