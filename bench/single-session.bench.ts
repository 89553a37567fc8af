// One trivial session through Hub against one `docker run --rm` of the same container.
// Hub: POST /api/v1/sessions {prompt: "true", start: true} until the client sees `completed`, seen two
// ways: (a) listening to session.status-changed on NATS, (b) polling GET /api/v1/sessions/:id in a
// tight loop. Docker: `docker run --rm` with the flags that make the container Hub makes (hardened),
// and plain. Rounds alternate between them, so background noise hits both alike. Goal: ≤ 1.10×.
//
//   npm run bench -- single          (ROUNDS=20 by default, after 3 warm-up rounds)
import type { SessionStatus } from '@hub/contracts';
import { BenchStack, describe, dockerRun, heading, median, runBench, startBenchStack, TERMINAL, verdict } from './support/bench-kit';

const ROUNDS = Number(process.env['ROUNDS'] ?? 20);
const WARMUP = 3;
const STAGES: SessionStatus[] = ['waiting', 'ready', 'starting', 'running', 'completed'];

async function viaNats(hub: BenchStack) {
  const postedAt = Date.now();
  const began = performance.now();
  const session = await hub.api.createSession({ type: 'analysis', prompt: 'true', start: true });
  const answered = performance.now();
  const seen = await hub.watch.when(session.id);
  if (hub.watch.finalStatus(session.id) !== 'completed') throw new Error(`session ${session.id} did not complete`);
  // The registry's timestamps of each move, from the moment the client sent the POST.
  const stages = STAGES.map((s) => hub.watch.at(session.id, s)! - postedAt);
  return { total: seen - began, post: answered - began, stages, seenAfterCompletedAt: Date.now() - hub.watch.at(session.id, 'completed')! };
}

async function viaPolling(hub: BenchStack) {
  const began = performance.now();
  const session = await hub.api.createSession({ type: 'analysis', prompt: 'true', start: true });
  let polls = 0;
  for (;;) {
    const current = await hub.api.getSession(session.id);
    polls++;
    if (TERMINAL.includes(current.status)) {
      if (current.status !== 'completed') throw new Error(`session ${session.id} ended ${current.status}`);
      return { total: performance.now() - began, polls };
    }
  }
}

runBench('one trivial session: Hub (REST) vs docker run --rm', async () => {
  const hub = await startBenchStack();
  try {
    const docker: number[] = [];
    const dockerPlain: number[] = [];
    const nats: Awaited<ReturnType<typeof viaNats>>[] = [];
    const polling: Awaited<ReturnType<typeof viaPolling>>[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const d = await dockerRun(true);
      const dp = await dockerRun(false);
      const n = await viaNats(hub);
      const p = await viaPolling(hub);
      if (round < WARMUP) continue;
      docker.push(d);
      dockerPlain.push(dp);
      nats.push(n);
      polling.push(p);
    }

    heading(`${ROUNDS} rounds (after ${WARMUP} warm-up), one session at a time, prompt "true", image hub/test-agent:latest`);
    describe('docker run --rm, hardened like Hub (the floor)', docker);
    describe('docker run --rm --network none (plain)', dockerPlain);
    describe('Hub: POST → client sees completed (NATS event)', nats.map((n) => n.total));
    describe('Hub: POST → client sees completed (polling GET)', polling.map((p) => p.total));
    console.log(`  polling made ${median(polling.map((p) => p.polls))} GET requests per session at p50`);

    heading('where the time goes (p50 of the registry\'s `at` of each move, from the moment the POST was sent)');
    describe('POST answered (201)', nats.map((n) => n.post));
    let previous = 'POST sent';
    STAGES.forEach((stage, i) => {
      describe(`${previous} → ${stage}`, nats.map((n) => n.stages[i] - (i ? n.stages[i - 1] : 0)));
      previous = stage;
    });
    describe('completed (at) → event seen by the client', nats.map((n) => n.seenAfterCompletedAt));

    heading('verdict (p50)');
    verdict('NATS listener', median(nats.map((n) => n.total)), median(docker), 1.1);
    verdict('polling GET  ', median(polling.map((p) => p.total)), median(docker), 1.1);
    verdict('NATS listener vs plain docker run', median(nats.map((n) => n.total)), median(dockerPlain), 1.1);
  } finally {
    await hub.stop();
  }
});
