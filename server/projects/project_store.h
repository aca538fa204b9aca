#pragma once
// Projects and their API keys, kept in the config database (SQLite file <data-dir>/db.sqlite,
// table `project` as in Coroot: id, name, prometheus JSON, settings JSON). Reads are served from
// memory; every change is written through.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/http/message.h"

struct sqlite3;

namespace coroot::server {

struct ApiKey {
  std::string key;
  std::string description;
};

struct Project {
  std::string id;
  std::string name;
  std::string prometheus_url;
  std::string remote_write_url;  // empty: <prometheus_url>/api/v1/write
  std::vector<ApiKey> api_keys;

  std::string EffectiveRemoteWriteUrl() const;
};

// The project a request may read (the server uses auth::Access::ReadProject): kPermissionDenied
// when the request is not authorized, kNotFound for an unknown key or project.
using ProjectOfRequest = std::function<StatusOr<Project>(const http::Request&)>;

// Agents that send no X-Api-Key use this key (Coroot's behaviour).
inline constexpr const char* kDefaultApiKey = "00000000000000000000000000000000";

class ProjectStore {
 public:
  ~ProjectStore();
  static StatusOr<std::unique_ptr<ProjectStore>> Open(const std::string& path);

  // Creates the "default" project when there is none, pointing at the bootstrap Prometheus.
  Status Bootstrap(const std::string& prometheus_url, const std::string& remote_write_url);

  // Resolves an X-Api-Key header. An empty key means kDefaultApiKey, which is added on first use
  // to the only project, or to the one named "default". Unknown keys are kNotFound.
  StatusOr<Project> FindByApiKey(const std::string& key);

  std::vector<Project> List() const;
  Status Save(const Project& p);

 private:
  explicit ProjectStore(sqlite3* db) : db_(db) {}
  Status Load();

  sqlite3* db_;
  mutable std::mutex mu_;
  std::vector<Project> projects_;
};

}  // namespace coroot::server
