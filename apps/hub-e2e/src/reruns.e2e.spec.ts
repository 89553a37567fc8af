import { randomUUID } from 'node:crypto';
import type { OrchestrationSummary, SessionView } from '@hub/contracts';
import { readStatusChanges } from './support/fault/observe';
import { byName } from './support/timeline';
import { startTestStack, type TestStack } from './support/test-stack';

describe('re-runs: an ended orchestration retried, an ended session run again', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack({ HUB_RETRY_BACKOFF_MS: '200' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  /** A → B → C, B failing on its first attempt only (its container knows its attempt: HUB_ATTEMPT). */
  const chain = {
    name: 'flaky-chain',
    start: true,
    sessions: [
      { name: 'A', prompt: 'echo plan > /hub/output/a.txt' },
      {
        name: 'B',
        dependsOn: ['A'],
        prompt: 'echo "B attempt $HUB_ATTEMPT"; [ "$HUB_ATTEMPT" -gt 1 ] && (cat /hub/inputs/A/a.txt; echo "built on attempt $HUB_ATTEMPT") > /hub/output/b.txt',
      },
      { name: 'C', dependsOn: ['B'], prompt: 'cat /hub/inputs/B/b.txt > /hub/output/c.txt' },
    ],
  };

  it('retries an orchestration where it failed: the failed and skipped sessions run again, the completed one keeps its result', async () => {
    const created = await hub.api.createOrchestration(chain);
    const failed = await hub.api.waitForOrchestration(created.id);
    expect(failed.status).toBe('failed');
    const before = byName(failed.sessions);
    expect(before.B).toMatchObject({ status: 'failed', exitCode: 1, attempt: 1 });
    expect(before.C.status).toBe('skipped');

    const retry = await hub.api.request<OrchestrationSummary>('POST', `/api/v1/orchestrations/${created.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ id: created.id, status: 'running', counts: { completed: 1, waiting: 2 } });
    // While it runs again, it cannot be retried.
    const busy = await hub.api.request('POST', `/api/v1/orchestrations/${created.id}/retry`);
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ error: 'conflict', message: expect.stringContaining('it has not ended') });

    const done = await hub.api.waitForOrchestration(created.id);
    expect(done.status).toBe('completed');
    const after = byName(done.sessions);
    expect(after.A).toEqual(before.A); // untouched: attempt 1, its result kept
    expect(after.B).toMatchObject({ status: 'completed', exitCode: 0, attempt: 2 });
    expect(after.B.attempts.map((a) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, 'failed', 1],
      [2, 'completed', 0],
    ]);
    expect(after.C).toMatchObject({ status: 'completed', attempt: 1 });
    const c = await hub.api.request('GET', `/api/v1/sessions/${after.C.id}/output/files/c.txt`);
    expect(c.text).toBe('plan\nbuilt on attempt 2\n');

    // What moved, in the registry's own record: B and C from their ends back to waiting, as allowed moves.
    const changes = await readStatusChanges(hub.stack, created.id);
    const pathOf = (s: SessionView) => changes.filter((e) => e.sessionId === s.id).map((e) => e.to);
    expect(pathOf(after.B)).toEqual(['waiting', 'ready', 'starting', 'running', 'failed', 'waiting', 'ready', 'starting', 'running', 'completed']);
    expect(pathOf(after.C)).toEqual(['waiting', 'skipped', 'waiting', 'ready', 'starting', 'running', 'completed']);
    expect(pathOf(after.A)).toEqual(['waiting', 'ready', 'starting', 'running', 'completed']);

    // Nothing is left to run again.
    const nothing = await hub.api.request('POST', `/api/v1/orchestrations/${created.id}/retry`);
    expect(nothing.status).toBe(409);
    expect(nothing.body.message).toContain('nothing to re-run');
  });

  it('reruns a completed session; its completed dependents keep their results', async () => {
    const created = await hub.api.createOrchestration({ ...chain, name: 'rerun-first', sessions: chain.sessions.map((s) => (s.name === 'B' ? { ...s, retries: 1 } : s)) });
    const first = byName((await hub.api.waitForOrchestration(created.id)).sessions);
    expect(first.B).toMatchObject({ status: 'completed', attempt: 2 }); // its retry completed

    const rerun = await hub.api.request<SessionView>('POST', `/api/v1/sessions/${first.A.id}/rerun`);
    expect(rerun.status).toBe(202);
    expect(rerun.body).toMatchObject({ id: first.A.id, status: 'waiting', statusReason: 're-run requested', exitCode: null, finishedAt: null });

    const a = await hub.api.waitForStatus(first.A.id, ['completed']);
    expect(a.attempts.map((x) => [x.attempt, x.status])).toEqual([
      [1, 'completed'],
      [2, 'completed'],
    ]);
    const done = byName((await hub.api.waitForOrchestration(created.id)).sessions);
    expect(done.B).toEqual(first.B);
    expect(done.C).toEqual(first.C);
  });

  it('refuses to rerun a session on its way (409), and to retry an unknown orchestration (404)', async () => {
    const session = await hub.api.createSession({ type: 'analysis', prompt: 'sleep 30', start: true });
    const refused = await hub.api.request('POST', `/api/v1/sessions/${session.id}/rerun`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'conflict', message: expect.stringMatching(new RegExp(`^cannot re-run session ${session.id}: it has not ended`)) });
    await hub.api.request('POST', `/api/v1/sessions/${session.id}/cancel`);
    const cancelled = await hub.api.waitForStatus(session.id, ['cancelled']);

    // Once ended (cancelled), it runs again.
    const again = await hub.api.request<SessionView>('POST', `/api/v1/sessions/${cancelled.id}/rerun`);
    expect(again.status).toBe(202);
    await hub.api.waitForStatus(session.id, ['running']);
    await hub.api.request('POST', `/api/v1/sessions/${session.id}/cancel`);
    await hub.api.waitForStatus(session.id, ['cancelled']);

    const unknown = await hub.api.request('POST', `/api/v1/orchestrations/${randomUUID()}/retry`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
  });
});
