// What each part of the traces schema costs the embedded ClickHouse engine per span: the same
// spans inserted (columnar, Native, merges waited for) into otel_traces as the server creates it,
// and into variants with one part taken away: a materialized view, the skip indexes, the
// compact layout's codecs. The full schema is the baseline of the same run; the difference of a
// variant is what that part costs. Variants run interleaved, in rounds, each round in fresh
// databases, because this VM's speed drifts by tens of percent within minutes.
//   otlp_schema_cost_bench [spans=200000] [rounds=3]
// OTLP_COST_BENCH_EVENTS=1 also prints, for the first round, the engine's time counters
// (system.events) that each variant's inserts and merges moved: where the time goes.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_engine.h"
#include "bench/otlp_bench_requests.h"
#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_client.h"
#include "server/ingest/otlp/decode.h"
#include "server/storage/clickhouse/batches.h"
#include "server/storage/clickhouse/schema.h"

using namespace coroot;
using server::storage::SpanBatch;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// A schema variant: the server's statements, edited.
struct Variant {
  std::string name;
  server::storage::SchemaLayout layout = server::storage::SchemaLayout::kCompact;
  std::vector<std::string> without;  // statements naming any of these are left out
  bool without_skip_indexes = false;  // otel_traces' INDEX lines removed
  std::string insert_settings;        // e.g. "materialize_skip_indexes_on_insert = 0"
  std::vector<std::pair<std::string, std::string>> replace;  // text replaced in every statement
};

