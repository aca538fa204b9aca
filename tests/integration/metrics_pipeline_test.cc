// The first data path, end to end with real parts: node agent → coroot server → Prometheus.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "lib/compress/compress.h"
#include "lib/http/client.h"
#include "lib/prom/remote_write.h"
#include "tests/integration/stack.h"

namespace coroot::testing {
namespace {

using namespace std::chrono_literals;

// Parses one exposition text into name{labels} → value (labels as written by the agent).
std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

double Find(const std::map<std::string, double>& m, const std::string& prefix) {
  for (const auto& [k, v] : m)
    if (k.rfind(prefix, 0) == 0) return v;
  return NAN;
}

uint64_t MeminfoKb(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string k;
  uint64_t v;
  std::string unit;
  while (in >> k >> v) {
    std::getline(in, unit);
    if (k == key + ":") return v;
  }
  return 0;
}

double ProcUptime() {
  std::ifstream in("/proc/uptime");
  double u = 0;
  in >> u;
  return u;
}

double ProcUserSeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t user = 0;
  in >> cpu >> user;
  return static_cast<double>(user) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST(MetricsPipeline, AgentMetricsPassPromtoolAndMatchProc) {
  Stack s("pipeline_proc");
  s.StartAgent({"--collector-endpoint="});  // pull mode only
  double user_before = ProcUserSeconds();
  double uptime_before = ProcUptime();
  auto r = http::Fetch({"GET", s.agent_url() + "/metrics"});
  double uptime_after = ProcUptime();
  double user_after = ProcUserSeconds();
  ASSERT_TRUE(r.ok() && r->status == 200);
  EXPECT_EQ(r->Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  std::string path = s.dir + "/metrics.txt";
  std::ofstream(path) << r->body;
  int rc = std::system(("promtool check metrics < " + path + " > " + s.dir + "/promtool.out 2>&1").c_str());
  std::ifstream lint(s.dir + "/promtool.out");
  std::string lint_text((std::istreambuf_iterator<char>(lint)), std::istreambuf_iterator<char>());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << lint_text;

  auto m = ParseExposition(r->body);
  EXPECT_EQ(Find(m, "node_resources_memory_total_bytes{"), MeminfoKb("MemTotal") * 1024.0);
  EXPECT_EQ(Find(m, "node_resources_cpu_logical_cores{"), static_cast<double>(sysconf(_SC_NPROCESSORS_CONF)));
  double uptime = Find(m, "node_uptime_seconds{");
  EXPECT_GE(uptime, uptime_before);
  EXPECT_LE(uptime, uptime_after);
  for (const auto& [k, v] : m) {
    if (k.find("node_resources_cpu_usage_seconds_total") == 0 && k.find("mode=\"user\"") != std::string::npos) {
      EXPECT_GE(v, user_before);
      EXPECT_LE(v, user_after);
    }
  }
  EXPECT_FALSE(std::isnan(Find(m, "node_info{")));
  EXPECT_FALSE(std::isnan(Find(m, "node_agent_info{")));
}

TEST(MetricsPipeline, AgentMetricArrivesInPrometheusWithCorootLabels) {
  Stack s("pipeline_labels");
  s.StartPrometheus();
  s.StartServer();
  s.StartAgent();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array result;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string body = s.Query("node_resources_cpu_logical_cores");
        return !body.empty() && !parser.parse(body).get(doc) && !doc["data"]["result"].get_array().get(result) &&
               result.size() == 1;
      },
      30s))
      << s.Logs();
  simdjson::dom::object metric;
  ASSERT_FALSE(result.at(0)["metric"].get_object().get(metric));
  std::map<std::string, std::string> labels;
  for (auto [k, v] : metric) labels[std::string(k)] = std::string(v.get_string().value());
  EXPECT_EQ(labels["job"], "coroot-node-agent");
  EXPECT_FALSE(labels["machine_id"].empty());
  // Prometheus drops empty labels: system_uuid is there exactly when the machine has a DMI UUID.
  std::ifstream dmi("/sys/class/dmi/id/product_uuid");
  std::string uuid;
  std::getline(dmi, uuid);
  if (uuid.empty()) EXPECT_EQ(labels.count("system_uuid"), 0u);
  else EXPECT_EQ(labels["system_uuid"], uuid);
  std::ifstream mid("/etc/machine-id");
  std::string machine_id;
  std::getline(mid, machine_id);
  EXPECT_EQ(labels["machine_id"], machine_id);
  EXPECT_FALSE(labels["instance"].empty());
  std::string_view value;
  ASSERT_FALSE(result.at(0)["value"].at(1).get_string().get(value));
  EXPECT_EQ(std::stod(std::string(value)), static_cast<double>(sysconf(_SC_NPROCESSORS_CONF)));
  // The agent's `up` series arrives too.
  EXPECT_NE(s.Query("up{job=\"coroot-node-agent\"}").find("\"1\""), std::string::npos);
}

