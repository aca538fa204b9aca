// Parsers of cgroup resource files, on files captured on this machine (hybrid v1 + v2, kernel
// 6.18) from a shell limited to 0.5 CPU that burned CPU for 2 s and wrote 20 MiB with O_DIRECT,
// plus hand-made v2 files for controllers this machine does not enable in v2, and malformed ones.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "lib/cgroup/cgroupfs.h"
#include "lib/cgroup/cpu.h"
#include "lib/cgroup/file_cache.h"
#include "lib/cgroup/io.h"
#include "lib/cgroup/memory.h"
#include "lib/base/strings.h"
#include "lib/cgroup/proc_cgroup.h"
#include "lib/cgroup/psi.h"
#include "lib/cgroup/test_fixture.h"

namespace coroot::cgroup {
namespace {

TEST(FlatKeyedTest, CpuStatV1Captured) {
  auto m = ParseFlatKeyed(Fixture("v1_cpu_throttled.stat"));
  EXPECT_EQ(m["nr_periods"], 22u);
  EXPECT_EQ(m["nr_throttled"], 19u);
  EXPECT_EQ(m["throttled_time"], 383592858u);
}

TEST(FlatKeyedTest, MalformedLinesAreSkipped) {
  int skipped = 0;
  auto m = ParseFlatKeyed(Fixture("v2_cpu_malformed.stat"), &skipped);
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m["usage_usec"], 1000u);
  std::string many;
  for (int i = 0; i < 1000; i++) many += "k" + std::to_string(i) + " 1\n";
  EXPECT_EQ(ParseFlatKeyed(many).size(), 256u);
}

// The parsers before they walked the text in place (Split/SplitAny into strings), kept as the
// reference the in-place ones must agree with.
std::map<std::string, uint64_t> ParseFlatKeyedBySplit(std::string_view text, int* skipped) {
  std::map<std::string, uint64_t> out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty()) continue;
    uint64_t v = 0;
    if (f.size() != 2 || !ParseUint64(f[1], &v) || out.size() >= 256) {
      (*skipped)++;
      continue;
    }
    out[f[0]] = v;
  }
  return out;
}

StatusOr<Pressure> ParsePressureBySplit(std::string_view text) {
  Pressure p;
  bool any = false;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitAny(line, " \t");
    if (f.empty()) continue;
    double* dst = f[0] == "some" ? &p.some_seconds : f[0] == "full" ? &p.full_seconds : nullptr;
    if (dst == nullptr) continue;
    for (size_t i = 1; i < f.size(); i++) {
      if (!StartsWith(f[i], "total=")) continue;
      uint64_t us = 0;
      if (!ParseUint64(std::string_view(f[i]).substr(6), &us)) return InvalidArgument("pressure: bad total");
      *dst = static_cast<double>(us) / 1e6;
      any = true;
      break;
    }
  }
  if (!any) return InvalidArgument("pressure: no total=");
  return p;
}

// Texts for the equality checks: every fixture, plus random edits of them (spaces, tabs, cut
// lines, bad numbers) so the malformed paths are compared too.
std::vector<std::string> ParserInputs() {
  std::vector<std::string> in;
  for (const char* f : {"v1_cpu.stat", "v1_cpu_throttled.stat", "v1_memory.stat", "v1_memory.oom_control",
                        "v2_cpu.stat", "v2_cpu_malformed.stat", "v2_memory.stat", "v2_memory.events",
                        "v2_cpu.pressure", "v2_io.pressure", "v2_memory.pressure", "v2_pressure_malformed.txt"})
    in.push_back(Fixture(f));
  std::string many;
  for (int i = 0; i < 300; i++) many += "k" + std::to_string(i % 280) + " " + std::to_string(i) + "\n";
  in.push_back(many);
  std::mt19937 rng(7);
  const std::string noise = " \t\nx=-9total=";
  size_t fixtures = in.size();
  for (int i = 0; i < 3000; i++) {
    std::string t = in[rng() % fixtures];
    for (int k = 0; k < 4; k++) {
      size_t at = t.empty() ? 0 : rng() % t.size();
      if (rng() % 2 && !t.empty()) t.erase(at, 1 + rng() % 3);
      else t.insert(at, 1, noise[rng() % noise.size()]);
    }
    in.push_back(t);
  }
  return in;
}

