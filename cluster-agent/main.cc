// coroot-cluster-agent: for now it starts, parses Coroot's flags and serves /health and /metrics.
// Database collectors, profile scraping and AWS discovery come in their own issues.
#include <csignal>
#include <iostream>

#include "lib/base/flags.h"
#include "lib/base/log.h"
#include "lib/http/server.h"
#include "lib/prom/exposition.h"

using namespace coroot;

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::string listen, coroot_url, api_key;
  FlagSet flags("coroot-cluster-agent");
  flags.String("listen", "LISTEN", &listen, "127.0.0.1:10301", "HTTP listen address");
  flags.String("coroot-url", "COROOT_URL", &coroot_url, "", "URL of the Coroot server");
  flags.String("api-key", "API_KEY", &api_key, "", "project API key");
  bool help = false;
  if (auto st = flags.Parse(argc, argv, &help); !st.ok()) {
    std::cerr << "coroot-cluster-agent: " << st.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (help) {
    std::cout << flags.Usage();
    return 0;
  }
  prom::Registry registry;
  http::ServerOptions opts;
  opts.listen = listen;
  opts.threads = 1;
  http::Server srv(opts);
  srv.Handle("GET", "/health", [](const http::Request&, http::Response* r) { *r = http::Response::Text(200, "OK"); });
  srv.Handle("GET", "/metrics", [&registry](const http::Request&, http::Response* r) {
    r->body = prom::WriteText(registry.Gather());
    r->SetHeader("Content-Type", prom::kTextContentType);
  });
  if (auto st = srv.Start(); !st.ok()) {
    LOG(ERROR) << st.ToString();
    return 1;
  }
  LOG(INFO) << "coroot-cluster-agent listening on " << listen << " (port " << srv.port() << ")";
  int sig = 0;
  sigwait(&set, &sig);
  srv.Stop();
  return 0;
}
