// Usage, budgets, rate limits and continuations in the registry, against real PostgreSQL (with the
// real migrations) and real NATS: what runners report an agent spent adds up per session and per
// orchestration, a budget holds back and then skips what it cannot cover, a rate-limited attempt
// waits for the reset without spending retries, and a completed session can be continued.
import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Budget, DEFAULT_TENANT, EventOf, EventPayload, EventSubject, HubError, RateLimit, usageOf } from '@hub/contracts';
import { ClaimSession } from '../sessions/claim-session.use-case';
import { ContinueSession } from '../sessions/continue-session.use-case';
import { RecordContainerOutcome } from '../sessions/record-container-outcome.use-case';
import { RecordDependencyOutcome } from '../sessions/record-dependency-outcome.use-case';
import { SessionQueries } from '../sessions/session-queries';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { OrchestrationQueries } from '../orchestrations/orchestration-queries';
import { RetryOrchestration } from '../orchestrations/retry-orchestration.use-case';
import { UpdateOrchestrationBudget } from './update-orchestration-budget.use-case';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';

describe('usage, budgets, rate limits and continuations in the registry (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    harness = await startRegistryHarness('budgets');
    ({ app, dataSource } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  const event = <S extends EventSubject>(subject: S, data: EventPayload<S>, id = `${subject}:${randomUUID()}`): EventOf<S> => ({
    id,
    subject,
    occurredAt: new Date().toISOString(),
    data,
  });
  const tokens = (input: number, output = 0) => usageOf({ input, output, cacheRead: 0, cacheWrite: 0 }, null);
  const exited = (
    sessionId: string,
    attempt: number,
    exit: { exitCode?: number; cause?: 'exited' | 'cancelled'; usage?: ReturnType<typeof tokens> | null; rateLimit?: RateLimit | null },
  ) =>
    event('container.exited', {
      sessionId,
      attempt,
      runnerId: 'r1',
      containerId: 'c'.repeat(64),
      cause: exit.cause ?? 'exited',
      exitCode: exit.exitCode ?? 0,
      oomKilled: false,
      durationMs: 10,
      detail: null,
      output: { files: 1, bytes: 10, skipped: 0 },
      logBytes: 5,
      logDroppedBytes: 0,
      changes: null,
      usage: exit.usage ?? null,
      rateLimit: exit.rateLimit ?? null,
    });

  const get = (sessionId: string) => app.get(SessionQueries).get(sessionId, DEFAULT_TENANT);
  const orchestration = (id: string) => app.get(OrchestrationQueries).get(id, {}, DEFAULT_TENANT);
  const resolved = (sessionId: string, run = 1) => app.get(RecordDependencyOutcome).resolved(event('deps.resolved', { sessionId, run }));
  const claim = async (sessionId: string) => (await app.get(ClaimSession).execute(sessionId, 'r1')).spec!;
  /** Ready sessions handed to the runners (a `session.ready` was published for them) and not yet claimed. */
  const dispatched = async (orchestrationId: string): Promise<string[]> =>
    (
      await dataSource.query(
        `SELECT id FROM sessions WHERE orchestration_id = $1 AND status = 'ready' AND dispatched_at IS NOT NULL ORDER BY seq`,
        [orchestrationId],
      )
    ).map((row: { id: string }) => row.id);
  const outbox = async <S extends EventSubject>(subject: S, key: 'sessionId' | 'orchestrationId', id: string): Promise<EventPayload<S>[]> =>
    (
      await dataSource.query(`SELECT envelope FROM outbox WHERE subject = $1 AND envelope->'data'->>'${key}' = $2 ORDER BY seq`, [subject, id])
    ).map((row: { envelope: EventOf<S> }): EventPayload<S> => row.envelope.data);

  async function started(name: string, sessions: string[], budget?: Budget) {
    const created = await app.get(CreateOrchestration).execute({
      name,
      start: true,
      budget,
      sessions: sessions.map((session) => ({ name: session, type: 'analysis', prompt: 'true', dependsOn: [] })),
    }, DEFAULT_TENANT);
    const view = await orchestration(created.id);
    return { orchestrationId: created.id, ids: view.sessions.map((s) => s.id) };
  }

  /** Runs whatever the registry hands out, each attempt spending `each`, until nothing is handed out; answers how many ran. */
  async function runHandedOut(orchestrationId: string, each: ReturnType<typeof tokens>): Promise<number> {
    let ran = 0;
    for (let ready = await dispatched(orchestrationId); ready.length; ready = await dispatched(orchestrationId)) {
      const specs = [];
      for (const id of ready) specs.push(await claim(id));
      for (const spec of specs) {
        await app.get(RecordContainerOutcome).exited(exited(spec.sessionId, spec.attempt, { usage: each }));
        ran++;
      }
    }
    return ran;
  }

  it("adds each attempt's usage to its session and its orchestration, once however often the report is delivered", async () => {
    const { orchestrationId, ids } = await started('usage', ['a']);
    await resolved(ids[0]);
    const spec = await claim(ids[0]);
    const report = exited(ids[0], spec.attempt, { usage: usageOf({ input: 120, output: 30, cacheRead: 1000, cacheWrite: 50 }, 0.0123) });
    await app.get(RecordContainerOutcome).exited(report);
    await app.get(RecordContainerOutcome).exited(report);

    const session = await get(ids[0]);
    expect(session.status).toBe('completed');
    expect(session.usage).toEqual({ tokens: { input: 120, output: 30, cacheRead: 1000, cacheWrite: 50, total: 1200 }, costUsd: 0.0123 });
    const view = await orchestration(orchestrationId);
    expect(view.usage).toEqual(session.usage);
    expect(view.budget).toBeNull();
    const recorded = await outbox('session.usage-recorded', 'sessionId', ids[0]);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].orchestrationTotal.tokens.total).toBe(1200);
  });

  it('runs exactly the sessions a token budget covers, skips the rest naming it, and runs them after the budget is raised and the orchestration retried', async () => {
    const { orchestrationId, ids } = await started('budgeted', Array.from({ length: 10 }, (_, i) => `s${i}`), { tokens: 4500, onExhausted: 'finish' });
    for (const id of ids) await resolved(id);
    // Nothing has reported usage yet: one session at a time measures what a session costs.
    expect(await dispatched(orchestrationId)).toHaveLength(1);

    expect(await runHandedOut(orchestrationId, tokens(800, 200))).toBe(4);

    const view = await orchestration(orchestrationId);
    expect(view.counts).toMatchObject({ completed: 4, skipped: 6 });
    expect(view.usage.tokens.total).toBe(4000);
    expect(view.budget).toEqual({ tokens: 4500, usd: null, onExhausted: 'finish', left: { tokens: 500, usd: null }, exhausted: true });
    for (const skipped of view.sessions.filter((s) => s.status === 'skipped')) {
      expect(skipped.statusReason).toBe(
        'budget exhausted: 4,000 tokens of 4,500 tokens spent; the 500 tokens left cover less than the 1,000 tokens a session of this orchestration has used',
      );
    }
    // Ended once: the move that skipped the rest ended it, and said so once.
    expect(await outbox('orchestration.finished', 'orchestrationId', orchestrationId)).toHaveLength(1);
    const thresholds = await outbox('orchestration.budget-threshold', 'orchestrationId', orchestrationId);
    expect(thresholds).toEqual([{ orchestrationId, cap: 'tokens', threshold: 80, spent: 4000, budget: 4500 }]);

    const raised = await app.get(UpdateOrchestrationBudget).execute({ orchestrationId, budget: { tokens: 20_000, onExhausted: 'finish' } }, DEFAULT_TENANT);
    expect(raised.budget).toMatchObject({ left: { tokens: 16_000 }, exhausted: false });
    await app.get(RetryOrchestration).execute(orchestrationId, DEFAULT_TENANT);
    for (const s of view.sessions.filter((s) => s.status === 'skipped')) await resolved(s.id, 2);
    expect(await runHandedOut(orchestrationId, tokens(800, 200))).toBe(6);
    expect((await orchestration(orchestrationId)).counts.completed).toBe(10);
  });

  it('with onExhausted: stop, asks the runners to stop the running sessions once the budget is spent, and says why they ended', async () => {
    const { orchestrationId, ids } = await started('stop', ['a', 'b', 'c'], { tokens: 1000, onExhausted: 'stop' });
    for (const id of ids) await resolved(id);
    const [first] = await dispatched(orchestrationId);
    const firstSpec = await claim(first);
    await app.get(RecordContainerOutcome).exited(exited(first, firstSpec.attempt, { usage: tokens(100) }));
    const [b, c] = await dispatched(orchestrationId);
    const [bSpec, cSpec] = [await claim(b), await claim(c)];

    await app.get(RecordContainerOutcome).exited(exited(b, bSpec.attempt, { usage: tokens(2000) }));
    const stopping = await get(c);
    expect(stopping.status).toBe('starting');
    expect(stopping.statusReason).toContain("stopping: because its orchestration's budget is spent (tokens; onExhausted: stop)");
    expect(await outbox('session.cancel-requested', 'sessionId', c)).toEqual([{ sessionId: c, runnerId: 'r1' }]);

    await app.get(RecordContainerOutcome).exited(exited(c, cSpec.attempt, { cause: 'cancelled', exitCode: 137, usage: tokens(50) }));
    const stopped = await get(c);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.statusReason).toBe("cancelled because its orchestration's budget is spent (tokens; onExhausted: stop)");
    expect((await orchestration(orchestrationId)).usage.tokens.total).toBe(2150);
  });

  it('sends a rate-limited attempt back to wait for the reset without spending its retries, then lets it complete', async () => {
    const { ids } = await started('limited', ['a']);
    await resolved(ids[0]);
    const first = await claim(ids[0]);
    const resetAt = new Date(Date.now() + 5000).toISOString();
    await app.get(RecordContainerOutcome).exited(
      exited(ids[0], first.attempt, { exitCode: 1, usage: tokens(10), rateLimit: { resetAt, message: 'rate_limit_error: 429' } }),
    );

    const waiting = await get(ids[0]);
    expect(waiting.status).toBe('ready');
    expect(waiting.statusReason).toBe(
      `attempt 1 rate limited by its model's API (rate_limit_error: 429); waiting until ${resetAt} to run it again (its retries unspent)`,
    );
    expect(await outbox('session.rate-limited', 'sessionId', ids[0])).toEqual([
      { sessionId: ids[0], orchestrationId: waiting.orchestrationId, image: 'hub/test-agent:latest', attempt: 1, resetAt, message: 'rate_limit_error: 429' },
    ]);
    const ready = await outbox('session.ready', 'sessionId', ids[0]);
    expect(ready[ready.length - 1]).toMatchObject({ attempt: 2, notBefore: resetAt, image: 'hub/test-agent:latest' });

    const second = await claim(ids[0]);
    await app.get(RecordContainerOutcome).exited(exited(ids[0], second.attempt, { usage: tokens(20) }));
    const done = await get(ids[0]);
    expect(done.status).toBe('completed');
    expect(done.retries).toBe(0);
    expect(done.attempts.map((a) => [a.status, a.reason?.split(':')[0]])).toEqual([
      ['failed', 'rate_limited'],
      ['completed', 'exited with code 0'],
    ]);
    expect(done.usage?.tokens.total).toBe(30);
  });

  it('continues a completed session as a new session that depends on it and is told which input holds the conversation', async () => {
    const { ids } = await started('continued', ['plan']);
    await resolved(ids[0]);
    const spec = await claim(ids[0]);
    await app.get(RecordContainerOutcome).exited(exited(ids[0], spec.attempt, {}));

    const next = await app.get(ContinueSession).execute({ sessionId: ids[0], prompt: 'now the tests', start: true }, DEFAULT_TENANT);
    expect(next).toMatchObject({ name: 'plan-continued-1', continues: ids[0], dependsOn: [ids[0]], status: 'waiting', type: 'analysis' });
    expect((await get(ids[0])).continuedBy).toEqual([next.id]);
    await resolved(next.id);
    const nextSpec = await claim(next.id);
    expect(nextSpec).toMatchObject({ prompt: 'now the tests', continueFrom: 'plan', inputs: [{ name: 'plan', sessionId: ids[0] }] });

    const again = await app.get(ContinueSession).execute({ sessionId: ids[0], prompt: 'and the docs', start: false }, DEFAULT_TENANT);
    expect(again.name).toBe('plan-continued-2');
    const refused = app.get(ContinueSession).execute({ sessionId: next.id, prompt: 'too early', start: true }, DEFAULT_TENANT);
    await expect(refused).rejects.toThrow(HubError);
    await expect(refused).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('it is starting') });
  });
});