TEST(FlatKeyedTest, InPlaceParsersAgreeWithTheSplitOnes) {
  for (const std::string& t : ParserInputs()) {
    int want_skipped = 0, got_skipped = 0;
    auto want = ParseFlatKeyedBySplit(t, &want_skipped);
    EXPECT_EQ(ParseFlatKeyed(t, &got_skipped), want) << t;
    EXPECT_EQ(got_skipped, want_skipped) << t;
    FlatKey keys[] = {{"total_rss"}, {"total_cache"}, {"usage_usec"}, {"oom_kill"}, {"k3"}, {"absent"}};
    LookupFlatKeyed(t, keys, std::size(keys));
    for (const FlatKey& k : keys) {
      auto it = want.find(std::string(k.key));
      EXPECT_EQ(k.found, it != want.end()) << k.key << " in " << t;
      EXPECT_EQ(k.value, it == want.end() ? 0 : it->second) << k.key << " in " << t;
    }
    StatusOr<Pressure> p = ParsePressure(t), q = ParsePressureBySplit(t);
    ASSERT_EQ(p.ok(), q.ok()) << t;
    if (p.ok()) {
      EXPECT_EQ(p->some_seconds, q->some_seconds) << t;
      EXPECT_EQ(p->full_seconds, q->full_seconds) << t;
    }
  }
}

