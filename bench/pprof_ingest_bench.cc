// Profiles ingestion benchmark: pprof samples per CPU-second through POST /v1/profiles (gzip body →
// decode → profiling_samples/profiling_stacks batches → batching writer → Native inserts into the
// embedded ClickHouse engine), beside a raw insert of the same rows (Native blocks encoded in
// advance) into identical tables in the same run; and the decoder alone.
//   pprof_ingest_bench [profiles=100] [samples_per_profile=2000]
// The profiles look like the node agent's eBPF CPU profiles: one sample type
// (ebpf:cpu:nanoseconds), stacks 10–40 frames deep over 2,000 functions, 4 query-string labels.
// CPU time is the whole process's (getrusage), so the engine's own threads are counted for both.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_engine.h"
#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_client.h"
#include "lib/compress/compress.h"
#include "pprof/profile.pb.h"
#include "server/ingest/pprof/pprof.h"
#include "server/ingest/profiles_handler.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_writer.h"
#include "server/storage/clickhouse/schema.h"

using namespace coroot;
namespace storage = coroot::server::storage;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string MakeProfile(std::mt19937_64& rng, int samples, int64_t time_ns) {
  perftools::profiles::Profile p;
  p.add_string_table("");
  p.add_string_table("ebpf:cpu:nanoseconds");
  p.add_string_table("nanoseconds");
  auto* st = p.add_sample_type();
  st->set_type(1);
  st->set_unit(2);
  const int kFuncs = 2000;
  for (int i = 0; i < kFuncs; ++i) {
    p.add_string_table("github.com/example/service/pkg" + std::to_string(i % 40) + ".(*Handler).Method" +
                       std::to_string(i));
    p.add_string_table("/src/service/pkg" + std::to_string(i % 40) + "/file" + std::to_string(i % 7) + ".go");
    auto* f = p.add_function();
    f->set_id(i + 1);
    f->set_name(3 + 2 * i);
    f->set_filename(4 + 2 * i);
    auto* l = p.add_location();
    l->set_id(i + 1);
    auto* ln = l->add_line();
    ln->set_function_id(i + 1);
    ln->set_line(10 + i % 300);
  }
  for (int s = 0; s < samples; ++s) {
    auto* sm = p.add_sample();
    int depth = 10 + static_cast<int>(rng() % 31);
    for (int d = 0; d < depth; ++d) sm->add_location_id(1 + rng() % kFuncs);
    sm->add_value(10'000'000 * (1 + static_cast<int64_t>(rng() % 20)));
  }
  p.set_time_nanos(time_ns);
  p.set_duration_nanos(60'000'000'000);
  return compress::ZlibCompress(p.SerializeAsString(), compress::ZlibFormat::kGzip);
}

}  // namespace

