// Wire-format checks for the generated schemas. Every expected byte string is
// written by hand (or with the tiny encoder below, which is itself checked
// against a literal) so field numbers and wire types are pinned independently
// of the protobuf library: parse must yield the expected fields, and
// serialization must reproduce the exact bytes.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "pprof/profile.pb.h"
#include "prometheus/remote.pb.h"
#include "prometheus/types.pb.h"

namespace {

// ---- minimal hand encoder (protobuf wire format) ----
enum WireType { kVarint = 0, kI64 = 1, kLen = 2, kI32 = 5 };

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}

std::string Tag(uint32_t field, WireType wt) { return Varint((uint64_t{field} << 3) | wt); }

std::string VarintField(uint32_t field, uint64_t v) { return Tag(field, kVarint) + Varint(v); }

std::string LenField(uint32_t field, const std::string& payload) {
  return Tag(field, kLen) + Varint(payload.size()) + payload;
}

std::string LE(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; i++) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

std::string Fixed64Field(uint32_t field, uint64_t v) { return Tag(field, kI64) + LE(v, 8); }
std::string Fixed32Field(uint32_t field, uint32_t v) { return Tag(field, kI32) + LE(v, 4); }

std::string DoubleField(uint32_t field, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return Fixed64Field(field, bits);
}

std::string PackedVarints(uint32_t field, std::initializer_list<uint64_t> vs) {
  std::string payload;
  for (uint64_t v : vs) payload += Varint(v);
  return LenField(field, payload);
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

std::string Hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
    out.push_back(' ');
  }
  return out;
}

#define EXPECT_WIRE_EQ(expected, actual) EXPECT_EQ(Hex(expected), Hex(actual))

TEST(Encoder, MatchesLiteralBytes) {
  EXPECT_EQ(Varint(1000), Bytes({0xE8, 0x07}));
  EXPECT_EQ(Tag(16, kI32), Bytes({0x85, 0x01}));
  EXPECT_EQ(DoubleField(1, 1.0), Bytes({0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));
  EXPECT_EQ(ZigZag(-1), 1u);
  EXPECT_EQ(ZigZag(1), 2u);
  EXPECT_EQ(ZigZag(-2), 3u);
}

// ---------------------------------------------------------------- Prometheus

TEST(PrometheusWire, WriteRequestOneSeries) {
  // WriteRequest{timeseries:[{labels:[{__name__:up}], samples:[{1, 1000}]}],
  //              metadata:[{type:GAUGE, metric_family_name:up, help:h}]}
  const std::string wire = Bytes({
      0x0A, 0x1E,                                      // timeseries = 1, len 30
      0x0A, 0x0E,                                      //   labels = 1, len 14
      0x0A, 0x08, '_', '_', 'n', 'a', 'm', 'e', '_', '_',  // name = 1
      0x12, 0x02, 'u', 'p',                            //     value = 2
      0x12, 0x0C,                                      //   samples = 2, len 12
      0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F,              //     value = 1 (double 1.0)
      0x10, 0xE8, 0x07,                                //     timestamp = 2 (1000)
      0x1A, 0x09,                                      // metadata = 3, len 9
      0x08, 0x02,                                      //   type = 1 (GAUGE)
      0x12, 0x02, 'u', 'p',                            //   metric_family_name = 2
      0x22, 0x01, 'h',                                 //   help = 4
  });

  prometheus::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(wire));
  ASSERT_EQ(req.timeseries_size(), 1);
  const auto& ts = req.timeseries(0);
  ASSERT_EQ(ts.labels_size(), 1);
  EXPECT_EQ(ts.labels(0).name(), "__name__");
  EXPECT_EQ(ts.labels(0).value(), "up");
  ASSERT_EQ(ts.samples_size(), 1);
  EXPECT_EQ(ts.samples(0).value(), 1.0);
  EXPECT_EQ(ts.samples(0).timestamp(), 1000);
  ASSERT_EQ(req.metadata_size(), 1);
  EXPECT_EQ(req.metadata(0).type(), prometheus::MetricMetadata::GAUGE);
  EXPECT_EQ(req.metadata(0).metric_family_name(), "up");
  EXPECT_EQ(req.metadata(0).help(), "h");
  EXPECT_TRUE(req.metadata(0).unit().empty());
  EXPECT_WIRE_EQ(wire, req.SerializeAsString());

  // Built from scratch gives the same bytes.
  prometheus::WriteRequest built;
  auto* s = built.add_timeseries();
  auto* l = s->add_labels();
  l->set_name("__name__");
  l->set_value("up");
  auto* smp = s->add_samples();
  smp->set_value(1.0);
  smp->set_timestamp(1000);
  auto* md = built.add_metadata();
  md->set_type(prometheus::MetricMetadata::GAUGE);
  md->set_metric_family_name("up");
  md->set_help("h");
  EXPECT_WIRE_EQ(wire, built.SerializeAsString());
}

