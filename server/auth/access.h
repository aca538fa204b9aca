#pragma once
// Who may read a project's data through the read API (/api/v1/...), and the session endpoints:
//   - a request with X-Api-Key reads the project of that key (scripts, other Coroots);
//   - else one with a valid session cookie (POST /api/login) reads the project named by ?project=
//     (id or name; default: the only project, else the one named "default");
//   - else, when --auth-anonymous-role is set, anyone may, as with a session;
//   - else it is refused with 401.
//   POST /api/login  {"email": "...", "password": "..."} → 200, Set-Cookie: coroot_session (7 days)
//   POST /api/logout → 200, the cookie cleared
//   GET  /api/user   → {"id", "email", "name", "role"} of the session's user
#include <string>

#include "lib/base/status.h"
#include "lib/http/message.h"
#include "server/auth/session_cookie.h"
#include "server/auth/users.h"
#include "server/projects/project_store.h"

namespace coroot::server::auth {

class Access {
 public:
  Access(ProjectStore* projects, UserStore* users, std::string secret, std::string anonymous_role)
      : projects_(projects), users_(users), cookie_(std::move(secret)), anonymous_role_(std::move(anonymous_role)) {}

  // The project `req` may read: kPermissionDenied without a key, session or anonymous access;
  // kNotFound for an unknown key or project.
  StatusOr<Project> ReadProject(const http::Request& req);
  // Fills `resp` with the error of ReadProject: 401 or 404, JSON {"error": ...}.
  static void Refuse(const Status& status, http::Response* resp);

  void Login(const http::Request& req, http::Response* resp);
  void Logout(const http::Request& req, http::Response* resp);
  void CurrentUser(const http::Request& req, http::Response* resp);

 private:
  // The user of the request's session cookie.
  StatusOr<User> SessionUser(const http::Request& req);

  ProjectStore* projects_;
  UserStore* users_;
  SessionCookie cookie_;
  std::string anonymous_role_;
};

}  // namespace coroot::server::auth
