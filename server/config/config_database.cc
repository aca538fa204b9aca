#include "server/config/config_database.h"

#include <sqlite3.h>

namespace coroot::server {

StatusOr<sqlite3*> OpenConfigDatabase(const std::string& path, const std::vector<const char*>& schema) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    if (db) sqlite3_close(db);
    return Unavailable("open config database " + path + ": " + msg);
  }
  std::vector<const char*> statements = {"PRAGMA busy_timeout = 5000"};
  statements.insert(statements.end(), schema.begin(), schema.end());
  for (const char* sql : statements) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      sqlite3_close(db);
      return Internal("config database " + path + ": " + msg);
    }
  }
  return db;
}

}  // namespace coroot::server
