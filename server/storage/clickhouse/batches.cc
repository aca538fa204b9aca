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

// ---- Native format: varint column and row counts, then per column its name, its type and the
// column's data: fixed-width values back to back; String as (varint length, bytes) per value;
// Array as UInt64 cumulative offsets then the elements' column; Map(K, V) as Array(Tuple(K, V)),
// i.e. offsets, then all keys, then all values.

void NativeVarUInt(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void NativeString(std::string* out, std::string_view s) {
  NativeVarUInt(out, s.size());
  out->append(s.data(), s.size());
}

void NativeHeader(std::string* out, const char* name, const char* type) {
  NativeString(out, name);
  NativeString(out, type);
}

void NativeStrings(std::string* out, const StringColumn& c, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) NativeString(out, c[i]);
}

template <typename T>
void NativeFixed(std::string* out, const std::vector<T>& v) {
  out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// UInt64 ends of rows [from, to) of an Offsets, relative to begin(from).
void NativeOffsets(std::string* out, const Offsets& o, size_t from, size_t to) {
  size_t base = from < to ? o.begin(from) : 0;
  for (size_t i = from; i < to; ++i) {
    uint64_t e = o.end(i) - base;
    out->append(reinterpret_cast<const char*>(&e), 8);
  }
}

// Map rows [from, to) of m.
void NativeMap(std::string* out, const MapColumn& m, size_t from, size_t to) {
  NativeOffsets(out, m.rows, from, to);
  size_t pb = from < to ? m.rows.begin(from) : 0, pe = from < to ? m.rows.end(to - 1) : 0;
  NativeStrings(out, m.keys, pb, pe);
  NativeStrings(out, m.values, pb, pe);
}

bool MapOk(const MapColumn& m, size_t n) {
  return m.rows.size() == n && m.keys.size() == m.values.size() && m.rows.last() == m.keys.size();
}

}  // namespace

bool SpanBatch::Consistent() const {
  const size_t n = rows();
  for (const StringColumn* c : {&trace_id, &span_id, &parent_span_id, &trace_state, &span_name, &span_kind,
                                &service_name, &status_code, &status_message})
    if (c->size() != n) return false;
  const size_t ne = event_timestamp.size(), nl = link_trace_id.size();
  return duration.size() == n && MapOk(resource_attributes, n) && MapOk(span_attributes, n) && events.size() == n &&
         events.last() == ne && event_name.size() == ne && MapOk(event_attributes, ne) && links.size() == n &&
         links.last() == nl && link_span_id.size() == nl && link_trace_state.size() == nl &&
         MapOk(link_attributes, nl);
}

bool LogBatch::Consistent() const {
  const size_t n = rows();
  for (const StringColumn* c : {&trace_id, &span_id, &severity_text, &service_name, &body})
    if (c->size() != n) return false;
  return trace_flags.size() == n && severity_number.size() == n && MapOk(resource_attributes, n) &&
         MapOk(log_attributes, n);
}

namespace {

// A Native block written from the rows of several batches in turn (as if they were one batch):
// each column is the concatenation of the parts' columns, and offsets are rebased onto the
// elements of the parts before. Columns are named by member pointers, e.g. &SpanBatch::trace_id.
template <typename B>
class NativeBlock {
 public:
  NativeBlock(std::string* out, const std::vector<const B*>& parts, size_t columns) : out_(out), parts_(parts) {
    size_t rows = 0;
    for (const B* p : parts) rows += p->rows();
    NativeVarUInt(out, columns);
    NativeVarUInt(out, rows);
  }
  template <typename T>
  void Fixed(const char* name, const char* type, std::vector<T> B::*column) {
    NativeHeader(out_, name, type);
    for (const B* p : parts_) NativeFixed(out_, p->*column);
  }
  void Strings(const char* name, StringColumn B::*column) {
    NativeHeader(out_, name, "String");
    StringsOf([&](const B& p) -> const StringColumn& { return p.*column; });
  }
  void Map(const char* name, MapColumn B::*column) {
    NativeHeader(out_, name, "Map(String, String)");
    MapsOf([&](const B& p) -> const MapColumn& { return p.*column; });
  }
  // Nested columns: Array(T) of the elements `elements` with the row offsets `rows`.
  template <typename T>
  void ArrayOfFixed(const char* name, const char* type, Offsets B::*rows, std::vector<T> B::*elements) {
    NativeHeader(out_, name, type);
    OffsetsOf([&](const B& p) -> const Offsets& { return p.*rows; });
    for (const B* p : parts_) NativeFixed(out_, p->*elements);
  }
  void ArrayOfStrings(const char* name, Offsets B::*rows, StringColumn B::*elements) {
    NativeHeader(out_, name, "Array(String)");
    OffsetsOf([&](const B& p) -> const Offsets& { return p.*rows; });
    StringsOf([&](const B& p) -> const StringColumn& { return p.*elements; });
  }
  void ArrayOfMaps(const char* name, Offsets B::*rows, MapColumn B::*elements) {
    NativeHeader(out_, name, "Array(Map(String, String))");
    OffsetsOf([&](const B& p) -> const Offsets& { return p.*rows; });
    MapsOf([&](const B& p) -> const MapColumn& { return p.*elements; });
  }

