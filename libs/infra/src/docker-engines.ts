import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { dockerEndpoint, type DockerEndpoint } from './docker-engine';
import { closeLogFd, logTail, openLogFile } from './log-file';
import { hasExited, isProcessRunning, killOnExit, stopChildProcess, stopProcessByPid } from './process-tree';

/**
 * Extra Docker engines on this machine, for tests and benchmarks of several runners (each runner has
 * its own engine, as on separate hosts) and for an operator trying several runners on one host.
 *
 * Each is a `dockerd` of its own: its socket, data root, exec root and pidfile under one directory,
 * its own containerd (dockerd starts one under its exec root), no bridge network and no iptables
 * rules (`--bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false`): its
 * containers have loopback only (network none), like Hub's sessions. Being on the same host, it sees
 * the same paths, so a runner's bind mounts (its HUB_DATA_DIR) are valid on it. Needs root, like dockerd.
 */
export interface DockerEngineOptions {
  /**
   * Its directory (made if missing): `docker.sock`, `data/` (data root), `exec/` (exec root, with
   * containerd's socket), `docker.pid`, `dockerd.log`. Keep it short: unix socket paths are limited
   * to 107 bytes (`<dir>/exec/containerd/containerd.sock` must fit).
   */
  dir: string;
  /** How long to wait for the engine to answer `/_ping`; default 60 s. */
  startTimeoutMs?: number;
  /** More dockerd flags (e.g. `--log-level=debug`). */
  args?: string[];
}

export interface ExtraDockerEngine {
  readonly dir: string;
  readonly socketPath: string;
  /** `unix://<dir>/docker.sock`: what a runner's DOCKER_HOST is set to. */
  readonly dockerHost: string;
  /** Where dockerd (and its containerd) log. */
  readonly logFile: string;
  /** dockerd's pid while it runs. */
  readonly pid: number | undefined;
  /** Starts it again on the same directory (its images and stopped containers kept), once stopped or killed. */
  start(): Promise<void>;
  /** A clean stop (SIGTERM: dockerd stops its containers and its containerd), SIGKILL after 30 s. */
  stop(): Promise<void>;
  /**
   * Kills dockerd and its containerd (SIGKILL), as when its host dies under it: the engine stops
   * answering at once. Containers already running are left to their shims, as after a daemon crash;
   * start() brings the engine back to them, remove() ends them.
   */
  kill(): Promise<void>;
  /**
   * Removes everything: the engine (started again if it was killed, so that it removes its own
   * containers), its containers, its processes, and its directory. Safe to call more than once.
   */
  remove(): Promise<void>;
}

const SOCKET_PATH_MAX = 107;
const GRACEFUL = [
  { signal: 'SIGTERM' as const, timeoutMs: 30_000 },
  { signal: 'SIGKILL' as const, timeoutMs: 5_000 },
];

/** Starts an extra Docker engine in `dir` and waits until it answers. */
export async function startDockerEngine(options: DockerEngineOptions): Promise<ExtraDockerEngine> {
  const engine = new LocalDockerEngine(options);
  await engine.start();
  return engine;
}

class LocalDockerEngine implements ExtraDockerEngine {
  readonly dir: string;
  readonly socketPath: string;
  readonly dockerHost: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private removed = false;

  constructor(private readonly options: DockerEngineOptions) {
    this.dir = resolve(options.dir);
    this.socketPath = join(this.dir, 'docker.sock');
    this.dockerHost = `unix://${this.socketPath}`;
    this.logFile = join(this.dir, 'dockerd.log');
    const containerdSocket = join(this.dir, 'exec', 'containerd', 'containerd.sock');
    if (Buffer.byteLength(containerdSocket) > SOCKET_PATH_MAX) {
      throw new Error(`startDockerEngine: ${this.dir} is too long for its sockets (${containerdSocket} is over ${SOCKET_PATH_MAX} bytes); use a shorter dir`);
    }
  }

