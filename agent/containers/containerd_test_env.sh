#!/bin/bash
# Starts a private containerd for the containerd client's live test, and runs one container in
# it the way the kubelet's CRI would name it (k8s.io namespace, kubepods cgroup, pod labels).
#   up   <dir> <container-id> <cgroup-path>   prints "containerd_pid=<pid>" and "task_pid=<pid>"
#   down <dir> <container-id>                 removes the container and stops that containerd
# The image is a one-layer OCI image of busybox-static, imported with `ctr image import`.
set -euo pipefail
cmd=$1 dir=$2 id=$3
sock=$dir/containerd.sock
ctr() { command ctr --address "$sock" -n k8s.io "$@"; }
case $cmd in
up)
  cg=$4
  mkdir -p "$dir/root" "$dir/state" "$dir/rootfs/bin"
  cat > "$dir/config.toml" <<CFG
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
CFG
  containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 &
  echo "containerd_pid=$!"
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  cp "$(command -v busybox)" "$dir/rootfs/bin/busybox"
  for t in sh sleep; do ln -sf busybox "$dir/rootfs/bin/$t"; done
  python3 - "$dir/rootfs" "$dir/image.tar" <<'PY'
# A one-layer OCI image layout (index.json, blobs) for `ctr image import`.
import hashlib, io, json, sys, tarfile
rootfs, out = sys.argv[1], sys.argv[2]
name = "docker.io/coroot/ctrd-test:1.0"
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    t.add(rootfs, arcname=".")
layer = buf.getvalue()
digest = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"]},
                     "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": len(layer)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": digest(manifest), "size": len(manifest), "annotations": {"io.containerd.image.name": name}}]}).encode()
with tarfile.open(out, "w") as t:
    def add(path, data):
        ti = tarfile.TarInfo(path); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", index)
    for b in (layer, config, manifest):
        add("blobs/sha256/" + digest(b)[7:], b)
PY
  ctr image import "$dir/image.tar" > /dev/null
  ctr run -d --cgroup "$cg" --env COROOT_TEST=1 \
    --label io.kubernetes.pod.name=web-7d9f8b6c5d-x2k4q --label io.kubernetes.pod.namespace=shop \
    --label io.kubernetes.container.name=app \
    --mount type=bind,src="$dir",dst=/data,options=rbind:ro \
    docker.io/coroot/ctrd-test:1.0 "$id" /bin/sleep 600 > /dev/null
  echo "task_pid=$(ctr task ls | awk -v id="$id" '$1 == id {print $2}')"
  ;;
down)
  ctr task kill -s SIGKILL "$id" > /dev/null 2>&1 || true
  for _ in $(seq 50); do ctr task rm "$id" > /dev/null 2>&1 && break; sleep 0.1; done
  ctr container rm "$id" > /dev/null 2>&1 || true
  ;;
esac
