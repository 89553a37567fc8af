import { join } from 'node:path';
import { freePort } from './free-port';
import { HubService, type SupervisionPolicy } from './hub-service';
import type { HubStack } from './hub-stack';

/** Another container-runner for a running stack: its own id, engine, data directory, slots and labels. */
export interface ExtraRunnerOptions {
  /** The stack it joins: its NATS (with the runner's credentials) and every setting of the stack's runner. */
  stack: HubStack;
  /** Its HUB_RUNNER_ID (letters, digits, `_.-`): what labels its containers and keys its heartbeat; names its log. */
  runnerId: string;
  /** Its engine (DOCKER_HOST): `unix:///…/docker.sock` (startDockerEngine's dockerHost), or `tcp://host:port`. */
  dockerHost: string;
  /** Its HUB_DATA_DIR (attempt directories, git mirrors); default `<stack state dir>/runners/<runnerId>`. */
  dataDir?: string;
  /** HUB_RUNNER_SLOTS; default the stack runner's. */
  slots?: number;
  /** HUB_RUNNER_LABELS; default none. */
  labels?: readonly string[];
  /** More environment, over the stack runner's (e.g. DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, LOG_LEVEL). */
  env?: Record<string, string>;
  /** As startHubStack's: restarted when it exits on its own unless `{ restart: false }`. */
  supervision?: Partial<SupervisionPolicy>;
  log?: (line: string) => void;
}

export interface ExtraRunner {
  runnerId: string;
  dockerHost: string;
  dataDir: string;
  /** Its process and supervisor: stop(), kill({ restartAfterMs }), whenRunning(), status. */
  service: HubService;
  /** Its `GET /metrics` (a loopback port of its own). */
  metricsUrl: string;
  logFile: string;
  /** Stops it (no restart follows). Stop extra runners before their stack. */
  stop(): Promise<void>;
}

/**
 * Starts another container-runner process on a stack (startHubStack), as a second host's runner
 * would run: the same build (`dist/apps/container-runner/src/main.js`) and settings as the stack's
 * runner, with its own HUB_RUNNER_ID, DOCKER_HOST, HUB_DATA_DIR, HUB_RUNNER_SLOTS, HUB_RUNNER_LABELS
 * and metrics port, supervised like the stack's services. Resolves once it takes work (its consumers
 * bound, its heartbeat put). Images it needs (HUB_DEFAULT_IMAGE, HUB_GIT_HELPER_IMAGE) must be on its
 * engine: copyImage puts them there.
 */
export async function startExtraRunner(options: ExtraRunnerOptions): Promise<ExtraRunner> {
  const { stack, runnerId } = options;
  const template = stack.services['container-runner'];
  const stateDir = template.env['HUB_STATE_DIR'] ?? join(stack.logDir, '..');
  const dataDir = options.dataDir ?? join(stateDir, 'runners', runnerId);
  const metricsPort = await freePort();
  const logFile = join(stack.logDir, `container-runner-${runnerId}.log`);
  const service = new HubService({
    name: 'container-runner',
    instance: runnerId,
    workspaceRoot: template.workspaceRoot,
    env: {
      ...template.env,
      HUB_RUNNER_ID: runnerId,
      DOCKER_HOST: options.dockerHost,
      HUB_DATA_DIR: dataDir,
      HUB_METRICS_PORT: String(metricsPort),
      HUB_RUNNER_LABELS: (options.labels ?? []).join(','),
      ...(options.slots !== undefined ? { HUB_RUNNER_SLOTS: String(options.slots) } : {}),
      ...options.env,
    },
    logFile,
    supervision: options.supervision,
    log: options.log,
  });
  await service.start();
  return {
    runnerId,
    dockerHost: options.dockerHost,
    dataDir,
    service,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logFile,
    stop: () => service.stop(),
  };
}
