#pragma once
// container_application_type: what a process is, guessed from its command line and executable
// the way Coroot's agent does (spec §1.a, "application_type values").
#include <string>
#include <string_view>

namespace coroot::agent::containers {

// cmdline is /proc/<pid>/cmdline (NUL-separated arguments); exe is the /proc/<pid>/exe target.
// Returns "" when nothing matches.
std::string GuessApplicationType(std::string_view cmdline, std::string_view exe);

}  // namespace coroot::agent::containers