TEST(PrometheusWire, FieldNumbers) {
  using prometheus::MetricMetadata;
  using prometheus::TimeSeries;
  EXPECT_EQ(prometheus::WriteRequest::kTimeseriesFieldNumber, 1);
  EXPECT_EQ(prometheus::WriteRequest::kMetadataFieldNumber, 3);
  EXPECT_EQ(TimeSeries::kLabelsFieldNumber, 1);
  EXPECT_EQ(TimeSeries::kSamplesFieldNumber, 2);
  EXPECT_EQ(TimeSeries::kExemplarsFieldNumber, 3);
  EXPECT_EQ(TimeSeries::kHistogramsFieldNumber, 4);
  EXPECT_EQ(MetricMetadata::kTypeFieldNumber, 1);
  EXPECT_EQ(MetricMetadata::kMetricFamilyNameFieldNumber, 2);
  EXPECT_EQ(MetricMetadata::kHelpFieldNumber, 4);
  EXPECT_EQ(MetricMetadata::kUnitFieldNumber, 5);
  EXPECT_EQ(MetricMetadata::STATESET, 7);
}

TEST(PrometheusWire, ExemplarAndNativeHistogram) {
  const std::string exemplar =
      LenField(1, LenField(1, "trace_id") + LenField(2, "abc")) + DoubleField(2, 0.5) + VarintField(3, 2000);
  const std::string histogram = VarintField(1, 5)                  // count_int
                                + DoubleField(3, 12.5)             // sum
                                + VarintField(4, ZigZag(-2))       // schema (sint32)
                                + LenField(11, VarintField(1, ZigZag(-1)) + VarintField(2, 2))  // positive_spans
                                + LenField(12, Varint(ZigZag(3)) + Varint(ZigZag(-1)))  // positive_deltas packed sint64
                                + VarintField(14, 2)               // reset_hint = NO
                                + VarintField(15, 3000);           // timestamp
  const std::string wire =
      LenField(1, LenField(1, LenField(1, "__name__") + LenField(2, "rpc")) + LenField(3, exemplar) +
                      LenField(4, histogram));

  prometheus::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(wire));
  const auto& ts = req.timeseries(0);
  ASSERT_EQ(ts.exemplars_size(), 1);
  EXPECT_EQ(ts.exemplars(0).labels(0).name(), "trace_id");
  EXPECT_EQ(ts.exemplars(0).labels(0).value(), "abc");
  EXPECT_EQ(ts.exemplars(0).value(), 0.5);
  EXPECT_EQ(ts.exemplars(0).timestamp(), 2000);
  ASSERT_EQ(ts.histograms_size(), 1);
  const auto& h = ts.histograms(0);
  EXPECT_EQ(h.count_case(), prometheus::Histogram::kCountInt);
  EXPECT_EQ(h.count_int(), 5u);
  EXPECT_EQ(h.sum(), 12.5);
  EXPECT_EQ(h.schema(), -2);
  ASSERT_EQ(h.positive_spans_size(), 1);
  EXPECT_EQ(h.positive_spans(0).offset(), -1);
  EXPECT_EQ(h.positive_spans(0).length(), 2u);
  ASSERT_EQ(h.positive_deltas_size(), 2);
  EXPECT_EQ(h.positive_deltas(0), 3);
  EXPECT_EQ(h.positive_deltas(1), -1);
  EXPECT_EQ(h.reset_hint(), prometheus::Histogram::NO);
  EXPECT_EQ(h.timestamp(), 3000);
  EXPECT_WIRE_EQ(wire, req.SerializeAsString());
}

// ---------------------------------------------------------------- OTLP traces

const std::string kTraceId = Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
const std::string kSpanId = Bytes({0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8});
const std::string kParentId = Bytes({0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8});

std::string StrKV(const std::string& k, const std::string& v) { return LenField(1, k) + LenField(2, LenField(1, v)); }

