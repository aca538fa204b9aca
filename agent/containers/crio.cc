#include "agent/containers/crio.h"

#include <simdjson.h>

#include "agent/containers/pvc.h"
#include "agent/containers/unix_http.h"

namespace coroot::agent::containers {

namespace {
constexpr size_t kMaxEntries = 1024;
}  // namespace

StatusOr<cgroup::ContainerMetadata> ParseCrioInspect(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object())
    return InvalidArgument("crio inspect: not a JSON object");
  cgroup::ContainerMetadata md;
  std::string_view s;
  if (doc["name"].get(s) != simdjson::SUCCESS) return InvalidArgument("crio inspect: no name");
  md.name = std::string(s);
  if (doc["image"].get(s) == simdjson::SUCCESS) md.image = std::string(s);
  if (doc["log_path"].get(s) == simdjson::SUCCESS) md.log_path = std::string(s);
  simdjson::dom::object labels;
  if (doc["labels"].get(labels) == simdjson::SUCCESS) {
    for (auto [k, v] : labels) {
      if (md.labels.size() >= kMaxEntries) break;
      if (v.get(s) == simdjson::SUCCESS) md.labels[std::string(k)] = std::string(s);
    }
  }
  // The volumes annotation is itself JSON: [{"container_path": ..., "host_path": ..., "readonly": ...}].
  std::string_view volumes;
  if (doc["annotations"]["io.kubernetes.cri-o.Volumes"].get(volumes) == simdjson::SUCCESS) {
    simdjson::dom::parser vp;
    simdjson::padded_string vpad(volumes.data(), volumes.size());
    simdjson::dom::array arr;
    if (vp.parse(vpad).get(arr) == simdjson::SUCCESS) {
      for (simdjson::dom::element v : arr) {
        std::string_view dst, host;
        if (md.volumes.size() >= kMaxEntries) break;
        if (v["container_path"].get(dst) != simdjson::SUCCESS || v["host_path"].get(host) != simdjson::SUCCESS) continue;
        if (std::string pvc = PvcName(host); !pvc.empty()) md.volumes[std::string(dst)] = pvc;
      }
    }
  }
  return md;
}

StatusOr<cgroup::ContainerMetadata> CrioClient::Inspect(const std::string& id) const {
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return InvalidArgument("bad container id");
  ASSIGN_OR_RETURN(UnixHttpResponse r, UnixHttpGet(socket_, "/containers/" + id, timeout_));
  if (r.status == 404) return NotFound("crio: no such container " + id);
  if (r.status != 200) return Unavailable("crio: HTTP " + std::to_string(r.status) + " for " + id);
  return ParseCrioInspect(r.body);
}

}  // namespace coroot::agent::containers
