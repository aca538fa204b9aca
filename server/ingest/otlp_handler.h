#pragma once
// POST /v1/traces and /v1/logs: OTLP/HTTP with protobuf or JSON bodies.
//   X-Api-Key → project (unknown key: 404 "project not found", as /v1/metrics);
//   Content-Type application/x-protobuf (or application/protobuf) or application/json, else 415;
//   Content-Encoding none/gzip/deflate/zlib/zstd/snappy, decompressed size bounded (413 past it);
//   malformed body: 400 with a google.rpc.Status in the request's content type;
//   ingestion buffer full: 429 with Retry-After;
//   success: ExportTraceServiceResponse / ExportLogsServiceResponse, with partial_success when
//   rows were rejected.
#include <atomic>
#include <functional>
#include <string>

#include "lib/http/message.h"
#include "lib/prom/metric.h"
#include "server/ingest/otlp/decode.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_wal.h"
#include "server/storage/clickhouse/otel_writer.h"

namespace coroot::server {

struct OtlpHandlerOptions {
  size_t max_decoded_bytes = 64u << 20;  // after Content-Encoding
  otlp::DecodeLimits limits;
  int retry_after_seconds = 5;
  // The ClickHouse database of a project.
  std::function<std::string(const Project&)> database_of;
  // When set, a request is logged to disk before it is acknowledged (see otel_wal.h).
  storage::OtelWal* wal = nullptr;
  // When set and true, requests are refused with 429: the previous run's WAL is being queued for
  // ClickHouse, and it goes first (it was acknowledged long ago).
  const std::atomic<bool>* replaying = nullptr;
};

// What one export request came to, in both transports' terms.
struct IngestOutcome {
  int http_status = 200;
  int grpc_code = 0;         // google.rpc.Code
  std::string message;       // the error, when not OK
  uint64_t rejected = 0;     // rows refused (partial success)
  std::string first_error;   // why (partial success)
};

class OtlpHandler : public prom::ICollector {
 public:
  OtlpHandler(ProjectStore* projects, storage::OtelWriter* writer, OtlpHandlerOptions options)
      : projects_(projects), writer_(writer), opt_(std::move(options)) {}

  void HandleTraces(const http::Request& req, http::Response* resp);
  void HandleLogs(const http::Request& req, http::Response* resp);
  // The transport-independent part (also used by OTLP/gRPC): API key → project, decode the
  // (already decompressed) body, hand the rows to the writer.
  IngestOutcome Ingest(bool logs, const std::string& api_key, std::string_view body, bool json);
  void Collect(std::vector<prom::MetricFamily>* out) override;

 private:
  enum Signal { kTraces = 0, kLogs = 1 };
  IngestOutcome Fail(Signal signal, int http_status, int grpc_code, const std::string& message);
  void Handle(Signal signal, const http::Request& req, http::Response* resp);

  ProjectStore* projects_;
  storage::OtelWriter* writer_;
  OtlpHandlerOptions opt_;
  struct Counters {
    std::atomic<uint64_t> accepted{0}, rows{0}, rejected_rows{0}, truncated{0}, unknown_key{0}, invalid{0},
        unsupported{0}, too_large{0}, backpressure{0}, storage_error{0};
  };
  Counters counters_[2];
};

// The OTLP response bodies (exposed for tests): protobuf or JSON per `json`.
std::string ExportResponse(bool logs, bool json, uint64_t rejected, const std::string& error_message);
// google.rpc.Status { int32 code = 1; string message = 2; }
std::string RpcStatusBody(bool json, int grpc_code, const std::string& message);

}  // namespace coroot::server
