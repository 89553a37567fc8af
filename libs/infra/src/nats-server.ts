import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { freePort } from './free-port';
import { renderNatsAuthorization, type NatsUser } from './nats-auth';
import { closeLogFd, logTail, openLogFile, readLogSince, type LogFile } from './log-file';
import {
  hasExited,
  isProcessAlive,
  killOnExit,
  processCommandLine,
  stopChildProcess,
  stopProcessByPid,
  type ShutdownStep,
} from './process-tree';

export interface NatsServerOptions {
  /** JetStream storage directory (created if missing); reusing it keeps streams and messages. */
  storeDir: string;
  /** Client port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** How long to wait for the server to be ready. Default 30 s. */
  startTimeoutMs?: number;
  /**
   * The only users that may connect, each with its permissions (written to the server's config,
   * 0600, in storeDir). Without it the server accepts anonymous connections: tests of one library only.
   */
  users?: NatsUser[];
  /** This server as one node of a cluster (startNatsCluster); alone when omitted. */
  cluster?: NatsClusterMembership;
}

/** What a node of a cluster is told of it (written to its config, with the routes' password). */
export interface NatsClusterMembership {
  /** The cluster's name, the same on every node. */
  name: string;
  /** This node's name (server_name): unique in the cluster, and the same across its restarts (JetStream knows its peers by it). */
  serverName: string;
  /** Where this node listens for the other nodes' routes, on 127.0.0.1. */
  port: number;
  /** The other nodes' route ports on 127.0.0.1. */
  routes: number[];
  /** What a route must present to be let in (every node's are the same): no local process joins the cluster without it. */
  routeUser: string;
  routePassword: string;
}

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Its server_name: given for a cluster's node, nats-server's generated id otherwise (undefined here). */
  serverName?: string;
  storeDir: string;
  /** The server log (appended to across runs). */
  logFile: string;
  /** The server's pid while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Graceful shutdown (SIGTERM, then SIGKILL after 15 s), waiting for exit. Safe to call twice. */
  stop(): Promise<void>;
  /** Crash it: SIGKILL, waiting for exit (for fault tests). */
  kill(): Promise<void>;
  /** Starts it again on the same port and store directory (after stop() or kill()). */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
}

const GRACEFUL: ShutdownStep[] = [
  { signal: 'SIGTERM', timeoutMs: 15_000 },
  { signal: 'SIGKILL', timeoutMs: 5_000 },
];
const READY_MARK = 'Server is ready';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts `nats-server -js` on 127.0.0.1 with its JetStream store in `storeDir`, and waits until it
 * says it is ready and accepts TCP connections. A nats-server left running on the same store
 * directory by an earlier run that crashed is stopped first.
 */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  const storeDir = resolve(options.storeDir);
  await fs.mkdir(storeDir, { recursive: true, mode: 0o700 });
  await fs.chmod(storeDir, 0o700);
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const server = new LocalNatsServer(findNatsServerBinary(), storeDir, port, options.startTimeoutMs ?? 30_000, options.users, options.cluster);
    try {
      await server.start();
      return server;
    } catch (err) {
      if (attempt >= attempts || !(err instanceof PortInUseError)) throw err;
    }
  }
}

/** A port it was told to listen on (clients' or routes') is taken. */
export class PortInUseError extends Error {}

