#include "agent/protocols/l7_metrics.h"

#include <gtest/gtest.h>

#include <map>

#include "lib/prom/exposition.h"

namespace coroot::agent::protocols {
namespace {

L7Request Req(L7Protocol p, std::string status, uint64_t duration_ns, bool inbound = false) {
  L7Request r;
  r.protocol = p;
  r.status = std::move(status);
  r.duration_ns = duration_ns;
  r.is_inbound = inbound;
  return r;
}

const prom::MetricFamily* Find(const std::vector<prom::MetricFamily>& fams, const std::string& name) {
  for (const auto& f : fams)
    if (f.name == name) return &f;
  return nullptr;
}

std::string Get(const prom::Labels& l, const std::string& name) {
  for (const auto& x : l)
    if (x.name == name) return x.value;
  return "<absent>";
}

TEST(L7MetricsTest, CountsEveryRecordWithItsLabels) {
  L7Metrics m;
  // 7 outbound HTTP records: 4 × 2xx to A, 2 × 5xx to A, 1 × 2xx to B; 3 inbound 4xx.
  for (int i = 0; i < 4; i++)
    EXPECT_EQ(m.Add("/k8s/ns/app", "10.0.0.1:80", "10.1.1.1:8080", Req(L7Protocol::kHttp, "2xx", 3000000)),
              L7Metrics::AddResult::kCounted);
  for (int i = 0; i < 2; i++) m.Add("/k8s/ns/app", "10.0.0.1:80", "10.1.1.1:8080", Req(L7Protocol::kHttp, "5xx", 700000000));
  m.Add("/k8s/ns/app", "10.0.0.2:80", "", Req(L7Protocol::kHttp, "2xx", 20000000000ull));
  for (int i = 0; i < 3; i++) m.Add("/k8s/ns/app", "ignored:1", "ignored:2", Req(L7Protocol::kHttp, "4xx", 1000000, true));

  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  const auto* total = Find(fams, "container_http_requests_total");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->type, prom::MetricType::kCounter);
  std::map<std::string, double> by;  // "destination|status" → value
  double sum = 0;
  for (const auto& s : total->samples) {
    EXPECT_EQ(Get(s.labels, "container_id"), "/k8s/ns/app");
    by[Get(s.labels, "destination") + "|" + Get(s.labels, "actual_destination") + "|" + Get(s.labels, "status")] = s.value;
    sum += s.value;
  }
  EXPECT_EQ(sum, 7);
  EXPECT_EQ(by["10.0.0.1:80|10.1.1.1:8080|2xx"], 4);
  EXPECT_EQ(by["10.0.0.1:80|10.1.1.1:8080|5xx"], 2);
  EXPECT_EQ(by["10.0.0.2:80||2xx"], 1);

  const auto* inbound = Find(fams, "container_http_inbound_requests_total");
  ASSERT_NE(inbound, nullptr);
  ASSERT_EQ(inbound->samples.size(), 1u);
  EXPECT_EQ(inbound->samples[0].value, 3);
  EXPECT_EQ(Get(inbound->samples[0].labels, "status"), "4xx");
  EXPECT_EQ(Get(inbound->samples[0].labels, "destination"), "<absent>");

