#include "server/api/profiles_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "lib/base/strings.h"
#include "server/auth/access.h"

namespace coroot::server {

using clickhouse::QuoteString;

namespace {

void Error(http::Response* resp, int code, const std::string& message) {
  *resp = http::Response::Json(code, "{\"error\":\"" + JsonEscape(message) + "\"}");
}

constexpr int kMaxDepth = 1024;  // frames rendered; deeper stacks are folded into their 1024th frame

}  // namespace

void FlameNode::Add(const std::vector<std::string>& leaf_first, int64_t value, bool base) {
  FlameNode* n = this;
  (base ? n->base_total : n->total) += value;
  int depth = 0;
  for (auto it = leaf_first.rbegin(); it != leaf_first.rend() && depth < kMaxDepth; ++it, ++depth) {
    auto& child = n->children[*it];
    if (!child) {
      child = std::make_unique<FlameNode>();
      child->name = *it;
    }
    n = child.get();
    (base ? n->base_total : n->total) += value;
  }
  (base ? n->base_self : n->self) += value;
}

void FlameNode::ToJson(std::string* out, bool diff, int depth) const {
  *out += "{\"name\":\"" + JsonEscape(name) + "\",\"total\":" + std::to_string(total) +
          ",\"self\":" + std::to_string(self);
  if (diff) *out += ",\"base_total\":" + std::to_string(base_total) + ",\"base_self\":" + std::to_string(base_self);
  *out += ",\"children\":[";
  std::vector<const FlameNode*> kids;
  for (const auto& [k, c] : children) kids.push_back(c.get());
  std::stable_sort(kids.begin(), kids.end(), [](const FlameNode* a, const FlameNode* b) {
    return a->total + a->base_total > b->total + b->base_total;
  });
  for (size_t i = 0; i < kids.size(); ++i) {
    if (i) *out += ',';
    kids[i]->ToJson(out, diff, depth + 1);
  }
  *out += "]}";
}

bool ProfilesApi::Database(const http::Request& req, http::Response* resp, std::string* db) {
  auto project = project_of_(req);
  if (!project.ok()) {
    auth::Access::Refuse(project.status(), resp);
    return false;
  }
  *db = database_of_(*project);
  if (Status st = writer_->EnsureSchema(*db); !st.ok()) {
    Error(resp, 503, st.message());
    return false;
  }
  return true;
}

StatusOr<size_t> ProfilesApi::Load(const std::string& db, const std::string& service, const std::string& type,
                                   uint64_t from_ms, uint64_t to_ms, uint64_t limit, bool base, FlameNode* root) {
  const storage::Cluster cluster = writer_->cluster();
  const std::string svc = QuoteString(service);
  const std::string from = "fromUnixTimestamp64Milli(" + std::to_string(from_ms) + ")";
  const std::string to = "fromUnixTimestamp64Milli(" + std::to_string(to_ms) + ")";
  std::string sql =
      "WITH samples AS (SELECT StackHash, sum(Value) AS value FROM " + cluster.ReadTable(db, "profiling_samples") +
      " WHERE ServiceName = " + svc + " AND Type = " + QuoteString(type) + " AND Start < " + to +
      " AND End > " + from + " GROUP BY StackHash HAVING value > 0 ORDER BY value DESC LIMIT " +
      std::to_string(limit) + ") SELECT toString(samples.value) AS v, stacks.stk AS lines FROM (SELECT Hash, "
      "any(Stack) AS stk FROM " + cluster.ReadTable(db, "profiling_stacks") + " WHERE ServiceName = " + svc +
      " AND Hash IN (SELECT StackHash FROM samples) GROUP BY Hash) AS stacks INNER JOIN samples ON samples.StackHash = "
      "stacks.Hash";
  ASSIGN_OR_RETURN(std::string out, client_->Query(sql, "JSONEachRow"));
  simdjson::dom::parser parser;
  size_t n = 0, start = 0;
  std::vector<std::string> lines;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    if (nl == std::string::npos) nl = out.size();
    std::string_view row(out.data() + start, nl - start);
    start = nl + 1;
    if (row.empty()) continue;
    simdjson::dom::element doc;
    if (parser.parse(row.data(), row.size()).get(doc) != simdjson::SUCCESS) return Internal("bad row from ClickHouse");
    std::string_view v;
    int64_t value = 0;
    if (doc["v"].get_string().get(v) != simdjson::SUCCESS || std::from_chars(v.data(), v.data() + v.size(), value).ec != std::errc())
      return Internal("bad value from ClickHouse");
    simdjson::dom::array arr;
    if (doc["lines"].get_array().get(arr) != simdjson::SUCCESS) return Internal("bad stack from ClickHouse");
    lines.clear();
    for (auto x : arr) {
      std::string_view s;
      if (x.get_string().get(s) == simdjson::SUCCESS) lines.emplace_back(s);
    }
    root->Add(lines, value, base);
    n++;
  }
  return n;
}

