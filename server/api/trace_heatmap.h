#pragma once
// Trace latency/error heatmap (spec §3.3): span counts per time step × duration bucket, with the
// error count of each cell, for a service / span name / time range. Coroot's buckets (ms):
// 0, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000; a span falls in the largest bucket not
// above its duration. Read from otel_traces_histogram (per-minute sums kept by its MV) when the
// step is whole minutes and every filter is one of its dimensions, else from the raw spans; both
// give the same counts.
#include <cstdint>
#include <string>
#include <vector>

#include "server/storage/clickhouse/cluster.h"

namespace coroot::server {

struct HeatmapQuery {
  std::string service;    // empty: every service
  std::string span_name;  // empty: every span name
  bool root_only = false;  // only spans without a parent (a trace's entry point)
  int64_t from_ms = 0, to_ms = 0;  // [from, to)
  int64_t step_s = 60;
};

// The bucket bounds, in milliseconds.
const std::vector<int>& HeatmapBucketsMs();

// True when the histogram table can answer: the step is whole minutes and from/to fall on minutes.
bool HeatmapFromHistogram(const HeatmapQuery& q);

// SELECT Time (unix s, start of the step), Bucket (ms), Total, Failed, ordered by Time, Bucket,
// over the tables of `database` (through the distributed tables on a cluster).
std::string HeatmapSql(const storage::Cluster& cluster, const std::string& database, const HeatmapQuery& q);

}  // namespace coroot::server
