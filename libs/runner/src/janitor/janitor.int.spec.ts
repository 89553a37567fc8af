// The janitor on the real Docker engine and a real nats-server -js (Hub's users and permissions,
// connected as the container-runner): containers labelled with this test's own installation ids,
// of a runner without a heartbeat, of a live runner, of this runner, of another installation and
// without any installation label; only the gone runner's go, the running one only once the janitor
// has seen its runner absent for the grace; and the session directories nobody has any more.
// It touches no container but its own (each removal is checked by id, and afterAll removes by its labels).
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { createLogger } from '@hub/config';
import { BUS_PRINCIPALS } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, makeTempDir, natsCredentialsOf, startNatsServer, type NatsServer } from '@hub/infra';
import { installationIdOf, RunnerHeartbeats } from '@hub/messaging';
import { createDockerClient } from '../docker/docker-client';
import { DockerContainerEngine, LABEL_INSTALLATION } from '../docker/docker-container-engine';
import { SendHeartbeats } from '../heartbeat/send-heartbeats';
import type { ContainerLaunch } from '../ports/container-engine.port';
import type { RunnerSettings } from '../runner.tokens';
import { RunnerMetrics } from '../runner-metrics';
import { SessionLedger } from '../sessions/session-ledger';
import { RunnerSlots } from '../slots/runner-slots';
import { AttemptFiles } from '../workspace/attempt-files';
import { CleanUpGoneRunners } from './clean-up-gone-runners.use-case';

const IMAGE = 'hub/test-agent:latest';
const BUILD_SCRIPT = resolve(__dirname, '../../../../images/test-agent/build.sh');
const RUN_ID = `jest-janitor-${process.pid}-${Date.now().toString(36)}`;
const INSTALLATION = `${RUN_ID}-mine`;
const OTHER_INSTALLATION = `${RUN_ID}-other`;
const ME = `${RUN_ID}-me`;
const GONE = `${RUN_ID}-gone`;
const LIVE = `${RUN_ID}-live`;
const GRACE_MS = 3_000;
const HOUR = 3_600_000;

const docker = createDockerClient(process.env['DOCKER_HOST']);
const mine = new DockerContainerEngine(docker, { installationId: INSTALLATION });
const others = new DockerContainerEngine(docker, { installationId: OTHER_INSTALLATION });
const unlabelled = new DockerContainerEngine(docker);
const logger = createLogger('janitor-test', 'silent');

