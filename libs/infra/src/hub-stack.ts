import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { HUB_SERVICES, HubService, type HubServiceName, type ServiceStatus, type SupervisionPolicy } from './hub-service';
import { BUS_PRINCIPALS, type BusPrincipal } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, NATS_OBSERVER, natsCredentialsOf, natsPasswordVariable, type NatsCredentials } from './nats-auth';
import { startNatsServer, type NatsServer } from './nats-server';
import { startNatsCluster, type NatsCluster } from './nats-cluster';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster';
import { freePort } from './free-port';
import { LogRotation, logRotationFromEnv } from './log-rotation';
import { resolveServiceUser } from './service-user';
import { buildServices } from './service-build';
import { buildDashboard } from './dashboard-build';

export interface HubStackOptions {
  workspaceRoot: string;
  /** Where PostgreSQL data, the JetStream store, logs and session outputs live. */
  stateDir: string;
  /** Use this PostgreSQL instead of starting one. */
  databaseUrl?: string;
  /** Use this NATS instead of starting one. */
  natsUrl?: string;
  /**
   * Start a JetStream cluster of this many nats-server processes (3 or 5) instead of one: every service
   * gets all of them in NATS_URL, and HUB_NATS_REPLICAS is the cluster's size (unless `env` says otherwise).
   */
  natsCluster?: number;
  /** Gateway port; a free one when omitted. */
  gatewayPort?: number;
  /** The API token; when omitted the gateway reads or generates <stateDir>/api-token. */
  apiToken?: string;
  /** false for tests: PostgreSQL without fsync. */
  durable?: boolean;
  /** Extra environment for every service (e.g. HUB_RUNNER_SLOTS). */
  env?: Record<string, string>;
  /**
   * Restarting a service that exits on its own (crash, kill -9): on by default, with backoff
   * 0.5 s doubling to 30 s (see SupervisionPolicy); `{ restart: false }` turns it off.
   */
  supervision?: Partial<SupervisionPolicy>;
  /** Where the supervisor says what it restarts and why (each line also goes to the service's log). */
  log?: (line: string) => void;
  /** A NATS user that may do anything (hub-observer), for tests that watch the whole bus. Off by default. */
  natsObserver?: boolean;
}

export interface HubStack {
  /** The build the services run (buildServices' id). */
  buildId: string;
  gatewayUrl: string;
  apiToken: string;
  databaseUrl: string;
  natsUrl: string;
  /**
   * How a client connects to this stack's NATS as one principal (a service, `integrations`, or
   * hub-observer when natsObserver was asked); undefined for a NATS the stack did not start and
   * whose password for it the operator did not give.
   */
  natsCredentials(principal: BusPrincipal | typeof NATS_OBSERVER): NatsCredentials | undefined;
  postgres?: PostgresCluster;
  /** The one nats-server the stack started (none with natsCluster or natsUrl). */
  nats?: NatsServer;
  /** The NATS cluster the stack started (natsCluster): its nodes, to stop, kill or start one. */
  natsCluster?: NatsCluster;
  /** Each service's process and its supervisor (kill(), whenRunning(), status, 'status' events). */
  services: Record<HubServiceName, HubService>;
  /** Where each service answers `GET /metrics`: the gateway on its own port, the others on a loopback port each (HUB_METRICS_PORT). */
  metricsUrls: Record<HubServiceName, string>;
  logDir: string;
  /** What the supervisor knows of each service: state, pid, restarts, last exit. */
  statuses(): Record<HubServiceName, ServiceStatus>;
  /** Stops the services (no restart follows), then NATS and PostgreSQL if this stack started them. */
  stop(): Promise<void>;
}

/**
 * Builds the services (incrementally), starts PostgreSQL and NATS (unless given) and the four
 * services, each as its own process of their compiled code, the way `npm run hub` runs them and
 * the end-to-end tests drive them. A service that exits on its
 * own is restarted by its HubService (supervision), until stop().
 */
