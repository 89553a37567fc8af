import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, makeTempDir } from '@hub/infra';
import { containersOf, docker, expectRemoved, waitUntil } from './support/docker';
import { HubApi } from './support/hub-api';

// Hub as docker-compose.yml runs it: the images built offline here (hub/hub, hub/postgres, hub/nats,
// through their build.sh), the stack brought up with an env file of random secrets and free loopback
// ports, an orchestration run through it, then an upgrade (`down` while a session runs, `up -d`) after
// which the runner, back with the same HUB_RUNNER_ID, adopts the session's container and reports it.
// Everything but the images (kept as a cache) is removed afterwards, even when a test fails.

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const COMPOSE_FILE = join(WORKSPACE_ROOT, 'docker-compose.yml');
const SUFFIX = randomBytes(4).toString('hex');
const PROJECT = `hub-e2e-compose-${SUFFIX}`;
const RUNNER_ID = `compose-e2e-${SUFFIX}`;
const SERVICES = ['postgres', 'nats', 'session-registry', 'dependency-resolver', 'container-runner', 'gateway'];

const run = promisify(execFile);

/** `docker compose` (v2) when the Docker CLI has it, else `docker-compose` (1.29, Debian's). */
async function composeCommand(): Promise<string[]> {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      await run(command[0]!, [...command.slice(1), 'version'], { timeout: 20_000 });
      return command;
    } catch {
      // try the next
    }
  }
  throw new Error('neither `docker compose` nor `docker-compose` works here: bash scripts/ensure-deps.sh installs docker-compose');
}

