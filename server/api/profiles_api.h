#pragma once
// Read API for profiles (spec §3.3), JSON over HTTP; the project is the X-Api-Key's or, for a
// logged-in user, ?project= (auth/access.h):
//   GET /api/v1/profiles?service=…&type=…&from=…&to=…[&diff=1][&limit=…]
//     → {"service","type","from","to","stacks","root":{name,total,self,children:[…]}}
//       a flame graph aggregated from profiling_samples (Start < to AND End > from, summed per
//       StackHash, the `limit` (default 5000) heaviest stacks) joined with profiling_stacks; frames
//       from the root (the stack's outermost line) down, children ordered by total, heaviest first.
//       With diff=1 every node also has base_total/base_self: the same sums over the previous window
//       of the same length [from − (to − from), from).
//   GET /api/v1/profiles/types?service=…  → {"types":[{"service","type","last_seen"}]} from
//       profiling_profiles (every service when none is given).
// Times: from/to in unix milliseconds (default: the last hour).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"
#include "lib/http/message.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_writer.h"

namespace coroot::server {

// A flame-graph tree (exposed for tests).
struct FlameNode {
  std::string name;
  int64_t total = 0, self = 0, base_total = 0, base_self = 0;
  std::map<std::string, std::unique_ptr<FlameNode>> children;
  // Adds a stack given leaf first; base: into the baseline sums.
  void Add(const std::vector<std::string>& leaf_first, int64_t value, bool base);
  void ToJson(std::string* out, bool diff, int depth = 0) const;
};

class ProfilesApi {
 public:
  ProfilesApi(ProjectOfRequest project_of, clickhouse::IClickHouseClient* client, storage::OtelWriter* writer,
              std::function<std::string(const Project&)> database_of)
      : project_of_(std::move(project_of)), client_(client), writer_(writer), database_of_(std::move(database_of)) {}

  void Profile(const http::Request& req, http::Response* resp);
  void Types(const http::Request& req, http::Response* resp);

 private:
  bool Database(const http::Request& req, http::Response* resp, std::string* db);
  // Adds the heaviest `limit` stacks of [from_ms, to_ms) to root; returns the number of stacks.
  StatusOr<size_t> Load(const std::string& db, const std::string& service, const std::string& type, uint64_t from_ms,
                        uint64_t to_ms, uint64_t limit, bool base, FlameNode* root);

  ProjectOfRequest project_of_;
  clickhouse::IClickHouseClient* client_;
  storage::OtelWriter* writer_;
  std::function<std::string(const Project&)> database_of_;
};

}  // namespace coroot::server
