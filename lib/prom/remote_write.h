#pragma once
// Prometheus remote-write 1.0 messages (WriteRequest, TimeSeries, MetricMetadata), encoded and
// decoded with the hand-written wire codec. The body on the wire is this protobuf, snappy
// block-compressed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/prom/metric.h"

namespace coroot::prom {

struct RwSample {
  double value = 0;
  int64_t timestamp_ms = 0;
};

struct RwSeries {
  Labels labels;  // includes __name__, sorted by name
  std::vector<RwSample> samples;
};

struct RwMetadata {
  int type = 0;  // prometheus.MetricMetadata.MetricType: 1 counter, 2 gauge, 3 histogram
  std::string family;
  std::string help;
  std::string unit;
};

struct WriteRequest {
  std::vector<RwSeries> series;
  std::vector<RwMetadata> metadata;
};

// Builds a WriteRequest from gathered families: one sample per series at timestamp_ms, histograms
// expanded into _bucket{le}, _sum and _count, extra labels (instance, job) added to every series.
WriteRequest FromFamilies(const std::vector<MetricFamily>& families, int64_t timestamp_ms, const Labels& extra);

std::string Encode(const WriteRequest& req);

struct DecodeLimits {
  size_t max_series = 2'000'000;
  size_t max_labels_per_series = 256;
  size_t max_samples_per_series = 100'000;
};
// Strict decode: malformed protobuf is kInvalidArgument, bounds exceeded is kResourceExhausted.
StatusOr<WriteRequest> Decode(std::string_view body, const DecodeLimits& limits = {});

}  // namespace coroot::prom
