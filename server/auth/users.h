#pragma once
// Local users (spec §3.12) and the server's auth secret, kept in the config database (SQLite,
// <data-dir>/db.sqlite, tables `users` and `settings`). Passwords are stored as bcrypt hashes.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "lib/base/status.h"

struct sqlite3;

namespace coroot::server::auth {

struct User {
  int64_t id = 0;
  std::string email;  // the login name ("admin" for the bootstrap user)
  std::string name;
  std::string role;   // Admin, Editor or Viewer
};

class UserStore {
 public:
  ~UserStore();
  static StatusOr<std::unique_ptr<UserStore>> Open(const std::string& path);

  // Creates `admin` (role Admin) with `password` when there is no user yet; an empty password is
  // Coroot's default (--auth-bootstrap-admin-password sets one). Existing users are left alone.
  Status Bootstrap(const std::string& password);
  // The user whose email and password match; kPermissionDenied otherwise (the same for an unknown
  // email and a wrong password).
  StatusOr<User> Login(const std::string& email, const std::string& password);
  StatusOr<User> Find(int64_t id);
  // The secret that signs session cookies: 32 random bytes made at the first start and kept, so
  // sessions outlive restarts.
  StatusOr<std::string> Secret();

 private:
  explicit UserStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace coroot::server::auth
