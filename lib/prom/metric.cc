#include "lib/prom/metric.h"

#include <algorithm>
#include <map>

namespace coroot::prom {

void Registry::Register(std::shared_ptr<ICollector> c) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(c));
}

void Registry::SetConstLabels(Labels labels) {
  std::lock_guard<std::mutex> lock(mu_);
  const_labels_ = std::move(labels);
}

// Adds the constant labels a sample lacks and sorts by name. Runs once per sample of every scrape:
// one allocation for the grown vector, and each constant label goes straight to its sorted place
// when the collector's labels are sorted already (most are), instead of a sort per sample.
static void Finish(Labels* labels, const Labels& extra) {
  const bool sorted = std::is_sorted(labels->begin(), labels->end());
  labels->reserve(labels->size() + extra.size());
  for (const auto& l : extra) {
    bool present = false;
    for (const auto& have : *labels) present = present || have.name == l.name;
    if (present) continue;
    if (sorted) labels->insert(std::upper_bound(labels->begin(), labels->end(), l), l);
    else labels->push_back(l);
  }
  if (!sorted) std::sort(labels->begin(), labels->end());
}

void Flatten(std::vector<MetricFamily>* families) {
  for (auto& f : *families)
    for (auto& s : f.samples) {
      if (!s.common) continue;
      s.labels.insert(s.labels.begin(), s.common->begin(), s.common->end());
      s.common.reset();
    }
}

std::vector<MetricFamily> Registry::Gather() const {
  Gathered g = GatherApart();
  Flatten(&g.families);
  for (auto& f : g.families) {
    for (auto& s : f.samples) Finish(&s.labels, g.const_labels);
    for (auto& h : f.histograms) Finish(&h.labels, g.const_labels);
  }
  return std::move(g.families);
}

Gathered Registry::GatherApart() const {
  std::vector<std::shared_ptr<ICollector>> collectors;
  Gathered out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
    out.const_labels = const_labels_;
  }
  std::vector<MetricFamily> raw;
  for (const auto& c : collectors) c->Collect(&raw);

  // Merge families that several collectors emit (e.g. per-source disk metrics) and sort by name.
  std::map<std::string, MetricFamily> merged;
  for (auto& f : raw) {
    auto it = merged.find(f.name);
    if (it == merged.end()) {
      merged.emplace(f.name, std::move(f));
      continue;
    }
    auto& dst = it->second;
    for (auto& s : f.samples) dst.samples.push_back(std::move(s));
    for (auto& h : f.histograms) dst.histograms.push_back(std::move(h));
  }
  out.families.reserve(merged.size());
  for (auto& [name, f] : merged) out.families.push_back(std::move(f));
  return out;
}

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

}  // namespace coroot::prom
