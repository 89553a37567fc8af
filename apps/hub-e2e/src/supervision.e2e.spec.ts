import { HUB_SERVICES, type HubServiceName } from '@hub/infra';
import type { SessionView } from '@hub/contracts';
import { expectRemoved } from './support/docker';
import { DockerEventRecorder } from './support/fault/observe';
import { startTestStack, type TestStack } from './support/test-stack';

// The stack supervises its services like compose's `restart: unless-stopped`: a service killed with
// SIGKILL is started again by the stack itself (no test code restarts it) and takes work again
// within 10 s, while sessions run through it; nothing is lost and no container is made twice.

const BACK_WITHIN_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

async function readiness(hub: TestStack): Promise<Readiness | null> {
  try {
    const response = await fetch(`${hub.api.baseUrl}/health/ready`, { signal: AbortSignal.timeout(3_000) });
    return (await response.json()) as Readiness;
  } catch {
    return null; // the gateway is down
  }
}

/** Resolves when /health/ready answers ok; rejects at `deadline` with what it last said. */
async function readyBy(hub: TestStack, deadline: number): Promise<number> {
  let last: Readiness | null = null;
  while (Date.now() < deadline) {
    last = await readiness(hub);
    if (last?.status === 'ok') return Date.now();
    await sleep(100);
  }
  throw new Error(`not ready in time: ${JSON.stringify(last?.checks.filter((c) => !c.ok) ?? 'the gateway does not answer')}`);
}

/** Until the session runs or has ended (a short one may end before we look). */
async function runningOrDone(hub: TestStack, id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { status } = await hub.api.getSession(id);
    if (!['created', 'waiting', 'ready', 'starting'].includes(status)) return;
    if (Date.now() > deadline) throw new Error(`session ${id} still ${status} after 30 s`);
    await sleep(50);
  }
}

describe('supervision: every service killed with SIGKILL is restarted by the stack', () => {
  let hub: TestStack;
  const recorder = new DockerEventRecorder();

  beforeAll(async () => {
    await recorder.start();
    hub = await startTestStack({ HUB_RECONCILE_INTERVAL_SECONDS: '2' });
  }, 180_000);

  afterAll(async () => {
    recorder.close();
    await hub?.stop();
  });

  it('brings each service back within 10 s while sessions run; every session completes, one container per attempt; readiness shows the restarts', async () => {
    const sessions: SessionView[] = [];
    const times: Record<string, { backMs: number; readyMs: number }> = {};
    const prompt = 'echo "attempt $HUB_ATTEMPT"; sleep 3; echo done';

    for (const name of HUB_SERVICES) {
      // Two sessions running, one more on its way through the pipeline, then kill -9.
      const running = await Promise.all([1, 2].map(() => hub.api.createSession({ type: 'testing', prompt, start: true })));
      for (const session of running) await runningOrDone(hub, session.id);
      sessions.push(...running, await hub.api.createSession({ type: 'testing', prompt, start: true }));

      const service = hub.stack.services[name];
      const pid = service.pid!;
      expect(pid).toBeDefined();
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      const newPid = await service.whenRunning({ notPid: pid, timeoutMs: BACK_WITHIN_MS });
      const backAt = Date.now();
      const readyAt = await readyBy(hub, killedAt + BACK_WITHIN_MS);
      times[name] = { backMs: backAt - killedAt, readyMs: readyAt - killedAt };

      expect(newPid).not.toBe(pid);
      expect(service.status).toMatchObject({ state: 'running', restarts: 1, lastExit: { pid, signal: 'SIGKILL' } });
    }
    console.log(
      `back after kill -9 (process ready / gateway /health/ready 200): ${Object.entries(times)
        .map(([name, t]) => `${name} ${(t.backMs / 1000).toFixed(1)} s / ${(t.readyMs / 1000).toFixed(1)} s`)
        .join(', ')}`,
    );

    // Readiness says, for each service, that the stack restarted it once and why.
    const report = (await readiness(hub))!;
    expect(report.status).toBe('ok');
    for (const name of HUB_SERVICES) {
      const check = report.checks.find((c) => c.name === `${name}/restarts`);
      expect({ name, ok: check?.ok, detail: check?.detail }).toEqual({
        name,
        ok: true,
        detail: expect.stringMatching(/^restarted 1 time by the stack; last exit: killed by SIGKILL at \d{4}-/),
      });
    }

    // Every session completes, its log whole.
    const ended: SessionView[] = [];
    for (const session of sessions) {
      const done = await hub.api.waitForStatus(session.id, undefined, 60_000);
      expect({ id: done.id, status: done.status, exitCode: done.exitCode }).toEqual({ id: session.id, status: 'completed', exitCode: 0 });
      const log = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
      expect(log.text).toContain(`attempt ${done.attempt}`);
      expect(log.text).toContain('done');
      ended.push(done);
    }

    // Docker's own events: exactly one container per attempt that ran, none made twice.
    for (const session of ended) await expectRemoved(session.id, 15_000);
    const events = await recorder.stop(new Set(ended.map((s) => s.id)));
    for (const session of ended) {
      const creations = new Map<number, number>();
      for (const e of events) if (e.sessionId === session.id && e.action === 'create') creations.set(e.attempt, (creations.get(e.attempt) ?? 0) + 1);
      // An attempt lost before its container was made has none; the one that completed has one.
      expect({ id: session.id, twice: [...creations.values()].filter((n) => n > 1), last: creations.get(session.attempt) }).toEqual({
        id: session.id,
        twice: [],
        last: 1,
      });
    }
    console.log(`attempts per session: ${ended.map((s) => s.attempt).join(' ')}`);

    // The supervisor counted one restart each, no more.
    const statuses = hub.stack.statuses();
    for (const name of HUB_SERVICES as readonly HubServiceName[]) expect(statuses[name].restarts).toBe(1);
  }, 300_000);
});