TEST(OtlpTraceWire, ExportRequestOneSpan) {
  const uint64_t start = 1700000000123456789ull, end = start + 5000000;
  const std::string span = LenField(1, kTraceId)                    // trace_id
                           + LenField(2, kSpanId)                   // span_id
                           + LenField(3, "k=v")                     // trace_state
                           + LenField(4, kParentId)                 // parent_span_id
                           + LenField(5, "GET /api")                // name
                           + VarintField(6, 2)                      // kind = SERVER
                           + Fixed64Field(7, start)                 // start_time_unix_nano
                           + Fixed64Field(8, end)                   // end_time_unix_nano
                           + LenField(9, LenField(1, "http.status_code") + LenField(2, VarintField(3, 200)))
                           + VarintField(10, 1)                     // dropped_attributes_count
                           + LenField(11, Fixed64Field(1, start + 10) + LenField(2, "exception"))  // events
                           + VarintField(12, 2)                     // dropped_events_count
                           + LenField(13, LenField(1, kTraceId) + LenField(2, kParentId) + Fixed32Field(6, 0x101))
                           + VarintField(14, 3)                     // dropped_links_count
                           + LenField(15, LenField(2, "boom") + VarintField(3, 2))  // status
                           + Fixed32Field(16, 0x301);               // flags
  const std::string scope_spans = LenField(1, LenField(1, "io.coroot") + LenField(2, "1.0")) + LenField(2, span) +
                                  LenField(3, "https://opentelemetry.io/schemas/1.21.0");
  const std::string resource_spans =
      LenField(1, LenField(1, StrKV("service.name", "api"))) + LenField(2, scope_spans) + LenField(3, "https://r");
  const std::string wire = LenField(1, resource_spans);

  // The span header starts with exactly these bytes: 0x0A 0x10 <16B>, 0x12 0x08 <8B>.
  ASSERT_EQ(span.substr(0, 2), Bytes({0x0A, 0x10}));
  ASSERT_EQ(span.substr(18, 2), Bytes({0x12, 0x08}));

  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(wire));
  ASSERT_EQ(req.resource_spans_size(), 1);
  const auto& rs = req.resource_spans(0);
  EXPECT_EQ(rs.schema_url(), "https://r");
  ASSERT_EQ(rs.resource().attributes_size(), 1);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "api");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  const auto& ss = rs.scope_spans(0);
  EXPECT_EQ(ss.scope().name(), "io.coroot");
  EXPECT_EQ(ss.scope().version(), "1.0");
  EXPECT_EQ(ss.schema_url(), "https://opentelemetry.io/schemas/1.21.0");
  ASSERT_EQ(ss.spans_size(), 1);
  const auto& s = ss.spans(0);
  EXPECT_EQ(s.trace_id(), kTraceId);
  EXPECT_EQ(s.span_id(), kSpanId);
  EXPECT_EQ(s.trace_state(), "k=v");
  EXPECT_EQ(s.parent_span_id(), kParentId);
  EXPECT_EQ(s.name(), "GET /api");
  EXPECT_EQ(s.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.start_time_unix_nano(), start);
  EXPECT_EQ(s.end_time_unix_nano(), end);
  ASSERT_EQ(s.attributes_size(), 1);
  EXPECT_EQ(s.attributes(0).key(), "http.status_code");
  EXPECT_EQ(s.attributes(0).value().value_case(), opentelemetry::proto::common::v1::AnyValue::kIntValue);
  EXPECT_EQ(s.attributes(0).value().int_value(), 200);
  EXPECT_EQ(s.dropped_attributes_count(), 1u);
  ASSERT_EQ(s.events_size(), 1);
  EXPECT_EQ(s.events(0).time_unix_nano(), start + 10);
  EXPECT_EQ(s.events(0).name(), "exception");
  EXPECT_EQ(s.dropped_events_count(), 2u);
  ASSERT_EQ(s.links_size(), 1);
  EXPECT_EQ(s.links(0).trace_id(), kTraceId);
  EXPECT_EQ(s.links(0).span_id(), kParentId);
  EXPECT_EQ(s.links(0).flags(), 0x101u);
  EXPECT_EQ(s.dropped_links_count(), 3u);
  EXPECT_EQ(s.status().message(), "boom");
  EXPECT_EQ(s.status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.flags(), 0x301u);
  EXPECT_EQ(s.flags() & opentelemetry::proto::trace::v1::SPAN_FLAGS_TRACE_FLAGS_MASK, 0x01u);
  EXPECT_NE(s.flags() & opentelemetry::proto::trace::v1::SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK, 0u);
  EXPECT_WIRE_EQ(wire, req.SerializeAsString());
}

