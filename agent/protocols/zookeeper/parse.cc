#include "agent/protocols/zookeeper/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::zookeeper {
namespace {

struct Op {
  int32_t code;
  std::string_view name;
  bool has_path;
};
constexpr Op kOps[] = {
    {1, "create", true},        {2, "delete", true},           {3, "exists", true},
    {4, "getData", true},       {5, "setData", true},          {6, "getACL", true},
    {7, "setACL", true},        {8, "getChildren", true},      {9, "sync", true},
    {11, "ping", false},        {12, "getChildren2", true},    {13, "check", true},
    {14, "multi", false},       {15, "create2", true},         {16, "reconfig", false},
    {17, "checkWatches", true}, {18, "removeWatches", true},   {19, "createContainer", true},
    {20, "deleteContainer", true}, {21, "createTTL", true},    {22, "multiRead", false},
    {100, "auth", false},       {101, "setWatches", false},    {102, "sasl", false},
    {103, "getEphemerals", true}, {104, "getAllChildrenNumber", true}, {105, "setWatches2", false},
    {106, "addWatch", true},    {107, "whoAmI", false},        {-10, "createSession", false},
    {-11, "closeSession", false},
};

const Op* FindOp(int32_t code) {
  for (const auto& op : kOps)
    if (op.code == code) return &op;
  return nullptr;
}

bool ValidXid(int32_t xid) { return xid >= 0 || xid == -2 || xid == -4 || xid == -8; }

}  // namespace

std::string_view OpName(int32_t op) {
  const Op* o = FindOp(op);
  return o ? o->name : std::string_view();
}

bool DetectRequest(std::string_view buf) {
  BinaryReader r(buf);
  int32_t len = 0, xid = 0, op = 0;
  if (r.ReadBE32s(&len) != ParseResult::kSuccess || r.ReadBE32s(&xid) != ParseResult::kSuccess ||
      r.ReadBE32s(&op) != ParseResult::kSuccess)
    return false;
  if (len < 8) return false;
  uint64_t total = static_cast<uint64_t>(len) + 4;
  bool size_ok = total == buf.size() || (buf.size() == 1024 && total > buf.size());
  return size_ok && ValidXid(xid) && FindOp(op) != nullptr;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  BinaryReader r(buf);
  int32_t len = 0, xid = 0, op = 0;
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&len));
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&xid));
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&op));
  const Op* o = FindOp(op);
  if (len < 8 || !ValidXid(xid) || o == nullptr) return ParseResult::kInvalid;
  out->protocol = L7Protocol::kZookeeper;
  out->method = std::string(o->name);
  out->statement = out->method;
  bool cut = static_cast<uint64_t>(len) + 4 > buf.size();
  if (!o->has_path) {
    out->truncated = cut;
    return ParseResult::kSuccess;
  }
  int32_t plen = 0;
  ParseResult pr = r.ReadBE32s(&plen);
  if (pr != ParseResult::kSuccess) {
    out->truncated = true;
    return pr;
  }
  if (plen < 0 || static_cast<size_t>(plen) > kMaxPathLength) return ParseResult::kInvalid;
  std::string_view path;
  if (r.ReadBytes(static_cast<size_t>(plen), &path) != ParseResult::kSuccess) {
    path = r.rest();
    out->truncated = true;
  }
  if (!path.empty() && path[0] != '/') return ParseResult::kInvalid;
  out->path = std::string(path);
  out->statement += " " + out->path;
  if (out->truncated) return ParseResult::kNeedMoreData;
  out->truncated = cut;
  return ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, int32_t* err) {
  BinaryReader r(buf);
  int32_t len = 0, xid = 0;
  uint64_t zxid = 0;
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&len));
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(&xid));
  L7_RETURN_IF_NOT_OK(r.ReadBE64(&zxid));
  L7_RETURN_IF_NOT_OK(r.ReadBE32s(err));
  if (len < 16) return ParseResult::kInvalid;
  if (*err == 0) {
    *status = kStatusOk;
  } else if ((*err <= -1 && *err >= -9) || *err == -123) {
    *status = kStatusFailed;
  } else if (*err <= -100 && *err >= -200) {
    *status = kStatusOk;
  } else {
    return ParseResult::kInvalid;
  }
  return ParseResult::kSuccess;
}

}  // namespace coroot::agent::protocols::zookeeper
