#pragma once
// Columnar batches of otel_traces and otel_logs rows, and their encoding for INSERT.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/clickhouse/row_binary.h"
#include "server/storage/clickhouse/columns.h"

namespace coroot::server::storage {

struct SpanBatch {
  std::vector<int64_t> timestamp;  // ns since the epoch (span start)
  StringColumn trace_id, span_id, parent_span_id, trace_state, span_name, span_kind, service_name;
  MapColumn resource_attributes, span_attributes;
  std::vector<int64_t> duration;  // ns
  StringColumn status_code, status_message;
  // Events Nested(Timestamp, Name, Attributes): events of row i are [events.begin(i), events.end(i)).
  Offsets events;
  std::vector<int64_t> event_timestamp;
  StringColumn event_name;
  MapColumn event_attributes;  // one map per event
  // Links Nested(TraceId, SpanId, TraceState, Attributes).
  Offsets links;
  StringColumn link_trace_id, link_span_id, link_trace_state;
  MapColumn link_attributes;

  size_t rows() const { return timestamp.size(); }
  size_t bytes() const;
  // Every column has rows() values and every offset column matches its elements (a guard: an
  // inconsistent Native block would be misread, not refused).
  bool Consistent() const;
  void Append(const SpanBatch& o);
  void Clear();
  // The INSERT's column list, in the order WriteRowBinary writes them.
  static const char* Columns();
  void WriteRowBinary(clickhouse::RowBinaryWriter* w) const;
  // One block of ClickHouse's Native format (columnar: each column written whole), with the
  // column names and types of the INSERT (LowCardinality columns sent as String).
  void WriteNative(std::string* out) const;
};

struct LogBatch {
  std::vector<int64_t> timestamp;  // ns
  StringColumn trace_id, span_id;
  std::vector<uint32_t> trace_flags;
  StringColumn severity_text;
  std::vector<int32_t> severity_number;
  StringColumn service_name, body;
  MapColumn resource_attributes, log_attributes;

  size_t rows() const { return timestamp.size(); }
  size_t bytes() const;
  bool Consistent() const;
  void Append(const LogBatch& o);
  void Clear();
  static const char* Columns();
  void WriteRowBinary(clickhouse::RowBinaryWriter* w) const;
  void WriteNative(std::string* out) const;
};

}  // namespace coroot::server::storage
