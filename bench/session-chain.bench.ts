// A chain of 10 dependent trivial sessions (s0 ← s1 ← … ← s9) through Hub, against 10 sequential
// `docker run --rm` of the same container. Hub: one POST /api/v1/orchestrations with dependsOn and
// start: true, until the client sees the last session `completed` on NATS. Rounds alternate between
// Hub and Docker. Goal: ≤ 1.10×.
//
//   npm run bench -- chain          (ROUNDS=5 by default, after 1 warm-up round)
import { describe, dockerRun, heading, median, runBench, startBenchStack, verdict, BenchStack } from './support/bench-kit';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const LENGTH = 10;
const WARMUP = 1;

async function dockerChain(): Promise<number> {
  const began = performance.now();
  for (let i = 0; i < LENGTH; i++) await dockerRun(true);
  return performance.now() - began;
}

async function hubChain(hub: BenchStack) {
  const sessions = Array.from({ length: LENGTH }, (_, i) => ({
    name: `s${i}`,
    type: 'analysis',
    prompt: 'true',
    dependsOn: i ? [`s${i - 1}`] : [],
  }));
  const began = performance.now();
  const orchestration = await hub.api.createOrchestration({ name: 'bench chain', sessions, start: true });
  const ids = sessions.map((s) => orchestration.sessions.find((v) => v.name === s.name)!.id);
  const seen = await hub.watch.when(ids[LENGTH - 1]);
  const total = performance.now() - began;
  for (const id of ids) {
    if (hub.watch.finalStatus(id) !== 'completed') throw new Error(`session ${id} ended ${hub.watch.finalStatus(id)}`);
  }
  const at = (i: number, s: Parameters<BenchStack['watch']['at']>[1]) => hub.watch.at(ids[i], s)!;
  // Hand-off: from a session's completion to its dependent's container running (all Hub, no container).
  const handoffs = ids.slice(1).map((_, i) => at(i + 1, 'running') - at(i, 'completed'));
  const containers = ids.map((_, i) => at(i, 'completed') - at(i, 'running'));
  return { total: seen - began, wall: total, handoffs, containers };
}

runBench(`a chain of ${LENGTH} dependent sessions: Hub vs ${LENGTH} sequential docker run --rm`, async () => {
  const hub = await startBenchStack();
  try {
    const docker: number[] = [];
    const runs: Awaited<ReturnType<typeof hubChain>>[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const d = await dockerChain();
      const h = await hubChain(hub);
      if (round < WARMUP) continue;
      docker.push(d);
      runs.push(h);
    }
    heading(`${ROUNDS} rounds (after ${WARMUP} warm-up): s0 ← s1 ← … ← s${LENGTH - 1}, prompt "true"`);
    describe(`${LENGTH} × docker run --rm, one after the other (the floor)`, docker);
    describe('Hub: POST orchestration → client sees the last completed', runs.map((r) => r.total));
    heading('where the time goes (registry `at` timestamps)');
    describe('hand-off: a session completed → its dependent running', runs.flatMap((r) => r.handoffs));
    describe('a container: running → completed', runs.flatMap((r) => r.containers));
    heading('verdict (p50)');
    verdict('chain', median(runs.map((r) => r.total)), median(docker), 1.1);
  } finally {
    await hub.stop();
  }
});
