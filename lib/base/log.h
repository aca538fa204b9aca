#pragma once
// Minimal leveled logging to stderr: LOG(INFO) << "listening on " << addr;
#include <sstream>

namespace coroot::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError, kFatal };

void SetMinLevel(Level level);
Level MinLevel();

// One log line; written (atomically, with a timestamp) when it goes out of scope.
class Line {
 public:
  Line(Level level, const char* file, int line);
  ~Line();
  template <typename T>
  Line& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream stream_;
};

}  // namespace coroot::log

#define COROOT_LOG_DEBUG ::coroot::log::Level::kDebug
#define COROOT_LOG_INFO ::coroot::log::Level::kInfo
#define COROOT_LOG_WARNING ::coroot::log::Level::kWarning
#define COROOT_LOG_ERROR ::coroot::log::Level::kError
#define COROOT_LOG_FATAL ::coroot::log::Level::kFatal

#define LOG(level)                                                  \
  if (COROOT_LOG_##level < ::coroot::log::MinLevel()) {             \
  } else                                                            \
    ::coroot::log::Line(COROOT_LOG_##level, __FILE__, __LINE__)

// For broken invariants only; never for conditions that input can cause.
#define CHECK(cond) \
  if (cond) {       \
  } else            \
    ::coroot::log::Line(COROOT_LOG_FATAL, __FILE__, __LINE__) << "CHECK failed: " #cond " "
