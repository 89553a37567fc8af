#!/usr/bin/env bash
# One test tier of every project that has it: `bash scripts/test-tier.sh unit|integration|e2e [nx run-many options]`
# (npm run test:unit, test:integration, test:e2e). The unit tier needs nothing but node_modules; the
# others install and start what is missing first (scripts/ensure-deps.sh), unless npm test already did.
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:?usage: test-tier.sh unit|integration|e2e [nx run-many options]}"
shift
if [ "$tier" != unit ] && [ -z "${HUB_DEPS_ENSURED:-}" ]; then bash scripts/ensure-deps.sh; fi
# Unit specs start nothing, and each integration project starts its own PostgreSQL and NATS on free
# ports and touches only its own containers: two projects at a time. The e2e tier starts whole stacks
# and measures their timing: one spec file at a time.
parallel=2
if [ "$tier" = e2e ]; then parallel=1; fi
NX_DAEMON=false NX_NO_CLOUD=true npx nx run-many -t "$tier" --parallel="$parallel" --outputStyle=stream --skipNxCache "$@"
