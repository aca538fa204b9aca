// The systemd D-Bus client against a peer that speaks libdbus's own wire format
// (systemd_private_peer.py, dbus-python): no systemd runs on the test machines, so the peer
// stands in for /run/systemd/private with systemd's documented properties. Then the registry:
// TriggeredBy and Type decide --skip-systemd-system-services and label container_info.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "agent/containers/registry.h"
#include "agent/containers/systemd_dbus.h"
#include "agent/containers/test_cgroup.h"
#include "lib/cgroup/cgroupfs.h"
#include "lib/testing/process.h"

namespace coroot::agent::containers {
namespace {

using namespace std::chrono_literals;

struct Peer {
  std::string dir = coroot::testing::MakeTempDir("coroot-systemd");
  std::string socket = dir + "/private";
  std::unique_ptr<coroot::testing::ChildProcess> proc;

  void Start(const std::vector<std::string>& units) {
    std::vector<std::string> argv = {"/usr/bin/python3", CONTAINERS_SOURCE_DIR "/systemd_private_peer.py", socket};
    argv.insert(argv.end(), units.begin(), units.end());
    unlink(socket.c_str());
    proc = std::make_unique<coroot::testing::ChildProcess>(argv, dir + "/peer.log");
    struct stat st;
    coroot::testing::WaitFor([&] { return stat(socket.c_str(), &st) == 0; }, 10s);
  }
  ~Peer() {
    proc.reset();
    std::filesystem::remove_all(dir);
  }
};

bool HavePythonDbus() {
  return access("/usr/bin/python3", X_OK) == 0 &&
         std::system("/usr/bin/python3 -c 'import dbus.server, gi.repository.GLib' 2>/dev/null") == 0;
}

TEST(SystemdDbusLiveTest, UnitPropertiesFromThePrivateSocket) {
  if (!HavePythonDbus()) GTEST_SKIP() << "needs python3-dbus and python3-gi (scripts/setup.sh installs them)";
  Peer peer;
  peer.Start({"web.service=simple,", "backup.service=oneshot,backup.timer", "a-b@1.service=notify,a.path"});
  SystemdClient c(peer.socket);
  StatusOr<SystemdUnitProperties> web = c.GetUnitProperties("web.service");
  ASSERT_TRUE(web.ok()) << web.status().ToString() << "\n" << peer.proc->Log();
  EXPECT_EQ(web->type, "simple");
  EXPECT_EQ(web->triggered_by, "");
  StatusOr<SystemdUnitProperties> backup = c.GetUnitProperties("backup.service");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->type, "oneshot");
  EXPECT_EQ(backup->triggered_by, "backup.timer");
  StatusOr<SystemdUnitProperties> escaped = c.GetUnitProperties("a-b@1.service");
  ASSERT_TRUE(escaped.ok()) << escaped.status().ToString();
  EXPECT_EQ(escaped->type, "notify");
  EXPECT_EQ(escaped->triggered_by, "a.path");
  // An object the peer does not have: an error, and the connection still serves.
  EXPECT_FALSE(c.GetUnitProperties("missing.service").ok());
  EXPECT_TRUE(c.GetUnitProperties("web.service").ok());
  // The peer restarts: the next call fails or reconnects, the one after it works.
  peer.proc.reset();
  peer.Start({"web.service=forking,"});
  (void)c.GetUnitProperties("web.service");
  StatusOr<SystemdUnitProperties> again = c.GetUnitProperties("web.service");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->type, "forking");
}

TEST(SystemdDbusLiveTest, RegistrySkipsTimerTriggeredUnitsAndLabelsTheOthers) {
  if (!HavePythonDbus()) GTEST_SKIP() << "needs python3-dbus and python3-gi";
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups";
  const std::string base = "coroot-test-" + std::to_string(getpid());
  TestCgroup web(base + "-web.service"), job(base + "-job.service");
  if (!web.ok() || !job.ok()) GTEST_SKIP() << "cannot make test cgroups";
  Peer peer;
  peer.Start({base + "-web.service=simple,", base + "-job.service=simple," + base + "-job.timer"});
  int g1 = -1, g2 = -1;
  ASSERT_GT(web.Spawn([] { for (;;) pause(); }, &g1), 0);
  ASSERT_GT(job.Spawn([] { for (;;) pause(); }, &g2), 0);
  Go(g1);
  Go(g2);

  for (bool skip : {true, false}) {
    RegistryOptions o;
    o.cgroupfs = cgroup::DetectCgroupFs("/sys/fs/cgroup");
    o.min_container_age = 0ms;
    o.systemd_socket = peer.socket;
    o.skip_systemd_system_services = skip;
    ContainerRegistry r(o);
    ASSERT_TRUE(r.Init().ok());
    r.Scan();
    std::vector<std::string> ids;
    for (const ContainerInfo& c : r.Containers()) ids.push_back(c.id);
    auto has = [&](const std::string& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
    EXPECT_TRUE(has(web.path())) << "skip=" << skip;
    EXPECT_EQ(has(job.path()), !skip) << "a timer-triggered unit is a system service";
    if (skip) continue;
    std::vector<prom::MetricFamily> fams;
    r.Collect(&fams);
    prom::Flatten(&fams);
    bool labelled = false;
    for (const auto& f : fams)
      if (f.name == "container_info")
        for (const auto& s : f.samples) {
          auto has_label = [&](const char* n, const std::string& v) {
            return std::find(s.labels.begin(), s.labels.end(), prom::Label{n, v}) != s.labels.end();
          };
          if (has_label("container_id", job.path()))
            labelled = has_label("systemd_triggered_by", base + "-job.timer") && has_label("systemd_type", "simple");
        }
    EXPECT_TRUE(labelled) << "container_info of the timer-triggered unit";
  }
}

}  // namespace
}  // namespace coroot::agent::containers