std::vector<std::string> StatementsOf(const Variant& v, const std::string& db) {
  server::storage::SchemaOptions o;
  o.database = db;
  o.layout = v.layout;
  std::vector<std::string> out;
  for (std::string sql : server::storage::SchemaStatements(o)) {
    bool skip = false;
    for (const auto& w : v.without) skip = skip || sql.find(w) != std::string::npos;
    if (skip) continue;
    for (const auto& [from, to] : v.replace)
      for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
        sql.replace(at, from.size(), to);
    if (v.without_skip_indexes && sql.find(".otel_traces (") != std::string::npos) {
      std::string kept;
      for (const auto& line : Split(sql, '\n'))
        if (line.find("  INDEX ") != 0) kept += line + "\n";
      // The column before the first INDEX line ended with a comma.
      size_t close = kept.find("\n) ENGINE");
      size_t comma = kept.rfind(',', close);
      if (comma != std::string::npos && kept.find_first_not_of(" \n", comma + 1) == close + 1) kept.erase(comma, 1);
      sql = kept;
    }
    out.push_back(sql);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int spans = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string dir = "/tmp/coroot_schema_cost_bench";
  auto client = bench::OpenFreshEngine(dir);
  const uint64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const auto requests = bench::MakeTraceRequests(spans, 1000, now_ns);
  // The rows, decoded and encoded in advance: only the engine's work is measured.
  auto native_blocks_of = [&](size_t rows) {
    std::vector<SpanBatch> batches(1);
    for (const auto& r : requests) {
      if (batches.back().rows() >= rows) batches.emplace_back();
      SpanBatch b;
      (void)server::otlp::DecodeTracesProto(r, server::otlp::DecodeLimits(), &b);
      batches.back().Append(b);
    }
    std::vector<std::string> out;
    for (const auto& b : batches) b.WriteNative(&out.emplace_back());
    return out;
  };
  const std::map<size_t, std::vector<std::string>> blocks = {{10000, native_blocks_of(10000)},
                                                              {100000, native_blocks_of(100000)}};

  auto without = [](std::string name, std::vector<std::string> statements) {
    Variant v;
    v.name = std::move(name);
    v.without = std::move(statements);
    return v;
  };
  Variant full, no_indexes, indexes_at_merge, coroot_layout, zstd1, string_values, no_peer_addr;
  full.name = "full schema, skip indexes built at insert";
  zstd1.name = "ZSTD(1) where the compact layout has ZSTD(3)";
  zstd1.replace = {{"ZSTD(3)", "ZSTD(1)"}};
  string_values.name = "attribute maps' values String (not LowCardinality)";
  string_values.replace = {{"Map(LowCardinality(String), LowCardinality(String))", "Map(LowCardinality(String), String)"}};
  no_indexes.name = "without otel_traces' skip indexes";
  no_indexes.without_skip_indexes = true;
  indexes_at_merge.name = "skip indexes left to merges (the server)";
  indexes_at_merge.insert_settings = "materialize_skip_indexes_on_insert = 0";
  // What sending NetSockPeerAddr from the writer could save at most: the engine's map lookup and
  // the stored column (the histogram view still needs the value, so it looks it up itself).
  no_peer_addr.name = "NetSockPeerAddr not stored (view looks up)";
  no_peer_addr.without = {"ADD COLUMN IF NOT EXISTS NetSockPeerAddr"};
  no_peer_addr.replace = {
      {",\n  NetSockPeerAddr LowCardinality(String) MATERIALIZED SpanAttributes['net.sock.peer.addr'] CODEC(ZSTD(1))", ""},
      {"AS Root, NetSockPeerAddr,", "AS Root, SpanAttributes['net.sock.peer.addr'] AS NetSockPeerAddr,"}};
  coroot_layout.name = "Coroot's layout (codecs, types, sort key)";
  coroot_layout.layout = server::storage::SchemaLayout::kCoroot;
  const std::vector<Variant> variants = {
      full,
      without("without otel_traces_histogram_mv", {"otel_traces_histogram_mv"}),
      without("without otel_traces_trace_id_ts_mv", {"otel_traces_trace_id_ts_mv"}),
      without("without otel_traces_service_name_mv", {"otel_traces_service_name_mv"}),
      without("without any of the three views",
              {"otel_traces_histogram_mv", "otel_traces_trace_id_ts_mv", "otel_traces_service_name_mv"}),
      no_indexes,
      indexes_at_merge,
      coroot_layout,
      zstd1,
      string_values,
      no_peer_addr,
  };

  auto merges_done = [&] {
    for (int i = 0; i < 1200; ++i) {
      auto r = client->Query("SELECT count() FROM system.merges");
      if (!r.ok() || Trim(*r) == "0") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  // CPU-seconds per (block size, variant), one entry per round.
  std::map<size_t, std::map<std::string, std::vector<double>>> cpu;
  int db_seq = 0;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& [rows, data] : blocks) {
      for (const Variant& v : variants) {
        const std::string db = "cost_" + std::to_string(db_seq++);
        for (const auto& sql : StatementsOf(v, db)) {
          if (auto r = client->Query(sql); !r.ok()) {
            std::fprintf(stderr, "%s: %s\n%s\n", v.name.c_str(), r.status().ToString().c_str(), sql.c_str());
            return 1;
          }
        }
        std::string target = db + ".otel_traces " + SpanBatch::Columns();
        if (!v.insert_settings.empty()) target += " SETTINGS " + v.insert_settings;
        merges_done();
        const bool events = round == 0 && std::getenv("OTLP_COST_BENCH_EVENTS") != nullptr;
        const auto counters0 = events ? bench::EngineCounters(client.get()) : std::map<std::string, double>();
        const double c0 = CpuSeconds();
        for (const auto& block : data) {
          if (Status st = client->Insert(target, "Native", block); !st.ok()) {
            std::fprintf(stderr, "%s: %s\n", v.name.c_str(), st.ToString().c_str());
            return 1;
          }
        }
        merges_done();
        cpu[rows][v.name].push_back(CpuSeconds() - c0);
        if (events) {
          std::printf("    %zu-row inserts, %s: %.2f us/span of CPU; engine counters:\n", rows, v.name.c_str(),
                      1e6 * cpu[rows][v.name].back() / spans);
          std::fputs(bench::EngineCounterDeltas(counters0, bench::EngineCounters(client.get()), spans, "      ").c_str(),
                     stdout);
        }
        auto stored = client->Query("SELECT count() FROM " + db + ".otel_traces");
        if (!stored.ok() || std::stoll(Trim(*stored)) != spans) {
          std::fprintf(stderr, "%s: stored %s of %d spans\n", v.name.c_str(),
                       stored.ok() ? Trim(*stored).c_str() : stored.status().ToString().c_str(), spans);
          return 1;
        }
        (void)client->Query("DROP DATABASE " + db + " SYNC");
      }
    }
  }

  std::printf("Engine cost per span of each part of the traces schema: %d spans, Native, merges included, "
              "median of %d interleaved rounds\n", spans, rounds);
  for (const auto& [rows, by_variant] : cpu) {
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const double full = median(by_variant.at(variants[0].name));
    std::printf(" %zu-row inserts:\n", rows);
    for (const Variant& v : variants) {
      const double c = median(by_variant.at(v.name));
      std::printf("  %-44s %8.0f spans/CPU-s  %5.2f us/span  %+6.2f us/span vs full\n", v.name.c_str(), spans / c,
                  1e6 * c / spans, 1e6 * (c - full) / spans);
    }
  }
  client->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