TEST(OtlpTraceWire, AnyValueVariants) {
  using opentelemetry::proto::common::v1::AnyValue;
  const std::string wire = LenField(6,                                  // kvlist_value
                                    LenField(1, LenField(1, "a") + LenField(2, VarintField(2, 1))) +  // bool
                                        LenField(1, LenField(1, "b") + LenField(2, DoubleField(4, 2.5))) +
                                        LenField(1, LenField(1, "c") + LenField(2, LenField(7, "\x01\x02"))) +
                                        LenField(1, LenField(1, "d") +
                                                        LenField(2, LenField(5, LenField(1, LenField(1, "x"))))));
  AnyValue v;
  ASSERT_TRUE(v.ParseFromString(wire));
  ASSERT_EQ(v.value_case(), AnyValue::kKvlistValue);
  const auto& kv = v.kvlist_value().values();
  ASSERT_EQ(kv.size(), 4);
  EXPECT_TRUE(kv[0].value().bool_value());
  EXPECT_EQ(kv[1].value().double_value(), 2.5);
  EXPECT_EQ(kv[2].value().bytes_value(), "\x01\x02");
  EXPECT_EQ(kv[3].value().array_value().values(0).string_value(), "x");
  EXPECT_WIRE_EQ(wire, v.SerializeAsString());
}

TEST(OtlpTraceWire, ResourceEntityRefs) {
  const std::string wire = LenField(1, StrKV("k8s.pod.name", "p")) + VarintField(2, 4) +
                           LenField(3, LenField(1, "https://s") + LenField(2, "k8s.pod") + LenField(3, "k8s.pod.name") +
                                           LenField(4, "k8s.pod.label"));
  opentelemetry::proto::resource::v1::Resource r;
  ASSERT_TRUE(r.ParseFromString(wire));
  EXPECT_EQ(r.dropped_attributes_count(), 4u);
  ASSERT_EQ(r.entity_refs_size(), 1);
  EXPECT_EQ(r.entity_refs(0).schema_url(), "https://s");
  EXPECT_EQ(r.entity_refs(0).type(), "k8s.pod");
  EXPECT_EQ(r.entity_refs(0).id_keys(0), "k8s.pod.name");
  EXPECT_EQ(r.entity_refs(0).description_keys(0), "k8s.pod.label");
  EXPECT_WIRE_EQ(wire, r.SerializeAsString());
}

