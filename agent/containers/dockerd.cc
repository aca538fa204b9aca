#include "agent/containers/dockerd.h"

#include <simdjson.h>

#include "agent/containers/pvc.h"
#include "agent/containers/unix_http.h"
#include "lib/base/strings.h"

namespace coroot::agent::containers {

namespace {

constexpr size_t kMaxEntries = 1024;  // labels, env vars, mounts kept per container

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}


}  // namespace

StatusOr<cgroup::ContainerMetadata> ParseDockerInspect(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return InvalidArgument("docker inspect: not JSON");
  if (!doc.is_object()) return InvalidArgument("docker inspect: not an object");
  cgroup::ContainerMetadata md;
  std::string_view name;
  if (doc["Name"].get(name) != simdjson::SUCCESS) return InvalidArgument("docker inspect: no Name");
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  md.name = std::string(name);
  md.log_path = Str(doc, "LogPath");
  simdjson::dom::element config;
  if (doc["Config"].get(config) == simdjson::SUCCESS && config.is_object()) {
    md.image = Str(config, "Image");
    simdjson::dom::object labels;
    if (config["Labels"].get(labels) == simdjson::SUCCESS) {
      for (auto [k, v] : labels) {
        std::string_view s;
        if (md.labels.size() >= kMaxEntries) break;
        if (v.get(s) == simdjson::SUCCESS) md.labels[std::string(k)] = std::string(s);
      }
    }
    simdjson::dom::array env;
    if (config["Env"].get(env) == simdjson::SUCCESS) {
      for (simdjson::dom::element e : env) {
        std::string_view kv;
        if (md.env.size() >= kMaxEntries) break;
        if (e.get(kv) != simdjson::SUCCESS) continue;
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        md.env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
      }
    }
  }
  simdjson::dom::array mounts;
  if (doc["Mounts"].get(mounts) == simdjson::SUCCESS) {
    for (simdjson::dom::element m : mounts) {
      if (md.volumes.size() >= kMaxEntries) break;
      if (!m.is_object()) continue;
      std::string pvc = PvcName(Str(m, "Source"));
      std::string dst = Str(m, "Destination");
      if (!pvc.empty() && !dst.empty()) md.volumes[dst] = pvc;
    }
  }
  return md;
}

StatusOr<cgroup::ContainerMetadata> DockerClient::Inspect(const std::string& id) const {
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return InvalidArgument("bad container id");
  ASSIGN_OR_RETURN(UnixHttpResponse r, UnixHttpGet(socket_, "/containers/" + id + "/json", timeout_));
  if (r.status == 404) return NotFound("docker: no such container " + id);
  if (r.status != 200) return Unavailable("docker: HTTP " + std::to_string(r.status) + " for " + id);
  return ParseDockerInspect(r.body);
}

}  // namespace coroot::agent::containers
