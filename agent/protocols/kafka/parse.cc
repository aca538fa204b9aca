#include "agent/protocols/kafka/parse.h"

#include <array>

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::kafka {
namespace {

constexpr std::array<std::string_view, kMaxApiKey + 1> kNames = {
    "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica", "UpdateMetadata",
    "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup", "Heartbeat",
    "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions", "CreateTopics",
    "DeleteTopics", "DeleteRecords", "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn",
    "AddOffsetsToTxn", "EndTxn", "WriteTxnMarkers", "TxnOffsetCommit", "DescribeAcls", "CreateAcls", "DeleteAcls",
    "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs", "SaslAuthenticate",
    "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken", "ExpireDelegationToken",
    "DescribeDelegationToken", "DeleteGroups", "ElectLeaders", "IncrementalAlterConfigs",
    "AlterPartitionReassignments", "ListPartitionReassignments", "OffsetDelete", "DescribeClientQuotas",
    "AlterClientQuotas", "DescribeUserScramCredentials", "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch",
    "EndQuorumEpoch", "DescribeQuorum", "AlterPartition", "UpdateFeatures", "Envelope", "FetchSnapshot",
    "DescribeCluster", "DescribeProducers", "BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker",
    "DescribeTransactions", "ListTransactions", "AllocateProducerIds"};

}  // namespace

std::string_view ApiKeyName(int16_t key) {
  if (key < 0 || key > kMaxApiKey) return {};
  return kNames[static_cast<size_t>(key)];
}

ParseResult ParseRequestHeader(std::string_view buf, RequestHeader* out) {
  BinaryReader r(buf);
  int32_t size = 0;
  uint16_t key = 0, ver = 0;
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&size));
  L7_RETURN_IF_NOT_OK(r.ReadBE16(&key));
  L7_RETURN_IF_NOT_OK(r.ReadBE16(&ver));
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&out->correlation_id));
  out->api_key = static_cast<int16_t>(key);
  out->api_version = static_cast<int16_t>(ver);
  if (size < 8 || out->api_key < 0 || out->api_key > kMaxApiKey || out->api_version < 0 || out->correlation_id <= 0)
    return ParseResult::kInvalid;
  uint16_t id_len = 0;
  L7_RETURN_IF_NOT_OK(r.ReadBE16(&id_len));
  if (id_len == 0xffff) return ParseResult::kSuccess;  // null client id
  std::string_view id;
  if (r.ReadBytes(id_len, &id) != ParseResult::kSuccess) {
    out->client_id = std::string(r.rest());
    return ParseResult::kNeedMoreData;
  }
  out->client_id = std::string(id);
  return ParseResult::kSuccess;
}

bool DetectRequest(std::string_view buf) {
  RequestHeader h;
  BinaryReader r(buf);
  int32_t size = 0;
  if (r.ReadBE32s(&size) != ParseResult::kSuccess || size < 8) return false;
  uint64_t total = static_cast<uint64_t>(size) + 4;
  if (!(total == buf.size() || (buf.size() == 1024 && total > buf.size()))) return false;
  return ParseRequestHeader(buf, &h) != ParseResult::kInvalid;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  RequestHeader h;
  ParseResult res = ParseRequestHeader(buf, &h);
  if (res == ParseResult::kInvalid) return res;
  if (res == ParseResult::kNeedMoreData && buf.size() < 12) return res;
  out->protocol = L7Protocol::kKafka;
  out->method = std::string(ApiKeyName(h.api_key));
  out->statement = out->method + " v" + std::to_string(h.api_version);
  out->truncated = out->truncated || res == ParseResult::kNeedMoreData;
  return res;
}

ParseResult ParseResponseCorrelationId(std::string_view buf, int32_t* correlation_id) {
  BinaryReader r(buf);
  int32_t size = 0;
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&size));
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(correlation_id));
  if (size < 4) return ParseResult::kInvalid;
  return ParseResult::kSuccess;
}

}  // namespace coroot::agent::protocols::kafka
