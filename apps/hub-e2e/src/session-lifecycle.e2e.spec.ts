import { containersOf, docker, expectRemoved, waitUntil } from './support/docker';
import { readStatusChanges } from './support/fault/observe';
import { startTestStack, type TestStack } from './support/test-stack';

describe('a session runs end to end: gateway → registry → resolver → runner → Docker', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack();
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('completes, with its log and its output files, and leaves no container behind', async () => {
    const created = await hub.api.createSession({
      type: 'analysis',
      prompt: 'echo hello; echo done > /hub/output/result.txt',
      start: true,
    });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);

    const session = await hub.api.waitForStatus(created.id);
    expect(session).toMatchObject({ status: 'completed', exitCode: 0, type: 'analysis' });
    expect(session.startedAt).not.toBeNull();
    expect(session.finishedAt).not.toBeNull();

    const log = await hub.api.request('GET', `/api/v1/sessions/${created.id}/logs`);
    expect(log.status).toBe(200);
    expect(log.text).toContain('hello');

    const output = await hub.api.request('GET', `/api/v1/sessions/${created.id}/output`);
    expect(output.body).toMatchObject({ exitCode: 0, files: [{ path: 'result.txt', size: 5 }] });
    expect(output.body.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const file = await hub.api.request('GET', `/api/v1/sessions/${created.id}/output/files/result.txt`);
    expect(file.status).toBe(200);
    expect(file.text).toBe('done\n');

    await expectRemoved(created.id);
  });

  it('gives the agent the session environment', async () => {
    const created = await hub.api.createSession({
      type: 'review',
      prompt: 'echo "id=$HUB_SESSION_ID type=$HUB_SESSION_TYPE orch=$HUB_ORCHESTRATION_ID attempt=$HUB_ATTEMPT"; echo "preamble=$HUB_PROMPT_PREAMBLE"',
      start: true,
    });
    const session = await hub.api.waitForStatus(created.id);
    const log = await hub.api.request('GET', `/api/v1/sessions/${created.id}/logs`);
    expect(log.text).toContain(`id=${session.id} type=review orch=${session.orchestrationId} attempt=1`);
    expect(log.text).toMatch(/preamble=You are the review stage/);
  });

  it('fails with the exit code and a reason when the agent exits non-zero', async () => {
    const created = await hub.api.createSession({ type: 'testing', prompt: 'echo failing >&2; exit 3', start: true });
    const session = await hub.api.waitForStatus(created.id);
    expect(session.status).toBe('failed');
    expect(session.exitCode).toBe(3);
    expect(session.statusReason).toMatch(/exit(ed)? .*code 3/);
    const log = await hub.api.request('GET', `/api/v1/sessions/${created.id}/logs`);
    expect(log.text).toContain('failing');
  });

  it('times out a session past its time limit and removes its container', async () => {
    const created = await hub.api.createSession({ type: 'analysis', prompt: 'sleep 30', timeoutSeconds: 2, start: true });
    const began = Date.now();
    const session = await hub.api.waitForStatus(created.id, undefined, 20_000);
    expect(session.status).toBe('timed_out');
    expect(Date.now() - began).toBeLessThan(10_000);
    await expectRemoved(created.id);
  });

  it('cancels a running session: its container is stopped and removed', async () => {
    const created = await hub.api.createSession({ type: 'analysis', prompt: 'echo started; sleep 60', start: true });
    await hub.api.waitForStatus(created.id, ['running']);
    expect(await containersOf(created.id)).toHaveLength(1);

    const cancel = await hub.api.request('POST', `/api/v1/sessions/${created.id}/cancel`);
    expect(cancel.status).toBe(202);
    const session = await hub.api.waitForStatus(created.id, undefined, 20_000);
    expect(session.status).toBe('cancelled');
    await expectRemoved(created.id);
  });

  it('fails at once with image_not_found when the image is not on the engine', async () => {
    // At once: on its first claim, with no container, no retry and no wait, while a session started
    // with it in the same orchestration is still running.
    const orchestration = await hub.api.createOrchestration({
      name: 'missing image',
      start: true,
      sessions: [
        { name: 'missing', prompt: 'true', image: 'hub/not-built-here:1', retries: 2 },
        { name: 'alongside', prompt: 'sleep 3' },
      ],
    });
    const done = await hub.api.waitForOrchestration(orchestration.id);
    const missing = done.sessions.find((s) => s.name === 'missing')!;
    const alongside = done.sessions.find((s) => s.name === 'alongside')!;
    expect(missing.status).toBe('failed');
    expect(missing.statusReason).toContain('image_not_found');
    expect(missing.attempts).toHaveLength(1);
    expect(await containersOf(missing.id)).toEqual([]);

    const changes = await readStatusChanges(hub.stack, orchestration.id);
    expect(changes.filter((c) => c.sessionId === missing.id).map((c) => c.to)).toEqual(['waiting', 'ready', 'starting', 'failed']);
    const at = (sessionId: string, to: string) => changes.findIndex((c) => c.sessionId === sessionId && c.to === to);
    expect(at(alongside.id, 'running')).toBeGreaterThanOrEqual(0);
    expect(at(missing.id, 'failed')).toBeLessThan(at(alongside.id, 'completed'));
  });

  it('refuses at the door (400, nothing stored) a session or an orchestration in an image outside the allow-list', async () => {
    const before = await hub.api.listSessions({ limit: 500 });
    const session = await hub.api.request('POST', '/api/v1/sessions', { type: 'analysis', prompt: 'true', image: 'busybox:latest', start: true });
    expect(session.status).toBe(400);
    expect(session.body.message).toBe("image not on the runners' allow-list (HUB_ALLOWED_IMAGES=hub/*): busybox:latest");
    const orchestration = await hub.api.request('POST', '/api/v1/orchestrations', {
      name: 'mixed',
      sessions: [
        { name: 'fine', prompt: 'true' },
        { name: 'elsewhere', prompt: 'true', image: 'ghcr.io/acme/agent:1' },
      ],
    });
    expect(orchestration.status).toBe(400);
    expect(orchestration.body.message).toContain('elsewhere (ghcr.io/acme/agent:1)');
    expect((await hub.api.listSessions({ limit: 500 })).items.length).toBe(before.items.length);
  });

  it('runs the container hardened and labelled while the session runs', async () => {
    const created = await hub.api.createSession({ type: 'analysis', prompt: 'id -u > /hub/output/uid; sleep 60', start: true });
    const running = await hub.api.waitForStatus(created.id, ['running']);
    const [info] = await containersOf(created.id);
    expect(info.Labels['hub.session']).toBe(created.id);
    expect(running.containerId).toBe(info.Id);

    const inspect = await docker.getContainer(info.Id).inspect();
    expect(inspect.Name).toContain(created.id);
    expect(inspect.Config.User).toBe('1000:1000');
    expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(inspect.HostConfig.NetworkMode).toBe('none');
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(inspect.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(inspect.HostConfig.Memory).toBeGreaterThan(0);
    expect(inspect.HostConfig.NanoCpus).toBeGreaterThan(0);
    const mounts = inspect.Mounts.map((mount) => mount.Destination);
    expect(mounts).toContain('/hub/output');
    expect(mounts.some((destination) => destination.includes('docker.sock'))).toBe(false);

    await hub.api.request('POST', `/api/v1/sessions/${created.id}/cancel`);
    await hub.api.waitForStatus(created.id, ['cancelled'], 20_000);
    const output = await hub.api.request('GET', `/api/v1/sessions/${created.id}/output/files/uid`);
    expect(output.text.trim()).toBe('1000');
    await waitUntil('the container is removed', async () => (await containersOf(created.id)).length === 0);
  });

  it('runs sessions in parallel and leaves no container behind once all are done', async () => {
    const sessions = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => hub.api.createSession({ type: 'implementation', prompt: `echo run ${n}; sleep 0.5`, start: true })),
    );
    for (const session of sessions) {
      expect((await hub.api.waitForStatus(session.id)).status).toBe('completed');
    }
    for (const session of sessions) await expectRemoved(session.id);
  });
});
