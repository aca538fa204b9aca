#pragma once
// Builds the Go programs that integration tests run as real workloads (pprof producers, TLS
// clients). The build cache is kept under the build tree: a cold build of net/http is slow.
#include <string>
#include <vector>

#include "lib/base/status.h"

namespace coroot::testing {

// $GO, /usr/local/go/bin/go, Debian's golang-go; empty when there is none.
std::string FindGoToolchain();

// `go build` of one source file (standard library only) into out_binary, with extra flags such
// as "-ldflags=-s -w". The error carries the build log.
Status BuildGoProgram(const std::string& source, const std::string& out_binary,
                      const std::vector<std::string>& extra_flags = {});

}  // namespace coroot::testing
