// The registry's use cases against real PostgreSQL (with the real migrations) and real NATS:
// compare-and-set transitions, atomic claims, idempotent handling of redelivered events, and the
// outbox that carries every transition to JetStream.
import { INestApplicationContext } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { EventOf, HubError, DEFAULT_TENANT } from '@hub/contracts';
import { CancelSession } from './cancel-session.use-case';
import { ClaimSession } from './claim-session.use-case';
import { CreateSession } from './create-session.use-case';
import { RecordContainerOutcome } from './record-container-outcome.use-case';
import { RecordDependencyOutcome } from './record-dependency-outcome.use-case';
import { SessionQueries } from './session-queries';
import { StartSession } from './start-session.use-case';
import { ExpireOverdueSessions } from './expire-overdue-sessions';
import { OutboxRelay } from '../outbox/outbox-relay';
import { OrchestrationQueries } from '../orchestrations/orchestration-queries';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { RecordOrchestrationResult } from '../orchestrations/record-orchestration-result.use-case';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';

describe('session lifecycle in the registry (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;
  let nc: NatsConnection;

  beforeAll(async () => {
    harness = await startRegistryHarness('registry', { settings: { retryBackoffMs: 1000 } });
    ({ app, dataSource, nc } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  const outboxCount = async () => Number((await dataSource.query('SELECT count(*) AS n FROM outbox'))[0].n);
  const exited = (sessionId: string, exitCode: number): EventOf<'container.exited'> => ({
    id: `container.exited:${sessionId}:1`,
    subject: 'container.exited',
    occurredAt: new Date().toISOString(),
    data: {
      sessionId,
      attempt: 1,
      runnerId: 'r1',
      containerId: 'c'.repeat(64),
      cause: 'exited',
      exitCode,
      oomKilled: false,
      durationMs: 10,
      detail: null,
      output: { files: 0, bytes: 0, skipped: 0 },
      logBytes: 0,
      logDroppedBytes: 0,
      changes: null,
      usage: null,
      rateLimit: null,
    },
  });

  /** The resolver's word that a session's dependencies completed. */
  const depsResolved = (sessionId: string) =>
    app.get(RecordDependencyOutcome).resolved({
      id: `deps.resolved:${sessionId}`,
      subject: 'deps.resolved',
      occurredAt: new Date().toISOString(),
      data: { sessionId },
    });

  async function readySession(request: { prompt?: string; retries?: number } = {}) {
    const session = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true, ...request }, DEFAULT_TENANT);
    await depsResolved(session.id);
    return session;
  }

  it('lets exactly one of many concurrent runners claim a ready session', async () => {
    const session = await readySession();
    const claims = await Promise.all(
      ['r1', 'r2', 'r3', 'r4', 'r5'].map((runner) => app.get(ClaimSession).execute(session.id, runner)),
    );
    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
    const view = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    expect(view).toMatchObject({ status: 'starting', attempt: 1 });
  });

  it("keeps the egress a session asked for, hands it to the runner, and shows what its attempt reached", async () => {
    const session = await app.get(CreateSession).execute({
      type: 'analysis',
      prompt: 'true',
      image: 'hub/claude-code:latest',
      egress: ['api.anthropic.com:443'],
      start: true,
    }, DEFAULT_TENANT);
    await depsResolved(session.id);
    const claim = await app.get(ClaimSession).execute(session.id, 'r1');
    expect(claim.spec?.egress).toEqual(['api.anthropic.com:443']);
    expect(session.egress).toBeNull();

    const egress = {
      destinations: [
        { destination: 'api.anthropic.com:443', allowed: true, reason: null, connections: 2, bytesIn: 5120, bytesOut: 900 },
        { destination: 'evil.example:443', allowed: false, reason: "not in this session's allow-list", connections: 1, bytesIn: 0, bytesOut: 0 },
      ],
      others: null,
    };
    await app.get(RecordContainerOutcome).exited({ ...exited(session.id, 0), data: { ...exited(session.id, 0).data, egress } });
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toMatchObject({ status: 'completed', egress });

    // Asking for more than the image may reach stores nothing.
    await expect(
      app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', egress: ['registry.npmjs.org:443'] }, DEFAULT_TENANT),
    ).rejects.toThrow('egress: destination not allowed (HUB_EGRESS): registry.npmjs.org:443 for hub/test-agent:latest, which may reach nothing');
  });

  it('applies a redelivered container.exited once: same status, no second event', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    await app.get(RecordContainerOutcome).exited(exited(session.id, 4));
    const events = await outboxCount();
    const first = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    expect(first).toMatchObject({ status: 'failed', exitCode: 4 });

    await app.get(RecordContainerOutcome).exited(exited(session.id, 4));
    await app.get(RecordContainerOutcome).exited(exited(session.id, 0));
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toEqual(first);
    expect(await outboxCount()).toBe(events);
  });

  it('refuses a container.exited from a runner that does not hold the claim, and logs it; the holder\'s own report still counts', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    const warn = jest.spyOn(app.get<HubLogger>(HUB_LOGGER), 'warn');
    const events = await outboxCount();
    const before = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);

    const forged = exited(session.id, 0);
    await app.get(RecordContainerOutcome).exited({ ...forged, id: 'forged', data: { ...forged.data, runnerId: 'r2' } });
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toEqual(before);
    expect(await outboxCount()).toBe(events);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ sessionId: session.id, runnerId: 'r2', claimedBy: 'r1' }),
      expect.stringContaining('container.exited refused'),
    );
    warn.mockRestore();

    await app.get(RecordContainerOutcome).exited(exited(session.id, 3));
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it("refuses a container.started from a runner that does not hold the claim, and logs it; the holder's own report still counts", async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    const warn = jest.spyOn(app.get<HubLogger>(HUB_LOGGER), 'warn');
    const started = (runnerId: string, id: string) =>
      app.get(RecordContainerOutcome).started({
        id,
        subject: 'container.started',
        occurredAt: new Date().toISOString(),
        data: { sessionId: session.id, attempt: 1, containerId: 'f'.repeat(64), runnerId, startedAt: new Date().toISOString() },
      });

    await started('r2', 'forged');
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toMatchObject({ status: 'starting', containerId: null });
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ sessionId: session.id, runnerId: 'r2', claimedBy: 'r1' }),
      expect.stringContaining('container.started refused'),
    );
    warn.mockRestore();

    await started('r1', 'genuine');
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toMatchObject({ status: 'running', containerId: 'f'.repeat(64) });
  });

  it('refuses to start a finished session with a conflict naming its status, and changes nothing', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    await app.get(RecordContainerOutcome).exited(exited(session.id, 0));
    const before = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    await expect(app.get(StartSession).execute(session.id, DEFAULT_TENANT)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('completed') });
    expect(await app.get(SessionQueries).get(session.id, DEFAULT_TENANT)).toEqual(before);
  });

  it('rejects a dependency on an unknown session and stores nothing', async () => {
    const before = await app.get(SessionQueries).list({}, DEFAULT_TENANT);
    const error = await app
      .get(CreateSession)
      .execute({ type: 'analysis', prompt: 'true', dependsOn: ['00000000-0000-4000-8000-000000000000'] }, DEFAULT_TENANT)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('bad_request');
    expect(await app.get(SessionQueries).list({}, DEFAULT_TENANT)).toEqual(before);
  });

  it('puts a session created with dependencies in their orchestration, and refuses dependencies spread over two, storing nothing', async () => {
    const create = (request: { dependsOn?: string[]; orchestrationId?: string }) =>
      app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', ...request }, DEFAULT_TENANT);
    const a = await create({});
    const b = await create({ dependsOn: [a.id] });
    expect(b).toMatchObject({ orchestrationId: a.orchestrationId, dependsOn: [a.id] });
    const other = await create({});
    const before = await app.get(SessionQueries).list({}, DEFAULT_TENANT);

    const spread = await create({ dependsOn: [b.id, other.id, a.id] }).catch((e: unknown) => e);
    expect(spread).toBeInstanceOf(HubError);
    expect(spread).toMatchObject({
      code: 'bad_request',
      message:
        `dependsOn names sessions of 2 different orchestrations: ${b.id}, ${a.id} (orchestration ${a.orchestrationId}); ` +
        `${other.id} (orchestration ${other.orchestrationId}); a session runs in the one orchestration of its dependencies, ` +
        'so they must all belong to one (create them as a chain from one first session, or together with POST /api/v1/orchestrations)',
    });
    const outside = await create({ orchestrationId: other.orchestrationId, dependsOn: [a.id] }).catch((e: unknown) => e);
    expect(outside).toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(new RegExp(`^dependsOn names sessions of another orchestration than ${other.orchestrationId}: ${a.id}; `)),
    });
    expect(await app.get(SessionQueries).list({}, DEFAULT_TENANT)).toEqual(before);
  });

  it("answers an orchestration's counts and its sessions in one read, in the order created, a page at a time", async () => {
    const first = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true' }, DEFAULT_TENANT);
    const ids = [first.id];
    for (let i = 0; i < 4; i++) ids.push((await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', dependsOn: [ids[i]] }, DEFAULT_TENANT)).id);
    await app.get(StartSession).execute(ids[0], DEFAULT_TENANT);
    const queries = app.get(OrchestrationQueries);

    const whole = await queries.get(first.orchestrationId, {}, DEFAULT_TENANT);
    expect(whole).toMatchObject({ id: first.orchestrationId, sessionCount: 5, nextCursor: null });
    expect(whole.sessions.map((s) => s.id)).toEqual(ids);
    // The counts are those of the sessions listed: one read.
    for (const status of ['created', 'waiting', 'ready'] as const) {
      expect({ status, n: whole.counts[status] }).toEqual({ status, n: whole.sessions.filter((s) => s.status === status).length });
    }

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.get(first.orchestrationId, { limit: 2, ...(cursor ? { cursor } : {}) }, DEFAULT_TENANT);
      expect(page.sessionCount).toBe(5);
      pages.push(page.sessions.map((s) => s.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    await expect(queries.get('00000000-0000-4000-8000-000000000000', {}, DEFAULT_TENANT)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('relays every transition from the outbox to JetStream, in order, with the event id as message id', async () => {
    const session = await readySession();
    await app.get(OutboxRelay).flush();
    const jsm = await nc.jetstreamManager();
    const stream = await jsm.streams.info('HUB_EVENTS');
    const consumer = await nc.jetstream().consumers.get('HUB_EVENTS', { filterSubjects: 'session.status-changed' });
    const seen: { id: string; data: { sessionId: string; to: string } }[] = [];
    const batch = await consumer.fetch({ max_messages: stream.state.messages, expires: 1_000 });
    for await (const message of batch) {
      seen.push(message.json());
      expect(message.headers?.get('Nats-Msg-Id')).toBe(seen[seen.length - 1].id);
      if (message.info.pending === 0) break;
    }
    expect(seen.filter((e) => e.data.sessionId === session.id).map((e) => e.data.to)).toEqual(['waiting', 'ready']);
    expect(Number((await dataSource.query('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL'))[0].n)).toBe(0);
  });

  it('ends a session whose runner never reported, once it is well past its time limit', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r-gone');
    await dataSource.query(`UPDATE sessions SET timeout_seconds = 1, updated_at = now() - interval '10 minutes' WHERE id = $1`, [session.id]);
    expect(await app.get(ExpireOverdueSessions).runOnce()).toBe(1);
    const view = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    expect(view.status).toBe('failed');
    expect(view.statusReason).toContain('container_lost');
    expect(await app.get(ExpireOverdueSessions).runOnce()).toBe(0);
  });

  it('runs a session whose container was lost again, without spending its own retries', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    await app.get(RecordContainerOutcome).exited({ ...exited(session.id, 0), data: { ...exited(session.id, 0).data, cause: 'container_lost', exitCode: null } });
    const again = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    expect(again).toMatchObject({ status: 'ready', retries: 0 });
    expect(again.statusReason).toContain('running it again');

    const claim = await app.get(ClaimSession).execute(session.id, 'r2');
    expect(claim.spec?.attempt).toBe(2);
    await app.get(RecordContainerOutcome).exited({ ...exited(session.id, 5), id: 'x2', data: { ...exited(session.id, 5).data, attempt: 2, runnerId: 'r2' } });
    const done = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    expect(done).toMatchObject({ status: 'failed', exitCode: 5, attempt: 2 });
    expect(done.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
  });

  it("records a cancel a runner has not seen yet: the runner's held sessions say so, and the attempt's end is not retried", async () => {
    const created = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true, retries: 3 }, DEFAULT_TENANT);
    await app.get(RecordDependencyOutcome).resolved({
      id: `deps.resolved:${created.id}`,
      subject: 'deps.resolved',
      occurredAt: new Date().toISOString(),
      data: { sessionId: created.id },
    });
    await app.get(ClaimSession).execute(created.id, 'r-down');
    expect((await app.get(SessionQueries).heldBy('r-down')).sessions).toEqual([
      expect.objectContaining({ sessionId: created.id, attempt: 1, status: 'starting', cancelRequested: false }),
    ]);

    const accepted = await app.get(CancelSession).execute(created.id, DEFAULT_TENANT);

    expect(accepted.status).toBe('starting');
    expect((await app.get(SessionQueries).heldBy('r-down')).sessions).toEqual([
      expect.objectContaining({ sessionId: created.id, cancelRequested: true }),
    ]);
    // The container ended on its own (exit 1) before the runner could stop it: no retry, cancelled.
    const ended = exited(created.id, 1);
    await app.get(RecordContainerOutcome).exited({ ...ended, data: { ...ended.data, runnerId: 'r-down' } });
    const done = await app.get(SessionQueries).get(created.id, DEFAULT_TENANT);
    expect(done).toMatchObject({ status: 'cancelled', attempt: 1, exitCode: 1 });
    expect(done.statusReason).toBe('cancelled on request (the attempt ended: exited with code 1)');
    expect((await app.get(SessionQueries).heldBy('r-down')).sessions).toEqual([]);
  });

  it("keeps an attempt's log and output counts in the session view", async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    const report = exited(session.id, 0);
    await app.get(RecordContainerOutcome).exited({
      ...report,
      data: { ...report.data, output: { files: 1000, bytes: 5_000_000_000, skipped: 2 }, logBytes: 8 * 2 ** 20, logDroppedBytes: 3 * 2 ** 30 },
    });
    const view = await app.get(SessionQueries).get(session.id, DEFAULT_TENANT);
    expect(view).toMatchObject({
      status: 'completed',
      log: { bytes: 8 * 2 ** 20, droppedBytes: 3 * 2 ** 30 },
      output: { files: 1000, bytes: 5_000_000_000, skipped: 2 },
    });
    expect(await app.get(SessionQueries).output(session.id, DEFAULT_TENANT)).toEqual({
      sessionId: session.id,
      status: 'completed',
      exitCode: 0,
      reported: true,
      legacyFiles: [],
      changes: null,
    });
  });

  /** The events of one subject on HUB_EVENTS so far, in stream order, once the outbox is relayed. */
  async function streamed<T>(subject: string): Promise<{ id: string; data: T }[]> {
    await app.get(OutboxRelay).flush();
    const stream = await (await nc.jetstreamManager()).streams.info('HUB_EVENTS');
    const consumer = await nc.jetstream().consumers.get('HUB_EVENTS', { filterSubjects: subject });
    const seen: { id: string; data: T }[] = [];
    for await (const message of await consumer.fetch({ max_messages: stream.state.messages, expires: 1_000 })) {
      seen.push(message.json());
      if (message.info.pending === 0) break;
    }
    return seen;
  }

  it('waits HUB_RETRY_BACKOFF_MS before the first retry of a failed session, and twice as long before each next one', async () => {
    const created = await readySession({ prompt: 'exit 1', retries: 3 });
    const reasons: (string | null)[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect((await app.get(ClaimSession).execute(created.id, 'r1')).spec?.attempt).toBe(attempt);
      const report = exited(created.id, 1);
      await app.get(RecordContainerOutcome).exited({ ...report, id: `${report.id}:${attempt}`, data: { ...report.data, attempt } });
      reasons.push((await app.get(SessionQueries).get(created.id, DEFAULT_TENANT)).statusReason);
    }
    // The test registry's HUB_RETRY_BACKOFF_MS is 1000 (long enough that each retry is still backing
    // off when it is handed to the runners, however loaded the machine).
    expect(reasons).toEqual([
      'attempt 1 exited with code 1; retry 1 of 3 in 1000 ms',
      'attempt 2 exited with code 1; retry 2 of 3 in 2000 ms',
      'attempt 3 exited with code 1; retry 3 of 3 in 4000 ms',
      'exited with code 1',
    ]);
    // Each retry is handed to the runners with the time before which none may start it.
    const retries = (await streamed<{ sessionId: string; attempt: number; notBefore: string | null }>('session.ready')).filter(
      (e) => e.data.sessionId === created.id && e.data.attempt > 1,
    );
    expect(retries.map((e) => e.data.attempt)).toEqual([2, 3, 4]);
    for (const retry of retries) expect(retry.data.notBefore).not.toBeNull();
  });

  it('holds the ready sessions of an orchestration at maxParallel, and starts them in the order they became ready', async () => {
    const orchestration = await app.get(CreateOrchestration).execute({
      name: 'one at a time',
      start: true,
      maxParallel: 1,
      sessions: ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'analysis', prompt: 'true', dependsOn: [] })),
    }, DEFAULT_TENANT);
    const { sessions } = await app.get(SessionQueries).list({ orchestrationId: orchestration.id }, DEFAULT_TENANT).then((page) => ({ sessions: page.items }));
    const idOf = Object.fromEntries(sessions.map((s) => [s.name!, s.id]));
    const nameOf = Object.fromEntries(sessions.map((s) => [s.id, s.name!]));
    // They become ready in an order of their own, not the order declared (a few ms apart, so each has its own moment).
    for (const name of ['c', 'a', 'd', 'b']) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await depsResolved(idOf[name]);
    }
    const handedOut = async () =>
      (await streamed<{ sessionId: string }>('session.ready')).filter((e) => nameOf[e.data.sessionId]).map((e) => nameOf[e.data.sessionId]);
    expect(await handedOut()).toEqual(['c']);
    // Each time the one running ends, the next in order of readiness is handed to the runners.
    for (const [name, next] of [['c', ['c', 'a']], ['a', ['c', 'a', 'd']], ['d', ['c', 'a', 'd', 'b']]] as const) {
      await app.get(ClaimSession).execute(idOf[name], 'r1');
      await app.get(RecordContainerOutcome).exited(exited(idOf[name], 0));
      expect(await handedOut()).toEqual(next);
    }
  });

  it('says an orchestration finished exactly once, with the move that ended its last session, even when its sessions end at the same instant', async () => {
    const orchestration = await app.get(CreateOrchestration).execute({
      name: 'ends together',
      start: true,
      publish: { branch: 'feature/result' },
      sessions: ['a', 'b', 'c'].map((name) => ({ name, type: 'analysis', prompt: 'true', dependsOn: [] })),
    }, DEFAULT_TENANT);
    const page = await app.get(SessionQueries).list({ orchestrationId: orchestration.id }, DEFAULT_TENANT);
    const ids = page.items.map((s) => s.id);
    for (const id of ids) {
      await depsResolved(id);
      await app.get(ClaimSession).execute(id, 'r1');
    }
    const finished = async () =>
      (await streamed<EventOf<'orchestration.finished'>['data']>('orchestration.finished')).filter(
        (e) => e.data.orchestrationId === orchestration.id,
      );

    await app.get(RecordContainerOutcome).exited(exited(ids[0], 0));
    expect(await finished()).toEqual([]); // two still running
    await Promise.all([app.get(RecordContainerOutcome).exited(exited(ids[1], 0)), app.get(RecordContainerOutcome).exited(exited(ids[2], 3))]);

    const events = await finished();
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ status: 'failed', publish: { branch: 'feature/result' } });
  });

  it("keeps what a runner reported an orchestration produced, once it has finished (not a late one while it runs again)", async () => {
    const orchestration = await app.get(CreateOrchestration).execute({
      name: 'with a result',
      start: true,
      sessions: [{ name: 'only', type: 'analysis', prompt: 'true', dependsOn: [] }],
    }, DEFAULT_TENANT);
    expect(await app.get(OrchestrationQueries).get(orchestration.id, {}, DEFAULT_TENANT)).toMatchObject({ publish: null, result: null });
    const result = {
      changes: null,
      reason: 'no session changed anything',
      publish: { branch: 'main', status: 'not_pushed' as const, commit: null, reason: 'nothing changed' },
      at: new Date().toISOString(),
    };
    const [only] = (await app.get(SessionQueries).list({ orchestrationId: orchestration.id }, DEFAULT_TENANT)).items;
    const report = () =>
      app.get(RecordOrchestrationResult).execute({
        id: `orchestration.result:${orchestration.id}`,
        subject: 'orchestration.result',
        occurredAt: new Date().toISOString(),
        data: { orchestrationId: orchestration.id, result },
      });
    // A result while it runs (a late one, of the run before a retry) is not taken.
    await report();
    expect((await app.get(OrchestrationQueries).get(orchestration.id, {}, DEFAULT_TENANT)).result).toBeNull();
    await depsResolved(only.id);
    await app.get(ClaimSession).execute(only.id, 'r1');
    await app.get(RecordContainerOutcome).exited(exited(only.id, 0));
    await report();
    expect((await app.get(OrchestrationQueries).get(orchestration.id, {}, DEFAULT_TENANT)).result).toEqual(result);
  });
});
