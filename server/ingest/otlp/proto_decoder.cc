// OTLP protobuf → columnar batches with the hand-written wire reader (no message objects).
// Field numbers are those of opentelemetry/proto/{common,resource,trace,logs}/v1.
#include <charconv>
#include <cmath>
#include <cstring>

#include "lib/protowire/wire.h"
#include "server/ingest/otlp/decode.h"

namespace coroot::server::otlp {

using protowire::Reader;
using protowire::WireType;
using storage::LogBatch;
using storage::MapColumn;
using storage::SpanBatch;
using storage::StringColumn;

namespace {

Status Malformed(const char* what) { return InvalidArgument(std::string("malformed protobuf: bad ") + what); }

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendHex(std::string* out, std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  bool zero = true;
  for (char c : bytes) zero = zero && c == 0;
  if (zero) return;  // absent or all-zero ids are ""
  for (unsigned char c : bytes) {
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
}

// One value field of an AnyValue (the last one wins, as protobuf merges a oneof).
struct RawValue {
  uint32_t field = 0;
  uint64_t u = 0;
  std::string_view b;
};

class Decoder {
 public:
  Decoder(const DecodeLimits& lim, DecodeResult* res) : lim_(lim), res_(res) {}

  // Appends the text form of an AnyValue message; `nested` = inside an array/kvlist (JSON form).
  Status AnyValue(std::string_view msg, int depth, bool nested, std::string* out) {
    if (depth > lim_.max_depth)
      return InvalidArgument("attribute value nested deeper than " + std::to_string(lim_.max_depth) + " levels");
    Reader r(msg);
    RawValue v;
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("AnyValue");
      if (f >= 1 && f <= 7) {
        WireType want = (f == 2 || f == 3) ? protowire::kVarint : f == 4 ? protowire::kFixed64 : protowire::kLen;
        if (t != want) return Malformed("AnyValue type");
        bool ok = t == protowire::kVarint ? r.Varint(&v.u) : t == protowire::kFixed64 ? r.Fixed64(&v.u) : r.Bytes(&v.b);
        if (!ok) return Malformed("AnyValue");
        v.field = f;
      } else if (!r.Skip(t)) {
        return Malformed("AnyValue");
      }
    }
    switch (v.field) {
      case 0:
        if (nested) out->append("null");
        break;
      case 1:
        if (nested) {
          out->push_back('"');
          AppendJsonEscaped(out, v.b);
          out->push_back('"');
        } else {
          AppendUtf8(out, v.b);
        }
        break;
      case 2: out->append(v.u ? "true" : "false"); break;
      case 3: AppendInt(out, static_cast<int64_t>(v.u)); break;
      case 4: {
        double d;
        std::memcpy(&d, &v.u, 8);
        bool quote = nested && !std::isfinite(d);
        if (quote) out->push_back('"');
        AppendDouble(out, d);
        if (quote) out->push_back('"');
        break;
      }
      case 5: {  // ArrayValue { repeated AnyValue values = 1; }
        out->push_back('[');
        Reader a(v.b);
        bool first = true;
        while (!a.done()) {
          uint32_t f;
          WireType t;
          if (!a.Next(&f, &t)) return Malformed("ArrayValue");
          if (f == 1 && t == protowire::kLen) {
            std::string_view e;
            if (!a.Bytes(&e)) return Malformed("ArrayValue");
            if (!first) out->push_back(',');
            first = false;
            RETURN_IF_ERROR(AnyValue(e, depth + 1, true, out));
          } else if (!a.Skip(t)) {
            return Malformed("ArrayValue");
          }
        }
        out->push_back(']');
        break;
      }
      case 6: {  // KeyValueList { repeated KeyValue values = 1; }
        out->push_back('{');
        Reader a(v.b);
        bool first = true;
        while (!a.done()) {
          uint32_t f;
          WireType t;
          if (!a.Next(&f, &t)) return Malformed("KeyValueList");
          if (f == 1 && t == protowire::kLen) {
            std::string_view kv, key, val;
            if (!a.Bytes(&kv)) return Malformed("KeyValueList");
            RETURN_IF_ERROR(SplitKeyValue(kv, &key, &val));
            if (!first) out->push_back(',');
            first = false;
            out->push_back('"');
            AppendJsonEscaped(out, key);
            out->append("\":");
            RETURN_IF_ERROR(AnyValue(val, depth + 1, true, out));
          } else if (!a.Skip(t)) {
            return Malformed("KeyValueList");
          }
        }
        out->push_back('}');
        break;
      }
      case 7:
        if (nested) out->push_back('"');
        AppendBase64(out, v.b);
        if (nested) out->push_back('"');
        break;
    }
    return Status::Ok();
  }

  // KeyValue { string key = 1; AnyValue value = 2; }
  Status SplitKeyValue(std::string_view kv, std::string_view* key, std::string_view* val) {
    Reader r(kv);
    *key = {};
    *val = {};
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("KeyValue");
      if ((f == 1 || f == 2) && t == protowire::kLen) {
        if (!r.Bytes(f == 1 ? key : val)) return Malformed("KeyValue");
      } else if (!r.Skip(t)) {
        return Malformed("KeyValue");
      }
    }
    return Status::Ok();
  }

