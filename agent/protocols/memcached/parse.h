#pragma once
// Memcached text protocol (memcached's doc/protocol.txt): one command line "<cmd> <args>\r\n",
// storage commands followed by a data block; replies are keywords or numbers.
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::memcached {

inline constexpr size_t kMaxKeys = 64;  // keys kept from one get/gets/gat/gats
inline constexpr size_t kMaxKeyLength = 250;  // the protocol's own limit

// The kernel's classifier: a known command followed by a space, with a "\r\n" in the buffer.
bool DetectRequest(std::string_view buf);

// method = command; keys = the keys (get/gets: all; gat/gats: after the exptime; others: the first);
// statement = keys joined by ' '. A line cut before "\r\n" gives the keys seen and kNeedMoreData.
ParseResult ParseRequest(std::string_view buf, L7Request* out);

// VALUE/END/STORED/DELETED/TOUCHED/EXISTS/NOT_STORED/NOT_FOUND/OK/a number → ok;
// ERROR/CLIENT_ERROR/SERVER_ERROR → failed.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status);

}  // namespace coroot::agent::protocols::memcached
