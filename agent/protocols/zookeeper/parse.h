#pragma once
// ZooKeeper client protocol (jute records, big-endian), from ZooKeeper's zookeeper.jute and the
// programmer's guide: a request is int32 length, int32 xid, int32 op type, then the op's record,
// which for the path operations starts with a ustring path (int32 length + bytes).
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::zookeeper {

inline constexpr size_t kMaxPathLength = 4096;

// Op name ("create", "getData", ...) or "" for an unknown op code.
std::string_view OpName(int32_t op);

// The kernel's classifier: length + 4 == buffer size (or the buffer is a cut 1024-byte head of a
// longer request), a known op code, and a valid xid (≥ 0, or the special -2 ping / -4 auth /
// -8 set-watches).
bool DetectRequest(std::string_view buf);

// method = op name; path = the znode path when the op has one; statement = "<op> <path>".
ParseResult ParseRequest(std::string_view buf, L7Request* out);

// Reply header: int32 length, int32 xid, int64 zxid, int32 err. 0 → ok; the system errors -1..-9 and
// -123 (unknown session/throttled family as Coroot counts them) → failed; other API errors (e.g.
// -101 NoNode) are answers → ok.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, int32_t* err);

}  // namespace coroot::agent::protocols::zookeeper