int main(int argc, char** argv) {
  int profiles = argc > 1 ? std::atoi(argv[1]) : 100;
  int per = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::string dir = "/tmp/coroot_pprof_bench";
  auto client = bench::OpenFreshEngine(dir);
  auto projects = server::ProjectStore::Open(dir + "/db.sqlite");
  if (!projects.ok() || !(*projects)->Bootstrap("http://127.0.0.1:1", "").ok()) return 1;

  std::mt19937_64 rng(7);
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::string> bodies;
  size_t bytes = 0;
  for (int i = 0; i < profiles; ++i) {
    bodies.push_back(MakeProfile(rng, per, now - (profiles - i) * 60'000'000'000ll));
    bytes += bodies.back().size();
  }
  const double samples = double(profiles) * per;
  std::printf("pprof ingest benchmark: %d profiles x %d samples (%.0f gzip bytes/profile)\n", profiles, per,
              double(bytes) / profiles);
  const server::pprof::Labels labels = {
      {"container.id", "/k8s/shop/checkout-7d9f8b6c5d-x2x4z/app"}, {"host.id", "m1"}, {"host.name", "node-1"}};
  auto report = [&](const char* what, double cpu, double wall) {
    std::printf("  %-44s %10.0f samples/CPU-s %10.0f samples/s wall (%.2f CPU-s, %.2f s)\n", what, samples / cpu,
                samples / wall, cpu, wall);
  };

  // 1. The decoder alone (gunzip included).
  std::vector<storage::ProfileBatch> decoded(profiles);
  double c0 = CpuSeconds(), w0 = Now();
  for (int i = 0; i < profiles; ++i) {
    auto r = server::pprof::Decode(bodies[i], "/k8s/shop/checkout", labels, server::pprof::Limits(), now, &decoded[i]);
    if (!r.ok()) {
      std::fprintf(stderr, "decode: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  report("decode (gunzip + pprof → rows)", CpuSeconds() - c0, Now() - w0);

  // 2. Raw insert of the same rows: Native blocks of 10,000-row batches prepared in advance.
  const std::string raw_db = "raw_profiles";
  storage::SchemaOptions so;
  so.database = raw_db;
  if (!storage::CreateSchema(client.get(), so).ok()) return 1;
  std::vector<std::pair<std::string, std::string>> blocks;  // stacks, samples
  {
    storage::ProfileBatch acc;
    auto cut = [&] {
      std::string st, sm;
      acc.WriteStacksNative(&st);
      acc.WriteSamplesNative(&sm);
      blocks.emplace_back(std::move(st), std::move(sm));
      acc.Clear();
    };
    for (auto& b : decoded) {
      acc.Append(b);
      if (acc.rows() >= 10000) cut();
    }
    if (acc.rows() > 0) cut();
  }
  c0 = CpuSeconds();
  w0 = Now();
  for (auto& [st, sm] : blocks) {
    Status s1 = client->Insert(raw_db + ".profiling_stacks " + storage::ProfileBatch::StackColumns(), "Native", st);
    Status s2 = client->Insert(raw_db + ".profiling_samples " + storage::ProfileBatch::SampleColumns(), "Native", sm);
    if (!s1.ok() || !s2.ok()) {
      std::fprintf(stderr, "raw insert: %s %s\n", s1.ToString().c_str(), s2.ToString().c_str());
      return 1;
    }
  }
  report("raw Native insert of the same rows", CpuSeconds() - c0, Now() - w0);

  // 3. Ours: POST /v1/profiles handler → writer → ClickHouse.
  storage::OtelWriterOptions wo;
  storage::OtelWriter writer(client.get(), wo);
  auto db_of = [](const server::Project& p) { return storage::ProjectDatabase(p.id); };
  auto project = (*projects)->FindByApiKey("");
  if (!project.ok() || !writer.EnsureSchema(db_of(*project)).ok()) return 1;
  writer.Start();
  server::ProfilesHandlerOptions po;
  po.database_of = db_of;
  server::ProfilesHandler handler(projects->get(), &writer, po);
  c0 = CpuSeconds();
  w0 = Now();
  for (auto& body : bodies) {
    http::Request req;
    req.method = "POST";
    req.query = "service.name=%2Fk8s%2Fshop%2Fcheckout&container.id=%2Fk8s%2Fshop%2Fcheckout-7d9f8b6c5d-x2x4z%2Fapp"
                "&host.name=node-1&host.id=m1";
    req.body = body;
    http::Response resp;
    handler.Handle(req, &resp);
    if (resp.status != 200) {
      std::fprintf(stderr, "handler answered %d: %s\n", resp.status, resp.body.c_str());
      return 1;
    }
  }
  if (!writer.Flush(std::chrono::minutes(10)).ok()) return 1;
  report("ours: /v1/profiles → writer → ClickHouse", CpuSeconds() - c0, Now() - w0);
  writer.Stop();
  auto count = [&](const std::string& t) {
    auto r = client->Query("SELECT count() FROM " + t);
    return r.ok() ? Trim(*r) : r.status().ToString();
  };
  std::printf("  rows stored: samples %s (ours) / %s (raw); stacks %s / %s\n",
              count(db_of(*project) + ".profiling_samples").c_str(), count(raw_db + ".profiling_samples").c_str(),
              count(db_of(*project) + ".profiling_stacks").c_str(), count(raw_db + ".profiling_stacks").c_str());
  client->Close();
  return 0;
}
