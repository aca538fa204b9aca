#pragma once
// OTLP/gRPC on --grpc-listen (:4317): TraceService/Export and LogsService/Export. The API key comes
// from the `x-api-key` metadata. Requests are taken as raw bytes (no generated message objects) and
// go through the same decoder and writer as OTLP/HTTP; status codes: unknown key NOT_FOUND,
// malformed INVALID_ARGUMENT, full buffer RESOURCE_EXHAUSTED (with retry info in the message).
#include <memory>
#include <string>

#include "lib/base/status.h"
#include "server/ingest/otlp_handler.h"

namespace coroot::server {

class OtlpGrpcServer {
 public:
  OtlpGrpcServer(OtlpHandler* handler, size_t max_message_bytes);
  ~OtlpGrpcServer();
  // listen: "host:port" (":4317" = all interfaces; port 0 picks a free one).
  Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace coroot::server