  const auto* hist = Find(fams, "container_http_requests_duration_seconds_total");
  ASSERT_NE(hist, nullptr);
  EXPECT_EQ(hist->type, prom::MetricType::kHistogram);
  ASSERT_EQ(hist->histograms.size(), 2u);  // one per destination: no status label
  for (const auto& h : hist->histograms) {
    EXPECT_EQ(Get(h.labels, "status"), "<absent>");
    ASSERT_EQ(h.upper_bounds, prom::DefaultBuckets());
    if (Get(h.labels, "destination") == "10.0.0.1:80") {
      EXPECT_EQ(h.count, 6u);
      EXPECT_NEAR(h.sum, 4 * 0.003 + 2 * 0.7, 1e-9);
      // le: 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10
      EXPECT_EQ(h.cumulative_counts, (std::vector<uint64_t>{4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6}));
    } else {
      EXPECT_EQ(h.count, 1u);  // 20 s: only in +Inf
      EXPECT_EQ(h.cumulative_counts.back(), 0u);
    }
  }
  EXPECT_EQ(Find(fams, "coroot_l7_dropped_total"), nullptr);
}

TEST(L7MetricsTest, ExpositionUsesCorootHistogramNames) {
  L7Metrics m;
  m.Add("c", "db:5432", "", Req(L7Protocol::kPostgres, "ok", 2000000));
  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  std::string text = prom::WriteText(fams);
  EXPECT_NE(text.find("container_postgres_queries_total{actual_destination=\"\",container_id=\"c\",destination=\"db:5432\",status=\"ok\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_postgres_queries_duration_seconds_total_bucket{"), std::string::npos) << text;
  EXPECT_NE(text.find("le=\"0.005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("container_postgres_queries_duration_seconds_total_count{"), std::string::npos) << text;
}

TEST(L7MetricsTest, DnsDomainCapAndCollapsing) {
  L7MetricsOptions opt;
  opt.max_fqdns_per_container = 2;
  L7Metrics m(opt);
  auto dns = [](std::string type, std::string name, std::string status, bool with_answer) {
    L7Request r = Req(L7Protocol::kDns, std::move(status), 1000000);
    r.method = std::move(type);
    r.path = std::move(name);
    if (with_answer) r.answers.push_back({"TypeA", "10.0.0.1"});
    return r;
  };
  EXPECT_EQ(m.Add("c", "", "", dns("TypeA", "a.example.com", "ok", true)), L7Metrics::AddResult::kCounted);
  EXPECT_EQ(m.Add("c", "", "", dns("TypePTR", "4.3.2.1.in-addr.arpa", "ok", false)), L7Metrics::AddResult::kCounted);
  EXPECT_EQ(m.Add("c", "", "", dns("TypeA", "b.example.com", "nxdomain", false)), L7Metrics::AddResult::kCounted);
  EXPECT_EQ(m.Add("c", "", "", dns("TypeA", "c.example.com", "ok", true)), L7Metrics::AddResult::kCounted);
  EXPECT_EQ(m.Add("c", "", "", dns("TypeA", "a.example.com", "ok", true)), L7Metrics::AddResult::kCounted);
  EXPECT_EQ(m.Add("c", "", "", dns("TypeAAAA", "a.example.com", "ok", false)), L7Metrics::AddResult::kExcluded);
  EXPECT_EQ(m.Add("other", "", "", dns("TypeA", "z.example.com", "ok", true)), L7Metrics::AddResult::kCounted);

  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  const auto* total = Find(fams, "container_dns_requests_total");
  ASSERT_NE(total, nullptr);
  std::map<std::string, double> by;
  for (const auto& s : total->samples) {
    EXPECT_EQ(Get(s.labels, "destination"), "<absent>");
    by[Get(s.labels, "container_id") + "|" + Get(s.labels, "request_type") + "|" + Get(s.labels, "domain") + "|" +
       Get(s.labels, "status")] = s.value;
  }
  EXPECT_EQ(by.size(), 5u);
  EXPECT_EQ(by["c|TypeA|a.example.com|ok"], 2);
  EXPECT_EQ(by["c|TypePTR|IP.in-addr.arpa|ok"], 1);
  EXPECT_EQ(by["c|TypeA|~other|nxdomain"], 1);  // third distinct domain of "c"
  EXPECT_EQ(by["c|TypeA|~other|ok"], 1);
  EXPECT_EQ(by["other|TypeA|z.example.com|ok"], 1);  // the cap is per container
  EXPECT_EQ(m.dropped("dns_empty_aaaa"), 1u);
  const auto* hist = Find(fams, "container_dns_requests_duration_seconds_total");
  ASSERT_NE(hist, nullptr);
  ASSERT_EQ(hist->histograms.size(), 2u);  // per container only
}

TEST(L7MetricsTest, HttpPathFilterAndMessagesAndHttp2) {
  L7MetricsOptions opt;
  opt.http_exclude = http::PathFilter({"/health*"});
  L7Metrics m(opt);
  L7Request h = Req(L7Protocol::kHttp, "2xx", 1000);
  h.path = "/healthz?full=1";
  EXPECT_EQ(m.Add("c", "d:80", "", h), L7Metrics::AddResult::kExcluded);
  L7Request probe = h;
  probe.is_inbound = true;  // a kubelet probe arriving at the container
  EXPECT_EQ(m.Add("c", "", "", probe), L7Metrics::AddResult::kExcluded);
  h.path = "/api";
  EXPECT_EQ(m.Add("c", "d:80", "", h), L7Metrics::AddResult::kCounted);
  EXPECT_EQ(m.Add("c", "d:80", "", Req(L7Protocol::kHttp2, "2xx", 1000)), L7Metrics::AddResult::kCounted);
  L7Request pub = Req(L7Protocol::kNats, "ok", 0);
  pub.method = "produce";
  EXPECT_EQ(m.Add("c", "nats:4222", "", pub), L7Metrics::AddResult::kCounted);
  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  const auto* http = Find(fams, "container_http_requests_total");
  ASSERT_NE(http, nullptr);
  ASSERT_EQ(http->samples.size(), 1u);
  EXPECT_EQ(http->samples[0].value, 2);  // HTTP/1 and HTTP/2 merged
  const auto* nats = Find(fams, "container_nats_messages_total");
  ASSERT_NE(nats, nullptr);
  ASSERT_EQ(nats->samples.size(), 1u);
  EXPECT_EQ(Get(nats->samples[0].labels, "method"), "produce");
  EXPECT_EQ(m.dropped("http_path_excluded"), 2u);
  EXPECT_EQ(Find(fams, "container_http_inbound_requests_total"), nullptr);
}

// A batch of messages in one syscall adds them all; other protocols count one per request.
TEST(L7MetricsTest, MessageBatchesCountEachMessage) {
  L7Metrics m(L7MetricsOptions{});
  L7Request batch = Req(L7Protocol::kRabbitmq, "ok", 0);
  batch.method = "consume";
  batch.messages = 4;
  EXPECT_EQ(m.Add("c", "mq:5672", "", batch), L7Metrics::AddResult::kCounted);
  batch.messages = 0;  // never below one
  EXPECT_EQ(m.Add("c", "mq:5672", "", batch), L7Metrics::AddResult::kCounted);
  L7Request redis = Req(L7Protocol::kRedis, "ok", 1000);
  redis.messages = 3;
  EXPECT_EQ(m.Add("c", "r:6379", "", redis), L7Metrics::AddResult::kCounted);
  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  const auto* mq = Find(fams, "container_rabbitmq_messages_total");
  ASSERT_NE(mq, nullptr);
  ASSERT_EQ(mq->samples.size(), 1u);
  EXPECT_EQ(mq->samples[0].value, 5);
  const auto* r = Find(fams, "container_redis_queries_total");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->samples[0].value, 1);
}

TEST(L7MetricsTest, SeriesLimitDropsAndCounts) {
  L7MetricsOptions opt;
  opt.max_series = 4;  // counter + histogram per destination → 2 destinations fit
  L7Metrics m(opt);
  int counted = 0;
  for (int i = 0; i < 5; i++)
    if (m.Add("c", "d" + std::to_string(i), "", Req(L7Protocol::kRedis, "ok", 1000)) == L7Metrics::AddResult::kCounted)
      counted++;
  EXPECT_EQ(counted, 2);
  EXPECT_EQ(m.series(), 4u);
  EXPECT_EQ(m.dropped("series_limit"), 3u);
  // Existing series keep counting.
  EXPECT_EQ(m.Add("c", "d0", "", Req(L7Protocol::kRedis, "ok", 1000)), L7Metrics::AddResult::kCounted);
  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  const auto* d = Find(fams, "coroot_l7_dropped_total");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->samples.size(), 1u);
  EXPECT_EQ(d->samples[0].value, 3);
  m.RemoveContainer("c");
  EXPECT_EQ(m.series(), 0u);
}

TEST(L7MetricsTest, ZeroDurationIsNotObserved) {
  L7Metrics m;
  m.Add("c", "d", "", Req(L7Protocol::kMysql, "ok", 0));
  std::vector<prom::MetricFamily> fams;
  m.Collect(&fams);
  EXPECT_NE(Find(fams, "container_mysql_queries_total"), nullptr);
  EXPECT_EQ(Find(fams, "container_mysql_queries_duration_seconds_total"), nullptr);
}

}  // namespace
}  // namespace coroot::agent::protocols
