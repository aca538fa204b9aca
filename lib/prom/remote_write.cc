#include "lib/prom/remote_write.h"

#include <algorithm>

#include "lib/prom/exposition.h"
#include "lib/protowire/wire.h"

namespace coroot::prom {

using protowire::Reader;
using protowire::WireType;
using protowire::Writer;

namespace {

Labels SeriesLabels(const std::string& name, const Labels* common, const Labels& labels, const Labels& extra,
                    const Label* le) {
  Labels out;
  out.reserve((common ? common->size() : 0) + labels.size() + extra.size() + 2);
  out.push_back({"__name__", name});
  if (common) out.insert(out.end(), common->begin(), common->end());
  for (const auto& l : labels) out.push_back(l);
  const size_t own = out.size();
  for (const auto& l : extra) {
    bool present = false;
    for (size_t i = 1; i < own; i++) present = present || out[i].name == l.name;
    if (!present) out.push_back(l);
  }
  if (le) out.push_back(*le);
  std::sort(out.begin(), out.end());
  return out;
}

int MetadataType(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return 1;
    case MetricType::kGauge: return 2;
    case MetricType::kHistogram: return 3;
  }
  return 0;
}

}  // namespace

WriteRequest FromFamilies(const std::vector<MetricFamily>& families, int64_t ts, const Labels& extra) {
  WriteRequest req;
  for (const auto& f : families) {
    if (f.samples.empty() && f.histograms.empty()) continue;
    req.metadata.push_back({MetadataType(f.type), f.name, f.help, ""});
    for (const auto& s : f.samples)
      req.series.push_back({SeriesLabels(f.name, s.common.get(), s.labels, extra, nullptr), {{s.value, ts}}});
    for (const auto& h : f.histograms) {
      for (size_t i = 0; i < h.upper_bounds.size(); i++) {
        Label le{"le", FormatValue(h.upper_bounds[i])};
        req.series.push_back({SeriesLabels(f.name + "_bucket", nullptr, h.labels, extra, &le),
                              {{static_cast<double>(h.cumulative_counts[i]), ts}}});
      }
      Label inf{"le", "+Inf"};
      req.series.push_back(
          {SeriesLabels(f.name + "_bucket", nullptr, h.labels, extra, &inf), {{static_cast<double>(h.count), ts}}});
      req.series.push_back({SeriesLabels(f.name + "_sum", nullptr, h.labels, extra, nullptr), {{h.sum, ts}}});
      req.series.push_back(
          {SeriesLabels(f.name + "_count", nullptr, h.labels, extra, nullptr), {{static_cast<double>(h.count), ts}}});
    }
  }
  return req;
}

std::string Encode(const WriteRequest& req) {
  Writer w;
  w.out().reserve(req.series.size() * 128);
  for (const auto& s : req.series) {
    Writer ts;
    for (const auto& l : s.labels) {
      Writer lw;
      lw.BytesField(1, l.name);
      lw.BytesField(2, l.value);
      ts.MessageField(1, lw);
    }
    for (const auto& smp : s.samples) {
      Writer sw;
      sw.DoubleField(1, smp.value);
      sw.VarintField(2, static_cast<uint64_t>(smp.timestamp_ms));
      ts.MessageField(2, sw);
    }
    w.MessageField(1, ts);
  }
  for (const auto& m : req.metadata) {
    Writer mw;
    mw.VarintField(1, static_cast<uint64_t>(m.type));
    mw.BytesField(2, m.family);
    if (!m.help.empty()) mw.BytesField(4, m.help);
    if (!m.unit.empty()) mw.BytesField(5, m.unit);
    w.MessageField(3, mw);
  }
  return std::move(w.out());
}

