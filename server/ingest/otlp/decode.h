#pragma once
// OTLP traces and logs (ExportTraceServiceRequest / ExportLogsServiceRequest), protobuf or JSON,
// decoded straight into columnar batches of otel_traces / otel_logs rows (spec §3.1):
//   ids lowercase hex ("" when absent or all zero); SpanKind/StatusCode as enum names;
//   attributes flattened to Map(String, String): strings as is, bools/ints/doubles as text, bytes
//   base64, arrays and kvlists JSON-encoded; otel.scope.name/version added to span attributes;
//   events and links as Nested arrays; a log's body in the same text form.
// Untrusted input: every read is bounded; malformed bodies are kInvalidArgument (→ HTTP 400), and
// rows with invalid ids are rejected one by one and reported (→ OTLP partial_success).
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "server/storage/clickhouse/batches.h"

namespace coroot::server::otlp {

struct DecodeLimits {
  size_t max_attributes = 256;         // pairs kept per map (resource, span, event, link, log); more are dropped
  size_t max_value_bytes = 64 * 1024;  // an attribute value or log body longer than this is cut (at a UTF-8 boundary)
  size_t max_key_bytes = 1024;         // attribute keys longer than this are cut
  int max_depth = 16;                  // nesting of arrays/kvlists inside a value; deeper is kInvalidArgument
  size_t max_events = 1024;            // events per span; more are dropped
  size_t max_links = 1024;             // links per span; more are dropped
};

struct DecodeResult {
  uint64_t accepted = 0;    // rows added to the batch
  uint64_t rejected = 0;    // rows refused (→ partial_success.rejected_spans / rejected_log_records)
  uint64_t truncated = 0;   // attributes, events, links dropped or values cut by the limits
  std::string first_error;  // why the first row was rejected (→ partial_success.error_message)
};

// On error the batch may hold part of the request: decode into a fresh batch and append it elsewhere.
StatusOr<DecodeResult> DecodeTracesProto(std::string_view body, const DecodeLimits& limits,
                                         storage::SpanBatch* out);
StatusOr<DecodeResult> DecodeLogsProto(std::string_view body, const DecodeLimits& limits, storage::LogBatch* out);

// OTLP/JSON (protobuf JSON mapping with OTLP's rules: hex ids, enums as integers or names, 64-bit
// integers as strings or numbers; lowerCamelCase keys, snake_case accepted too).
StatusOr<DecodeResult> DecodeTracesJson(std::string_view body, const DecodeLimits& limits,
                                        storage::SpanBatch* out);
StatusOr<DecodeResult> DecodeLogsJson(std::string_view body, const DecodeLimits& limits, storage::LogBatch* out);

// Helpers shared by both decoders (exposed for tests).
const char* SpanKindName(int64_t kind);      // "SPAN_KIND_SERVER"; unknown values as their number
const char* StatusCodeName(int64_t code);    // "STATUS_CODE_ERROR"
// Shortest text that reads back as the same double; exponent form below 1e-6 and from 1e21 on;
// "NaN", "+Inf", "-Inf" for the non-finite values.
void AppendDouble(std::string* out, double v);
void AppendBase64(std::string* out, std::string_view bytes);
// Appends s, replacing each invalid UTF-8 sequence with U+FFFD.
void AppendUtf8(std::string* out, std::string_view s);
// Appends s as the inside of a JSON string (escaped; invalid UTF-8 replaced).
void AppendJsonEscaped(std::string* out, std::string_view s);
// Cuts out back to at most `max` bytes past `start`, at a UTF-8 character boundary. True if cut.
bool TruncateUtf8(std::string* out, size_t start, size_t max);

// One attribute into a map column with the limits applied: key and value are cut at UTF-8
// boundaries (each cut counted in *truncated). write_value(std::string*) appends the value's text;
// when it fails, the pair is taken back and its error returned.
template <typename WriteValue>
Status AppendAttribute(storage::MapColumn* m, std::string_view key, const DecodeLimits& lim, uint64_t* truncated,
                       WriteValue&& write_value) {
  std::string& kb = m->keys.buf();
  const size_t ks = kb.size();
  AppendUtf8(&kb, key);
  if (TruncateUtf8(&kb, ks, lim.max_key_bytes)) ++*truncated;
  std::string& vb = m->values.buf();
  const size_t vs = vb.size();
  if (Status st = write_value(&vb); !st.ok()) {
    m->keys.AbortPending();
    m->values.AbortPending();
    return st;
  }
  if (TruncateUtf8(&vb, vs, lim.max_value_bytes)) ++*truncated;
  m->keys.Finish();
  m->values.Finish();
  return Status::Ok();
}

}  // namespace coroot::server::otlp
