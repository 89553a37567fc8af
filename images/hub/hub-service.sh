#!/bin/sh
# hub/hub's entrypoint: `hub-service <service>` runs one of Hub's four services from the compiled
# JavaScript in /hub/dist (node, with source maps for stack traces). Each is configured by its
# environment (see docker-compose.yml and hub.env.example).
set -eu

case "${1:-}" in
  session-registry | dependency-resolver | container-runner | gateway) service=$1 ;;
  *)
    echo "usage: hub-service session-registry|dependency-resolver|container-runner|gateway (got '${1:-}')" >&2
    exit 2
    ;;
esac
shift
exec node --enable-source-maps "/hub/dist/apps/$service/src/main.js" "$@"
