// Large orchestrations: how long Hub takes to accept a 10,000-session orchestration (goal ≤ 2 s), and
// what one completion costs the dependency resolver as the DAG grows from 100 to 10,000 sessions
// (goal: flat). No containers run: see METHOD below, which the benchmark also prints.
//
//   npm run bench -- large-dag          (SAMPLES=20 measured completions per size by default)
import { Client } from 'pg';
import { JSONCodec } from 'nats';
import { EVENTS, RPC, type EventSubject } from '@hub/contracts';
import { durableName, EventPublisher, RpcClient } from '@hub/messaging';
import { EVENT_STREAM } from '@hub/contracts';
import { BenchStack, describe, heading, median, ms, runBench, sleep, startBenchStack } from './support/bench-kit';

const SAMPLES = Number(process.env['SAMPLES'] ?? 20);
const ACCEPT_ROUNDS = Number(process.env['ACCEPT_ROUNDS'] ?? 3);
const VIEW_READS = Number(process.env['VIEW_READS'] ?? 20);
const NATS_MAX_PAYLOAD = 1024 * 1024;
const SIZES = [
  { layers: 10, width: 10 },
  { layers: 10, width: 100 },
  { layers: 100, width: 100 },
];

const METHOD = [
  'DAG: `layers` × `width` sessions; session j of layer L (named "L.j") depends on session j of layer L-1 and, when j',
  'is even, also on session j+1 of layer L-1: one or two dependencies each, 1.5 edges per session, whatever the size.',
  'Accepting: POST /api/v1/orchestrations until the 201, which carries all 10,000 sessions (the gateway reads them back',
  'from the registry page by page), without and with start: true.',
  'Resolver cost: the container runner is stopped, and this benchmark plays the runner through the same NATS subjects',
  '(claim over request/reply, then container.started and container.exited with exit code 0), one session at a time, so',
  'no container runs and nothing else is in flight. Completing session j (odd) of a layer makes exactly two sessions of',
  'the next layer ready (j-1 and j). Measured per completion, from the moment the `completed` status-changed reaches',
  'this client (the resolver receives it at the same moment): to the last of the two `deps.resolved` the resolver',
  'publishes (the resolver: read the dependents and their dependencies from the registry, decide, publish), and to the',
  'last of the two `ready` status-changed (resolver + registry applying deps.resolved). Completions of even j make',
  'nothing ready; they are made and left to settle between measurements. Before measuring, the start of each whole',
  'orchestration (one session.start-requested per session) is left to drain; then the three sizes take turns, one',
  'completion each, so that whatever else the machine is doing weighs on all sizes alike.',
];

interface DagSession {
  name: string;
  prompt: string;
  dependsOn: string[];
}

const nameOf = (layer: number, j: number) => `${layer}.${j}`;

function layeredDag(layers: number, width: number): DagSession[] {
  const sessions: DagSession[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let j = 0; j < width; j++) {
      const dependsOn = layer === 0 ? [] : [nameOf(layer - 1, j), ...(j % 2 === 0 && j + 1 < width ? [nameOf(layer - 1, j + 1)] : [])];
      sessions.push({ name: nameOf(layer, j), prompt: 'true', dependsOn });
    }
  }
  return sessions;
}

/** The sessions a completion of `layer.j` makes ready, given everything before it in order has completed. */
function unlockedBy(layer: number, j: number, layers: number, width: number): string[] {
  if (layer + 1 >= layers) return [];
  if (j % 2 === 0) return j + 1 < width ? [] : [nameOf(layer + 1, j)];
  return [nameOf(layer + 1, j - 1), nameOf(layer + 1, j)];
}

/** Records when each deps.resolved arrives (core NATS sees JetStream publishes). */
class DecisionWatch {
  readonly resolvedAt = new Map<string, number>();
  constructor(hub: BenchStack) {
    const jc = JSONCodec<{ data: { sessionId: string } }>();
    hub.nc.subscribe(EVENTS.depsResolved, {
      callback: (_e, m) => this.resolvedAt.set(jc.decode(m.data).data.sessionId, performance.now()),
    });
  }
  async when(sessionId: string, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!this.resolvedAt.has(sessionId)) {
      if (Date.now() > deadline) throw new Error(`no deps.resolved for ${sessionId}`);
      await sleep(1);
    }
    return this.resolvedAt.get(sessionId)!;
  }
}

