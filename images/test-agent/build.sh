#!/usr/bin/env bash
# Builds hub/test-agent:latest: a busybox-only image whose entrypoint runs the session's prompt
# (/hub/prompt, mounted by the runner; $HUB_PROMPT when there is no such file) as a shell script. No base image is pulled (runners have no internet): the root filesystem is assembled here
# and fed to `docker import`. Idempotent: when the image's version label already matches the hash
# of this script and of the busybox binary, nothing is rebuilt.
set -euo pipefail

IMAGE="${HUB_TEST_AGENT_IMAGE:-hub/test-agent:latest}"
BUSYBOX=/bin/busybox
LABEL=hub.test-agent.version
AGENT_UID=1000
AGENT_GID=1000

log() { echo "test-agent: $*"; }

ensure_busybox() {
  [[ -x "$BUSYBOX" ]] && return
  log "$BUSYBOX missing; installing busybox-static"
  apt-get install -y busybox-static >/dev/null
}

ensure_docker() {
  if ! docker info >/dev/null 2>&1; then
    echo "test-agent: the Docker engine is not reachable (docker info failed); start dockerd first" >&2
    exit 1
  fi
}

version_hash() {
  cat "${BASH_SOURCE[0]}" "$BUSYBOX" | sha256sum | cut -c1-16
}

current_version() {
  docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true
}

# Root filesystem owned by root, except the two directories the agent writes to.
assemble_rootfs() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/hub/output" "$dir/hub/inputs" "$dir/workspace"
  cp "$BUSYBOX" "$dir/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    # Linking an applet named busybox would replace the binary with a symlink to itself.
    [[ "$applet" == busybox ]] && continue
    ln -sf busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nagent:x:%d:%d:agent:/workspace:/bin/sh\n' "$AGENT_UID" "$AGENT_GID" >"$dir/etc/passwd"
  printf 'root:x:0:\nagent:x:%d:\n' "$AGENT_GID" >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
  chmod 0755 "$dir/hub/output" "$dir/hub/inputs" "$dir/workspace"
}

# Ownership is set in the archive rather than with chown, so building does not need root.
write_tarball() {
  local dir=$1 tarball=$2
  tar -C "$dir" -cf "$tarball" --numeric-owner --owner=0 --group=0 \
    --exclude=./hub/output --exclude=./workspace .
  tar -C "$dir" -rf "$tarball" --numeric-owner --owner="$AGENT_UID" --group="$AGENT_GID" \
    --no-recursion ./hub/output ./workspace
}

import_image() {
  local tarball=$1 version=$2
  # The prompt runs as a shell script (its exit code is the container's): /hub/prompt, the file the
  # runner mounts (any size), else $HUB_PROMPT (docker run -e HUB_PROMPT=... by hand, benchmarks).
  # The engine runs containers with Init: true, so docker-init is PID 1 and forwards SIGTERM to this shell.
  docker import \
    --change 'ENV PATH=/bin' \
    --change "USER $AGENT_UID:$AGENT_GID" \
    --change 'WORKDIR /workspace' \
    --change 'ENTRYPOINT ["/bin/sh", "-c", "if [ -f /hub/prompt ]; then exec /bin/sh /hub/prompt; fi; eval \"$HUB_PROMPT\""]' \
    --change "LABEL $LABEL=$version" \
    --message "hub test agent (busybox) $version" \
    "$tarball" "$IMAGE" >/dev/null
}

main() {
  ensure_busybox
  ensure_docker
  local version
  version=$(version_hash)
  if [[ "$(current_version)" == "$version" ]]; then
    log "$IMAGE is current ($LABEL=$version); nothing to do"
    return
  fi
  local previous work
  previous=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  work=$(mktemp -d)
  trap "rm -rf '$work'" EXIT
  assemble_rootfs "$work/rootfs"
  write_tarball "$work/rootfs" "$work/rootfs.tar"
  import_image "$work/rootfs.tar" "$version"
  # The previous build is now untagged; drop it unless a container still uses it.
  if [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
  fi
  log "built $IMAGE ($LABEL=$version, $("$BUSYBOX" --list | grep -vcx busybox) busybox applets)"
}

main "$@"