void ProfilesApi::Profile(const http::Request& req, http::Response* resp) {
  std::string db;
  if (!Database(req, resp, &db)) return;
  std::string service = req.QueryParam("service"), type = req.QueryParam("type");
  if (service.empty() || type.empty()) return Error(resp, 400, "give service and type");
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count());
  uint64_t to = now, from = 0, limit = 5000;
  if (auto f = req.QueryParam("to"); !f.empty() && !ParseUint64(f, &to)) return Error(resp, 400, "bad to");
  from = to > 3600000 ? to - 3600000 : 0;
  if (auto f = req.QueryParam("from"); !f.empty() && !ParseUint64(f, &from)) return Error(resp, 400, "bad from");
  if (from >= to) return Error(resp, 400, "from must be before to");
  if (auto f = req.QueryParam("limit"); !f.empty() && (!ParseUint64(f, &limit) || limit == 0 || limit > 100000))
    return Error(resp, 400, "bad limit (1..100000)");
  std::string d = req.QueryParam("diff");
  const bool diff = d == "1" || d == "true";
  FlameNode root;
  root.name = "total";
  auto n = Load(db, service, type, from, to, limit, false, &root);
  if (!n.ok()) return Error(resp, 500, n.status().message());
  size_t base_stacks = 0;
  if (diff) {
    uint64_t len = to - from;
    auto b = Load(db, service, type, from > len ? from - len : 0, from, limit, true, &root);
    if (!b.ok()) return Error(resp, 500, b.status().message());
    base_stacks = *b;
  }
  std::string body = "{\"service\":\"" + JsonEscape(service) + "\",\"type\":\"" + JsonEscape(type) +
                     "\",\"from\":" + std::to_string(from) + ",\"to\":" + std::to_string(to) +
                     ",\"stacks\":" + std::to_string(*n);
  if (diff) body += ",\"base_stacks\":" + std::to_string(base_stacks);
  body += ",\"root\":";
  root.ToJson(&body, diff);
  body += "}";
  *resp = http::Response::Json(200, body);
}

void ProfilesApi::Types(const http::Request& req, http::Response* resp) {
  std::string db;
  if (!Database(req, resp, &db)) return;
  std::string service = req.QueryParam("service");
  std::string sql = "SELECT ServiceName AS service, Type AS type, toString(toUnixTimestamp64Milli(max(LastSeen))) AS "
                    "last_seen FROM " + writer_->cluster().ReadTable(db, "profiling_profiles") +
                    (service.empty() ? "" : " WHERE ServiceName = " + QuoteString(service)) +
                    " GROUP BY ServiceName, Type ORDER BY ServiceName, Type";
  auto out = client_->Query(sql, "JSONEachRow");
  if (!out.ok()) return Error(resp, 500, out.status().message());
  std::string arr = "[";
  size_t start = 0;
  bool first = true;
  while (start < out->size()) {
    size_t nl = out->find('\n', start);
    if (nl == std::string::npos) nl = out->size();
    if (nl > start) {
      if (!first) arr += ',';
      first = false;
      arr.append(*out, start, nl - start);
    }
    start = nl + 1;
  }
  arr += "]";
  *resp = http::Response::Json(200, "{\"types\":" + arr + "}");
}

}  // namespace coroot::server