describe('CleanUpGoneRunners (real Docker engine, real nats-server -js)', () => {
  let dir: string;
  let dataDir: string;
  let nats: NatsServer;
  let nc: NatsConnection;
  let heartbeats: RunnerHeartbeats;
  let ledger: SessionLedger;
  let metrics: Registry;
  let janitor: CleanUpGoneRunners;
  let slots: RunnerSlots;
  let settings: RunnerSettings;
  const unlabelledIds: string[] = [];
  let count = 0;

  async function launchOf(runnerId: string, prompt: string): Promise<ContainerLaunch> {
    const sessionId = `${RUN_ID}-s${++count}`;
    const mounts = join(dir, 'mounts', sessionId);
    await mkdir(join(mounts, 'output'), { recursive: true });
    await mkdir(join(mounts, 'workspace'), { recursive: true });
    await chmod(join(mounts, 'output'), 0o777);
    await chmod(join(mounts, 'workspace'), 0o777);
    await writeFile(join(mounts, 'prompt'), prompt, { mode: 0o644 });
    return {
      sessionId,
      attempt: 1,
      image: IMAGE,
      env: { HUB_SESSION_ID: sessionId },
      outputDir: join(mounts, 'output'),
      workspaceDir: join(mounts, 'workspace'),
      promptFile: join(mounts, 'prompt'),
      inputs: [],
      network: 'none',
      limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 250_000_000, pids: 32 },
      user: '1000:1000',
      runnerId,
      logCapBytes: 1024 * 1024,
      fileSizeLimitBytes: 1024 * 1024,
      tmpBytes: 16 * 1024 * 1024,
    };
  }

  /** A container run to its end (`exited`), or left running. */
  async function containerOf(engine: DockerContainerEngine, runnerId: string, how: 'exited' | 'running') {
    const launch = await launchOf(runnerId, how === 'exited' ? 'true' : 'sleep 600');
    const containerId = await engine.create(launch);
    await engine.start(containerId);
    if (how === 'exited') await engine.wait(containerId);
    return { containerId, sessionId: launch.sessionId };
  }

  /** A session directory under the data dir, last changed `ageMs` ago. */
  async function sessionDir(sessionId: string, ageMs: number): Promise<string> {
    const path = join(dataDir, 'sessions', sessionId);
    await mkdir(join(path, 'attempt-1', 'output'), { recursive: true });
    const at = new Date(Date.now() - ageMs);
    for (const p of [join(path, 'attempt-1'), path]) await utimes(p, at, at);
    return path;
  }

  const exists = async (containerId: string) => (await mine.containerTimes(containerId)) !== null;
  const dirExists = (sessionId: string) => mkdtemp(join(dataDir, 'sessions', sessionId, 'probe-')).then((p) => rm(p, { recursive: true }).then(() => true), () => false);
  const removedCount = async (kind: string) => (await metrics.getSingleMetric('hub_janitor_removed_total')!.get()).values.find((v) => v.labels['kind'] === kind)?.value;

  beforeAll(async () => {
    await mine.ping();
    execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' });
    dir = await makeTempDir('hub-janitor');
    dataDir = await mkdtemp(join(tmpdir(), 'hub-janitor-data-'));
    const passwords = await loadNatsPasswords(dir, BUS_PRINCIPALS, {});
    nats = await startNatsServer({ storeDir: join(dir, 'nats'), users: hubNatsUsers(passwords) });
    nc = await connect({ servers: nats.url, ...natsCredentialsOf('container-runner', passwords) });
    heartbeats = new RunnerHeartbeats(nc);
    ledger = new SessionLedger();
    metrics = new Registry();
    settings = { runnerId: ME, dataDir } as RunnerSettings;
    slots = new RunnerSlots(2);
    janitor = new CleanUpGoneRunners(
      heartbeats,
      new SendHeartbeats(heartbeats, slots, settings, logger),
      ledger,
      new AttemptFiles(settings),
      new RunnerMetrics(slots, metrics),
      mine,
      mine,
      { installationId: INSTALLATION, intervalMs: 0, graceMs: GRACE_MS },
      settings,
      logger,
    );
  }, 180_000);

  afterAll(async () => {
    for (const installation of [INSTALLATION, OTHER_INSTALLATION]) {
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTALLATION}=${installation}`] } });
      for (const { Id } of left) await docker.getContainer(Id).remove({ force: true });
    }
    for (const id of unlabelledIds) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it("removes only the gone runner's containers of its own installation, the running one once its runner has been absent for the grace, and what they left", async () => {
    // The installation id a runner of this NATS would get; the test's own id labels its containers.
    expect(await installationIdOf(nc)).toMatch(/^[0-9a-f-]{36}$/);
    await heartbeats.put({ runnerId: LIVE, startedAt: new Date().toISOString(), slots: 1, inUse: 1 });
    // The gone runner stopped cleanly: its entry was there, and went.
    await heartbeats.put({ runnerId: GONE, startedAt: new Date().toISOString(), slots: 1, inUse: 1 });
    await heartbeats.remove(GONE);

    const goneExited = await containerOf(mine, GONE, 'exited');
    const goneRunning = await containerOf(mine, GONE, 'running');
    const liveExited = await containerOf(mine, LIVE, 'exited');
    const ownExited = await containerOf(mine, ME, 'exited');
    const otherInstallation = await containerOf(others, GONE, 'exited');
    const beforeTheLabel = await containerOf(unlabelled, GONE, 'exited');
    unlabelledIds.push(beforeTheLabel.containerId);
    expect((await docker.getContainer(goneExited.containerId).inspect()).Config.Labels[LABEL_INSTALLATION]).toBe(INSTALLATION);

    // Directories: what the gone runner's exited session left; the live runner's; one nobody has, old
    // and new; one of a session this runner holds; one of a session of another installation's container.
    for (const s of [goneExited, liveExited, otherInstallation]) await sessionDir(s.sessionId, 2 * HOUR);
    await sessionDir(`${RUN_ID}-nobody-old`, 2 * HOUR);
    await sessionDir(`${RUN_ID}-held`, 2 * HOUR);
    ledger.take(`${RUN_ID}-held`, 1);

    // Past the grace since the exited containers finished.
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    await sessionDir(`${RUN_ID}-nobody-new`, 0);
    const first = await janitor.runOnce();

    expect(first?.containers.map((r) => r.container.containerId)).toEqual([goneExited.containerId]);
    expect(first?.containers[0]).toMatchObject({ container: { runnerId: GONE, sessionId: goneExited.sessionId }, why: expect.stringContaining(`runner ${GONE} has no heartbeat; the container finished`) });
    expect(await exists(goneExited.containerId)).toBe(false);
    for (const kept of [goneRunning, liveExited, ownExited, otherInstallation, beforeTheLabel]) expect(await exists(kept.containerId)).toBe(true);
    expect(first?.directories.map((d) => d.sessionId).sort()).toEqual([goneExited.sessionId, `${RUN_ID}-nobody-old`].sort());
    expect(await dirExists(goneExited.sessionId)).toBe(false);
    expect(await dirExists(`${RUN_ID}-nobody-old`)).toBe(false);
    for (const kept of [liveExited.sessionId, otherInstallation.sessionId, `${RUN_ID}-nobody-new`, `${RUN_ID}-held`]) expect(await dirExists(kept)).toBe(true);

    // The running container stays until this janitor has seen its runner absent for the grace.
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    const second = await janitor.runOnce();

    expect(second?.containers.map((r) => r.container.containerId)).toEqual([goneRunning.containerId]);
    expect(second?.containers[0].why).toContain('is still running');
    expect(await exists(goneRunning.containerId)).toBe(false);
    for (const kept of [liveExited, ownExited, otherInstallation, beforeTheLabel]) expect(await exists(kept.containerId)).toBe(true);
    // The directory that was new at the first pass is past the grace now.
    expect(second?.directories.map((d) => d.sessionId)).toEqual([`${RUN_ID}-nobody-new`]);
    expect(await removedCount('container')).toBe(2);
    expect(await removedCount('directory')).toBe(3);
    // Its own heartbeat was put by the pass.
    expect((await heartbeats.present()).get(ME)).toMatchObject({ ok: true, heartbeat: { runnerId: ME, slots: 2, inUse: 0 } });
  });

  it("puts a runner's heartbeat as it runs, and deletes it when the runner stops cleanly", async () => {
    const other = new SendHeartbeats(heartbeats, slots, { ...settings, runnerId: `${RUN_ID}-stopping` }, logger);
    slots.take();
    expect(await other.runOnce()).toBe(true);
    expect((await heartbeats.present()).get(`${RUN_ID}-stopping`)).toMatchObject({ ok: true, heartbeat: { slots: 2, inUse: 1 } });
    slots.release();

    await other.onApplicationShutdown();

    expect((await heartbeats.present()).has(`${RUN_ID}-stopping`)).toBe(false);
    expect(await other.runOnce()).toBe(false);
    expect((await heartbeats.present()).has(`${RUN_ID}-stopping`)).toBe(false);
  });

  it('removes nothing when it cannot put its heartbeat and read the others', async () => {
    const runner = await containerOf(mine, GONE, 'exited');
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    await nc.close();

    expect(await janitor.runOnce()).toBeNull();
    expect(await exists(runner.containerId)).toBe(true);
  });
});
