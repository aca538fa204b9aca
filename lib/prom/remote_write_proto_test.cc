// Cross-checks the hand-written remote-write codec against the classes protoc generates from the
// schema in lib/proto: both must read each other's bytes.
#include <gtest/gtest.h>

#include "lib/prom/remote_write.h"
#include "prometheus/remote.pb.h"

namespace coroot::prom {
namespace {

TEST(RemoteWriteProto, OurBytesParseWithProtobuf) {
  std::vector<MetricFamily> fams(1);
  fams[0] = MetricFamily("node_resources_cpu_usage_seconds_total", MetricType::kCounter, "CPU time");
  fams[0].Add({{"mode", "user"}}, 12.25);
  auto req = FromFamilies(fams, 1700000000123, {{"job", "coroot-node-agent"}});
  prometheus::WriteRequest pb;
  ASSERT_TRUE(pb.ParseFromString(Encode(req)));
  ASSERT_EQ(pb.timeseries_size(), 1);
  const auto& ts = pb.timeseries(0);
  ASSERT_EQ(ts.labels_size(), 3);
  EXPECT_EQ(ts.labels(0).name(), "__name__");
  EXPECT_EQ(ts.labels(0).value(), "node_resources_cpu_usage_seconds_total");
  EXPECT_EQ(ts.labels(1).name(), "job");
  EXPECT_EQ(ts.labels(2).value(), "user");
  EXPECT_EQ(ts.samples(0).value(), 12.25);
  EXPECT_EQ(ts.samples(0).timestamp(), 1700000000123);
  ASSERT_EQ(pb.metadata_size(), 1);
  EXPECT_EQ(pb.metadata(0).type(), prometheus::MetricMetadata::COUNTER);
  EXPECT_EQ(pb.metadata(0).metric_family_name(), "node_resources_cpu_usage_seconds_total");
  EXPECT_EQ(pb.metadata(0).help(), "CPU time");
}

TEST(RemoteWriteProto, ProtobufBytesDecodeWithOurs) {
  prometheus::WriteRequest pb;
  auto* ts = pb.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value("up");
  auto* s = ts->add_samples();
  s->set_value(-3.5);
  s->set_timestamp(42);
  auto* ex = ts->add_exemplars();  // a field we skip
  ex->set_value(1);
  auto* md = pb.add_metadata();
  md->set_type(prometheus::MetricMetadata::GAUGE);
  md->set_metric_family_name("up");
  md->set_help("h");
  md->set_unit("u");
  auto r = Decode(pb.SerializeAsString());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_EQ(r->series[0].labels, (Labels{{"__name__", "up"}}));
  EXPECT_EQ(r->series[0].samples[0].value, -3.5);
  EXPECT_EQ(r->series[0].samples[0].timestamp_ms, 42);
  ASSERT_EQ(r->metadata.size(), 1u);
  EXPECT_EQ(r->metadata[0].type, 2);
  EXPECT_EQ(r->metadata[0].family, "up");
  EXPECT_EQ(r->metadata[0].help, "h");
  EXPECT_EQ(r->metadata[0].unit, "u");
}

}  // namespace
}  // namespace coroot::prom
