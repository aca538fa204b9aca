// Decoding of OTLP protobuf (built with the protoc-generated classes, so field numbers are checked
// against the schema) and OTLP/JSON into columnar batches.
#include "server/ingest/otlp/decode.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lib/protowire/wire.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace coroot::server::otlp {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_trace = opentelemetry::proto::trace::v1;
namespace pb_logs = opentelemetry::proto::logs::v1;
using opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using storage::LogBatch;
using storage::MapColumn;
using storage::SpanBatch;

const std::string kTraceId("\x5b\x8e\xfc\xa0\x1f\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa", 16);
const std::string kSpanId("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
const std::string kParentId("\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8", 8);

void Str(pb_common::KeyValue* kv, const std::string& k, const std::string& v) {
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// The pairs of row `row` as "k=v;k=v".
std::string MapRow(const MapColumn& m, size_t row) {
  std::string out;
  for (size_t i = m.rows.begin(row); i < m.rows.end(row); ++i) {
    if (!out.empty()) out += ";";
    out += std::string(m.keys[i]) + "=" + std::string(m.values[i]);
  }
  return out;
}

ExportTraceServiceRequest SampleTraces() {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  Str(rs->mutable_resource()->add_attributes(), "service.name", "checkout");
  Str(rs->mutable_resource()->add_attributes(), "host.name", "node-1");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("my.lib");
  ss->mutable_scope()->set_version("1.2.3");
  auto* s = ss->add_spans();
  s->set_trace_id(kTraceId);
  s->set_span_id(kSpanId);
  s->set_parent_span_id(kParentId);
  s->set_trace_state("k=v");
  s->set_name("GET /cart");
  s->set_kind(pb_trace::Span::SPAN_KIND_SERVER);
  s->set_start_time_unix_nano(1700000000123456789ull);
  s->set_end_time_unix_nano(1700000000123456789ull + 2500000);
  Str(s->add_attributes(), "http.method", "GET");
  auto* a = s->add_attributes();
  a->set_key("http.status_code");
  a->mutable_value()->set_int_value(-503);
  a = s->add_attributes();
  a->set_key("ok");
  a->mutable_value()->set_bool_value(true);
  a = s->add_attributes();
  a->set_key("ratio");
  a->mutable_value()->set_double_value(0.25);
  a = s->add_attributes();
  a->set_key("tags");
  auto* arr = a->mutable_value()->mutable_array_value();
  arr->add_values()->set_string_value("a\"b");
  arr->add_values()->set_int_value(7);
  arr->add_values()->set_double_value(NAN);
  auto* kvl = arr->add_values()->mutable_kvlist_value();
  Str(kvl->add_values(), "x", "y");
  kvl->add_values()->set_key("empty");
  a = s->add_attributes();
  a->set_key("raw");
  a->mutable_value()->set_bytes_value(std::string("\x00\xff\x10", 3));
  auto* ev = s->add_events();
  ev->set_time_unix_nano(1700000000124000000ull);
  ev->set_name("exception");
  Str(ev->add_attributes(), "exception.message", "boom");
  auto* ev2 = s->add_events();
  ev2->set_time_unix_nano(1700000000125000000ull);
  ev2->set_name("retry");
  auto* l = s->add_links();
  l->set_trace_id(std::string(15, '\x11') + "\x12");
  l->set_span_id(std::string(8, '\x22'));
  l->set_trace_state("ls=1");
  Str(l->add_attributes(), "link.kind", "follows");
  s->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("upstream failed");
  // A second, minimal span: no ids beyond the trace, default kind and status.
  auto* s2 = ss->add_spans();
  s2->set_trace_id(kTraceId);
  s2->set_span_id(std::string("\x09\x09\x09\x09\x09\x09\x09\x09", 8));
  s2->set_name("internal");
  s2->set_kind(static_cast<pb_trace::Span::SpanKind>(9));  // unknown value
  s2->set_start_time_unix_nano(10);
  s2->set_end_time_unix_nano(5);  // ends before it starts: duration 0
  return req;
}

void ExpectSampleSpans(const SpanBatch& b) {
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_TRUE(b.Consistent());
  EXPECT_EQ(b.timestamp[0], 1700000000123456789);
  EXPECT_EQ(b.trace_id[0], "5b8efca01f00112233445566778899aa");
  EXPECT_EQ(b.span_id[0], "0102030405060708");
  EXPECT_EQ(b.parent_span_id[0], "a1a2a3a4a5a6a7a8");
  EXPECT_EQ(b.trace_state[0], "k=v");
  EXPECT_EQ(b.span_name[0], "GET /cart");
  EXPECT_EQ(b.span_kind[0], "SPAN_KIND_SERVER");
  EXPECT_EQ(b.service_name[0], "checkout");
  EXPECT_EQ(MapRow(b.resource_attributes, 0), "service.name=checkout;host.name=node-1");
  EXPECT_EQ(MapRow(b.span_attributes, 0),
            "http.method=GET;http.status_code=-503;ok=true;ratio=0.25;"
            "tags=[\"a\\\"b\",7,\"NaN\",{\"x\":\"y\",\"empty\":null}];raw=AP8Q;"
            "otel.scope.name=my.lib;otel.scope.version=1.2.3");
  EXPECT_EQ(b.duration[0], 2500000);
  EXPECT_EQ(b.status_code[0], "STATUS_CODE_ERROR");
  EXPECT_EQ(b.status_message[0], "upstream failed");
  ASSERT_EQ(b.events.begin(0), 0u);
  ASSERT_EQ(b.events.end(0), 2u);
  EXPECT_EQ(b.event_timestamp[0], 1700000000124000000);
  EXPECT_EQ(b.event_name[0], "exception");
  EXPECT_EQ(MapRow(b.event_attributes, 0), "exception.message=boom");
  EXPECT_EQ(b.event_name[1], "retry");
  EXPECT_EQ(MapRow(b.event_attributes, 1), "");
  ASSERT_EQ(b.links.end(0), 1u);
  EXPECT_EQ(b.link_trace_id[0], "11111111111111111111111111111112");
  EXPECT_EQ(b.link_span_id[0], "2222222222222222");
  EXPECT_EQ(b.link_trace_state[0], "ls=1");
  EXPECT_EQ(MapRow(b.link_attributes, 0), "link.kind=follows");
  // Second span.
  EXPECT_EQ(b.span_id[1], "0909090909090909");
  EXPECT_EQ(b.parent_span_id[1], "");
  EXPECT_EQ(b.span_kind[1], "9");
  EXPECT_EQ(b.status_code[1], "STATUS_CODE_UNSET");
  EXPECT_EQ(b.duration[1], 0);
  EXPECT_EQ(b.events.begin(1), b.events.end(1));
  EXPECT_EQ(b.links.begin(1), b.links.end(1));
  EXPECT_EQ(MapRow(b.resource_attributes, 1), "service.name=checkout;host.name=node-1");
  EXPECT_EQ(MapRow(b.span_attributes, 1), "otel.scope.name=my.lib;otel.scope.version=1.2.3");
}

TEST(TracesProto, EveryColumn) {
  SpanBatch b;
  auto r = DecodeTracesProto(SampleTraces().SerializeAsString(), DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 2u);
  EXPECT_EQ(r->rejected, 0u);
  ExpectSampleSpans(b);
}

TEST(TracesProto, ResourceAfterScopeSpansAndUnknownFields) {
  // Hand-written wire order: scope_spans (2) before resource (1), plus an unknown field 99.
  auto req = SampleTraces();
  const auto& rs = req.resource_spans(0);
  protowire::Writer w;
  w.BytesField(2, rs.scope_spans(0).SerializeAsString());
  w.VarintField(99, 5);
  w.BytesField(1, rs.resource().SerializeAsString());
  protowire::Writer top;
  top.BytesField(1, w.out());
  SpanBatch b;
  auto r = DecodeTracesProto(top.out(), DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSampleSpans(b);
}

TEST(TracesProto, BadIdsRejectOnlyThatSpan) {
  auto req = SampleTraces();
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_trace_id("short");
  SpanBatch b;
  auto r = DecodeTracesProto(req.SerializeAsString(), DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_NE(r->first_error.find("trace_id of 5 bytes"), std::string::npos) << r->first_error;
  EXPECT_EQ(b.rows(), 1u);
  EXPECT_TRUE(b.Consistent());
}

TEST(TracesProto, AllZeroIdsAreEmpty) {
  ExportTraceServiceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_trace_id(std::string(16, '\0'));
  s->set_span_id(std::string(8, '\0'));
  SpanBatch b;
  auto r = DecodeTracesProto(req.SerializeAsString(), DecodeLimits(), &b);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.trace_id[0], "");
  EXPECT_EQ(b.span_id[0], "");
  EXPECT_EQ(b.service_name[0], "");
}

TEST(TracesProto, EveryTruncationIsAnErrorOrAPrefixNeverACrash) {
  std::string body = SampleTraces().SerializeAsString();
  int errors = 0;
  for (size_t n = 0; n < body.size(); ++n) {
    SpanBatch b;
    auto r = DecodeTracesProto(std::string_view(body).substr(0, n), DecodeLimits(), &b);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("malformed protobuf"), std::string::npos) << r.status().message();
      ++errors;
    } else {
      EXPECT_EQ(b.rows(), r->accepted);
      EXPECT_TRUE(b.Consistent());
    }
  }
  EXPECT_GT(errors, static_cast<int>(body.size()) / 2);
  SpanBatch b;
  auto garbage = DecodeTracesProto(std::string("\x0a\xff\xff\xff\xff\x0f", 6), DecodeLimits(), &b);
  EXPECT_FALSE(garbage.ok());
  auto group = DecodeTracesProto(std::string("\x0b", 1), DecodeLimits(), &b);  // start-group wire type
  EXPECT_FALSE(group.ok());
}

// An AnyValue nested `depth` arrays deep.
pb_common::AnyValue Nested(int depth) {
  pb_common::AnyValue v;
  v.set_string_value("leaf");
  for (int i = 0; i < depth; ++i) {
    pb_common::AnyValue outer;
    *outer.mutable_array_value()->add_values() = v;
    v = outer;
  }
  return v;
}

TEST(TracesProto, LimitsDepthCountSizeAndUtf8) {
  DecodeLimits lim;
  lim.max_attributes = 3;
  lim.max_value_bytes = 10;
  lim.max_depth = 4;
  lim.max_events = 1;
  ExportTraceServiceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  for (int i = 0; i < 5; ++i) Str(s->add_attributes(), "k" + std::to_string(i), "v");
  Str(s->add_attributes(), "k0", "");
  s->mutable_attributes(1)->mutable_value()->set_string_value("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");  // 12 bytes
  s->mutable_attributes(2)->mutable_value()->set_string_value("bad\xff\xfe utf8");
  s->add_events()->set_name("e1");
  s->add_events()->set_name("e2");
  SpanBatch b;
  auto r = DecodeTracesProto(req.SerializeAsString(), lim, &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 3 of 6 attributes kept, one value cut at a character boundary (10 bytes), one event dropped.
  EXPECT_EQ(MapRow(b.span_attributes, 0), "k0=v;k1=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9;k2=bad\xef\xbf\xbd\xef\xbf\xbd ");
  EXPECT_EQ(b.events.end(0), 1u);
  EXPECT_EQ(r->truncated, 3u + 2u + 1u);  // 3 attributes dropped, 2 values cut, 1 event dropped
  // Nesting at the limit is fine; one deeper is refused.
  lim.max_value_bytes = 1000;
  ExportTraceServiceRequest deep;
  auto* kv = deep.add_resource_spans()->add_scope_spans()->add_spans()->add_attributes();
  kv->set_key("deep");
  *kv->mutable_value() = Nested(4);
  SpanBatch ok_batch;
  auto ok = DecodeTracesProto(deep.SerializeAsString(), lim, &ok_batch);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(MapRow(ok_batch.span_attributes, 0), "deep=[[[[\"leaf\"]]]]");
  *kv->mutable_value() = Nested(5);
  SpanBatch too_deep;
  auto bad = DecodeTracesProto(deep.SerializeAsString(), lim, &too_deep);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("nested deeper"), std::string::npos);
}

TEST(Values, Doubles) {
  auto d = [](double v) {
    std::string s;
    AppendDouble(&s, v);
    return s;
  };
  EXPECT_EQ(d(0), "0");
  EXPECT_EQ(d(1.5), "1.5");
  EXPECT_EQ(d(-2), "-2");
  EXPECT_EQ(d(0.1), "0.1");
  EXPECT_EQ(d(123456789012), "123456789012");
  EXPECT_EQ(d(1e21), "1e+21");
  EXPECT_EQ(d(1e-7), "1e-07");
  EXPECT_EQ(d(NAN), "NaN");
  EXPECT_EQ(d(INFINITY), "+Inf");
  EXPECT_EQ(d(-INFINITY), "-Inf");
  std::string b;
  AppendBase64(&b, "hello");
  EXPECT_EQ(b, "aGVsbG8=");
}

ExportLogsServiceRequest SampleLogs() {
  ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  Str(rl->mutable_resource()->add_attributes(), "service.name", "billing");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("logger");
  auto* l = sl->add_log_records();
  l->set_time_unix_nano(1700000001000000001ull);
  l->set_observed_time_unix_nano(1700000002000000000ull);
  l->set_severity_number(pb_logs::SEVERITY_NUMBER_WARN);
  l->set_severity_text("WARN");
  l->mutable_body()->set_string_value("disk almost full");
  Str(l->add_attributes(), "disk", "/dev/sda");
  l->set_flags(1);
  l->set_trace_id(kTraceId);
  l->set_span_id(kSpanId);
  auto* l2 = sl->add_log_records();
  l2->set_observed_time_unix_nano(1700000003000000000ull);  // no time: the observed time is used
  Str(l2->mutable_body()->mutable_kvlist_value()->add_values(), "msg", "structured");
  return req;
}

void ExpectSampleLogs(const LogBatch& b) {
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_TRUE(b.Consistent());
  EXPECT_EQ(b.timestamp[0], 1700000001000000001);
  EXPECT_EQ(b.trace_id[0], "5b8efca01f00112233445566778899aa");
  EXPECT_EQ(b.span_id[0], "0102030405060708");
  EXPECT_EQ(b.trace_flags[0], 1u);
  EXPECT_EQ(b.severity_text[0], "WARN");
  EXPECT_EQ(b.severity_number[0], 13);
  EXPECT_EQ(b.service_name[0], "billing");
  EXPECT_EQ(b.body[0], "disk almost full");
  EXPECT_EQ(MapRow(b.resource_attributes, 0), "service.name=billing");
  EXPECT_EQ(MapRow(b.log_attributes, 0), "disk=/dev/sda");
  EXPECT_EQ(b.timestamp[1], 1700000003000000000);
  EXPECT_EQ(b.body[1], "{\"msg\":\"structured\"}");
  EXPECT_EQ(b.trace_id[1], "");
  EXPECT_EQ(b.severity_number[1], 0);
  EXPECT_EQ(MapRow(b.log_attributes, 1), "");
}

TEST(LogsProto, EveryColumn) {
  LogBatch b;
  auto r = DecodeLogsProto(SampleLogs().SerializeAsString(), DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 2u);
  ExpectSampleLogs(b);
}

TEST(LogsProto, TruncationsAndBadIds) {
  std::string body = SampleLogs().SerializeAsString();
  for (size_t n = 0; n < body.size(); ++n) {
    LogBatch b;
    auto r = DecodeLogsProto(std::string_view(body).substr(0, n), DecodeLimits(), &b);
    if (r.ok()) {
      EXPECT_EQ(b.rows(), r->accepted);
      EXPECT_TRUE(b.Consistent());
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
  auto req = SampleLogs();
  req.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(0)->set_span_id("123");
  LogBatch b;
  auto r = DecodeLogsProto(req.SerializeAsString(), DecodeLimits(), &b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_EQ(b.body[0], "{\"msg\":\"structured\"}");
}

// The JSON encoding of SampleTraces() (OTLP/JSON: hex ids, enums as integers, int64 as strings).
const char kTracesJson[] = R"({"resourceSpans":[{"resource":{"attributes":[
 {"key":"service.name","value":{"stringValue":"checkout"}},{"key":"host.name","value":{"stringValue":"node-1"}}]},
 "scopeSpans":[{"scope":{"name":"my.lib","version":"1.2.3"},"spans":[
  {"traceId":"5B8EFCA01F00112233445566778899AA","spanId":"0102030405060708","parentSpanId":"a1a2a3a4a5a6a7a8",
   "traceState":"k=v","name":"GET /cart","kind":2,"startTimeUnixNano":"1700000000123456789",
   "endTimeUnixNano":"1700000000125956789","attributes":[
    {"key":"http.method","value":{"stringValue":"GET"}},
    {"key":"http.status_code","value":{"intValue":"-503"}},
    {"key":"ok","value":{"boolValue":true}},
    {"key":"ratio","value":{"doubleValue":0.25}},
    {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a\"b"},{"intValue":7},{"doubleValue":"NaN"},
      {"kvlistValue":{"values":[{"key":"x","value":{"stringValue":"y"}},{"key":"empty"}]}}]}}},
    {"key":"raw","value":{"bytesValue":"AP8Q"}}],
   "events":[{"timeUnixNano":"1700000000124000000","name":"exception","attributes":[
     {"key":"exception.message","value":{"stringValue":"boom"}}]},
    {"timeUnixNano":1700000000125000000,"name":"retry"}],
   "links":[{"traceId":"11111111111111111111111111111112","spanId":"2222222222222222","traceState":"ls=1",
     "attributes":[{"key":"link.kind","value":{"stringValue":"follows"}}]}],
   "status":{"code":2,"message":"upstream failed"}},
  {"trace_id":"5b8efca01f00112233445566778899aa","span_id":"0909090909090909","name":"internal","kind":9,
   "startTimeUnixNano":"10","endTimeUnixNano":"5","status":{}}]}]}]})";

