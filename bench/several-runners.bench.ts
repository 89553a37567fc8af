// Dispatch throughput with several runners (issue 18): one orchestration of N trivial sessions
// (prompt `true`, no dependencies) through Hub with
//   - 1 runner  × 8 slots (the stack's, on the machine's Docker engine),
//   - 3 runners × 8 slots (the stack's and two more, each on a Docker engine of its own: startDockerEngine),
//   - 1 runner  × 24 slots (as many slots as the three, on the machine's engine: is it the runners or the slots?),
// rounds alternating. Figures from the registry's own times (each session.status-changed's `at`):
// sessions/s from the first `ready` to the last `completed`, ready → running p50/p95 (mostly the wait
// for a free slot) and claimed → running (one dispatch's own cost), the most containers running at
// once, and how the sessions spread over the runners.
//
//   npm run bench -- several-runners      (SESSIONS=120, ROUNDS=2 by default, after one warm-up round)
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import {
  copyImage,
  makeTempDir,
  startDockerEngine,
  startExtraRunner,
  type ExtraDockerEngine,
  type ExtraRunner,
} from '@hub/infra';
import { BenchStack, heading, percentile, runBench, startBenchStack } from './support/bench-kit';

const SESSIONS = Number(process.env['SESSIONS'] ?? 120);
const ROUNDS = Number(process.env['ROUNDS'] ?? 2);
const SLOTS = 8;
const IMAGES = ['hub/test-agent:latest', 'hub/egress-bridge:latest'];

type Setup = '1 runner × 8 slots' | '3 runners × 8 slots' | '1 runner × 24 slots';

interface Run {
  setup: Setup;
  perSecond: number;
  spanMs: number;
  readyToRunning: number[];
  /** Claimed → container running: what one dispatch costs, without the wait for a slot. */
  startingToRunning: number[];
  mostRunning: number;
  byRunner: Record<string, number>;
}

async function runOnce(hub: BenchStack, setup: Setup): Promise<Run> {
  const sessions = Array.from({ length: SESSIONS }, (_, i) => ({ name: `s${i}`, type: 'analysis', prompt: 'true' }));
  const orchestration = await hub.api.createOrchestration({ name: `bench several runners (${setup})`, sessions, start: true });
  const ids = orchestration.sessions.map((s) => s.id);
  await Promise.all(ids.map((id) => hub.watch.when(id, undefined, 600_000)));
  const failed = ids.filter((id) => hub.watch.finalStatus(id) !== 'completed');
  if (failed.length) throw new Error(`${failed.length} sessions did not complete (${setup})`);
  const at = (id: string, status: 'ready' | 'starting' | 'running' | 'completed') => hub.watch.at(id, status)!;
  const firstReady = Math.min(...ids.map((id) => at(id, 'ready')));
  const lastCompleted = Math.max(...ids.map((id) => at(id, 'completed')));
  const points = ids.flatMap((id) => [
    { t: at(id, 'running'), d: 1 },
    { t: at(id, 'completed'), d: -1 },
  ]);
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let mostRunning = 0;
  for (const p of points) mostRunning = Math.max(mostRunning, (now += p.d));
  const view = await hub.api.request<{ sessions: { runnerId: string | null }[] }>('GET', `/api/v1/orchestrations/${orchestration.id}`);
  const byRunner: Record<string, number> = {};
  for (const s of view.sessions) byRunner[s.runnerId ?? 'none'] = (byRunner[s.runnerId ?? 'none'] ?? 0) + 1;
  const spanMs = lastCompleted - firstReady;
  return {
    setup,
    perSecond: SESSIONS / (spanMs / 1000),
    spanMs,
    readyToRunning: ids.map((id) => at(id, 'running') - at(id, 'ready')),
    startingToRunning: ids.map((id) => at(id, 'running') - at(id, 'starting')),
    mostRunning,
    byRunner,
  };
}

