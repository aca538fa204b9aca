#include "server/auth/access.h"

#include <simdjson.h>

#include <chrono>

#include "lib/base/strings.h"

namespace coroot::server::auth {

namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

http::Response JsonError(int status, const std::string& message) {
  return http::Response::Json(status, "{\"error\":\"" + JsonEscape(message) + "\"}");
}

}  // namespace

StatusOr<User> Access::SessionUser(const http::Request& req) {
  const std::string value = CookieValue(req.Header("Cookie"), kSessionCookie);
  if (value.empty()) return PermissionDenied("log in (POST /api/login) or send X-Api-Key");
  ASSIGN_OR_RETURN(int64_t id, cookie_.Verify(value, Now()));
  return users_->Find(id);
}

StatusOr<Project> Access::ReadProject(const http::Request& req) {
  if (const std::string key = req.Header("X-Api-Key"); !key.empty()) return projects_->FindByApiKey(key);
  if (anonymous_role_.empty()) RETURN_IF_ERROR(SessionUser(req).status());
  const std::vector<Project> all = projects_->List();
  const std::string wanted = req.QueryParam("project");
  for (const Project& p : all) {
    if (wanted.empty() ? (all.size() == 1 || p.name == "default") : (p.id == wanted || p.name == wanted)) return p;
  }
  return NotFound(wanted.empty() ? "give ?project=<id>: there are several projects" : "no project " + wanted);
}

void Access::Refuse(const Status& status, http::Response* resp) {
  *resp = JsonError(status.code() == StatusCode::kPermissionDenied ? 401 : 404, status.message());
}

void Access::Login(const http::Request& req, http::Response* resp) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view email, password;
  if (req.body.size() > 64 * 1024 || parser.parse(req.body).get(doc) != simdjson::SUCCESS ||
      doc["email"].get_string().get(email) != simdjson::SUCCESS ||
      doc["password"].get_string().get(password) != simdjson::SUCCESS) {
    *resp = JsonError(400, "expected {\"email\": \"...\", \"password\": \"...\"}");
    return;
  }
  auto user = users_->Login(std::string(email), std::string(password));
  if (!user.ok()) {
    *resp = JsonError(user.status().code() == StatusCode::kPermissionDenied ? 401 : 500, user.status().message());
    return;
  }
  *resp = http::Response::Json(200, "{}");
  resp->SetHeader("Set-Cookie", std::string(kSessionCookie) + "=" + cookie_.Sign(user->id, Now() + kSessionSeconds) +
                                    "; Path=/; Max-Age=" + std::to_string(kSessionSeconds) + "; HttpOnly; SameSite=Lax");
}

void Access::Logout(const http::Request&, http::Response* resp) {
  *resp = http::Response::Json(200, "{}");
  resp->SetHeader("Set-Cookie", std::string(kSessionCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

void Access::CurrentUser(const http::Request& req, http::Response* resp) {
  auto user = SessionUser(req);
  if (!user.ok()) return Refuse(user.status(), resp);
  *resp = http::Response::Json(200, "{\"id\":" + std::to_string(user->id) + ",\"email\":\"" + JsonEscape(user->email) +
                                        "\",\"name\":\"" + JsonEscape(user->name) + "\",\"role\":\"" +
                                        JsonEscape(user->role) + "\"}");
}

}  // namespace coroot::server::auth
