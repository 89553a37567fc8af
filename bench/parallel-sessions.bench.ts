// 32 independent trivial sessions through Hub with 8 runner slots (HUB_RUNNER_SLOTS=8), against
// `xargs -P 8` running `docker run --rm` of the same container 32 times. Hub: one POST
// /api/v1/orchestrations with 32 sessions and start: true, until the client has seen all 32
// `completed` on NATS. Rounds alternate between Hub and Docker. Goal: ≤ 1.05×.
//
//   npm run bench -- parallel          (ROUNDS=5 by default, after 1 warm-up round)
import { BenchStack, describe, dockerRunArgs, heading, median, runBench, shell, startBenchStack, verdict } from './support/bench-kit';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const SESSIONS = 32;
const SLOTS = 8;
const WARMUP = 1;

function dockerXargs(): Promise<number> {
  const run = ['docker', ...dockerRunArgs(true)].map((a) => `'${a}'`).join(' ');
  return shell(`seq ${SESSIONS} | xargs -P ${SLOTS} -I{} ${run}`);
}

async function hubParallel(hub: BenchStack) {
  const sessions = Array.from({ length: SESSIONS }, (_, i) => ({ name: `s${i}`, type: 'analysis', prompt: 'true' }));
  const began = performance.now();
  const orchestration = await hub.api.createOrchestration({ name: 'bench parallel', sessions, start: true });
  const ids = orchestration.sessions.map((s) => s.id);
  const seen = await Promise.all(ids.map((id) => hub.watch.when(id)));
  for (const id of ids) {
    if (hub.watch.finalStatus(id) !== 'completed') throw new Error(`session ${id} ended ${hub.watch.finalStatus(id)}`);
  }
  // Most containers running at once, from the registry's running/completed timestamps.
  const points = ids.flatMap((id) => [
    { t: hub.watch.at(id, 'running')!, d: 1 },
    { t: hub.watch.at(id, 'completed')!, d: -1 },
  ]);
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const p of points) most = Math.max(most, (now += p.d));
  const first = Math.min(...ids.map((id) => hub.watch.at(id, 'running')!));
  const postedAt = Date.now() - (performance.now() - began);
  return { total: Math.max(...seen) - began, mostAtOnce: most, firstRunning: first - postedAt };
}

runBench(`${SESSIONS} independent sessions at ${SLOTS} slots: Hub vs xargs -P ${SLOTS} docker run --rm`, async () => {
  const hub = await startBenchStack({ HUB_RUNNER_SLOTS: String(SLOTS) });
  try {
    const docker: number[] = [];
    const runs: Awaited<ReturnType<typeof hubParallel>>[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const d = await dockerXargs();
      const h = await hubParallel(hub);
      if (round < WARMUP) continue;
      docker.push(d);
      runs.push(h);
    }
    heading(`${ROUNDS} rounds (after ${WARMUP} warm-up): ${SESSIONS} sessions, prompt "true", ${SLOTS} at a time`);
    describe(`seq ${SESSIONS} | xargs -P ${SLOTS} docker run --rm (the floor)`, docker);
    describe(`Hub: POST orchestration → client sees all ${SESSIONS} completed`, runs.map((r) => r.total));
    describe('  of which POST → first container running', runs.map((r) => r.firstRunning));
    console.log(`  most containers running at once (Hub): ${Math.max(...runs.map((r) => r.mostAtOnce))}`);
    heading('verdict (p50)');
    verdict('32 at 8 slots', median(runs.map((r) => r.total)), median(docker), 1.05);
  } finally {
    await hub.stop();
  }
});