/** Waits until the registry has relayed its outbox and the consumers that decide and apply have nothing left. */
async function settle(hub: BenchStack, db: Client, timeoutMs = 600_000): Promise<number> {
  const began = performance.now();
  const jsm = await hub.nc.jetstreamManager();
  const durables = [
    durableName('dependency-resolver', EVENTS.sessionStartRequested),
    durableName('dependency-resolver', EVENTS.sessionStatusChanged),
    ...([EVENTS.depsResolved, EVENTS.depsFailed, EVENTS.containerStarted, EVENTS.containerExited] as EventSubject[]).map((s) =>
      durableName('session-registry', s),
    ),
  ];
  let quietPolls = 0;
  while (performance.now() - began < timeoutMs) {
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`)).rows;
    const infos = await Promise.all(durables.map((d) => jsm.consumers.info(EVENT_STREAM.name, d)));
    const busy = n + infos.reduce((sum, i) => sum + i.num_pending + i.num_ack_pending, 0);
    quietPolls = busy === 0 ? quietPolls + 1 : 0;
    if (quietPolls >= 2) return performance.now() - began;
    await sleep(50);
  }
  throw new Error('the stack did not settle');
}

/** Plays the runner for one session: claim, container.started, then container.exited (exit 0). */
class FakeRunner {
  private readonly rpc: RpcClient;
  private readonly publisher: EventPublisher;
  constructor(private readonly hub: BenchStack) {
    this.rpc = new RpcClient(hub.nc);
    this.publisher = new EventPublisher(hub.nc);
  }

  async start(sessionId: string): Promise<number> {
    const claim = await this.rpc.call(RPC.claimSession, { sessionId, runnerId: 'bench' });
    if (!claim.claimed || !claim.spec) throw new Error(`could not claim ${sessionId}`);
    const attempt = claim.spec.attempt;
    const containerId = `bench-${sessionId}`;
    await this.publisher.publish(
      'container.started',
      { sessionId, attempt, containerId, runnerId: 'bench', startedAt: new Date().toISOString() },
      `container.started:${sessionId}:${attempt}`,
    );
    await this.hub.watch.when(sessionId, ['running']);
    return attempt;
  }

  async exit(sessionId: string, attempt: number): Promise<void> {
    await this.publisher.publish(
      'container.exited',
      {
        sessionId,
        attempt,
        containerId: `bench-${sessionId}`,
        runnerId: 'bench',
        cause: 'exited',
        exitCode: 0,
        oomKilled: false,
        durationMs: 1,
        detail: null,
        output: { files: 0, bytes: 0, skipped: 0 },
        logBytes: 0,
        logDroppedBytes: 0,
        changes: null,
        usage: null,
        rateLimit: null,
      },
      `container.exited:${sessionId}:${attempt}`,
    );
  }
}

interface Sample {
  exitedToCompleted: number;
  resolver: number;
  toReady: number;
}

/**
 * Drives one orchestration the way a runner would, session by session in declared order, and
 * yields a sample for each completion that makes two sessions ready.
 */
class CompletionDriver {
  private layer = 0;
  private j = 0;
  private readonly runner: FakeRunner;

  constructor(
    private readonly hub: BenchStack,
    private readonly db: Client,
    private readonly decisions: DecisionWatch,
    private readonly layers: number,
    private readonly width: number,
    private readonly ids: Map<string, string>,
  ) {
    this.runner = new FakeRunner(hub);
  }

  /** Completes sessions until one makes two others ready; returns that completion's timings. */
  async nextSample(): Promise<Sample> {
    for (;;) {
      if (this.layer >= this.layers - 1) throw new Error(`ran out of sessions in the ${this.layers}×${this.width} DAG`);
      const { layer, j } = this;
      if (++this.j === this.width) (this.j = 0), this.layer++;
      const id = this.ids.get(nameOf(layer, j))!;
      await this.hub.watch.when(id, ['ready']);
      const attempt = await this.runner.start(id);
      await settle(this.hub, this.db);
      const unlocked = unlockedBy(layer, j, this.layers, this.width).map((name) => this.ids.get(name)!);
      const exitedAt = performance.now();
      await this.runner.exit(id, attempt);
      const completed = await this.hub.watch.when(id, ['completed']);
      const resolved = await Promise.all(unlocked.map((u) => this.decisions.when(u)));
      const ready = await Promise.all(unlocked.map((u) => this.hub.watch.when(u, ['ready'])));
      await settle(this.hub, this.db);
      if (unlocked.length === 2) {
        return {
          exitedToCompleted: completed - exitedAt,
          resolver: Math.max(...resolved) - completed,
          toReady: Math.max(...ready) - completed,
        };
      }
    }
  }
}

function bodyOf(name: string, sessions: DagSession[], start: boolean): string {
  return JSON.stringify({ name, start, sessions });
}

/** What the gateway forwards to the registry over NATS: the body with the schema's defaults filled in. */
function forwardedBytes(sessions: DagSession[], start: boolean): number {
  return Buffer.byteLength(
    JSON.stringify({ name: 'bench', sessions: sessions.map((s) => ({ ...s, type: 'implementation' })), start }),
  );
}

runBench('large orchestrations: accepting 10,000 sessions, and the resolver\'s cost per completion', async () => {
  const hub = await startBenchStack();
  const db = new Client({ connectionString: hub.stack.databaseUrl });
  await db.connect();
  try {
    // No container may run: this benchmark plays the runner itself.
    await hub.stack.services['container-runner'].stop();
    heading('method', METHOD);

    const big = layeredDag(100, 100);
    heading(`accepting a ${big.length.toLocaleString('en')}-session orchestration (100 layers × 100, ${big.reduce((n, s) => n + s.dependsOn.length, 0).toLocaleString('en')} dependencies)`, [
      `HTTP body ${(Buffer.byteLength(bodyOf('bench', big, true)) / 1024).toFixed(0)} KiB (gateway limit 1024 KiB); ` +
        `request to the registry over NATS ≈ ${(forwardedBytes(big, true) / 1024).toFixed(0)} KiB (NATS max payload ${NATS_MAX_PAYLOAD / 1024} KiB)`,
    ]);
    const accepted: number[] = [];
    const viewReads: { query: string; p50: number }[] = [];
    for (let round = 0; round < ACCEPT_ROUNDS; round++) {
      await settle(hub, db); // the previous round's 10,000 session.created events relayed first
      const body = bodyOf(`bench accept ${round}`, big, false);
      const began = performance.now();
      const view = await hub.api.createOrchestration(body);
      accepted.push(performance.now() - began);
      if (view.sessions.length !== big.length) throw new Error(`201 carried ${view.sessions.length} sessions`);
    }
    describe('POST (start: false) → 201 with all sessions', accepted);

    // Reading it back: the view keeps counts and status, and lists its sessions a page at a time.
    const lastId = (await hub.api.request<{ items: { id: string }[] }>('GET', '/api/v1/orchestrations?limit=1')).items[0].id;
    for (const query of ['', '?limit=100']) {
      const times: number[] = [];
      let bytes = 0;
      for (let k = 0; k < VIEW_READS; k++) {
        const began = performance.now();
        const response = await fetch(`${hub.api.baseUrl}/api/v1/orchestrations/${lastId}${query}`, { headers: { authorization: `Bearer ${hub.stack.apiToken}` } });
        bytes = (await response.arrayBuffer()).byteLength;
        times.push(performance.now() - began);
      }
      viewReads.push({ query: query || '(default page)', p50: median(times) });
      describe(`GET /orchestrations/:id${query} of 10,000 sessions (${(bytes / 1024).toFixed(0)} KiB)`, times);
    }

    const results: { size: number; samples: Sample[]; acceptedWithStart: number; settled: number; driver: CompletionDriver }[] = [];
    const decisions = new DecisionWatch(hub);
    for (const { layers, width } of SIZES) {
      const sessions = layeredDag(layers, width);
      await settle(hub, db);
      const began = performance.now();
      const view = await hub.api.createOrchestration(bodyOf(`bench ${layers}x${width}`, sessions, true));
      const acceptedWithStart = performance.now() - began;
      const ids = new Map(view.sessions.map((s) => [s.name!, s.id]));
      const settled = await settle(hub, db);
      const driver = new CompletionDriver(hub, db, decisions, layers, width, ids);
      results.push({ size: sessions.length, samples: [], acceptedWithStart, settled, driver });
    }
    // Round robin over the sizes, so that whatever else the machine does weighs on all of them alike.
    for (let k = 0; k < SAMPLES; k++) {
      for (const r of results) r.samples.push(await r.driver.nextSample());
    }

    heading('accepting with start: true, and the start settling (every start request decided, layer 0 ready)');
    for (const r of results) {
      console.log(
        `  ${r.size.toLocaleString('en').padStart(6)} sessions: POST → 201 ${ms(r.acceptedWithStart).padStart(8)}; ` +
          `then settled in ${ms(r.settled).padStart(8)}`,
      );
    }
    heading(`per completion (${SAMPLES} completions per size, each making 2 sessions ready)`);
    for (const r of results) {
      describe(`${r.size.toLocaleString('en').padStart(6)}: container.exited → completed seen`, r.samples.map((s) => s.exitedToCompleted));
      describe(`${r.size.toLocaleString('en').padStart(6)}: completed → deps.resolved ×2 (resolver)`, r.samples.map((s) => s.resolver));
      describe(`${r.size.toLocaleString('en').padStart(6)}: completed → ready ×2`, r.samples.map((s) => s.toReady));
    }
    heading('verdict');
    const acceptedP50 = median(accepted);
    console.log(`  accepted 10,000 sessions in ${ms(acceptedP50)} at p50 (goal ≤ 2000 ms: ${acceptedP50 <= 2000 ? 'met' : 'MISSED'})`);
    for (const read of viewReads) {
      console.log(`  GET /orchestrations/:id ${read.query} of 10,000 sessions in ${ms(read.p50)} at p50 (goal ≤ 100 ms: ${read.p50 <= 100 ? 'met' : 'MISSED'})`);
    }
    const first = median(results[0].samples.map((s) => s.resolver));
    const last = median(results[results.length - 1].samples.map((s) => s.resolver));
    console.log(
      `  resolver per completion: ${ms(first)} at ${results[0].size} sessions, ${ms(last)} at ${results[results.length - 1].size.toLocaleString('en')} ` +
        `(${(last / first).toFixed(2)}×; flat: ${last / first <= 1.5 ? 'yes' : 'NO'})`,
    );
  } finally {
    await db.end();
    await hub.stop();
  }
});
