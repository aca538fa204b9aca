// Parsers of the metadata services' documented response bodies. Every value that becomes a label
// goes through Clean(): printable ASCII, at most 256 bytes, else dropped.
#include <simdjson.h>

#include <optional>

#include "agent/node/cloud/cloud_metadata.h"
#include "lib/base/strings.h"

namespace coroot::agent::node::cloud {

namespace {

using simdjson::dom::element;
// A default-constructed simdjson element has no document behind it (using it is undefined), so an
// absent member is an empty optional, never such an element.
using Opt = std::optional<element>;

constexpr size_t kMaxValue = 256;

std::string Clean(std::string_view v) {
  std::string s = Trim(v);
  if (s.size() > kMaxValue) return "";
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return "";
  return s;
}

// A string member, or a number rendered in decimal (GCP's ids and DigitalOcean's droplet_id are
// JSON numbers, up to 2^64); "" when absent or another type.
std::string Str(Opt e, const char* key) {
  element v;
  if (!e || !e->is_object() || (*e)[key].get(v) != simdjson::SUCCESS) return "";
  std::string_view s;
  if (v.get(s) == simdjson::SUCCESS) return Clean(s);
  uint64_t u;
  if (v.get(u) == simdjson::SUCCESS) return std::to_string(u);
  int64_t i;
  if (v.get(i) == simdjson::SUCCESS) return std::to_string(i);
  return "";
}

// An object member that is itself an object (nullopt otherwise).

Opt Member(Opt e, const char* key) {
  element v;
  if (!e || !e->is_object() || (*e)[key].get(v) != simdjson::SUCCESS || !v.is_object()) return std::nullopt;
  return v;
}

// The first element of an array member, when it is an object.
Opt First(Opt e, const char* key) {
  simdjson::dom::array a;
  if (!e || !e->is_object() || (*e)[key].get(a) != simdjson::SUCCESS) return std::nullopt;
  for (element x : a) {
    if (x.is_object()) return x;
    return std::nullopt;
  }
  return std::nullopt;
}

bool IsObject(const Opt& e) { return e.has_value(); }

// Parses json into *doc (kept alive by *parser); an error names `what`.
Status ParseJson(std::string_view json, const char* what, simdjson::dom::parser* parser, element* doc) {
  simdjson::padded_string padded(json.data(), json.size());
  if (parser->parse(padded).get(*doc) != simdjson::SUCCESS) return InvalidArgument(std::string(what) + ": not JSON");
  return Status::Ok();
}

std::string LastPathPart(std::string_view s) {
  size_t slash = s.rfind('/');
  return Clean(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

// A flat "key: value" YAML mapping's top-level scalar (quotes stripped); "" when absent.
std::string YamlScalar(std::string_view yaml, std::string_view key) {
  for (const std::string& line_s : Split(yaml, '\n')) {
    std::string_view line = line_s;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    std::string v = Trim(line.substr(key.size() + 1));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return Clean(v);
  }
  return "";
}

}  // namespace

std::string RegionFromZone(std::string_view zone) {
  size_t dash = zone.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::string(zone);
  return std::string(zone.substr(0, dash));
}

StatusOr<std::string> ParseTextValue(std::string_view text) {
  std::string s = Trim(text);
  if (s.empty()) return InvalidArgument("empty value");
  std::string c = Clean(s);
  if (c.empty()) return InvalidArgument("value is not printable or longer than 256 bytes");
  return c;
}

// AWS GET /latest/dynamic/instance-identity/document: accountId, instanceId, instanceType, region,
// availabilityZone, privateIp. (Life cycle, public IPv4 and the AZ id are separate meta-data paths.)
StatusOr<CloudMetadata> ParseAwsIdentityDocument(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "AWS instance identity document", &parser, &doc));
  if (!doc.is_object()) return InvalidArgument("AWS instance identity document: not an object");
  CloudMetadata m;
  m.provider = kAWS;
  m.account_id = Str(doc, "accountId");
  m.instance_id = Str(doc, "instanceId");
  m.instance_type = Str(doc, "instanceType");
  m.region = Str(doc, "region");
  m.availability_zone = Str(doc, "availabilityZone");
  m.local_ipv4 = Str(doc, "privateIp");
  if (m.instance_id.empty()) return InvalidArgument("AWS instance identity document: no instanceId");
  return m;
}

// GCP GET /computeMetadata/v1/?recursive=true: instance.id, instance.machineType
// ("projects/<n>/machineTypes/<type>"), instance.zone ("projects/<n>/zones/<zone>"),
// instance.scheduling.{provisioningModel,preemptible}, instance.networkInterfaces[0].ip and
// .accessConfigs[0].externalIp, project.projectId.
StatusOr<CloudMetadata> ParseGcpMetadata(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "GCP metadata", &parser, &doc));
  Opt inst = Member(doc, "instance");
  if (!IsObject(inst)) return InvalidArgument("GCP metadata: no instance object");
  CloudMetadata m;
  m.provider = kGCP;
  Opt project = Member(doc, "project");
  if (IsObject(project)) {
    m.account_id = Str(project, "projectId");
    if (m.account_id.empty()) m.account_id = Str(project, "numericProjectId");
  }
  m.instance_id = Str(inst, "id");
  m.instance_type = LastPathPart(Str(inst, "machineType"));
  m.availability_zone = LastPathPart(Str(inst, "zone"));
  if (!m.availability_zone.empty()) m.region = RegionFromZone(m.availability_zone);
  Opt sched = Member(inst, "scheduling");
  if (IsObject(sched)) {
    std::string model = Str(sched, "provisioningModel"), preemptible = Str(sched, "preemptible");
    if (model == "SPOT")
      m.instance_life_cycle = "spot";
    else if (preemptible == "TRUE")
      m.instance_life_cycle = "preemptible";
    else
      m.instance_life_cycle = "on-demand";
  }
  Opt nic = First(inst, "networkInterfaces");
  if (IsObject(nic)) {
    m.local_ipv4 = Str(nic, "ip");
    Opt ac = First(nic, "accessConfigs");
    if (IsObject(ac)) m.public_ipv4 = Str(ac, "externalIp");
  }
  if (m.instance_id.empty()) return InvalidArgument("GCP metadata: no instance.id");
  return m;
}

