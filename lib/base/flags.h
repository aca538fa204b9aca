#pragma once
// A flag table that mirrors Coroot's command line: every flag has a --name and an env var.
// Precedence: command line, then environment, then the default.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/base/status.h"

namespace coroot {

using Duration = std::chrono::milliseconds;

// "15s", "1m30s", "500ms", "7d", "2w" (Go/Prometheus duration syntax). Bare numbers are seconds.
StatusOr<Duration> ParseDuration(const std::string& s);
// "500MB", "1GiB", "64k", "1024" (KB/MB/GB are powers of 1024, as Coroot's flag parser reads them).
StatusOr<uint64_t> ParseByteSize(const std::string& s);

class FlagSet {
 public:
  explicit FlagSet(std::string program) : program_(std::move(program)) {}

  void String(const std::string& name, const std::string& env, std::string* target, const std::string& def,
              const std::string& help);
  // Repeatable: every occurrence on the command line appends; the env var is split on commas/spaces.
  void Strings(const std::string& name, const std::string& env, std::vector<std::string>* target,
               const std::string& help);
  void Bool(const std::string& name, const std::string& env, bool* target, bool def, const std::string& help);
  void Int(const std::string& name, const std::string& env, int64_t* target, int64_t def, const std::string& help);
  void Double(const std::string& name, const std::string& env, double* target, double def,
              const std::string& help);
  void Dur(const std::string& name, const std::string& env, Duration* target, const std::string& def,
           const std::string& help);
  void Bytes(const std::string& name, const std::string& env, uint64_t* target, const std::string& def,
             const std::string& help);

  // Parses argv and the environment. Sets *help_requested when --help is given.
  Status Parse(int argc, const char* const* argv, bool* help_requested = nullptr);
  // Same, with an explicit environment lookup (for tests).
  Status Parse(const std::vector<std::string>& args, const std::function<const char*(const char*)>& getenv,
               bool* help_requested = nullptr);
  std::string Usage() const;

 private:
  struct Flag {
    std::string name, env, def, help;
    bool is_bool = false, repeatable = false;
    std::function<Status(const std::string&)> set;
  };
  Flag* Find(const std::string& name);
  void Add(Flag f);

  std::string program_;
  std::vector<Flag> flags_;
};

}  // namespace coroot
