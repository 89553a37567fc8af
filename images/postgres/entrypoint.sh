#!/bin/sh
# hub/postgres's entrypoint (built by images/postgres/build.sh). On the first start (no cluster in
# $PGDATA) it creates one: superuser POSTGRES_USER (default hub) with the password POSTGRES_PASSWORD
# (required; stored as SCRAM), password authentication for every connection (TCP and the container's
# own socket alike: no trust), and the database POSTGRES_DB (default hub). Later starts use the cluster
# as it is: POSTGRES_PASSWORD changes nothing then (ALTER ROLE does). Then it runs postgres on
# POSTGRES_HOST (default 127.0.0.1: with host networking, loopback only) and PGPORT (default 5432),
# with the arguments given (`-c fsync=off`, …).
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=hub}"
: "${POSTGRES_DB:=hub}"
: "${POSTGRES_HOST:=127.0.0.1}"

fail() {
  echo "hub-postgres: $*" >&2
  exit 1
}

# A name written into SQL unquoted: lower-case letters, digits and _, not starting with a digit.
check_identifier() {
  case "$2" in
    '' | [!a-z_]* | *[!a-z0-9_]*) fail "$1 must be a lower-case SQL name (a-z, 0-9, _, not starting with a digit), not '$2'" ;;
  esac
}

initialise() {
  [ -n "${POSTGRES_PASSWORD:-}" ] || fail "POSTGRES_PASSWORD is not set: the first start creates $POSTGRES_USER with it (there is no default, and no passwordless access)"
  check_identifier POSTGRES_USER "$POSTGRES_USER"
  check_identifier POSTGRES_DB "$POSTGRES_DB"
  mkdir -p "$PGDATA" 2>/dev/null || true
  [ -w "$PGDATA" ] || fail "$PGDATA is not writable by uid $(id -u): mount a volume the image's postgres user ($(id -u):$(id -g)) owns"
  [ -z "$(ls -A "$PGDATA")" ] || fail "$PGDATA holds files but no cluster (no PG_VERSION): it is not a PostgreSQL data directory; empty it or mount another"

  echo "hub-postgres: creating the cluster in $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  if ! out=$(initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth=scram-sha-256 --encoding=UTF8 --locale=C 2>&1); then
    rm -f "$pwfile"
    find "$PGDATA" -mindepth 1 -delete
    fail "initdb failed: $out"
  fi
  rm -f "$pwfile"
  if [ "$POSTGRES_DB" != postgres ]; then
    # Single-user mode: no server, no connection, so nothing listens before the cluster is ready.
    out=$(echo "CREATE DATABASE $POSTGRES_DB" | postgres --single -D "$PGDATA" postgres 2>&1) || true
    case "$out" in
      *ERROR* | *FATAL*)
        find "$PGDATA" -mindepth 1 -delete
        fail "creating the database $POSTGRES_DB failed: $out"
        ;;
    esac
  fi
}

[ -s "$PGDATA/PG_VERSION" ] || initialise
exec postgres -D "$PGDATA" -c listen_addresses="$POSTGRES_HOST" "$@"
