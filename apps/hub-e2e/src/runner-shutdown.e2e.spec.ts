import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containersOf, docker, expectRemoved } from './support/docker';
import { startTestStack, type TestStack } from './support/test-stack';

// A runner asked to stop (SIGTERM) right after a session's container exited: it reports that session
// and removes its container and its egress bridge before it goes, and leaves a session still running
// (its container and bridge) to be adopted when it is back. Every session here may reach a destination,
// so each has an egress bridge, a helper container the runner must not forget either.

const RUNNER_ID = `runner-shutdown-${randomBytes(4).toString('hex')}`;

/** Every container labelled with this stack's runner: sessions' and helpers'. */
function containersOfRunner() {
  return docker.listContainers({ all: true, filters: { label: [`hub.runner=${RUNNER_ID}`] } });
}

/**
 * Resolves the moment Docker says the session's agent container died (its `die` event, read as it
 * comes): the runner is then storing its log and output, and has reported and removed nothing yet.
 * Call it before the container exits.
 */
async function whenItExits(sessionId: string, timeoutMs = 30_000): Promise<Promise<void>> {
  const events = (await docker.getEvents({
    filters: { type: ['container'], event: ['die'], label: [`hub.session=${sessionId}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      events.destroy();
      reject(new Error(`the container of session ${sessionId} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    events.on('data', (chunk: Buffer) => {
      const agentDied = chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .some((line) => !JSON.parse(line).Actor?.Attributes?.['hub.helper']);
      if (!agentDied) return;
      clearTimeout(timer);
      events.destroy();
      resolve();
    });
  });
}

/** An agent that ends soon, leaving output the runner takes a moment to store. */
const SHORT_SESSION = 'echo short; i=0; while [ $i -lt 100 ]; do echo $i > /hub/output/file-$i.txt; i=$((i+1)); done; sleep 2';

describe('a runner that stops right after a container exited', () => {
  let hub: TestStack;
  let stopped = false;

  beforeAll(async () => {
    hub = await startTestStack({
      HUB_RUNNER_ID: RUNNER_ID,
      HUB_EGRESS: 'hub/test-agent*=api.test.invalid:*',
      HUB_RECONCILE_INTERVAL_SECONDS: '2',
    });
  }, 180_000);

  afterAll(async () => {
    if (!stopped) await hub?.stop();
    // Whatever a failed test left behind.
    for (const { Id } of await containersOfRunner()) await docker.getContainer(Id).remove({ force: true }).catch(() => undefined);
  });

  it('reports and removes the session that just ended (container and bridge), and leaves the running one for adoption', async () => {
    const runner = hub.stack.services['container-runner'];
    const running = await hub.api.createSession({ prompt: 'echo long; sleep 12; echo long done', start: true });
    await hub.api.waitForStatus(running.id, ['running']);
    const ending = await hub.api.createSession({ prompt: SHORT_SESSION, start: true });
    const exits = await whenItExits(ending.id);
    await hub.api.waitForStatus(ending.id, ['running']);

    await exits;
    const stopping = runner.stop(); // SIGTERM, then waits for the process to exit
    const atStop = (await containersOf(ending.id)).map((c) => `${c.Labels['hub.helper'] ?? 'agent'} ${c.State}`).sort();
    await stopping;

    // The moment this test is about: the agent's container died (Docker may list it as running a moment longer), nothing is removed yet.
    expect(atStop).toEqual([expect.stringMatching(/^agent (exited|running)$/), 'egress-bridge running']);
    expect(await containersOf(ending.id)).toEqual([]);
    const ended = await hub.api.waitForStatus(ending.id, undefined, 10_000);
    expect([ended.status, ended.statusReason]).toEqual(['completed', 'exited with code 0']);
    const left = (await containersOf(running.id)).map((c) => `${c.Labels['hub.helper'] ?? 'agent'} ${c.State}`).sort();
    expect(left).toEqual(['agent running', 'egress-bridge running']);
    const log = readFileSync(join(hub.stack.logDir, 'container-runner.log'), 'utf8');
    expect(log).toContain('stopping: finishing the attempts whose containers are not running');
    expect(log).toContain('stopping: running containers are left to run, adopted when the runner is back');

    await runner.start();
    const adopted = await hub.api.waitForStatus(running.id, undefined, 60_000);
    expect([adopted.status, adopted.statusReason]).toEqual(['completed', 'exited with code 0']);
    expect((await hub.api.request('GET', `/api/v1/sessions/${running.id}/logs`)).text).toContain('long done');
    await expectRemoved(running.id);
  }, 120_000);

  it('leaves no container of its runner behind when the whole stack stops the moment a session ended', async () => {
    const session = await hub.api.createSession({ prompt: SHORT_SESSION, start: true });
    const exits = await whenItExits(session.id);
    await hub.api.waitForStatus(session.id, ['running']);
    expect((await containersOf(session.id)).length).toBe(2); // the agent and its egress bridge

    await exits;
    stopped = true;
    const stopping = hub.stop();
    const atStop = (await containersOf(session.id)).map((c) => `${c.Labels['hub.helper'] ?? 'agent'} ${c.State}`).sort();
    await stopping;

    expect(atStop).toEqual([expect.stringMatching(/^agent (exited|running)$/), 'egress-bridge running']);
    expect(await containersOfRunner()).toEqual([]);
  }, 120_000);
});
