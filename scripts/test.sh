#!/usr/bin/env bash
# `npm test`: the whole suite, every tier in turn (jest.preset.js tells them apart by file name), and
# nothing skipped. Installs what is missing first, so it runs on a bare machine.
#   unit         *.spec.ts       no service started; ports replaced by small in-memory implementations of
#                                the same interfaces (a registry answering RPCs, a container engine that
#                                records launches, an object store, Hub behind HubApi for the MCP tools,
#                                libs/testing), and an HTTP server in the test for the HTTP client of Hub
#   integration  *.int.spec.ts   the real PostgreSQL (with the real migrations), nats-server -js and Docker
#                                engine, started by the tests. Two stand in for a neighbour: the gateway's
#                                spec answers for the registry on NATS (to script its answers and failures),
#                                and the supervisor's spec supervises a few-line stand-in service (to crash it
#                                on cue).
#   e2e          *.e2e.spec.ts   the whole stack as processes on the real engine, driven over HTTP, MCP and
#                                NATS; nothing is faked. Agents are the local test agent image, and the Claude
#                                Code image runs the real CLI offline with a made-up key (no network here).
# One tier alone: npm run test:unit | test:integration | test:e2e (arguments go on to nx run-many).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "[hub] type-checking"
npx tsc -p tsconfig.json --noEmit
npx tsc -p apps/dashboard/tsconfig.json --noEmit
for tier in unit integration e2e; do
  echo "[hub] $tier tests"
  HUB_DEPS_ENSURED=1 bash scripts/test-tier.sh "$tier" "$@"
done
