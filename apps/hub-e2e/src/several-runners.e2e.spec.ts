// Several runners on several Docker engines (issue 18): the stack's runner on the machine's engine and
// two more, each on an engine of its own (a dockerd with its own socket, data root and exec root, no
// bridge network), 8 slots each, one of them labelled gpu. 120 trivial sessions spread over the three,
// each container created once; a session requiring gpu runs on the gpu runner only, one requiring a
// label no runner has waits and readiness says why; an image present on one engine only runs there,
// and one present nowhere fails naming every runner that refused it.
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import Docker from 'dockerode';
import {
  copyImage,
  makeTempDir,
  startDockerEngine,
  startExtraRunner,
  tagImage,
  type ExtraDockerEngine,
  type ExtraRunner,
} from '@hub/infra';
import { docker } from './support/docker';
import { DockerEventRecorder, type DockerContainerEvent } from './support/fault/observe';
import { startTestStack, type TestStack } from './support/test-stack';

const SLOTS = 8;
const SESSIONS = 120;
const IMAGES = ['hub/test-agent:latest', 'hub/egress-bridge:latest'];
const ONLY_ON_B = 'hub/test-agent:only-b';

describe('several runners, each on its own Docker engine', () => {
  let dir: string;
  let hub: TestStack | undefined;
  const engines: Record<'b' | 'c', ExtraDockerEngine | undefined> = { b: undefined, c: undefined };
  const runners: ExtraRunner[] = [];
  /** Docker's own record of each engine's session containers, by runner id. */
  const recorders = new Map<string, DockerEventRecorder>();
  let stackRunner: string;

  beforeAll(async () => {
    dir = await makeTempDir('hub-e2e-engines');
    const [b, c] = await Promise.all([startDockerEngine({ dir: join(dir, 'b') }), startDockerEngine({ dir: join(dir, 'c') })]);
    engines.b = b;
    engines.c = c;
    hub = await startTestStack({ HUB_RUNNER_SLOTS: String(SLOTS) });
    // The images the stack's runner has (startTestStack built them), copied to the other two engines.
    await Promise.all([b, c].flatMap((engine) => IMAGES.map((image) => copyImage(image, undefined, engine.dockerHost))));
    await tagImage(b.dockerHost, 'hub/test-agent:latest', ONLY_ON_B);
    stackRunner = hub.stack.services['container-runner'].env['HUB_RUNNER_ID']!;
    recorders.set(stackRunner, new DockerEventRecorder(docker));
    recorders.set('runner-b', new DockerEventRecorder(new Docker({ socketPath: b.socketPath })));
    recorders.set('runner-c', new DockerEventRecorder(new Docker({ socketPath: c.socketPath })));
    await Promise.all([...recorders.values()].map((recorder) => recorder.start()));
    runners.push(
      ...(await Promise.all([
        startExtraRunner({ stack: hub.stack, runnerId: 'runner-b', dockerHost: b.dockerHost, slots: SLOTS }),
        startExtraRunner({ stack: hub.stack, runnerId: 'runner-c', dockerHost: c.dockerHost, slots: SLOTS, labels: ['gpu'] }),
      ])),
    );
  }, 120_000);

  afterAll(async () => {
    // Everything is attempted, whatever failed before: runners, the stack, then the engines and their containers.
    for (const recorder of recorders.values()) recorder.close();
    await Promise.allSettled(runners.map((runner) => runner.stop()));
    await hub?.stop().catch(() => undefined);
    await Promise.allSettled(Object.values(engines).map((engine) => engine?.remove()));
    if (dir && !process.env['HUB_E2E_KEEP']) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it(`runs ${SESSIONS} sessions at ${SLOTS} slots a runner: all complete, spread over the three, no container created twice`, async () => {
    const began = Date.now();
    const orchestration = await hub!.api.createOrchestration({
      name: 'several-runners',
      start: true,
      sessions: Array.from({ length: SESSIONS }, (_, i) => ({ name: `s${i}`, prompt: 'true' })),
    });
    const done = await hub!.api.waitForOrchestration(orchestration.id, 90_000);
    const took = Date.now() - began;

    expect(done.sessions.filter((s) => s.status !== 'completed').map((s) => `${s.name}: ${s.status} (${s.statusReason})`)).toEqual([]);
    const byRunner = countBy(done.sessions, (s) => s.runnerId ?? 'none');
    expect(Object.keys(byRunner).sort()).toEqual([stackRunner, 'runner-b', 'runner-c'].sort());
    for (const count of Object.values(byRunner)) expect(count).toBeGreaterThan(0);

    // Docker's own record, engine by engine: one container per session, on the engine of the runner that ran it.
    const ours = new Set(done.sessions.map((s) => s.id));
    const created = await createdContainers(ours);
    const perSession = countBy(created, (event) => event.sessionId);
    expect(Object.keys(perSession).length).toBe(SESSIONS);
    expect(Object.entries(perSession).filter(([, count]) => count !== 1)).toEqual([]);
    const engineOf = new Map(created.map((event) => [event.sessionId, event.runnerId]));
    expect(done.sessions.filter((s) => engineOf.get(s.id) !== s.runnerId).map((s) => s.name)).toEqual([]);
    console.log(`${SESSIONS} sessions in ${(took / 1000).toFixed(1)} s; by runner: ${JSON.stringify(byRunner)}`);
  }, 100_000);

  it('runs a session requiring gpu on the gpu runner only; one requiring tpu waits, and readiness says why', async () => {
    const gpu = await hub!.api.createSession({ prompt: 'true', runnerLabels: ['gpu'], start: true });
    const tpu = await hub!.api.createSession({ prompt: 'true', runnerLabels: ['tpu'], start: true });
    expect(gpu.runnerLabels).toEqual(['gpu']);

    const ran = await hub!.api.waitForStatus(gpu.id, ['completed'], 30_000);
    expect(ran.runnerId).toBe('runner-c');

    const waiting = await hub!.api.waitForStatus(tpu.id, ['ready'], 10_000);
    expect(waiting.statusReason).toMatch(/waiting for a runner with labels tpu$/);
    const ready = await hub!.api.request<{ status: string; checks: { name: string; ok: boolean; detail: string; fix?: string }[] }>(
      'GET',
      '/health/ready',
    );
    const labels = ready.body.checks.find((check) => check.name === 'container-runner/runner labels');
    expect(labels).toMatchObject({
      ok: true,
      detail: `1 session waits for a runner with labels tpu; runners: ${[`${stackRunner} []`, 'runner-b []', 'runner-c [gpu]'].sort().join(', ')}`,
      fix: expect.stringMatching(/HUB_RUNNER_LABELS include tpu/),
    });
    // A warning, not a failure: the gateway stays ready (what else fails is another spec's concern).
    expect(labels!.ok).toBe(true);

    // Still waiting, never claimed, a while later.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await hub!.api.getSession(tpu.id)).toMatchObject({ status: 'ready', attempt: 0, runnerId: null });
    expect([200, 202]).toContain((await hub!.api.request('POST', `/api/v1/sessions/${tpu.id}/cancel`)).status);
  }, 60_000);

  it('runs a session whose image only one engine has on that runner, and fails one whose image none has, naming the runners', async () => {
    const onlyB = await hub!.api.createSession({ prompt: 'true', image: ONLY_ON_B, start: true });
    const nowhere = await hub!.api.createSession({ prompt: 'true', image: 'hub/test-agent:nowhere', start: true });

    const ran = await hub!.api.waitForStatus(onlyB.id, ['completed'], 30_000);
    expect(ran).toMatchObject({ runnerId: 'runner-b', attempt: 1, attempts: [expect.objectContaining({ status: 'completed' })] });

    const failed = await hub!.api.waitForStatus(nowhere.id, ['failed'], 30_000);
    const runnersNamed = /image hub\/test-agent:nowhere is on no runner: refused by ([^;]+);/.exec(failed.statusReason ?? '')?.[1]?.split(', ');
    expect(runnersNamed?.sort()).toEqual([stackRunner, 'runner-b', 'runner-c'].sort());
    expect(failed.attempt).toBe(1);
  }, 60_000);

  /** The create events of these sessions' containers on the three engines, each with the runner of its engine. */
  async function createdContainers(sessionIds: ReadonlySet<string>): Promise<(DockerContainerEvent & { runnerId: string })[]> {
    const perEngine = await Promise.all(
      [...recorders].map(async ([runnerId, recorder]) => {
        const events = await recorder.stop(sessionIds);
        return events.filter((event) => event.action === 'create').map((event) => ({ ...event, runnerId }));
      }),
    );
    return perEngine.flat();
  }
});

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
