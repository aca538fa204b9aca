#include "lib/prom/exposition.h"

#include <cmath>
#include <cstdio>

namespace coroot::prom {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // Prefer the shortest representation that round-trips.
    for (int prec = 1; prec <= 17; prec++) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", prec, v);
      if (std::strtod(shorter, nullptr) == v) {
        return shorter;
      }
    }
  }
  return buf;
}

static void EscapeHelp(const std::string& s, std::string* out) {
  for (char c : s) {
    if (c == '\\') *out += "\\\\";
    else if (c == '\n') *out += "\\n";
    else out->push_back(c);
  }
}

static void WriteLabels(const Labels& labels, const Label* extra, std::string* out) {
  if (labels.empty() && !extra) return;
  out->push_back('{');
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out->push_back(',');
    first = false;
    *out += l.name;
    *out += "=\"";
    for (char c : l.value) {
      if (c == '\\') *out += "\\\\";
      else if (c == '"') *out += "\\\"";
      else if (c == '\n') *out += "\\n";
      else out->push_back(c);
    }
    out->push_back('"');
  };
  for (const auto& l : labels) one(l);
  if (extra) one(*extra);
  out->push_back('}');
}

std::string WriteText(const std::vector<MetricFamily>& families) {
  std::string out;
  out.reserve(families.size() * 256);
  for (const auto& f : families) {
    if (f.samples.empty() && f.histograms.empty()) continue;
    out += "# HELP " + f.name + " ";
    EscapeHelp(f.help, &out);
    out += "\n# TYPE " + f.name + " ";
    out += f.type == MetricType::kCounter ? "counter" : f.type == MetricType::kHistogram ? "histogram" : "gauge";
    out += "\n";
    for (const auto& s : f.samples) {
      out += f.name;
      WriteLabels(s.labels, nullptr, &out);
      out += " " + FormatValue(s.value) + "\n";
    }
    for (const auto& h : f.histograms) {
      for (size_t i = 0; i < h.upper_bounds.size(); i++) {
        Label le{"le", FormatValue(h.upper_bounds[i])};
        out += f.name + "_bucket";
        WriteLabels(h.labels, &le, &out);
        out += " " + std::to_string(h.cumulative_counts[i]) + "\n";
      }
      Label inf{"le", "+Inf"};
      out += f.name + "_bucket";
      WriteLabels(h.labels, &inf, &out);
      out += " " + std::to_string(h.count) + "\n";
      out += f.name + "_sum";
      WriteLabels(h.labels, nullptr, &out);
      out += " " + FormatValue(h.sum) + "\n";
      out += f.name + "_count";
      WriteLabels(h.labels, nullptr, &out);
      out += " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace coroot::prom
