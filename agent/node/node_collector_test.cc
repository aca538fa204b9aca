#include "agent/node/node_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>

#include "agent/node/proc_uptime.h"
#include "agent/node/test_fixture.h"

namespace coroot::agent::node {
namespace {

using prom::MetricFamily;
using prom::MetricType;

std::map<std::string, const MetricFamily*> ByName(const std::vector<MetricFamily>& fams) {
  std::map<std::string, const MetricFamily*> m;
  for (const auto& f : fams) {
    EXPECT_TRUE(m.emplace(f.name, &f).second) << "duplicate family " << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
  }
  return m;
}

// The value of the sample whose labels are exactly `labels`; NaN-free tests make -1 a safe "absent".
double Value(const MetricFamily& f, const prom::Labels& labels) {
  for (const auto& s : f.samples)
    if (s.labels == labels) return s.value;
  ADD_FAILURE() << f.name << " has no sample with the given labels";
  return -1;
}

NodeSnapshot FixtureSnapshot() {
  NodeSnapshot s;
  s.uname = Uname{"node-1", "6.1.0-18-amd64"};
  s.uptime_seconds = *ParseUptime(Fixture("proc_uptime.txt"));
  s.cpu = *ParseProcStat(Fixture("proc_stat.txt"), 100);
  s.memory = *ParseMeminfo(Fixture("proc_meminfo.txt"));
  s.disks = ParseDiskstats(Fixture("proc_diskstats.txt"), [](std::string_view d) { return d == "vda"; }).disks;
  InterfaceStates states;
  states["eth0"] = {true, {"192.0.2.2", "fd00::2"}};
  states["ifb0"] = {false, {}};
  s.net = MergeInterfaces(ParseNetDev(Fixture("proc_net_dev.txt")).interfaces, states);
  return s;
}

TEST(NodeCollectorTest, FamiliesHaveCorootNamesTypesAndValues) {
  std::vector<MetricFamily> fams;
  AppendNodeFamilies(FixtureSnapshot(), &fams);
  auto m = ByName(fams);

  const std::map<std::string, MetricType> expected = {
      {"node_info", MetricType::kGauge},
      {"node_uptime_seconds", MetricType::kGauge},
      {"node_resources_cpu_usage_seconds_total", MetricType::kCounter},
      {"node_resources_cpu_logical_cores", MetricType::kGauge},
      {"node_resources_memory_total_bytes", MetricType::kGauge},
      {"node_resources_memory_free_bytes", MetricType::kGauge},
      {"node_resources_memory_available_bytes", MetricType::kGauge},
      {"node_resources_memory_cached_bytes", MetricType::kGauge},
      {"node_resources_disk_reads_total", MetricType::kCounter},
      {"node_resources_disk_writes_total", MetricType::kCounter},
      {"node_resources_disk_read_bytes_total", MetricType::kCounter},
      {"node_resources_disk_written_bytes_total", MetricType::kCounter},
      {"node_resources_disk_read_time_seconds_total", MetricType::kCounter},
      {"node_resources_disk_write_time_seconds_total", MetricType::kCounter},
      {"node_resources_disk_io_time_seconds_total", MetricType::kCounter},
      {"node_net_received_bytes_total", MetricType::kCounter},
      {"node_net_transmitted_bytes_total", MetricType::kCounter},
      {"node_net_received_packets_total", MetricType::kCounter},
      {"node_net_transmitted_packets_total", MetricType::kCounter},
      {"node_net_interface_up", MetricType::kGauge},
      {"node_net_interface_ip", MetricType::kGauge},
  };
  ASSERT_EQ(m.size(), expected.size());
  for (const auto& [name, type] : expected) {
    ASSERT_TRUE(m.count(name)) << name;
    EXPECT_EQ(m[name]->type, type) << name;
  }

  EXPECT_EQ(Value(*m["node_info"], {{"hostname", "node-1"}, {"kernel_version", "6.1.0-18-amd64"}}), 1);
  EXPECT_DOUBLE_EQ(Value(*m["node_uptime_seconds"], {}), 4987.88);

  const MetricFamily& cpu = *m["node_resources_cpu_usage_seconds_total"];
  EXPECT_EQ(cpu.samples.size(), 8u);
  EXPECT_DOUBLE_EQ(Value(cpu, {{"mode", "user"}}), 35.06);
  EXPECT_DOUBLE_EQ(Value(cpu, {{"mode", "idle"}}), 9885.73);
  EXPECT_DOUBLE_EQ(Value(cpu, {{"mode", "steal"}}), 0.16);
  for (const char* mode : {"nice", "system", "iowait", "irq", "softirq"}) Value(cpu, {{"mode", mode}});
  EXPECT_EQ(Value(*m["node_resources_cpu_logical_cores"], {}), 2);

  EXPECT_EQ(Value(*m["node_resources_memory_total_bytes"], {}), 24684096.0 * 1024);
  EXPECT_EQ(Value(*m["node_resources_memory_cached_bytes"], {}), 169712.0 * 1024);

  prom::Labels vda = {{"device", "vda"}};
  EXPECT_EQ(Value(*m["node_resources_disk_reads_total"], vda), 51371);
  EXPECT_EQ(Value(*m["node_resources_disk_written_bytes_total"], vda), 4621616.0 * 512);
  EXPECT_DOUBLE_EQ(Value(*m["node_resources_disk_io_time_seconds_total"], vda), 7.044);

  // lo is dropped; ifb0 stays (not container plumbing) and is down.
  prom::Labels eth0 = {{"interface", "eth0"}};
  EXPECT_EQ(m["node_net_received_bytes_total"]->samples.size(), 3u);
  EXPECT_EQ(Value(*m["node_net_received_bytes_total"], eth0), 331813262);
  EXPECT_EQ(Value(*m["node_net_transmitted_packets_total"], eth0), 3914);
  EXPECT_EQ(Value(*m["node_net_interface_up"], eth0), 1);
  EXPECT_EQ(Value(*m["node_net_interface_up"], {{"interface", "ifb0"}}), 0);
  EXPECT_EQ(Value(*m["node_net_interface_up"], {{"interface", "ifb1"}}), 0);
  const MetricFamily& ip = *m["node_net_interface_ip"];
  EXPECT_EQ(ip.samples.size(), 2u);
  EXPECT_EQ(Value(ip, {{"interface", "eth0"}, {"ip", "192.0.2.2"}}), 1);
  EXPECT_EQ(Value(ip, {{"interface", "eth0"}, {"ip", "fd00::2"}}), 1);
}

TEST(NodeCollectorTest, FailedSourcesAreLeftOut) {
  NodeSnapshot s;
  s.memory = *ParseMeminfo(Fixture("proc_meminfo.txt"));
  s.disks = std::vector<DiskStat>{};  // read fine, nothing to report: no empty families
  std::vector<MetricFamily> fams;
  AppendNodeFamilies(s, &fams);
  std::set<std::string> names;
  for (const auto& f : fams) names.insert(f.name);
  EXPECT_EQ(names, (std::set<std::string>{"node_resources_memory_total_bytes", "node_resources_memory_free_bytes",
                                          "node_resources_memory_available_bytes",
                                          "node_resources_memory_cached_bytes"}));
}

TEST(NodeCollectorTest, MissingHostRootDoesNotCrash) {
  NodeCollectorOptions opts;
  opts.host_root = "/nonexistent-root-for-test";
  opts.host_uts_ns = "/nonexistent/ns/uts";  // falls back to our own
  opts.host_net_ns = "/nonexistent/ns/net";
  NodeCollector c(opts);
  for (int i = 0; i < 2; i++) {  // each distinct error is logged once, on the first round
    std::vector<MetricFamily> fams;
    c.Collect(&fams);
    auto m = ByName(fams);
    EXPECT_TRUE(m.count("node_info"));
    EXPECT_FALSE(m.count("node_uptime_seconds"));
    EXPECT_FALSE(m.count("node_resources_cpu_usage_seconds_total"));
    EXPECT_FALSE(m.count("node_resources_memory_total_bytes"));
  }
}

TEST(NodeCollectorTest, LiveCollect) {
  NodeCollector c;  // host namespaces if permitted, else our own
  std::vector<MetricFamily> fams;
  c.Collect(&fams);
  auto m = ByName(fams);
  for (const char* name : {"node_info", "node_uptime_seconds", "node_resources_cpu_usage_seconds_total",
                           "node_resources_cpu_logical_cores", "node_resources_memory_total_bytes",
                           "node_resources_memory_free_bytes", "node_resources_memory_available_bytes",
                           "node_resources_memory_cached_bytes"})
    EXPECT_TRUE(m.count(name)) << name;
  ASSERT_TRUE(m.count("node_resources_cpu_logical_cores"));
  EXPECT_EQ(Value(*m["node_resources_cpu_logical_cores"], {}), sysconf(_SC_NPROCESSORS_ONLN));
  for (const auto& f : fams)
    for (const auto& s : f.samples) EXPECT_GE(s.value, 0) << f.name;
}

}  // namespace
}  // namespace coroot::agent::node
