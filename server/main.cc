// coroot: the server. Ingests agents' metrics (remote write → Prometheus), will store logs,
// traces and profiles in ClickHouse, and serves the API and UI.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "lib/base/file.h"
#include "lib/base/log.h"
#include "lib/clickhouse/factory.h"
#include "lib/http/server.h"
#include "lib/prom/exposition.h"
#include "server/api/profiles_api.h"
#include "server/api/telemetry_api.h"
#include "server/auth/access.h"
#include "server/config/config.h"
#include "server/ingest/metrics_handler.h"
#include "server/ingest/otlp_grpc.h"
#include "server/ingest/otlp_handler.h"
#include "server/ingest/profiles_handler.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/space_manager.h"
#include "server/storage/prom/remote_write_forwarder.h"
#include "server/version.h"

using namespace coroot;

namespace {

void WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  LOG(INFO) << "received signal " << sig << ", stopping";
}

std::string JoinPath(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + path;
}

// Queues every request of the WAL (accepted by a previous run, not yet in ClickHouse) for the
// writer, waiting for buffer room as long as it takes (until `stopping`: a record not queued stays
// held, and its segment is replayed at the next start).
void ReplayWal(server::storage::OtelWal* wal, server::storage::OtelWriter* writer,
               const server::otlp::DecodeLimits& limits, const std::atomic<bool>& stopping) {
  uint64_t replayed = 0;
  Status replay = wal->Replay([&](uint64_t seg, server::storage::WalRecord r) {
    server::storage::SpanBatch spans;
    server::storage::LogBatch logs;
    auto res = r.logs ? (r.json ? server::otlp::DecodeLogsJson(r.body, limits, &logs)
                                : server::otlp::DecodeLogsProto(r.body, limits, &logs))
                      : (r.json ? server::otlp::DecodeTracesJson(r.body, limits, &spans)
                                : server::otlp::DecodeTracesProto(r.body, limits, &spans));
    if (!res.ok() || res->accepted == 0) return;
    wal->Hold(seg, res->accepted);
    replayed += res->accepted;
    while (!stopping) {
      Status st = r.logs ? writer->AddLogs(r.database, &logs, seg) : writer->AddSpans(r.database, &spans, seg);
      if (st.ok()) break;
      if (st.code() != StatusCode::kResourceExhausted) {
        LOG(ERROR) << "WAL replay: " << st.ToString();
        break;  // still held: the segment stays for the next start
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  if (!replay.ok()) {
    LOG(ERROR) << replay.ToString();
  }
  if (replayed > 0) {
    LOG(INFO) << "WAL: " << replayed << " rows from the previous run queued for ClickHouse";
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Block termination signals in every thread; the main thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  server::Config cfg;
  FlagSet flags("coroot");
  server::RegisterFlags(&flags, &cfg);
  bool help = false, version = false;
  flags.Bool("version", "", &version, false, "print the version and exit");
  if (auto st = flags.Parse(argc, argv, &help); !st.ok()) {
    std::cerr << "coroot: " << st.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (help) {
    std::cout << flags.Usage();
    return 0;
  }
  if (version) {
    std::cout << server::kVersion << "\n";
    return 0;
  }

  if (auto st = MakeDirs(cfg.data_dir); !st.ok()) {
    LOG(ERROR) << st.ToString();
    return 1;
  }
  auto projects = server::ProjectStore::Open(cfg.data_dir + "/db.sqlite");
  if (!projects.ok()) {
    LOG(ERROR) << projects.status().ToString();
    return 1;
  }
  if (!cfg.bootstrap_prometheus_url.empty()) {
    if (auto st = (*projects)->Bootstrap(cfg.bootstrap_prometheus_url, cfg.bootstrap_remote_write_url); !st.ok()) {
      LOG(ERROR) << "bootstrap: " << st.ToString();
      return 1;
    }
  }

  // Users and sessions: who may use the read API besides holders of an API key.
  auto users = server::auth::UserStore::Open(cfg.data_dir + "/db.sqlite");
  if (!users.ok()) {
    LOG(ERROR) << users.status().ToString();
    return 1;
  }
  if (auto st = (*users)->Bootstrap(cfg.auth_bootstrap_admin_password); !st.ok()) {
    LOG(ERROR) << "bootstrap admin: " << st.ToString();
    return 1;
  }
  auto secret = (*users)->Secret();
  if (!secret.ok()) {
    LOG(ERROR) << secret.status().ToString();
    return 1;
  }
  server::auth::Access access(projects->get(), users->get(), *secret, cfg.auth_anonymous_role);
  auto project_of = [&access](const http::Request& req) { return access.ReadProject(req); };

  server::RemoteWriteForwarder forwarder;
  auto metrics = std::make_shared<server::MetricsHandler>(projects->get(), &forwarder,
                                                          static_cast<size_t>(cfg.max_request_body) * 8);
  prom::Registry self_metrics;
  self_metrics.Register(metrics);

  // Logs and traces: ClickHouse, embedded (libchdb, under --data-dir) unless an address is configured.
  clickhouse::Options ch_opts;
  ch_opts.address = cfg.bootstrap_clickhouse_address;
  ch_opts.user = cfg.bootstrap_clickhouse_user;
  ch_opts.password = cfg.bootstrap_clickhouse_password;
  ch_opts.database = cfg.bootstrap_clickhouse_database;
  ch_opts.data_dir = cfg.data_dir + "/clickhouse";
  auto ch = clickhouse::Connect(ch_opts);
  if (!ch.ok()) {
    LOG(ERROR) << "ClickHouse unavailable, /v1/traces and /v1/logs will answer 503: " << ch.status().ToString();
  }
  std::unique_ptr<clickhouse::IClickHouseClient> ch_client = ch.ok() ? std::move(*ch) : nullptr;
  const bool remote_ch = !cfg.bootstrap_clickhouse_address.empty();
  auto database_of = [remote_ch, &cfg](const server::Project& p) {
    return remote_ch && !cfg.bootstrap_clickhouse_database.empty() ? cfg.bootstrap_clickhouse_database
                                                                   : server::storage::ProjectDatabase(p.id);
  };
  std::unique_ptr<server::storage::OtelWal> wal;
  std::unique_ptr<server::storage::OtelWriter> otel_writer;
  std::shared_ptr<server::OtlpHandler> otlp;
  std::unique_ptr<server::TelemetryApi> telemetry;
  std::shared_ptr<server::ProfilesHandler> profiles;
  std::unique_ptr<server::ProfilesApi> profiles_api;
  std::unique_ptr<server::storage::SpaceManager> space_manager;
  // True until the previous run's WAL is queued for ClickHouse; OTLP requests get 429 meanwhile.
  std::atomic<bool> replaying{false}, stopping{false};
  server::otlp::DecodeLimits otlp_limits;
  if (ch_client) {
    server::storage::WalOptions wal_opts;
    wal_opts.dir = cfg.data_dir + "/otlp-wal";
    wal_opts.max_bytes = cfg.ingest_wal_size;
    wal_opts.segment_bytes = std::min<uint64_t>(wal_opts.segment_bytes, std::max<uint64_t>(cfg.ingest_wal_size / 8, 1));
    auto opened_wal = server::storage::OtelWal::Open(wal_opts);
    if (!opened_wal.ok()) {
      LOG(ERROR) << opened_wal.status().ToString();
      return 1;
    }
    wal = std::move(*opened_wal);
    server::storage::OtelWriterOptions wo;
    wo.max_buffer_bytes = static_cast<size_t>(cfg.ingest_buffer_size);
    wo.traces_ttl = cfg.traces_ttl;
    wo.logs_ttl = cfg.logs_ttl;
    wo.profiles_ttl = cfg.profiles_ttl;
    wo.on_stored = [w = wal.get()](const std::map<uint64_t, uint64_t>& rows) { w->Release(rows); };
    otel_writer = std::make_unique<server::storage::OtelWriter>(ch_client.get(), wo);
    std::shared_ptr<server::storage::OtelWriter> writer_metrics(otel_writer.get(), [](auto*) {});
    self_metrics.Register(writer_metrics);
    for (const auto& p : (*projects)->List()) {
      if (auto st = otel_writer->EnsureSchema(database_of(p)); !st.ok()) {
        LOG(ERROR) << st.ToString();
      }
    }
    otel_writer->Start();
    if (!cfg.disable_clickhouse_space_manager) {
      server::storage::SpaceManagerOptions so;
      so.usage_threshold_percent = static_cast<double>(cfg.clickhouse_space_manager_usage_threshold);
      so.min_partitions = cfg.clickhouse_space_manager_min_partitions;
      so.databases = [p = projects->get(), database_of] {
        std::vector<std::string> dbs;
        for (const auto& project : p->List()) dbs.push_back(database_of(project));
        return dbs;
      };
      space_manager = std::make_unique<server::storage::SpaceManager>(ch_client.get(), so);
      std::shared_ptr<server::storage::SpaceManager> sm_metrics(space_manager.get(), [](auto*) {});
      self_metrics.Register(sm_metrics);
      space_manager->Start();
    }
    server::OtlpHandlerOptions oo;
    oo.max_decoded_bytes = static_cast<size_t>(cfg.max_request_body) * 8;
    oo.database_of = database_of;
    otlp_limits = oo.limits;
    oo.wal = wal.get();
    oo.replaying = &replaying;
    replaying = true;  // before any request can be accepted: the WAL then holds only the previous run's
    otlp = std::make_shared<server::OtlpHandler>(projects->get(), otel_writer.get(), oo);
    self_metrics.Register(otlp);
    telemetry = std::make_unique<server::TelemetryApi>(project_of, ch_client.get(), otel_writer.get(), database_of);
    server::ProfilesHandlerOptions po;
    po.limits.max_decompressed_bytes = static_cast<size_t>(cfg.max_request_body) * 8;
    po.database_of = database_of;
    profiles = std::make_shared<server::ProfilesHandler>(projects->get(), otel_writer.get(), po);
    self_metrics.Register(profiles);
    profiles_api = std::make_unique<server::ProfilesApi>(project_of, ch_client.get(), otel_writer.get(), database_of);
  }

  http::ServerOptions opts;
  opts.listen = cfg.listen;
  opts.threads = static_cast<int>(cfg.http_threads);
  opts.max_body_bytes = cfg.max_request_body;
  http::Server srv(opts);
  const std::string& base = cfg.url_base_path;
  srv.Handle("GET", JoinPath(base, "/health"), [](const http::Request&, http::Response* r) {
    *r = http::Response::Text(200, "OK");
  });
  srv.Handle("POST", JoinPath(base, "/api/login"),
             [&access](const http::Request& req, http::Response* r) { access.Login(req, r); });
  srv.Handle("POST", JoinPath(base, "/api/logout"),
             [&access](const http::Request& req, http::Response* r) { access.Logout(req, r); });
  srv.Handle("GET", JoinPath(base, "/api/user"),
             [&access](const http::Request& req, http::Response* r) { access.CurrentUser(req, r); });
  srv.Handle("POST", JoinPath(base, "/v1/metrics"),
             [metrics](const http::Request& req, http::Response* r) { metrics->Handle(req, r); });
  auto unavailable = [](const http::Request&, http::Response* r) {
    *r = http::Response::Text(503, "ClickHouse is unavailable");
  };
  if (otlp) {
    srv.Handle("POST", JoinPath(base, "/v1/traces"),
               [otlp](const http::Request& req, http::Response* r) { otlp->HandleTraces(req, r); });
    srv.Handle("POST", JoinPath(base, "/v1/logs"),
               [otlp](const http::Request& req, http::Response* r) { otlp->HandleLogs(req, r); });
    server::TelemetryApi* api = telemetry.get();
    srv.Handle("GET", JoinPath(base, "/api/v1/traces"),
               [api](const http::Request& req, http::Response* r) { api->Traces(req, r); });
    srv.Handle("GET", JoinPath(base, "/api/v1/traces/heatmap"),
               [api](const http::Request& req, http::Response* r) { api->TraceHeatmap(req, r); });
    srv.Handle("GET", JoinPath(base, "/api/v1/logs"),
               [api](const http::Request& req, http::Response* r) { api->Logs(req, r); });
    srv.Handle("GET", JoinPath(base, "/api/v1/storage"),
               [api](const http::Request& req, http::Response* r) { api->Storage(req, r); });
    srv.Handle("POST", JoinPath(base, "/v1/profiles"),
               [profiles](const http::Request& req, http::Response* r) { profiles->Handle(req, r); });
    server::ProfilesApi* papi = profiles_api.get();
    srv.Handle("GET", JoinPath(base, "/api/v1/profiles"),
               [papi](const http::Request& req, http::Response* r) { papi->Profile(req, r); });
    srv.Handle("GET", JoinPath(base, "/api/v1/profiles/types"),
               [papi](const http::Request& req, http::Response* r) { papi->Types(req, r); });
  } else {
    for (const char* path : {"/v1/traces", "/v1/logs", "/v1/profiles", "/api/v1/traces", "/api/v1/traces/heatmap",
                             "/api/v1/logs", "/api/v1/storage", "/api/v1/profiles", "/api/v1/profiles/types"})
      srv.Handle("", JoinPath(base, path), unavailable);
  }
  srv.Handle("GET", JoinPath(base, "/metrics"), [&self_metrics](const http::Request&, http::Response* r) {
    r->body = prom::WriteText(self_metrics.Gather());
    r->SetHeader("Content-Type", prom::kTextContentType);
  });
  if (auto st = srv.Start(); !st.ok()) {
    LOG(ERROR) << st.ToString();
    return 1;
  }
  LOG(INFO) << "coroot " << server::kVersion << " listening on " << cfg.listen << " (port " << srv.port() << ")";
  std::unique_ptr<server::OtlpGrpcServer> grpc_server;
  if (otlp && !cfg.grpc_disabled) {
    grpc_server = std::make_unique<server::OtlpGrpcServer>(otlp.get(), static_cast<size_t>(cfg.max_request_body) * 8);
    if (auto st = grpc_server->Start(cfg.grpc_listen); !st.ok()) {
      // Not fatal: OTLP/HTTP and everything else keep working (e.g. another collector owns :4317).
      LOG(ERROR) << st.ToString() << "; OTLP/gRPC is off";
      grpc_server.reset();
    }
  }
  // Requests accepted by a previous run but not yet in ClickHouse, queued after the server is up:
  // with ClickHouse down they may wait for buffer room for a long time, and /health, the read API
  // and the other endpoints must answer meanwhile.
  std::thread replay_thread;
  if (otel_writer) {
    replay_thread = std::thread([&] {
      ReplayWal(wal.get(), otel_writer.get(), otlp_limits, stopping);
      replaying = false;
    });
  }
  WaitForSignal();
  stopping = true;
  if (replay_thread.joinable()) replay_thread.join();
  if (grpc_server) grpc_server->Stop();
  srv.Stop();
  // Everything accepted goes into ClickHouse before the engine is closed (libchdb must be closed
  // before exit).
  if (space_manager) space_manager->Stop();
  if (otel_writer) otel_writer->Stop();
  ch_client.reset();
  LOG(INFO) << "stopped";
  return 0;
}
