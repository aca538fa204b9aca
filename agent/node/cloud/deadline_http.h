#pragma once
// A one-shot HTTP/1.1 exchange with a hard deadline, for the metadata services. lib/http's
// blocking client bounds each socket call with SO_RCVTIMEO, but Asio's synchronous read then
// polls without a limit, so a service that accepts and never answers would hang it; here every
// wait is a poll() bounded by the deadline. Numeric IPv4 hosts only (metadata services are
// link-local addresses; no DNS lookup that could block).
#include <chrono>
#include <string>

#include "lib/base/status.h"
#include "lib/http/client.h"

namespace coroot::agent::node::cloud {

// Connect is bounded by min(connect_timeout, the deadline); everything else by the deadline.
StatusOr<http::ClientResponse> FetchWithDeadline(const http::ClientRequest& request,
                                                 std::chrono::steady_clock::time_point deadline,
                                                 std::chrono::milliseconds connect_timeout, size_t max_response_bytes);

}  // namespace coroot::agent::node::cloud
