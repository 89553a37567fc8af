#!/usr/bin/env bash
# Builds hub/egress-bridge:latest: the helper a session's container reaches Hub's egress proxy
# through. It runs `socat TCP-LISTEN:3128,bind=127.0.0.1,… UNIX-CONNECT:/hub/egress/proxy.sock` with
# network none: the agent's container shares its network namespace (loopback only) and finds the
# proxy at 127.0.0.1:3128, while the proxy's unix socket is mounted into this container only. No base
# image is pulled (runners have no internet): the root filesystem is this machine's socat (with its
# libraries, see ../lib/host-binaries.sh) and busybox, fed to `docker import`. Idempotent: when the
# image's version label matches the hash of these scripts and of the binaries, nothing is rebuilt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE="${HUB_EGRESS_BRIDGE_IMAGE:-hub/egress-bridge:latest}"
BUSYBOX=/bin/busybox
LABEL=hub.egress-bridge.version
BRIDGE_UID=1000
BRIDGE_GID=1000
# as_root, install_host_tools, copy_libraries, ensure_docker, image_label, image_id, drop_replaced.
HOST_BINARIES="$HERE/../lib/host-binaries.sh"
# shellcheck source=../lib/host-binaries.sh
source "$HOST_BINARIES"

log() { echo "egress-bridge: $*"; }
die() {
  echo "egress-bridge: $*" >&2
  exit 1
}

ensure_socat() {
  command -v socat >/dev/null 2>&1 && return 0
  log "installing socat (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat >/dev/null \
    || { as_root apt-get update -qq >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat >/dev/null; } \
    || die "cannot install socat: install it yourself (apt-get install socat)"
}

version_hash() {
  {
    cat "${BASH_SOURCE[0]}" "$HOST_BINARIES"
    sha256sum "$BUSYBOX" "$(command -v socat)" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}

# Everything owned by root and read-only at run time (the runner starts it with a read-only root
# filesystem); /hub/egress is where the runner mounts the session's proxy socket directory.
assemble_rootfs() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/hub/egress"
  cp "$(command -v socat)" "$dir/bin/socat"
  copy_libraries "$dir" "$dir/bin/socat"
  cp "$BUSYBOX" "$dir/bin/busybox"
  ln -sf busybox "$dir/bin/sh"
  printf 'root:x:0:0:root:/root:/bin/sh\nbridge:x:%d:%d:bridge:/tmp:/bin/sh\n' "$BRIDGE_UID" "$BRIDGE_GID" >"$dir/etc/passwd"
  printf 'root:x:0:\nbridge:x:%d:\n' "$BRIDGE_GID" >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
}

import_image() {
  local tarball=$1 version=$2
  docker import \
    --change 'ENV PATH=/bin' \
    --change 'ENV HOME=/tmp' \
    --change "USER $BRIDGE_UID:$BRIDGE_GID" \
    --change 'ENTRYPOINT ["/bin/socat", "-d", "-d", "-t", "30", "TCP-LISTEN:3128,bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:/hub/egress/proxy.sock"]' \
    --change "LABEL $LABEL=$version" \
    --message "hub egress bridge (socat) $version" \
    "$tarball" "$IMAGE" >/dev/null
}

# socat runs as the bridge user with no network and a read-only root (a broken build is not left tagged).
smoke_test() {
  local out
  out=$(docker run --rm --network none --read-only --cap-drop ALL --user "$BRIDGE_UID:$BRIDGE_GID" --entrypoint /bin/socat "$IMAGE" -V 2>&1 | head -n 2 | tail -n 1) || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  [[ "$out" == socat* ]] || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  echo "$out"
}

main() {
  install_host_tools
  ensure_socat
  ensure_docker
  local version
  version=$(version_hash)
  if [[ "$(image_label "$IMAGE" "$LABEL")" == "$version" ]]; then
    log "$IMAGE is current ($LABEL=$version); nothing to do"
    return
  fi
  local previous work
  previous=$(image_id "$IMAGE")
  work=$(mktemp -d)
  trap "rm -rf '$work'" EXIT
  assemble_rootfs "$work/rootfs"
  tar -C "$work/rootfs" -cf "$work/rootfs.tar" --numeric-owner --owner=0 --group=0 .
  import_image "$work/rootfs.tar" "$version"
  drop_replaced "$IMAGE" "$previous"
  local checked size
  checked=$(smoke_test)
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE ($LABEL=$version, $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $checked)"
}

main "$@"