TEST(CgroupDirsTest, SameDirectoriesAsThePerFilePaths) {
  CgroupFs fs{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
  for (const char* f : {"proc_cgroup_hybrid_docker.txt", "proc_cgroup_hybrid_service.txt", "proc_cgroup_v1_kubepods.txt",
                        "proc_cgroup_v2_k8s_systemd.txt", "proc_cgroup_root.txt", "proc_cgroup_lxc_payload.txt"}) {
    auto cg = ParseProcCgroup(Fixture(f));
    ASSERT_TRUE(cg.ok()) << f;
    CgroupDirs d = DirsOf(fs, *cg);
    auto v1 = [&](const char* c) { return cg->Path(c).empty() ? "" : fs.V1(c, cg->Path(c)); };
    EXPECT_EQ(d.cpu, v1("cpu")) << f;
    EXPECT_EQ(d.cpuacct, v1("cpuacct")) << f;
    EXPECT_EQ(d.memory, v1("memory")) << f;
    EXPECT_EQ(d.blkio, v1("blkio")) << f;
    EXPECT_EQ(d.v2, cg->Path("").empty() ? "" : fs.V2(cg->Path(""))) << f;
  }
}

TEST(SingleIntTest, Parses) {
  EXPECT_EQ(*ParseSingleInt(Fixture("v1_cpuacct.usage")), 1031681912);
  EXPECT_EQ(*ParseSingleInt("-1\n"), -1);
  EXPECT_EQ(*ParseSingleInt("9223372036854771712\n"), 9223372036854771712);
  EXPECT_FALSE(ParseSingleInt("").ok());
  EXPECT_FALSE(ParseSingleInt("max").ok());
  EXPECT_FALSE(ParseSingleInt("99999999999999999999").ok());
}

TEST(CpuTest, V1AndV2AgreeOnTheCapturedBurn) {
  // The same 2 s burn seen through cpuacct.usage (ns) and the v2 cpu.stat (µs).
  double v1 = static_cast<double>(*ParseSingleInt(Fixture("v1_cpuacct.usage"))) / 1e9;
  double v2 = static_cast<double>(ParseFlatKeyed(Fixture("v2_cpu.stat"))["usage_usec"]) / 1e6;
  EXPECT_NEAR(v1, v2, 1e-5);
  EXPECT_NEAR(v1, 1.03, 0.01);
}

TEST(CpuTest, Limits) {
  EXPECT_DOUBLE_EQ(CfsLimitCores(50000, 100000), 0.5);
  EXPECT_DOUBLE_EQ(CfsLimitCores(-1, 100000), 0);
  EXPECT_DOUBLE_EQ(CfsLimitCores(50000, 0), 0);
  EXPECT_DOUBLE_EQ(*ParseCpuMax("150000 100000\n"), 1.5);
  EXPECT_DOUBLE_EQ(*ParseCpuMax("max 100000\n"), 0);
  EXPECT_FALSE(ParseCpuMax("max").ok());
  EXPECT_FALSE(ParseCpuMax("x 100000").ok());
  EXPECT_FALSE(ParseCpuMax("100 y").ok());
  EXPECT_DOUBLE_EQ(*ParseCpuMax("100 0"), 0);
}

TEST(MemoryTest, V1Captured) {
  auto stat = ParseFlatKeyed(Fixture("v1_memory.stat"));
  MemoryStat m = MemoryFromV1Stat(stat, 64 << 20);
  EXPECT_EQ(m.rss_bytes, stat["total_rss"] + stat["total_mapped_file"]);
  EXPECT_EQ(m.cache_bytes, stat["total_cache"]);
  EXPECT_EQ(m.limit_bytes, 64u << 20);
  // "No limit" on v1 is a huge page-aligned number: ignored above 2^62.
  EXPECT_EQ(MemoryFromV1Stat(stat, 9223372036854771712).limit_bytes, 0u);
  EXPECT_EQ(ParseFlatKeyed(Fixture("v1_memory.oom_control"))["oom_kill"], 0u);
}

TEST(MemoryTest, V2) {
  auto stat = ParseFlatKeyed(Fixture("v2_memory.stat"));
  MemoryStat m = MemoryFromV2Stat(stat, "268435456\n");
  EXPECT_EQ(m.rss_bytes, 104857600u + 4194304u);
  EXPECT_EQ(m.cache_bytes, 52428800u);
  EXPECT_EQ(m.limit_bytes, 268435456u);
  EXPECT_EQ(MemoryFromV2Stat(stat, "max\n").limit_bytes, 0u);
  EXPECT_EQ(MemoryFromV2Stat(stat, "").limit_bytes, 0u);
  EXPECT_EQ(ParseFlatKeyed(Fixture("v2_memory.events"))["oom_kill"], 2u);
}

TEST(PsiTest, CapturedAndMalformed) {
  auto cpu = ParsePressure(Fixture("v2_cpu.pressure"));
  ASSERT_TRUE(cpu.ok());
  EXPECT_DOUBLE_EQ(cpu->some_seconds, 0.987919);
  EXPECT_DOUBLE_EQ(cpu->full_seconds, 0.984892);
  for (const char* f : {"v2_io.pressure", "v2_memory.pressure"}) EXPECT_TRUE(ParsePressure(Fixture(f)).ok()) << f;
  EXPECT_FALSE(ParsePressure(Fixture("v2_pressure_malformed.txt")).ok());
  EXPECT_FALSE(ParsePressure("").ok());
  auto some_only = ParsePressure("some avg10=1.00 avg60=0 avg300=0 total=2500000\n");
  ASSERT_TRUE(some_only.ok());
  EXPECT_DOUBLE_EQ(some_only->some_seconds, 2.5);
  EXPECT_DOUBLE_EQ(some_only->full_seconds, 0);
}

TEST(IoTest, BlkioCaptured) {
  int skipped = 0;
  IoStats s = ParseBlkio(Fixture("v1_blkio.throttle.io_serviced"), Fixture("v1_blkio.throttle.io_service_bytes"),
                         &skipped);
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(s.size(), 1u);
  const IoStat& vda = s["254:0"];
  EXPECT_EQ(vda.reads, 58u);
  EXPECT_EQ(vda.writes, 20u);
  EXPECT_EQ(vda.read_bytes, 319488u);
  EXPECT_EQ(vda.written_bytes, 20u << 20);  // the 20 MiB O_DIRECT write
  EXPECT_TRUE(ParseBlkio(Fixture("v1_blkio_empty.txt"), Fixture("v1_blkio_empty.txt")).empty());
  skipped = 0;
  IoStats bad = ParseBlkio(Fixture("v1_blkio_malformed.txt"), "", &skipped);
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(bad["254:0"].writes, 5u);
}

TEST(IoTest, IoStatV2) {
  IoStats s = ParseIoStat(Fixture("v2_io.stat"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s["259:0"].read_bytes, 4096000u);
  EXPECT_EQ(s["259:0"].written_bytes, 1048576u);
  EXPECT_EQ(s["259:0"].reads, 100u);
  EXPECT_EQ(s["259:0"].writes, 25u);
  EXPECT_EQ(s["8:0"].reads, 1u);
  int skipped = 0;
  IoStats bad = ParseIoStat(Fixture("v2_io_malformed.stat"), &skipped);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(bad["259:0"].read_bytes, 4096u);
  EXPECT_EQ(bad["259:0"].written_bytes, 0u);  // "wbytes=x" ignored
  EXPECT_EQ(bad.count("8:16"), 1u);
}

// A kept file is read again after a write; within a batch the write is learnt at the next batch.
TEST(UntilWrittenTest, WritesAreSeenAtOnceOrFromTheNextBatch) {
  std::string dir = ::testing::TempDir() + "/until_written_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/cpu.cfs_quota_us";
  auto write = [&](const char* v) { std::ofstream(path, std::ios::trunc) << v; };
  auto read = [&] {
    StatusOr<std::string> r = ReadCgroupFileUntilWritten(path, 64);
    return r.ok() ? *r : r.status().ToString();
  };
  write("1\n");
  EXPECT_EQ(read(), "1\n");
  EXPECT_EQ(read(), "1\n");  // kept
  write("2\n");
  EXPECT_EQ(read(), "2\n");  // no batch: the write is seen at once
  {
    UntilWrittenBatch batch;
    EXPECT_EQ(read(), "2\n");
    write("3\n");
    {
      UntilWrittenBatch nested;
      EXPECT_EQ(read(), "2\n");  // the batch drained the notices already
    }
    EXPECT_EQ(read(), "2\n");
  }
  {
    UntilWrittenBatch next;
    EXPECT_EQ(read(), "3\n");
  }
  std::filesystem::remove_all(dir);
}

TEST(CgroupFsTest, DetectsHybridFromMountinfo) {
  std::string hybrid =
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  CgroupFs fs = DetectCgroupFs("/sys/fs/cgroup", hybrid);
  EXPECT_EQ(fs.v2_root, "/sys/fs/cgroup/unified");
  EXPECT_EQ(fs.V1("cpu", "/docker/x"), "/sys/fs/cgroup/cpu/docker/x");
  EXPECT_EQ(fs.V2("/a"), "/sys/fs/cgroup/unified/a");
  CgroupFs pure = DetectCgroupFs("/sys/fs/cgroup", "30 1 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(pure.v2_root, "/sys/fs/cgroup");
  EXPECT_EQ(DetectCgroupFs("/host/cgroup", "").v2_root, "/host/cgroup");
}

TEST(CgroupFsTest, LiveReadsOfThisProcess) {
  // Whatever the layout, reading our own cgroup must not crash; where the process sits at a
  // hierarchy's root the readers say NotFound.
  CgroupFs fs = DetectCgroupFs();
  auto cg = ReadProcCgroup("/proc", getpid());
  ASSERT_TRUE(cg.ok());
  auto cpu = ReadCpuStat(fs, *cg);
  if (!cg->Has("cpu") && !cg->Has("")) {
    EXPECT_EQ(cpu.status().code(), StatusCode::kNotFound);
  }
  (void)ReadMemoryStat(fs, *cg);
  (void)ReadIoStat(fs, *cg);
  (void)ReadPsi(fs, *cg);
}

}  // namespace
}  // namespace coroot::cgroup
