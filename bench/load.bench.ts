// Load: 100 concurrent clients create, start and list sessions for 60 s (LOAD_SECONDS, LOAD_CLIENTS).
// Prints throughput and p50/p99 latency per route, and fails if any request failed.
//
// It measures the API and the control plane (gateway → NATS → registry → PostgreSQL → outbox →
// resolver), not Docker: the sessions it starts name an image that is allowed but not on the engine,
// so each one ends `failed` (image_not_found) at once instead of queueing thousands of containers on a
// two-core machine.
import { percentile, runBench, startBenchStack } from './support/bench-kit';

const SECONDS = Number(process.env['LOAD_SECONDS'] ?? 60);
const CLIENTS = Number(process.env['LOAD_CLIENTS'] ?? 100);

type Route = 'POST /sessions' | 'POST /sessions/:id/start' | 'GET /sessions' | 'GET /sessions/:id';

runBench(`load: ${CLIENTS} clients for ${SECONDS} s (create, start, list, get)`, async () => {
  const bench = await startBenchStack({ LOG_LEVEL: 'info' });
  const { baseUrl } = bench.api;
  const token = bench.stack.apiToken;
  const latencies = new Map<Route, number[]>();
  const failures: string[] = [];

  const call = async (route: Route, method: string, path: string, body?: unknown): Promise<any> => {
    const began = performance.now();
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const elapsed = performance.now() - began;
    if (response.status >= 300) {
      failures.push(`${route}: HTTP ${response.status} ${text.slice(0, 200)}`);
      return null;
    }
    (latencies.get(route) ?? latencies.set(route, []).get(route)!).push(elapsed);
    return JSON.parse(text);
  };

  try {
    const deadline = Date.now() + SECONDS * 1000;
    const client = async (n: number) => {
      while (Date.now() < deadline) {
        const session = await call('POST /sessions', 'POST', '/sessions', {
          type: 'analysis',
          prompt: `echo client ${n}`,
          image: 'hub/load-probe:not-built',
        });
        if (!session) continue;
        await call('POST /sessions/:id/start', 'POST', `/sessions/${session.id}/start`);
        await call('GET /sessions', 'GET', '/sessions?limit=50');
        await call('GET /sessions/:id', 'GET', `/sessions/${session.id}`);
      }
    };
    const began = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
    const elapsedSeconds = (Date.now() - began) / 1000;

    let total = 0;
    console.log(`\n${'route'.padEnd(28)} ${'requests'.padStart(9)} ${'req/s'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`);
    for (const [route, values] of latencies) {
      total += values.length;
      console.log(
        `${route.padEnd(28)} ${String(values.length).padStart(9)} ${(values.length / elapsedSeconds).toFixed(1).padStart(8)} ` +
          `${percentile(values, 50).toFixed(0).padStart(6)}ms ${percentile(values, 99).toFixed(0).padStart(6)}ms`,
      );
    }
    console.log(`${'all'.padEnd(28)} ${String(total).padStart(9)} ${(total / elapsedSeconds).toFixed(1).padStart(8)}`);
    console.log(`failed requests: ${failures.length}`);
    if (failures.length) {
      for (const failure of failures.slice(0, 10)) console.log(`  ${failure}`);
      throw new Error(`${failures.length} requests failed`);
    }
  } finally {
    await bench.stop();
  }
});
