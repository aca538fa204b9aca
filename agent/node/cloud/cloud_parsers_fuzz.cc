// Feeds arbitrary bytes to every cloud metadata response parser; none may crash, hang or read out
// of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/node/cloud/cloud_metadata.h"

using namespace coroot::agent::node::cloud;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (data == nullptr) text = {};
  (void)ParseAwsIdentityDocument(text);
  (void)ParseGcpMetadata(text);
  (void)ParseAzureMetadata(text);
  (void)ParseHetznerMetadata(text);
  (void)ParseHetznerPrivateNetworks(text);
  (void)ParseDigitalOceanMetadata(text);
  (void)ParseOracleInstance(text);
  (void)ParseOracleVnics(text);
  (void)ParseScalewayConf(text);
  (void)ParseTextValue(text);
  (void)RegionFromZone(text);
  return 0;
}
