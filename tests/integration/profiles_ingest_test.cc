// Profiles end to end: a real Go program (tests/profiles/workload.go, built here with `go build`)
// writes a CPU and a heap profile with runtime/pprof; they are POSTed to the real `coroot` binary
// (embedded ClickHouse) as the node agent does, and read back as flame graphs. The expected totals,
// stacks and rows are computed from the same files with the generated protobuf classes. Then
// hostile input: each bad request gets a clear 4xx and the server keeps serving.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "lib/compress/compress.h"
#include "lib/http/client.h"
#include "lib/testing/go_build.h"
#include "lib/testing/process.h"
#include "pprof/profile.pb.h"

namespace coroot::testing {
namespace {

using namespace std::chrono_literals;
using perftools::profiles::Profile;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What the test expects from one pprof file, computed with the generated classes.
struct Expected {
  std::map<std::string, int64_t> total;                       // type → sum of values
  std::map<std::string, std::set<uint64_t>> stacks;           // type → distinct stacks with a non-zero value
  std::map<std::string, std::map<std::string, int64_t>> func;  // type → function → value of samples through it
  size_t rows = 0;                                            // (type, sample) with a non-zero value
};

uint64_t Fnv(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Expected Expect(const Profile& p) {
  Expected e;
  std::map<uint64_t, const perftools::profiles::Function*> funcs;
  for (const auto& f : p.function()) funcs[f.id()] = &f;
  std::map<uint64_t, const perftools::profiles::Location*> locs;
  for (const auto& l : p.location()) locs[l.id()] = &l;
  for (const auto& s : p.sample()) {
    std::string joined;
    std::set<std::string> fnames;
    for (uint64_t id : s.location_id()) {
      for (const auto& ln : locs.at(id)->line()) {
        if (ln.function_id() == 0) continue;
        const auto* f = funcs.at(ln.function_id());
        joined += p.string_table(f->name()) + " " + p.string_table(f->filename()) + ":" + std::to_string(ln.line());
        fnames.insert(p.string_table(f->name()));
      }
    }
    for (int i = 0; i < p.sample_type_size(); ++i) {
      std::string type = p.string_table(p.sample_type(i).type()) + ":" + p.string_table(p.sample_type(i).unit());
      int64_t v = s.value(i);
      if (v == 0) continue;
      e.rows++;
      e.total[type] += v;
      e.stacks[type].insert(Fnv(joined));
      for (const auto& fn : fnames) e.func[type][fn] += v;
    }
  }
  return e;
}

struct Server {
  std::string dir;
  int port = 0;
  std::unique_ptr<ChildProcess> proc;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

http::ClientResponse Post(const Server& s, const std::string& query, const std::string& body,
                          const std::string& key = "") {
  http::ClientRequest r;
  r.method = "POST";
  r.url = s.url() + "/v1/profiles" + query;
  r.body = body;
  if (!key.empty()) r.headers.push_back({"X-Api-Key", key});
  auto resp = http::Fetch(r);
  EXPECT_TRUE(resp.ok()) << resp.status().ToString();
  return resp.ok() ? *resp : http::ClientResponse{};
}

std::string Get(const Server& s, const std::string& path) {
  http::ClientRequest r;
  r.url = s.url() + path;
  r.headers = {{"X-Api-Key", "00000000000000000000000000000000"}};  // the default project's key
  auto resp = http::Fetch(r);
  if (!resp.ok() || resp->status != 200) return "";
  return resp->body;
}

// Sum of the totals of nodes named "<fn> …" (not descending into a match).
int64_t FuncTotal(simdjson::dom::element node, const std::string& fn, const char* field = "total") {
  std::string_view name;
  if (node["name"].get_string().get(name) == simdjson::SUCCESS && name.substr(0, fn.size() + 1) == fn + " ") {
    int64_t v = 0;
    (void)node[field].get_int64().get(v);
    return v;
  }
  int64_t sum = 0;
  simdjson::dom::array kids;
  if (node["children"].get_array().get(kids) == simdjson::SUCCESS)
    for (auto k : kids) sum += FuncTotal(k, fn, field);
  return sum;
}

int64_t Int(simdjson::dom::element e, const char* key) {
  int64_t v = -1;
  (void)e[key].get_int64().get(v);
  return v;
}

TEST(ProfilesIngest, RealGoProfilesBecomeFlameGraphs) {
  Server s;
  s.dir = MakeTempDir("coroot_profiles");
  // ---- build and run the workload ----
  {
    Status built = BuildGoProgram(SourcePath("tests/profiles/workload.go"), s.dir + "/workload");
    ASSERT_TRUE(built.ok()) << built.message();
  }
  {
    ChildProcess run({s.dir + "/workload", s.dir}, s.dir + "/workload.log");
    ASSERT_TRUE(WaitFor([&] { return !run.running(); }, 60s)) << run.Log();
  }
  const std::string cpu_raw = ReadFile(s.dir + "/cpu.pprof"), heap_raw = ReadFile(s.dir + "/heap.pprof");
  ASSERT_FALSE(cpu_raw.empty());
  ASSERT_FALSE(heap_raw.empty());
  // runtime/pprof writes gzip-compressed protobuf; decode it here with the generated classes.
  auto cpu_pb = compress::ZlibDecompress(cpu_raw, compress::ZlibFormat::kGzip, 64u << 20);
  auto heap_pb = compress::ZlibDecompress(heap_raw, compress::ZlibFormat::kGzip, 64u << 20);
  ASSERT_TRUE(cpu_pb.ok() && heap_pb.ok());
  Profile cpu, heap;
  ASSERT_TRUE(cpu.ParseFromString(*cpu_pb));
  ASSERT_TRUE(heap.ParseFromString(*heap_pb));
  Expected ecpu = Expect(cpu), eheap = Expect(heap);
  ASSERT_GT(ecpu.total["cpu:nanoseconds"], 0);

  // ---- the server ----
  s.port = FreePort();
  s.proc = std::make_unique<ChildProcess>(
      std::vector<std::string>{BinaryPath("server/coroot"), "--listen", "127.0.0.1:" + std::to_string(s.port),
                               "--grpc-listen", "127.0.0.1:" + std::to_string(FreePort()), "--data-dir",
                               s.dir + "/data", "--bootstrap-prometheus-url", "http://127.0.0.1:1",
                               "--max-request-body", "1MB"},
      s.dir + "/coroot.log");
  ASSERT_TRUE(WaitFor([&] { return HttpOk(s.url() + "/health"); }, 60s)) << s.proc->Log();

  // As the node agent posts: gzipped pprof, labels in the query string.
  const std::string q = "?service.name=go-workload&container.id=%2Fdocker%2Fabc&host.name=node-1&host.id=m1";
  auto r = Post(s, q, cpu_raw);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Post(s, q, *heap_pb);  // raw (not gzipped) works too
  EXPECT_EQ(r.status, 200) << r.body;
  // The same CPU profile 10 minutes earlier: the baseline of the diff below.
  Profile earlier = cpu;
  earlier.set_time_nanos(cpu.time_nanos() - 600'000'000'000);
  r = Post(s, q, earlier.SerializeAsString());
  EXPECT_EQ(r.status, 200) << r.body;

  // ---- types ----
  std::string types;
  ASSERT_TRUE(WaitFor(
      [&] {
        types = Get(s, "/api/v1/profiles/types?service=go-workload");
        return types.find("inuse_space:bytes") != std::string::npos &&
               types.find("cpu:nanoseconds") != std::string::npos;
      },
      30s))
      << types << s.proc->Log();
  for (const char* t : {"\"cpu:nanoseconds\"", "\"samples:count\"", "\"alloc_objects:count\"",
                        "\"alloc_space:bytes\"", "\"inuse_objects:count\"", "\"inuse_space:bytes\""})
    EXPECT_NE(types.find(std::string("\"type\":") + t), std::string::npos) << t << " in " << types;

  // ---- the CPU flame graph, with the previous window beside it ----
  const int64_t t_ms = cpu.time_nanos() / 1'000'000;
  const std::string window = "&from=" + std::to_string(t_ms - 300'000) + "&to=" + std::to_string(t_ms + 300'000);
  std::string body = Get(s, "/api/v1/profiles?service=go-workload&type=cpu:nanoseconds&diff=1" + window);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(body).get(doc), simdjson::SUCCESS) << body;
  simdjson::dom::element root = doc["root"];
  const int64_t cpu_total = ecpu.total["cpu:nanoseconds"];
  EXPECT_EQ(Int(root, "total"), cpu_total) << body;
  EXPECT_EQ(Int(root, "base_total"), cpu_total) << body;  // the copy 10 minutes earlier
  EXPECT_EQ(static_cast<size_t>(Int(doc, "stacks")), ecpu.stacks["cpu:nanoseconds"].size());
  EXPECT_EQ(static_cast<size_t>(Int(doc, "base_stacks")), ecpu.stacks["cpu:nanoseconds"].size());
  // The workload: ~1.5 s of CPU in main.burnCPU, most of it in main.hashLoop.
  const int64_t burn = FuncTotal(root, "main.burnCPU"), hash = FuncTotal(root, "main.hashLoop");
  EXPECT_EQ(burn, ecpu.func["cpu:nanoseconds"]["main.burnCPU"]);
  EXPECT_EQ(hash, ecpu.func["cpu:nanoseconds"]["main.hashLoop"]);
  EXPECT_EQ(FuncTotal(root, "main.hashLoop", "base_total"), hash);
  EXPECT_GE(burn, 500'000'000) << body;  // ≥ 0.5 s of the 1.5 s busy loop (a loaded CI machine)
  EXPECT_LE(burn, 3'000'000'000) << body;
  EXPECT_GE(hash * 2, burn) << body;  // the hashing dominates the loop
  EXPECT_GE(burn * 10, cpu_total * 7) << body;
  std::string samples_body = Get(s, "/api/v1/profiles?service=go-workload&type=samples:count" + window);
  ASSERT_EQ(p.parse(samples_body).get(doc), simdjson::SUCCESS) << samples_body;
  EXPECT_EQ(Int(doc["root"], "total"), ecpu.total["samples:count"]);

  // ---- the heap flame graph ----
  const int64_t h_ms = heap.time_nanos() / 1'000'000;
  body = Get(s, "/api/v1/profiles?service=go-workload&type=inuse_space:bytes&from=" + std::to_string(h_ms - 60'000) +
                    "&to=" + std::to_string(h_ms + 60'000));
  ASSERT_EQ(p.parse(body).get(doc), simdjson::SUCCESS) << body;
  EXPECT_EQ(Int(doc["root"], "total"), eheap.total["inuse_space:bytes"]) << body;
  EXPECT_EQ(static_cast<size_t>(Int(doc, "stacks")), eheap.stacks["inuse_space:bytes"].size());
  const int64_t alloc = FuncTotal(doc["root"], "main.allocBuffers");
  EXPECT_EQ(alloc, eheap.func["inuse_space:bytes"]["main.allocBuffers"]);
  // 2000 buffers of 64 KiB = 125 MiB live (sampled, so an estimate).
  EXPECT_GE(alloc, 2000ll * 65536 / 2) << body;
  EXPECT_LE(alloc, 2000ll * 65536 * 2) << body;

  // ---- rows stored: every non-zero (type, sample) of the three posts ----
  const size_t rows = 2 * ecpu.rows + eheap.rows;
  std::string storage;
  bool ok = WaitFor(
      [&] {
        storage = Get(s, "/api/v1/storage");
        const std::string n = std::to_string(rows), at = "{\"table\":\"profiling_samples\",\"rows\":";
        return storage.find(at + n + ",") != std::string::npos || storage.find(at + "\"" + n + "\",") != std::string::npos;
      },
      30s);
  EXPECT_TRUE(ok) << "want " << rows << " profiling_samples rows: " << storage;

  std::cout << "profiles: cpu " << cpu_total << " ns in " << ecpu.stacks["cpu:nanoseconds"].size()
            << " stacks (main.burnCPU " << burn << ", main.hashLoop " << hash << "); heap inuse "
            << eheap.total["inuse_space:bytes"] << " B (main.allocBuffers " << alloc << "); " << rows
            << " profiling_samples rows" << std::endl;

  // ---- hostile input ----
  const std::string good = *cpu_pb;
  r = Post(s, q, good.substr(0, good.size() - 7));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("malformed pprof"), std::string::npos) << r.body;
  r = Post(s, "?host.name=x", good);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("service.name"), std::string::npos) << r.body;
  r = Post(s, q, good, "no-such-key");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("project not found"), std::string::npos) << r.body;
  // A gzip bomb: 64 MiB of zeros in ~64 KiB; the limit is 8 x --max-request-body.
  std::string bomb = compress::ZlibCompress(std::string(64u << 20, '\0'), compress::ZlibFormat::kGzip, 9);
  ASSERT_LT(bomb.size(), 1u << 20);
  r = Post(s, q, bomb);
  EXPECT_EQ(r.status, 413) << r.body;
  Profile bad = cpu;
  bad.mutable_sample(0)->set_location_id(0, 987654321);
  r = Post(s, q, bad.SerializeAsString());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown location id 987654321"), std::string::npos) << r.body;
  bad = cpu;
  bad.mutable_function(0)->set_name(1 << 30);
  r = Post(s, q, bad.SerializeAsString());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("string index out of range"), std::string::npos) << r.body;
  // A string table of 1.2 million entries (gzipped to fit the request limit).
  Profile huge = cpu;
  for (int i = 0; i < 1'200'000; ++i) huge.add_string_table("s");
  r = Post(s, q, compress::ZlibCompress(huge.SerializeAsString(), compress::ZlibFormat::kGzip, 9));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("strings in the string table"), std::string::npos) << r.body;
  r = Post(s, q, "\x1f\x8b not really gzip");
  EXPECT_EQ(r.status, 400) << r.body;

  EXPECT_TRUE(HttpOk(s.url() + "/health"));
  EXPECT_TRUE(s.proc->running());
  std::string metrics = Get(s, "/metrics");
  EXPECT_NE(metrics.find("coroot_ingest_profiles_requests_total{outcome=\"accepted\"} 3"), std::string::npos)
      << metrics;
  s.proc->Stop(15, 30s);
  std::error_code ec;
  std::filesystem::remove_all(s.dir, ec);
}

}  // namespace
}  // namespace coroot::testing
