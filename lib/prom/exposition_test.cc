#include "lib/prom/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

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

// A collector that gives the families it was made with.
class Given : public ICollector {
 public:
  explicit Given(std::vector<MetricFamily> fams) : fams_(std::move(fams)) {}
  void Collect(std::vector<MetricFamily>* out) override { out->insert(out->end(), fams_.begin(), fams_.end()); }

 private:
  std::vector<MetricFamily> fams_;
};

// A registry of one collector giving fams, with the constant labels machine_id=m1, system_uuid=u1.
std::unique_ptr<Registry> RegistryOf(std::vector<MetricFamily> fams) {
  auto reg = std::make_unique<Registry>();
  reg->Register(std::make_shared<Given>(std::move(fams)));
  reg->SetConstLabels({{"machine_id", "m1"}, {"system_uuid", "u1"}});
  return reg;
}

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

// Constant labels go to their sorted places whether a collector's labels come sorted or not, and
// a label the collector set itself is kept, not doubled.
TEST(Exposition, ConstLabelsAreMergedInOrder) {
  MetricFamily f("m", MetricType::kGauge, "h");
  f.Add({{"a", "1"}, {"z", "2"}}, 1);              // sorted
  f.Add({{"z", "2"}, {"a", "1"}, {"n", "3"}}, 2);  // not sorted
  f.Add({{"machine_id", "own"}, {"b", "4"}}, 3);   // sets a constant label itself
  f.Add({}, 4);
  EXPECT_EQ(WriteText(RegistryOf({f})->Gather()),
            "# HELP m h\n"
            "# TYPE m gauge\n"
            "m{a=\"1\",machine_id=\"m1\",system_uuid=\"u1\",z=\"2\"} 1\n"
            "m{a=\"1\",machine_id=\"m1\",n=\"3\",system_uuid=\"u1\",z=\"2\"} 2\n"
            "m{b=\"4\",machine_id=\"own\",system_uuid=\"u1\"} 3\n"
            "m{machine_id=\"m1\",system_uuid=\"u1\"} 4\n");
}

// The /metrics path: constant labels kept apart by GatherApart and written after each series' own
// labels (a label the collector set itself wins), on samples and on every histogram line.
TEST(Exposition, ConstLabelsWrittenByTheWriter) {
  MetricFamily f("m", MetricType::kGauge, "h");
  f.Add({{"z", "2"}, {"a", "1"}}, 1);
  f.Add({{"machine_id", "own"}}, 2);
  f.Add({}, 3);
  MetricFamily h("d", MetricType::kHistogram, "h");
  h.histograms.push_back({{{"s", "x"}}, {1}, {5}, 6, 2.5});
  Gathered g = RegistryOf({f, h})->GatherApart();
  ASSERT_EQ(g.families.size(), 2u);
  EXPECT_EQ(g.families[1].samples[0].labels, (Labels{{"z", "2"}, {"a", "1"}}));  // untouched
  EXPECT_EQ(g.const_labels, (Labels{{"machine_id", "m1"}, {"system_uuid", "u1"}}));
  EXPECT_EQ(WriteText(g.families, g.const_labels),
            "# HELP d h\n"
            "# TYPE d histogram\n"
            "d_bucket{s=\"x\",machine_id=\"m1\",system_uuid=\"u1\",le=\"1\"} 5\n"
            "d_bucket{s=\"x\",machine_id=\"m1\",system_uuid=\"u1\",le=\"+Inf\"} 6\n"
            "d_sum{s=\"x\",machine_id=\"m1\",system_uuid=\"u1\"} 2.5\n"
            "d_count{s=\"x\",machine_id=\"m1\",system_uuid=\"u1\"} 6\n"
            "# HELP m h\n"
            "# TYPE m gauge\n"
            "m{z=\"2\",a=\"1\",machine_id=\"m1\",system_uuid=\"u1\"} 1\n"
            "m{machine_id=\"own\",system_uuid=\"u1\"} 2\n"
            "m{machine_id=\"m1\",system_uuid=\"u1\"} 3\n");
}

