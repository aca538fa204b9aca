#pragma once
// /proc/uptime: seconds since boot.
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::node {

// Parses the first number of "<uptime> <idle>"; it must be finite and non-negative.
StatusOr<double> ParseUptime(std::string_view text);
StatusOr<double> ReadUptime(const std::string& proc_root = "/proc");

}  // namespace coroot::agent::node
