#pragma once
// The in-memory form of Prometheus metrics shared by the exposition writer, the remote-write
// encoder and every collector: a collector appends MetricFamily values when gathered.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace coroot::prom {

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
  bool operator<(const Label& o) const { return name < o.name || (name == o.name && value < o.value); }
};
using Labels = std::vector<Label>;

enum class MetricType { kGauge, kCounter, kHistogram };

struct Sample {
  Labels labels;  // without __name__
  double value = 0;
  // Labels many samples have in common (a container's container_id and app_id), held once rather
  // than copied into each; they come before `labels`, whose names differ from theirs. Readers that
  // look at `labels` alone get them there from Registry::Gather or Flatten.
  std::shared_ptr<const Labels> common;
};

struct HistogramSample {
  Labels labels;
  std::vector<double> upper_bounds;       // ascending, without +Inf
  std::vector<uint64_t> cumulative_counts;  // same length as upper_bounds
  uint64_t count = 0;                     // the +Inf bucket
  double sum = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;             // gauges and counters
  std::vector<HistogramSample> histograms;  // histograms

  MetricFamily() = default;
  MetricFamily(std::string n, MetricType t, std::string h) : name(std::move(n)), help(std::move(h)), type(t) {}
  void Add(Labels labels, double value) { samples.push_back({std::move(labels), value, nullptr}); }
  void Add(const std::shared_ptr<const Labels>& common, Labels labels, double value) {
    samples.push_back({std::move(labels), value, common});
  }
};

// Puts every sample's common labels into its own labels.
void Flatten(std::vector<MetricFamily>* families);

// Anything that contributes metrics. Collect runs on the gathering thread; it must be bounded in
// time and memory, and report its own failures as metrics or logs rather than throwing.
class ICollector {
 public:
  virtual ~ICollector() = default;
  virtual void Collect(std::vector<MetricFamily>* out) = 0;
};

// What the collectors gave (families merged by name, sorted by name) and the constant labels apart.
struct Gathered {
  std::vector<MetricFamily> families;
  Labels const_labels;
};

// Holds collectors and constant labels added to every series (machine_id, system_uuid, ...).
class Registry {
 public:
  void Register(std::shared_ptr<ICollector> c);
  void SetConstLabels(Labels labels);
  // Runs every collector; merges families of the same name; adds constant labels; sorts labels.
  std::vector<MetricFamily> Gather() const;
  // Runs every collector and merges families, leaving the constant labels to the writer
  // (WriteText's and FromFamilies' extra labels): a scrape then does not copy them into every
  // sample (two heap strings each) nor sort every sample's labels.
  Gathered GatherApart() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<ICollector>> collectors_;
  Labels const_labels_;
};

// Prometheus' default histogram buckets (seconds), used by Coroot's latency histograms.
const std::vector<double>& DefaultBuckets();

}  // namespace coroot::prom