TEST(TracesJson, SameColumnsAsProtobuf) {
  SpanBatch b;
  auto r = DecodeTracesJson(kTracesJson, DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 2u);
  ExpectSampleSpans(b);
}

TEST(TracesJson, EnumNamesAndErrors) {
  SpanBatch b;
  auto r = DecodeTracesJson(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_CLIENT","status":{"code":"STATUS_CODE_OK"}},
          {"traceId":"xyz"}]}]}]})",
      DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_EQ(b.span_kind[0], "SPAN_KIND_CLIENT");
  EXPECT_EQ(b.status_code[0], "STATUS_CODE_OK");
  for (const char* bad : {"", "{", "[]", "{\"resourceSpans\":{}}", "{\"resourceSpans\":[1]}",
                          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"12x"}]}]}]})",
                          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]})",
                          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a","value":{"intValue":"1.5"}}]}]}]}]})",
                          "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\xff\"}]}]}]}"}) {
    SpanBatch x;
    auto e = DecodeTracesJson(bad, DecodeLimits(), &x);
    EXPECT_FALSE(e.ok()) << bad;
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  // Deep nesting: bounded both by the parser and by max_depth.
  std::string deep = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"d","value":)";
  for (int i = 0; i < 40; ++i) deep += R"({"arrayValue":{"values":[)";
  deep += R"({"stringValue":"x"})";
  for (int i = 0; i < 40; ++i) deep += "]}}";
  deep += "}]}]}]}]}";
  SpanBatch x;
  auto e = DecodeTracesJson(deep, DecodeLimits(), &x);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status().ToString();
}

TEST(LogsJson, SameColumnsAsProtobuf) {
  const char json[] = R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}}]},
    "scopeLogs":[{"scope":{"name":"logger"},"logRecords":[
     {"timeUnixNano":"1700000001000000001","observedTimeUnixNano":"1700000002000000000","severityNumber":13,
      "severityText":"WARN","body":{"stringValue":"disk almost full"},
      "attributes":[{"key":"disk","value":{"stringValue":"/dev/sda"}}],"flags":1,
      "traceId":"5b8efca01f00112233445566778899aa","spanId":"0102030405060708"},
     {"observedTimeUnixNano":"1700000003000000000","body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"structured"}}]}}}]}]}]})";
  LogBatch b;
  auto r = DecodeLogsJson(json, DecodeLimits(), &b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSampleLogs(b);
}

}  // namespace
}  // namespace coroot::server::otlp