// Azure GET /metadata/instance?api-version=2021-02-01: compute.{subscriptionId, vmId, vmSize,
// location, zone, priority}, network.interface[0].ipv4.ipAddress[0].{privateIpAddress,
// publicIpAddress}. The zone is reported as "<location>-<zone>" (e.g. "westeurope-1", as
// Kubernetes' topology.kubernetes.io/zone on AKS); priority "Spot"/"Low" → "spot".
StatusOr<CloudMetadata> ParseAzureMetadata(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "Azure metadata", &parser, &doc));
  Opt compute = Member(doc, "compute");
  if (!IsObject(compute)) return InvalidArgument("Azure metadata: no compute object");
  CloudMetadata m;
  m.provider = kAzure;
  m.account_id = Str(compute, "subscriptionId");
  m.instance_id = Str(compute, "vmId");
  m.instance_type = Str(compute, "vmSize");
  m.region = Str(compute, "location");
  std::string zone = Str(compute, "zone");
  if (!zone.empty()) m.availability_zone = m.region.empty() ? zone : m.region + "-" + zone;
  std::string priority = Str(compute, "priority");
  m.instance_life_cycle = (priority == "Spot" || priority == "Low") ? "spot" : "on-demand";
  Opt iface = First(Member(doc, "network"), "interface");
  if (IsObject(iface)) {
    Opt addr = First(Member(iface, "ipv4"), "ipAddress");
    if (IsObject(addr)) {
      m.local_ipv4 = Str(addr, "privateIpAddress");
      m.public_ipv4 = Str(addr, "publicIpAddress");
    }
  }
  if (m.instance_id.empty()) return InvalidArgument("Azure metadata: no compute.vmId");
  return m;
}

// Hetzner GET /hetzner/v1/metadata (YAML): instance-id, region, availability-zone, public-ipv4.
StatusOr<CloudMetadata> ParseHetznerMetadata(std::string_view yaml) {
  CloudMetadata m;
  m.provider = kHetzner;
  m.instance_id = YamlScalar(yaml, "instance-id");
  m.region = YamlScalar(yaml, "region");
  m.availability_zone = YamlScalar(yaml, "availability-zone");
  m.public_ipv4 = YamlScalar(yaml, "public-ipv4");
  if (m.instance_id.empty()) return InvalidArgument("Hetzner metadata: no instance-id");
  return m;
}

