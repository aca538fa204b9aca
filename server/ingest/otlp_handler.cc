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

void OtlpHandler::Handle(Signal signal, const http::Request& req, http::Response* resp) {
  Counters& c = counters_[signal];
  std::string type = ToLower(Trim(req.Header("Content-Type")));
  if (auto semi = type.find(';'); semi != std::string::npos) type = Trim(type.substr(0, semi));
  bool json = type == kJsonType;
  auto reply = [&](int http_status, int grpc_code, const std::string& message) {
    resp->status = http_status;
    resp->body = RpcStatusBody(json, grpc_code, message);
    resp->SetHeader("Content-Type", json ? kJsonType : kProtoType);
  };

  auto project = projects_->FindByApiKey(req.Header("X-Api-Key"));
  if (!project.ok()) {
    c.unknown_key++;
    reply(404, kGrpcNotFound, project.status().message());
    return;
  }
  if (!json && type != kProtoType && type != "application/protobuf") {
    c.unsupported++;
    json = false;
    *resp = http::Response::Text(415, "unsupported Content-Type '" + type +
                                          "': use application/x-protobuf or application/json");
    return;
  }
  std::string encoding = ToLower(Trim(req.Header("Content-Encoding")));
  std::string_view body = req.body;  // identity: decoded in place, no copy
  StatusOr<std::string> raw = std::string();
  if (!encoding.empty() && encoding != "identity") {
    raw = compress::DecodeContentEncoding(encoding, req.body, opt_.max_decoded_bytes);
    if (raw.ok()) body = *raw;
  } else if (body.size() > opt_.max_decoded_bytes) {
    raw = ResourceExhausted("body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                            std::to_string(opt_.max_decoded_bytes));
  }
  if (!raw.ok()) {
    if (raw.status().code() == StatusCode::kResourceExhausted) {
      c.too_large++;
      reply(413, kGrpcInvalidArgument, raw.status().message());
    } else if (raw.status().code() == StatusCode::kUnimplemented ||
               raw.status().message().find("unsupported") != std::string::npos) {
      c.unsupported++;
      reply(415, kGrpcInvalidArgument, raw.status().message());
    } else {
      c.invalid++;
      reply(400, kGrpcInvalidArgument, raw.status().message());
    }
    return;
  }

  StatusOr<otlp::DecodeResult> result = otlp::DecodeResult();
  storage::SpanBatch spans;
  storage::LogBatch logs;
  if (signal == kTraces) {
    result = json ? otlp::DecodeTracesJson(body, opt_.limits, &spans) : otlp::DecodeTracesProto(body, opt_.limits, &spans);
  } else {
    result = json ? otlp::DecodeLogsJson(body, opt_.limits, &logs) : otlp::DecodeLogsProto(body, opt_.limits, &logs);
  }
  if (!result.ok()) {
    c.invalid++;
    bool big = result.status().code() == StatusCode::kResourceExhausted;
    reply(big ? 413 : 400, kGrpcInvalidArgument, result.status().message());
    return;
  }
  std::string database = opt_.database_of(*project);
  Status st = signal == kTraces ? writer_->AddSpans(database, &spans) : writer_->AddLogs(database, &logs);
  if (!st.ok()) {
    if (st.code() == StatusCode::kResourceExhausted) {
      c.backpressure++;
      reply(429, kGrpcResourceExhausted, st.message());
    } else {
      c.storage_error++;
      reply(503, kGrpcUnavailable, st.message());
    }
    resp->SetHeader("Retry-After", std::to_string(opt_.retry_after_seconds));
    return;
  }
  c.accepted++;
  c.rows += result->accepted;
  c.rejected_rows += result->rejected;
  c.truncated += result->truncated;
  resp->status = 200;
  resp->body = ExportResponse(signal == kLogs, json, result->rejected, result->first_error);
  resp->SetHeader("Content-Type", json ? kJsonType : kProtoType);
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