  // Adds one KeyValue to the open row of m, unless the row already has max_attributes pairs.
  Status Attribute(std::string_view kv, MapColumn* m, size_t row_start) {
    std::string_view key, val;
    RETURN_IF_ERROR(SplitKeyValue(kv, &key, &val));
    if (m->pairs() - row_start >= lim_.max_attributes) {
      res_->truncated++;
      return Status::Ok();
    }
    return PutAttribute(key, val, m);
  }

  Status PutAttribute(std::string_view key, std::string_view val, MapColumn* m) {
    return AppendAttribute(m, key, lim_, &res_->truncated,
                           [&](std::string* out) { return AnyValue(val, 0, false, out); });
  }

  // Resource { repeated KeyValue attributes = 1; } into a one-row scratch map; returns service.name.
  Status Resource(std::string_view msg, MapColumn* scratch, std::string* service) {
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("Resource");
      if (f == 1 && t == protowire::kLen) {
        std::string_view kv;
        if (!r.Bytes(&kv)) return Malformed("Resource");
        RETURN_IF_ERROR(Attribute(kv, scratch, 0));
      } else if (!r.Skip(t)) {
        return Malformed("Resource");
      }
    }
    for (size_t i = 0; i < scratch->pairs(); ++i)
      if (scratch->keys[i] == "service.name") service->assign(scratch->values[i]);
    return Status::Ok();
  }

