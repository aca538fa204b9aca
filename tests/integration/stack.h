#pragma once
// Starts the real parts of the metrics path for a test: Prometheus with its remote-write receiver,
// the coroot server bootstrapped to it, and the node agent pushing to the server.
#include <memory>
#include <string>
#include <vector>

#include "lib/testing/process.h"

namespace coroot::testing {

struct PromSample {
  double t = 0;  // seconds
  double v = 0;
};

class Stack {
 public:
  explicit Stack(std::string name);
  ~Stack();

  void StartPrometheus();
  void StartServer(const std::vector<std::string>& extra_flags = {});
  void StopServer(int sig);
  void StartAgent(const std::vector<std::string>& extra_flags = {});

  std::string prometheus_url() const { return "http://127.0.0.1:" + std::to_string(prom_port); }
  std::string server_url() const { return "http://127.0.0.1:" + std::to_string(server_port); }
  std::string agent_url() const { return "http://127.0.0.1:" + std::to_string(agent_port); }

  // Instant query; returns the JSON body ("" on error).
  std::string Query(const std::string& promql) const;
  // Raw samples of one series selector over the last `range` (e.g. "10m").
  std::vector<PromSample> RawSamples(const std::string& selector, const std::string& range) const;
  std::string Logs() const;

  std::string dir;
  int prom_port = 0, server_port = 0, agent_port = 0;
  std::unique_ptr<ChildProcess> prometheus, server, agent;
};

}  // namespace coroot::testing