TEST(MetricsPipeline, ServerRestartLeavesNoGap) {
  Stack s("pipeline_gap");
  s.StartPrometheus();
  s.StartServer();
  s.StartAgent();
  const std::string selector = "node_uptime_seconds";
  ASSERT_TRUE(WaitFor([&] { return s.RawSamples(selector, "10m").size() >= 3; }, 30s)) << s.Logs();

  s.StopServer(SIGKILL);  // the agent keeps gathering into its spool meanwhile
  std::this_thread::sleep_for(6s);
  s.StartServer();

  // After the restart, samples keep arriving; wait until the outage window is filled in.
  std::vector<PromSample> samples;
  ASSERT_TRUE(WaitFor(
      [&] {
        samples = s.RawSamples(selector, "10m");
        return samples.size() >= 12;
      },
      90s))
      << s.Logs();
  // One sample per scrape interval (1 s), with no hole where the server was down.
  double worst = 0;
  for (size_t i = 1; i < samples.size(); i++) worst = std::max(worst, samples[i].t - samples[i - 1].t);
  EXPECT_LT(worst, 2.5) << "largest gap between consecutive samples: " << worst << " s\n" << s.Logs();
  double span = samples.back().t - samples.front().t;
  EXPECT_GE(static_cast<double>(samples.size()), span / 1.0 * 0.9);
}

TEST(MetricsPipeline, BadInputGetsClearErrorsAndServerSurvives) {
  Stack s("pipeline_bad");
  s.StartPrometheus();
  s.StartServer({"--max-request-body=1MB"});
  std::string url = s.server_url() + "/v1/metrics";
  http::Headers rw = {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "snappy"}};
  auto post = [&](const std::string& body, http::Headers headers) {
    auto r = http::Fetch({"POST", url, std::move(headers), body});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  };

  auto not_snappy = post("this is not snappy", rw);
  EXPECT_EQ(not_snappy.status, 400);
  EXPECT_NE(not_snappy.body.find("snappy"), std::string::npos);

  auto not_proto = post(compress::SnappyCompress("\x0a\xff\xff\xff\x0f garbage"), rw);
  EXPECT_EQ(not_proto.status, 400);
  EXPECT_NE(not_proto.body.find("malformed remote-write protobuf"), std::string::npos);

  auto oversized = post(std::string(2 << 20, 'x'), rw);
  EXPECT_EQ(oversized.status, 413);

  auto bomb = post(compress::SnappyCompress(std::string(64 << 20, '\0')), rw);
  EXPECT_EQ(bomb.status, 413);

  http::Headers bad_key = rw;
  bad_key.push_back({"X-Api-Key", "not-a-key"});
  prom::WriteRequest w;
  w.series.push_back({{{"__name__", "bad_input_probe"}, {"job", "t"}}, {{1, 0}}});
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  w.series[0].samples[0].timestamp_ms = now_ms;
  std::string good = compress::SnappyCompress(prom::Encode(w));
  auto unknown = post(good, bad_key);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, "project not found\n");

  // The server is still up and a valid push goes through to Prometheus.
  EXPECT_TRUE(HttpOk(s.server_url() + "/health"));
  EXPECT_EQ(post(good, rw).status / 100, 2);
  EXPECT_NE(s.Query("bad_input_probe").find("bad_input_probe"), std::string::npos);
  EXPECT_TRUE(s.server->running());
}

}  // namespace
}  // namespace coroot::testing