runBench(`dispatch throughput: ${SESSIONS} sessions of "true", 3 runners on 3 engines vs 1`, async () => {
  const dir = await makeTempDir('hub-bench-engines');
  const engines: ExtraDockerEngine[] = [];
  const extra: ExtraRunner[] = [];
  const hub = await startBenchStack({ HUB_RUNNER_SLOTS: String(SLOTS) });
  const stackRunner = hub.stack.services['container-runner'];
  try {
    engines.push(...(await Promise.all(['b', 'c'].map((name) => startDockerEngine({ dir: join(dir, name) })))));
    await Promise.all(engines.flatMap((engine) => IMAGES.map((image) => copyImage(image, undefined, engine.dockerHost))));

    /** Brings the runners to `setup`: extra ones started or stopped, the stack's stopped for the 24-slot one. */
    const arrange = async (setup: Setup) => {
      await Promise.all(extra.splice(0).map((runner) => runner.stop()));
      if (setup === '1 runner × 24 slots') {
        await stackRunner.stop();
        extra.push(await startExtraRunner({ stack: hub.stack, runnerId: 'runner-big', dockerHost: 'unix:///var/run/docker.sock', slots: 3 * SLOTS }));
        return;
      }
      await stackRunner.start();
      if (setup === '3 runners × 8 slots') {
        extra.push(
          ...(await Promise.all(
            engines.map((engine, i) => startExtraRunner({ stack: hub.stack, runnerId: `runner-${'bc'[i]}`, dockerHost: engine.dockerHost, slots: SLOTS })),
          )),
        );
      }
    };

    const setups: Setup[] = ['1 runner × 8 slots', '3 runners × 8 slots', '1 runner × 24 slots'];
    const runs: Run[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      for (const setup of setups) {
        await arrange(setup);
        const run = await runOnce(hub, setup);
        // Round 0 warms up every engine and runner.
        if (round > 0) runs.push(run);
        console.log(
          `  ${round === 0 ? 'warm-up' : `round ${round}`}: ${setup.padEnd(20)} ${run.perSecond.toFixed(1)} sessions/s ` +
            `(${(run.spanMs / 1000).toFixed(1)} s), ready → running p50 ${percentile(run.readyToRunning, 50).toFixed(0)} ms ` +
            `p95 ${percentile(run.readyToRunning, 95).toFixed(0)} ms, claimed → running p50 ${percentile(run.startingToRunning, 50).toFixed(0)} ms, ` +
            `at most ${run.mostRunning} running; ${JSON.stringify(run.byRunner)}`,
        );
      }
    }

    heading(`${ROUNDS} rounds (after a warm-up): ${SESSIONS} sessions of "true" each, first ready → last completed`);
    for (const setup of setups) {
      const mine = runs.filter((run) => run.setup === setup);
      const rates = mine.map((run) => run.perSecond);
      const latencies = mine.flatMap((run) => run.readyToRunning);
      const claims = mine.flatMap((run) => run.startingToRunning);
      console.log(
        `  ${setup.padEnd(20)} ${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)} sessions/s; ` +
          `ready → running p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms; ` +
          `claimed → running p50 ${percentile(claims, 50).toFixed(0)} ms, p95 ${percentile(claims, 95).toFixed(0)} ms; ` +
          `at most ${Math.max(...mine.map((run) => run.mostRunning))} running at once`,
      );
    }
    const median = (setup: Setup) => percentile(runs.filter((run) => run.setup === setup).map((run) => run.perSecond), 50);
    heading('ratio (median sessions/s)');
    console.log(`  3 runners × 8 / 1 runner × 8: ${(median('3 runners × 8 slots') / median('1 runner × 8 slots')).toFixed(2)}×`);
    console.log(`  3 runners × 8 / 1 runner × 24: ${(median('3 runners × 8 slots') / median('1 runner × 24 slots')).toFixed(2)}×`);
  } finally {
    await Promise.allSettled(extra.map((runner) => runner.stop()));
    await hub.stop();
    await Promise.allSettled(engines.map((engine) => engine.remove()));
    await rm(dir, { recursive: true, force: true });
  }
});
