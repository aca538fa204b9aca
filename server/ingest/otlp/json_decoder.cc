// OTLP/JSON → columnar batches with simdjson's DOM (bounded depth, error codes, no exceptions).
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "server/ingest/otlp/decode.h"

namespace coroot::server::otlp {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using storage::LogBatch;
using storage::MapColumn;
using storage::SpanBatch;
using storage::StringColumn;

namespace {

constexpr size_t kMaxJsonDepth = 128;  // simdjson's structural depth bound (values nest 3 levels per step)

Status Bad(const std::string& what) { return InvalidArgument("invalid OTLP/JSON: " + what); }

// The member `camel` (or its snake_case spelling); false when absent or null.
bool Find(object o, const char* camel, const char* snake, element* out) {
  if (o.at_key(camel).get(*out) == simdjson::SUCCESS) return !out->is_null();
  if (snake != nullptr && o.at_key(snake).get(*out) == simdjson::SUCCESS) return !out->is_null();
  return false;
}

// A uint64 given as a number or a decimal string ("1700000000000000000").
Status U64(element e, const char* what, uint64_t* v) {
  if (e.get_uint64().get(*v) == simdjson::SUCCESS) return Status::Ok();
  int64_t i;
  if (e.get_int64().get(i) == simdjson::SUCCESS && i >= 0) {
    *v = static_cast<uint64_t>(i);
    return Status::Ok();
  }
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) return Status::Ok();
  }
  return Bad(std::string(what) + " is not an unsigned 64-bit integer");
}

Status I64(element e, const char* what, int64_t* v) {
  if (e.get_int64().get(*v) == simdjson::SUCCESS) return Status::Ok();
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) return Status::Ok();
  }
  return Bad(std::string(what) + " is not a 64-bit integer");
}

Status Str(element e, const char* what, std::string_view* s) {
  if (e.get_string().get(*s) != simdjson::SUCCESS) return Bad(std::string(what) + " is not a string");
  return Status::Ok();
}

// An enum as an integer or by name (names[i] is the name of value i).
Status Enum(element e, const char* what, const char* (*name_of)(int64_t), int64_t* v) {
  if (e.get_int64().get(*v) == simdjson::SUCCESS) return Status::Ok();
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    for (int64_t i = 0; i < 32; ++i) {
      const char* n = name_of(i);
      if (n != nullptr && s == n) {
        *v = i;
        return Status::Ok();
      }
    }
  }
  return Bad(std::string(what) + " is not a known enum value");
}

const char* SeverityName(int64_t) { return nullptr; }  // severityNumber: integers only

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A hex id of `bytes` bytes (or empty) into lowercase hex; "" when all zero. False when malformed.
bool HexId(std::string_view s, size_t bytes, std::string* out) {
  if (s.empty()) return true;
  if (s.size() != bytes * 2) return false;
  bool zero = true;
  for (char c : s) {
    int n = HexNibble(c);
    if (n < 0) return false;
    zero = zero && n == 0;
  }
  if (zero) return true;
  for (char c : s) out->push_back("0123456789abcdef"[HexNibble(c)]);
  return true;
}

class JsonDecoder {
 public:
  JsonDecoder(const DecodeLimits& lim, DecodeResult* res) : lim_(lim), res_(res) {}

