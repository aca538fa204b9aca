#pragma once
// File helpers: whole-file reads with a size bound, atomic writes.
#include <cstddef>
#include <string>

#include "lib/base/status.h"

namespace coroot {

// Reads a whole file; refuses files larger than max_bytes (default 64 MiB) so bad input stays bounded.
StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 64u << 20);
// Writes to path.tmp, fsyncs and renames, so readers never see a partial file.
Status WriteFileAtomic(const std::string& path, const std::string& data);
Status MakeDirs(const std::string& path);

}  // namespace coroot