  get pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.removed) throw new Error(`the Docker engine in ${this.dir} was removed`);
    if (this.pid !== undefined) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // What a killed engine left (its containerd) would hold the exec root: gone first, and the pid files
    // naming dead processes with it (dockerd would wait for a containerd that a recycled pid, or a zombie, seems to be).
    await this.killLeftovers({ shims: false });
    for (const pidFile of [join(this.dir, 'docker.pid'), join(this.dir, 'exec', 'containerd', 'containerd.pid')]) {
      const pid = readPid(pidFile);
      if (pid === undefined || !isProcessRunning(pid)) rmSync(pidFile, { force: true });
    }
    const log = openLogFile(this.logFile);
    try {
      this.child = spawn(
        'dockerd',
        [
          `--host=${this.dockerHost}`,
          `--data-root=${join(this.dir, 'data')}`,
          `--exec-root=${join(this.dir, 'exec')}`,
          `--pidfile=${join(this.dir, 'docker.pid')}`,
          '--bridge=none',
          '--iptables=false',
          '--ip6tables=false',
          '--ip-forward=false',
          '--ip-masq=false',
          '--shutdown-timeout=5',
          ...(this.options.args ?? []),
        ],
        { stdio: ['ignore', log.fd, log.fd] },
      );
    } finally {
      closeLogFd(log);
    }
    const child = this.child;
    killOnExit(child, 'SIGTERM');
    child.on('error', () => undefined);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (!(await ping({ socketPath: this.socketPath }))) {
      if (hasExited(child)) {
        throw new Error(`dockerd in ${this.dir} exited (code ${child.exitCode ?? child.signalCode}) while starting:\n${logTail(this.logFile, log.startOffset)}`);
      }
      if (Date.now() > deadline) {
        await stopChildProcess(child, GRACEFUL, 'dockerd');
        throw new Error(`dockerd in ${this.dir} did not answer /_ping in time:\n${logTail(this.logFile, log.startOffset)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child && !hasExited(this.child)) await stopChildProcess(this.child, GRACEFUL, `dockerd in ${this.dir}`);
    await this.killLeftovers({ shims: false });
  }

  async kill(): Promise<void> {
    if (this.child && !hasExited(this.child)) await stopChildProcess(this.child, [{ signal: 'SIGKILL', timeoutMs: 5_000 }], `dockerd in ${this.dir}`);
    await this.killLeftovers({ shims: false });
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    // A killed engine is started again to remove its own containers (their processes belong to it).
    if (this.pid === undefined) await this.start().catch(() => undefined);
    if (this.pid !== undefined) {
      const containers = await engineRequest<{ Id: string }[]>({ socketPath: this.socketPath }, 'GET', '/containers/json?all=1').catch(() => []);
      await Promise.all(containers.map((c) => engineRequest({ socketPath: this.socketPath }, 'DELETE', `/containers/${c.Id}?force=1&v=1`).catch(() => undefined)));
    }
    await this.stop();
    await this.killLeftovers({ shims: true });
    this.removed = true;
    await unmountUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Kills the processes this engine's directory names on their command line or as their working
   * directory (its containerd, and with `shims` the shims of its containers): only ever its own.
   */
  private async killLeftovers(options: { shims: boolean }): Promise<void> {
    for (const pid of processesNaming(this.dir)) {
      if (pid === this.child?.pid && !hasExited(this.child)) continue;
      const command = readCommandLine(pid);
      const isShim = command.some((part) => part.includes('containerd-shim'));
      if (isShim && !options.shims) continue;
      await stopProcessByPid(pid, [{ signal: 'SIGKILL', timeoutMs: 5_000 }], command[0] ?? 'process').catch(() => undefined);
    }
  }
}

/**
 * Copies an image from one engine to another (`docker save | docker load`, through their APIs),
 * keeping its tags; resolves once the target has loaded it. Each host is a DOCKER_HOST
 * (unix:///… or tcp://host:port without TLS; undefined: this process's DOCKER_HOST, else /var/run/docker.sock).
 */
export async function copyImage(image: string, fromDockerHost: string | undefined, toDockerHost: string | undefined): Promise<void> {
  const from = dockerEndpoint(fromDockerHost);
  const to = dockerEndpoint(toDockerHost);
  const tar = await new Promise<import('node:http').IncomingMessage>((resolveTar, reject) => {
    const req = request({ ...from, method: 'GET', path: `/images/${encodeURIComponent(image)}/get` }, (res) => {
      if (res.statusCode === 200) return resolveTar(res);
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => reject(new Error(`copyImage: ${image} could not be saved from ${describe(fromDockerHost)}: HTTP ${res.statusCode} ${body.trim()}`)));
    });
    req.on('error', reject);
    req.end();
  });
  const answer = await new Promise<string>((resolveLoad, reject) => {
    const req = request({ ...to, method: 'POST', path: '/images/load?quiet=1', headers: { 'content-type': 'application/x-tar' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolveLoad(body) : reject(new Error(`HTTP ${res.statusCode} ${body.trim()}`))));
    });
    req.on('error', reject);
    tar.on('error', (error) => req.destroy(error));
    tar.pipe(req);
  }).catch((error: Error) => {
    throw new Error(`copyImage: ${image} could not be loaded into ${describe(toDockerHost)}: ${error.message}`);
  });
  // The load answers 200 and says what failed in its body.
  const failed = answer.split('\n').filter(Boolean).map((line) => safeJson(line)).find((line) => line?.error);
  if (failed) throw new Error(`copyImage: ${image} could not be loaded into ${describe(toDockerHost)}: ${failed.error}`);
}

/** Tags `image` as `target` (`repo:tag`) on one engine. */
export async function tagImage(dockerHost: string | undefined, image: string, target: string): Promise<void> {
  const colon = target.lastIndexOf(':');
  const [repo, tag] = colon > target.lastIndexOf('/') ? [target.slice(0, colon), target.slice(colon + 1)] : [target, 'latest'];
  await engineRequest(dockerEndpoint(dockerHost), 'POST', `/images/${encodeURIComponent(image)}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
}

/** A request (with a JSON `body`, if any) to an engine's API; the parsed JSON answer (undefined when empty); an error past HTTP 299. */
export function engineRequest<T = unknown>(endpoint: DockerEndpoint, method: string, path: string, body?: unknown): Promise<T> {
  return new Promise((resolveAnswer, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const req = request({ ...endpoint, method, path, headers, timeout: 30_000 }, (res) => {
      let answer = '';
      res.on('data', (chunk) => (answer += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${answer.trim().slice(0, 300)}`));
        resolveAnswer((answer ? JSON.parse(answer) : undefined) as T);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function ping(endpoint: DockerEndpoint): Promise<boolean> {
  return new Promise((resolvePing) => {
    const req = request({ ...endpoint, method: 'GET', path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolvePing(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePing(false));
    req.end();
  });
}

const describe = (dockerHost: string | undefined) => dockerHost ?? process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';

function safeJson(line: string): { error?: string } | undefined {
  try {
    return JSON.parse(line) as { error?: string };
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readCommandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The processes whose command line or working directory lies in `dir`. */
function processesNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone, or not ours to read
    }
    if (cwd === dir || cwd.startsWith(`${dir}/`) || readCommandLine(pid).some((part) => part.includes(`${dir}/`))) pids.push(pid);
  }
  return pids;
}

/** Unmounts what is still mounted under `dir` (an engine killed leaves its overlay and netns mounts), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  let mounts: string[];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' ') ?? '')
      .filter((point) => point === dir || point.startsWith(`${dir}/`));
  } catch {
    return;
  }
  for (const point of mounts.sort((a, b) => b.length - a.length)) {
    await new Promise<void>((done) => spawn('umount', ['-l', point], { stdio: 'ignore' }).on('exit', () => done()).on('error', () => done()));
  }
}
