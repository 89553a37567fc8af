import { expectRemoved } from './support/docker';
import { readStatusChanges } from './support/fault/observe';
import { byName, finished, maxOverlap, started } from './support/timeline';
import { startTestStack, type TestStack } from './support/test-stack';
import { tutorialOrchestration } from '../../../examples/python-tutorial';

describe('orchestrations: DAGs that start themselves and hand outputs downstream', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack({ HUB_RETRY_BACKOFF_MS: '200' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('runs a diamond A → (B, C) → D in order, B and C together, D reading both outputs', async () => {
    const created = await hub.api.createOrchestration({
      name: 'diamond',
      start: true,
      sessions: [
        { name: 'A', type: 'analysis', prompt: 'echo plan > /hub/output/plan.txt' },
        { name: 'B', type: 'implementation', dependsOn: ['A'], prompt: 'sleep 1; (cat /hub/inputs/A/plan.txt; echo built) > /hub/output/b.txt' },
        { name: 'C', type: 'testing', dependsOn: ['A'], prompt: 'sleep 1; (cat /hub/inputs/A/plan.txt; echo tested) > /hub/output/c.txt' },
        { name: 'D', type: 'review', dependsOn: ['B', 'C'], prompt: 'echo "inputs: $HUB_INPUTS"; cat /hub/inputs/B/b.txt /hub/inputs/C/c.txt > /hub/output/review.txt' },
      ],
    });
    expect(created.sessions.map((s) => s.name)).toEqual(['A', 'B', 'C', 'D']);
    expect(created.sessionCount).toBe(4);

    const done = await hub.api.waitForOrchestration(created.id);
    expect(done.status).toBe('completed');
    expect(done.counts.completed).toBe(4);
    const { A, B, C, D } = byName(done.sessions);
    expect(started(B)).toBeGreaterThanOrEqual(finished(A));
    expect(started(C)).toBeGreaterThanOrEqual(finished(A));
    expect(started(B)).toBeLessThan(finished(C)); // B and C overlap: they ran concurrently
    expect(started(C)).toBeLessThan(finished(B));
    expect(started(D)).toBeGreaterThanOrEqual(Math.max(finished(B), finished(C)));

    const review = await hub.api.request('GET', `/api/v1/sessions/${D.id}/output/files/review.txt`);
    expect(review.text).toBe('plan\nbuilt\nplan\ntested\n');
    const log = await hub.api.request('GET', `/api/v1/sessions/${D.id}/logs`);
    expect(log.text).toContain('inputs: /hub/inputs/B /hub/inputs/C');
  });

  it('skips everything downstream of a failure at once, naming it, while an independent branch runs', async () => {
    const created = await hub.api.createOrchestration({
      name: 'failing',
      start: true,
      sessions: [
        { name: 'A', prompt: 'echo broken; exit 1' },
        { name: 'B', dependsOn: ['A'], prompt: 'true' },
        { name: 'C', dependsOn: ['A'], prompt: 'true' },
        { name: 'D', dependsOn: ['B', 'C'], prompt: 'true' },
        { name: 'sibling', prompt: 'sleep 3' },
        { name: 'after-sibling', dependsOn: ['sibling'], prompt: 'true' },
      ],
    });
    const done = await hub.api.waitForOrchestration(created.id);
    const s = byName(done.sessions);
    expect(s.A).toMatchObject({ status: 'failed', exitCode: 1 });
    for (const name of ['B', 'C', 'D']) expect(s[name].status).toBe('skipped');
    // At once: B, C and D are skipped, in the registry's own record (the stream), after A failed
    // and while the independent sibling still runs, not when the orchestration winds down.
    const changes = await readStatusChanges(hub.stack, created.id);
    const at = (name: string, to: string) => changes.findIndex((c) => c.sessionId === s[name].id && c.to === to);
    for (const name of ['B', 'C', 'D']) {
      expect({ name, afterAFailed: at(name, 'skipped') > at('A', 'failed') }).toEqual({ name, afterAFailed: true });
      expect({ name, whileSiblingRuns: at(name, 'skipped') < at('sibling', 'completed') }).toEqual({ name, whileSiblingRuns: true });
    }
    // Each skip names the session that actually failed, and how, then the chain down to it.
    expect(s.B.statusReason).toBe(`A (${s.A.id}) failed (exited with code 1)`);
    expect(s.D.statusReason).toMatch(new RegExp(`^A \\(${s.A.id}\\) failed \\(exited with code 1\\) ← [BC] \\(`));
    expect(s.sibling.status).toBe('completed');
    expect(s['after-sibling'].status).toBe('completed');
    expect(done.status).toBe('failed');
    expect(done.counts).toMatchObject({ failed: 1, skipped: 3, completed: 2 });
    // The orchestration's view says which session caused the skips.
    expect(done.causes).toEqual([
      { sessionId: s.A.id, name: 'A', status: 'failed', reason: s.A.statusReason, skipped: 3 },
    ]);
  });

  it('refuses a bad DAG with 400 naming the problem, and stores nothing', async () => {
    const countAll = async () => {
      const orchestrations = await hub.api.request('GET', '/api/v1/orchestrations?limit=500');
      const sessions = await hub.api.request('GET', '/api/v1/sessions?limit=500');
      return [orchestrations.body.items.length, sessions.body.items.length];
    };
    const before = await countAll();
    const cases: [unknown[], RegExp][] = [
      [[{ name: 'a', prompt: 'x', dependsOn: ['b'] }, { name: 'b', prompt: 'x', dependsOn: ['c'] }, { name: 'c', prompt: 'x', dependsOn: ['a'] }], /cycle: [abc] → [abc] → [abc] → [abc]/],
      [[{ name: 'a', prompt: 'x', dependsOn: ['ghost'] }], /a → ghost/],
      [[{ name: 'a', prompt: 'x', dependsOn: ['a'] }], /depend on itself: a/],
      [[{ name: 'a', prompt: 'x' }, { name: 'a', prompt: 'y' }], /more than once: a/],
      [[{ name: 'bad name!', prompt: 'x' }], /sessions\.0\.name/],
      [[], /sessions/],
    ];
    for (const [sessions, message] of cases) {
      const response = await hub.api.request('POST', '/api/v1/orchestrations', { name: 'bad', sessions, start: true });
      expect({ sessions, status: response.status }).toEqual({ sessions, status: 400 });
      expect(response.body.error).toBe('bad_request');
      expect(response.body.message).toMatch(message);
    }
    expect(await countAll()).toEqual(before);
  });

  it('retries a failing session with backoff, recording every attempt, until it completes', async () => {
    const created = await hub.api.createOrchestration({
      name: 'flaky',
      start: true,
      sessions: [{ name: 'flaky', retries: 2, prompt: 'echo "attempt $HUB_ATTEMPT"; [ "$HUB_ATTEMPT" -ge 3 ]' }],
    });
    const done = await hub.api.waitForOrchestration(created.id);
    const [flaky] = done.sessions;
    expect(flaky).toMatchObject({ status: 'completed', attempt: 3, retries: 2, exitCode: 0 });
    expect(flaky.attempts.map((a) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, 'failed', 1],
      [2, 'failed', 1],
      [3, 'completed', 0],
    ]);
    expect(new Set(flaky.attempts.map((a) => a.containerId)).size).toBe(3);
  });

  it('does not retry beyond the budget, nor a timed-out session', async () => {
    const created = await hub.api.createOrchestration({
      name: 'hopeless',
      start: true,
      sessions: [
        { name: 'always-fails', retries: 1, prompt: 'exit 2' },
        { name: 'too-slow', retries: 2, timeoutSeconds: 1, prompt: 'sleep 30' },
      ],
    });
    const s = byName((await hub.api.waitForOrchestration(created.id)).sessions);
    expect(s['always-fails']).toMatchObject({ status: 'failed', attempt: 2, exitCode: 2 });
    expect(s['too-slow']).toMatchObject({ status: 'timed_out', attempt: 1 });
  });

  it('caps an orchestration at maxParallel and runs the rest as places free', async () => {
    const created = await hub.api.createOrchestration({
      name: 'capped',
      start: true,
      maxParallel: 2,
      sessions: ['s1', 's2', 's3', 's4', 's5'].map((name) => ({ name, prompt: 'sleep 0.6' })),
    });
    const done = await hub.api.waitForOrchestration(created.id);
    expect(done.sessions.every((s) => s.status === 'completed')).toBe(true);
    expect(maxOverlap(done.sessions)).toBe(2);
  });

  it('starts the dependencies of a session started alone', async () => {
    const created = await hub.api.createOrchestration({
      name: 'pulled',
      sessions: [
        { name: 'first', prompt: 'echo 1 > /hub/output/one' },
        { name: 'second', dependsOn: ['first'], prompt: 'cat /hub/inputs/first/one' },
        { name: 'unrelated', prompt: 'true' },
      ],
    });
    expect(created.status).toBe('pending');
    const { second, unrelated } = byName(created.sessions);
    expect((await hub.api.request('POST', `/api/v1/sessions/${second.id}/start`)).status).toBe(202);
    expect((await hub.api.waitForStatus(second.id)).status).toBe('completed');
    const after = byName((await hub.api.getOrchestration(created.id)).sessions);
    expect(after.first.status).toBe('completed');
    expect(after.unrelated.status).toBe('created');
    expect(unrelated.status).toBe('created');
  });

  it('cancels a running orchestration: containers stopped and removed, every session terminal', async () => {
    const created = await hub.api.createOrchestration({
      name: 'to-cancel',
      start: true,
      sessions: [
        { name: 'long-1', prompt: 'sleep 60' },
        { name: 'long-2', prompt: 'sleep 60' },
        { name: 'after', dependsOn: ['long-1'], prompt: 'true' },
      ],
    });
    const { ['long-1']: long1, ['long-2']: long2 } = byName(created.sessions);
    await hub.api.waitForStatus(long1.id, ['running']);
    await hub.api.waitForStatus(long2.id, ['running']);

    const cancel = await hub.api.request('POST', `/api/v1/orchestrations/${created.id}/cancel`);
    expect(cancel.status).toBe(202);
    const done = await hub.api.waitForOrchestration(created.id, 30_000);
    expect(done.status).toBe('cancelled');
    expect(done.sessions.map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    for (const session of done.sessions) await expectRemoved(session.id);
    expect((await hub.api.request('POST', `/api/v1/orchestrations/${created.id}/cancel`)).status).toBe(409);
  });

  it('lists exactly an orchestration’s sessions when filtered, and everything when not', async () => {
    const first = await hub.api.createOrchestration({ name: 'one', sessions: [{ name: 'x', prompt: 'true' }, { name: 'y', prompt: 'true' }] });
    const second = await hub.api.createOrchestration({ name: 'two', sessions: [{ name: 'z', prompt: 'true' }] });
    const filtered = await hub.api.listSessions({ orchestrationId: first.id });
    expect(filtered.items.map((s) => s.name).sort()).toEqual(['x', 'y']);
    const all = await hub.api.listSessions({ limit: 500 });
    const ids = all.items.map((s) => s.id);
    for (const s of [...first.sessions, ...second.sessions]) expect(ids).toContain(s.id);

    const orchestrations = await hub.api.request('GET', '/api/v1/orchestrations?status=pending&limit=500');
    expect(orchestrations.status).toBe(200);
    const pendingIds = orchestrations.body.items.map((o: { id: string }) => o.id);
    expect(pendingIds).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(orchestrations.body.items.every((o: { status: string }) => o.status === 'pending')).toBe(true);
    expect((await hub.api.request('GET', '/api/v1/orchestrations/not-a-uuid')).status).toBe(400);
    expect((await hub.api.request('GET', `/api/v1/orchestrations/${first.sessions[0].id}`)).status).toBe(404);

    // An orchestration's sessions a page at a time, each page with the counts read with it.
    const one = await hub.api.request('GET', `/api/v1/orchestrations/${first.id}?limit=1`);
    expect(one.body).toMatchObject({ id: first.id, sessionCount: 2, sessions: [{ name: 'x' }], nextCursor: expect.any(String) });
    const rest = await hub.api.request('GET', `/api/v1/orchestrations/${first.id}?limit=1&cursor=${one.body.nextCursor}`);
    expect(rest.body).toMatchObject({ sessionCount: 2, sessions: [{ name: 'y' }], nextCursor: null });
    expect(first.nextCursor).toBeNull();
  });

  it('runs the python-tutorial example as a dry run: outline → chapters in parallel → review', async () => {
    const created = await hub.api.createOrchestration(tutorialOrchestration({ dryRun: true }));
    const done = await hub.api.waitForOrchestration(created.id);
    expect(done.status).toBe('completed');
    const review = byName(done.sessions)['review'];
    const tutorial = await hub.api.request('GET', `/api/v1/sessions/${review.id}/output/files/tutorial.md`);
    expect(tutorial.text).toMatch(/Values, variables and types[\s\S]*Conditions and loops[\s\S]*Functions and modules/);
    // The work flowed through git: the review started from every chapter merged, and its change is the result.
    const { result } = await hub.api.waitForResult(created.id);
    expect(result.changes?.sessions.map((session) => session.name)).toEqual(['review']);
    const diff = await hub.api.request('GET', `/api/v1/orchestrations/${created.id}/changes`);
    for (const file of ['tutorial/outline.md', 'tutorial/README.md', 'tutorial/examples/chapter-control.py']) expect(diff.text).toContain(`+++ b/${file}`);
    expect(tutorialOrchestration({ dryRun: false }).sessions.every((s) => s.image === 'hub/claude-code:latest')).toBe(true);
  });

  it('leaves no container behind for any of the sessions it ran', async () => {
    const all = await hub.api.listSessions({ limit: 500 });
    for (const session of all.items) await expectRemoved(session.id);
  });
});
