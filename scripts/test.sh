#!/usr/bin/env bash
# `npm test`: the whole suite, on real PostgreSQL, NATS and Docker (the tests start them; nothing is
# mocked and nothing is skipped). Installs what is missing first, so it runs on a bare machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "[hub] type-checking"
npx tsc -p tsconfig.json --noEmit
echo "[hub] running every project's tests (unit, integration, end to end)"
NX_DAEMON=false NX_NO_CLOUD=true npx nx run-many -t test --parallel=1 --outputStyle=stream --skipNxCache "$@"