 private:
  template <typename Get>
  void StringsOf(Get column) {
    for (const B* p : parts_) NativeStrings(out_, column(*p), 0, column(*p).size());
  }
  template <typename Get>
  void OffsetsOf(Get offsets) {
    uint64_t base = 0;
    for (const B* p : parts_) {
      const Offsets& o = offsets(*p);
      for (size_t i = 0; i < o.size(); ++i) {
        uint64_t e = base + o.end(i);
        out_->append(reinterpret_cast<const char*>(&e), 8);
      }
      base += o.last();
    }
  }
  template <typename Get>
  void MapsOf(Get column) {
    OffsetsOf([&](const B& p) -> const Offsets& { return column(p).rows; });
    StringsOf([&](const B& p) -> const StringColumn& { return column(p).keys; });
    StringsOf([&](const B& p) -> const StringColumn& { return column(p).values; });
  }

  std::string* out_;
  const std::vector<const B*>& parts_;
};

}  // namespace

void SpanBatch::WriteNative(std::string* out) const { WriteNative({this}, out); }

void SpanBatch::WriteNative(const std::vector<const SpanBatch*>& parts, std::string* out) {
  NativeBlock<SpanBatch> block(out, parts, 20);
  block.Fixed("Timestamp", "DateTime64(9)", &SpanBatch::timestamp);
  block.Strings("TraceId", &SpanBatch::trace_id);
  block.Strings("SpanId", &SpanBatch::span_id);
  block.Strings("ParentSpanId", &SpanBatch::parent_span_id);
  block.Strings("TraceState", &SpanBatch::trace_state);
  block.Strings("SpanName", &SpanBatch::span_name);
  block.Strings("SpanKind", &SpanBatch::span_kind);
  block.Strings("ServiceName", &SpanBatch::service_name);
  block.Map("ResourceAttributes", &SpanBatch::resource_attributes);
  block.Map("SpanAttributes", &SpanBatch::span_attributes);
  block.Fixed("Duration", "Int64", &SpanBatch::duration);
  block.Strings("StatusCode", &SpanBatch::status_code);
  block.Strings("StatusMessage", &SpanBatch::status_message);
  block.ArrayOfFixed("Events.Timestamp", "Array(DateTime64(9))", &SpanBatch::events, &SpanBatch::event_timestamp);
  block.ArrayOfStrings("Events.Name", &SpanBatch::events, &SpanBatch::event_name);
  block.ArrayOfMaps("Events.Attributes", &SpanBatch::events, &SpanBatch::event_attributes);
  block.ArrayOfStrings("Links.TraceId", &SpanBatch::links, &SpanBatch::link_trace_id);
  block.ArrayOfStrings("Links.SpanId", &SpanBatch::links, &SpanBatch::link_span_id);
  block.ArrayOfStrings("Links.TraceState", &SpanBatch::links, &SpanBatch::link_trace_state);
  block.ArrayOfMaps("Links.Attributes", &SpanBatch::links, &SpanBatch::link_attributes);
}

void LogBatch::WriteNative(std::string* out) const { WriteNative({this}, out); }

void LogBatch::WriteNative(const std::vector<const LogBatch*>& parts, std::string* out) {
  NativeBlock<LogBatch> block(out, parts, 10);
  block.Fixed("Timestamp", "DateTime64(9)", &LogBatch::timestamp);
  block.Strings("TraceId", &LogBatch::trace_id);
  block.Strings("SpanId", &LogBatch::span_id);
  block.Fixed("TraceFlags", "UInt32", &LogBatch::trace_flags);
  block.Strings("SeverityText", &LogBatch::severity_text);
  block.Fixed("SeverityNumber", "Int32", &LogBatch::severity_number);
  block.Strings("ServiceName", &LogBatch::service_name);
  block.Strings("Body", &LogBatch::body);
  block.Map("ResourceAttributes", &LogBatch::resource_attributes);
  block.Map("LogAttributes", &LogBatch::log_attributes);
}

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

// ---- profiles ----

std::string ProfileBatch::Key(std::string_view service, uint64_t h) {
  std::string k(reinterpret_cast<const char*>(&h), 8);
  k.append(service.data(), service.size());
  return k;
}

