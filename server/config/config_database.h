#pragma once
// The config database: one SQLite file (<data-dir>/db.sqlite) shared by the stores that keep the
// server's settings (projects, users, the auth secret), each through its own connection.
#include <string>
#include <vector>

#include "lib/base/status.h"

struct sqlite3;

namespace coroot::server {

// Opens `path` with a busy timeout (the stores write to one file) and runs `schema` (CREATE TABLE
// IF NOT EXISTS ...). The caller closes the connection with sqlite3_close.
StatusOr<sqlite3*> OpenConfigDatabase(const std::string& path, const std::vector<const char*>& schema);

}  // namespace coroot::server
