#include "agent/export/metrics_pusher.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lib/base/file.h"
#include "lib/compress/compress.h"
#include "lib/prom/remote_write.h"

namespace coroot::agent {
namespace {

TEST(InstanceLabel, MachineIdOrMd5) {
  EXPECT_EQ(InstanceLabel("abc", ""), "abc");
  EXPECT_EQ(InstanceLabel("0123abcd", "0123ABCD"), "0123abcd");
  // md5("m1" + "u1u2") computed independently: printf m1u1u2 | md5sum
  EXPECT_EQ(InstanceLabel("m1", "u1-u2"), "2f9c90ce0a8a452602b848469f32cd9f");
}

class Const : public prom::ICollector {
 public:
  void Collect(std::vector<prom::MetricFamily>* out) override {
    prom::MetricFamily f("node_uptime_seconds", prom::MetricType::kGauge, "uptime");
    f.Add({}, 42);
    out->push_back(f);
  }
};

TEST(MetricsPusher, SpoolsSnappyRemoteWriteWithCorootLabels) {
  prom::Registry reg;
  reg.SetConstLabels({{"machine_id", "m1"}, {"system_uuid", "u1"}});
  reg.Register(std::make_shared<Const>());
  std::string dir = std::filesystem::temp_directory_path() / ("pusher_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto spool = std::make_shared<prom::Spool>(dir, 1 << 20);
  ASSERT_TRUE(spool->Open().ok());
  MetricsPusher pusher(&reg, spool, nullptr, "inst1", std::chrono::seconds(15));
  ASSERT_TRUE(pusher.PushOnce().ok());
  auto e = spool->Oldest();
  ASSERT_TRUE(e.has_value());
  auto raw = compress::SnappyDecompress(*ReadFile(e->path), 1 << 20);
  ASSERT_TRUE(raw.ok());
  auto req = prom::Decode(*raw);
  ASSERT_TRUE(req.ok());
  ASSERT_EQ(req->series.size(), 2u);
  EXPECT_EQ(req->series[0].labels,
            (prom::Labels{{"__name__", "node_uptime_seconds"}, {"instance", "inst1"}, {"job", "coroot-node-agent"},
                          {"machine_id", "m1"}, {"system_uuid", "u1"}}));
  EXPECT_EQ(req->series[0].samples[0].value, 42);
  EXPECT_EQ(req->series[1].labels[0].value, "up");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace coroot::agent
