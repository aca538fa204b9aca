// Provider detection from DMI/SMBIOS strings, the way cloud images identify themselves:
//   AWS (Nitro):        board_vendor / sys_vendor "Amazon EC2"; Xen-based EC2: sys_vendor "Xen"
//                       with bios_version containing "amazon" or product_uuid starting with "ec2"
//   GCP:                board_vendor / sys_vendor "Google", product_name "Google Compute Engine"
//   Azure:              chassis_asset_tag 7783-7084-3265-9085-8269-3286-77 (Azure's documented
//                       tag), or board_vendor "Microsoft Corporation" with product_name "Virtual Machine"
//   Hetzner:            sys_vendor "Hetzner"
//   DigitalOcean:       sys_vendor / board_vendor "DigitalOcean"
//   Alibaba:            sys_vendor "Alibaba Cloud", product_name "Alibaba Cloud ECS"
//   Oracle:             chassis_asset_tag "OracleCloud.com"
//   Scaleway:           sys_vendor / board_vendor "Scaleway"
#include <algorithm>
#include <cctype>

#include "agent/node/cloud/cloud_metadata.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node::cloud {

namespace {

std::string FirstLine(const std::string& path) {
  StatusOr<std::string> text = ReadFile(path, 4096);
  if (!text.ok()) return "";
  std::string_view s = *text;
  if (size_t nl = s.find('\n'); nl != std::string_view::npos) s = s.substr(0, nl);
  return Trim(s);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Dmi ReadDmi(const std::string& sys_root) {
  const std::string dir = sys_root + "/class/dmi/id/";
  Dmi d;
  d.sys_vendor = FirstLine(dir + "sys_vendor");
  d.product_name = FirstLine(dir + "product_name");
  d.board_vendor = FirstLine(dir + "board_vendor");
  d.bios_vendor = FirstLine(dir + "bios_vendor");
  d.bios_version = FirstLine(dir + "bios_version");
  d.chassis_asset_tag = FirstLine(dir + "chassis_asset_tag");
  d.product_uuid = FirstLine(dir + "product_uuid");
  return d;
}

std::string DetectProvider(const Dmi& d) {
  auto any = [&](const char* v) { return d.sys_vendor == v || d.board_vendor == v; };
  // Xen-based EC2 only: a random UUID starts with "ec2" once in 4096, so never on other vendors.
  bool xen_ec2 = d.sys_vendor == "Xen" && (Lower(d.bios_version).find("amazon") != std::string::npos ||
                                           Lower(d.product_uuid).rfind("ec2", 0) == 0);
  if (any("Amazon EC2") || d.bios_vendor == "Amazon EC2" || xen_ec2) return kAWS;
  if (any("Google") || d.product_name == "Google Compute Engine") return kGCP;
  if (d.chassis_asset_tag == "7783-7084-3265-9085-8269-3286-77" ||
      (any("Microsoft Corporation") && d.product_name == "Virtual Machine"))
    return kAzure;
  if (any("Hetzner")) return kHetzner;
  if (any("DigitalOcean")) return kDigitalOcean;
  if (any("Alibaba Cloud") || d.product_name == "Alibaba Cloud ECS") return kAlibaba;
  if (d.chassis_asset_tag == "OracleCloud.com") return kOracle;
  if (any("Scaleway")) return kScaleway;
  return "";
}

}  // namespace coroot::agent::node::cloud
