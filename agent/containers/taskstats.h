#pragma once
// Delay accounting over netlink taskstats (spec §1.a: container_resources_cpu_delay_seconds_total,
// container_resources_disk_delay_seconds_total): how long a process's threads waited for a CPU
// and for synchronous block I/O, summed by the kernel over the whole thread group.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::containers {

struct TaskDelays {
  uint64_t cpu_delay_ns = 0;
  uint64_t blkio_delay_ns = 0;
};

// Generic-netlink replies, parsed with bounds checks (the bytes come from the kernel, but a parser
// still must not trust lengths). A netlink error message gives its errno as the status.
StatusOr<uint16_t> ParseFamilyIdReply(std::string_view msg);
StatusOr<TaskDelays> ParseTaskstatsReply(std::string_view msg);

class TaskstatsClient {
 public:
  // Opens a NETLINK_GENERIC socket and resolves the TASKSTATS family. Unavailable when the kernel
  // has no taskstats.
  static StatusOr<std::unique_ptr<TaskstatsClient>> Open();
  ~TaskstatsClient();
  TaskstatsClient(const TaskstatsClient&) = delete;
  TaskstatsClient& operator=(const TaskstatsClient&) = delete;

  // The thread group's delays (TASKSTATS_CMD_ATTR_TGID). NotFound when the process is gone.
  StatusOr<TaskDelays> Tgid(int pid);

 private:
  TaskstatsClient(int fd, uint16_t family) : fd_(fd), family_(family) {}
  StatusOr<std::string> Request(uint16_t type, uint8_t cmd, uint16_t attr, std::string_view attr_value);

  int fd_;
  uint16_t family_;
  uint32_t seq_ = 0;
  std::string buf_;
};

// The kernel keeps delays only while kernel.task_delayacct is 1 (off by default since 5.14).
// Turns it on when it is off; an error says why delays cannot be had.
Status EnableDelayAccounting(const std::string& proc_root);

}  // namespace coroot::agent::containers
