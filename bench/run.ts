// `npm run bench -- <name>`: runs one benchmark (each starts its own Hub in a temp dir and prints
// its figures; none asserts anything, and none is part of the test suite).
import { join } from 'node:path';

const BENCHMARKS: Record<string, { file: string; what: string }> = {
  single: {
    file: 'single-session.bench.ts',
    what: 'one trivial session via REST until the client sees completed, vs one docker run --rm (goal ≤ 1.10×)',
  },
  chain: { file: 'session-chain.bench.ts', what: 'a chain of 10 dependent sessions, vs 10 sequential docker run --rm (goal ≤ 1.10×)' },
  parallel: { file: 'parallel-sessions.bench.ts', what: '32 independent sessions at 8 slots, vs xargs -P 8 docker run --rm (goal ≤ 1.05×)' },
  'large-dag': {
    file: 'large-dag.bench.ts',
    what: 'accepting a 10,000-session orchestration (goal ≤ 2 s); the resolver\'s cost per completion at 100, 1,000, 10,000 sessions (goal: flat)',
  },
  load: { file: 'load.bench.ts', what: '100 clients create, start, list and get sessions for 60 s: throughput, p50/p99 per route, nothing failed' },
  latency: { file: 'session-latency.bench.ts', what: 'sessions one at a time, POST → completed event, against docker run --rm' },
  wait: {
    file: 'wait-terminal.bench.ts',
    what: 'one trivial session, POST then GET /sessions/:id?wait=terminal until the client knows it completed, vs one docker run --rm (goal ≤ 1.10×)',
  },
  dashboard: {
    file: 'dashboard-load.bench.ts',
    what: "the dashboard's first load (navigation → sessions list shown) with 10,000 sessions stored, cold and warm (goal < 1 s)",
  },
  idle: {
    file: 'idle-footprint.bench.ts',
    what: "the stack's start time, and each service's resident memory (RSS and PSS) after one session and a minute idle (goal: the four ≤ 300 MB)",
  },
  'several-runners': {
    file: 'several-runners.bench.ts',
    what:
      'dispatch throughput of 120 sessions of `true`: 3 runners × 8 slots on 3 Docker engines vs 1 runner × 8 (and × 24): ' +
      'sessions/s first ready → last completed, ready → running p50/p95',
  },
  git: {
    file: 'git-workspaces.bench.ts',
    what:
      "preparing a workspace of a 10,000-file 50 MB repository from a warm mirror (goal ≤ 1 s added to a session's start); " +
      'capturing 1,000 changed files (goal ≤ 1 s)',
  },
};

const name = process.argv[2];
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  console.log('usage: npm run bench -- <name>\n');
  for (const [key, { what }] of Object.entries(BENCHMARKS)) console.log(`  ${key.padEnd(10)} ${what}`);
  process.exit(name ? 1 : 0);
}
require(join(__dirname, bench.file));
