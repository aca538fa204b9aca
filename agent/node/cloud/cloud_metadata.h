#pragma once
// Cloud instance metadata for node_cloud_info (spec §1.a, §1.h): which provider this node runs on
// (from DMI/SMBIOS), and each provider's metadata service, read with its documented request
// shape. Parsers are pure (fuzzed); fetchers take an overridable base URL so tests replay the
// documented responses from a local server.
#include <chrono>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace coroot::agent::node::cloud {

// Coroot's provider names, as they appear in node_cloud_info{provider}.
inline constexpr const char* kAWS = "AWS";
inline constexpr const char* kGCP = "GCP";
inline constexpr const char* kAzure = "Azure";
inline constexpr const char* kHetzner = "Hetzner";
inline constexpr const char* kDigitalOcean = "DigitalOcean";
inline constexpr const char* kAlibaba = "Alibaba";
inline constexpr const char* kOracle = "Oracle";
inline constexpr const char* kScaleway = "Scaleway";

struct CloudMetadata {
  std::string provider, account_id, instance_id, instance_type, instance_life_cycle, region, availability_zone,
      availability_zone_id, local_ipv4, public_ipv4;
  bool operator==(const CloudMetadata&) const = default;
};

// The DMI identification strings (each file's first line, trimmed; "" when unreadable).
struct Dmi {
  std::string sys_vendor, product_name, board_vendor, bios_vendor, bios_version, chassis_asset_tag, product_uuid;
};
// Reads <sys_root>/class/dmi/id/{sys_vendor,product_name,board_vendor,bios_vendor,bios_version,
// chassis_asset_tag,product_uuid}; sys_root is "/sys" in production. Missing files are "".
Dmi ReadDmi(const std::string& sys_root);
// The provider the DMI strings name (one of the k* names above), or "" when none matches.
std::string DetectProvider(const Dmi& dmi);

struct FetchOptions {
  // Scheme://host[:port] of the metadata service; "" = the provider's link-local address.
  std::string base_url;
  // Connect bound of each request; each whole request is bounded by 2 × timeout.
  std::chrono::milliseconds timeout{1000};
  // Hard bound on the whole fetch (several requests for AWS and Alibaba), enforced by poll().
  std::chrono::milliseconds total_timeout{2000};
  size_t max_response_bytes = 1u << 20;
};
// The provider's production base URL ("" for an unknown provider).
std::string DefaultBaseUrl(const std::string& provider);
// Fetches and parses the metadata of `provider`. One attempt, no retries.
StatusOr<CloudMetadata> FetchMetadata(const std::string& provider, const FetchOptions& options = {});

// Parsers of the documented response bodies (each fills only what its document carries).
StatusOr<CloudMetadata> ParseAwsIdentityDocument(std::string_view json);
StatusOr<CloudMetadata> ParseGcpMetadata(std::string_view json);
StatusOr<CloudMetadata> ParseAzureMetadata(std::string_view json);
StatusOr<CloudMetadata> ParseHetznerMetadata(std::string_view yaml);
StatusOr<std::string> ParseHetznerPrivateNetworks(std::string_view yaml);  // the first network's ip
StatusOr<CloudMetadata> ParseDigitalOceanMetadata(std::string_view json);
StatusOr<CloudMetadata> ParseOracleInstance(std::string_view json);
StatusOr<std::string> ParseOracleVnics(std::string_view json);  // the first VNIC's privateIp
StatusOr<CloudMetadata> ParseScalewayConf(std::string_view json);
// A one-value text answer (AWS and Alibaba meta-data paths): trimmed, printable, at most 256 bytes.
StatusOr<std::string> ParseTextValue(std::string_view text);

// "us-central1-a" → "us-central1", "fr-par-1" → "fr-par": the zone without its last '-' part.
std::string RegionFromZone(std::string_view zone);

}  // namespace coroot::agent::node::cloud
