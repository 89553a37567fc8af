#!/usr/bin/env bash
# Builds hub/claude-code:latest without pulling a base image: the root filesystem is assembled from
# what this machine has and fed to `docker import`:
#   - Claude Code from npm (`npm pack` of @anthropic-ai/claude-code and of its native binary package
#     for this platform, at the version pinned in the Dockerfile; kept in .hub/cache/claude-code);
#   - the host's node, git (with /usr/lib/git-core) and bash, with the shared libraries `ldd` says
#     they need; busybox for the other commands; the host's CA bundle;
#   - entrypoint.sh as /usr/local/bin/hub-claude-code and result.js beside it.
# Idempotent: when the image's label hub.claude-code.version matches the hash of these inputs,
# nothing is rebuilt. Needs a reachable Docker engine, node/npm, git, busybox (git and
# busybox-static are installed with apt-get when missing) and, for a first build, the npm registry.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
IMAGE="${HUB_CLAUDE_CODE_IMAGE:-hub/claude-code:latest}"
CACHE_DIR="${HUB_CLAUDE_CODE_CACHE:-$REPO_ROOT/.hub/cache/claude-code}"
LABEL=hub.claude-code.version
AGENT_UID=1000
AGENT_GID=1000
BUSYBOX=/bin/busybox
NPM_PACKAGE=@anthropic-ai/claude-code
# as_root, install_host_tools, copy_libraries, is_elf, copy_git.
HOST_BINARIES="$HERE/../lib/host-binaries.sh"
# shellcheck source=../lib/host-binaries.sh
source "$HOST_BINARIES"

log() { echo "claude-code image: $*"; }
die() {
  echo "claude-code image: $*" >&2
  exit 1
}

claude_code_version() {
  local version
  version=$(sed -n 's/^ARG CLAUDE_CODE_VERSION=\([0-9][0-9A-Za-z.+-]*\)$/\1/p' "$HERE/Dockerfile")
  [[ -n "$version" ]] || die "no 'ARG CLAUDE_CODE_VERSION=x.y.z' line in $HERE/Dockerfile"
  echo "$version"
}

# The npm package that carries the native binary for this machine (glibc Linux only).
platform_package() {
  case "$(uname -m)" in
    x86_64) echo "$NPM_PACKAGE-linux-x64" ;;
    aarch64 | arm64) echo "$NPM_PACKAGE-linux-arm64" ;;
    *) die "no Claude Code native package for $(uname -m)" ;;
  esac
}

ensure_tools() {
  install_host_tools
  command -v node >/dev/null 2>&1 || die "node is not installed"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  command -v bash >/dev/null 2>&1 || die "bash is not installed"
  docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed); start dockerd first"
}

# What the image is made of. Host binaries are hashed by content; the npm packages by version.
version_hash() {
  {
    cat "${BASH_SOURCE[0]}" "$HOST_BINARIES" "$HERE/entrypoint.sh" "$HERE/result.js"
    echo "$NPM_PACKAGE@$1 $(platform_package) $(uname -m)"
    sha256sum "$(command -v node)" "$(command -v git)" "$(command -v bash)" "$BUSYBOX" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}

current_version() {
  docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true
}

# npm pack into the cache (once per version), then print the tarball's path.
fetch_package() {
  local spec=$1 tarball
  tarball="$CACHE_DIR/$(echo "${spec%@*}" | sed 's#^@##; s#/#-#')-${spec##*@}.tgz"
  if [[ ! -s "$tarball" ]]; then
    mkdir -p "$CACHE_DIR"
    log "fetching $spec from the npm registry" >&2
    (cd "$CACHE_DIR" && npm pack --silent --prefer-offline "$spec" >/dev/null) \
      || die "npm pack $spec failed (is the npm registry reachable? a previous download would be in $CACHE_DIR)"
    [[ -s "$tarball" ]] || die "npm pack $spec did not produce $tarball"
  fi
  echo "$tarball"
}

assemble_rootfs() {
  local root=$1 version=$2 wrapper=$3 native=$4
  # Debian's merged /usr layout, so paths ldd prints (/lib/..., /lib64/...) land in /usr.
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64,local/bin,local/lib/hub-claude-code,share} \
    "$root"/{etc/ssl/certs,tmp,root,home/agent,workspace,hub/output,hub/inputs}
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"

  # Claude Code as `npm install -g` leaves it: the package, whose postinstall puts the native
  # binary over bin/claude.exe, linked as /usr/local/bin/claude.
  local pkg="$root/usr/local/lib/node_modules/$NPM_PACKAGE"
  mkdir -p "$pkg"
  tar -xzf "$wrapper" -C "$pkg" --strip-components=1 --no-same-owner
  tar -xzf "$native" -C "$pkg/bin" --strip-components=1 --no-same-owner package/claude
  mv -f "$pkg/bin/claude" "$pkg/bin/claude.exe"
  chmod 0755 "$pkg/bin/claude.exe"
  ln -s "../lib/node_modules/$NPM_PACKAGE/bin/claude.exe" "$root/usr/local/bin/claude"

  # node, git (all its helpers, so git-remote-https works, and its templates), bash.
  cp -L "$(command -v node)" "$root/usr/local/bin/node"
  copy_git "$root" /usr/bin/git
  cp -L "$(command -v bash)" "$root/usr/bin/bash"

  local file
  for file in "$root/usr/local/bin/node" "$root/usr/bin/bash" "$pkg/bin/claude.exe"; do
    copy_libraries "$root" "$file"
  done

  # busybox for everything else (sh, ls, grep, sed, find, …), never over a real binary.
  cp "$BUSYBOX" "$root/usr/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    # Linking an applet named busybox would replace the binary with a symlink to itself.
    [[ "$applet" == busybox || -e "$root/usr/bin/$applet" || -L "$root/usr/bin/$applet" ]] && continue
    ln -s busybox "$root/usr/bin/$applet"
  done

  cp "$HERE/entrypoint.sh" "$root/usr/local/bin/hub-claude-code"
  chmod 0755 "$root/usr/local/bin/hub-claude-code"
  cp "$HERE/result.js" "$root/usr/local/lib/hub-claude-code/result.js"
  chmod 0644 "$root/usr/local/lib/hub-claude-code/result.js"

  printf 'root:x:0:0:root:/root:/bin/sh\nagent:x:%d:%d:agent:/home/agent:/bin/bash\n' "$AGENT_UID" "$AGENT_GID" >"$root/etc/passwd"
  printf 'root:x:0:\nagent:x:%d:\n' "$AGENT_GID" >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  [[ -f /etc/ssl/certs/ca-certificates.crt ]] && cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  chmod 0755 "$root/home/agent" "$root/workspace" "$root/hub/output" "$root/hub/inputs"
  echo "$version" >"$root/usr/local/lib/hub-claude-code/claude-code-version"
}

