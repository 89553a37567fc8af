// One trivial session through Hub, the client learning that it completed from `GET /api/v1/sessions/:id
// ?wait=terminal` (one request held until the session ended: no polling, no NATS), against one
// `docker run --rm` of the same container (hardened like Hub's) in the same run. Rounds alternate
// between them, so background noise hits both alike. Goal: ≤ 1.10×.
//
//   npm run bench -- wait          (ROUNDS=20 by default, after 3 warm-up rounds)
import type { SessionView } from '@hub/contracts';
import { BenchStack, describe, dockerRun, heading, median, runBench, startBenchStack, verdict } from './support/bench-kit';

const ROUNDS = Number(process.env['ROUNDS'] ?? 20);
const WARMUP = 3;

async function viaWait(hub: BenchStack) {
  const began = performance.now();
  const session = await hub.api.createSession({ type: 'analysis', prompt: 'true', start: true });
  const posted = performance.now();
  const ended = await hub.api.request<SessionView>('GET', `/api/v1/sessions/${session.id}?wait=terminal&timeoutSeconds=120`);
  const answeredAt = Date.now();
  if (ended.status !== 'completed') throw new Error(`session ${session.id} is ${ended.status} after the wait`);
  return { total: performance.now() - began, post: posted - began, afterCompleted: answeredAt - Date.parse(ended.finishedAt!) };
}

runBench('one trivial session: Hub (POST, then GET ?wait=terminal) vs docker run --rm', async () => {
  const hub = await startBenchStack();
  try {
    const docker: number[] = [];
    const waits: Awaited<ReturnType<typeof viaWait>>[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const d = await dockerRun(true);
      const w = await viaWait(hub);
      if (round < WARMUP) continue;
      docker.push(d);
      waits.push(w);
    }

    heading(`${ROUNDS} rounds (after ${WARMUP} warm-up), one session at a time, prompt "true", image hub/test-agent:latest`);
    describe('docker run --rm, hardened like Hub (the floor)', docker);
    describe('Hub: POST → GET ?wait=terminal answers completed', waits.map((w) => w.total));
    describe('  of which POST answered (201)', waits.map((w) => w.post));
    describe('  of which finishedAt → the wait answered', waits.map((w) => w.afterCompleted));

    heading('verdict (p50)');
    verdict('?wait=terminal', median(waits.map((w) => w.total)), median(docker), 1.1);
  } finally {
    await hub.stop();
  }
});
