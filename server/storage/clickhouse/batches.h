#pragma once
// Columnar batches of otel_traces and otel_logs rows, and their encoding for INSERT.
#include <cstdint>
#include <string>
#include <unordered_map>
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
  // One block of the rows of `parts` in turn, without gathering them first.
  static void WriteNative(const std::vector<const SpanBatch*>& parts, std::string* out);
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
  static void WriteNative(const std::vector<const LogBatch*>& parts, std::string* out);
};

// Rows of profiling_samples plus the distinct stacks they reference (profiling_stacks), deduplicated
// per batch by (ServiceName, Hash): a stack seen again only moves its LastSeen forward.
struct ProfileBatch {
  // profiling_samples
  StringColumn service_name, type;
  std::vector<int64_t> start, end;  // ns
  MapColumn labels;
  std::vector<uint64_t> stack_hash;
  std::vector<int64_t> value;
  // profiling_stacks
  StringColumn stack_service;
  std::vector<uint64_t> hash;
  std::vector<int64_t> last_seen;  // ns
  Offsets stack;                   // lines of stack i: [stack.begin(i), stack.end(i))
  StringColumn lines;              // "<function> <file>:<line>", leaf first

  size_t rows() const { return value.size(); }
  size_t stacks() const { return hash.size(); }
  size_t bytes() const;
  bool Consistent() const;
  // True (and LastSeen raised to last_seen) when (service, hash) is already in the batch.
  bool HasStack(std::string_view service, uint64_t hash, int64_t last_seen);
  // Adds a stack not yet in the batch: call AddStackLine for each line, then EndStack.
  void AddStackLine(std::string_view line) { lines.Add(line); }
  void EndStack(std::string_view service, uint64_t h, int64_t seen);
  void Append(const ProfileBatch& o);
  void Clear();
  static const char* SampleColumns();
  static const char* StackColumns();
  void WriteSamplesNative(std::string* out) const;
  void WriteStacksNative(std::string* out) const;
  void WriteSamplesRowBinary(clickhouse::RowBinaryWriter* w) const;
  void WriteStacksRowBinary(clickhouse::RowBinaryWriter* w) const;

 private:
  static std::string Key(std::string_view service, uint64_t h);
  std::unordered_map<std::string, size_t> index_;  // Key → stack row
};

}  // namespace coroot::server::storage
