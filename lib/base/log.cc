#include "lib/base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace coroot::log {
namespace {
std::atomic<Level> g_min_level{Level::kInfo};
std::mutex g_mu;

const char* LevelChar(Level l) {
  switch (l) {
    case Level::kDebug: return "D";
    case Level::kInfo: return "I";
    case Level::kWarning: return "W";
    case Level::kError: return "E";
    case Level::kFatal: return "F";
  }
  return "?";
}
}  // namespace

void SetMinLevel(Level level) { g_min_level = level; }
Level MinLevel() { return g_min_level; }

Line::Line(Level level, const char* file, int line) : level_(level) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  const char* base = std::strrchr(file, '/');
  stream_ << LevelChar(level) << ' ' << ts << '.' << (ms < 100 ? (ms < 10 ? "00" : "0") : "") << ms << "Z "
          << (base ? base + 1 : file) << ':' << line << "] ";
}

Line::~Line() {
  stream_ << '\n';
  std::string s = stream_.str();
  {
    std::lock_guard<std::mutex> lock(g_mu);
    std::fwrite(s.data(), 1, s.size(), stderr);
    std::fflush(stderr);
  }
  if (level_ == Level::kFatal) std::abort();
}

}  // namespace coroot::log