// Hetzner GET /hetzner/v1/metadata/private-networks (YAML list of mappings): the first item's ip.
StatusOr<std::string> ParseHetznerPrivateNetworks(std::string_view yaml) {
  for (const std::string& line : Split(yaml, '\n')) {
    std::string t = Trim(line);
    if (t.rfind("- ", 0) == 0) t = Trim(std::string_view(t).substr(2));
    if (t.rfind("ip:", 0) == 0) {
      std::string ip = Clean(std::string_view(t).substr(3));
      if (!ip.empty()) return ip;
    }
  }
  return NotFound("Hetzner private networks: no ip");
}

// DigitalOcean GET /metadata/v1.json: droplet_id, region, interfaces.private[0].ipv4.ip_address,
// interfaces.public[0].ipv4.ip_address. (No account, size or zone in the document.)
StatusOr<CloudMetadata> ParseDigitalOceanMetadata(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "DigitalOcean metadata", &parser, &doc));
  if (!doc.is_object()) return InvalidArgument("DigitalOcean metadata: not an object");
  CloudMetadata m;
  m.provider = kDigitalOcean;
  m.instance_id = Str(doc, "droplet_id");
  m.region = Str(doc, "region");
  Opt ifaces = Member(doc, "interfaces");
  Opt priv = First(ifaces, "private"), pub = First(ifaces, "public");
  if (IsObject(priv)) {
    Opt v4 = Member(priv, "ipv4");
    if (IsObject(v4)) m.local_ipv4 = Str(v4, "ip_address");
  }
  if (IsObject(pub)) {
    Opt v4 = Member(pub, "ipv4");
    if (IsObject(v4)) m.public_ipv4 = Str(v4, "ip_address");
  }
  if (m.instance_id.empty()) return InvalidArgument("DigitalOcean metadata: no droplet_id");
  return m;
}

// Oracle GET /opc/v2/instance/: id, shape, canonicalRegionName (else region), availabilityDomain,
// tenantId (else compartmentId). The private IP is in /opc/v2/vnics/; OCI's IMDS has no public IP.
StatusOr<CloudMetadata> ParseOracleInstance(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "Oracle instance metadata", &parser, &doc));
  if (!doc.is_object()) return InvalidArgument("Oracle instance metadata: not an object");
  CloudMetadata m;
  m.provider = kOracle;
  m.instance_id = Str(doc, "id");
  m.instance_type = Str(doc, "shape");
  m.region = Str(doc, "canonicalRegionName");
  if (m.region.empty()) m.region = Str(doc, "region");
  m.availability_zone = Str(doc, "availabilityDomain");
  m.account_id = Str(doc, "tenantId");
  if (m.account_id.empty()) m.account_id = Str(doc, "compartmentId");
  if (m.instance_id.empty()) return InvalidArgument("Oracle instance metadata: no id");
  return m;
}

StatusOr<std::string> ParseOracleVnics(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "Oracle VNICs", &parser, &doc));
  simdjson::dom::array a;
  if (doc.get(a) != simdjson::SUCCESS) return InvalidArgument("Oracle VNICs: not an array");
  for (element v : a) {
    if (!v.is_object()) continue;
    std::string ip = Str(v, "privateIp");
    if (!ip.empty()) return ip;
  }
  return NotFound("Oracle VNICs: no privateIp");
}

// Scaleway GET /conf?format=json: id, commercial_type, organization (else project), zone (else
// location.zone_id), private_ip, public_ip.address.
StatusOr<CloudMetadata> ParseScalewayConf(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  RETURN_IF_ERROR(ParseJson(json, "Scaleway metadata", &parser, &doc));
  if (!doc.is_object()) return InvalidArgument("Scaleway metadata: not an object");
  CloudMetadata m;
  m.provider = kScaleway;
  m.instance_id = Str(doc, "id");
  m.instance_type = Str(doc, "commercial_type");
  m.account_id = Str(doc, "organization");
  if (m.account_id.empty()) m.account_id = Str(doc, "project");
  m.availability_zone = Str(doc, "zone");
  Opt loc = Member(doc, "location");
  if (m.availability_zone.empty() && IsObject(loc)) m.availability_zone = Str(loc, "zone_id");
  if (!m.availability_zone.empty()) m.region = RegionFromZone(m.availability_zone);
  m.local_ipv4 = Str(doc, "private_ip");
  Opt pub = Member(doc, "public_ip");
  if (IsObject(pub)) m.public_ipv4 = Str(pub, "address");
  if (m.instance_id.empty()) return InvalidArgument("Scaleway metadata: no id");
  return m;
}

}  // namespace coroot::agent::node::cloud