bool ProfileBatch::HasStack(std::string_view service, uint64_t h, int64_t seen) {
  auto it = index_.find(Key(service, h));
  if (it == index_.end()) return false;
  if (seen > last_seen[it->second]) last_seen[it->second] = seen;
  return true;
}

void ProfileBatch::EndStack(std::string_view service, uint64_t h, int64_t seen) {
  index_.emplace(Key(service, h), hash.size());
  stack_service.Add(service);
  hash.push_back(h);
  last_seen.push_back(seen);
  stack.Push(lines.size());
}

size_t ProfileBatch::bytes() const {
  return value.size() * 40 + service_name.bytes() + type.bytes() + labels.bytes() + stack_service.bytes() +
         hash.size() * 64 + stack.bytes() + lines.bytes();
}

bool ProfileBatch::Consistent() const {
  const size_t n = rows(), m = stacks();
  return service_name.size() == n && type.size() == n && start.size() == n && end.size() == n &&
         MapOk(labels, n) && stack_hash.size() == n && stack_service.size() == m && last_seen.size() == m &&
         stack.size() == m && stack.last() == lines.size();
}

void ProfileBatch::Append(const ProfileBatch& o) {
  service_name.Append(o.service_name);
  type.Append(o.type);
  AppendVec(&start, o.start);
  AppendVec(&end, o.end);
  labels.Append(o.labels);
  AppendVec(&stack_hash, o.stack_hash);
  AppendVec(&value, o.value);
  for (size_t i = 0; i < o.stacks(); ++i) {
    if (HasStack(o.stack_service[i], o.hash[i], o.last_seen[i])) continue;
    for (size_t l = o.stack.begin(i); l < o.stack.end(i); ++l) AddStackLine(o.lines[l]);
    EndStack(o.stack_service[i], o.hash[i], o.last_seen[i]);
  }
}

void ProfileBatch::Clear() { *this = ProfileBatch(); }

const char* ProfileBatch::SampleColumns() { return "(ServiceName, Type, Start, End, Labels, StackHash, Value)"; }
const char* ProfileBatch::StackColumns() { return "(ServiceName, Hash, LastSeen, Stack)"; }

void ProfileBatch::WriteSamplesNative(std::string* out) const {
  const size_t n = rows();
  NativeVarUInt(out, 7);
  NativeVarUInt(out, n);
  NativeHeader(out, "ServiceName", "String");
  NativeStrings(out, service_name, 0, n);
  NativeHeader(out, "Type", "String");
  NativeStrings(out, type, 0, n);
  NativeHeader(out, "Start", "DateTime64(9)");
  NativeFixed(out, start);
  NativeHeader(out, "End", "DateTime64(9)");
  NativeFixed(out, end);
  NativeHeader(out, "Labels", "Map(String, String)");
  NativeMap(out, labels, 0, n);
  NativeHeader(out, "StackHash", "UInt64");
  NativeFixed(out, stack_hash);
  NativeHeader(out, "Value", "Int64");
  NativeFixed(out, value);
}

void ProfileBatch::WriteStacksNative(std::string* out) const {
  const size_t m = stacks();
  NativeVarUInt(out, 4);
  NativeVarUInt(out, m);
  NativeHeader(out, "ServiceName", "String");
  NativeStrings(out, stack_service, 0, m);
  NativeHeader(out, "Hash", "UInt64");
  NativeFixed(out, hash);
  NativeHeader(out, "LastSeen", "DateTime64(9)");
  NativeFixed(out, last_seen);
  NativeHeader(out, "Stack", "Array(String)");
  NativeOffsets(out, stack, 0, m);
  NativeStrings(out, lines, 0, lines.size());
}

void ProfileBatch::WriteSamplesRowBinary(clickhouse::RowBinaryWriter* w) const {
  for (size_t i = 0; i < rows(); ++i) {
    w->String(service_name[i]);
    w->String(type[i]);
    w->DateTime64(start[i]);
    w->DateTime64(end[i]);
    WriteMap(w, labels, i);
    w->UInt64(stack_hash[i]);
    w->Int64(value[i]);
  }
}

void ProfileBatch::WriteStacksRowBinary(clickhouse::RowBinaryWriter* w) const {
  for (size_t i = 0; i < stacks(); ++i) {
    w->String(stack_service[i]);
    w->UInt64(hash[i]);
    w->DateTime64(last_seen[i]);
    w->ArraySize(stack.end(i) - stack.begin(i));
    for (size_t l = stack.begin(i); l < stack.end(i); ++l) w->String(lines[l]);
  }
}

}  // namespace coroot::server::storage
