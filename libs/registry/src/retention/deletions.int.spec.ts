// Deleting orchestrations and sessions in the registry, and retention, against real PostgreSQL (with the
// real migrations) and real NATS: a deletion is refused, changing nothing, while something has not ended
// (or depends on what is asked), removes every row of what it deletes in one transaction with its event
// (on which a runner removes the outputs), sees only the caller's tenant; retention deletes, a batch at a
// time, the orchestrations ended long enough ago and nothing else; the event stream gets its max_age.
import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { NatsConnection, nanos } from 'nats';
import { DataSource } from 'typeorm';
import { DEFAULT_TENANT, EVENT_STREAM, EventOf, EventPayload, EventSubject, HubError } from '@hub/contracts';
import { ensureEventStream } from '@hub/messaging';
import { CancelOrchestration } from '../orchestrations/cancel-orchestration.use-case';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { DeleteOrchestration } from '../orchestrations/delete-orchestration.use-case';
import { OrchestrationQueries } from '../orchestrations/orchestration-queries';
import { OutboxRelay } from '../outbox/outbox-relay';
import type { RetentionSettings } from '../registry.tokens';
import { ClaimSession } from '../sessions/claim-session.use-case';
import { DeleteSession } from '../sessions/delete-session.use-case';
import { RecordContainerOutcome } from '../sessions/record-container-outcome.use-case';
import { RecordDependencyOutcome } from '../sessions/record-dependency-outcome.use-case';
import { SessionQueries } from '../sessions/session-queries';
import { DeleteExpiredOrchestrations } from './delete-expired-orchestrations';
import { PruneRelayedEvents } from './prune-relayed-events';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';

const DAY_MS = 24 * 60 * 60_000;

