#!/usr/bin/env bash
# Builds hub/nats:2.9: nats-server with JetStream and Hub's authorization, for Hub's compose stack
# (docker-compose.yml), without pulling a base image. The root filesystem is this machine's
# nats-server (/usr/sbin/nats-server, with the shared libraries ldd lists), busybox (the shell, the
# entrypoint, wget for the healthcheck), the entrypoint (entrypoint.sh) and Hub's authorization:
# every principal (the four services and integrations) with the publish and subscribe permissions the
# contracts give it, rendered here by libs/infra's nats-auth (the same code `npm run hub` configures its
# nats-server with), each password a placeholder the entrypoint fills from HUB_NATS_PASSWORD_<PRINCIPAL>
# at start. It runs as the user nats (uid 998), never root; the JetStream store is /data.
#
# Idempotent: when the image's label hub.nats.version matches the hash of this script, the entrypoint,
# the binaries and the rendered authorization, nothing is rebuilt (a change of the contracts'
# permissions rebuilds it). Needs a reachable Docker engine, nats-server (apt-get install nats-server),
# and the repository's npm dependencies (to render the authorization from the TypeScript sources).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
IMAGE="${HUB_NATS_IMAGE:-hub/nats:2.9}"
NATS_SERVER="${NATS_SERVER_BIN:-/usr/sbin/nats-server}"
BUSYBOX=/bin/busybox
LABEL=hub.nats.version
NATS_UID=998
NATS_GID=998
# as_root, install_host_tools, copy_libraries, ensure_docker, image_label, image_id, drop_replaced.
HOST_BINARIES="$HERE/../lib/host-binaries.sh"
# shellcheck source=../lib/host-binaries.sh
source "$HOST_BINARIES"

log() { echo "nats image: $*"; }
die() {
  echo "nats image: $*" >&2
  exit 1
}

ensure_nats_server() {
  [[ -x "$NATS_SERVER" ]] || die "nats-server is not installed here ($NATS_SERVER): apt-get install nats-server (or set NATS_SERVER_BIN)"
  command -v node >/dev/null 2>&1 || die "node is not installed"
  [[ -d "$REPO_ROOT/node_modules/@swc-node/register" ]] || die "the repository's npm dependencies are missing (npm ci in $REPO_ROOT)"
}

