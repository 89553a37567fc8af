// A runner lost for good: the stack's runner (8 slots) and a second runner (4 slots) on an engine of
// its own run 12 sessions of `sleep 4`; the second runner is killed (-9) and its engine with it. The
// registry's lease on its sessions lapses (HUB_RUNNER_LEASE_GRACE_SECONDS=5): they go back to ready,
// their retries (none) unspent, and run again on the stack's runner within the grace plus 10 s; the
// orchestration completes. Then the engine comes back with the stale containers, and the runner with
// the same id: it removes them and reports nothing (no container.exited leaves it, no session changes).
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection, Subscription } from 'nats';
import type { EventEnvelope, RunnerList, SessionView } from '@hub/contracts';
import { copyImage, engineRequest, makeTempDir, startDockerEngine, startExtraRunner, type ExtraDockerEngine, type ExtraRunner } from '@hub/infra';
import { connectToBus, startTestStack, type TestStack } from './support/test-stack';

const GRACE_SECONDS = 5;
const IMAGE = 'hub/test-agent:latest';
const HELD = ['starting', 'running'];

interface StatusChanged {
  sessionId: string;
  from: string;
  to: string;
  reason: string | null;
  at: string;
}

describe('a runner whose host is lost for good', () => {
  let hub: TestStack;
  let engineDir: string;
  let engine: ExtraDockerEngine;
  let extra: ExtraRunner;
  let bus: NatsConnection;
  const changes: StatusChanged[] = [];
  const exits: { sessionId: string; attempt: number; runnerId: string; receivedAt: number }[] = [];
  const lostRunner = `lost-${randomBytes(3).toString('hex')}`;

  const collect = async (subscription: Subscription, onEvent: (envelope: EventEnvelope) => void) => {
    for await (const message of subscription) onEvent(message.json<EventEnvelope>());
  };

  beforeAll(async () => {
    hub = await startTestStack({
      HUB_RUNNER_SLOTS: '8',
      HUB_RUNNER_LEASE_GRACE_SECONDS: String(GRACE_SECONDS),
      HUB_RUNNER_HEARTBEAT_SECONDS: '1',
      HUB_RECONCILE_INTERVAL_SECONDS: '2',
    });
    bus = await connectToBus(hub.stack);
    void collect(bus.subscribe('session.status-changed'), (e) => changes.push(e.data as StatusChanged));
    void collect(bus.subscribe('container.exited'), (e) => {
      const data = e.data as { sessionId: string; attempt: number; runnerId: string };
      exits.push({ ...data, receivedAt: Date.now() });
    });
    engineDir = await makeTempDir('hub-lost');
    engine = await startDockerEngine({ dir: join(engineDir, 'e') });
    await copyImage(IMAGE, undefined, engine.dockerHost);
    extra = await startExtraRunner({ stack: hub.stack, runnerId: lostRunner, dockerHost: engine.dockerHost, slots: 4, supervision: { restart: false } });
  }, 120_000);

  afterAll(async () => {
    await extra?.stop();
    await engine?.remove();
    await bus?.close();
    await hub?.stop();
    if (engineDir) await rm(engineDir, { recursive: true, force: true });
  }, 60_000);

  const staleContainers = () =>
    engineRequest<{ Id: string; State: string; Labels: Record<string, string> }[]>(
      { socketPath: engine.socketPath },
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`hub.runner=${lostRunner}`] }))}`,
    );

  async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("re-runs its sessions elsewhere within the grace plus 10 s, and removes its stale containers, unreported, when it comes back", async () => {
    const stackRunner = hub.stack.services['container-runner'].env['HUB_RUNNER_ID'];
    const orchestration = await hub.api.createOrchestration({
      name: 'lost-runner',
      start: true,
      sessions: Array.from({ length: 12 }, (_, n) => ({ name: `s${n}`, prompt: `echo run s${n}; sleep 4`, retries: 0 })),
    });
    const ids = new Set(orchestration.sessions.map((s) => s.id));

    // Killed while it runs its share: its process (kill -9, not restarted) and its engine (dockerd and containerd).
    const onLost = await until(
      'sessions running on the second runner',
      async () => (await hub.api.getOrchestration(orchestration.id)).sessions.filter((s) => s.runnerId === lostRunner && s.status === 'running'),
      (sessions) => sessions.length >= 2,
      30_000,
    );
    const killedAt = Date.now();
    await extra.service.kill();
    await engine.kill();

    const done = await hub.api.waitForOrchestration(orchestration.id, 45_000);
    expect(done.sessions.map((s) => s.status)).toEqual(Array(12).fill('completed'));

    // Every session it held went back to ready, naming it and the grace, and ran again on the stack's runner.
    const requeues = changes.filter((c) => ids.has(c.sessionId) && c.to === 'ready' && c.reason?.includes(`runner ${lostRunner} stopped heartbeating`));
    const requeued = new Set(requeues.map((c) => c.sessionId));
    for (const session of onLost) expect(requeued.has(session.id)).toBe(true);
    const timings = requeues.map((requeue) => {
      expect(HELD).toContain(requeue.from);
      expect(requeue.reason).toMatch(new RegExp(`^attempt 1 lost: runner ${lostRunner} stopped heartbeating at \\S+ \\(lease grace ${GRACE_SECONDS} s\\); running it again on another runner \\(its retries unspent\\)$`));
      const rerun = changes.find((c) => c.sessionId === requeue.sessionId && c.to === 'running' && Date.parse(c.at) > Date.parse(requeue.at));
      expect(rerun).toBeDefined();
      return { requeuedMs: Date.parse(requeue.at) - killedAt, rerunMs: Date.parse(rerun!.at) - killedAt };
    });
    for (const { rerunMs } of timings) expect(rerunMs).toBeLessThanOrEqual((GRACE_SECONDS + 10) * 1000);
    console.log(`lost runner: ${requeues.length} sessions requeued ${JSON.stringify(timings)} ms after the kill`);

    const results = new Map<string, SessionView>(done.sessions.map((s) => [s.id, s]));
    for (const id of requeued) {
      // Retries 0, yet completed: the lost attempt spent none. The result is the stack runner's.
      expect(results.get(id)).toMatchObject({ status: 'completed', exitCode: 0, attempt: 2, retries: 0, runnerId: stackRunner });
      expect(results.get(id)!.attempts[0]).toMatchObject({ attempt: 1, status: 'failed', reason: expect.stringMatching(new RegExp(`^runner_lost: runner ${lostRunner} `)) });
    }

    // The registry's view of the runners, and readiness, name it lost.
    const runners = (await hub.api.request<RunnerList>('GET', '/api/v1/runners')).body;
    expect(runners.leaseGraceSeconds).toBe(GRACE_SECONDS);
    expect(runners.runners.find((r) => r.runnerId === lostRunner)).toMatchObject({ status: 'lost', holds: 0, lostAt: expect.any(String), slots: 4 });
    expect(runners.runners.find((r) => r.runnerId === stackRunner)).toMatchObject({ status: 'alive', slots: 8 });
    const ready = await hub.api.request<{ checks: { name: string; ok: boolean; detail: string }[] }>('GET', '/health/ready');
    expect(ready.body.checks.find((c) => c.name === `runners/${lostRunner}`)).toMatchObject({ ok: true, detail: expect.stringMatching(/^lost: no heartbeat since \S+ \(lease grace 5 s\); holds no session/) });

    // The host comes back: its engine with the stale containers (their agents ended while it was gone), then its runner.
    const completedBefore = changes.filter((c) => ids.has(c.sessionId) && c.to === 'completed').length;
    expect(completedBefore).toBe(12);
    await engine.start();
    const stale = await staleContainers();
    expect(stale.length).toBeGreaterThanOrEqual(onLost.length);
    for (const container of stale) expect(requeued.has(container.Labels['hub.session'])).toBe(true);
    console.log(`lost runner's engine back: ${stale.length} stale containers (${stale.map((c) => c.State).join(', ')})`);
    const backAt = Date.now();
    await extra.service.start();
    await until('the stale containers removed', staleContainers, (left) => left.length === 0, 15_000);

    // Removed, each logged with why, and nothing reported: no container.exited from it, no session moved.
    const log = await readFile(extra.logFile, 'utf8');
    for (const container of stale) {
      const line = log.split('\n').find((l) => l.includes(container.Id) && l.includes('removing orphan container'));
      expect(line).toContain(container.Labels['hub.session']);
      expect(line).toContain('stale: the registry no longer gives that session to this runner');
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(exits.filter((e) => e.runnerId === lostRunner && e.receivedAt >= backAt)).toEqual([]);
    expect(changes.filter((c) => ids.has(c.sessionId) && c.to === 'completed')).toHaveLength(12);
    const after = await hub.api.getOrchestration(orchestration.id);
    for (const session of after.sessions) {
      const before = results.get(session.id)!;
      expect({ status: session.status, attempt: session.attempt, attempts: session.attempts, runnerId: session.runnerId, finishedAt: session.finishedAt }).toEqual({
        status: before.status,
        attempt: before.attempt,
        attempts: before.attempts,
        runnerId: before.runnerId,
        finishedAt: before.finishedAt,
      });
      expect(HELD).not.toContain(session.status);
    }
    // Alive again in the registry's view.
    await until(
      'the runner alive again',
      async () => (await hub.api.request<RunnerList>('GET', '/api/v1/runners')).body.runners.find((r) => r.runnerId === lostRunner),
      (runner) => runner?.status === 'alive' && runner.lostAt === null,
      10_000,
    );
  }, 90_000);
});
