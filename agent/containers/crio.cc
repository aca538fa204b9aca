#include "agent/containers/crio.h"

#include <simdjson.h>

#include "agent/containers/unix_http.h"

namespace coroot::agent::containers {

namespace {
constexpr size_t kMaxEntries = 1024;

std::string PvcName(std::string_view source) {
  for (size_t p = source.find("pvc-"); p != std::string_view::npos; p = source.find("pvc-", p + 1)) {
    if (p + 40 > source.size()) break;
    std::string_view uuid = source.substr(p + 4, 36);
    bool ok = true;
    for (size_t i = 0; i < uuid.size(); i++) {
      char c = uuid[i];
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      ok &= dash ? c == '-' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
    if (ok) return std::string(source.substr(p, 40));
  }
  return "";
}
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
