// Re-runs in the registry against real PostgreSQL (with the real migrations) and real NATS: an
// orchestration's retry and a session's rerun move ended sessions back to waiting as their next run,
// keeping what completed and every attempt, and nothing late from an earlier run changes them.
import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventOf, EventPayload, EventSubject, DEFAULT_TENANT, SessionView } from '@hub/contracts';
import { ClaimSession } from './claim-session.use-case';
import { RecordContainerOutcome } from './record-container-outcome.use-case';
import { RecordDependencyOutcome } from './record-dependency-outcome.use-case';
import { RerunSession } from './rerun-session.use-case';
import { SessionQueries } from './session-queries';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { OrchestrationQueries } from '../orchestrations/orchestration-queries';
import { RecordOrchestrationResult } from '../orchestrations/record-orchestration-result.use-case';
import { RetryOrchestration } from '../orchestrations/retry-orchestration.use-case';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';

describe('re-runs in the registry (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    harness = await startRegistryHarness('reruns');
    ({ app, dataSource } = harness);
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
  const exited = (sessionId: string, attempt: number, exitCode: number) =>
    event('container.exited', {
      sessionId,
      attempt,
      runnerId: 'r1',
      containerId: `${attempt}`.repeat(64),
      cause: 'exited',
      exitCode,
      oomKilled: false,
      durationMs: 10,
      detail: null,
      output: { files: 1, bytes: 10, skipped: 0 },
      logBytes: 5,
      logDroppedBytes: 0,
      changes: { branch: 'hub/o/s', baseCommit: 'a'.repeat(40), headCommit: 'b'.repeat(40), files: 1, added: 1, removed: 0 },
      usage: null,
      rateLimit: null,
    });

  const get = (sessionId: string) => app.get(SessionQueries).get(sessionId, DEFAULT_TENANT);
  /** The resolver's word that the session's dependencies completed, about one of its runs. */
  const resolved = (sessionId: string, run = 1) => app.get(RecordDependencyOutcome).resolved(event('deps.resolved', { sessionId, run }));
  /** A runner claims the ready session and its container exits with `exitCode`; answers the attempt. */
  async function runAttempt(sessionId: string, exitCode: number): Promise<number> {
    const { spec } = await app.get(ClaimSession).execute(sessionId, 'r1');
    await app.get(RecordContainerOutcome).exited(exited(sessionId, spec!.attempt, exitCode));
    return spec!.attempt;
  }
  const runOf = async (sessionId: string) =>
    (await dataSource.query('SELECT run, attempts_before_run AS "attemptsBeforeRun" FROM sessions WHERE id = $1', [sessionId]))[0];
  /** What the registry wrote to its outbox for a session, by subject, in order. */
  const outbox = async <S extends EventSubject>(subject: S, key: 'sessionId' | 'orchestrationId', id: string): Promise<EventPayload<S>[]> =>
    (
      await dataSource.query(`SELECT envelope FROM outbox WHERE subject = $1 AND envelope->'data'->>'${key}' = $2 ORDER BY seq`, [
        subject,
        id,
      ])
    ).map((row: { envelope: EventOf<S> }): EventPayload<S> => row.envelope.data);

  /** Creates and starts an orchestration: each session by name, with the names it depends on. Answers its id and theirs. */
  async function started(name: string, dependsOn: Record<string, string[]>, retries = 0) {
    const orchestration = await app.get(CreateOrchestration).execute({
      name,
      start: true,
      sessions: Object.entries(dependsOn).map(([session, on]) => ({ name: session, type: 'analysis', prompt: 'true', dependsOn: on, retries })),
    }, DEFAULT_TENANT);
    const { sessions } = await app.get(OrchestrationQueries).get(orchestration.id, {}, DEFAULT_TENANT);
    return { orchestrationId: orchestration.id, id: Object.fromEntries(sessions.map((s) => [s.name!, s.id])) };
  }

  /** A → B → C, started; A completed, B failed (exit 1, each attempt), C skipped: an orchestration that ended failed. */
  async function failedChain(retries = 0) {
    const { orchestrationId, id: ids } = await started('chain', { A: [], B: ['A'], C: ['B'] }, retries);
    await resolved(ids.A);
    await runAttempt(ids.A, 0);
    await resolved(ids.B);
    for (let attempt = 0; attempt <= retries; attempt++) await runAttempt(ids.B, 1);
    await app.get(RecordDependencyOutcome).failed(event('deps.failed', { sessionId: ids.C, dependencyId: ids.B, dependencyStatus: 'failed', run: 1 }));
    return { orchestrationId, A: ids.A, B: ids.B, C: ids.C };
  }

  it('retries an orchestration A → B → C where B failed: A keeps its result, B and C wait again, B keeps its failed attempt', async () => {
    const chain = await failedChain();
    await app.get(RecordOrchestrationResult).execute(
      event('orchestration.result', {
        orchestrationId: chain.orchestrationId,
        result: { changes: null, reason: 'no session changed anything', publish: null, at: new Date().toISOString() },
      }),
    );
    const aBefore = await get(chain.A);
    expect((await app.get(OrchestrationQueries).get(chain.orchestrationId, {}, DEFAULT_TENANT)).status).toBe('failed');

    const summary = await app.get(RetryOrchestration).execute(chain.orchestrationId, DEFAULT_TENANT);

    expect(summary).toMatchObject({ status: 'running', counts: { completed: 1, waiting: 2, failed: 0, skipped: 0 }, result: null });
    expect(await get(chain.A)).toEqual(aBefore);
    expect(aBefore).toMatchObject({ status: 'completed', attempt: 1 });
    const b = await get(chain.B);
    expect(b).toMatchObject({
      status: 'waiting',
      statusReason: 're-run requested',
      attempt: 1,
      exitCode: null,
      containerId: null,
      finishedAt: null,
      startedAt: null,
      changes: null,
      usage: null,
      output: null,
      log: null,
    });
    expect(b.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'failed', exitCode: 1 })]);
    expect(await get(chain.C)).toMatchObject({ status: 'waiting', statusReason: 're-run requested', finishedAt: null, attempts: [] });
    expect(await runOf(chain.B)).toEqual({ run: 2, attemptsBeforeRun: 1 });
    expect(await runOf(chain.A)).toEqual({ run: 1, attemptsBeforeRun: 0 });

    // Each moved by compare-and-set with its event, and asked to start again for the resolver, as its run 2.
    for (const [id, from] of [[chain.B, 'failed'], [chain.C, 'skipped']] as const) {
      expect((await outbox('session.status-changed', 'sessionId', id)).at(-1)).toMatchObject({ from, to: 'waiting', reason: 're-run requested' });
      expect((await outbox('session.start-requested', 'sessionId', id)).map((e) => e.run)).toEqual([1, 2]);
    }

    // The resolver decides run 2 as a start; B's new attempt (2) completes, then C: the orchestration finishes again.
    await resolved(chain.B, 2);
    expect(await runAttempt(chain.B, 0)).toBe(2);
    await resolved(chain.C, 2);
    await runAttempt(chain.C, 0);
    const done = await app.get(OrchestrationQueries).get(chain.orchestrationId, {}, DEFAULT_TENANT);
    expect(done).toMatchObject({ status: 'completed', counts: { completed: 3 } });
    expect((await get(chain.B)).attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    expect((await outbox('orchestration.finished', 'orchestrationId', chain.orchestrationId)).map((e) => e.status)).toEqual([
      'failed',
      'completed',
    ]);
  });

  it('reruns a completed session; its dependents that did not complete go with it, a completed one keeps its result', async () => {
    // A → (B, C), B → D; A and C completed, B failed, D skipped.
    const { orchestrationId, id } = await started('fan', { A: [], B: ['A'], C: ['A'], D: ['B'] });
    await resolved(id.A);
    await runAttempt(id.A, 0);
    for (const [name, code] of [['B', 1], ['C', 0]] as const) {
      await resolved(id[name]);
      await runAttempt(id[name], code);
    }
    await app.get(RecordDependencyOutcome).failed(event('deps.failed', { sessionId: id.D, dependencyId: id.B, dependencyStatus: 'failed' }));
    const cBefore = await get(id.C);

    const a = await app.get(RerunSession).execute(id.A, DEFAULT_TENANT);

    expect(a).toMatchObject({ id: id.A, status: 'waiting', statusReason: 're-run requested', exitCode: null, finishedAt: null, changes: null });
    expect(a.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'completed', exitCode: 0 })]);
    expect(await get(id.B)).toMatchObject({ status: 'waiting', statusReason: 're-run requested' });
    expect(await get(id.D)).toMatchObject({ status: 'waiting', statusReason: 're-run requested' });
    expect(await get(id.C)).toEqual(cBefore);
    expect((await app.get(OrchestrationQueries).get(orchestrationId, {}, DEFAULT_TENANT)).counts).toMatchObject({ waiting: 3, completed: 1 });

    // Rerunning a session downstream alone leaves what it depends on as it is.
    await resolved(id.A, 2);
    await runAttempt(id.A, 0);
    await resolved(id.B, 2);
    await runAttempt(id.B, 0);
    await resolved(id.D, 2);
    await runAttempt(id.D, 0);
    const aDone = await get(id.A);
    const d = await app.get(RerunSession).execute(id.D, DEFAULT_TENANT);
    expect(d).toMatchObject({ status: 'waiting', attempt: 1 });
    expect(await get(id.A)).toEqual(aDone);
    expect(await runOf(id.D)).toEqual({ run: 3, attemptsBeforeRun: 1 });
  });

  it('refuses with a conflict saying why, changing nothing: a retry while sessions are on their way or with nothing to re-run, a rerun of a session on its way', async () => {
    const { orchestrationId, id } = await started('busy', { A: [], B: [] });
    await resolved(id.A);
    await runAttempt(id.A, 0);
    const before = await app.get(OrchestrationQueries).get(orchestrationId, {}, DEFAULT_TENANT);

    await expect(app.get(RetryOrchestration).execute(orchestrationId, DEFAULT_TENANT)).rejects.toMatchObject({
      code: 'conflict',
      message: `cannot retry orchestration ${orchestrationId}: it has not ended (sessions on their way: 1 waiting)`,
    });
    await expect(app.get(RerunSession).execute(id.B, DEFAULT_TENANT)).rejects.toMatchObject({
      code: 'conflict',
      message: `cannot re-run session ${id.B}: it has not ended (it is waiting)`,
    });
    expect(await app.get(OrchestrationQueries).get(orchestrationId, {}, DEFAULT_TENANT)).toEqual(before);

    await resolved(id.B);
    await runAttempt(id.B, 0);
    await expect(app.get(RetryOrchestration).execute(orchestrationId, DEFAULT_TENANT)).rejects.toMatchObject({
      code: 'conflict',
      message: `cannot retry orchestration ${orchestrationId}: nothing to re-run (no session failed, timed out, was cancelled or skipped; 2 completed, 0 not started)`,
    });
    expect((await app.get(OrchestrationQueries).get(orchestrationId, {}, DEFAULT_TENANT)).status).toBe('completed');

    const unknown = randomUUID();
    await expect(app.get(RetryOrchestration).execute(unknown, DEFAULT_TENANT)).rejects.toMatchObject({ code: 'not_found' });
    await expect(app.get(RerunSession).execute(unknown, DEFAULT_TENANT)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('changes nothing of a re-run session on a late container.exited or decision of its earlier run', async () => {
    const chain = await failedChain();
    await app.get(RetryOrchestration).execute(chain.orchestrationId, DEFAULT_TENANT);
    const waiting = await get(chain.B);

    // The earlier run's attempt 1 reported again (a redelivery), and the resolver's decision about run 1.
    await app.get(RecordContainerOutcome).exited(exited(chain.B, 1, 0));
    await app.get(RecordContainerOutcome).exited(exited(chain.B, 1, 1));
    await resolved(chain.B, 1);
    await app.get(RecordDependencyOutcome).failed(event('deps.failed', { sessionId: chain.C, dependencyId: chain.B, dependencyStatus: 'failed', run: 1 }));
    expect(await get(chain.B)).toEqual(waiting);
    expect((await get(chain.C)).status).toBe('waiting');

    // Run 2 claimed (attempt 2): attempt 1's report still changes nothing; attempt 2's counts.
    await resolved(chain.B, 2);
    const { spec } = await app.get(ClaimSession).execute(chain.B, 'r1');
    expect(spec!.attempt).toBe(2);
    const claimed = await get(chain.B);
    await app.get(RecordContainerOutcome).exited(exited(chain.B, 1, 0));
    expect(await get(chain.B)).toEqual(claimed);
    await app.get(RecordContainerOutcome).exited(exited(chain.B, 2, 0));
    expect(await get(chain.B)).toMatchObject({ status: 'completed', attempt: 2, exitCode: 0 });
  });

  it('gives a re-run session with retries its retries again', async () => {
    const chain = await failedChain(1);
    const spent: SessionView = await get(chain.B);
    expect(spent).toMatchObject({ status: 'failed', attempt: 2, retries: 1 });

    await app.get(RerunSession).execute(chain.B, DEFAULT_TENANT);
    await resolved(chain.B, 2);
    expect(await runAttempt(chain.B, 1)).toBe(3);
    const retrying = await get(chain.B);
    expect(retrying).toMatchObject({ status: 'ready', attempt: 3 });
    expect(retrying.statusReason).toBe('attempt 3 exited with code 1; retry 1 of 1 in 0 ms');
    expect(await runAttempt(chain.B, 1)).toBe(4);
    const failed = await get(chain.B);
    expect(failed).toMatchObject({ status: 'failed', attempt: 4, statusReason: 'exited with code 1' });
    expect(failed.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
      [4, 'failed'],
    ]);
  });
});
