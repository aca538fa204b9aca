#include "server/ingest/otlp_grpc.h"

#include <grpcpp/grpcpp.h>

#include "lib/base/log.h"
#include "lib/http/server.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace coroot::server {

namespace {

using LogsService = opentelemetry::proto::collector::logs::v1::LogsService;
using TraceService = opentelemetry::proto::collector::trace::v1::TraceService;

std::string ApiKey(const grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("x-api-key");
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// Runs one Export: raw request bytes in, raw response bytes out.
grpc::ServerUnaryReactor* Export(OtlpHandler* handler, bool logs, grpc::CallbackServerContext* ctx,
                                 const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::string body;
  std::vector<grpc::Slice> slices;
  if (!request->Dump(&slices).ok()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the request"));
    return reactor;
  }
  body.reserve(request->Length());
  for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
  IngestOutcome out = handler->Ingest(logs, ApiKey(ctx), body, false);
  if (out.grpc_code != 0) {
    std::string msg = out.message;
    if (out.grpc_code == 8) msg += " (retry later)";
    reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(out.grpc_code), msg));
    return reactor;
  }
  std::string resp = ExportResponse(logs, false, out.rejected, out.first_error);
  grpc::Slice slice(resp);
  *response = grpc::ByteBuffer(&slice, 1);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

class TraceServiceImpl final : public TraceService::WithRawCallbackMethod_Export<TraceService::Service> {
 public:
  explicit TraceServiceImpl(OtlpHandler* h) : handler_(h) {}
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                   grpc::ByteBuffer* resp) override {
    return server::Export(handler_, false, ctx, req, resp);
  }

 private:
  OtlpHandler* handler_;
};

class LogsServiceImpl final : public LogsService::WithRawCallbackMethod_Export<LogsService::Service> {
 public:
  explicit LogsServiceImpl(OtlpHandler* h) : handler_(h) {}
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                   grpc::ByteBuffer* resp) override {
    return server::Export(handler_, true, ctx, req, resp);
  }

 private:
  OtlpHandler* handler_;
};

}  // namespace

struct OtlpGrpcServer::Impl {
  Impl(OtlpHandler* h, size_t max) : traces(h), logs(h), max_message_bytes(max) {}
  TraceServiceImpl traces;
  LogsServiceImpl logs;
  size_t max_message_bytes;
  std::unique_ptr<grpc::Server> server;
};

OtlpGrpcServer::OtlpGrpcServer(OtlpHandler* handler, size_t max_message_bytes)
    : impl_(std::make_unique<Impl>(handler, max_message_bytes)) {}

OtlpGrpcServer::~OtlpGrpcServer() { Stop(); }

Status OtlpGrpcServer::Start(const std::string& listen) {
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(http::ParseHostPort(listen, &host, &port));
  std::string addr = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  grpc::ServerBuilder b;
  int selected = 0;
  b.AddListeningPort(addr, grpc::InsecureServerCredentials(), &selected);
  b.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(impl_->max_message_bytes, INT32_MAX)));
  b.RegisterService(&impl_->traces);
  b.RegisterService(&impl_->logs);
  impl_->server = b.BuildAndStart();
  if (!impl_->server || selected == 0) {
    impl_->server.reset();
    return Unavailable("OTLP/gRPC cannot listen on " + addr);
  }
  port_ = selected;
  LOG(INFO) << "OTLP/gRPC listening on " << addr << " (port " << port_ << ")";
  return Status::Ok();
}

void OtlpGrpcServer::Stop() {
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace coroot::server
