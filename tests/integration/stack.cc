#include "tests/integration/stack.h"

#include <simdjson.h>

#include <filesystem>
#include <fstream>

#include "lib/http/client.h"
#include "lib/http/message.h"

namespace coroot::testing {

using namespace std::chrono_literals;

Stack::Stack(std::string name) {
  dir = MakeTempDir(name + "_");
  prom_port = FreePort();
  server_port = FreePort();
  agent_port = FreePort();
}

Stack::~Stack() {
  agent.reset();
  server.reset();
  prometheus.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void Stack::StartPrometheus() {
  std::filesystem::create_directories(dir + "/prometheus");
  std::ofstream(dir + "/prometheus/prometheus.yml") << "global: {scrape_interval: 15s}\n";
  prometheus = std::make_unique<ChildProcess>(
      std::vector<std::string>{"prometheus", "--config.file=" + dir + "/prometheus/prometheus.yml",
                               "--storage.tsdb.path=" + dir + "/prometheus/data",
                               "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                               "--web.enable-remote-write-receiver", "--log.level=warn"},
      dir + "/prometheus.log");
  if (!WaitFor([&] { return HttpOk(prometheus_url() + "/-/ready"); }, 30s))
    throw std::runtime_error("prometheus did not start: " + prometheus->Log());
}

void Stack::StartServer(const std::vector<std::string>& extra) {
  std::vector<std::string> argv{BinaryPath("server/coroot"), "--listen=127.0.0.1:" + std::to_string(server_port),
                                "--data-dir=" + dir + "/server", "--bootstrap-prometheus-url=" + prometheus_url()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  server = std::make_unique<ChildProcess>(argv, dir + "/server.log");
  if (!WaitFor([&] { return HttpOk(server_url() + "/health"); }, 30s))
    throw std::runtime_error("server did not start: " + server->Log());
}

void Stack::StopServer(int sig) { server->Stop(sig); }

void Stack::StartAgent(const std::vector<std::string>& extra) {
  std::vector<std::string> argv{BinaryPath("agent/coroot-node-agent"),
                                "--listen=127.0.0.1:" + std::to_string(agent_port),
                                "--collector-endpoint=" + server_url(), "--scrape-interval=1s",
                                "--wal-dir=" + dir + "/agent"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  agent = std::make_unique<ChildProcess>(argv, dir + "/agent.log");
  if (!WaitFor([&] { return HttpOk(agent_url() + "/health"); }, 30s))
    throw std::runtime_error("agent did not start: " + agent->Log());
}

std::string Stack::Query(const std::string& promql) const {
  auto r = http::Fetch({"GET", prometheus_url() + "/api/v1/query?query=" + http::PercentEncode(promql)});
  return r.ok() && r->status == 200 ? r->body : "";
}

std::vector<PromSample> Stack::RawSamples(const std::string& selector, const std::string& range) const {
  std::vector<PromSample> out;
  std::string body = Query(selector + "[" + range + "]");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (body.empty() || parser.parse(body).get(doc)) return out;
  simdjson::dom::array result;
  if (doc["data"]["result"].get_array().get(result) || result.size() == 0) return out;
  simdjson::dom::array values;
  if (result.at(0)["values"].get_array().get(values)) return out;
  for (auto pair : values) {
    double t = 0;
    std::string_view v;
    if (pair.at(0).get_double().get(t) || pair.at(1).get_string().get(v)) continue;
    out.push_back({t, std::stod(std::string(v))});
  }
  return out;
}

std::string Stack::Logs() const {
  std::string s;
  if (server) s += "--- server ---\n" + server->Log();
  if (agent) s += "--- agent ---\n" + agent->Log();
  if (prometheus) s += "--- prometheus ---\n" + prometheus->Log();
  return s;
}

}  // namespace coroot::testing
