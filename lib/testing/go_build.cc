#include "lib/testing/go_build.h"

#include <cstdlib>
#include <filesystem>

#include "lib/testing/process.h"

namespace coroot::testing {

std::string FindGoToolchain() {
  if (const char* g = std::getenv("GO"); g && *g) return g;
  for (const char* p : {"/usr/local/go/bin/go", "/usr/lib/go/bin/go", "/usr/bin/go"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

Status BuildGoProgram(const std::string& source, const std::string& out_binary,
                      const std::vector<std::string>& extra_flags) {
  const std::string go = FindGoToolchain();
  if (go.empty())
    return NotFound("no Go toolchain: install Go (/usr/local/go/bin/go or Debian's golang-go; scripts/setup.sh) or set GO");
  const std::string cache = std::filesystem::absolute(BinaryPath("tests/go-cache")).string();
  std::filesystem::create_directories(cache);
  std::vector<std::string> argv{go, "build", "-o", out_binary};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  argv.push_back(source);
  const std::string log = out_binary + ".build.log";
  ChildProcess build(argv, log,
                     {"GOCACHE=" + cache + "/build", "GOPATH=" + cache + "/path", "GOFLAGS=", "GO111MODULE=off",
                      "CGO_ENABLED=0"});
  if (!WaitFor([&] { return !build.running(); }, std::chrono::seconds(280)))
    return DeadlineExceeded("go build " + source + " did not finish: " + build.Log());
  if (!std::filesystem::exists(out_binary)) return Internal("go build " + source + " failed: " + build.Log());
  return Status::Ok();
}

}  // namespace coroot::testing
