#pragma once
// Kubernetes persistent volumes in mount sources: `volume` label of the disk metrics.
#include <string>
#include <string_view>

namespace coroot::agent::containers {

// "…/pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/…" → "pvc-0f1e2d3c-…" (a Kubernetes PV name);
// "" when the path holds none.
std::string PvcName(std::string_view source);

}  // namespace coroot::agent::containers
