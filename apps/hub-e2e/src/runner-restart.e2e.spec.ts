import { docker, expectRemoved } from './support/docker';
import { startTestStack, type TestStack } from './support/test-stack';

/** Container creations Docker itself saw for these sessions, between two moments. */
async function creationsOf(sessionIds: Set<string>, since: number, until: number): Promise<Map<string, number>> {
  const stream = (await docker.getEvents({
    since: Math.floor(since / 1000),
    until: Math.ceil(until / 1000),
    filters: { type: ['container'], event: ['create'], label: ['hub.session'] },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const counts = new Map<string, number>();
  for (const line of text.split('\n').filter(Boolean)) {
    const session = JSON.parse(line).Actor?.Attributes?.['hub.session'];
    if (sessionIds.has(session)) counts.set(session, (counts.get(session) ?? 0) + 1);
  }
  return counts;
}

describe('a runner that crashes and comes back adopts its containers', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack({ HUB_RECONCILE_INTERVAL_SECONDS: '2' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('adopts the 5 containers it was running, reports their real exit codes, starts none again', async () => {
    const began = Date.now();
    // Two exit while the runner is down; three are still running when it is back.
    const sleeps = [1, 1, 6, 6, 6];
    const sessions = await Promise.all(
      sleeps.map((seconds, code) =>
        hub.api.createSession({ type: 'testing', prompt: `echo "run ${code}"; sleep ${seconds}; exit ${code}`, start: true }),
      ),
    );
    for (const session of sessions) await hub.api.waitForStatus(session.id, ['running']);

    // kill -9; the stack's supervisor starts it again, held back 2.5 s so that two containers exit meanwhile.
    const runner = hub.stack.services['container-runner'];
    await runner.kill({ restartAfterMs: 2_500 });
    await runner.whenRunning({ timeoutMs: 30_000 });
    expect(runner.status.restarts).toBe(1);

    for (const [code, session] of sessions.entries()) {
      const done = await hub.api.waitForStatus(session.id, undefined, 30_000);
      expect({ code, status: done.status, exitCode: done.exitCode, attempt: done.attempt }).toEqual({
        code,
        status: code === 0 ? 'completed' : 'failed',
        exitCode: code,
        attempt: 1,
      });
      const log = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
      expect(log.text).toContain(`run ${code}`);
    }
    const creations = await creationsOf(new Set(sessions.map((s) => s.id)), began - 1_000, Date.now() + 1_000);
    expect([...creations.values()]).toEqual([1, 1, 1, 1, 1]);
    for (const session of sessions) await expectRemoved(session.id);
  });
});