/** An image's build script; its output is returned for a failure's message. */
async function buildImage(script: string): Promise<void> {
  try {
    await run('bash', [join(WORKSPACE_ROOT, script)], { cwd: WORKSPACE_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${script} failed: ${message}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe('docker-compose.yml: Hub from its images, and an upgrade that adopts a running session', () => {
  let compose: string[];
  let stateDir: string;
  let envFile: string;
  let api: HubApi;
  let gatewayUrl: string;

  /** Runs compose on this stack's project and env file, with nothing of this process's environment but PATH and HOME. */
  async function composeRun(args: string[], timeoutMs = 120_000): Promise<string> {
    const [command, ...prefix] = compose;
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
    if (process.env['DOCKER_HOST']) env['DOCKER_HOST'] = process.env['DOCKER_HOST'];
    try {
      const { stdout, stderr } = await run(command!, [...prefix, '-p', PROJECT, '-f', COMPOSE_FILE, '--env-file', envFile, ...args], {
        cwd: WORKSPACE_ROOT,
        env,
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout + stderr;
    } catch (error) {
      const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${[...compose, ...args].join(' ')} failed: ${message}\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  /** The last lines each service logged, for a failure's message. */
  async function logsTail(): Promise<string> {
    return composeRun(['logs', '--no-color', '--tail', '25'], 30_000).catch((error: Error) => `(no logs: ${error.message})`);
  }

  /** `up -d`, failing with the services' logs when a container does not come up healthy. */
  async function up(): Promise<void> {
    try {
      await composeRun(['up', '-d']);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- docker compose logs ---\n${await logsTail()}`);
    }
  }

  /** Waits until the gateway answers /health/ready with 200; else fails with what it said and the services' logs. */
  async function waitUntilReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${gatewayUrl}/health/ready`);
        if (response.status === 200) return;
        last = `HTTP ${response.status}: ${await response.text()}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the compose stack was not ready within ${timeoutMs / 1000} s; /health/ready: ${last}\n--- docker compose logs ---\n${await logsTail()}`);
  }

  /** The stack's containers by service (compose's labels). */
  async function stackContainers() {
    const containers = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${PROJECT}`] } });
    return Object.fromEntries(containers.map((c) => [c.Labels['com.docker.compose.service']!, c]));
  }

  beforeAll(async () => {
    compose = await composeCommand();
    // hub/hub runs `npm run build` first (dist/), and is rebuilt only when what it holds changed.
    await Promise.all(
      ['images/hub/build.sh', 'images/postgres/build.sh', 'images/nats/build.sh', 'images/test-agent/build.sh', 'images/egress-bridge/build.sh'].map(
        buildImage,
      ),
    );

    stateDir = await makeTempDir('hub-compose');
    const ports: number[] = [];
    while (ports.length < 7) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const [hubPort, postgresPort, natsPort, natsMonitorPort, registryMetrics, resolverMetrics, runnerMetrics] = ports;
    const secret = () => randomBytes(24).toString('hex');
    const token = secret();
    envFile = join(stateDir, 'hub.env');
    await writeFile(
      envFile,
      [
        `POSTGRES_PASSWORD=${secret()}`,
        `HUB_API_TOKEN=${token}`,
        `HUB_API_KEY_PEPPER=${secret()}`,
        ...['SESSION_REGISTRY', 'DEPENDENCY_RESOLVER', 'CONTAINER_RUNNER', 'GATEWAY', 'INTEGRATIONS'].map((p) => `HUB_NATS_PASSWORD_${p}=${secret()}`),
        `HUB_PORT=${hubPort}`,
        `HUB_POSTGRES_PORT=${postgresPort}`,
        `HUB_NATS_PORT=${natsPort}`,
        `HUB_NATS_MONITOR_PORT=${natsMonitorPort}`,
        `HUB_REGISTRY_METRICS_PORT=${registryMetrics}`,
        `HUB_RESOLVER_METRICS_PORT=${resolverMetrics}`,
        `HUB_RUNNER_METRICS_PORT=${runnerMetrics}`,
        `HUB_RUNNER_ID=${RUNNER_ID}`,
        `HUB_RUNNER_SLOTS=4`,
        `HUB_DATA_DIR=${join(stateDir, 'data')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    gatewayUrl = `http://127.0.0.1:${hubPort}`;
    api = new HubApi(gatewayUrl, token);

    await up();
    await waitUntilReady();
  }, 240_000);

  afterAll(async () => {
    if (envFile) {
      await composeRun(['down', '-v', '--remove-orphans', '--timeout', '10']).catch((error: Error) => console.error(error.message));
    }
    // A failed test's sessions: their containers (agents and helpers) carry this runner's id.
    const left = await docker.listContainers({ all: true, filters: { label: [`hub.runner=${RUNNER_ID}`] } });
    for (const { Id } of left) await docker.getContainer(Id).remove({ force: true, v: true }).catch(() => undefined);
    if (stateDir && !process.env['HUB_E2E_KEEP']) await rm(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('runs every service from its image on the host network, secrets apart, the runner alone with the Docker socket', async () => {
    const containers = await stackContainers();
    expect(Object.keys(containers).sort()).toEqual([...SERVICES].sort());
    // Each healthcheck passes (the gateway's runs every 10 s).
    const health = async () => {
      const states = await Promise.all(SERVICES.map(async (s) => `${s} ${(await docker.getContainer(containers[s]!.Id).inspect()).State.Health?.Status}`));
      return states.sort();
    };
    await waitUntil('every service is healthy', async () => (await health()).every((state) => state.endsWith(' healthy')), 30_000).catch(
      async (error: Error) => {
        throw new Error(`${error.message}: ${(await health()).join(', ')}`);
      },
    );
    for (const service of SERVICES) {
      const info = await docker.getContainer(containers[service]!.Id).inspect();
      expect([service, info.HostConfig.NetworkMode]).toEqual([service, 'host']);
      const hasSocket = info.Mounts.some((mount) => mount.Source === '/var/run/docker.sock');
      expect([service, hasSocket]).toEqual([service, service === 'container-runner']);
      const variables = (info.Config.Env ?? []).map((entry) => entry.split('=')[0]!);
      expect([service, variables.includes('DATABASE_URL')]).toEqual([service, service === 'session-registry']);
      expect([service, variables.includes('HUB_API_TOKEN')]).toEqual([service, service === 'gateway']);
      expect([service, variables.includes('HUB_API_KEY_PEPPER')]).toEqual([service, service === 'session-registry']);
      expect([service, variables.some((v) => v.startsWith('HUB_NATS_PASSWORD_'))]).toEqual([service, service === 'nats']);
    }
    // Host networking only: compose made no network.
    const networks = await docker.listNetworks();
    expect(networks.filter((n) => n.Name.startsWith(PROJECT) || n.Labels?.['com.docker.compose.project'] === PROJECT)).toEqual([]);
  });

  it('runs an orchestration through it: each session in order, outputs handed downstream', async () => {
    const created = await api.createOrchestration({
      name: 'compose',
      start: true,
      sessions: [
        { name: 'plan', type: 'analysis', prompt: 'echo plan > /hub/output/plan.txt' },
        { name: 'build', type: 'implementation', dependsOn: ['plan'], prompt: '(cat /hub/inputs/plan/plan.txt; echo built) > /hub/output/build.txt' },
        { name: 'review', type: 'review', dependsOn: ['build'], prompt: '(cat /hub/inputs/build/build.txt; echo reviewed) > /hub/output/review.txt' },
      ],
    });
    const done = await api.waitForOrchestration(created.id, 60_000);
    expect([done.status, done.sessions.map((s) => `${s.name} ${s.status}`)]).toEqual([
      'completed',
      ['plan completed', 'build completed', 'review completed'],
    ]);
    const review = done.sessions.find((s) => s.name === 'review')!;
    expect((await api.request('GET', `/api/v1/sessions/${review.id}/output/files/review.txt`)).text).toBe('plan\nbuilt\nreviewed\n');
    for (const session of done.sessions) await expectRemoved(session.id, 10_000);
  }, 90_000);

  it('down while a session runs leaves its container running; up -d adopts it and reports its result', async () => {
    const session = await api.createSession({
      prompt: 'echo long started; sleep 8; echo upgraded > /hub/output/result.txt; echo long done',
      start: true,
    });
    const running = await api.waitForStatus(session.id, ['running'], 30_000);

    await composeRun(['down', '--timeout', '30']);
    expect(Object.keys(await stackContainers())).toEqual([]);
    const left = await containersOf(session.id);
    expect(left.map((c) => [c.Id, c.State])).toEqual([[running.containerId, 'running']]);

    await up();
    await waitUntilReady();
    const ended = await api.waitForStatus(session.id, ['completed'], 60_000);
    expect([ended.status, ended.statusReason, ended.attempt, ended.containerId]).toEqual([
      'completed',
      'exited with code 0',
      1,
      running.containerId,
    ]);
    expect((await api.request('GET', `/api/v1/sessions/${session.id}/output/files/result.txt`)).text).toBe('upgraded\n');
    expect((await api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text).toBe('long started\nlong done\n');
    expect(await composeRun(['logs', '--no-color', 'container-runner'], 30_000)).toContain('adopting container');
    await expectRemoved(session.id, 10_000);
  }, 120_000);
});
