// Docker Engine API client: HTTP responses and ContainerInspect bodies captured from dockerd
// 20.10.24 on this machine (plus hand-made variants), and a fake daemon on a unix socket.
#include "agent/containers/dockerd.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "agent/containers/fake_daemon.h"
#include "agent/containers/unix_http.h"
#include "lib/base/file.h"

namespace coroot::agent::containers {
namespace {

std::string Fixture(const std::string& name) {
  auto t = ReadFile(std::string(CONTAINERS_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : "";
}

const std::string kId = "03b0954431d1bc7620e2cd293f8eb6543db62e6ecc7b544c15148bd45bd6398f";

TEST(UnixHttpTest, CapturedChunkedResponse) {
  auto r = ParseHttpResponse(Fixture("docker_http_200.txt"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.front(), '{');
  EXPECT_EQ(r->body.back(), '\n');
  EXPECT_TRUE(ParseDockerInspect(r->body).ok());
  auto nf = ParseHttpResponse(Fixture("docker_http_404.txt"));
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->status, 404);
}

TEST(UnixHttpTest, ChunksLengthsAndMalformed) {
  auto c = ParseHttpResponse(Fixture("http_chunked.txt"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->body, "hello, world");
  EXPECT_FALSE(ParseHttpResponse(Fixture("http_short_body.txt")).ok());
  EXPECT_FALSE(ParseHttpResponse(Fixture("http_bad_chunk.txt")).ok());
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 200 OK\r\n").ok());
  EXPECT_FALSE(ParseHttpResponse("SMTP 200 OK\r\n\r\n").ok());
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 2000 OK\r\n\r\n").ok());
  auto eof = ParseHttpResponse("HTTP/1.0 200 OK\r\n\r\nuntil the end");
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(eof->body, "until the end");
}

TEST(DockerInspectTest, CapturedPlainContainer) {
  auto md = ParseDockerInspect(Fixture("docker_inspect_plain.json"));
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->name, "coroot-web");
  EXPECT_EQ(md->image, "coroot-bb:latest");
  EXPECT_EQ(md->labels, (std::map<std::string, std::string>{{"app", "web"}}));
  EXPECT_EQ(md->env.at("FOO"), "bar");
  EXPECT_TRUE(md->log_path.ends_with(kId + "-json.log"));
  EXPECT_TRUE(md->volumes.empty());
  EXPECT_EQ(cgroup::ContainerIdFor({cgroup::ContainerType::kDocker, kId}, *md, std::chrono::system_clock::now()),
            "/docker/coroot-web");
}

TEST(DockerInspectTest, KubernetesLabelsAndPvcVolumes) {
  auto md = ParseDockerInspect(Fixture("docker_inspect_k8s.json"));
  ASSERT_TRUE(md.ok());
  EXPECT_TRUE(md->env.empty());  // "Env": null
  std::string id =
      cgroup::ContainerIdFor({cgroup::ContainerType::kDocker, kId}, *md, std::chrono::system_clock::now());
  EXPECT_EQ(id, "/k8s/shop/api-7d9f8b6c5d-x2k4p/app");
  EXPECT_EQ(cgroup::AppIdFor(id), "/k8s/shop/api");
  EXPECT_EQ(md->volumes, (std::map<std::string, std::string>{{"/data", "pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}}));
}

TEST(DockerInspectTest, Malformed) {
  for (const char* f : {"docker_inspect_bad_name.json", "docker_inspect_truncated.json", "docker_inspect_array.json"})
    EXPECT_FALSE(ParseDockerInspect(Fixture(f)).ok()) << f;
  EXPECT_FALSE(ParseDockerInspect("").ok());
}

TEST(DockerClientTest, InspectsThroughTheSocket) {
  FakeDaemon d(Fixture("docker_http_200.txt"));
  DockerClient client(d.path());
  auto md = client.Inspect(kId);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(md->name, "coroot-web");
  EXPECT_TRUE(d.request().starts_with("GET /containers/" + kId + "/json HTTP/1.1\r\n"));
}

TEST(DockerClientTest, NotFoundTimeoutAndNoDaemon) {
  {
    FakeDaemon d(Fixture("docker_http_404.txt"));
    EXPECT_EQ(DockerClient(d.path()).Inspect(kId).status().code(), StatusCode::kNotFound);
  }
  {
    FakeDaemon d("", /*answer=*/false);
    auto r = DockerClient(d.path(), std::chrono::milliseconds(100)).Inspect(kId);
    EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(DockerClient("/nonexistent/docker.sock").Inspect(kId).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(DockerClient("/nonexistent/docker.sock").Inspect("../../etc").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace coroot::agent::containers
