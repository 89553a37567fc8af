#!/usr/bin/env bash
# `npm run hub`: installs what is missing, starts the stack, runs the example, leaves Hub running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
SWC_NODE_PROJECT=tsconfig.base.json exec node -r @swc-node/register scripts/hub-up.ts
