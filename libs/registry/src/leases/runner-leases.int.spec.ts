// Runner leases against real PostgreSQL (with the real migrations) and a real nats-server -js holding
// the runners' heartbeats (KV hub_runners): a runner silent past the grace loses its sessions to
// the others (back to ready, retries unspent, session.ready again through the outbox), one that
// heartbeats keeps its own, a late report of the old runner changes nothing, and a registry that
// restarts gives every runner a full grace before it takes anything.
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createLogger } from '@hub/config';
import { DEFAULT_TENANT, EventOf, RUNNER_LOST_REASON } from '@hub/contracts';
import { RunnerHeartbeats } from '@hub/messaging';
import { startRegistryHarness, TEST_REGISTRY_SETTINGS, type RegistryHarness } from '@hub/registry-testing';
import { ClaimSession } from '../sessions/claim-session.use-case';
import { CreateSession } from '../sessions/create-session.use-case';
import { RecordContainerOutcome } from '../sessions/record-container-outcome.use-case';
import { RecordDependencyOutcome } from '../sessions/record-dependency-outcome.use-case';
import { SessionQueries } from '../sessions/session-queries';
import { RequeueLostRunnerSessions } from './requeue-lost-runner-sessions.use-case';
import { RunnerLeaseStore } from './runner-lease-store';
import { RunnerQueries } from './runner-queries';
import { WatchRunnerLeases } from './watch-runner-leases';

const GRACE_SECONDS = 2;
const HEARTBEAT_MS = 300;
const RUN = `${process.pid}`;

