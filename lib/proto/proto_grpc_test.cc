// The generated gRPC stubs link and serve the OTLP Export methods in-process.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace {

namespace tracesvc = opentelemetry::proto::collector::trace::v1;
namespace logssvc = opentelemetry::proto::collector::logs::v1;

class TraceImpl final : public tracesvc::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* ctx, const tracesvc::ExportTraceServiceRequest* req,
                      tracesvc::ExportTraceServiceResponse* resp) override {
    method = "trace";
    resp->mutable_partial_success()->set_rejected_spans(req->resource_spans_size());
    return grpc::Status::OK;
  }
  std::string method;
};

class LogsImpl final : public logssvc::LogsService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* ctx, const logssvc::ExportLogsServiceRequest* req,
                      logssvc::ExportLogsServiceResponse* resp) override {
    resp->mutable_partial_success()->set_error_message("got " + std::to_string(req->resource_logs_size()));
    return grpc::Status::OK;
  }
};

TEST(ProtoGrpc, InProcessExport) {
  TraceImpl trace;
  LogsImpl logs;
  grpc::ServerBuilder builder;
  builder.RegisterService(&trace);
  builder.RegisterService(&logs);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel = server->InProcessChannel(grpc::ChannelArguments());

  auto tstub = tracesvc::TraceService::NewStub(channel);
  tracesvc::ExportTraceServiceRequest treq;
  treq.add_resource_spans();
  treq.add_resource_spans();
  tracesvc::ExportTraceServiceResponse tresp;
  grpc::ClientContext tctx;
  ASSERT_TRUE(tstub->Export(&tctx, treq, &tresp).ok());
  EXPECT_EQ(trace.method, "trace");
  EXPECT_EQ(tresp.partial_success().rejected_spans(), 2);

  auto lstub = logssvc::LogsService::NewStub(channel);
  logssvc::ExportLogsServiceRequest lreq;
  lreq.add_resource_logs();
  logssvc::ExportLogsServiceResponse lresp;
  grpc::ClientContext lctx;
  ASSERT_TRUE(lstub->Export(&lctx, lreq, &lresp).ok());
  EXPECT_EQ(lresp.partial_success().error_message(), "got 1");

  server->Shutdown();
}

}  // namespace
