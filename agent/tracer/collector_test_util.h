#pragma once
// The EbpfCollector that the tests of one bpf test binary share (started once per suite: loading
// the programs takes about a second), and the reason such a test must skip on this machine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "agent/tracer/bpf_test_util.h"
#include "agent/tracer/ebpf_collector.h"

namespace coroot::agent::tracer::bpf_test {

// Empty when the test can run: root (eBPF, cgroups) and a cgroup v2 mount.
inline std::string SkipReason() {
  if (geteuid() != 0) return "needs root (eBPF, cgroups)";
  if (Cgroup2Root().empty()) return "no cgroup v2 mount";
  return "";
}

// The tracer with L7, no startup reconciliation, an 8 MiB ring (no event lost in bursts).
inline EbpfOptions SharedCollectorOptions() {
  EbpfOptions o;
  o.reconcile = false;
  o.tracer.ring_buffer_bytes = 8 << 20;
  return o;
}

// For SetUpTestSuite: starts *out unless the tests will skip.
inline void StartSharedCollector(std::shared_ptr<EbpfCollector>* out, const EbpfOptions& o = SharedCollectorOptions()) {
  if (!SkipReason().empty()) return;
  auto c = EbpfCollector::Start(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  *out = *c;
}

}  // namespace coroot::agent::tracer::bpf_test
