#!/usr/bin/env bash
# Builds hub/postgres:15: PostgreSQL 15 for Hub's compose stack (docker-compose.yml), without pulling
# a base image. The root filesystem is assembled from this machine's PostgreSQL (/usr/lib/postgresql/15:
# postgres, initdb, pg_ctl, pg_isready, psql and the server's modules, with the shared libraries ldd
# lists; /usr/share/postgresql/15; the time zones), busybox for the shell and the entrypoint
# (entrypoint.sh), and fed to `docker import`. It runs as the user postgres (uid 999), never root.
#
# The container: on its first start (an empty $PGDATA) the entrypoint creates the cluster with
# POSTGRES_USER (default hub) as its superuser, whose password is POSTGRES_PASSWORD (required, stored as
# SCRAM; every connection, over TCP or the socket, must give it), and the database POSTGRES_DB (default
# hub); then it runs postgres on POSTGRES_HOST (default 127.0.0.1) port PGPORT (default 5432), with any
# arguments given (`-c name=value`). Healthy: `pg_isready -h 127.0.0.1 -p $PGPORT`.
#
# Idempotent: when the image's label hub.postgres.version matches the hash of this script, the
# entrypoint and the binaries, nothing is rebuilt. Needs a reachable Docker engine and postgresql-15
# (apt-get install postgresql-15; busybox-static is installed when missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE="${HUB_POSTGRES_IMAGE:-hub/postgres:15}"
PG_MAJOR=15
PG_LIB=/usr/lib/postgresql/$PG_MAJOR
PG_SHARE=/usr/share/postgresql/$PG_MAJOR
BUSYBOX=/bin/busybox
LABEL=hub.postgres.version
PG_UID=999
PG_GID=999
# The programs the image carries: the server, what the entrypoint and the healthcheck run, and psql for operators.
PROGRAMS=(postgres initdb pg_ctl pg_isready psql)
# as_root, install_host_tools, copy_libraries, ensure_docker, image_label, image_id, drop_replaced.
HOST_BINARIES="$HERE/../lib/host-binaries.sh"
# shellcheck source=../lib/host-binaries.sh
source "$HOST_BINARIES"

log() { echo "postgres image: $*"; }
die() {
  echo "postgres image: $*" >&2
  exit 1
}

ensure_postgres() {
  [[ -x "$PG_LIB/bin/postgres" && -d "$PG_SHARE" ]] \
    || die "PostgreSQL $PG_MAJOR is not installed here ($PG_LIB/bin/postgres, $PG_SHARE): apt-get install postgresql-$PG_MAJOR"
}

# The server's loadable modules, without the JIT provider (llvmjit.so needs libLLVM, ~100 MB; jit is off).
modules() { find "$PG_LIB/lib" -maxdepth 1 -name '*.so' ! -name 'llvmjit*' | sort; }

version_hash() {
  {
    cat "${BASH_SOURCE[0]}" "$HOST_BINARIES" "$HERE/entrypoint.sh"
    local program
    for program in "${PROGRAMS[@]}"; do sha256sum "$PG_LIB/bin/$program"; done
    modules | xargs sha256sum
    sha256sum "$BUSYBOX"
    find "$PG_SHARE" /usr/share/zoneinfo -type f -printf '%p %s %T@\n' | sort
  } | sha256sum | cut -c1-16
}

assemble_rootfs() {
  local root=$1
  # Debian's merged /usr layout, so the paths ldd prints (/lib/..., /lib64/...) land in /usr.
  mkdir -p "$root"/usr/{bin,lib,lib64,share,local/bin} "$root"/{etc,tmp,var/lib/postgresql/data,var/run/postgresql}
  ln -s usr/bin "$root/bin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"

  mkdir -p "$root$PG_LIB/bin" "$root$PG_LIB/lib"
  local program module
  for program in "${PROGRAMS[@]}"; do
    cp -L "$PG_LIB/bin/$program" "$root$PG_LIB/bin/$program"
    copy_libraries "$root" "$root$PG_LIB/bin/$program"
  done
  while read -r module; do
    cp -L "$module" "$root$module"
    copy_libraries "$root" "$root$module"
  done < <(modules)
  # initdb's templates, the catalog and extension scripts, the time zone abbreviations; the system's
  # time zones (this build reads /usr/share/zoneinfo).
  mkdir -p "$root$(dirname "$PG_SHARE")"
  cp -a "$PG_SHARE" "$root$PG_SHARE"
  cp -a /usr/share/zoneinfo "$root/usr/share/"

  cp "$BUSYBOX" "$root/usr/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    # Linking an applet named busybox would replace the binary with a symlink to itself.
    [[ "$applet" == busybox || -e "$root/usr/bin/$applet" ]] && continue
    ln -s busybox "$root/usr/bin/$applet"
  done
  cp "$HERE/entrypoint.sh" "$root/usr/local/bin/hub-postgres"
  chmod 0755 "$root/usr/local/bin/hub-postgres"

  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:%d:%d:PostgreSQL:/var/lib/postgresql:/bin/sh\n' "$PG_UID" "$PG_GID" >"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:%d:\n' "$PG_GID" >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/var/lib/postgresql/data"
  chmod 0775 "$root/var/run/postgresql"
}

