#!/usr/bin/env bash
# Builds hub/hub:latest, the image of Hub's four services (docker-compose.yml runs one container of it
# per service: `hub-service gateway`, …), without pulling a base image: the same image the Dockerfile
# beside this script builds on a machine with a registry, assembled here from
#   - the services compiled by `npm run build` (dist/: dist/apps/<service>/src/main.js, dist/libs/…, and
#     the dashboard when there is one), run by hub-service.sh;
#   - their production npm packages (production-deps.sh: `npm ci --omit=dev --ignore-scripts`, from the
#     npm cache or registry, kept in .hub/cache/hub-image per package-lock.json);
#   - this machine's node, git (with its helpers: `git http-backend` serves the gateway's /git routes,
#     git-remote-https fetches repositories for the runner) and GNU rm, chown and du (the runner's
#     workspace and quota helpers use their options), with the shared libraries ldd lists; busybox for
#     the shell, wget (healthchecks) and the rest; the CA bundle;
# in two layers: everything but dist/ is a root filesystem fed to `docker import` (hub/hub-base, rebuilt
# only when the packages, these scripts or the host's binaries change), and dist/ is added on top of it
# (`docker cp` into a container of it, `docker commit`), so a change of the code rebuilds a few MB in
# seconds. User hub (1000:1000) by default; docker-compose.yml runs the runner as root.
#
# Idempotent: when the image's label hub.image.version matches the hash of the base's inputs and of
# dist/, nothing is rebuilt (after `npm run build`, a no-op when nothing changed). Needs a reachable
# Docker engine, node/npm, and the npm registry or its cache for a first build.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
IMAGE="${HUB_IMAGE:-hub/hub:latest}"
# The layer under dist/: hub/hub-base:latest for hub/hub:latest.
BASE_IMAGE="${IMAGE%:*}-base:${IMAGE##*:}"
CACHE_DIR="${HUB_IMAGE_CACHE:-$REPO_ROOT/.hub/cache/hub-image}"
LABEL=hub.image.version
BASE_LABEL=hub.image-base.version
HUB_UID=1000
HUB_GID=1000
BUSYBOX=/bin/busybox
SERVICES=(session-registry dependency-resolver container-runner gateway)
# GNU programs the services run with options busybox lacks (rm --one-file-system, du -B1 -x -P -c).
COREUTILS=(rm chown du)
# as_root, install_host_tools, copy_libraries, is_elf, copy_git, ensure_docker, image_label, image_id, drop_replaced.
HOST_BINARIES="$HERE/../lib/host-binaries.sh"
# shellcheck source=../lib/host-binaries.sh
source "$HOST_BINARIES"

log() { echo "hub image: $*"; }
die() {
  echo "hub image: $*" >&2
  exit 1
}

ensure_tools() {
  install_host_tools
  command -v node >/dev/null 2>&1 || die "node is not installed"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  local program
  for program in "${COREUTILS[@]}"; do
    [[ -x "/usr/bin/$program" ]] && is_elf "/usr/bin/$program" || die "/usr/bin/$program (GNU coreutils) is missing"
  done
  ensure_docker
}

