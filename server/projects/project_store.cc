#include "server/projects/project_store.h"

#include <simdjson.h>
#include <sqlite3.h>

#include <fstream>

#include "lib/base/log.h"
#include "lib/base/strings.h"
#include "server/config/config_database.h"

namespace coroot::server {

std::string Project::EffectiveRemoteWriteUrl() const {
  if (!remote_write_url.empty()) return remote_write_url;
  if (prometheus_url.empty()) return "";
  std::string base = prometheus_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/v1/write";
}

namespace {

std::string RandomId(size_t n) {
  static const char* kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = 0;
    urandom.read(reinterpret_cast<char*>(&c), 1);
    out.push_back(kAlphabet[c % 36]);
  }
  return out;
}

std::string PrometheusJson(const Project& p) {
  return "{\"url\":\"" + JsonEscape(p.prometheus_url) + "\",\"remote_write_url\":\"" +
         JsonEscape(p.remote_write_url) + "\"}";
}

std::string SettingsJson(const Project& p) {
  std::string s = "{\"api_keys\":[";
  for (size_t i = 0; i < p.api_keys.size(); i++) {
    if (i) s += ",";
    s += "{\"key\":\"" + JsonEscape(p.api_keys[i].key) + "\",\"description\":\"" +
         JsonEscape(p.api_keys[i].description) + "\"}";
  }
  return s + "]}";
}

// Reads a string member of a JSON object; empty when absent or not a string.
std::string JsonString(simdjson::dom::element obj, const char* key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

}  // namespace

ProjectStore::~ProjectStore() {
  if (db_) sqlite3_close(db_);
}

StatusOr<std::unique_ptr<ProjectStore>> ProjectStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(sqlite3* db, OpenConfigDatabase(path, {"CREATE TABLE IF NOT EXISTS project (id TEXT NOT NULL PRIMARY "
                                                          "KEY, name TEXT NOT NULL UNIQUE, prometheus TEXT, settings TEXT)"}));
  std::unique_ptr<ProjectStore> store(new ProjectStore(db));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status ProjectStore::Load() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT id, name, prometheus, settings FROM project ORDER BY name", -1, &st, nullptr) !=
      SQLITE_OK)
    return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  std::vector<Project> loaded;
  simdjson::dom::parser parser;
  while (sqlite3_step(st) == SQLITE_ROW) {
    Project p;
    auto col = [&](int i) {
      auto t = sqlite3_column_text(st, i);
      return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    };
    p.id = col(0);
    p.name = col(1);
    std::string prom = col(2), settings = col(3);
    simdjson::dom::element doc;
    if (!prom.empty() && parser.parse(prom).get(doc) == simdjson::SUCCESS) {
      p.prometheus_url = JsonString(doc, "url");
      p.remote_write_url = JsonString(doc, "remote_write_url");
    }
    if (!settings.empty() && parser.parse(settings).get(doc) == simdjson::SUCCESS) {
      simdjson::dom::array keys;
      if (doc["api_keys"].get_array().get(keys) == simdjson::SUCCESS)
        for (auto k : keys) p.api_keys.push_back({JsonString(k, "key"), JsonString(k, "description")});
    }
    loaded.push_back(std::move(p));
  }
  sqlite3_finalize(st);
  std::lock_guard<std::mutex> lock(mu_);
  projects_ = std::move(loaded);
  return Status::Ok();
}

Status ProjectStore::Save(const Project& p) {
  sqlite3_stmt* st = nullptr;
  const char* sql =
      "INSERT INTO project (id, name, prometheus, settings) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET name = excluded.name, prometheus = excluded.prometheus, "
      "settings = excluded.settings";
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK)
    return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  std::string prom = PrometheusJson(p), settings = SettingsJson(p);
  sqlite3_bind_text(st, 1, p.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, p.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, prom.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, settings.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Internal(std::string("sqlite: save project: ") + sqlite3_errmsg(db_));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& have : projects_)
    if (have.id == p.id) {
      have = p;
      return Status::Ok();
    }
  projects_.push_back(p);
  return Status::Ok();
}

Status ProjectStore::Bootstrap(const std::string& prometheus_url, const std::string& remote_write_url) {
  std::vector<Project> all = List();
  for (auto& p : all) {
    if (p.name != "default") continue;
    if (p.prometheus_url == prometheus_url && p.remote_write_url == remote_write_url) return Status::Ok();
    p.prometheus_url = prometheus_url;  // the bootstrap flags own the default project's Prometheus
    p.remote_write_url = remote_write_url;
    return Save(p);
  }
  if (!all.empty()) return Status::Ok();
  Project p;
  p.id = RandomId(8);
  p.name = "default";
  p.prometheus_url = prometheus_url;
  p.remote_write_url = remote_write_url;
  LOG(INFO) << "created project 'default' (" << p.id << ")";
  return Save(p);
}

StatusOr<Project> ProjectStore::FindByApiKey(const std::string& header) {
  std::string key = header.empty() ? kDefaultApiKey : header;
  Project target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& p : projects_)
      for (const auto& k : p.api_keys)
        if (k.key == key) return p;
    if (key != kDefaultApiKey) return NotFound("project not found");
    const Project* chosen = nullptr;
    if (projects_.size() == 1) chosen = &projects_[0];
    for (const auto& p : projects_)
      if (p.name == "default") chosen = &p;
    if (!chosen) return NotFound("project not found");
    target = *chosen;
  }
  target.api_keys.push_back({kDefaultApiKey, "agents without an API key"});
  RETURN_IF_ERROR(Save(target));
  return target;
}

std::vector<Project> ProjectStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return projects_;
}

}  // namespace coroot::server
