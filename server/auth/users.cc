#include "server/auth/users.h"

#include <openssl/rand.h>
#include <sqlite3.h>

#include "server/auth/password.h"
#include "server/config/config_database.h"

namespace coroot::server::auth {

namespace {

Status SqliteError(sqlite3* db, const std::string& what) {
  return Internal("sqlite: " + what + ": " + sqlite3_errmsg(db));
}

// A prepared statement, finalized with its scope.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) == SQLITE_OK; }
  ~Stmt() { sqlite3_finalize(st_); }
  bool ok() const { return ok_; }
  sqlite3_stmt* get() { return st_; }
  void Bind(int i, const std::string& v) { sqlite3_bind_text(st_, i, v.c_str(), -1, SQLITE_TRANSIENT); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  std::string Text(int i) {
    auto t = sqlite3_column_text(st_, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  bool ok_ = false;
};

}  // namespace

UserStore::~UserStore() {
  if (db_) sqlite3_close(db_);
}

StatusOr<std::unique_ptr<UserStore>> UserStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(sqlite3* db,
                   OpenConfigDatabase(path, {"CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                                             "email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL, "
                                             "password TEXT NOT NULL)",
                                             "CREATE TABLE IF NOT EXISTS settings (name TEXT NOT NULL PRIMARY KEY, "
                                             "value TEXT NOT NULL)"}));
  return std::unique_ptr<UserStore>(new UserStore(db));
}

Status UserStore::Bootstrap(const std::string& password) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt count(db_, "SELECT count(*) FROM users");
  if (!count.ok() || sqlite3_step(count.get()) != SQLITE_ROW) return SqliteError(db_, "count users");
  if (sqlite3_column_int64(count.get(), 0) > 0) return Status::Ok();
  ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  Stmt add(db_, "INSERT INTO users (email, name, role, password) VALUES ('admin', 'Admin', 'Admin', ?)");
  if (!add.ok()) return SqliteError(db_, "add admin");
  add.Bind(1, hash);
  if (sqlite3_step(add.get()) != SQLITE_DONE) return SqliteError(db_, "add admin");
  return Status::Ok();
}

StatusOr<User> UserStore::Login(const std::string& email, const std::string& password) {
  std::string hash;
  User u;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(db_, "SELECT id, email, name, role, password FROM users WHERE email = ?");
    if (!q.ok()) return SqliteError(db_, "find user");
    q.Bind(1, email);
    if (sqlite3_step(q.get()) == SQLITE_ROW) {
      u = {sqlite3_column_int64(q.get(), 0), q.Text(1), q.Text(2), q.Text(3)};
      hash = q.Text(4);
    }
  }
  // bcrypt runs outside the lock (tens of ms). An unknown user is checked against a hash of its
  // own, so that it fails as slowly as a wrong password and the answer time tells nothing.
  static const std::string kNobody = [] {
    auto h = HashPassword("no such user");
    return h.ok() ? *h : std::string();
  }();
  if (!CheckPassword(password, hash.empty() ? kNobody : hash) || hash.empty())
    return PermissionDenied("invalid email or password");
  return u;
}

StatusOr<User> UserStore::Find(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT id, email, name, role FROM users WHERE id = ?");
  if (!q.ok()) return SqliteError(db_, "find user");
  q.Bind(1, id);
  if (sqlite3_step(q.get()) != SQLITE_ROW) return PermissionDenied("the session's user no longer exists");
  return User{sqlite3_column_int64(q.get(), 0), q.Text(1), q.Text(2), q.Text(3)};
}

StatusOr<std::string> UserStore::Secret() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt get(db_, "SELECT value FROM settings WHERE name = 'auth_secret'");
  if (!get.ok()) return SqliteError(db_, "read auth secret");
  if (sqlite3_step(get.get()) == SQLITE_ROW) return get.Text(0);
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return Internal("no random bytes for the auth secret");
  static const char kHex[] = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : raw) secret += {kHex[b >> 4], kHex[b & 15]};
  Stmt put(db_, "INSERT INTO settings (name, value) VALUES ('auth_secret', ?)");
  if (!put.ok()) return SqliteError(db_, "save auth secret");
  put.Bind(1, secret);
  if (sqlite3_step(put.get()) != SQLITE_DONE) return SqliteError(db_, "save auth secret");
  return secret;
}

}  // namespace coroot::server::auth
