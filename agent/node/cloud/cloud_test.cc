// Cloud metadata: DMI detection fixtures, the parsers against each provider's documented response,
// the fetchers against a local server replaying those responses (enforcing each provider's
// request shape: IMDSv2 token, Metadata-Flavor, Metadata: true, Bearer Oracle), timeouts,
// malformed bodies and the flag overrides of node_cloud_info.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "agent/node/cloud/cloud_info.h"
#include "agent/node/cloud/cloud_metadata.h"
#include "lib/base/file.h"
#include "lib/http/client.h"
#include "lib/http/server.h"
#include "lib/testing/process.h"

namespace coroot::agent::node::cloud {
namespace {

std::string Dir() { return std::string(NODE_TESTDATA_DIR) + "/../cloud/testdata/"; }

std::string Fx(const std::string& name) {
  StatusOr<std::string> t = ReadFile(Dir() + name);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : "";
}

// What each provider's fixture says, every label spelled out.
CloudMetadata Expected(const std::string& p) {
  CloudMetadata m;
  m.provider = p;
  if (p == kAWS) {
    m.account_id = "123456789012";
    m.instance_id = "i-1234567890abcdef0";
    m.instance_type = "m5.large";
    m.instance_life_cycle = "spot";
    m.region = "us-east-1";
    m.availability_zone = "us-east-1a";
    m.availability_zone_id = "use1-az4";
    m.local_ipv4 = "172.31.17.42";
    m.public_ipv4 = "54.210.167.204";
  } else if (p == kGCP) {
    m.account_id = "my-project-123";
    m.instance_id = "4520031799277581759";  // a JSON number past 2^53: kept exact
    m.instance_type = "e2-standard-4";
    m.instance_life_cycle = "spot";
    m.region = "us-central1";
    m.availability_zone = "us-central1-b";
    m.local_ipv4 = "10.128.0.7";
    m.public_ipv4 = "34.123.45.67";
  } else if (p == kAzure) {
    m.account_id = "8d10da13-8125-4ba9-a717-bf7490507b3d";
    m.instance_id = "02aab8a4-74ef-476e-8182-f6d2ba4166a6";
    m.instance_type = "Standard_D4s_v3";
    m.instance_life_cycle = "spot";
    m.region = "westeurope";
    m.availability_zone = "westeurope-2";
    m.local_ipv4 = "10.224.0.4";
    m.public_ipv4 = "20.50.60.70";
  } else if (p == kHetzner) {
    m.instance_id = "42424242";
    m.region = "eu-central";
    m.availability_zone = "fsn1-dc14";
    m.local_ipv4 = "10.0.0.2";
    m.public_ipv4 = "116.203.0.12";
  } else if (p == kDigitalOcean) {
    m.instance_id = "2756294";
    m.region = "nyc3";
    m.local_ipv4 = "10.132.255.113";
    m.public_ipv4 = "104.131.20.105";
  } else if (p == kAlibaba) {
    m.account_id = "1234567890123456";
    m.instance_id = "i-bp1hygp5b04o5p5zxxxx";
    m.instance_type = "ecs.g7.xlarge";
    m.region = "cn-hangzhou";
    m.availability_zone = "cn-hangzhou-i";
    m.local_ipv4 = "172.16.10.21";
    m.public_ipv4 = "47.98.100.200";
  } else if (p == kOracle) {
    m.account_id = "ocid1.tenancy.oc1..aaaaaaaatenancyexample";
    m.instance_id = "ocid1.instance.oc1.iad.anuwcljtexampleinstanceid";
    m.instance_type = "VM.Standard.E4.Flex";
    m.region = "us-ashburn-1";
    m.availability_zone = "EMIr:US-ASHBURN-AD-1";
    m.local_ipv4 = "10.0.10.15";
  } else if (p == kScaleway) {
    m.account_id = "3f709602-5e6c-4619-b80c-e841c89734af";
    m.instance_id = "5d3dcf4d-52d6-4b93-9bb4-f1e5a4a9c1e2";
    m.instance_type = "PRO2-S";
    m.region = "fr-par";
    m.availability_zone = "fr-par-2";
    m.local_ipv4 = "10.64.12.34";
    m.public_ipv4 = "51.158.10.20";
  }
  return m;
}

const char* kProviders[] = {kAWS, kGCP, kAzure, kHetzner, kDigitalOcean, kAlibaba, kOracle, kScaleway};

std::string Folder(const std::string& p) {
  std::string s;
  for (char c : p) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void ExpectSame(const CloudMetadata& got, const CloudMetadata& want) {
  EXPECT_EQ(got.provider, want.provider);
  EXPECT_EQ(got.account_id, want.account_id);
  EXPECT_EQ(got.instance_id, want.instance_id);
  EXPECT_EQ(got.instance_type, want.instance_type);
  EXPECT_EQ(got.instance_life_cycle, want.instance_life_cycle);
  EXPECT_EQ(got.region, want.region);
  EXPECT_EQ(got.availability_zone, want.availability_zone);
  EXPECT_EQ(got.availability_zone_id, want.availability_zone_id);
  EXPECT_EQ(got.local_ipv4, want.local_ipv4);
  EXPECT_EQ(got.public_ipv4, want.public_ipv4);
}

// ---- DMI detection ----

TEST(CloudDmiTest, DetectsEveryProviderFromItsFixture) {
  std::map<std::string, std::string> cases = {
      {"aws", kAWS},         {"aws_xen", kAWS},  {"gcp", kGCP},       {"azure", kAzure},
      {"hetzner", kHetzner}, {"digitalocean", kDigitalOcean}, {"alibaba", kAlibaba},
      {"oracle", kOracle},   {"scaleway", kScaleway},         {"kvm", ""}};
  for (const auto& [dir, want] : cases) {
    Dmi d = ReadDmi(Dir() + "dmi/" + dir);
    EXPECT_FALSE(d.sys_vendor.empty()) << dir;
    EXPECT_EQ(DetectProvider(d), want) << dir;
  }
  Dmi aws = ReadDmi(Dir() + "dmi/aws");
  EXPECT_EQ(aws.sys_vendor, "Amazon EC2");  // trimmed, no newline
  EXPECT_EQ(aws.product_name, "m5.large");
  EXPECT_EQ(ReadDmi(Dir() + "dmi/aws_xen").product_uuid, "ec2e1916-9099-7caf-fd21-012345678901");
  // No DMI at all (containers without /sys/class/dmi, this machine): no provider.
  EXPECT_EQ(DetectProvider(ReadDmi("/nonexistent")), "");
  // A UUID that happens to start with "ec2" on a non-Xen machine is not AWS.
  Dmi kvm = ReadDmi(Dir() + "dmi/kvm");
  kvm.product_uuid = "ec2abcde-0000-0000-0000-000000000000";
  EXPECT_EQ(DetectProvider(kvm), "");
  // Plain Hyper-V without Azure's asset tag and with another product name is not Azure.
  Dmi hv;
  hv.sys_vendor = "Microsoft Corporation";
  hv.product_name = "Surface Laptop";
  EXPECT_EQ(DetectProvider(hv), "");
}

// ---- parsers ----

TEST(CloudParsersTest, EveryProviderDocument) {
  auto aws = ParseAwsIdentityDocument(Fx("aws/instance-identity-document.json"));
  ASSERT_TRUE(aws.ok()) << aws.status().ToString();
  CloudMetadata want = Expected(kAWS);
  // The document alone has no life cycle, public IP or AZ id (separate meta-data paths).
  want.instance_life_cycle = want.public_ipv4 = want.availability_zone_id = "";
  ExpectSame(*aws, want);

  auto gcp = ParseGcpMetadata(Fx("gcp/recursive.json"));
  ASSERT_TRUE(gcp.ok()) << gcp.status().ToString();
  ExpectSame(*gcp, Expected(kGCP));

  auto az = ParseAzureMetadata(Fx("azure/instance.json"));
  ASSERT_TRUE(az.ok()) << az.status().ToString();
  ExpectSame(*az, Expected(kAzure));

  auto hz = ParseHetznerMetadata(Fx("hetzner/metadata.yaml"));
  ASSERT_TRUE(hz.ok()) << hz.status().ToString();
  want = Expected(kHetzner);
  want.local_ipv4 = "";  // from private-networks
  ExpectSame(*hz, want);
  EXPECT_EQ(*ParseHetznerPrivateNetworks(Fx("hetzner/private-networks.yaml")), "10.0.0.2");
  EXPECT_FALSE(ParseHetznerPrivateNetworks("[]\n").ok());

  auto dobj = ParseDigitalOceanMetadata(Fx("digitalocean/v1.json"));
  ASSERT_TRUE(dobj.ok()) << dobj.status().ToString();
  ExpectSame(*dobj, Expected(kDigitalOcean));

  auto oci = ParseOracleInstance(Fx("oracle/instance.json"));
  ASSERT_TRUE(oci.ok()) << oci.status().ToString();
  want = Expected(kOracle);
  want.local_ipv4 = "";  // from /opc/v2/vnics/
  ExpectSame(*oci, want);
  EXPECT_EQ(*ParseOracleVnics(Fx("oracle/vnics.json")), "10.0.10.15");

  auto scw = ParseScalewayConf(Fx("scaleway/conf.json"));
  ASSERT_TRUE(scw.ok()) << scw.status().ToString();
  ExpectSame(*scw, Expected(kScaleway));
}

TEST(CloudParsersTest, VariantsOfTheDocuments) {
  // GCP on-demand (no SPOT model, not preemptible), legacy preemptible, no external IP.
  auto g = ParseGcpMetadata(R"({"instance":{"id":1,"zone":"projects/1/zones/europe-west4-a",
      "scheduling":{"preemptible":"FALSE","provisioningModel":"STANDARD"},
      "networkInterfaces":[{"ip":"10.0.0.1","accessConfigs":[]}]},"project":{"numericProjectId":42}})");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->instance_life_cycle, "on-demand");
  EXPECT_EQ(g->region, "europe-west4");
  EXPECT_EQ(g->account_id, "42");
  EXPECT_EQ(g->public_ipv4, "");
  auto gp = ParseGcpMetadata(R"({"instance":{"id":"7","scheduling":{"preemptible":"TRUE"}}})");
  ASSERT_TRUE(gp.ok());
  EXPECT_EQ(gp->instance_life_cycle, "preemptible");
  // Azure regular priority, no zone.
  auto a = ParseAzureMetadata(R"({"compute":{"vmId":"x","location":"eastus","zone":"","priority":"Regular"}})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->instance_life_cycle, "on-demand");
  EXPECT_EQ(a->availability_zone, "");
  // Scaleway without a public IP (null) and without the top-level zone.
  auto s = ParseScalewayConf(R"({"id":"i","public_ip":null,"private_ip":null,"location":{"zone_id":"nl-ams-1"}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->availability_zone, "nl-ams-1");
  EXPECT_EQ(s->region, "nl-ams");
  EXPECT_EQ(s->public_ipv4, "");
  EXPECT_EQ(RegionFromZone("us-east-1a"), "us-east");  // only for providers whose zone is <region>-<x>
  EXPECT_EQ(RegionFromZone("nozone"), "nozone");
}

TEST(CloudParsersTest, MalformedBodiesAreClearErrors) {
  for (const char* name : {"malformed/truncated.json", "malformed/array.json"}) {
    std::string body = Fx(name);
    auto aws = ParseAwsIdentityDocument(body);
    ASSERT_FALSE(aws.ok()) << name;
    EXPECT_NE(aws.status().message().find("AWS instance identity document"), std::string::npos)
        << aws.status().message();
    EXPECT_FALSE(ParseGcpMetadata(body).ok()) << name;
    EXPECT_FALSE(ParseAzureMetadata(body).ok()) << name;
    EXPECT_FALSE(ParseDigitalOceanMetadata(body).ok()) << name;
    EXPECT_FALSE(ParseOracleInstance(body).ok()) << name;
    EXPECT_FALSE(ParseScalewayConf(body).ok()) << name;
  }
  auto t = ParseAwsIdentityDocument(Fx("malformed/truncated.json"));
  EXPECT_EQ(t.status().message(), "AWS instance identity document: not JSON");
  auto g = ParseGcpMetadata(Fx("malformed/gcp_wrong_types.json"));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message(), "GCP metadata: no instance object");
  auto a = ParseAzureMetadata(Fx("malformed/azure_wrong_types.json"));
  ASSERT_FALSE(a.ok());  // vmId an object: no usable id
  EXPECT_EQ(a.status().message(), "Azure metadata: no compute.vmId");
  auto h = ParseHetznerMetadata(Fx("malformed/hetzner_binary.yaml"));
  ASSERT_FALSE(h.ok());  // a control character is never a label value
  EXPECT_EQ(h.status().message(), "Hetzner metadata: no instance-id");
  EXPECT_FALSE(ParseOracleVnics("{}").ok());
  EXPECT_FALSE(ParseTextValue("").ok());
  EXPECT_FALSE(ParseTextValue(std::string(257, 'a')).ok());
  EXPECT_FALSE(ParseTextValue("a\x7f").ok());
  EXPECT_EQ(*ParseTextValue(" spot\n"), "spot");
}

// ---- a metadata service replaying the fixtures ----

class FakeMetadata {
 public:
  // `omit`: AWS meta-data paths answered 404 (as for an instance without a public IPv4).
  explicit FakeMetadata(const std::string& provider, std::set<std::string> omit = {}) {
    http::ServerOptions o;
    o.listen = "127.0.0.1:" + std::to_string(testing::FreePort());
    server_ = std::make_unique<http::Server>(o);
    const std::string p = provider;
    auto file = [](const std::string& name) { return Fx(name); };
    if (p == kAWS) {
      token_ = Fx("aws/token.txt");
      server_->Handle("PUT", "/latest/api/token", [this](const http::Request& r, http::Response* w) {
        Record(r);
        if (r.Header("X-aws-ec2-metadata-token-ttl-seconds").empty()) {
          *w = http::Response::Text(400, "missing ttl");
          return;
        }
        *w = http::Response::Text(200, token_);
      });
      std::map<std::string, std::string> paths = {
          {"/latest/dynamic/instance-identity/document", file("aws/instance-identity-document.json")},
          {"/latest/meta-data/instance-life-cycle", file("aws/instance-life-cycle.txt")},
          {"/latest/meta-data/public-ipv4", file("aws/public-ipv4.txt")},
          {"/latest/meta-data/placement/availability-zone-id", file("aws/availability-zone-id.txt")}};
      for (const std::string& path : omit) paths.erase(path);
      server_->Handle("GET", "/latest/*", [this, paths](const http::Request& r, http::Response* w) {
        Record(r);
        if (r.Header("X-aws-ec2-metadata-token") != token_) {  // IMDSv2 only: no token, no data
          *w = http::Response::Text(401, "");
          return;
        }
        auto it = paths.find(r.path);
        *w = it == paths.end() ? http::Response::Text(404, "") : http::Response::Text(200, it->second);
      });
    } else if (p == kGCP) {
      std::string body = file("gcp/recursive.json");
      server_->Handle("GET", "/computeMetadata/v1/", [this, body](const http::Request& r, http::Response* w) {
        Record(r);
        if (r.Header("Metadata-Flavor") != "Google") *w = http::Response::Text(403, "Missing Metadata-Flavor:Google");
        else if (r.QueryParam("recursive") != "true") *w = http::Response::Text(200, "instance/\nproject/\n");
        else *w = http::Response::Json(200, body);
      });
    } else if (p == kAzure) {
      std::string body = file("azure/instance.json");
      server_->Handle("GET", "/metadata/instance", [this, body](const http::Request& r, http::Response* w) {
        Record(r);
        if (r.Header("Metadata") != "true") *w = http::Response::Json(400, R"({"error":"Bad request"})");
        else if (r.QueryParam("api-version").empty()) *w = http::Response::Json(400, R"({"error":"no api-version"})");
        else *w = http::Response::Json(200, body);
      });
    } else if (p == kHetzner) {
      Serve("/hetzner/v1/metadata", file("hetzner/metadata.yaml"));
      Serve("/hetzner/v1/metadata/private-networks", file("hetzner/private-networks.yaml"));
    } else if (p == kDigitalOcean) {
      Serve("/metadata/v1.json", file("digitalocean/v1.json"));
    } else if (p == kAlibaba) {
      for (const char* path : {"instance-id", "instance/instance-type", "region-id", "zone-id", "owner-account-id",
                               "private-ipv4", "eipv4"})
        Serve(std::string("/latest/meta-data/") + path, file(std::string("alibaba/meta-data/") + path));
    } else if (p == kOracle) {
      std::map<std::string, std::string> paths = {{"/opc/v2/instance/", file("oracle/instance.json")},
                                                  {"/opc/v2/vnics/", file("oracle/vnics.json")}};
      server_->Handle("GET", "/opc/v2/*", [this, paths](const http::Request& r, http::Response* w) {
        Record(r);
        auto it = paths.find(r.path);
        if (r.Header("Authorization") != "Bearer Oracle") *w = http::Response::Text(401, "");
        else if (it == paths.end()) *w = http::Response::Text(404, "");
        else *w = http::Response::Json(200, it->second);
      });
    } else if (p == kScaleway) {
      std::string body = file("scaleway/conf.json");
      server_->Handle("GET", "/conf", [this, body](const http::Request& r, http::Response* w) {
        Record(r);
        *w = r.QueryParam("format") == "json" ? http::Response::Json(200, body)
                                              : http::Response::Text(200, "ID=text-format\n");
      });
    }
    Status st = server_->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  ~FakeMetadata() { server_->Stop(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void Serve(const std::string& path, std::string body) {
    server_->Handle("GET", path, [this, body](const http::Request& r, http::Response* w) {
      Record(r);
      *w = http::Response::Text(200, body);
    });
  }
  void Record(const http::Request& r) {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(r.method + " " + r.target);
  }

  std::unique_ptr<http::Server> server_;
  std::string token_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

FetchOptions Opts(const std::string& url) {
  FetchOptions o;
  o.base_url = url;
  return o;
}

TEST(CloudFetchTest, EveryProviderAgainstItsReplayedService) {
  for (const char* p : kProviders) {
    SCOPED_TRACE(p);
    FakeMetadata fake(p);
    auto m = FetchMetadata(p, Opts(fake.url()));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ExpectSame(*m, Expected(p));
  }
}

TEST(CloudFetchTest, RequestShapes) {
  {
    FakeMetadata fake(kAWS);
    ASSERT_TRUE(FetchMetadata(kAWS, Opts(fake.url())).ok());
    std::vector<std::string> r = fake.requests();
    ASSERT_GE(r.size(), 4u);
    EXPECT_EQ(r[0], "PUT /latest/api/token");  // the token first
    EXPECT_EQ(r[1], "GET /latest/dynamic/instance-identity/document");
  }
  {
    FakeMetadata fake(kGCP);
    ASSERT_TRUE(FetchMetadata(kGCP, Opts(fake.url())).ok());
    EXPECT_EQ(fake.requests(), std::vector<std::string>{"GET /computeMetadata/v1/?recursive=true"});
  }
  {
    FakeMetadata fake(kAzure);
    ASSERT_TRUE(FetchMetadata(kAzure, Opts(fake.url())).ok());
    EXPECT_EQ(fake.requests(), std::vector<std::string>{"GET /metadata/instance?api-version=2021-02-01"});
  }
  {
    FakeMetadata fake(kScaleway);
    ASSERT_TRUE(FetchMetadata(kScaleway, Opts(fake.url())).ok());
    EXPECT_EQ(fake.requests(), std::vector<std::string>{"GET /conf?format=json"});
  }
}

TEST(CloudFetchTest, AwsInstanceWithoutPublicIpOrLifeCycle) {
  FakeMetadata fake(kAWS, {"/latest/meta-data/public-ipv4", "/latest/meta-data/instance-life-cycle"});
  auto m = FetchMetadata(kAWS, Opts(fake.url()));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  CloudMetadata want = Expected(kAWS);
  want.public_ipv4 = "";
  want.instance_life_cycle = "";
  ExpectSame(*m, want);
}

TEST(CloudFetchTest, ImdsV2TokenIsEnforced) {
  FakeMetadata fake(kAWS);
  // What an IMDSv1 client would do: a GET without the token is refused by the fake, as by EC2.
  http::ClientRequest req;
  req.url = fake.url() + "/latest/dynamic/instance-identity/document";
  auto r = http::Fetch(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 401);
  req.headers = {{"X-aws-ec2-metadata-token", "forged"}};
  EXPECT_EQ(http::Fetch(req)->status, 401);
  // Our fetcher gets the data, so it sent the token it was issued.
  EXPECT_TRUE(FetchMetadata(kAWS, Opts(fake.url())).ok());
}

TEST(CloudFetchTest, MissingHeadersAreRefusedByTheFakes) {
  // Guards the fakes themselves: without the documented header each answers an error.
  for (auto [p, path] : std::vector<std::pair<std::string, std::string>>{
           {kGCP, "/computeMetadata/v1/?recursive=true"},
           {kAzure, "/metadata/instance?api-version=2021-02-01"},
           {kOracle, "/opc/v2/instance/"}}) {
    FakeMetadata fake(p);
    http::ClientRequest req;
    req.url = fake.url() + path;
    auto r = http::Fetch(req);
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->status, 200) << p;
  }
}

// A TCP listener that accepts connections into its backlog and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentServer() { close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(CloudFetchTest, ServiceThatNeverAnswersIsGivenUpWithinTheBound) {
  SilentServer silent;
  for (const char* p : kProviders) {
    FetchOptions o = Opts(silent.url());
    o.timeout = std::chrono::milliseconds(300);
    o.total_timeout = std::chrono::milliseconds(700);
    auto start = std::chrono::steady_clock::now();
    auto m = FetchMetadata(p, o);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(m.ok()) << p;
    // AWS and Alibaba make several requests; total_timeout stops new ones, each is bounded by timeout.
    EXPECT_LT(took, std::chrono::milliseconds(1300)) << p;
  }
}

TEST(CloudFetchTest, MalformedResponseIsAnErrorNotACrash) {
  http::ServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(testing::FreePort());
  http::Server srv(o);
  srv.Handle("", "/*", [](const http::Request&, http::Response* w) {
    *w = http::Response::Json(200, Fx("malformed/truncated.json"));
  });
  ASSERT_TRUE(srv.Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(srv.port());
  for (const char* p : {kGCP, kAzure, kDigitalOcean, kOracle, kScaleway}) {
    auto m = FetchMetadata(p, Opts(url));
    ASSERT_FALSE(m.ok()) << p;
    EXPECT_NE(m.status().message().find("not JSON"), std::string::npos) << m.status().ToString();
  }
  // AWS: the token is the malformed text (fine), the document is not JSON.
  auto aws = FetchMetadata(kAWS, Opts(url));
  ASSERT_FALSE(aws.ok());
  EXPECT_NE(aws.status().message().find("not JSON"), std::string::npos) << aws.status().ToString();
  srv.Stop();
}

TEST(CloudFetchTest, OversizedResponseIsRefused) {
  http::ServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(testing::FreePort());
  http::Server srv(o);
  srv.Handle("GET", "/metadata/v1.json", [](const http::Request&, http::Response* w) {
    *w = http::Response::Json(200, "{\"droplet_id\":1,\"pad\":\"" + std::string(2 << 20, 'x') + "\"}");
  });
  ASSERT_TRUE(srv.Start().ok());
  auto m = FetchMetadata(kDigitalOcean, Opts("http://127.0.0.1:" + std::to_string(srv.port())));
  EXPECT_FALSE(m.ok());
  srv.Stop();
}

TEST(CloudFetchTest, OptionalPathsMissingKeepTheRest) {
  // Hetzner without private networks, Oracle without the VNICs path: the main document still counts.
  http::ServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(testing::FreePort());
  http::Server srv(o);
  srv.Handle("GET", "/hetzner/v1/metadata", [](const http::Request&, http::Response* w) {
    *w = http::Response::Text(200, Fx("hetzner/metadata.yaml"));
  });
  srv.Handle("GET", "/opc/v2/instance/", [](const http::Request&, http::Response* w) {
    *w = http::Response::Json(200, Fx("oracle/instance.json"));
  });
  ASSERT_TRUE(srv.Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(srv.port());
  auto h = FetchMetadata(kHetzner, Opts(url));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  CloudMetadata want = Expected(kHetzner);
  want.local_ipv4 = "";
  ExpectSame(*h, want);
  auto oci = FetchMetadata(kOracle, Opts(url));
  ASSERT_TRUE(oci.ok()) << oci.status().ToString();
  want = Expected(kOracle);
  want.local_ipv4 = "";
  ExpectSame(*oci, want);
  srv.Stop();
}

// ---- node_cloud_info ----

std::map<std::string, std::string> Labels(const prom::MetricFamily& f) {
  std::map<std::string, std::string> m;
  for (const auto& l : f.samples.at(0).labels) m[l.name] = l.value;
  return m;
}

std::vector<prom::MetricFamily> CollectWhenDone(CloudInfoCollector& c) {
  EXPECT_TRUE(testing::WaitFor([&] { return c.done(); }, std::chrono::seconds(10)));
  std::vector<prom::MetricFamily> out;
  c.Collect(&out);
  return out;
}

TEST(CloudInfoTest, EveryProviderEndToEndFromDmiToTheSeries) {
  for (const char* p : kProviders) {
    SCOPED_TRACE(p);
    FakeMetadata fake(p);
    CloudInfoOptions o;
    o.sys_root = Dir() + "dmi/" + Folder(p);
    o.fetch = Opts(fake.url());
    CloudInfoCollector c(o);
    std::vector<prom::MetricFamily> before;
    c.Collect(&before);  // may be empty (fetch not finished) — never blocks
    c.Start();
    auto out = CollectWhenDone(c);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].name, "node_cloud_info");
    ASSERT_EQ(out[0].samples.size(), 1u);
    EXPECT_EQ(out[0].samples[0].value, 1);
    CloudMetadata w = Expected(p);
    std::map<std::string, std::string> want = {{"provider", w.provider},
                                               {"account_id", w.account_id},
                                               {"instance_id", w.instance_id},
                                               {"instance_type", w.instance_type},
                                               {"instance_life_cycle", w.instance_life_cycle},
                                               {"region", w.region},
                                               {"availability_zone", w.availability_zone},
                                               {"availability_zone_id", w.availability_zone_id},
                                               {"local_ipv4", w.local_ipv4},
                                               {"public_ipv4", w.public_ipv4}};
    EXPECT_EQ(Labels(out[0]), want);
  }
}

TEST(CloudInfoTest, FlagsOverrideTheMetadata) {
  FakeMetadata fake(kAWS);
  CloudInfoOptions o;
  o.sys_root = Dir() + "dmi/aws";
  o.fetch = Opts(fake.url());
  o.overrides.provider = "aws-custom";
  o.overrides.region = "eu-west-9";
  o.overrides.availability_zone = "eu-west-9z";
  o.overrides.instance_type = "custom.large";
  o.overrides.instance_life_cycle = "on-demand";
  CloudInfoCollector c(o);
  c.Start();
  auto out = CollectWhenDone(c);
  ASSERT_EQ(out.size(), 1u);
  auto l = Labels(out[0]);
  EXPECT_EQ(l["provider"], "aws-custom");
  EXPECT_EQ(l["region"], "eu-west-9");
  EXPECT_EQ(l["availability_zone"], "eu-west-9z");
  EXPECT_EQ(l["instance_type"], "custom.large");
  EXPECT_EQ(l["instance_life_cycle"], "on-demand");
  // What the flags do not cover still comes from the metadata.
  EXPECT_EQ(l["instance_id"], "i-1234567890abcdef0");
  EXPECT_EQ(l["account_id"], "123456789012");
  EXPECT_EQ(l["availability_zone_id"], "use1-az4");
  EXPECT_EQ(l["public_ipv4"], "54.210.167.204");
}

TEST(CloudInfoTest, OnlyFlagsWithoutMetadata) {
  CloudInfoOptions o;
  o.sys_root = Dir() + "dmi/kvm";  // no cloud recognised: nothing is fetched
  o.overrides.provider = "on-prem";
  o.overrides.region = "dc1";
  o.overrides.availability_zone = "rack-7";
  CloudInfoCollector c(o);
  c.Start();
  auto out = CollectWhenDone(c);
  ASSERT_EQ(out.size(), 1u);
  std::map<std::string, std::string> want = {
      {"provider", "on-prem"},  {"account_id", ""},          {"instance_id", ""},          {"instance_type", ""},
      {"instance_life_cycle", ""}, {"region", "dc1"},        {"availability_zone", "rack-7"},
      {"availability_zone_id", ""}, {"local_ipv4", ""},      {"public_ipv4", ""}};
  EXPECT_EQ(Labels(out[0]), want);
}

TEST(CloudInfoTest, NoCloudAndNoFlagsExportsNothing) {
  CloudInfoOptions o;
  o.sys_root = "/nonexistent";
  CloudInfoCollector c(o);
  c.Start();
  EXPECT_TRUE(CollectWhenDone(c).empty());
}

// Captures what this process writes to stderr (our log) while alive.
class StderrCapture {
 public:
  StderrCapture() {
    path_ = testing::MakeTempDir("cloud_log") + "/stderr";
    fflush(stderr);
    saved_ = dup(2);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  std::string Stop() {
    if (saved_ >= 0) {
      fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
    }
    StatusOr<std::string> t = ReadFile(path_);
    return t.ok() ? *t : "";
  }
  ~StderrCapture() { Stop(); }

 private:
  std::string path_;
  int saved_ = -1;
};

int Count(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) n++;
  return n;
}

TEST(CloudInfoTest, SilentServiceGivesUpExportsNothingAndLogsOnce) {
  SilentServer silent;
  CloudInfoOptions o;
  o.sys_root = Dir() + "dmi/gcp";
  o.fetch = Opts(silent.url());
  o.fetch.timeout = std::chrono::milliseconds(400);
  o.fetch.total_timeout = std::chrono::milliseconds(800);
  StderrCapture cap;
  auto start = std::chrono::steady_clock::now();
  CloudInfoCollector c(o);
  c.Start();
  auto started = std::chrono::steady_clock::now() - start;
  EXPECT_LT(started, std::chrono::milliseconds(100));  // Start never waits for the service
  std::vector<prom::MetricFamily> early;
  c.Collect(&early);
  EXPECT_TRUE(early.empty());
  auto out = CollectWhenDone(c);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(out.empty());
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  c.Collect(&out);
  c.Collect(&out);
  std::string log = cap.Stop();
  EXPECT_EQ(Count(log, "cloud metadata:"), 1) << log;
  EXPECT_NE(log.find("GCP metadata"), std::string::npos) << log;
}

}  // namespace
}  // namespace coroot::agent::node::cloud