# Ownership is set in the archive rather than with chown, so building does not need root. A named
# volume mounted on /var/lib/postgresql/data starts with the image's owner and mode.
write_tarball() {
  local root=$1 tarball=$2
  tar -C "$root" -cf "$tarball" --numeric-owner --owner=0 --group=0 \
    --exclude=./var/lib/postgresql --exclude=./var/run/postgresql .
  tar -C "$root" -rf "$tarball" --numeric-owner --owner="$PG_UID" --group="$PG_GID" \
    ./var/lib/postgresql ./var/run/postgresql
}

import_image() {
  local tarball=$1 version=$2
  # docker import takes no STOPSIGNAL: docker-compose.yml stops it with SIGINT, PostgreSQL's fast
  # shutdown (SIGTERM, a smart shutdown, would wait for every client to disconnect).
  docker import \
    --change "ENV PATH=/usr/local/bin:$PG_LIB/bin:/usr/bin" \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENV PGPORT=5432' \
    --change 'ENV LANG=C' \
    --change "USER $PG_UID:$PG_GID" \
    --change 'WORKDIR /var/lib/postgresql' \
    --change 'VOLUME /var/lib/postgresql/data' \
    --change 'ENTRYPOINT ["/usr/local/bin/hub-postgres"]' \
    --change "LABEL $LABEL=$version" \
    --change "LABEL hub.postgres.server-version=$("$PG_LIB/bin/postgres" --version | awk '{print $NF}')" \
    --message "hub postgres $PG_MAJOR (built offline) $version" \
    "$tarball" "$IMAGE" >/dev/null
}

# A first start initialises the cluster, takes a password over TCP and refuses a wrong one (a broken build is not left tagged).
smoke_test() {
  local name="hub-postgres-smoke-$$" out
  out=$(
    docker run --rm --network none --name "$name" -e POSTGRES_PASSWORD=smoke-secret --entrypoint /bin/sh "$IMAGE" -c '
      set -e
      hub-postgres -c fsync=off >/tmp/log 2>&1 &
      i=0; until pg_isready -q -h 127.0.0.1; do i=$((i+1)); [ $i -lt 100 ] || { cat /tmp/log; exit 1; }; sleep 0.1; done
      PGPASSWORD=smoke-secret psql -h 127.0.0.1 -U hub -d hub -Atc "select current_user || chr(32) || current_database()"
      if PGPASSWORD=wrong psql -h 127.0.0.1 -U hub -d hub -c "select 1" >/dev/null 2>&1; then echo "a wrong password was taken"; exit 1; fi
      postgres --version' 2>&1
  ) || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  [[ "$out" == *"hub hub"* ]] || {
    docker image rm "$IMAGE" >/dev/null 2>&1 || true
    die "the built image does not work: $out"
  }
  echo "$out" | tail -n 1
}

main() {
  install_host_tools
  ensure_postgres
  ensure_docker
  local version
  version=$(version_hash)
  if [[ "$(image_label "$IMAGE" "$LABEL")" == "$version" ]]; then
    log "$IMAGE is current ($LABEL=$version); nothing to do"
    return
  fi
  local started=$SECONDS previous work
  previous=$(image_id "$IMAGE")
  work=$(mktemp -d "${TMPDIR:-/tmp}/hub-postgres-image.XXXXXX")
  trap "rm -rf '$work'" EXIT
  assemble_rootfs "$work/rootfs"
  write_tarball "$work/rootfs" "$work/rootfs.tar"
  rm -rf "$work/rootfs"
  import_image "$work/rootfs.tar" "$version"
  drop_replaced "$IMAGE" "$previous"
  local checked size
  checked=$(smoke_test)
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE in $((SECONDS - started)) s ($LABEL=$version, $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $checked)"
}

main "$@"