TEST(OtlpTraceWire, PartialSuccessAndServicePath) {
  const std::string wire = LenField(1, VarintField(1, 3) + LenField(2, "too old"));
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(wire));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 3);
  EXPECT_EQ(resp.partial_success().error_message(), "too old");
  EXPECT_WIRE_EQ(wire, resp.SerializeAsString());

  const auto* file = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest::descriptor()->file();
  ASSERT_EQ(file->service_count(), 1);
  const auto* m = file->service(0)->method(0);
  EXPECT_EQ("/" + file->service(0)->full_name() + "/" + m->name(),
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export");
  EXPECT_EQ(m->input_type()->full_name(), "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
  EXPECT_EQ(m->output_type()->full_name(), "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse");
}

// ---------------------------------------------------------------- OTLP logs

TEST(OtlpLogsWire, ExportRequestOneRecord) {
  const uint64_t ts = 1700000000000000001ull, observed = ts + 7;
  const std::string record = Fixed64Field(1, ts)                      // time_unix_nano
                             + VarintField(2, 17)                     // severity_number = ERROR
                             + LenField(3, "ERROR")                   // severity_text
                             + LenField(5, LenField(1, "disk full"))  // body
                             + LenField(6, StrKV("log.file.name", "app.log"))
                             + VarintField(7, 1)                      // dropped_attributes_count
                             + Fixed32Field(8, 1)                     // flags
                             + LenField(9, kTraceId)                  // trace_id
                             + LenField(10, kSpanId)                  // span_id
                             + Fixed64Field(11, observed)             // observed_time_unix_nano
                             + LenField(12, "app.crash");             // event_name
  // Hand-checked tags of the LogRecord fields.
  ASSERT_EQ(record[0], '\x09');
  ASSERT_EQ(record.substr(9, 2), Bytes({0x10, 17}));
  const std::string wire =
      LenField(1, LenField(1, LenField(1, StrKV("service.name", "api"))) +
                      LenField(2, LenField(1, LenField(1, "logger")) + LenField(2, record) + LenField(3, "https://s")));

  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(wire));
  ASSERT_EQ(req.resource_logs_size(), 1);
  const auto& rl = req.resource_logs(0);
  EXPECT_EQ(rl.resource().attributes(0).value().string_value(), "api");
  ASSERT_EQ(rl.scope_logs_size(), 1);
  EXPECT_EQ(rl.scope_logs(0).scope().name(), "logger");
  EXPECT_EQ(rl.scope_logs(0).schema_url(), "https://s");
  ASSERT_EQ(rl.scope_logs(0).log_records_size(), 1);
  const auto& r = rl.scope_logs(0).log_records(0);
  EXPECT_EQ(r.time_unix_nano(), ts);
  EXPECT_EQ(r.observed_time_unix_nano(), observed);
  EXPECT_EQ(r.severity_number(), opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(r.severity_text(), "ERROR");
  EXPECT_EQ(r.body().string_value(), "disk full");
  EXPECT_EQ(r.attributes(0).key(), "log.file.name");
  EXPECT_EQ(r.dropped_attributes_count(), 1u);
  EXPECT_EQ(r.flags(), 1u);
  EXPECT_EQ(r.trace_id(), kTraceId);
  EXPECT_EQ(r.span_id(), kSpanId);
  EXPECT_EQ(r.event_name(), "app.crash");
  EXPECT_WIRE_EQ(wire, req.SerializeAsString());

  // Field 4 is reserved: an unknown field there survives a round trip untouched.
  opentelemetry::proto::logs::v1::LogRecord with_unknown;
  ASSERT_TRUE(with_unknown.ParseFromString(LenField(4, "legacy-name")));
  EXPECT_WIRE_EQ(LenField(4, "legacy-name"), with_unknown.SerializeAsString());
}

TEST(OtlpLogsWire, PartialSuccessAndServicePath) {
  const std::string wire = LenField(1, VarintField(1, 2) + LenField(2, "bad"));
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(wire));
  EXPECT_EQ(resp.partial_success().rejected_log_records(), 2);
  EXPECT_EQ(resp.partial_success().error_message(), "bad");
  EXPECT_WIRE_EQ(wire, resp.SerializeAsString());

  const auto* file = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest::descriptor()->file();
  ASSERT_EQ(file->service_count(), 1);
  EXPECT_EQ("/" + file->service(0)->full_name() + "/" + file->service(0)->method(0)->name(),
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export");
}

// ---------------------------------------------------------------- pprof

TEST(PprofWire, Profile) {
  const std::string wire =
      LenField(1, VarintField(1, 1) + VarintField(2, 2))                      // sample_type {cpu, nanoseconds}
      + LenField(2, PackedVarints(1, {1, 2})                                  // sample.location_id (packed)
                        + PackedVarints(2, {100, static_cast<uint64_t>(-1)})  // sample.value (packed, int64 -1)
                        + LenField(3, VarintField(1, 3) + VarintField(2, 4)))  // sample.label {thread: main}
      + LenField(3, VarintField(1, 1) + VarintField(2, 0x400000) + VarintField(3, 0x500000) +
                        VarintField(4, 0x1000) + VarintField(5, 5) + VarintField(6, 7) + VarintField(7, 1) +
                        VarintField(10, 1))                                   // mapping
      + LenField(4, VarintField(1, 1) + VarintField(2, 1) + VarintField(3, 0x401234) +
                        LenField(4, VarintField(1, 1) + VarintField(2, 42) + VarintField(3, 7)) +
                        VarintField(5, 1))                                    // location
      + LenField(4, VarintField(1, 2) + VarintField(3, 0x401300))             // location (address only)
      + LenField(5, VarintField(1, 1) + VarintField(2, 4) + VarintField(3, 4) + VarintField(4, 6) +
                        VarintField(5, 40))                                   // function
      + LenField(6, "") + LenField(6, "cpu") + LenField(6, "nanoseconds") + LenField(6, "thread") +
      LenField(6, "main") + LenField(6, "/bin/app") + LenField(6, "main.c") + LenField(6, "abc123") +
      LenField(6, "https://doc")                                              // string_table
      + VarintField(9, 1700000000000000000ull)                                // time_nanos
      + VarintField(10, 10000000000ull)                                       // duration_nanos
      + LenField(11, VarintField(1, 1) + VarintField(2, 2))                   // period_type
      + VarintField(12, 10000000)                                             // period
      + PackedVarints(13, {3})                                                // comment
      + VarintField(14, 1)                                                    // default_sample_type
      + VarintField(15, 8);                                                   // doc_url

  perftools::profiles::Profile p;
  ASSERT_TRUE(p.ParseFromString(wire));
  ASSERT_EQ(p.sample_type_size(), 1);
  EXPECT_EQ(p.string_table(p.sample_type(0).type()), "cpu");
  EXPECT_EQ(p.string_table(p.sample_type(0).unit()), "nanoseconds");
  ASSERT_EQ(p.sample_size(), 1);
  EXPECT_EQ(p.sample(0).location_id_size(), 2);
  EXPECT_EQ(p.sample(0).location_id(1), 2u);
  ASSERT_EQ(p.sample(0).value_size(), 2);
  EXPECT_EQ(p.sample(0).value(0), 100);
  EXPECT_EQ(p.sample(0).value(1), -1);
  EXPECT_EQ(p.string_table(p.sample(0).label(0).key()), "thread");
  EXPECT_EQ(p.string_table(p.sample(0).label(0).str()), "main");
  ASSERT_EQ(p.mapping_size(), 1);
  EXPECT_EQ(p.mapping(0).memory_start(), 0x400000u);
  EXPECT_EQ(p.mapping(0).memory_limit(), 0x500000u);
  EXPECT_EQ(p.mapping(0).file_offset(), 0x1000u);
  EXPECT_EQ(p.string_table(p.mapping(0).filename()), "/bin/app");
  EXPECT_EQ(p.string_table(p.mapping(0).build_id()), "abc123");
  EXPECT_TRUE(p.mapping(0).has_functions());
  EXPECT_FALSE(p.mapping(0).has_filenames());
  EXPECT_TRUE(p.mapping(0).has_inline_frames());
  ASSERT_EQ(p.location_size(), 2);
  EXPECT_EQ(p.location(0).address(), 0x401234u);
  EXPECT_EQ(p.location(0).line(0).function_id(), 1u);
  EXPECT_EQ(p.location(0).line(0).line(), 42);
  EXPECT_EQ(p.location(0).line(0).column(), 7);
  EXPECT_TRUE(p.location(0).is_folded());
  EXPECT_EQ(p.location(1).mapping_id(), 0u);
  ASSERT_EQ(p.function_size(), 1);
  EXPECT_EQ(p.string_table(p.function(0).name()), "main");
  EXPECT_EQ(p.string_table(p.function(0).filename()), "main.c");
  EXPECT_EQ(p.function(0).start_line(), 40);
  EXPECT_EQ(p.string_table_size(), 9);
  EXPECT_EQ(p.time_nanos(), 1700000000000000000);
  EXPECT_EQ(p.duration_nanos(), 10000000000);
  EXPECT_EQ(p.period_type().type(), 1);
  EXPECT_EQ(p.period(), 10000000);
  EXPECT_EQ(p.comment(0), 3);
  EXPECT_EQ(p.default_sample_type(), 1);
  EXPECT_EQ(p.string_table(p.doc_url()), "https://doc");
  EXPECT_WIRE_EQ(wire, p.SerializeAsString());
}

TEST(PprofWire, AcceptsUnpackedRepeatedScalars) {
  // Older writers emit repeated scalars one tag per element; proto3 parsers accept both forms.
  const std::string unpacked = VarintField(1, 7) + VarintField(1, 9) + VarintField(2, 5);
  perftools::profiles::Sample s;
  ASSERT_TRUE(s.ParseFromString(unpacked));
  ASSERT_EQ(s.location_id_size(), 2);
  EXPECT_EQ(s.location_id(0), 7u);
  EXPECT_EQ(s.location_id(1), 9u);
  EXPECT_EQ(s.value(0), 5);
  EXPECT_WIRE_EQ(PackedVarints(1, {7, 9}) + PackedVarints(2, {5}), s.SerializeAsString());
}

}  // namespace