  Status AnyValue(element v, int depth, bool nested, std::string* out) {
    if (depth > lim_.max_depth)
      return InvalidArgument("attribute value nested deeper than " + std::to_string(lim_.max_depth) + " levels");
    object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return Bad("AnyValue is not an object");
    element e;
    std::string_view s;
    if (Find(o, "stringValue", "string_value", &e)) {
      RETURN_IF_ERROR(Str(e, "stringValue", &s));
      if (nested) {
        out->push_back('"');
        AppendJsonEscaped(out, s);
        out->push_back('"');
      } else {
        AppendUtf8(out, s);
      }
    } else if (Find(o, "boolValue", "bool_value", &e)) {
      bool b;
      if (e.get_bool().get(b) != simdjson::SUCCESS) return Bad("boolValue is not a boolean");
      out->append(b ? "true" : "false");
    } else if (Find(o, "intValue", "int_value", &e)) {
      int64_t i = 0;
      RETURN_IF_ERROR(I64(e, "intValue", &i));
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, i);
      out->append(buf, r.ptr);
    } else if (Find(o, "doubleValue", "double_value", &e)) {
      double d;
      if (e.get_double().get(d) != simdjson::SUCCESS) {
        if (e.get_string().get(s) != simdjson::SUCCESS) return Bad("doubleValue is not a number");
        if (s == "NaN") d = NAN;
        else if (s == "Infinity") d = INFINITY;
        else if (s == "-Infinity") d = -INFINITY;
        else return Bad("doubleValue is not a number");
      }
      bool quote = nested && !std::isfinite(d);
      if (quote) out->push_back('"');
      AppendDouble(out, d);
      if (quote) out->push_back('"');
    } else if (Find(o, "bytesValue", "bytes_value", &e)) {
      // Already base64 on the wire: keep it (validated as a string only).
      RETURN_IF_ERROR(Str(e, "bytesValue", &s));
      if (nested) out->push_back('"');
      AppendJsonEscaped(out, s);
      if (nested) out->push_back('"');
    } else if (Find(o, "arrayValue", "array_value", &e)) {
      object ao;
      array values;
      if (e.get_object().get(ao) != simdjson::SUCCESS) return Bad("arrayValue is not an object");
      out->push_back('[');
      element ve;
      if (Find(ao, "values", nullptr, &ve)) {
        if (ve.get_array().get(values) != simdjson::SUCCESS) return Bad("arrayValue.values is not an array");
        bool first = true;
        for (element x : values) {
          if (!first) out->push_back(',');
          first = false;
          RETURN_IF_ERROR(AnyValue(x, depth + 1, true, out));
        }
      }
      out->push_back(']');
    } else if (Find(o, "kvlistValue", "kvlist_value", &e)) {
      object ko;
      array values;
      if (e.get_object().get(ko) != simdjson::SUCCESS) return Bad("kvlistValue is not an object");
      out->push_back('{');
      element ve;
      if (Find(ko, "values", nullptr, &ve)) {
        if (ve.get_array().get(values) != simdjson::SUCCESS) return Bad("kvlistValue.values is not an array");
        bool first = true;
        for (element kv : values) {
          std::string_view key;
          element val;
          bool has_val = false;
          RETURN_IF_ERROR(SplitKeyValue(kv, &key, &val, &has_val));
          if (!first) out->push_back(',');
          first = false;
          out->push_back('"');
          AppendJsonEscaped(out, key);
          out->append("\":");
          if (has_val) {
            RETURN_IF_ERROR(AnyValue(val, depth + 1, true, out));
          } else {
            out->append("null");
          }
        }
      }
      out->push_back('}');
    } else if (nested) {
      out->append("null");
    }
    return Status::Ok();
  }

  Status SplitKeyValue(element kv, std::string_view* key, element* val, bool* has_val) {
    object o;
    if (kv.get_object().get(o) != simdjson::SUCCESS) return Bad("attribute is not an object");
    element k;
    *key = {};
    if (Find(o, "key", nullptr, &k)) RETURN_IF_ERROR(Str(k, "key", key));
    *has_val = Find(o, "value", nullptr, val);
    return Status::Ok();
  }

  // A list of KeyValue into the open row of m.
  Status Attributes(object parent, MapColumn* m) {
    element e;
    if (!Find(parent, "attributes", nullptr, &e)) return Status::Ok();
    array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) return Bad("attributes is not an array");
    size_t row_start = m->pairs();
    for (element kv : a) {
      std::string_view key;
      element val;
      bool has_val = false;
      RETURN_IF_ERROR(SplitKeyValue(kv, &key, &val, &has_val));
      if (m->pairs() - row_start >= lim_.max_attributes) {
        res_->truncated++;
        continue;
      }
      RETURN_IF_ERROR(AppendAttribute(m, key, lim_, &res_->truncated, [&](std::string* out) {
        return has_val ? AnyValue(val, 0, false, out) : Status::Ok();
      }));
    }
    return Status::Ok();
  }

  Status Resource(object rs, MapColumn* scratch, std::string* service) {
    element e;
    if (!Find(rs, "resource", nullptr, &e)) return Status::Ok();
    object ro;
    if (e.get_object().get(ro) != simdjson::SUCCESS) return Bad("resource is not an object");
    RETURN_IF_ERROR(Attributes(ro, scratch));
    for (size_t i = 0; i < scratch->pairs(); ++i)
      if (scratch->keys[i] == "service.name") service->assign(scratch->values[i]);
    return Status::Ok();
  }

  // Calls fn(object) for each element of the array member `camel`.
  template <typename F>
  Status Each(object o, const char* camel, const char* snake, F&& fn) {
    element e;
    if (!Find(o, camel, snake, &e)) return Status::Ok();
    array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) return Bad(std::string(camel) + " is not an array");
    for (element x : a) {
      object xo;
      if (x.get_object().get(xo) != simdjson::SUCCESS) return Bad(std::string(camel) + " holds a non-object");
      RETURN_IF_ERROR(fn(xo));
    }
    return Status::Ok();
  }

  void Reject(const std::string& why) {
    if (res_->first_error.empty()) res_->first_error = why;
    res_->rejected++;
  }

  Status Span(object s, const MapColumn& resource, std::string_view service, std::string_view scope_name,
              std::string_view scope_version, SpanBatch* b) {
    element e;
    std::string_view trace_id, span_id, parent, trace_state, name, status_message;
    uint64_t start = 0, end = 0;
    int64_t kind = 0, code = 0;
    if (Find(s, "traceId", "trace_id", &e)) RETURN_IF_ERROR(Str(e, "traceId", &trace_id));
    if (Find(s, "spanId", "span_id", &e)) RETURN_IF_ERROR(Str(e, "spanId", &span_id));
    if (Find(s, "parentSpanId", "parent_span_id", &e)) RETURN_IF_ERROR(Str(e, "parentSpanId", &parent));
    if (Find(s, "traceState", "trace_state", &e)) RETURN_IF_ERROR(Str(e, "traceState", &trace_state));
    if (Find(s, "name", nullptr, &e)) RETURN_IF_ERROR(Str(e, "name", &name));
    if (Find(s, "kind", nullptr, &e)) RETURN_IF_ERROR(Enum(e, "kind", SpanKindName, &kind));
    if (Find(s, "startTimeUnixNano", "start_time_unix_nano", &e)) RETURN_IF_ERROR(U64(e, "startTimeUnixNano", &start));
    if (Find(s, "endTimeUnixNano", "end_time_unix_nano", &e)) RETURN_IF_ERROR(U64(e, "endTimeUnixNano", &end));
    if (Find(s, "status", nullptr, &e)) {
      object so;
      if (e.get_object().get(so) != simdjson::SUCCESS) return Bad("status is not an object");
      if (Find(so, "message", nullptr, &e)) RETURN_IF_ERROR(Str(e, "status.message", &status_message));
      if (Find(so, "code", nullptr, &e)) RETURN_IF_ERROR(Enum(e, "status.code", StatusCodeName, &code));
    }
    // Ids first: a malformed one rejects this span only.
    size_t mark_t = b->trace_id.buf().size();
    std::string scratch;
    if (!HexId(trace_id, 16, &scratch) || !HexId(span_id, 8, &scratch) || !HexId(parent, 8, &scratch)) {
      Reject("span with a traceId/spanId/parentSpanId that is not 32/16/16 hex digits");
      return Status::Ok();
    }
    (void)mark_t;
    RETURN_IF_ERROR(Attributes(s, &b->span_attributes));
    size_t events = 0, links = 0;
    RETURN_IF_ERROR(Each(s, "events", nullptr, [&](object ev) -> Status {
      if (events++ >= lim_.max_events) {
        res_->truncated++;
        return Status::Ok();
      }
      element x;
      uint64_t ts = 0;
      std::string_view ename;
      if (Find(ev, "timeUnixNano", "time_unix_nano", &x)) RETURN_IF_ERROR(U64(x, "event.timeUnixNano", &ts));
      if (Find(ev, "name", nullptr, &x)) RETURN_IF_ERROR(Str(x, "event.name", &ename));
      RETURN_IF_ERROR(Attributes(ev, &b->event_attributes));
      b->event_attributes.EndRow();
      b->event_timestamp.push_back(static_cast<int64_t>(ts));
      AppendUtf8(&b->event_name.buf(), ename);
      b->event_name.Finish();
      return Status::Ok();
    }));
    RETURN_IF_ERROR(Each(s, "links", nullptr, [&](object lk) -> Status {
      if (links++ >= lim_.max_links) {
        res_->truncated++;
        return Status::Ok();
      }
      element x;
      std::string_view lt, ls, lstate;
      if (Find(lk, "traceId", "trace_id", &x)) RETURN_IF_ERROR(Str(x, "link.traceId", &lt));
      if (Find(lk, "spanId", "span_id", &x)) RETURN_IF_ERROR(Str(x, "link.spanId", &ls));
      if (Find(lk, "traceState", "trace_state", &x)) RETURN_IF_ERROR(Str(x, "link.traceState", &lstate));
      if (!HexId(lt, 16, &b->link_trace_id.buf()) || !HexId(ls, 8, &b->link_span_id.buf()))
        return Bad("link with a malformed traceId/spanId");
      RETURN_IF_ERROR(Attributes(lk, &b->link_attributes));
      b->link_attributes.EndRow();
      b->link_trace_id.Finish();
      b->link_span_id.Finish();
      AppendUtf8(&b->link_trace_state.buf(), lstate);
      b->link_trace_state.Finish();
      return Status::Ok();
    }));
    if (!scope_name.empty()) b->span_attributes.Put("otel.scope.name", scope_name);
    if (!scope_version.empty()) b->span_attributes.Put("otel.scope.version", scope_version);
    b->span_attributes.EndRow();
    b->events.Push(b->event_timestamp.size());
    b->links.Push(b->link_trace_id.size());

    b->timestamp.push_back(static_cast<int64_t>(start));
    HexId(trace_id, 16, &b->trace_id.buf());
    b->trace_id.Finish();
    HexId(span_id, 8, &b->span_id.buf());
    b->span_id.Finish();
    HexId(parent, 8, &b->parent_span_id.buf());
    b->parent_span_id.Finish();
    AppendUtf8(&b->trace_state.buf(), trace_state);
    b->trace_state.Finish();
    AppendUtf8(&b->span_name.buf(), name);
    b->span_name.Finish();
    AddEnum(&b->span_kind, SpanKindName(kind), kind);
    b->service_name.Add(service);
    for (size_t i = 0; i < resource.pairs(); ++i) b->resource_attributes.Put(resource.keys[i], resource.values[i]);
    b->resource_attributes.EndRow();
    b->duration.push_back(end >= start ? static_cast<int64_t>(end - start) : 0);
    AddEnum(&b->status_code, StatusCodeName(code), code);
    AppendUtf8(&b->status_message.buf(), status_message);
    b->status_message.Finish();
    res_->accepted++;
    return Status::Ok();
  }

  static void AddEnum(StringColumn* c, const char* name, int64_t v) {
    if (name != nullptr) {
      c->Add(name);
    } else {
      c->buf().append(std::to_string(v));
      c->Finish();
    }
  }

  Status LogRecord(object l, const MapColumn& resource, std::string_view service, LogBatch* b) {
    element e;
    uint64_t ts = 0, observed = 0, flags = 0;
    int64_t severity = 0;
    std::string_view text, trace_id, span_id;
    if (Find(l, "timeUnixNano", "time_unix_nano", &e)) RETURN_IF_ERROR(U64(e, "timeUnixNano", &ts));
    if (Find(l, "observedTimeUnixNano", "observed_time_unix_nano", &e))
      RETURN_IF_ERROR(U64(e, "observedTimeUnixNano", &observed));
    if (Find(l, "severityNumber", "severity_number", &e)) RETURN_IF_ERROR(Enum(e, "severityNumber", SeverityName, &severity));
    if (Find(l, "severityText", "severity_text", &e)) RETURN_IF_ERROR(Str(e, "severityText", &text));
    if (Find(l, "flags", nullptr, &e)) RETURN_IF_ERROR(U64(e, "flags", &flags));
    if (Find(l, "traceId", "trace_id", &e)) RETURN_IF_ERROR(Str(e, "traceId", &trace_id));
    if (Find(l, "spanId", "span_id", &e)) RETURN_IF_ERROR(Str(e, "spanId", &span_id));
    std::string scratch;
    if (!HexId(trace_id, 16, &scratch) || !HexId(span_id, 8, &scratch)) {
      Reject("log record with a traceId/spanId that is not 32/16 hex digits");
      return Status::Ok();
    }
    std::string& bb = b->body.buf();
    size_t bs = bb.size();
    if (Find(l, "body", nullptr, &e)) {
      Status st = AnyValue(e, 0, false, &bb);
      if (!st.ok()) {
        b->body.AbortPending();
        return st;
      }
      if (TruncateUtf8(&bb, bs, lim_.max_value_bytes)) res_->truncated++;
    }
    Status st = Attributes(l, &b->log_attributes);
    if (!st.ok()) {
      b->body.AbortPending();
      return st;
    }
    b->body.Finish();
    b->log_attributes.EndRow();
    b->timestamp.push_back(static_cast<int64_t>(ts != 0 ? ts : observed));
    HexId(trace_id, 16, &b->trace_id.buf());
    b->trace_id.Finish();
    HexId(span_id, 8, &b->span_id.buf());
    b->span_id.Finish();
    b->trace_flags.push_back(static_cast<uint32_t>(flags));
    AppendUtf8(&b->severity_text.buf(), text);
    b->severity_text.Finish();
    b->severity_number.push_back(static_cast<int32_t>(severity));
    b->service_name.Add(service);
    for (size_t i = 0; i < resource.pairs(); ++i) b->resource_attributes.Put(resource.keys[i], resource.values[i]);
    b->resource_attributes.EndRow();
    res_->accepted++;
    return Status::Ok();
  }

  Status Scope(object ss, std::string_view* name, std::string_view* version) {
    element e;
    if (!Find(ss, "scope", nullptr, &e)) return Status::Ok();
    object so;
    if (e.get_object().get(so) != simdjson::SUCCESS) return Bad("scope is not an object");
    if (Find(so, "name", nullptr, &e)) RETURN_IF_ERROR(Str(e, "scope.name", name));
    if (Find(so, "version", nullptr, &e)) RETURN_IF_ERROR(Str(e, "scope.version", version));
    return Status::Ok();
  }

  Status Traces(object root, SpanBatch* b) {
    return Each(root, "resourceSpans", "resource_spans", [&](object rs) -> Status {
      MapColumn resource;
      std::string service;
      RETURN_IF_ERROR(Resource(rs, &resource, &service));
      return Each(rs, "scopeSpans", "scope_spans", [&](object ss) -> Status {
        std::string_view scope_name, scope_version;
        RETURN_IF_ERROR(Scope(ss, &scope_name, &scope_version));
        return Each(ss, "spans", nullptr, [&](object sp) {
          return Span(sp, resource, service, scope_name, scope_version, b);
        });
      });
    });
  }

  Status Logs(object root, LogBatch* b) {
    return Each(root, "resourceLogs", "resource_logs", [&](object rl) -> Status {
      MapColumn resource;
      std::string service;
      RETURN_IF_ERROR(Resource(rl, &resource, &service));
      return Each(rl, "scopeLogs", "scope_logs", [&](object sl) -> Status {
        return Each(sl, "logRecords", "log_records", [&](object lr) { return LogRecord(lr, resource, service, b); });
      });
    });
  }

 private:
  const DecodeLimits& lim_;
  DecodeResult* res_;
};