  // InstrumentationScope { string name = 1; string version = 2; ... }
  Status Scope(std::string_view msg, std::string_view* name, std::string_view* version) {
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("InstrumentationScope");
      if ((f == 1 || f == 2) && t == protowire::kLen) {
        if (!r.Bytes(f == 1 ? name : version)) return Malformed("InstrumentationScope");
      } else if (!r.Skip(t)) {
        return Malformed("InstrumentationScope");
      }
    }
    return Status::Ok();
  }

  void Reject(const std::string& why) {
    if (res_->first_error.empty()) res_->first_error = why;
    res_->rejected++;
  }

  // ---- traces ----

  // Span: pass 1 reads the scalar fields (and validates ids), pass 2 the repeated ones.
  Status Span(std::string_view msg, const MapColumn& resource, std::string_view service, std::string_view scope_name,
              std::string_view scope_version, SpanBatch* b) {
    std::string_view trace_id, span_id, trace_state, parent, name, status;
    uint64_t kind = 0, start = 0, end = 0;
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("Span");
      bool ok = true;
      switch (f) {
        case 1: ok = t == protowire::kLen && r.Bytes(&trace_id); break;
        case 2: ok = t == protowire::kLen && r.Bytes(&span_id); break;
        case 3: ok = t == protowire::kLen && r.Bytes(&trace_state); break;
        case 4: ok = t == protowire::kLen && r.Bytes(&parent); break;
        case 5: ok = t == protowire::kLen && r.Bytes(&name); break;
        case 6: ok = t == protowire::kVarint && r.Varint(&kind); break;
        case 7: ok = t == protowire::kFixed64 && r.Fixed64(&start); break;
        case 8: ok = t == protowire::kFixed64 && r.Fixed64(&end); break;
        case 15: ok = t == protowire::kLen && r.Bytes(&status); break;
        default: ok = r.Skip(t);
      }
      if (!ok) return Malformed("Span");
    }
    if (trace_id.size() != 0 && trace_id.size() != 16) {
      Reject("span with a trace_id of " + std::to_string(trace_id.size()) + " bytes (want 16)");
      return Status::Ok();
    }
    if ((span_id.size() != 0 && span_id.size() != 8) || (parent.size() != 0 && parent.size() != 8)) {
      Reject("span with a span_id or parent_span_id that is not 8 bytes");
      return Status::Ok();
    }
    // Status { string message = 2; StatusCode code = 3; }
    std::string_view status_message;
    uint64_t status_code = 0;
    Reader sr(status);
    while (!sr.done()) {
      uint32_t f;
      WireType t;
      if (!sr.Next(&f, &t)) return Malformed("Status");
      bool ok = f == 2 && t == protowire::kLen   ? sr.Bytes(&status_message)
                : f == 3 && t == protowire::kVarint ? sr.Varint(&status_code)
                                                    : sr.Skip(t);
      if (!ok) return Malformed("Status");
    }

    // Pass 2: attributes, events, links.
    size_t attr_start = b->span_attributes.pairs();
    size_t events = 0, links = 0;
    Reader r2(msg);
    while (!r2.done()) {
      uint32_t f;
      WireType t;
      if (!r2.Next(&f, &t)) return Malformed("Span");
      if ((f == 9 || f == 11 || f == 13) && t == protowire::kLen) {
        std::string_view m;
        if (!r2.Bytes(&m)) return Malformed("Span");
        if (f == 9) {
          RETURN_IF_ERROR(Attribute(m, &b->span_attributes, attr_start));
        } else if (f == 11) {
          if (events++ >= lim_.max_events) {
            res_->truncated++;
            continue;
          }
          RETURN_IF_ERROR(Event(m, b));
        } else {
          if (links++ >= lim_.max_links) {
            res_->truncated++;
            continue;
          }
          RETURN_IF_ERROR(Link(m, b));
        }
      } else if (!r2.Skip(t)) {
        return Malformed("Span");
      }
    }
    if (!scope_name.empty()) b->span_attributes.Put("otel.scope.name", scope_name);
    if (!scope_version.empty()) b->span_attributes.Put("otel.scope.version", scope_version);
    b->span_attributes.EndRow();
    b->events.Push(b->event_timestamp.size());
    b->links.Push(b->link_trace_id.size());

    b->timestamp.push_back(static_cast<int64_t>(start));
    AppendHex(&b->trace_id.buf(), trace_id);
    b->trace_id.Finish();
    AppendHex(&b->span_id.buf(), span_id);
    b->span_id.Finish();
    AppendHex(&b->parent_span_id.buf(), parent);
    b->parent_span_id.Finish();
    AppendUtf8(&b->trace_state.buf(), trace_state);
    b->trace_state.Finish();
    AppendUtf8(&b->span_name.buf(), name);
    b->span_name.Finish();
    AddEnum(&b->span_kind, SpanKindName(static_cast<int64_t>(kind)), kind);
    b->service_name.Add(service);
    for (size_t i = 0; i < resource.pairs(); ++i) b->resource_attributes.Put(resource.keys[i], resource.values[i]);
    b->resource_attributes.EndRow();
    b->duration.push_back(end >= start ? static_cast<int64_t>(end - start) : 0);
    AddEnum(&b->status_code, StatusCodeName(static_cast<int64_t>(status_code)), status_code);
    AppendUtf8(&b->status_message.buf(), status_message);
    b->status_message.Finish();
    res_->accepted++;
    return Status::Ok();
  }

  static void AddEnum(StringColumn* c, const char* name, uint64_t v) {
    if (name != nullptr) {
      c->Add(name);
    } else {
      AppendInt(&c->buf(), static_cast<int64_t>(static_cast<int32_t>(v)));
      c->Finish();
    }
  }

  // Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
  Status Event(std::string_view msg, SpanBatch* b) {
    uint64_t ts = 0;
    std::string_view name;
    size_t attr_start = b->event_attributes.pairs();
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("Span.Event");
      bool ok = true;
      if (f == 1) {
        ok = t == protowire::kFixed64 && r.Fixed64(&ts);
      } else if (f == 2) {
        ok = t == protowire::kLen && r.Bytes(&name);
      } else if (f == 3 && t == protowire::kLen) {
        std::string_view kv;
        ok = r.Bytes(&kv);
        if (ok) RETURN_IF_ERROR(Attribute(kv, &b->event_attributes, attr_start));
      } else {
        ok = r.Skip(t);
      }
      if (!ok) return Malformed("Span.Event");
    }
    b->event_attributes.EndRow();
    b->event_timestamp.push_back(static_cast<int64_t>(ts));
    AppendUtf8(&b->event_name.buf(), name);
    b->event_name.Finish();
    return Status::Ok();
  }

  // Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; }
  Status Link(std::string_view msg, SpanBatch* b) {
    std::string_view trace_id, span_id, state;
    size_t attr_start = b->link_attributes.pairs();
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("Span.Link");
      bool ok = true;
      if (f >= 1 && f <= 3) {
        ok = t == protowire::kLen && r.Bytes(f == 1 ? &trace_id : f == 2 ? &span_id : &state);
      } else if (f == 4 && t == protowire::kLen) {
        std::string_view kv;
        ok = r.Bytes(&kv);
        if (ok) RETURN_IF_ERROR(Attribute(kv, &b->link_attributes, attr_start));
      } else {
        ok = r.Skip(t);
      }
      if (!ok) return Malformed("Span.Link");
    }
    if (trace_id.size() > 16 || span_id.size() > 8) return Malformed("Span.Link id");
    b->link_attributes.EndRow();
    AppendHex(&b->link_trace_id.buf(), trace_id);
    b->link_trace_id.Finish();
    AppendHex(&b->link_span_id.buf(), span_id);
    b->link_span_id.Finish();
    AppendUtf8(&b->link_trace_state.buf(), state);
    b->link_trace_state.Finish();
    return Status::Ok();
  }

  // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
  // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
  Status ResourceSpans(std::string_view msg, SpanBatch* b) {
    MapColumn resource;
    std::string service;
    RETURN_IF_ERROR(FirstPass(msg, "ResourceSpans", [&](std::string_view m) { return Resource(m, &resource, &service); }));
    return ForEach(msg, 2, "ResourceSpans", [&](std::string_view ss) {
      std::string_view scope_name, scope_version;
      RETURN_IF_ERROR(FirstPass(ss, "ScopeSpans", [&](std::string_view m) { return Scope(m, &scope_name, &scope_version); }));
      return ForEach(ss, 2, "ScopeSpans", [&](std::string_view span) {
        return Span(span, resource, service, scope_name, scope_version, b);
      });
    });
  }

  // ---- logs ----

  // LogRecord { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2; string severity_text = 3;
  //   AnyValue body = 5; repeated KeyValue attributes = 6; fixed32 flags = 8; bytes trace_id = 9;
  //   bytes span_id = 10; fixed64 observed_time_unix_nano = 11; }
  Status LogRecord(std::string_view msg, const MapColumn& resource, std::string_view service, LogBatch* b) {
    uint64_t ts = 0, observed = 0, severity = 0;
    uint32_t flags = 0;
    std::string_view text, body, trace_id, span_id;
    bool has_body = false;
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("LogRecord");
      bool ok = true;
      switch (f) {
        case 1: ok = t == protowire::kFixed64 && r.Fixed64(&ts); break;
        case 11: ok = t == protowire::kFixed64 && r.Fixed64(&observed); break;
        case 2: ok = t == protowire::kVarint && r.Varint(&severity); break;
        case 3: ok = t == protowire::kLen && r.Bytes(&text); break;
        case 5: ok = t == protowire::kLen && r.Bytes(&body); has_body = true; break;
        case 8: ok = t == protowire::kFixed32 && r.Fixed32(&flags); break;
        case 9: ok = t == protowire::kLen && r.Bytes(&trace_id); break;
        case 10: ok = t == protowire::kLen && r.Bytes(&span_id); break;
        default: ok = r.Skip(t);
      }
      if (!ok) return Malformed("LogRecord");
    }
    if ((trace_id.size() != 0 && trace_id.size() != 16) || (span_id.size() != 0 && span_id.size() != 8)) {
      Reject("log record with a trace_id/span_id of the wrong length");
      return Status::Ok();
    }
    std::string& bb = b->body.buf();
    size_t bs = bb.size();
    if (has_body) {
      Status st = AnyValue(body, 0, false, &bb);
      if (!st.ok()) {
        b->body.AbortPending();
        return st;
      }
      if (TruncateUtf8(&bb, bs, lim_.max_value_bytes)) res_->truncated++;
    }
    size_t attr_start = b->log_attributes.pairs();
    Status st = ForEach(msg, 6, "LogRecord", [&](std::string_view kv) { return Attribute(kv, &b->log_attributes, attr_start); });
    if (!st.ok()) {
      b->body.AbortPending();
      return st;
    }
    b->body.Finish();
    b->log_attributes.EndRow();
    b->timestamp.push_back(static_cast<int64_t>(ts != 0 ? ts : observed));
    AppendHex(&b->trace_id.buf(), trace_id);
    b->trace_id.Finish();
    AppendHex(&b->span_id.buf(), span_id);
    b->span_id.Finish();
    b->trace_flags.push_back(flags);
    AppendUtf8(&b->severity_text.buf(), text);
    b->severity_text.Finish();
    b->severity_number.push_back(static_cast<int32_t>(severity));
    b->service_name.Add(service);
    for (size_t i = 0; i < resource.pairs(); ++i) b->resource_attributes.Put(resource.keys[i], resource.values[i]);
    b->resource_attributes.EndRow();
    res_->accepted++;
    return Status::Ok();
  }

  Status ResourceLogs(std::string_view msg, LogBatch* b) {
    MapColumn resource;
    std::string service;
    RETURN_IF_ERROR(FirstPass(msg, "ResourceLogs", [&](std::string_view m) { return Resource(m, &resource, &service); }));
    return ForEach(msg, 2, "ResourceLogs", [&](std::string_view sl) {
      return ForEach(sl, 2, "ScopeLogs", [&](std::string_view rec) { return LogRecord(rec, resource, service, b); });
    });
  }

  // Calls fn for every length-delimited field `field` of msg; validates the rest.
  template <typename F>
  static Status ForEach(std::string_view msg, uint32_t field, const char* what, F&& fn) {
    Reader r(msg);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed(what);
      if (f == field && t == protowire::kLen) {
        std::string_view m;
        if (!r.Bytes(&m)) return Malformed(what);
        RETURN_IF_ERROR(fn(m));
      } else if (!r.Skip(t)) {
        return Malformed(what);
      }
    }
    return Status::Ok();
  }
  // Field 1 (the resource or scope), which may come after the repeated field on the wire: the last one wins.
  template <typename F>
  static Status FirstPass(std::string_view msg, const char* what, F&& fn) {
    std::string_view last;
    bool found = false;
    RETURN_IF_ERROR(ForEach(msg, 1, what, [&](std::string_view m) {
      last = m;
      found = true;
      return Status::Ok();
    }));
    return found ? fn(last) : Status::Ok();
  }

 private:
  const DecodeLimits& lim_;
  DecodeResult* res_;
};

}  // namespace

StatusOr<DecodeResult> DecodeTracesProto(std::string_view body, const DecodeLimits& limits, SpanBatch* out) {
  DecodeResult res;
  Decoder d(limits, &res);
  RETURN_IF_ERROR(Decoder::ForEach(body, 1, "ExportTraceServiceRequest",
                                   [&](std::string_view rs) { return d.ResourceSpans(rs, out); }));
  return res;
}

StatusOr<DecodeResult> DecodeLogsProto(std::string_view body, const DecodeLimits& limits, LogBatch* out) {
  DecodeResult res;
  Decoder d(limits, &res);
  RETURN_IF_ERROR(Decoder::ForEach(body, 1, "ExportLogsServiceRequest",
                                   [&](std::string_view rl) { return d.ResourceLogs(rl, out); }));
  return res;
}

}  // namespace coroot::server::otlp
