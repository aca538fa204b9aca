#include "agent/node/proc_uptime.h"

#include <charconv>
#include <cmath>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node {

StatusOr<double> ParseUptime(std::string_view text) {
  // Only the first line matters; looking no further keeps a huge input cheap.
  std::string_view first_line = text.substr(0, text.find('\n'));
  std::vector<std::string> f = SplitAny(first_line, " \t\r");
  if (f.empty()) return InvalidArgument("/proc/uptime: empty");
  if (f[0][0] == '-') return InvalidArgument("/proc/uptime: negative uptime");
  double v = 0;
  const char* begin = f[0].data();
  const char* end = begin + f[0].size();
  auto [ptr, ec] = std::from_chars(begin, end, v, std::chars_format::fixed);
  if (ec != std::errc() || ptr != end || !std::isfinite(v) || v < 0)
    return InvalidArgument("/proc/uptime: bad uptime value");
  return v;
}

StatusOr<double> ReadUptime(const std::string& proc_root) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/uptime"));
  return ParseUptime(text);
}

}  // namespace coroot::agent::node
