// The whole node agent on this kernel: connections made by short-lived processes inside a
// container (here a systemd-style service cgroup made by the test) are counted by the eBPF tracer
// under the container_id the container registry gives that cgroup. Needs root (label `bpf`).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/http/client.h"
#include "tests/integration/stack.h"

namespace coroot::testing {
namespace {

using namespace std::chrono_literals;

// The value of the one series whose text contains every needle, or -1.
double SeriesValue(const std::string& exposition, const std::vector<std::string>& needles) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    bool all = true;
    for (const auto& n : needles) all &= line.find(n) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

int FreePortBelowEphemeralRange() {
  for (int port = 20000 + getpid() % 5000; port < 32000; ++port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (ok) return port;
  }
  return 0;
}

// The sum over every series of a family that carries `label`.
double SumOver(const std::string& exposition, const std::string& family, const std::string& label) {
  std::istringstream in(exposition);
  std::string line;
  double sum = 0;
  while (std::getline(in, line))
    if (line.starts_with(family) && line.find(label) != std::string::npos)
      sum += std::stod(line.substr(line.rfind(' ') + 1));
  return sum;
}

std::string TcpSeries(const std::string& exposition) {
  std::istringstream in(exposition);
  std::string line, out;
  while (std::getline(in, line))
    if (line.starts_with("container_net_tcp_")) out += line + "\n";
  return out;
}

class ServiceCgroup {
 public:
  explicit ServiceCgroup(std::string unit) : unit_(std::move(unit)) {
    for (const char* h : {"unified", "cpu", "memory"}) {
      std::string dir = std::string("/sys/fs/cgroup/") + h + "/system.slice/" + unit_;
      std::filesystem::create_directories(dir);
      dirs_.push_back(dir);
    }
  }
  ~ServiceCgroup() {
    for (const auto& d : dirs_) rmdir(d.c_str());
  }
  // A shell command that first moves its shell into the cgroup (in every hierarchy).
  std::string Enter() const {
    std::string s;
    for (const auto& d : dirs_) s += "echo $$ > " + d + "/cgroup.procs; ";
    return s;
  }
  std::string id() const { return "/system.slice/" + unit_; }

 private:
  std::string unit_;
  std::vector<std::string> dirs_;
};

TEST(AgentTcpContainers, ShortLivedClientsAreCountedUnderTheRegistrysContainerId) {
  ASSERT_EQ(geteuid(), 0u) << "needs root for eBPF and cgroups";
  Stack s("agent_tcp_containers");
  // Below the ephemeral range: Coroot does not track destinations inside it (§1.b).
  int http_port = FreePortBelowEphemeralRange();
  ChildProcess http({"python3", "-m", "http.server", std::to_string(http_port), "--bind", "127.0.0.1"},
                    s.dir + "/http.log");
  ASSERT_TRUE(WaitFor([&] { return HttpOk("http://127.0.0.1:" + std::to_string(http_port) + "/"); }, 20s));

  ServiceCgroup cg("coroot-e2e-" + std::to_string(getpid()) + ".service");
  s.StartAgent({"--collector-endpoint=", "--min-container-age=0s"});

  // Wait until the registry has seen the cgroup (it scans /proc every few seconds): a sleeper in it.
  ChildProcess sleeper({"bash", "-c", cg.Enter() + "exec sleep 60"}, s.dir + "/sleeper.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = http::Fetch({"GET", s.agent_url() + "/metrics"});
        return r.ok() && r->body.find("container_id=\"" + cg.id() + "\"") != std::string::npos;
      },
      30s))
      << s.Logs();

  // Connections from outside any reported container (this test's own cgroup) are not counted.
  const std::string url = "http://127.0.0.1:" + std::to_string(http_port) + "/";
  ASSERT_EQ(std::system(("for i in 1 2 3 4; do curl -sf -o /dev/null " + url + " || exit 1; done").c_str()), 0);

  const int kRequests = 9;
  std::string cmd = cg.Enter() + "for i in $(seq " + std::to_string(kRequests) +
                    "); do curl -sf -o /dev/null http://127.0.0.1:" + std::to_string(http_port) + "/ || exit 1; done";
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);

  std::vector<std::string> series = {"container_id=\"" + cg.id() + "\"",
                                     "destination=\"127.0.0.1:" + std::to_string(http_port) + "\""};
  auto with = [&](std::string name) {
    auto v = series;
    v.insert(v.begin(), name + "{");
    return v;
  };
  double connects = -1;
  std::string body;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = http::Fetch({"GET", s.agent_url() + "/metrics"});
        if (!r.ok()) return false;
        body = r->body;
        connects = SeriesValue(body, with("container_net_tcp_successful_connects_total"));
        return connects >= kRequests;
      },
      20s))
      << "connects=" << connects << "\n" << TcpSeries(body) << s.Logs();
  EXPECT_EQ(connects, kRequests);
  EXPECT_EQ(SumOver(body, "container_net_tcp_successful_connects_total{",
                    "destination=\"127.0.0.1:" + std::to_string(http_port) + "\""),
            kRequests)
      << TcpSeries(body);
  EXPECT_EQ(SeriesValue(body, with("container_net_tcp_failed_connects_total")), -1);
  EXPECT_GT(SeriesValue(body, with("container_net_tcp_bytes_sent_total")), 0);
  EXPECT_GT(SeriesValue(body, with("container_net_tcp_bytes_received_total")), 0);
  sleeper.Stop();
}

}  // namespace
}  // namespace coroot::testing