export async function startHubStack(options: HubStackOptions): Promise<HubStack> {
  if (options.natsCluster !== undefined && (options.natsUrl || ![3, 5].includes(options.natsCluster))) {
    throw new Error(`natsCluster is 3 or 5 nodes, without natsUrl (given ${options.natsCluster}${options.natsUrl ? ' and natsUrl' : ''})`);
  }
  // What is on disk is what runs: compiles what changed since the last build (nothing, usually).
  const build = buildServices(options.workspaceRoot, HUB_SERVICES);
  if (build.compiled || build.removed) {
    options.log?.(`built the services (build ${build.buildId}: ${build.compiled} of ${build.sources} files compiled in ${build.ms} ms)`);
  }
  if ((await buildDashboard(options.workspaceRoot)).rebuilt) options.log?.('built the dashboard (dist/dashboard)');
  const stateDir = resolve(options.stateDir);
  await protectStateDir(stateDir);
  const logDir = join(stateDir, 'logs');
  // HUB_LOG_MAX_MB, HUB_LOG_FILES: a bad value stops the stack before anything starts.
  const logRotationPolicy = logRotationFromEnv();
  const postgres = options.databaseUrl
    ? undefined
    : await startPostgresCluster({ dataDir: join(stateDir, 'postgres'), fsync: options.durable ?? true });
  const principals = [...BUS_PRINCIPALS, ...(options.natsObserver ? [NATS_OBSERVER] : [])];
  // A NATS the stack starts: every principal has a password (generated or the operator's). One it
  // does not: the operator's HUB_NATS_PASSWORD_<SERVICE>, if any.
  const natsPasswords = options.natsUrl
    ? Object.fromEntries(principals.flatMap((p) => (process.env[natsPasswordVariable(p)] ? [[p, process.env[natsPasswordVariable(p)]!]] : [])))
    : await loadNatsPasswords(stateDir, principals);
  const natsUsers = hubNatsUsers(natsPasswords, { observer: options.natsObserver });
  const natsCluster = options.natsCluster
    ? await startNatsCluster({ nodes: options.natsCluster, storeDir: join(stateDir, 'nats-cluster'), users: natsUsers })
    : undefined;
  const nats = options.natsUrl || natsCluster ? undefined : await startNatsServer({ storeDir: join(stateDir, 'nats'), users: natsUsers });
  const natsCredentials = (principal: BusPrincipal | typeof NATS_OBSERVER) =>
    natsPasswords[principal] ? natsCredentialsOf(principal, natsPasswords) : undefined;
  const databaseUrl = options.databaseUrl ?? postgres!.url;
  const natsUrl = options.natsUrl ?? natsCluster?.url ?? nats!.url;
  const gatewayPort = options.gatewayPort ?? (await freePort());
  const metricsPorts = await metricsPortsOf(HUB_SERVICES, gatewayPort);

  const env: Record<string, string> = {
    NATS_URL: natsUrl,
    DATABASE_URL: databaseUrl,
    HUB_PORT: String(gatewayPort),
    ...(options.apiToken ? { HUB_API_TOKEN: options.apiToken } : {}),
    HUB_STATE_DIR: stateDir,
    HUB_DATA_DIR: join(stateDir, 'data'),
    // One runner id per stack, the same across its restarts: a runner adopts the containers labelled
    // with its id and removes those it does not hold, so two stacks on one engine must not share one.
    HUB_RUNNER_ID: stackRunnerId(stateDir),
    ...(natsCluster ? { HUB_NATS_REPLICAS: String(natsCluster.nodes.length) } : {}),
    ...options.env,
  };
  const services = Object.fromEntries(
    HUB_SERVICES.map((name) => [
      name,
      new HubService({
        name,
        workspaceRoot: options.workspaceRoot,
        env: { ...env, ...natsEnvironment(natsCredentials(name)), HUB_METRICS_PORT: String(metricsPorts[name]) },
        logFile: join(logDir, `${name}.log`),
        supervision: options.supervision,
        log: options.log,
      }),
    ]),
  ) as Record<HubServiceName, HubService>;
  // Each log the stack writes (the services', its own, NATS's and PostgreSQL's) is rotated past HUB_LOG_MAX_MB.
  const logFiles = [...Object.values(services).map((service) => service.logFile), join(logDir, 'stack.log')];
  for (const server of [nats, ...(natsCluster?.nodes ?? []), postgres]) if (server) logFiles.push(server.logFile);
  const logRotation = new LogRotation(logFiles, logRotationPolicy, {
    onRotated: (path) => options.log?.(`rotated ${path} (past ${logRotationPolicy.maxBytes / 1024 / 1024} MB)`),
    onError: (path, error) => options.log?.(`cannot rotate ${path}: ${error.message}`),
  }).start();

  const stopInfrastructure = async () => {
    await nats?.stop();
    await natsCluster?.stop();
    await postgres?.stop();
  };
  const stopServices = () => Promise.allSettled(Object.values(services).map((service) => service.stop()));
  try {
    await Promise.all(Object.values(services).map((service) => service.start()));
  } catch (error) {
    logRotation.stop();
    await stopServices();
    await stopInfrastructure();
    throw error;
  }

  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const stack: HubStack = {
    buildId: build.buildId,
    gatewayUrl,
    apiToken: options.apiToken ?? (await fs.readFile(join(stateDir, 'api-token'), 'utf8')).trim(),
    databaseUrl,
    natsUrl,
    natsCredentials,
    postgres,
    nats,
    natsCluster,
    services,
    metricsUrls: Object.fromEntries(
      HUB_SERVICES.map((name) => [name, metricsPorts[name] ? `http://127.0.0.1:${metricsPorts[name]}/metrics` : `${gatewayUrl}/metrics`]),
    ) as Record<HubServiceName, string>,
    logDir,
    statuses: () =>
      Object.fromEntries(HUB_SERVICES.map((name) => [name, services[name].status])) as Record<HubServiceName, ServiceStatus>,
    async stop() {
      logRotation.stop();
      await stopServices();
      // The servers the stack holds now: a test that restarted PostgreSQL or NATS put the new one here.
      await stack.nats?.stop();
      await stack.natsCluster?.stop();
      await stack.postgres?.stop();
    },
  };
  return stack;
}

