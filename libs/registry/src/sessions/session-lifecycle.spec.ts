// The registry's use cases against real PostgreSQL (with the real migrations) and real NATS:
// compare-and-set transitions, atomic claims, idempotent handling of redelivered events, and the
// outbox that carries every transition to JetStream.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { createLogger } from '@hub/config';
import { EventOf, HubError } from '@hub/contracts';
import { ensureEventStream, MessagingModule } from '@hub/messaging';
import { openDatabase } from '@hub/persistence';
import { makeTempDir, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@hub/infra';
import { CancelSession } from './cancel-session.use-case';
import { ClaimSession } from './claim-session.use-case';
import { CreateSession } from './create-session.use-case';
import { RecordContainerOutcome } from './record-container-outcome.use-case';
import { RecordDependencyOutcome } from './record-dependency-outcome.use-case';
import { SessionQueries } from './session-queries';
import { StartSession } from './start-session.use-case';
import { ExpireOverdueSessions } from './expire-overdue-sessions';
import { OutboxRelay } from '../outbox/outbox-relay';
import { RegistryModule } from '../registry.module';

describe('session lifecycle in the registry (real PostgreSQL and NATS)', () => {
  let dir: string;
  let postgres: PostgresCluster;
  let nats: NatsServer;
  let nc: NatsConnection;
  let dataSource: DataSource;
  let app: INestApplicationContext;

  beforeAll(async () => {
    dir = await makeTempDir('hub-registry');
    postgres = await startPostgresCluster({ dataDir: join(dir, 'pg'), fsync: false });
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    await ensureEventStream(await nc.jetstreamManager());
    dataSource = await openDatabase(postgres.url);
    app = await NestFactory.createApplicationContext(
      {
        module: class RegistryTestModule {},
        imports: [
          MessagingModule.forConnection(nc),
          RegistryModule.forRoot(dataSource, { defaultImage: 'hub/test-agent:latest', templates: {}, defaultTimeoutSeconds: 60, retryBackoffMs: 10 }, createLogger('test', 'silent')),
        ],
      },
      { logger: false },
    );
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await dataSource?.destroy();
    await nc?.close();
    await nats?.stop();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
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
    },
  });

  async function readySession() {
    const session = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true });
    await app.get(RecordDependencyOutcome).resolved({
      id: `deps.resolved:${session.id}`,
      subject: 'deps.resolved',
      occurredAt: new Date().toISOString(),
      data: { sessionId: session.id },
    });
    return session;
  }

  it('lets exactly one of many concurrent runners claim a ready session', async () => {
    const session = await readySession();
    const claims = await Promise.all(
      ['r1', 'r2', 'r3', 'r4', 'r5'].map((runner) => app.get(ClaimSession).execute(session.id, runner)),
    );
    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
    const view = await app.get(SessionQueries).get(session.id);
    expect(view).toMatchObject({ status: 'starting', attempt: 1 });
  });

  it('applies a redelivered container.exited once: same status, no second event', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    await app.get(RecordContainerOutcome).exited(exited(session.id, 4));
    const events = await outboxCount();
    const first = await app.get(SessionQueries).get(session.id);
    expect(first).toMatchObject({ status: 'failed', exitCode: 4 });

    await app.get(RecordContainerOutcome).exited(exited(session.id, 4));
    await app.get(RecordContainerOutcome).exited(exited(session.id, 0));
    expect(await app.get(SessionQueries).get(session.id)).toEqual(first);
    expect(await outboxCount()).toBe(events);
  });

  it('refuses to start a finished session with a conflict naming its status, and changes nothing', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    await app.get(RecordContainerOutcome).exited(exited(session.id, 0));
    const before = await app.get(SessionQueries).get(session.id);
    await expect(app.get(StartSession).execute(session.id)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('completed') });
    expect(await app.get(SessionQueries).get(session.id)).toEqual(before);
  });

  it('rejects a dependency on an unknown session and stores nothing', async () => {
    const before = await app.get(SessionQueries).list({});
    const error = await app
      .get(CreateSession)
      .execute({ type: 'analysis', prompt: 'true', dependsOn: ['00000000-0000-4000-8000-000000000000'] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('bad_request');
    expect(await app.get(SessionQueries).list({})).toEqual(before);
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
    const view = await app.get(SessionQueries).get(session.id);
    expect(view.status).toBe('failed');
    expect(view.statusReason).toContain('container_lost');
    expect(await app.get(ExpireOverdueSessions).runOnce()).toBe(0);
  });

  it('runs a session whose container was lost again, without spending its own retries', async () => {
    const session = await readySession();
    await app.get(ClaimSession).execute(session.id, 'r1');
    await app.get(RecordContainerOutcome).exited({ ...exited(session.id, 0), data: { ...exited(session.id, 0).data, cause: 'container_lost', exitCode: null } });
    const again = await app.get(SessionQueries).get(session.id);
    expect(again).toMatchObject({ status: 'ready', retries: 0 });
    expect(again.statusReason).toContain('running it again');

    const claim = await app.get(ClaimSession).execute(session.id, 'r2');
    expect(claim.spec?.attempt).toBe(2);
    await app.get(RecordContainerOutcome).exited({ ...exited(session.id, 5), id: 'x2', data: { ...exited(session.id, 5).data, attempt: 2 } });
    const done = await app.get(SessionQueries).get(session.id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 5, attempt: 2 });
    expect(done.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
  });

  it("records a cancel a runner has not seen yet: the runner's held sessions say so, and the attempt's end is not retried", async () => {
    const created = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true, retries: 3 });
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

    const accepted = await app.get(CancelSession).execute(created.id);

    expect(accepted.status).toBe('starting');
    expect((await app.get(SessionQueries).heldBy('r-down')).sessions).toEqual([
      expect.objectContaining({ sessionId: created.id, cancelRequested: true }),
    ]);
    // The container ended on its own (exit 1) before the runner could stop it: no retry, cancelled.
    await app.get(RecordContainerOutcome).exited(exited(created.id, 1));
    const done = await app.get(SessionQueries).get(created.id);
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
    const view = await app.get(SessionQueries).get(session.id);
    expect(view).toMatchObject({
      status: 'completed',
      log: { bytes: 8 * 2 ** 20, droppedBytes: 3 * 2 ** 30 },
      output: { files: 1000, bytes: 5_000_000_000, skipped: 2 },
    });
    expect(await app.get(SessionQueries).output(session.id)).toEqual({
      sessionId: session.id,
      status: 'completed',
      exitCode: 0,
      reported: true,
      legacyFiles: [],
    });
  });
});