class LocalNatsServer implements NatsServer {
  readonly url: string;
  readonly logFile: string;
  readonly serverName: string | undefined;
  private child: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly binary: string,
    readonly storeDir: string,
    readonly port: number,
    private readonly startTimeoutMs: number,
    private readonly users: NatsUser[] | undefined,
    private readonly cluster: NatsClusterMembership | undefined,
  ) {
    this.serverName = cluster?.serverName;
    this.url = `nats://127.0.0.1:${port}`;
    this.logFile = join(storeDir, 'nats-server.log');
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && !hasExited(this.child);
  }

  start(): Promise<void> {
    if (this.running) return this.starting ?? Promise.resolve();
    this.starting = this.launch();
    return this.starting;
  }

  stop(): Promise<void> {
    return this.halt(GRACEFUL);
  }

  kill(): Promise<void> {
    return this.halt([{ signal: 'SIGKILL', timeoutMs: 5_000 }]);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private halt(steps: ShutdownStep[]): Promise<void> {
    const child = this.child;
    if (!child || hasExited(child)) return this.stopping ?? Promise.resolve();
    this.stopping = stopChildProcess(child, steps, 'nats-server');
    return this.stopping;
  }

  private pidFile(): string {
    return join(this.storeDir, 'nats-server.pid');
  }

  private async launch(): Promise<void> {
    await stopOrphan(this.pidFile(), this.storeDir);
    const log = openLogFile(this.logFile);
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir, '-P', this.pidFile()];
    if (this.users || this.cluster) args.push('-c', await this.writeConfig());
    let child: ChildProcess;
    try {
      child = spawn(this.binary, args, { cwd: this.storeDir, stdio: ['ignore', log.fd, log.fd] });
    } finally {
      closeLogFd(log);
    }
    this.child = child;
    this.stopping = undefined;
    killOnExit(child, 'SIGTERM');
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError ??= err));
    try {
      await this.waitUntilReady(child, log, () => spawnError);
    } catch (err) {
      if (!hasExited(child)) await stopChildProcess(child, [{ signal: 'SIGKILL', timeoutMs: 5_000 }]).catch(() => undefined);
      throw err;
    }
    child.unref();
  }

  /** The server's config: its users and their permissions, its cluster and routes (passwords in it: 0600). */
  private async writeConfig(): Promise<string> {
    const file = join(this.storeDir, 'nats-server.conf');
    const parts = [this.cluster ? renderClusterMembership(this.cluster) : '', this.users ? renderNatsAuthorization(this.users) : ''];
    await fs.writeFile(file, parts.filter(Boolean).join('\n'), { mode: 0o600 });
    await fs.chmod(file, 0o600);
    return file;
  }

  private async waitUntilReady(child: ChildProcess, log: LogFile, spawnError: () => Error | undefined): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const failedSpawn = spawnError();
      if (failedSpawn) throw new Error(`cannot start ${this.binary}: ${failedSpawn.message}`);
      const text = readLogSince(log.path, log.startOffset);
      if (hasExited(child)) {
        const message =
          `nats-server exited during startup (${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode}) ` +
          `on port ${this.port}; log ${log.path}:\n${logTail(log.path, log.startOffset)}`;
        if (/address already in use/i.test(text)) throw new PortInUseError(message);
        throw new Error(message);
      }
      if (text.includes(READY_MARK) && (await canConnect(this.port))) return;
      if (Date.now() > deadline) {
        throw new Error(
          `nats-server on port ${this.port} was not ready within ${this.startTimeoutMs} ms; ` +
            `log ${log.path}:\n${logTail(log.path, log.startOffset)}`,
        );
      }
      await sleep(50);
    }
  }
}

/**
 * A node's `server_name` and `cluster` block: routes on 127.0.0.1 to every other node, each
 * presenting the routes' user and password, which a route connecting to this node must present too.
 */
export function renderClusterMembership(cluster: NatsClusterMembership): string {
  const credentials = `${encodeURIComponent(cluster.routeUser)}:${encodeURIComponent(cluster.routePassword)}`;
  const routes = cluster.routes.map((port) => JSON.stringify(`nats-route://${credentials}@127.0.0.1:${port}`));
  return [
    `server_name: ${JSON.stringify(cluster.serverName)}`,
    'cluster {',
    `  name: ${JSON.stringify(cluster.name)}`,
    `  listen: "127.0.0.1:${cluster.port}"`,
    `  authorization { user: ${JSON.stringify(cluster.routeUser)}, password: ${JSON.stringify(cluster.routePassword)} }`,
    `  routes: [${routes.join(', ')}]`,
    '}',
    '',
  ].join('\n');
}

/** nats-server from $NATS_SERVER_BIN, PATH, /usr/sbin or /usr/local/bin. */
export function findNatsServerBinary(): string {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) return fromEnv;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error('nats-server not found (PATH, /usr/sbin, /usr/local/bin). Run `bash scripts/ensure-deps.sh`.');
}

/** Resolves true if something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Stops a nats-server that a stack process which died left serving this store directory (`npm run hub:down`). */
export async function stopOrphanedNatsServer(storeDir: string): Promise<void> {
  await stopOrphan(join(resolve(storeDir), 'nats-server.pid'), resolve(storeDir));
}

/** Stops a nats-server an earlier, crashed run left serving this store directory. */
async function stopOrphan(pidFile: string, storeDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt((await fs.readFile(pidFile, 'utf8')).trim(), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
    const cmdline = processCommandLine(pid);
    if (cmdline && /nats-server/.test(cmdline[0] ?? '') && cmdline.includes(storeDir)) {
      await stopProcessByPid(pid, GRACEFUL, `orphaned nats-server for ${storeDir}`);
    }
  }
  await fs.rm(pidFile, { force: true });
}
