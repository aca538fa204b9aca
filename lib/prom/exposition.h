#pragma once
// Prometheus text exposition format 0.0.4 (what /metrics serves and promtool checks).
#include <string>
#include <vector>

#include "lib/prom/metric.h"

namespace coroot::prom {

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// extra: labels added to every series after its own (Registry::GatherApart's constant labels),
// except where the series has a label of that name itself.
std::string WriteText(const std::vector<MetricFamily>& families, const Labels& extra = {});
// Formats a sample value the way Prometheus does: integers without a fraction, +Inf/-Inf/NaN.
std::string FormatValue(double v);

}  // namespace coroot::prom