describe('runner leases (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;
  let heartbeats: RunnerHeartbeats;
  const beating = new Map<string, NodeJS.Timeout>();

  beforeAll(async () => {
    harness = await startRegistryHarness('leases', { settings: { leaseGraceSeconds: GRACE_SECONDS } });
    ({ app, dataSource } = harness);
    heartbeats = new RunnerHeartbeats(harness.nc);
  }, 120_000);

  afterAll(async () => {
    for (const timer of beating.values()) clearInterval(timer);
    await harness?.stop();
  });

  /** A runner that puts its heartbeat now and every HEARTBEAT_MS until `silence`. */
  async function startBeating(runnerId: string): Promise<void> {
    const startedAt = new Date().toISOString();
    const put = () => heartbeats.put({ runnerId, startedAt, slots: 4, inUse: 1, labels: ['gpu'], heartbeatEveryMs: HEARTBEAT_MS });
    await put();
    beating.set(runnerId, setInterval(() => void put().catch(() => undefined), HEARTBEAT_MS));
  }
  const silence = (runnerId: string) => clearInterval(beating.get(runnerId));

  async function runningOn(runnerId: string, retries = 1): Promise<string> {
    const session = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', retries, start: true }, DEFAULT_TENANT);
    await app.get(RecordDependencyOutcome).resolved({ id: `deps.resolved:${session.id}`, subject: 'deps.resolved', occurredAt: new Date().toISOString(), data: { sessionId: session.id } });
    const claim = await app.get(ClaimSession).execute(session.id, runnerId);
    expect(claim.claimed).toBe(true);
    await app.get(RecordContainerOutcome).started(started(session.id, 1, runnerId));
    return session.id;
  }
  const started = (sessionId: string, attempt: number, runnerId: string): EventOf<'container.started'> => ({
    id: `container.started:${sessionId}:${attempt}:${runnerId}`,
    subject: 'container.started',
    occurredAt: new Date().toISOString(),
    data: { sessionId, attempt, runnerId, containerId: `${runnerId}-${attempt}`.padEnd(64, '0'), startedAt: new Date().toISOString() },
  });
  const exited = (sessionId: string, attempt: number, runnerId: string, exitCode: number): EventOf<'container.exited'> => ({
    id: `container.exited:${sessionId}:${attempt}:${runnerId}`,
    subject: 'container.exited',
    occurredAt: new Date().toISOString(),
    data: {
      sessionId,
      attempt,
      runnerId,
      containerId: `${runnerId}-${attempt}`.padEnd(64, '0'),
      cause: 'exited',
      exitCode,
      oomKilled: false,
      durationMs: 10,
      detail: null,
      output: { files: 1, bytes: 3, skipped: 0 },
      logBytes: 0,
      logDroppedBytes: 0,
      changes: null,
      usage: null,
      rateLimit: null,
    },
  });
  const view = (sessionId: string) => app.get(SessionQueries).get(sessionId, DEFAULT_TENANT);
  const outboxOf = async (sessionId: string, subject: string) =>
    (await dataSource.query(`SELECT envelope FROM outbox WHERE subject = $1 AND envelope->'data'->>'sessionId' = $2 ORDER BY seq`, [subject, sessionId])).map(
      (row: { envelope: { data: Record<string, unknown> } }) => row.envelope.data,
    );

  async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("moves a silent runner's sessions back to ready after the grace, retries unspent; a runner that heartbeats keeps its own; the old runner's late reports change nothing", async () => {
    const [lost, alive] = [`lost-${RUN}`, `alive-${RUN}`];
    await startBeating(lost);
    await startBeating(alive);
    const taken = await runningOn(lost);
    const kept = await runningOn(alive);
    await app.get(WatchRunnerLeases).runOnce();

    silence(lost);
    const silencedAt = Date.now();
    const requeued = await until('the silent runner\'s session ready again', () => view(taken), (s) => s.status === 'ready', 10_000);
    const tookMs = Date.now() - silencedAt;
    // The grace (2 s: more than two heartbeats and a check) after its last heartbeat was seen (within a
    // check, 1 s), then at most a check and the move.
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - HEARTBEAT_MS);
    expect(tookMs).toBeLessThan(GRACE_SECONDS * 1000 + 3_000);
    expect(requeued).toMatchObject({ status: 'ready', runnerId: null, attempt: 1, retries: 1 });
    expect(requeued.statusReason).toMatch(
      new RegExp(`^attempt 1 lost: runner ${lost} stopped heartbeating at \\S+Z \\(lease grace ${GRACE_SECONDS} s\\); running it again on another runner \\(its retries unspent\\)$`),
    );
    expect(requeued.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'failed', reason: expect.stringMatching(new RegExp(`^${RUNNER_LOST_REASON}: runner ${lost} stopped heartbeating`)) })]);
    // Handed to the runners again, through the outbox, with the move's reason.
    expect(await outboxOf(taken, 'session.ready')).toEqual([expect.objectContaining({ attempt: 1 }), expect.objectContaining({ attempt: 2 })]);
    expect((await outboxOf(taken, 'session.status-changed')).at(-1)).toMatchObject({ from: 'running', to: 'ready', reason: requeued.statusReason });
    // The live runner's session is its own still.
    expect(await view(kept)).toMatchObject({ status: 'running', runnerId: alive });

    // The lost runner's late word about its attempt is refused: the session is no longer its.
    await app.get(RecordContainerOutcome).started(started(taken, 1, lost));
    await app.get(RecordContainerOutcome).exited(exited(taken, 1, lost, 0));
    expect(await view(taken)).toMatchObject({ status: 'ready', runnerId: null, exitCode: null, output: null });

    // Another runner runs it as attempt 2; the lost one's reports of attempt 1 still change nothing.
    expect((await app.get(ClaimSession).execute(taken, alive)).claimed).toBe(true);
    await app.get(RecordContainerOutcome).started(started(taken, 2, alive));
    await app.get(RecordContainerOutcome).exited(exited(taken, 1, lost, 0));
    expect(await view(taken)).toMatchObject({ status: 'running', attempt: 2, runnerId: alive });
    // Its one retry is unspent: a failed attempt 2 runs again (attempt 3), which completes.
    await app.get(RecordContainerOutcome).exited(exited(taken, 2, alive, 1));
    expect(await view(taken)).toMatchObject({ status: 'ready', statusReason: expect.stringContaining('retry 1 of 1') });
    await app.get(ClaimSession).execute(taken, alive);
    await app.get(RecordContainerOutcome).exited(exited(taken, 3, alive, 0));
    expect(await view(taken)).toMatchObject({ status: 'completed', attempt: 3, runnerId: alive });

    // The registry's view of the runners.
    await app.get(WatchRunnerLeases).runOnce();
    const { runners, leaseGraceSeconds, watchingSince } = await app.get(RunnerQueries).list();
    expect(leaseGraceSeconds).toBe(GRACE_SECONDS);
    expect(watchingSince).not.toBeNull();
    expect(runners.find((r) => r.runnerId === alive)).toMatchObject({ status: 'alive', holds: 1, slots: 4, inUse: 1, labels: ['gpu'], lostAt: null });
    expect(runners.find((r) => r.runnerId === lost)).toMatchObject({ status: 'lost', holds: 0, lostAt: expect.any(String) });
    silence(alive);
  }, 30_000);

  it('gives every runner a full grace after the registry restarts: a live one keeps its sessions, a long-silent one loses them only past the grace', async () => {
    // The harness's own watch stops: what follows is a registry that has just started.
    app.get(WatchRunnerLeases).onApplicationShutdown();
    const [live, dead] = [`live-${RUN}`, `dead-${RUN}`];
    await startBeating(live);
    const liveSession = await runningOn(live);
    const deadSession = await runningOn(dead);
    // What an earlier registry recorded of the dead runner: last seen an hour ago.
    const deadLastSeen = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    await app.get(RunnerLeaseStore).recordSeen([
      { id: dead, lastSeenAt: deadLastSeen, heartbeatRevision: '1', heartbeatEveryMs: HEARTBEAT_MS, startedAt: null, slots: 2, inUse: 2, labels: [], version: null },
    ]);

    const restarted = new WatchRunnerLeases(
      heartbeats,
      app.get(RunnerLeaseStore),
      app.get(RequeueLostRunnerSessions),
      { ...TEST_REGISTRY_SETTINGS, leaseGraceSeconds: GRACE_SECONDS },
      createLogger('test', 'silent'),
    );
    const startedAt = Date.now();
    expect(await restarted.runOnce()).toEqual({ lapsed: [] });
    expect(await view(deadSession)).toMatchObject({ status: 'running', runnerId: dead });

    // Within the grace nothing moves; past it, only the silent runner's session does.
    while (Date.now() - startedAt < GRACE_SECONDS * 1000 - 200) {
      expect((await restarted.runOnce())?.lapsed).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await until('the dead runner\'s session ready again', async () => (await restarted.runOnce(), view(deadSession)), (s) => s.status === 'ready', 5_000);
    expect(await view(liveSession)).toMatchObject({ status: 'running', runnerId: live });
    expect((await view(deadSession)).statusReason).toContain(`runner ${dead} stopped heartbeating at ${deadLastSeen.toISOString()} (lease grace ${GRACE_SECONDS} s)`);
    silence(live);
  }, 30_000);
});
