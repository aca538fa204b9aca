// coroot: the server. Ingests agents' metrics (remote write → Prometheus), will store logs,
// traces and profiles in ClickHouse, and serves the API and UI.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "lib/base/file.h"
#include "lib/base/log.h"
#include "lib/http/server.h"
#include "lib/prom/exposition.h"
#include "server/config/config.h"
#include "server/ingest/metrics_handler.h"
#include "server/projects/project_store.h"
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

  server::RemoteWriteForwarder forwarder;
  auto metrics = std::make_shared<server::MetricsHandler>(projects->get(), &forwarder,
                                                          static_cast<size_t>(cfg.max_request_body) * 8);
  prom::Registry self_metrics;
  self_metrics.Register(metrics);

  http::ServerOptions opts;
  opts.listen = cfg.listen;
  opts.threads = static_cast<int>(cfg.http_threads);
  opts.max_body_bytes = cfg.max_request_body;
  http::Server srv(opts);
  const std::string& base = cfg.url_base_path;
  srv.Handle("GET", JoinPath(base, "/health"), [](const http::Request&, http::Response* r) {
    *r = http::Response::Text(200, "OK");
  });
  srv.Handle("POST", JoinPath(base, "/v1/metrics"),
             [metrics](const http::Request& req, http::Response* r) { metrics->Handle(req, r); });
  srv.Handle("GET", JoinPath(base, "/metrics"), [&self_metrics](const http::Request&, http::Response* r) {
    r->body = prom::WriteText(self_metrics.Gather());
    r->SetHeader("Content-Type", prom::kTextContentType);
  });
  if (auto st = srv.Start(); !st.ok()) {
    LOG(ERROR) << st.ToString();
    return 1;
  }
  LOG(INFO) << "coroot " << server::kVersion << " listening on " << cfg.listen << " (port " << srv.port() << ")";
  WaitForSignal();
  srv.Stop();
  LOG(INFO) << "stopped";
  return 0;
}
