#pragma once
// The IP addresses of a network namespace, read through a process in it
// (/proc/<pid>/net/fib_trie for IPv4, /proc/<pid>/net/if_inet6 for IPv6). Used to expand a
// listen on 0.0.0.0 or :: into one listen_addr per address, as Coroot does.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/tracer/net_rules.h"

namespace coroot::agent::tracer {

// The local IPv4 addresses in a fib_trie dump: the "/32 host LOCAL" leaves. Deduplicated.
std::vector<Ip> ParseFibTrieLocal(std::string_view text);
// The addresses in an if_inet6 table (32 hex digits per line, in network order).
std::vector<Ip> ParseIfInet6(std::string_view text);
// Both, for the namespace of pid; link-local addresses are left out (Coroot skips them).
std::vector<Ip> NetnsAddresses(const std::string& proc_root, uint32_t pid);

}  // namespace coroot::agent::tracer
