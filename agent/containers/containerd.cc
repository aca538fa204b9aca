#include "agent/containers/containerd.h"

#include <grpcpp/grpcpp.h>
#include <simdjson.h>

#include "agent/containers/pvc.h"
#include "containerd/services/containers/v1/containers.grpc.pb.h"

namespace coroot::agent::containers {

namespace {
constexpr size_t kMaxEntries = 1024;
constexpr size_t kMaxJsonBytes = 4 << 20;
namespace api = ::containerd::services::containers::v1;
}  // namespace

Status ParseOciSpec(std::string_view json, cgroup::ContainerMetadata* md) {
  if (json.size() > kMaxJsonBytes) return InvalidArgument("containerd: OCI spec larger than 4 MiB");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object())
    return InvalidArgument("containerd: the OCI spec is not a JSON object");
  simdjson::dom::array env;
  if (doc["process"]["env"].get(env) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : env) {
      std::string_view kv;
      if (md->env.size() >= kMaxEntries) break;
      if (e.get(kv) != simdjson::SUCCESS) continue;
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      md->env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  simdjson::dom::array mounts;
  if (doc["mounts"].get(mounts) == simdjson::SUCCESS) {
    for (simdjson::dom::element m : mounts) {
      std::string_view dst, src;
      if (md->volumes.size() >= kMaxEntries) break;
      if (m["destination"].get(dst) != simdjson::SUCCESS || m["source"].get(src) != simdjson::SUCCESS) continue;
      if (std::string pvc = PvcName(src); !pvc.empty()) md->volumes[std::string(dst)] = pvc;
    }
  }
  return Status::Ok();
}

Status ParseCriExtension(std::string_view json, cgroup::ContainerMetadata* md) {
  if (json.size() > kMaxJsonBytes) return InvalidArgument("containerd: CRI metadata larger than 4 MiB");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object())
    return InvalidArgument("containerd: CRI metadata is not a JSON object");
  std::string_view log_path;
  if (doc["Metadata"]["LogPath"].get(log_path) == simdjson::SUCCESS) md->log_path = std::string(log_path);
  return Status::Ok();
}

struct ContainerdClient::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<api::Containers::Stub> stub;
};

ContainerdClient::ContainerdClient(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_(std::move(socket_path)), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  // The channel connects lazily, so a containerd that starts after the agent is found later.
  impl_->channel = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
  impl_->stub = api::Containers::NewStub(impl_->channel);
}

ContainerdClient::~ContainerdClient() = default;

StatusOr<cgroup::ContainerMetadata> ContainerdClient::Get(const std::string& ns, const std::string& id) const {
  if (id.empty() || id.size() > 256) return InvalidArgument("containerd: bad container id");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  ctx.AddMetadata("containerd-namespace", ns);
  api::GetContainerRequest req;
  req.set_id(id);
  api::GetContainerResponse resp;
  grpc::Status st = impl_->stub->Get(&ctx, req, &resp);
  if (st.error_code() == grpc::StatusCode::NOT_FOUND)
    return NotFound("containerd: no container " + id + " in namespace " + ns);
  if (!st.ok())
    return Unavailable("containerd " + socket_ + ": Get " + id + ": " + st.error_message() + " (code " +
                       std::to_string(static_cast<int>(st.error_code())) + ")");
  const api::Container& c = resp.container();
  cgroup::ContainerMetadata md;
  md.image = c.image();
  for (const auto& [k, v] : c.labels()) {
    if (md.labels.size() >= kMaxEntries) break;
    md.labels[k] = v;
  }
  if (c.has_spec() && !c.spec().value().empty()) RETURN_IF_ERROR(ParseOciSpec(c.spec().value(), &md));
  if (auto it = c.extensions().find("io.cri-containerd.container.metadata"); it != c.extensions().end())
    (void)ParseCriExtension(it->second.value(), &md);  // optional: a bad one only loses the log path
  return md;
}

}  // namespace coroot::agent::containers
