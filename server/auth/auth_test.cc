// Passwords, session cookies, users and who may read which project.
#include <gtest/gtest.h>

#include <filesystem>

#include "lib/testing/process.h"
#include "server/auth/access.h"
#include "server/auth/password.h"
#include "server/auth/session_cookie.h"
#include "server/auth/users.h"

namespace coroot::server::auth {
namespace {

TEST(Password, BcryptHashesCheckOnlyTheirPassword) {
  auto h = HashPassword("s3cret pw");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->rfind("$2b$10$", 0), 0u) << *h;
  EXPECT_EQ(h->size(), 60u);
  EXPECT_TRUE(CheckPassword("s3cret pw", *h));
  EXPECT_FALSE(CheckPassword("s3cret pW", *h));
  EXPECT_FALSE(CheckPassword("", *h));
  auto again = HashPassword("s3cret pw");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *h);  // a fresh salt each time
  auto empty = HashPassword("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(CheckPassword("", *empty));
  EXPECT_FALSE(CheckPassword("x", *empty));
  for (const char* not_bcrypt : {"", "plain", "$1$abc$def", "*0"}) EXPECT_FALSE(CheckPassword("plain", not_bcrypt));
}

TEST(SessionCookie, Base64UrlMatchesRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg"},         {"fo", "Zm8"},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg"},  {"fooba", "Zm9vYmE"},
                                                         {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [raw, enc] : vectors) {
    EXPECT_EQ(Base64UrlEncode(raw), enc);
    std::string back;
    EXPECT_TRUE(Base64UrlDecode(enc, &back));
    EXPECT_EQ(back, raw);
  }
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zm9v=", &out));  // padding, and '+' '/' of plain base64
  EXPECT_FALSE(Base64UrlDecode("Zm+v", &out));
  EXPECT_FALSE(Base64UrlDecode("Z", &out));
}

TEST(SessionCookie, SignedValuesVerifyUntilTheyExpire) {
  SessionCookie c("secret-1");
  const std::string v = c.Sign(42, 2000);
  auto id = c.Verify(v, 1999);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 42);
  EXPECT_EQ(c.Verify(v, 2000).status().code(), StatusCode::kPermissionDenied);  // expired
  EXPECT_FALSE(SessionCookie("secret-2").Verify(v, 1000).ok());                 // another server's
  // Another payload under the same signature.
  const size_t dot = v.find('.');
  EXPECT_FALSE(c.Verify(Base64UrlEncode("{\"id\":1,\"exp\":2000}") + v.substr(dot), 1000).ok());
  EXPECT_FALSE(c.Verify(Base64UrlEncode("{\"id\":42,\"exp\":9000}") + v.substr(dot), 1000).ok());
  for (const std::string& bad : {std::string(), std::string("."), std::string("abc"), v.substr(0, dot),
                                 v + "x", "!!." + v.substr(dot + 1), v.substr(0, dot) + ".AAAA"}) {
    EXPECT_EQ(c.Verify(bad, 1000).status().code(), StatusCode::kPermissionDenied) << bad;
  }
  // A signed payload that is not what Sign writes.
  EXPECT_EQ(CookieValue("a=1; coroot_session=xyz; b=2", "coroot_session"), "xyz");
  EXPECT_EQ(CookieValue("coroot_session_old=1", "coroot_session"), "");
  EXPECT_EQ(CookieValue("", "coroot_session"), "");
}

class Users : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("coroot_auth_test_"); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string db() const { return dir_ + "/db.sqlite"; }
  std::string dir_;
};

TEST_F(Users, BootstrapAdminLogsInAndTheSecretOutlivesARestart) {
  std::string secret;
  {
    auto u = UserStore::Open(db());
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    ASSERT_TRUE((*u)->Bootstrap("first").ok());
    ASSERT_TRUE((*u)->Bootstrap("second").ok());  // users exist: no change
    auto admin = (*u)->Login("admin", "first");
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    EXPECT_EQ(admin->role, "Admin");
    EXPECT_EQ((*u)->Login("admin", "second").status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ((*u)->Login("nobody", "first").status().code(), StatusCode::kPermissionDenied);
    auto found = (*u)->Find(admin->id);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->email, "admin");
    EXPECT_FALSE((*u)->Find(admin->id + 1).ok());
    auto s = (*u)->Secret();
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->size(), 64u);
    secret = *s;
  }
  auto reopened = UserStore::Open(db());
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Secret(), secret);
  EXPECT_TRUE((*reopened)->Login("admin", "first").ok());
}

TEST_F(Users, ReadAccessByKeySessionOrAnonymousRole) {
  auto projects = ProjectStore::Open(db());
  ASSERT_TRUE(projects.ok());
  ASSERT_TRUE((*projects)->Bootstrap("http://127.0.0.1:1", "").ok());
  Project other{"p2", "other", "http://127.0.0.1:1", "", {{"key-2", ""}}};
  ASSERT_TRUE((*projects)->Save(other).ok());
  auto users = UserStore::Open(db());
  ASSERT_TRUE(users.ok());
  ASSERT_TRUE((*users)->Bootstrap("pw").ok());
  Access closed(projects->get(), users->get(), "s", "");
  Access open(projects->get(), users->get(), "s", "Viewer");

  http::Request none;
  EXPECT_EQ(closed.ReadProject(none).status().code(), StatusCode::kPermissionDenied);
  auto anon = open.ReadProject(none);
  ASSERT_TRUE(anon.ok()) << anon.status().ToString();
  EXPECT_EQ(anon->name, "default");  // of two projects, the one named default

  http::Request keyed;
  keyed.headers = {{"X-Api-Key", "key-2"}};
  EXPECT_EQ(closed.ReadProject(keyed)->id, "p2");
  keyed.headers = {{"X-Api-Key", "key-3"}};
  EXPECT_EQ(closed.ReadProject(keyed).status().code(), StatusCode::kNotFound);

  http::Request login;
  login.body = "{\"email\":\"admin\",\"password\":\"pw\"}";
  http::Response resp;
  closed.Login(login, &resp);
  ASSERT_EQ(resp.status, 200) << resp.body;
  const std::string cookie = resp.Header("Set-Cookie");
  EXPECT_NE(cookie.find("; Max-Age=604800; HttpOnly"), std::string::npos) << cookie;
  http::Request session;
  session.headers = {{"Cookie", cookie.substr(0, cookie.find(';'))}};
  EXPECT_EQ(closed.ReadProject(session)->name, "default");
  session.query = "project=p2";
  EXPECT_EQ(closed.ReadProject(session)->name, "other");
  session.query = "project=other";
  EXPECT_EQ(closed.ReadProject(session)->id, "p2");
  session.query = "project=p9";
  EXPECT_EQ(closed.ReadProject(session).status().code(), StatusCode::kNotFound);
  // Signed under another secret (another server, or a secret that changed): refused.
  Access elsewhere(projects->get(), users->get(), "other secret", "");
  session.query = "";
  EXPECT_EQ(elsewhere.ReadProject(session).status().code(), StatusCode::kPermissionDenied);

  login.body = "{\"email\":\"admin\",\"password\":\"PW\"}";
  closed.Login(login, &resp);
  EXPECT_EQ(resp.status, 401);
  for (const char* body : {"", "[]", "{\"email\":1,\"password\":\"pw\"}", "{\"email\":\"admin\"}"}) {
    login.body = body;
    closed.Login(login, &resp);
    EXPECT_EQ(resp.status, 400) << body;
  }
}

}  // namespace
}  // namespace coroot::server::auth
