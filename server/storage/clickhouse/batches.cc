#include "server/storage/clickhouse/batches.h"

namespace coroot::server::storage {

namespace {

template <typename T>
void AppendVec(std::vector<T>* a, const std::vector<T>& b) {
  a->insert(a->end(), b.begin(), b.end());
}

void WriteMap(clickhouse::RowBinaryWriter* w, const MapColumn& m, size_t row) {
  size_t b = m.rows.begin(row), e = m.rows.end(row);
  w->MapSize(e - b);
  for (size_t i = b; i < e; ++i) {
    w->String(m.keys[i]);
    w->String(m.values[i]);
  }
}

}  // namespace

size_t SpanBatch::bytes() const {
  return timestamp.size() * 16 + trace_id.bytes() + span_id.bytes() + parent_span_id.bytes() + trace_state.bytes() +
         span_name.bytes() + span_kind.bytes() + service_name.bytes() + resource_attributes.bytes() +
         span_attributes.bytes() + status_code.bytes() + status_message.bytes() + events.bytes() +
         event_timestamp.size() * 8 + event_name.bytes() + event_attributes.bytes() + links.bytes() +
         link_trace_id.bytes() + link_span_id.bytes() + link_trace_state.bytes() + link_attributes.bytes();
}

void SpanBatch::Append(const SpanBatch& o) {
  AppendVec(&timestamp, o.timestamp);
  trace_id.Append(o.trace_id);
  span_id.Append(o.span_id);
  parent_span_id.Append(o.parent_span_id);
  trace_state.Append(o.trace_state);
  span_name.Append(o.span_name);
  span_kind.Append(o.span_kind);
  service_name.Append(o.service_name);
  resource_attributes.Append(o.resource_attributes);
  span_attributes.Append(o.span_attributes);
  AppendVec(&duration, o.duration);
  status_code.Append(o.status_code);
  status_message.Append(o.status_message);
  events.Append(o.events, event_timestamp.size());
  AppendVec(&event_timestamp, o.event_timestamp);
  event_name.Append(o.event_name);
  event_attributes.Append(o.event_attributes);
  links.Append(o.links, link_trace_id.size());
  link_trace_id.Append(o.link_trace_id);
  link_span_id.Append(o.link_span_id);
  link_trace_state.Append(o.link_trace_state);
  link_attributes.Append(o.link_attributes);
}

void SpanBatch::Clear() { *this = SpanBatch(); }

const char* SpanBatch::Columns() {
  return "(Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, "
         "ResourceAttributes, SpanAttributes, Duration, StatusCode, StatusMessage, "
         "`Events.Timestamp`, `Events.Name`, `Events.Attributes`, "
         "`Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)";
}

void SpanBatch::WriteRowBinary(clickhouse::RowBinaryWriter* w) const {
  for (size_t i = 0; i < rows(); ++i) {
    w->DateTime64(timestamp[i]);
    w->String(trace_id[i]);
    w->String(span_id[i]);
    w->String(parent_span_id[i]);
    w->String(trace_state[i]);
    w->String(span_name[i]);
    w->String(span_kind[i]);
    w->String(service_name[i]);
    WriteMap(w, resource_attributes, i);
    WriteMap(w, span_attributes, i);
    w->Int64(duration[i]);
    w->String(status_code[i]);
    w->String(status_message[i]);
    size_t eb = events.begin(i), ee = events.end(i);
    w->ArraySize(ee - eb);
    for (size_t e = eb; e < ee; ++e) w->DateTime64(event_timestamp[e]);
    w->ArraySize(ee - eb);
    for (size_t e = eb; e < ee; ++e) w->String(event_name[e]);
    w->ArraySize(ee - eb);
    for (size_t e = eb; e < ee; ++e) WriteMap(w, event_attributes, e);
    size_t lb = links.begin(i), le = links.end(i);
    w->ArraySize(le - lb);
    for (size_t l = lb; l < le; ++l) w->String(link_trace_id[l]);
    w->ArraySize(le - lb);
    for (size_t l = lb; l < le; ++l) w->String(link_span_id[l]);
    w->ArraySize(le - lb);
    for (size_t l = lb; l < le; ++l) w->String(link_trace_state[l]);
    w->ArraySize(le - lb);
    for (size_t l = lb; l < le; ++l) WriteMap(w, link_attributes, l);
  }
}

size_t LogBatch::bytes() const {
  return timestamp.size() * 16 + trace_id.bytes() + span_id.bytes() + severity_text.bytes() + service_name.bytes() +
         body.bytes() + resource_attributes.bytes() + log_attributes.bytes();
}

void LogBatch::Append(const LogBatch& o) {
  AppendVec(&timestamp, o.timestamp);
  trace_id.Append(o.trace_id);
  span_id.Append(o.span_id);
  AppendVec(&trace_flags, o.trace_flags);
  severity_text.Append(o.severity_text);
  AppendVec(&severity_number, o.severity_number);
  service_name.Append(o.service_name);
  body.Append(o.body);
  resource_attributes.Append(o.resource_attributes);
  log_attributes.Append(o.log_attributes);
}

void LogBatch::Clear() { *this = LogBatch(); }

const char* LogBatch::Columns() {
  return "(Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, "
         "ResourceAttributes, LogAttributes)";
}

void LogBatch::WriteRowBinary(clickhouse::RowBinaryWriter* w) const {
  for (size_t i = 0; i < rows(); ++i) {
    w->DateTime64(timestamp[i]);
    w->String(trace_id[i]);
    w->String(span_id[i]);
    w->UInt32(trace_flags[i]);
    w->String(severity_text[i]);
    w->Int32(severity_number[i]);
    w->String(service_name[i]);
    w->String(body[i]);
    WriteMap(w, resource_attributes, i);
    WriteMap(w, log_attributes, i);
  }
}

}  // namespace coroot::server::storage