// Samples holding a container's labels in common: written before their own, an extra label they
// have in common not added again; Gather and Flatten put them into each sample's labels.
TEST(Exposition, CommonLabelsAreWrittenAndFlattened) {
  auto common = std::make_shared<const Labels>(Labels{{"container_id", "/c"}, {"machine_id", "own"}});
  MetricFamily f("m", MetricType::kGauge, "h");
  f.Add(common, {}, 1);
  f.Add(common, {{"kind", "some"}}, 2);
  std::unique_ptr<Registry> reg = RegistryOf({f});
  Gathered g = reg->GatherApart();
  EXPECT_EQ(WriteText(g.families, g.const_labels),
            "# HELP m h\n# TYPE m gauge\n"
            "m{container_id=\"/c\",machine_id=\"own\",system_uuid=\"u1\"} 1\n"
            "m{container_id=\"/c\",machine_id=\"own\",kind=\"some\",system_uuid=\"u1\"} 2\n");
  std::vector<MetricFamily> flat = reg->Gather();
  ASSERT_EQ(flat[0].samples.size(), 2u);
  EXPECT_EQ(flat[0].samples[1].common, nullptr);
  EXPECT_EQ(flat[0].samples[1].labels, (Labels{{"container_id", "/c"},
                                               {"kind", "some"},
                                               {"machine_id", "own"},
                                               {"system_uuid", "u1"}}));
  Flatten(&g.families);
  EXPECT_EQ(g.families[0].samples[0].labels, (Labels{{"container_id", "/c"}, {"machine_id", "own"}}));
}

TEST(Exposition, FormatValue) {
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(Exposition, EscapesLabelValues) {
  MetricFamily f("m", MetricType::kGauge, "h");
  f.Add({{"a", "x\\y\nz\"w"}, {"b", "\"\""}, {"c", ""}}, 1);
  EXPECT_EQ(WriteText({f}), "# HELP m h\n# TYPE m gauge\nm{a=\"x\\\\y\\nz\\\"w\",b=\"\\\"\\\"\",c=\"\"} 1\n");
  MetricFamily g("g", MetricType::kGauge, "h");
  g.Add({}, 2);
  EXPECT_EQ(WriteText({g}, {{"x", "a\"b\\"}}), "# HELP g h\n# TYPE g gauge\ng{x=\"a\\\"b\\\\\"} 2\n");  // extra labels too
}

// The printf loop FormatValue used before it went through to_chars; kept as the reference.
std::string FormatValueWithPrintf(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    for (int prec = 1; prec <= 17; prec++) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", prec, v);
      if (std::strtod(shorter, nullptr) == v) return shorter;
    }
  }
  return buf;
}

TEST(Exposition, FormatValueSameAsThePrintfLoop) {
  std::vector<double> values = {0,     -0.0,   1,      -1,     0.5,    1e15,  -1e15, 1e15 - 1, 1e16,
                                1e20,  1e-5,   1e-4,   123.456, 5e-324, 1.7976931348623157e308,
                                0.1 + 0.2, 2.5e-7, 12345678901234560.0, 9007199254740993.0, 1.0 / 3};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50000; i++) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    values.push_back(v);                                           // any bit pattern
    values.push_back(static_cast<double>(rng() % 100000000) / 1e6);  // decimal counters (seconds)
    values.push_back(static_cast<double>(rng() >> (rng() % 64)));  // integers of every size
    values.push_back(static_cast<double>(rng() % 1000000) / 1e9 * static_cast<double>(rng() % 1000));
  }
  for (double v : values) ASSERT_EQ(FormatValue(v), FormatValueWithPrintf(v)) << std::hexfloat << v;
}

}  // namespace
}  // namespace coroot::prom
