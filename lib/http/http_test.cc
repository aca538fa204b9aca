#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <thread>

#include "lib/http/client.h"
#include "lib/http/server.h"
#include "lib/testing/process.h"

namespace coroot::http {
namespace {

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions opts;
    opts.max_body_bytes = 1024;
    server_ = std::make_unique<Server>(opts);
    server_->Handle("POST", "/echo", [](const Request& req, Response* resp) {
      *resp = Response::Text(200, req.body + "|" + req.Header("x-api-key") + "|" + req.QueryParam("a"));
    });
    server_->Handle("GET", "/api/*", [](const Request& req, Response* resp) {
      *resp = Response::Json(200, "{\"path\":\"" + req.path + "\"}");
    });
    server_->Handle("GET", "/api/exact", [](const Request&, Response* resp) { *resp = Response::Text(201, "exact"); });
    server_->Handle("GET", "/throw", [](const Request&, Response*) { throw std::runtime_error("bug"); });
    ASSERT_TRUE(server_->Start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST_F(HttpTest, RoutesAndEchoes) {
  auto r = Fetch({"POST", base_ + "/echo?a=x%20y&b=2", {{"X-Api-Key", "k1"}}, "hello"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello|k1|x y\n");
  EXPECT_EQ(Fetch({"GET", base_ + "/api/exact"})->status, 201);
  auto p = Fetch({"GET", base_ + "/api/v1/x"});
  EXPECT_EQ(p->body, "{\"path\":\"/api/v1/x\"}");
  EXPECT_EQ(Fetch({"GET", base_ + "/nope"})->status, 404);
  EXPECT_EQ(Fetch({"GET", base_ + "/echo"})->status, 405);
}

TEST_F(HttpTest, OversizedBodyGets413AndServerSurvives) {
  auto r = Fetch({"POST", base_ + "/echo", {}, std::string(4096, 'x')});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Fetch({"POST", base_ + "/echo", {}, "ok"})->status, 200);
}

TEST_F(HttpTest, HandlerExceptionIs500) {
  EXPECT_EQ(Fetch({"GET", base_ + "/throw"})->status, 500);
  EXPECT_EQ(Fetch({"GET", base_ + "/api/exact"})->status, 201);
}

TEST_F(HttpTest, ManyConcurrentClients) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; t++)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; i++) {
        auto r = Fetch({"POST", base_ + "/echo", {}, "x"});
        if (r.ok() && r->status == 200) ok++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
  EXPECT_GE(server_->requests_served(), 400u);
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  Server s({});
  ASSERT_TRUE(s.Start().ok());
  int port = s.port();
  s.Stop();
  auto r = Fetch({"GET", "http://127.0.0.1:" + std::to_string(port) + "/"});
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

// A server that accepts and never answers must not hold the caller past its timeout.
TEST(HttpClient, SilentServerTimesOut) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  int port = acceptor.local_endpoint().port();
  ClientOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  auto t0 = std::chrono::steady_clock::now();
  auto r = Fetch({"GET", "http://127.0.0.1:" + std::to_string(port) + "/"}, opts);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(5));  // a bound on a hang, not a speed claim
}

// https against a real TLS server (openssl s_server -www), with and without verification.
TEST(HttpClient, HttpsWithOpenSslServer) {
  std::string dir = testing::MakeTempDir("coroot_https_");
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                         "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
                         " >/dev/null 2>&1").c_str()),
            0);
  int port = testing::FreePort();
  testing::ChildProcess server({"openssl", "s_server", "-www", "-accept", std::to_string(port), "-cert", cert,
                                "-key", key},
                               dir + "/server.log");
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  ClientOptions insecure;
  insecure.insecure_skip_verify = true;
  ASSERT_TRUE(testing::WaitFor([&] { return Fetch({"GET", url}, insecure).ok(); }, std::chrono::seconds(10)))
      << server.Log();
  auto r = Fetch({"GET", url}, insecure);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("s_server"), std::string::npos);

  ClientOptions verified;
  verified.ca_file = cert;
  r = Fetch({"GET", url}, verified);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);

  // Without the CA the self-signed certificate is refused.
  r = Fetch({"GET", url});
  EXPECT_FALSE(r.ok());
  std::filesystem::remove_all(dir);
}

TEST(HttpClient, ParseUrl) {
  auto u = ParseUrl("https://user@example.com:8443/v1/metrics?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/v1/metrics?x=1");
  EXPECT_EQ(ParseUrl("http://[::1]:9090")->host, "::1");
  EXPECT_EQ(ParseUrl("http://h")->target, "/");
  EXPECT_FALSE(ParseUrl("ftp://h/").ok());
  EXPECT_FALSE(ParseUrl("http://h:99999/").ok());
  EXPECT_FALSE(ParseUrl("nonsense").ok());
}

TEST(HttpServer, SlowClientTimesOut) {
  ServerOptions opts;
  opts.read_timeout = std::chrono::seconds(1);
  Server s(opts);
  s.Handle("GET", "/", [](const Request&, Response* r) { *r = Response::Text(200, "ok"); });
  ASSERT_TRUE(s.Start().ok());
  // A client that connects and never sends must not hold the server: others still get answers.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket idle(ioc);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(s.port())});
  EXPECT_EQ(Fetch({"GET", "http://127.0.0.1:" + std::to_string(s.port()) + "/"})->status, 200);
  char c;
  boost::system::error_code ec;
  idle.read_some(boost::asio::buffer(&c, 1), ec);  // closed by the server after the timeout
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace coroot::http