# Ownership is set in the archive rather than with chown, so building does not need root.
write_tarball() {
  local root=$1 tarball=$2
  tar -C "$root" -cf "$tarball" --numeric-owner --owner=0 --group=0 \
    --exclude=./hub/output --exclude=./workspace --exclude=./home/agent .
  tar -C "$root" -rf "$tarball" --numeric-owner --owner="$AGENT_UID" --group="$AGENT_GID" \
    --no-recursion ./hub/output ./workspace ./home/agent
}

import_image() {
  local tarball=$1 hash=$2 version=$3
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV HOME=/home/agent' \
    --change 'ENV SHELL=/bin/bash' \
    --change "USER $AGENT_UID:$AGENT_GID" \
    --change 'WORKDIR /workspace' \
    --change 'ENTRYPOINT ["/usr/local/bin/hub-claude-code"]' \
    --change "LABEL $LABEL=$hash" \
    --change "LABEL hub.claude-code.cli-version=$version" \
    --message "hub claude-code agent (Claude Code $version, built offline) $hash" \
    "$tarball" "$IMAGE" >/dev/null
}

# The image runs: claude starts as the agent, the entrypoint's tools are there.
smoke_test() {
  local out
  out=$(docker run --rm --network none --user "$AGENT_UID:$AGENT_GID" --entrypoint /bin/bash "$IMAGE" -c \
    'set -e; claude --version; git --version; node --version; for c in sed grep find stat sort head tail wc ls id cat chmod mkdir rm; do command -v $c >/dev/null; done' 2>&1) \
    || die "the built image does not work: $out"
  echo "$out" | tr '\n' ' '
}

main() {
  ensure_tools
  local version hash
  version=$(claude_code_version)
  hash=$(version_hash "$version")
  if [[ "$(current_version)" == "$hash" ]]; then
    log "$IMAGE is current ($LABEL=$hash); nothing to do"
    return
  fi
  local started=$SECONDS wrapper native
  wrapper=$(fetch_package "$NPM_PACKAGE@$version")
  native=$(fetch_package "$(platform_package)@$version")

  local previous work
  previous=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  work=$(mktemp -d "${TMPDIR:-/tmp}/hub-claude-code.XXXXXX")
  trap "rm -rf '$work'" EXIT
  log "assembling the root filesystem (Claude Code $version)"
  assemble_rootfs "$work/rootfs" "$version" "$wrapper" "$native"
  write_tarball "$work/rootfs" "$work/rootfs.tar"
  rm -rf "$work/rootfs"
  log "importing $IMAGE"
  import_image "$work/rootfs.tar" "$hash" "$version"
  # The previous build is now untagged; drop it unless a container still uses it.
  if [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
  fi
  local checked size
  checked=$(smoke_test)
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE in $((SECONDS - started)) s ($LABEL=$hash, $((size / 1000000)) MB): $checked"
}

main "$@"