// One parser per thread, reused across requests.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// A parser grown by one huge body is not kept for the thread's lifetime.
void ReleaseLargeParser() {
  if (ThreadParser().capacity() > (16u << 20)) ThreadParser() = simdjson::dom::parser();
}

// Parses body into a DOM with a bounded depth.
Status Parse(std::string_view body, object* root) {
  simdjson::dom::parser& parser = ThreadParser();
  if (parser.capacity() < body.size() || parser.max_depth() != kMaxJsonDepth) {
    if (parser.allocate(std::max<size_t>(body.size(), 4096), kMaxJsonDepth) != simdjson::SUCCESS)
      return ResourceExhausted("cannot allocate a JSON parser for " + std::to_string(body.size()) + " bytes");
  }
  element doc;
  auto err = parser.parse(body.data(), body.size(), true).get(doc);
  if (err != simdjson::SUCCESS) return Bad(simdjson::error_message(err));
  if (doc.get_object().get(*root) != simdjson::SUCCESS) return Bad("the document is not an object");
  return Status::Ok();
}

}  // namespace

StatusOr<DecodeResult> DecodeTracesJson(std::string_view body, const DecodeLimits& limits, SpanBatch* out) {
  DecodeResult res;
  object root;
  if (Status p = Parse(body, &root); !p.ok()) {
    ReleaseLargeParser();
    return p;
  }
  JsonDecoder d(limits, &res);
  Status st = d.Traces(root, out);
  ReleaseLargeParser();
  RETURN_IF_ERROR(st);
  return res;
}

StatusOr<DecodeResult> DecodeLogsJson(std::string_view body, const DecodeLimits& limits, LogBatch* out) {
  DecodeResult res;
  object root;
  if (Status p = Parse(body, &root); !p.ok()) {
    ReleaseLargeParser();
    return p;
  }
  JsonDecoder d(limits, &res);
  Status st = d.Logs(root, out);
  ReleaseLargeParser();
  RETURN_IF_ERROR(st);
  return res;
}

}  // namespace coroot::server::otlp