describe('deletions and retention in the registry (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;
  let nc: NatsConnection;
  /** The registry's retention settings, changed by the tests that need other values. */
  const retention: RetentionSettings = { days: 30, batchSize: 2, eventsMaxAgeDays: 7 };

  beforeAll(async () => {
    harness = await startRegistryHarness('deletions', {
      settings: { retention },
      // An event stream from before retention: it keeps events for ever until the registry starts.
      eventStream: { maxAgeDays: 0 },
    });
    ({ app, dataSource, nc } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  const event = <S extends EventSubject>(subject: S, data: EventPayload<S>): EventOf<S> => ({
    id: `${subject}:${randomUUID()}`,
    subject,
    occurredAt: new Date().toISOString(),
    data,
  });

  /** Creates an orchestration of sessions (by name, with the names each depends on) in `tenant`, started or not. */
  async function created(dependsOn: Record<string, string[]>, options: { start?: boolean; tenant?: string } = {}) {
    const tenant = options.tenant ?? DEFAULT_TENANT;
    const orchestration = await app.get(CreateOrchestration).execute(
      {
        name: `o-${randomUUID().slice(0, 8)}`,
        start: options.start ?? true,
        sessions: Object.entries(dependsOn).map(([session, on]) => ({ name: session, type: 'analysis', prompt: 'true', dependsOn: on })),
      },
      tenant,
    );
    const { sessions } = await app.get(OrchestrationQueries).get(orchestration.id, {}, tenant);
    return { orchestrationId: orchestration.id, name: orchestration.name, id: Object.fromEntries(sessions.map((s) => [s.name!, s.id])) };
  }

  /** The session's dependencies resolved, a runner ran it, its container exited 0: completed, with one attempt. */
  async function complete(sessionId: string): Promise<void> {
    await app.get(RecordDependencyOutcome).resolved(event('deps.resolved', { sessionId, run: 1 }));
    const { spec } = await app.get(ClaimSession).execute(sessionId, 'r1');
    await app.get(RecordContainerOutcome).exited(
      event('container.exited', {
        sessionId,
        attempt: spec!.attempt,
        runnerId: 'r1',
        containerId: 'c'.repeat(64),
        cause: 'exited',
        exitCode: 0,
        oomKilled: false,
        durationMs: 10,
        detail: null,
        output: { files: 1, bytes: 10, skipped: 0 },
        logBytes: 5,
        logDroppedBytes: 0,
        changes: null,
        usage: null,
        rateLimit: null,
      }),
    );
  }

  /** What the registry wrote to its outbox with `key` = `id` in its data, in order. */
  const outbox = async <S extends EventSubject>(subject: S, key: 'sessionId' | 'orchestrationId', id: string): Promise<EventPayload<S>[]> =>
    (
      await dataSource.query(`SELECT envelope FROM outbox WHERE subject = $1 AND envelope->'data'->>'${key}' = $2 ORDER BY seq`, [subject, id])
    ).map((row: { envelope: EventOf<S> }): EventPayload<S> => row.envelope.data);

  /** How many rows of each table belong to these sessions (or the orchestration). */
  async function rows(orchestrationId: string, sessionIds: string[]) {
    const count = async (sql: string, value: unknown) => Number((await dataSource.query(sql, [value]))[0].n);
    return {
      orchestrations: await count('SELECT count(*) AS n FROM orchestrations WHERE id = $1', orchestrationId),
      sessions: await count('SELECT count(*) AS n FROM sessions WHERE id = ANY($1)', sessionIds),
      dependencies: await count('SELECT count(*) AS n FROM session_dependencies WHERE session_id = ANY($1) OR depends_on_id = ANY($1)', sessionIds),
      attempts: await count('SELECT count(*) AS n FROM session_attempts WHERE session_id = ANY($1)', sessionIds),
    };
  }

  const refusal = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error as HubError);

  describe('DELETE of an orchestration', () => {
    it('is refused while any session has not ended, naming them, and changes nothing', async () => {
      const { orchestrationId, id } = await created({ A: [], B: ['A'] });
      await complete(id.A);
      const error = await refusal(app.get(DeleteOrchestration).execute(orchestrationId, DEFAULT_TENANT));
      expect(error).toBeInstanceOf(HubError);
      expect(error).toMatchObject({ code: 'conflict' });
      expect(error!.message).toBe(
        `cannot delete orchestration ${orchestrationId}: 1 of its sessions has not ended (B (${id.B}) waiting); cancel it first, or wait until they end`,
      );
      expect(await rows(orchestrationId, [id.A, id.B])).toEqual({ orchestrations: 1, sessions: 2, dependencies: 1, attempts: 1 });
      expect(await outbox('orchestration.deleted', 'orchestrationId', orchestrationId)).toEqual([]);
    });

    it('of an ended one removes its rows in one go and appends orchestration.deleted naming its sessions', async () => {
      const { orchestrationId, name, id } = await created({ A: [], B: ['A'], C: ['A'] });
      await complete(id.A);
      await complete(id.B);
      await app.get(CancelOrchestration).execute(orchestrationId, DEFAULT_TENANT); // C: cancelled
      expect(await rows(orchestrationId, Object.values(id))).toEqual({ orchestrations: 1, sessions: 3, dependencies: 2, attempts: 2 });

      const deleted = await app.get(DeleteOrchestration).execute(orchestrationId, DEFAULT_TENANT);
      expect(deleted).toEqual({ id: orchestrationId, name, sessionCount: 3 });
      expect(await rows(orchestrationId, Object.values(id))).toEqual({ orchestrations: 0, sessions: 0, dependencies: 0, attempts: 0 });
      const [told, ...more] = await outbox('orchestration.deleted', 'orchestrationId', orchestrationId);
      expect(more).toEqual([]);
      expect([...told.sessionIds].sort()).toEqual(Object.values(id).sort());
      // Gone for every read, and a second DELETE finds nothing.
      await expect(app.get(SessionQueries).get(id.A, DEFAULT_TENANT)).rejects.toMatchObject({ code: 'not_found' });
      await expect(app.get(DeleteOrchestration).execute(orchestrationId, DEFAULT_TENANT)).rejects.toMatchObject({
        code: 'not_found',
        message: `orchestration ${orchestrationId} does not exist`,
      });
    });

    it("of another tenant's is not found, and stays", async () => {
      const { orchestrationId, id } = await created({ A: [] }, { tenant: 'team-a' });
      await app.get(CancelOrchestration).execute(orchestrationId, 'team-a');
      await expect(app.get(DeleteOrchestration).execute(orchestrationId, DEFAULT_TENANT)).rejects.toMatchObject({
        code: 'not_found',
        message: `orchestration ${orchestrationId} does not exist`,
      });
      await expect(app.get(DeleteSession).execute(id.A, DEFAULT_TENANT)).rejects.toMatchObject({ code: 'not_found', message: `session ${id.A} does not exist` });
      expect(await rows(orchestrationId, [id.A])).toMatchObject({ orchestrations: 1, sessions: 1 });
      // Its own tenant deletes it.
      await expect(app.get(DeleteOrchestration).execute(orchestrationId, 'team-a')).resolves.toMatchObject({ sessionCount: 1 });
    });
  });

  describe('DELETE of a session', () => {
    it('is refused while it has not ended, and while a session depends on it, saying why', async () => {
      const { id } = await created({ A: [], B: ['A'], C: ['A'] });
      await expect(app.get(DeleteSession).execute(id.A, DEFAULT_TENANT)).rejects.toMatchObject({
        code: 'conflict',
        message: `cannot delete session ${id.A}: it has not ended (it is waiting); cancel it first`,
      });
      await complete(id.A);
      await expect(app.get(DeleteSession).execute(id.A, DEFAULT_TENANT)).rejects.toMatchObject({
        code: 'conflict',
        message: `cannot delete session ${id.A}: 2 sessions depend on it (B (${id.B}) waiting, C (${id.C}) waiting); delete them first, or its whole orchestration`,
      });
      expect(await outbox('session.deleted', 'sessionId', id.A)).toEqual([]);
    });

    it('deletes an ended one no session depends on, and its orchestration with its last session', async () => {
      const { orchestrationId, id } = await created({ A: [], B: ['A'] });
      await complete(id.A);
      await complete(id.B);

      expect(await app.get(DeleteSession).execute(id.B, DEFAULT_TENANT)).toEqual({ id: id.B, orchestrationId, orchestrationDeleted: false });
      expect(await rows(orchestrationId, [id.B])).toEqual({ orchestrations: 1, sessions: 0, dependencies: 0, attempts: 0 });
      expect(await outbox('session.deleted', 'sessionId', id.B)).toEqual([{ sessionId: id.B, orchestrationId }]);
      const view = await app.get(OrchestrationQueries).get(orchestrationId, {}, DEFAULT_TENANT);
      expect(view.sessions.map((s) => s.name)).toEqual(['A']);

      // A has no dependent now: it goes, and its orchestration with it.
      expect(await app.get(DeleteSession).execute(id.A, DEFAULT_TENANT)).toEqual({ id: id.A, orchestrationId, orchestrationDeleted: true });
      expect(await rows(orchestrationId, [id.A])).toEqual({ orchestrations: 0, sessions: 0, dependencies: 0, attempts: 0 });
      expect(await outbox('session.deleted', 'sessionId', id.A)).toEqual([{ sessionId: id.A, orchestrationId }]);
      expect(await outbox('orchestration.deleted', 'orchestrationId', orchestrationId)).toEqual([{ orchestrationId, sessionIds: [id.A] }]);
    });
  });

  describe('retention', () => {
    /** Makes the orchestration, and when each of its sessions finished, `days` old. */
    async function age(orchestrationId: string, days: number): Promise<void> {
      const then = new Date(Date.now() - days * DAY_MS);
      await dataSource.query('UPDATE orchestrations SET created_at = $2 WHERE id = $1', [orchestrationId, then]);
      await dataSource.query('UPDATE sessions SET created_at = $2, finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE $2::timestamptz END, updated_at = $2 WHERE orchestration_id = $1', [orchestrationId, then]);
    }
    const exists = async (orchestrationId: string) => (await rows(orchestrationId, [])).orchestrations === 1;

    it('deletes, a batch at a time, the orchestrations every session of which ended longer ago than HUB_RETENTION_DAYS, and only those', async () => {
      // Whatever earlier tests left is not this test's: out of the way.
      await dataSource.query('UPDATE orchestrations SET created_at = now()');
      const old: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { orchestrationId } = await created({ A: [], B: ['A'] });
        await app.get(CancelOrchestration).execute(orchestrationId, DEFAULT_TENANT);
        await age(orchestrationId, 31);
        old.push(orchestrationId);
      }
      const recent = await created({ A: [] });
      await app.get(CancelOrchestration).execute(recent.orchestrationId, DEFAULT_TENANT);
      await age(recent.orchestrationId, 29);
      // Old, but a session of it has not ended (never started).
      const unfinished = await created({ A: [], B: [] }, { start: false });
      await app.get(CancelOrchestration).execute(unfinished.orchestrationId, DEFAULT_TENANT);
      await dataSource.query(`UPDATE sessions SET status = 'created', finished_at = NULL WHERE id = $1`, [unfinished.id.B]);
      await age(unfinished.orchestrationId, 60);
      // Old, but one of its sessions ended yesterday (it was re-run).
      const rerun = await created({ A: [], B: [] });
      await app.get(CancelOrchestration).execute(rerun.orchestrationId, DEFAULT_TENANT);
      await age(rerun.orchestrationId, 60);
      await dataSource.query(`UPDATE sessions SET finished_at = now() - interval '1 day' WHERE id = $1`, [rerun.id.B]);

      const task = app.get(DeleteExpiredOrchestrations);
      // One batch: the two oldest.
      expect(await task.deleteBatch()).toEqual({ found: 2, deleted: 2 });
      expect(await Promise.all(old.map(exists))).toEqual([false, false, true, true, true]);
      // A pass: batches until none is left.
      expect(await task.runOnce()).toBe(3);
      expect(await Promise.all(old.map(exists))).toEqual([false, false, false, false, false]);
      expect(await exists(recent.orchestrationId)).toBe(true);
      expect(await exists(unfinished.orchestrationId)).toBe(true);
      expect(await exists(rerun.orchestrationId)).toBe(true);
      expect(await task.runOnce()).toBe(0);

      // By the same path as a DELETE: each told with its sessions, so that a runner removes their outputs.
      for (const orchestrationId of old) {
        const [told] = await outbox('orchestration.deleted', 'orchestrationId', orchestrationId);
        expect(told.sessionIds).toHaveLength(2);
      }

      // 0 keeps everything.
      retention.days = 0;
      await age(recent.orchestrationId, 365);
      expect(await task.runOnce()).toBe(0);
      expect(await exists(recent.orchestrationId)).toBe(true);
      retention.days = 30;
      expect(await task.runOnce()).toBe(1);
      expect(await exists(recent.orchestrationId)).toBe(false);
    });

    it('prunes the outbox of relayed events older than HUB_EVENTS_MAX_AGE_DAYS; what is not relayed yet stays', async () => {
      // The relay's sweep would publish the row made unpublished below: stopped meanwhile.
      const relay = app.get(OutboxRelay);
      await relay.flush();
      relay.onApplicationShutdown();
      const [{ n: before }] = await dataSource.query('SELECT count(*)::int AS n FROM outbox');
      expect(before).toBeGreaterThan(3);
      const [oldest, second, third] = (await dataSource.query('SELECT seq FROM outbox ORDER BY seq LIMIT 3')).map((r: { seq: string }) => r.seq);
      await dataSource.query(`UPDATE outbox SET created_at = now() - interval '8 days' WHERE seq IN ($1, $2, $3)`, [oldest, second, third]);
      await dataSource.query('UPDATE outbox SET published_at = NULL WHERE seq = $1', [second]);

      expect(await app.get(PruneRelayedEvents).runOnce()).toBe(2);
      const left = (await dataSource.query('SELECT seq FROM outbox WHERE seq IN ($1, $2, $3)', [oldest, second, third])).map((r: { seq: string }) => r.seq);
      expect(left).toEqual([second]);
      expect(await app.get(PruneRelayedEvents).runOnce()).toBe(0);
      relay.onApplicationBootstrap();
      await relay.flush();
    });

    it("sets the event stream's max_age as the registry starts (HUB_EVENTS_MAX_AGE_DAYS); other services leave it", async () => {
      const jsm = await nc.jetstreamManager();
      expect((await jsm.streams.info(EVENT_STREAM.name)).config.max_age).toBe(nanos(7 * DAY_MS));
      await ensureEventStream(jsm);
      expect((await jsm.streams.info(EVENT_STREAM.name)).config.max_age).toBe(nanos(7 * DAY_MS));
    });
  });
});