# nats-server's authorization block for Hub's principals, with "@@HUB_NATS_PASSWORD_<PRINCIPAL>@@"
# where each password goes (see entrypoint.sh).
render_authorization() {
  (cd "$REPO_ROOT" && SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register -e '
    const { BUS_PRINCIPALS } = require("./libs/contracts/src/index.ts");
    const { hubNatsUsers, natsPasswordVariable, renderNatsAuthorization } = require("./libs/infra/src/nats-auth.ts");
    const placeholders = Object.fromEntries(BUS_PRINCIPALS.map((principal) => [principal, `@@${natsPasswordVariable(principal)}@@`]));
    process.stdout.write(renderNatsAuthorization(hubNatsUsers(placeholders)));
  ') || die "rendering Hub's NATS authorization from libs/infra/src/nats-auth.ts failed"
}

version_hash() {
  local authorization=$1
  {
    cat "${BASH_SOURCE[0]}" "$HOST_BINARIES" "$HERE/entrypoint.sh" "$authorization"
    sha256sum "$NATS_SERVER" "$BUSYBOX" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}

assemble_rootfs() {
  local root=$1 authorization=$2
  # Debian's merged /usr layout, so the paths ldd prints (/lib/..., /lib64/...) land in /usr.
  mkdir -p "$root"/usr/{bin,lib,lib64,local/bin} "$root"/{etc/nats,tmp,data,run/nats}
  ln -s usr/bin "$root/bin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  cp -L "$NATS_SERVER" "$root/usr/local/bin/nats-server"
  copy_libraries "$root" "$root/usr/local/bin/nats-server"
  cp "$BUSYBOX" "$root/usr/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    # Linking an applet named busybox would replace the binary with a symlink to itself.
    [[ "$applet" == busybox || -e "$root/usr/bin/$applet" ]] && continue
    ln -s busybox "$root/usr/bin/$applet"
  done
  cp "$HERE/entrypoint.sh" "$root/usr/local/bin/hub-nats"
  chmod 0755 "$root/usr/local/bin/hub-nats"
  cp "$authorization" "$root/etc/nats/hub-authorization.conf"
  chmod 0644 "$root/etc/nats/hub-authorization.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\nnats:x:%d:%d:nats:/data:/bin/sh\n' "$NATS_UID" "$NATS_GID" >"$root/etc/passwd"
  printf 'root:x:0:\nnats:x:%d:\n' "$NATS_GID" >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/data" "$root/run/nats"
}

# Ownership is set in the archive rather than with chown, so building does not need root. A named
# volume mounted on /data starts with the image's owner and mode.
write_tarball() {
  local root=$1 tarball=$2
  tar -C "$root" -cf "$tarball" --numeric-owner --owner=0 --group=0 --exclude=./data --exclude=./run/nats .
  tar -C "$root" -rf "$tarball" --numeric-owner --owner="$NATS_UID" --group="$NATS_GID" --no-recursion ./data ./run/nats
}

import_image() {
  local tarball=$1 version=$2
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin' \
    --change "USER $NATS_UID:$NATS_GID" \
    --change 'WORKDIR /data' \
    --change 'VOLUME /data' \
    --change 'ENTRYPOINT ["/usr/local/bin/hub-nats"]' \
    --change "LABEL $LABEL=$version" \
    --change "LABEL hub.nats.server-version=$("$NATS_SERVER" --version | awk '{print $NF}')" \
    --message "hub nats-server (built offline) $version" \
    "$tarball" "$IMAGE" >/dev/null
}

# Starts with JetStream and its users, is healthy, and refuses to start without a password (a broken build is not left tagged).
smoke_test() {
  local out secrets=() principal
  for principal in SESSION_REGISTRY DEPENDENCY_RESOLVER CONTAINER_RUNNER GATEWAY INTEGRATIONS; do
    secrets+=(-e "HUB_NATS_PASSWORD_$principal=smoke-\"secret\\-$principal")
  done
  out=$(
    docker run --rm --network none "${secrets[@]}" --entrypoint /bin/sh "$IMAGE" -c '
      set -e
      hub-nats >/tmp/log 2>&1 &
      i=0; until wget -q -O /dev/null http://127.0.0.1:8222/healthz 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { cat /tmp/log; exit 1; }; sleep 0.1; done
      grep -q "JetStream" /tmp/log
      unset HUB_NATS_PASSWORD_GATEWAY
      if NATS_PORT=4333 NATS_MONITOR_PORT=8333 hub-nats 2>/tmp/refused; then echo "started without a password"; exit 1; fi
      grep -q HUB_NATS_PASSWORD_GATEWAY /tmp/refused
      nats-server --version' 2>&1
  ) || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  echo "$out" | tail -n 1
}

main() {
  install_host_tools
  ensure_nats_server
  ensure_docker
  local work version
  work=$(mktemp -d "${TMPDIR:-/tmp}/hub-nats-image.XXXXXX")
  trap "rm -rf '$work'" EXIT
  render_authorization >"$work/hub-authorization.conf"
  version=$(version_hash "$work/hub-authorization.conf")
  if [[ "$(image_label "$IMAGE" "$LABEL")" == "$version" ]]; then
    log "$IMAGE is current ($LABEL=$version); nothing to do"
    return
  fi
  local started=$SECONDS previous
  previous=$(image_id "$IMAGE")
  assemble_rootfs "$work/rootfs" "$work/hub-authorization.conf"
  write_tarball "$work/rootfs" "$work/rootfs.tar"
  import_image "$work/rootfs.tar" "$version"
  drop_replaced "$IMAGE" "$previous"
  local checked size
  checked=$(smoke_test)
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE in $((SECONDS - started)) s ($LABEL=$version, $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $checked)"
}

main "$@"
