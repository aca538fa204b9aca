#include "lib/prom/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace coroot::prom {

namespace {

// Appends what FormatValue returns, without a temporary string: this runs once per sample, and
// a scrape of a busy node has tens of thousands of them.
void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    // Same digits as printf("%.0f"): the value is an exact integer below 2^53.
    char* p = buf;
    if (std::signbit(v)) *p++ = '-';  // "%.0f" writes "-0" for -0.0
    p = std::to_chars(p, buf + sizeof buf, static_cast<uint64_t>(std::fabs(v))).ptr;
    out->append(buf, p);
    return;
  }
  // The output is the shortest "%.<prec>g" that reads back as v. No precision below the digit
  // count of the shortest round-trip form (to_chars) can read back, so start there instead of at
  // 1: one or two formats instead of up to 17 printf + strtod pairs.
  // Scientific, because the shortest fixed form of a large integer prints all its digits.
  char* end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
  int prec = 0;
  for (char* p = buf; p < end && *p != 'e'; p++) prec += *p >= '0' && *p <= '9';
  for (; prec <= 17; prec++) {
    // to_chars with a precision formats as printf("%.<prec>g") does.
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, prec).ptr;
    double back = 0;
    std::from_chars(buf, end, back);
    if (back == v) break;
  }
  out->append(buf, end);
}

void EscapeHelp(const std::string& s, std::string* out) {
  for (char c : s) {
    if (c == '\\') *out += "\\\\";
    else if (c == '\n') *out += "\\n";
    else out->push_back(c);
  }
}

bool HasLabel(const Labels& labels, const std::string& name) {
  for (const auto& l : labels)
    if (l.name == name) return true;
  return false;
}

// A label as the text has it: name="value", the value escaped.
void AppendLabel(const Label& l, std::string* out) {
  *out += l.name;
  *out += "=\"";
  // Most values need no escape: found so by memchr (SIMD in libc), they are appended whole.
  const std::string& v = l.value;
  const bool escape = std::memchr(v.data(), '\\', v.size()) || std::memchr(v.data(), '"', v.size()) ||
                      std::memchr(v.data(), '\n', v.size());
  if (!escape) {
    *out += v;
    out->push_back('"');
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i < v.size(); i++) {
    const char c = v[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out->append(v, start, i - start);
    *out += c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n";
    start = i + 1;
  }
  out->append(v, start, std::string::npos);
  out->push_back('"');
}

// The extra labels of every series, formatted once per text rather than once per series.
struct Extra {
  const std::string* name;
  std::string text;  // name="value"
};

// Labels that many series share (Sample::common), formatted once per text: name="value",...
struct CommonText {
  std::string text;
  std::vector<bool> has_extra;  // by index of the extra labels: common has a label of that name
};

CommonText FormatCommon(const Labels& common, const std::vector<Extra>& extra) {
  CommonText c;
  for (const Label& l : common) {
    if (!c.text.empty()) c.text.push_back(',');
    AppendLabel(l, &c.text);
  }
  for (const Extra& e : extra) c.has_extra.push_back(HasLabel(common, *e.name));
  return c;
}

// A series' common and own labels, then the extra ones it lacks, then le (histogram buckets).
void WriteLabels(const CommonText* common, const Labels& labels, const std::vector<Extra>& extra, const Label* le,
                 std::string* out) {
  if ((!common || common->text.empty()) && labels.empty() && extra.empty() && !le) return;
  out->push_back('{');
  bool first = true;
  auto comma = [&] {
    if (!first) out->push_back(',');
    first = false;
  };
  if (common && !common->text.empty()) {
    comma();
    *out += common->text;
  }
  for (const auto& l : labels) {
    comma();
    AppendLabel(l, out);
  }
  for (size_t i = 0; i < extra.size(); i++) {
    if (HasLabel(labels, *extra[i].name) || (common && common->has_extra[i])) continue;
    comma();
    *out += extra[i].text;
  }
  if (le) {
    comma();
    AppendLabel(*le, out);
  }
  out->push_back('}');
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  out->append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

std::string FormatValue(double v) {
  std::string s;
  AppendValue(v, &s);
  return s;
}

std::string WriteText(const std::vector<MetricFamily>& families, const Labels& extra_labels) {
  std::unordered_map<const Labels*, CommonText> commons;  // each formatted at its first series
  std::vector<Extra> extra;
  for (const Label& l : extra_labels) {
    extra.push_back({&l.name, {}});
    AppendLabel(l, &extra.back().text);
  }
  std::string out;
  size_t n = 0;
  // Sized from the labels (a pass over lengths only), so that the text is not copied as it grows:
  // a busy node's is around a megabyte.
  size_t line = 2 + 26;  // braces, value and newline
  for (const Extra& e : extra) line += e.text.size() + 1;
  auto labels_bytes = [](const Labels& labels) {
    size_t b = 0;
    for (const auto& l : labels) b += l.name.size() + l.value.size() + 4;
    return b;
  };
  for (const auto& f : families) {
    n += f.help.size() + f.name.size() * 2 + 32;
    for (const auto& s : f.samples)
      n += f.name.size() + line + labels_bytes(s.labels) + (s.common ? labels_bytes(*s.common) : 0);
    for (const auto& h : f.histograms)
      n += (h.upper_bounds.size() + 3) * (f.name.size() + line + labels_bytes(h.labels) + 32);
  }
  out.reserve(n + n / 16);  // and some for escapes
  for (const auto& f : families) {
    if (f.samples.empty() && f.histograms.empty()) continue;
    out += "# HELP ";
    out += f.name;
    out += ' ';
    EscapeHelp(f.help, &out);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += f.type == MetricType::kCounter ? "counter" : f.type == MetricType::kHistogram ? "histogram" : "gauge";
    out += '\n';
    for (const auto& s : f.samples) {
      out += f.name;
      const CommonText* common = nullptr;
      if (s.common) {
        auto it = commons.find(s.common.get());
        if (it == commons.end()) it = commons.emplace(s.common.get(), FormatCommon(*s.common, extra)).first;
        common = &it->second;
      }
      WriteLabels(common, s.labels, extra, nullptr, &out);
      out += ' ';
      AppendValue(s.value, &out);
      out += '\n';
    }
    for (const auto& h : f.histograms) {
      for (size_t i = 0; i < h.upper_bounds.size(); i++) {
        Label le{"le", FormatValue(h.upper_bounds[i])};
        out += f.name;
        out += "_bucket";
        WriteLabels(nullptr, h.labels, extra, &le, &out);
        out += ' ';
        AppendUint(h.cumulative_counts[i], &out);
        out += '\n';
      }
      Label inf{"le", "+Inf"};
      out += f.name;
      out += "_bucket";
      WriteLabels(nullptr, h.labels, extra, &inf, &out);
      out += ' ';
      AppendUint(h.count, &out);
      out += '\n';
      out += f.name;
      out += "_sum";
      WriteLabels(nullptr, h.labels, extra, nullptr, &out);
      out += ' ';
      AppendValue(h.sum, &out);
      out += '\n';
      out += f.name;
      out += "_count";
      WriteLabels(nullptr, h.labels, extra, nullptr, &out);
      out += ' ';
      AppendUint(h.count, &out);
      out += '\n';
    }
  }
  return out;
}

}  // namespace coroot::prom
