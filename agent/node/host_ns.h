#pragma once
// Running a piece of code inside another process's namespace (the host's, seen via /proc/1/ns/*),
// as Coroot's agent does for the hostname and the network interfaces.
#include <functional>
#include <string>

#include "lib/base/status.h"

namespace coroot::agent::node {

// Runs fn inside the namespace at ns_path (e.g. "/proc/1/ns/net"). An empty ns_path, or a
// namespace that is already ours, runs fn directly. Otherwise fn runs on a short-lived thread
// that joins the namespace with setns(); switches are per thread, so no other thread of the
// agent ever sees the foreign namespace. Needs CAP_SYS_ADMIN; fails (without running fn) if
// the namespace cannot be entered.
Status RunInNamespace(const std::string& ns_path, const std::function<void()>& fn);

}  // namespace coroot::agent::node
