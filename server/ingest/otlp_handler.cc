#include "server/ingest/otlp_handler.h"

#include "lib/base/strings.h"
#include "lib/compress/compress.h"
#include "lib/protowire/wire.h"

namespace coroot::server {

namespace {

constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;

const char* kProtoType = "application/x-protobuf";
const char* kJsonType = "application/json";

IngestOutcome ErrorOutcome(int http_status, int grpc_code, std::string message) {
  IngestOutcome o;
  o.http_status = http_status;
  o.grpc_code = grpc_code;
  o.message = std::move(message);
  return o;
}

}  // namespace

std::string ExportResponse(bool logs, bool json, uint64_t rejected, const std::string& error_message) {
  if (json) {
    if (rejected == 0 && error_message.empty()) return "{}";
    return std::string("{\"partialSuccess\":{\"") + (logs ? "rejectedLogRecords" : "rejectedSpans") + "\":\"" +
           std::to_string(rejected) + "\",\"errorMessage\":\"" + JsonEscape(error_message) + "\"}}";
  }
  if (rejected == 0 && error_message.empty()) return "";
  // Export*ServiceResponse { Export*PartialSuccess partial_success = 1; }
  // Export*PartialSuccess { int64 rejected_* = 1; string error_message = 2; }
  protowire::Writer ps;
  if (rejected != 0) ps.VarintField(1, rejected);
  if (!error_message.empty()) ps.BytesField(2, error_message);
  protowire::Writer out;
  out.MessageField(1, ps);
  return out.out();
}

std::string RpcStatusBody(bool json, int grpc_code, const std::string& message) {
  if (json) return "{\"code\":" + std::to_string(grpc_code) + ",\"message\":\"" + JsonEscape(message) + "\"}";
  protowire::Writer w;
  w.VarintField(1, static_cast<uint64_t>(grpc_code));
  w.BytesField(2, message);
  return w.out();
}

void OtlpHandler::HandleTraces(const http::Request& req, http::Response* resp) { Handle(kTraces, req, resp); }
void OtlpHandler::HandleLogs(const http::Request& req, http::Response* resp) { Handle(kLogs, req, resp); }

IngestOutcome OtlpHandler::Ingest(bool logs, const std::string& api_key, std::string_view body, bool json) {
  Signal signal = logs ? kLogs : kTraces;
  Counters& c = counters_[signal];
  IngestOutcome out;
  auto project = projects_->FindByApiKey(api_key);
  if (!project.ok()) {
    c.unknown_key++;
    return ErrorOutcome(404, kGrpcNotFound, project.status().message());
  }
  if (opt_.replaying != nullptr && opt_.replaying->load()) {
    c.backpressure++;
    return ErrorOutcome(429, kGrpcResourceExhausted,
                        "requests accepted before the restart are being queued for ClickHouse; retry later");
  }
  // A full buffer refuses before decoding: the client sends the same body again later, and
  // decoding it now would be wasted work while ClickHouse catches up. A lower bound of the decoded
  // size: protobuf rows take at least the body's bytes (ids become hex, every string gets an end
  // offset); JSON's syntax and names fall away, so a quarter of its body.
  if (!writer_->HasRoomFor(json ? body.size() / 4 : body.size())) {
    c.backpressure++;
    return ErrorOutcome(429, kGrpcResourceExhausted,
                        "the ingestion buffer is full (" + std::to_string(writer_->buffered_bytes() >> 20) +
                            " MiB waiting for ClickHouse); retry later");
  }
  StatusOr<otlp::DecodeResult> result = otlp::DecodeResult();
  storage::SpanBatch spans;
  storage::LogBatch log_rows;
  if (!logs) {
    result = json ? otlp::DecodeTracesJson(body, opt_.limits, &spans) : otlp::DecodeTracesProto(body, opt_.limits, &spans);
  } else {
    result = json ? otlp::DecodeLogsJson(body, opt_.limits, &log_rows) : otlp::DecodeLogsProto(body, opt_.limits, &log_rows);
  }
  if (!result.ok()) {
    c.invalid++;
    bool big = result.status().code() == StatusCode::kResourceExhausted;
    return ErrorOutcome(big ? 413 : 400, kGrpcInvalidArgument, result.status().message());
  }
  std::string database = opt_.database_of(*project);
  uint64_t segment = 0;
  if (opt_.wal != nullptr && result->accepted > 0) {
    storage::WalRecord rec{logs, json, database, std::string(body)};
    auto seg = opt_.wal->Append(rec, result->accepted);
    if (!seg.ok()) {
      if (seg.status().code() == StatusCode::kResourceExhausted) {
        c.backpressure++;
        return ErrorOutcome(429, kGrpcResourceExhausted, seg.status().message());
      }
      c.storage_error++;
      return ErrorOutcome(503, kGrpcUnavailable, seg.status().message());
    }
    segment = *seg;
  }
  Status st = !logs ? writer_->AddSpans(database, &spans, segment) : writer_->AddLogs(database, &log_rows, segment);
  if (!st.ok() && segment != 0) opt_.wal->Release({{segment, result->accepted}});
  if (!st.ok()) {
    if (st.code() == StatusCode::kResourceExhausted) {
      c.backpressure++;
      return ErrorOutcome(429, kGrpcResourceExhausted, st.message());
    }
    c.storage_error++;
    return ErrorOutcome(503, kGrpcUnavailable, st.message());
  }
  c.accepted++;
  c.rows += result->accepted;
  c.rejected_rows += result->rejected;
  c.truncated += result->truncated;
  out.rejected = result->rejected;
  out.first_error = result->first_error;
  return out;
}

IngestOutcome OtlpHandler::Fail(Signal signal, int http_status, int grpc_code, const std::string& message) {
  Counters& c = counters_[signal];
  if (http_status == 413) {
    c.too_large++;
  } else if (http_status == 415) {
    c.unsupported++;
  } else {
    c.invalid++;
  }
  return ErrorOutcome(http_status, grpc_code, message);
}

void OtlpHandler::Handle(Signal signal, const http::Request& req, http::Response* resp) {
  std::string type = ToLower(Trim(req.Header("Content-Type")));
  if (auto semi = type.find(';'); semi != std::string::npos) type = Trim(type.substr(0, semi));
  const bool json = type == kJsonType;
  IngestOutcome out;
  std::string encoding = ToLower(Trim(req.Header("Content-Encoding")));
  std::string_view body = req.body;  // identity: decoded in place, no copy
  StatusOr<std::string> raw = std::string();
  if (!json && type != kProtoType && type != "application/protobuf") {
    out = Fail(signal, 415, kGrpcInvalidArgument,
               "unsupported Content-Type '" + type + "': use application/x-protobuf or application/json");
  } else if (!encoding.empty() && encoding != "identity") {
    raw = compress::DecodeContentEncoding(encoding, req.body, opt_.max_decoded_bytes);
    if (raw.ok()) {
      body = *raw;
    } else if (raw.status().code() == StatusCode::kResourceExhausted) {
      out = Fail(signal, 413, kGrpcInvalidArgument, raw.status().message());
    } else if (raw.status().message().find("unsupported") != std::string::npos) {
      out = Fail(signal, 415, kGrpcInvalidArgument, raw.status().message());
    } else {
      out = Fail(signal, 400, kGrpcInvalidArgument, raw.status().message());
    }
  } else if (body.size() > opt_.max_decoded_bytes) {
    out = Fail(signal, 413, kGrpcInvalidArgument,
               "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                   std::to_string(opt_.max_decoded_bytes));
  }
  if (out.http_status == 200) out = Ingest(signal == kLogs, req.Header("X-Api-Key"), body, json);
  resp->SetHeader("Content-Type", json ? kJsonType : kProtoType);
  resp->status = out.http_status;
  if (out.http_status == 200) {
    resp->body = ExportResponse(signal == kLogs, json, out.rejected, out.first_error);
    return;
  }
  resp->body = RpcStatusBody(json, out.grpc_code, out.message);
  if (out.http_status == 429 || out.http_status == 503)
    resp->SetHeader("Retry-After", std::to_string(opt_.retry_after_seconds));
}

void OtlpHandler::Collect(std::vector<prom::MetricFamily>* out) {
  prom::MetricFamily req("coroot_ingest_otlp_requests_total", prom::MetricType::kCounter,
                         "OTLP/HTTP requests on /v1/traces and /v1/logs, by signal and outcome");
  prom::MetricFamily rows("coroot_ingest_otlp_rows_total", prom::MetricType::kCounter,
                          "Spans and log records received, by signal and outcome");
  prom::MetricFamily trunc("coroot_ingest_otlp_truncated_total", prom::MetricType::kCounter,
                           "Attributes, events, links dropped or values cut by the decode limits");
  for (int s = 0; s < 2; ++s) {
    const Counters& c = counters_[s];
    std::string sig = s == kTraces ? "traces" : "logs";
    req.Add({{"signal", sig}, {"outcome", "accepted"}}, static_cast<double>(c.accepted.load()));
    req.Add({{"signal", sig}, {"outcome", "unknown_api_key"}}, static_cast<double>(c.unknown_key.load()));
    req.Add({{"signal", sig}, {"outcome", "invalid"}}, static_cast<double>(c.invalid.load()));
    req.Add({{"signal", sig}, {"outcome", "unsupported"}}, static_cast<double>(c.unsupported.load()));
    req.Add({{"signal", sig}, {"outcome", "too_large"}}, static_cast<double>(c.too_large.load()));
    req.Add({{"signal", sig}, {"outcome", "backpressure"}}, static_cast<double>(c.backpressure.load()));
    req.Add({{"signal", sig}, {"outcome", "storage_error"}}, static_cast<double>(c.storage_error.load()));
    rows.Add({{"signal", sig}, {"outcome", "accepted"}}, static_cast<double>(c.rows.load()));
    rows.Add({{"signal", sig}, {"outcome", "rejected"}}, static_cast<double>(c.rejected_rows.load()));
    trunc.Add({{"signal", sig}}, static_cast<double>(c.truncated.load()));
  }
  out->push_back(std::move(req));
  out->push_back(std::move(rows));
  out->push_back(std::move(trunc));
}

}  // namespace coroot::server
