#!/usr/bin/env bash
# Builds hub/test-agent:latest: a busybox image, with git, whose entrypoint runs the session's prompt
# (/hub/prompt, mounted by the runner; $HUB_PROMPT when there is no such file) as a shell script. No
# base image is pulled (runners have no internet): the root filesystem is assembled here from this
# machine's busybox and git (with its libraries, see ../lib/host-binaries.sh) and fed to
# `docker import`. Idempotent: when the image's version label already matches the hash of these
# scripts and of the busybox and git binaries, nothing is rebuilt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE="${HUB_TEST_AGENT_IMAGE:-hub/test-agent:latest}"
BUSYBOX=/bin/busybox
LABEL=hub.test-agent.version
AGENT_UID=1000
AGENT_GID=1000
# as_root, install_host_tools, copy_libraries, is_elf, copy_git, ensure_docker, image_label, image_id, drop_replaced.
HOST_BINARIES="$HERE/../lib/host-binaries.sh"
# shellcheck source=../lib/host-binaries.sh
source "$HOST_BINARIES"

log() { echo "test-agent: $*"; }
die() {
  echo "test-agent: $*" >&2
  exit 1
}

# git's helpers (git-core/git, sh-i18n--envsubst) come with the same git package as git itself.
version_hash() {
  {
    cat "${BASH_SOURCE[0]}" "$HOST_BINARIES"
    sha256sum "$BUSYBOX" "$(command -v git)" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}

# Root filesystem owned by root, except the two directories the agent writes to. git is /bin/git
# (its helpers in /usr/lib/git-core, its libraries where ldd finds them on this machine), without
# the programs for remotes over the network (--local): containers of this image have none.
assemble_rootfs() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/hub/output" "$dir/hub/inputs" "$dir/workspace"
  copy_git "$dir" /bin/git --local
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
  # HOME=/tmp: Docker would otherwise take the agent's home from /etc/passwd (/workspace), and git
  # would read a .gitconfig the repository carries as the user's own.
  docker import \
    --change 'ENV PATH=/bin' \
    --change 'ENV HOME=/tmp' \
    --change "USER $AGENT_UID:$AGENT_GID" \
    --change 'WORKDIR /workspace' \
    --change 'ENTRYPOINT ["/bin/sh", "-c", "if [ -f /hub/prompt ]; then exec /bin/sh /hub/prompt; fi; eval \"$HUB_PROMPT\""]' \
    --change "LABEL $LABEL=$version" \
    --message "hub test agent (busybox) $version" \
    "$tarball" "$IMAGE" >/dev/null
}

# git runs as the agent with no network and no writable home (a broken build is not left tagged).
smoke_test() {
  local out
  out=$(docker run --rm --network none --user "$AGENT_UID:$AGENT_GID" --env HOME=/nonexistent --entrypoint /bin/sh "$IMAGE" -c \
    'set -e; cd /tmp; git init -q r; cd r; echo x >f; git add f; git -c user.name=t -c user.email=t@hub commit -qm t; git --version' 2>&1) || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  echo "$out"
}

main() {
  install_host_tools
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
  write_tarball "$work/rootfs" "$work/rootfs.tar"
  import_image "$work/rootfs.tar" "$version"
  drop_replaced "$IMAGE" "$previous"
  local checked size
  checked=$(smoke_test)
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE ($LABEL=$version, $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $("$BUSYBOX" --list | grep -vcx busybox) busybox applets, $checked)"
}

main "$@"
