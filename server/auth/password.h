#pragma once
// Password hashes: bcrypt ("$2b$<cost>$..."), as Coroot stores them, through libxcrypt.
#include <string>

#include "lib/base/status.h"

namespace coroot::server::auth {

// A fresh bcrypt hash of `password` (random salt, cost 10).
StatusOr<std::string> HashPassword(const std::string& password);

// Whether `password` matches `hash` (a bcrypt hash; anything else never matches).
bool CheckPassword(const std::string& password, const std::string& hash);

}  // namespace coroot::server::auth
