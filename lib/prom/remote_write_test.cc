#include "lib/prom/remote_write.h"

#include <gtest/gtest.h>

#include "lib/compress/compress.h"

namespace coroot::prom {
namespace {

TEST(RemoteWrite, EncodesTheExactWireBytes) {
  WriteRequest req;
  req.series.push_back({{{"__name__", "up"}}, {{1.0, 1000}}});
  // WriteRequest.timeseries(1) { labels(1) { name(1)="__name__" value(2)="up" } samples(2) { value(1) double 1.0, timestamp(2) 1000 } }
  std::string label = std::string("\x0a\x08__name__\x12\x02up", 14);
  std::string sample = std::string("\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\xe8\x07", 12);
  std::string series = "\x0a" + std::string(1, char(label.size())) + label + "\x12" + std::string(1, char(sample.size())) + sample;
  std::string expected = "\x0a" + std::string(1, char(series.size())) + series;
  EXPECT_EQ(Encode(req), expected);
}

TEST(RemoteWrite, FamiliesRoundTrip) {
  std::vector<MetricFamily> fams(2);
  fams[0] = MetricFamily("node_info", MetricType::kGauge, "info");
  fams[0].Add({{"hostname", "h"}, {"kernel_version", "6.1"}}, 1);
  fams[1] = MetricFamily("lat", MetricType::kHistogram, "latency");
  fams[1].histograms.push_back({{}, {0.5}, {1}, 2, 1.25});
  auto req = FromFamilies(fams, 1700000000000, {{"job", "coroot-node-agent"}, {"instance", "i1"}});
  auto decoded = Decode(Encode(req));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->series.size(), 5u);  // node_info + 2 buckets + sum + count
  const auto& s0 = decoded->series[0];
  EXPECT_EQ(s0.labels, (Labels{{"__name__", "node_info"}, {"hostname", "h"}, {"instance", "i1"},
                               {"job", "coroot-node-agent"}, {"kernel_version", "6.1"}}));
  EXPECT_EQ(s0.samples[0].timestamp_ms, 1700000000000);
  EXPECT_EQ(decoded->series[1].labels[0].value, "lat_bucket");
  EXPECT_EQ(decoded->series[1].labels.back(), (Label{"le", "0.5"}));
  EXPECT_EQ(decoded->series[2].labels.back(), (Label{"le", "+Inf"}));
  EXPECT_EQ(decoded->series[3].samples[0].value, 1.25);
  ASSERT_EQ(decoded->metadata.size(), 2u);
  EXPECT_EQ(decoded->metadata[1].type, 3);
  EXPECT_EQ(decoded->metadata[1].family, "lat");
  EXPECT_EQ(decoded->metadata[1].help, "latency");
}

// A sample's common labels go into its series, sorted with its own; an extra label of the same
// name as a common one is not added.
TEST(RemoteWrite, CommonLabelsGoIntoTheSeries) {
  MetricFamily f("container_restarts_total", MetricType::kCounter, "r");
  auto common = std::make_shared<const Labels>(Labels{{"container_id", "/c"}, {"app_id", "/a"}});
  f.Add(common, {{"kind", "x"}}, 3);
  auto req = FromFamilies({f}, 1, {{"job", "j"}, {"container_id", "other"}});
  ASSERT_EQ(req.series.size(), 1u);
  EXPECT_EQ(req.series[0].labels, (Labels{{"__name__", "container_restarts_total"},
                                          {"app_id", "/a"},
                                          {"container_id", "/c"},
                                          {"job", "j"},
                                          {"kind", "x"}}));
}

TEST(RemoteWrite, MalformedInputIsRejected) {
  WriteRequest req;
  req.series.push_back({{{"__name__", "up"}, {"job", "x"}}, {{1.0, 1000}}});
  std::string good = Encode(req);
  for (size_t cut = 1; cut < good.size(); cut++) {
    auto r = Decode(good.substr(0, cut));
    EXPECT_FALSE(r.ok()) << "prefix " << cut;
  }
  EXPECT_FALSE(Decode("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").ok());
  EXPECT_FALSE(Decode(std::string("\x0b", 1)).ok());  // group start: unsupported wire type
  DecodeLimits tight;
  tight.max_labels_per_series = 1;
  EXPECT_EQ(Decode(good, tight).status().code(), StatusCode::kResourceExhausted);
}

TEST(RemoteWrite, SnappyBodyMatchesWhatPrometheusReads) {
  WriteRequest req;
  req.series.push_back({{{"__name__", "x"}}, {{2.0, 5}}});
  std::string body = compress::SnappyCompress(Encode(req));
  auto raw = compress::SnappyDecompress(body, 1 << 20);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(Decode(*raw)->series[0].samples[0].value, 2.0);
}

}  // namespace
}  // namespace coroot::prom