namespace {

Status Malformed(const char* what) { return InvalidArgument(std::string("malformed remote-write protobuf: ") + what); }

Status DecodeLabel(std::string_view data, Label* out) {
  Reader r(data);
  while (!r.done()) {
    uint32_t field;
    WireType type;
    if (!r.Next(&field, &type)) return Malformed("label key");
    std::string_view v;
    if ((field == 1 || field == 2) && type == protowire::kLen) {
      if (!r.Bytes(&v)) return Malformed("label string");
      (field == 1 ? out->name : out->value).assign(v);
    } else if (!r.Skip(type)) {
      return Malformed("label field");
    }
  }
  return Status::Ok();
}

Status DecodeSample(std::string_view data, RwSample* out) {
  Reader r(data);
  while (!r.done()) {
    uint32_t field;
    WireType type;
    if (!r.Next(&field, &type)) return Malformed("sample key");
    if (field == 1 && type == protowire::kFixed64) {
      if (!r.Double(&out->value)) return Malformed("sample value");
    } else if (field == 2 && type == protowire::kVarint) {
      uint64_t v;
      if (!r.Varint(&v)) return Malformed("sample timestamp");
      out->timestamp_ms = static_cast<int64_t>(v);
    } else if (!r.Skip(type)) {
      return Malformed("sample field");
    }
  }
  return Status::Ok();
}

Status DecodeSeries(std::string_view data, const DecodeLimits& limits, RwSeries* out) {
  Reader r(data);
  while (!r.done()) {
    uint32_t field;
    WireType type;
    if (!r.Next(&field, &type)) return Malformed("series key");
    std::string_view v;
    if (field == 1 && type == protowire::kLen) {
      if (!r.Bytes(&v)) return Malformed("label");
      if (out->labels.size() >= limits.max_labels_per_series)
        return ResourceExhausted("series has more than " + std::to_string(limits.max_labels_per_series) + " labels");
      out->labels.emplace_back();
      RETURN_IF_ERROR(DecodeLabel(v, &out->labels.back()));
    } else if (field == 2 && type == protowire::kLen) {
      if (!r.Bytes(&v)) return Malformed("sample");
      if (out->samples.size() >= limits.max_samples_per_series)
        return ResourceExhausted("series has more than " + std::to_string(limits.max_samples_per_series) +
                                 " samples");
      out->samples.emplace_back();
      RETURN_IF_ERROR(DecodeSample(v, &out->samples.back()));
    } else if (!r.Skip(type)) {
      return Malformed("series field");
    }
  }
  return Status::Ok();
}

Status DecodeMetadata(std::string_view data, RwMetadata* out) {
  Reader r(data);
  while (!r.done()) {
    uint32_t field;
    WireType type;
    if (!r.Next(&field, &type)) return Malformed("metadata key");
    std::string_view v;
    uint64_t n;
    if (field == 1 && type == protowire::kVarint) {
      if (!r.Varint(&n)) return Malformed("metadata type");
      out->type = static_cast<int>(n);
    } else if ((field == 2 || field == 4 || field == 5) && type == protowire::kLen) {
      if (!r.Bytes(&v)) return Malformed("metadata string");
      (field == 2 ? out->family : field == 4 ? out->help : out->unit).assign(v);
    } else if (!r.Skip(type)) {
      return Malformed("metadata field");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<WriteRequest> Decode(std::string_view body, const DecodeLimits& limits) {
  WriteRequest req;
  Reader r(body);
  while (!r.done()) {
    uint32_t field;
    WireType type;
    if (!r.Next(&field, &type)) return Malformed("request key");
    std::string_view v;
    if (field == 1 && type == protowire::kLen) {
      if (!r.Bytes(&v)) return Malformed("timeseries");
      if (req.series.size() >= limits.max_series)
        return ResourceExhausted("request has more than " + std::to_string(limits.max_series) + " series");
      req.series.emplace_back();
      RETURN_IF_ERROR(DecodeSeries(v, limits, &req.series.back()));
    } else if (field == 3 && type == protowire::kLen) {
      if (!r.Bytes(&v)) return Malformed("metadata");
      req.metadata.emplace_back();
      RETURN_IF_ERROR(DecodeMetadata(v, &req.metadata.back()));
    } else if (!r.Skip(type)) {
      return Malformed("request field");
    }
  }
  return req;
}

}  // namespace coroot::prom