/**
 * The state directory holds passwords, the API token, logs and outputs: only its owner enters it
 * (0700). Run as root, PostgreSQL runs as its own unprivileged user, which must pass through it to
 * its data directory: then that user's group may pass (0710), and still not list it.
 */
async function protectStateDir(stateDir: string): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const postgresUser = await resolveServiceUser();
  if (postgresUser) {
    await fs.chown(stateDir, process.getuid?.() ?? 0, postgresUser.gid);
    await fs.chmod(stateDir, 0o710);
  } else {
    await fs.chmod(stateDir, 0o700);
  }
}

/**
 * A free loopback port for each service's metrics listener (it binds 127.0.0.1 by default), none the
 * same as another's or the gateway's; 0 for the gateway, which serves /metrics on its HTTP port. A
 * service keeps its port across restarts.
 */
async function metricsPortsOf(names: readonly HubServiceName[], gatewayPort: number): Promise<Record<HubServiceName, number>> {
  const taken = new Set([gatewayPort]);
  const ports = {} as Record<HubServiceName, number>;
  for (const name of names) {
    if (name === 'gateway') {
      ports[name] = 0;
      continue;
    }
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

/** NATS_USER and NATS_PASSWORD of a service (none for a NATS without users). */
function natsEnvironment(credentials: NatsCredentials | undefined): Record<string, string> {
  return credentials ? { NATS_USER: credentials.user, NATS_PASSWORD: credentials.pass } : {};
}

/** The runner id of the stack kept in `stateDir`: the same across its restarts, different for another state dir. */
export function stackRunnerId(stateDir: string): string {
  return `runner-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`;
}