# `npm run build` (incremental: it compiles what changed), then dist/ must hold every service.
build_services() {
  if [[ -n "$(cd "$REPO_ROOT" && npm pkg get scripts.build | tr -d '"{}')" ]]; then
    (cd "$REPO_ROOT" && npm run --silent build >/dev/null) || die "npm run build failed (run it to see why)"
  fi
  local service
  for service in "${SERVICES[@]}"; do
    [[ -f "$REPO_ROOT/dist/apps/$service/src/main.js" ]] || die "dist/apps/$service/src/main.js is missing: run npm run build"
  done
}

# The production packages for this package-lock.json, in the cache (made once per lock, ~10 s);
# prints their directory. Older ones are removed.
production_packages() {
  local key dir work
  key=$(cat "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$HERE/production-deps.sh" <(node --version) | sha256sum | cut -c1-16)
  dir="$CACHE_DIR/packages-$key"
  if [[ ! -f "$dir/.complete" ]]; then
    log "installing the production npm packages (npm ci --omit=dev, into $dir)" >&2
    mkdir -p "$CACHE_DIR"
    work=$(mktemp -d "$CACHE_DIR/packages.XXXXXX")
    cp "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$work/"
    sh "$HERE/production-deps.sh" "$work" >&2 || {
      rm -rf "$work"
      die "installing the production npm packages failed (is the npm registry or its cache reachable?)"
    }
    touch "$work/.complete"
    rm -rf "$dir"
    mv "$work" "$dir"
  fi
  find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -name 'packages-*' ! -name "packages-$key" -exec rm -rf {} +
  echo "$dir"
}

# A hash of dist/'s files, names and contents.
dist_hash() {
  (cd "$REPO_ROOT" && find dist -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
}

# What the base is made of: these scripts, the packages (named by their lock's hash), the host's programs.
base_hash() {
  local packages=$1
  {
    cat "${BASH_SOURCE[0]}" "$HOST_BINARIES" "$HERE/hub-service.sh" "$HERE/production-deps.sh"
    echo "packages ${packages##*/}"
    local program
    for program in "${COREUTILS[@]}"; do sha256sum "/usr/bin/$program"; done
    sha256sum "$(command -v node)" "$(command -v git)" "$BUSYBOX" /etc/ssl/certs/ca-certificates.crt | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}

# Everything but the packages and dist/, which write_tarball adds from where they are.
assemble_rootfs() {
  local root=$1
  # Debian's merged /usr layout, so the paths ldd prints (/lib/..., /lib64/...) land in /usr.
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64,local/bin,share} "$root"/{etc/ssl/certs,tmp,hub,var/lib/hub/state}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"

  cp -L "$(command -v node)" "$root/usr/local/bin/node"
  copy_libraries "$root" "$root/usr/local/bin/node"
  copy_git "$root" /usr/bin/git
  local program
  for program in "${COREUTILS[@]}"; do
    cp -L "/usr/bin/$program" "$root/usr/bin/$program"
    copy_libraries "$root" "$root/usr/bin/$program"
  done
  # busybox for everything else (sh, wget, ls, …), never over a real program.
  cp "$BUSYBOX" "$root/usr/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    # Linking an applet named busybox would replace the binary with a symlink to itself.
    [[ "$applet" == busybox || -e "$root/usr/bin/$applet" || -L "$root/usr/bin/$applet" ]] && continue
    ln -s busybox "$root/usr/bin/$applet"
  done

  cp "$HERE/hub-service.sh" "$root/usr/local/bin/hub-service"
  chmod 0755 "$root/usr/local/bin/hub-service"
  printf 'root:x:0:0:root:/root:/bin/sh\nhub:x:%d:%d:hub:/var/lib/hub:/bin/sh\n' "$HUB_UID" "$HUB_GID" >"$root/etc/passwd"
  printf 'root:x:0:\nhub:x:%d:\n' "$HUB_GID" >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/var/lib/hub/state"
}

# Ownership is set in the archive rather than with chown, so building does not need root: everything
# is root's but the services' state directory. The packages are added from the cache (no copy), under /hub.
write_tarball() {
  local root=$1 packages=$2 tarball=$3
  tar -C "$root" -cf "$tarball" --numeric-owner --owner=0 --group=0 --exclude=./var/lib/hub/state .
  tar -C "$root" -rf "$tarball" --numeric-owner --owner="$HUB_UID" --group="$HUB_GID" --no-recursion ./var/lib/hub/state
  tar -C "$packages" -rf "$tarball" --numeric-owner --owner=0 --group=0 --transform 's,^\./,hub/,' ./package.json ./node_modules
}

# hub/hub-base: the image without dist/, when its inputs changed (~10 s).
build_base() {
  local packages=$1 base_version=$2
  if [[ "$(image_label "$BASE_IMAGE" "$BASE_LABEL")" == "$base_version" ]]; then return; fi
  log "building $BASE_IMAGE (node, git, the production packages)"
  local previous work
  previous=$(image_id "$BASE_IMAGE")
  work=$(mktemp -d "${TMPDIR:-/tmp}/hub-image.XXXXXX")
  trap "rm -rf '$work'" EXIT
  assemble_rootfs "$work/rootfs"
  write_tarball "$work/rootfs" "$packages" "$work/rootfs.tar"
  rm -rf "$work/rootfs"
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin' \
    --change 'ENV NODE_ENV=production' \
    --change 'ENV HUB_STATE_DIR=/var/lib/hub/state' \
    --change "USER $HUB_UID:$HUB_GID" \
    --change 'WORKDIR /hub' \
    --change 'ENTRYPOINT ["/usr/local/bin/hub-service"]' \
    --change "LABEL $BASE_LABEL=$base_version" \
    --message "hub services' base (built offline) $base_version" \
    "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
  drop_replaced "$BASE_IMAGE" "$previous"
}

# hub/hub: the base with dist/ in /hub/dist (owned by root), as a layer of its own.
add_dist() {
  local version=$1 build_id container
  build_id=$(node -p 'try { require(process.argv[1]).buildId ?? "" } catch { "" }' "$REPO_ROOT/dist/.hub-build.json")
  container=$(docker create --network none "$BASE_IMAGE")
  tar -C "$REPO_ROOT" -c --numeric-owner --owner=0 --group=0 dist | docker cp - "$container:/hub" \
    && docker commit \
      --change "LABEL $LABEL=$version" \
      --change "LABEL hub.build-id=${build_id:-unknown}" \
      --message "hub services (built offline) $version" \
      "$container" "$IMAGE" >/dev/null \
    || {
      docker rm -f "$container" >/dev/null 2>&1 || true
      die "adding dist/ to $BASE_IMAGE failed"
    }
  docker rm -f "$container" >/dev/null
}

# Each service's modules load (every package they require is there), and the programs they run
# work as the hub user with no network (a broken build is not left tagged).
smoke_test() {
  local out
  out=$(docker run --rm --network none --entrypoint /bin/sh "$IMAGE" -c '
    set -e
    cd /hub
    node -e "
      for (const module of [\"apps/session-registry/src/session-registry.module\", \"apps/dependency-resolver/src/dependency-resolver.module\",
                            \"apps/container-runner/src/container-runner.module\", \"apps/gateway/src/gateway.module\"]) require(\"/hub/dist/\" + module);
    "
    test -x "$(git --exec-path)/git-http-backend" && test -x "$(git --exec-path)/git-remote-https"
    cd /tmp && git init -q r && git -C r -c user.name=t -c user.email=t@hub commit -q --allow-empty -m t
    rm --one-file-system -rf -- /tmp/r && du -s -x -P -B1 -c -- /tmp >/dev/null && chown --version >/dev/null
    wget --help 2>&1 | grep -q Usage
    hub-service 2>&1 | grep -q usage
    echo "node $(node --version), $(git --version)"' 2>&1) || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  echo "$out" | tail -n 1
}

main() {
  ensure_tools
  local started=$SECONDS
  build_services
  local packages base_version version
  packages=$(production_packages)
  base_version=$(base_hash "$packages")
  version=$(echo "$base_version $(dist_hash)" | sha256sum | cut -c1-16)
  if [[ "$(image_label "$IMAGE" "$LABEL")" == "$version" ]]; then
    log "$IMAGE is current ($LABEL=$version); nothing to do"
    return
  fi
  local previous previous_base
  previous=$(image_id "$IMAGE")
  previous_base=$(image_id "$BASE_IMAGE")
  build_base "$packages" "$base_version"
  add_dist "$version"
  drop_replaced "$IMAGE" "$previous"
  # The base the previous image stood on, once nothing uses it.
  drop_replaced "$BASE_IMAGE" "$previous_base"
  local checked size
  checked=$(smoke_test)
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE in $((SECONDS - started)) s ($LABEL=$version, $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $checked)"
}

main "$@"
