#include "lib/prom/exposition.h"

#include <gtest/gtest.h>

namespace coroot::prom {
namespace {

class Fixed : public ICollector {
 public:
  void Collect(std::vector<MetricFamily>* out) override {
    MetricFamily up("node_uptime_seconds", MetricType::kGauge, "Uptime");
    up.Add({}, 12.5);
    MetricFamily cpu("node_resources_cpu_usage_seconds_total", MetricType::kCounter, "CPU\nusage");
    cpu.Add({{"mode", "user"}}, 3);
    cpu.Add({{"mode", "sys\"tem"}}, 1e20);
    MetricFamily h("container_http_requests_duration_seconds_total", MetricType::kHistogram, "Latency");
    h.histograms.push_back({{{"status", "200"}}, {0.1, 1}, {2, 3}, 4, 2.5});
    out->push_back(up);
    out->push_back(cpu);
    out->push_back(h);
  }
};

TEST(Exposition, WritesFamiliesWithConstLabels) {
  Registry reg;
  reg.Register(std::make_shared<Fixed>());
  reg.SetConstLabels({{"machine_id", "m1"}, {"system_uuid", "u1"}});
  std::string text = WriteText(reg.Gather());
  EXPECT_EQ(text,
            "# HELP container_http_requests_duration_seconds_total Latency\n"
            "# TYPE container_http_requests_duration_seconds_total histogram\n"
            "container_http_requests_duration_seconds_total_bucket{machine_id=\"m1\",status=\"200\",system_uuid=\"u1\",le=\"0.1\"} 2\n"
            "container_http_requests_duration_seconds_total_bucket{machine_id=\"m1\",status=\"200\",system_uuid=\"u1\",le=\"1\"} 3\n"
            "container_http_requests_duration_seconds_total_bucket{machine_id=\"m1\",status=\"200\",system_uuid=\"u1\",le=\"+Inf\"} 4\n"
            "container_http_requests_duration_seconds_total_sum{machine_id=\"m1\",status=\"200\",system_uuid=\"u1\"} 2.5\n"
            "container_http_requests_duration_seconds_total_count{machine_id=\"m1\",status=\"200\",system_uuid=\"u1\"} 4\n"
            "# HELP node_resources_cpu_usage_seconds_total CPU\\nusage\n"
            "# TYPE node_resources_cpu_usage_seconds_total counter\n"
            "node_resources_cpu_usage_seconds_total{machine_id=\"m1\",mode=\"user\",system_uuid=\"u1\"} 3\n"
            "node_resources_cpu_usage_seconds_total{machine_id=\"m1\",mode=\"sys\\\"tem\",system_uuid=\"u1\"} 1e+20\n"
            "# HELP node_uptime_seconds Uptime\n"
            "# TYPE node_uptime_seconds gauge\n"
            "node_uptime_seconds{machine_id=\"m1\",system_uuid=\"u1\"} 12.5\n");
}

TEST(Exposition, FormatValue) {
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

}  // namespace
}  // namespace coroot::prom
