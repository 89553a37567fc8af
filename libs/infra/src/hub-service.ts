import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { isReadySignal, SUPERVISOR_ENV } from '@hub/config';
import { closeLogFd, logTail, openLogFile } from './log-file';
import { serviceEntryPoint } from './service-build';
import { hasExited, killOnExit, stopChildProcess, type ShutdownStep } from './process-tree';

/** The four Hub services, each an app under apps/. */
export const HUB_SERVICES = ['session-registry', 'dependency-resolver', 'container-runner', 'gateway'] as const;
export type HubServiceName = (typeof HUB_SERVICES)[number];

/**
 * How a service that exits on its own (a crash, `kill -9`, an uncaught exception) is started
 * again, like compose's `restart: unless-stopped`: stop() and kill-on-exit never restart it.
 */
export interface SupervisionPolicy {
  /** Restart a service that exits without stop(). */
  restart: boolean;
  /** Delay before the first restart in a row; it doubles with each further one. */
  initialBackoffMs: number;
  /** The longest delay between two restarts. */
  maxBackoffMs: number;
  /** A service that ran this long after it was ready starts again from initialBackoffMs. */
  resetAfterMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionPolicy = {
  restart: true,
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
};

/** How a service's process ended. */
export interface ServiceExit {
  pid: number | undefined;
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ISO time. */
  at: string;
}

export type ServiceState = 'stopped' | 'starting' | 'running' | 'restarting';

/** What the supervisor knows of one service (also written to .hub/stack.json by `npm run hub`). */
export interface ServiceStatus {
  name: HubServiceName;
  state: ServiceState;
  pid: number | undefined;
  /** Restarts the supervisor made since the service was first started. */
  restarts: number;
  lastExit: ServiceExit | undefined;
  /** When the next restart is due (state restarting), ISO time. */
  nextRestartAt: string | undefined;
}

export interface HubServiceOptions {
  name: HubServiceName;
  /**
   * Which one of several processes of the same service this is (an extra runner's HUB_RUNNER_ID):
   * named with the service in what the supervisor says. None for the stack's own four.
   */
  instance?: string;
  /** The repository root (where apps/, dist/ and node_modules are). */
  workspaceRoot: string;
  /**
   * How node runs the service (its arguments, from workspaceRoot): by default its compiled entry
   * point, dist/apps/<name>/src/main.js (buildServices, which startHubStack runs first).
   */
  nodeArgs?: string[];
  env: Record<string, string>;
  logFile: string;
  startTimeoutMs?: number;
  /** Restarting a service that exits on its own; on unless `restart: false`. */
  supervision?: Partial<SupervisionPolicy>;
  /** Where the supervisor says what it does (also appended to the service's log file). */
  log?: (line: string) => void;
}

/**
 * How node runs a service: stack traces name the TypeScript sources (the build's source maps), and
 * a young generation of 1 MB instead of V8's 16 MB, which took 30 MB of resident memory from each
 * idle service and costs little at Hub's message rates (docs/performance.md has the figures).
 */
export const SERVICE_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=1'];

const GRACEFUL: ShutdownStep[] = [
  { signal: 'SIGTERM', timeoutMs: 20_000 },
  { signal: 'SIGKILL', timeoutMs: 5_000 },
];
const CRASH: ShutdownStep[] = [{ signal: 'SIGKILL', timeoutMs: 5_000 }];

/**
 * One Hub service run as a child process of plain `node`, from its compiled JavaScript (see
 * buildServices). stdout and stderr (pino JSON) go to its log file. It is
 * started with an IPC channel, on which it says when it takes work (@hub/config's signalReady,
 * sent by runService and the gateway's main); nothing is read from its log to know it.
 *
 * Once started, it is supervised: a process that exits without stop() is started again after a
 * backoff (0.5 s doubling to 30 s, back to 0.5 s after a minute of healthy running), with its
 * restart count and last exit in its environment (@hub/config's SUPERVISOR_ENV) so it can report them in its
 * health. Emits 'status' (ServiceStatus) on every change.
 */
export class HubService extends EventEmitter {
  private child: ChildProcess | undefined;
  private readonly policy: SupervisionPolicy;
  private state: ServiceState = 'stopped';
  /** Between the first successful start() and stop(): exits are restarted. */
  private supervised = false;
  private restarts = 0;
  private restartsInRow = 0;
  private lastExit: ServiceExit | undefined;
  private readyAt: number | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextRestartAt: number | undefined;
  /** kill({ restartAfterMs }): no restart before this moment. */
  private holdUntil = 0;
  private launching: Promise<void> | undefined;

  constructor(private readonly options: HubServiceOptions) {
    super();
    this.policy = { ...DEFAULT_SUPERVISION, ...options.supervision };
  }

  get name(): HubServiceName {
    return this.options.name;
  }

  /** The service, and its instance when it is one of several (`container-runner runner-b`): what the supervisor's messages name. */
  get label(): string {
    return this.options.instance ? `${this.options.name} ${this.options.instance}` : this.options.name;
  }

  /** The environment it is started with (beside the stack's own process environment): what a second instance copies. */
  get env(): Readonly<Record<string, string>> {
    return this.options.env;
  }

  get workspaceRoot(): string {
    return this.options.workspaceRoot;
  }

  get pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  get status(): ServiceStatus {
    return {
      name: this.name,
      state: this.state,
      pid: this.pid,
      restarts: this.restarts,
      lastExit: this.lastExit,
      nextRestartAt: this.nextRestartAt === undefined ? undefined : new Date(this.nextRestartAt).toISOString(),
    };
  }

  /**
   * Starts the service and waits until it signals that it is taking work; from then on it is
   * supervised. Throws if it does not come up (then it is not supervised). While the supervisor is
   * restarting it, starts it at once (or waits for the start under way).
   */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.launching) return this.launching;
    this.cancelRestart();
    const first = !this.supervised;
    this.launching = this.launch();
    try {
      await this.launching;
      this.supervised = true;
    } catch (error) {
      if (first) this.setState('stopped');
      throw error;
    } finally {
      this.launching = undefined;
    }
  }

  /** SIGTERM (graceful: in-flight work finishes), SIGKILL after 20 s. Never followed by a restart. */
  async stop(): Promise<void> {
    this.supervised = false;
    this.cancelRestart();
    if (this.child && !hasExited(this.child)) await stopChildProcess(this.child, GRACEFUL, this.label);
    await this.launching?.catch(() => undefined);
    this.setState('stopped');
  }

  /**
   * Crashes it (SIGKILL), for fault tests; the supervisor restarts it like any other crash, not
   * before `restartAfterMs` (an outage of that length). Wait for it with whenRunning().
   */
  async kill(options: { restartAfterMs?: number } = {}): Promise<void> {
    this.holdUntil = Date.now() + (options.restartAfterMs ?? 0);
    if (this.child && !hasExited(this.child)) await stopChildProcess(this.child, CRASH, this.label);
  }

  /**
   * Resolves with the pid once the service is running (at once if it is), a pid other than `notPid`
   * when given (a process killed from outside may not have been seen to exit yet). Rejects after
   * `timeoutMs`, or if the service is stopped and not supervised.
   */
  whenRunning(options: { timeoutMs?: number; notPid?: number } = {}): Promise<number> {
    const { timeoutMs = 60_000, notPid } = options;
    const isBack = () => this.state === 'running' && this.pid !== undefined && this.pid !== notPid;
    if (isBack()) return Promise.resolve(this.pid!);
    if (this.state === 'stopped' && !this.supervised) return Promise.reject(new Error(`${this.label} is stopped`));
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.off('status', onStatus);
        if (error) reject(error);
        else resolve(this.pid!);
      };
      const onStatus = () => {
        if (isBack()) done();
        else if (this.state === 'stopped' && !this.supervised) done(new Error(`${this.label} was stopped`));
      };
      const timer = setTimeout(
        () => done(new Error(`${this.label} is not running after ${timeoutMs} ms (${this.state}); see ${this.logFile}`)),
        timeoutMs,
      );
      this.on('status', onStatus);
    });
  }

  /** A restart waiting out its backoff happens now, and the backoff starts over (`npm run hub` asks this). */
  retryNow(): void {
    if (this.restartTimer === undefined) return;
    this.note('info', `supervisor: restarting ${this.label} now, as asked (its backoff starts over)`);
    this.restartsInRow = 0;
    this.holdUntil = 0;
    this.cancelRestart();
    void this.restart();
  }

  /** Lets the service outlive this process (the launcher of `npm run hub` exits, the stack stays). */
  detach(): void {
    this.child?.unref();
  }

  private async launch(): Promise<void> {
    const { name, workspaceRoot, env, logFile } = this.options;
    this.setState('starting');
    const childEnv = serviceEnvironment(name, { ...process.env, ...env });
    for (const key of Object.values(SUPERVISOR_ENV)) delete childEnv[key];
    if (this.policy.restart) {
      childEnv[SUPERVISOR_ENV.restarts] = String(this.restarts);
      childEnv[SUPERVISOR_ENV.logFile] = logFile;
      if (this.lastExit) childEnv[SUPERVISOR_ENV.lastExit] = JSON.stringify(this.lastExit);
    }
    const log = openLogFile(logFile);
    let child: ChildProcess;
    try {
      const args = this.options.nodeArgs ?? [...SERVICE_NODE_FLAGS, serviceEntryPoint(workspaceRoot, name)];
      child = spawn(process.execPath, args, {
        cwd: workspaceRoot,
        env: childEnv,
        stdio: ['ignore', log.fd, log.fd, 'ipc'],
      });
    } finally {
      closeLogFd(log);
    }
    this.child = child;
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (error) => this.note('error', `supervisor: ${name}: ${error.message}`));
    killOnExit(child, 'SIGTERM');
    await this.waitUntilReady(child, log.startOffset);
    this.readyAt = Date.now();
    this.setState('running');
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.lastExit = { pid: child.pid, code, signal, at: new Date().toISOString() };
    if (!this.supervised || !this.policy.restart) {
      this.setState('stopped');
      return;
    }
    this.scheduleRestart(`${this.label} (pid ${child.pid}) exited unexpectedly (${describeExit(this.lastExit)})`);
  }

  private scheduleRestart(why: string): void {
    const ranMs = this.readyAt === undefined ? 0 : Date.now() - this.readyAt;
    this.readyAt = undefined;
    if (ranMs >= this.policy.resetAfterMs) this.restartsInRow = 0;
    const backoff = Math.min(this.policy.initialBackoffMs * 2 ** this.restartsInRow, this.policy.maxBackoffMs);
    const delay = Math.max(backoff, this.holdUntil - Date.now());
    this.restartsInRow++;
    this.cancelRestart();
    this.nextRestartAt = Date.now() + delay;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delay);
    this.note('warn', `supervisor: ${why}; restarting it in ${(delay / 1000).toFixed(1)} s (restart ${this.restarts + 1})`);
    this.setState('restarting');
  }

  private async restart(): Promise<void> {
    if (!this.supervised || this.launching) return;
    this.nextRestartAt = undefined;
    this.restarts++;
    this.launching = this.launch();
    try {
      await this.launching;
      this.note('info', `supervisor: ${this.label} is back (pid ${this.pid}, restart ${this.restarts})`);
    } catch (error) {
      if (!this.supervised) return; // stop() ended it while it was starting
      this.note('error', `supervisor: restart ${this.restarts} of ${this.label} failed: ${firstLine(error)}`);
      // An exit schedules the next attempt; a process that never ran (spawn failed) gets one here.
      if (this.supervised && this.restartTimer === undefined && this.state === 'starting' && this.pid === undefined) {
        this.scheduleRestart(`${this.label} could not be started`);
      }
    } finally {
      this.launching = undefined;
    }
  }

  private cancelRestart(): void {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextRestartAt = undefined;
  }

  private setState(state: ServiceState): void {
    this.state = state;
    this.emit('status', this.status);
  }

  /** A line in the service's own log (pino's JSON shape) and in the supervisor's log. */
  private note(level: 'info' | 'warn' | 'error', msg: string): void {
    const instance = this.options.instance ? { instance: this.options.instance } : {};
    const line = JSON.stringify({ level: { info: 30, warn: 40, error: 50 }[level], time: new Date().toISOString(), service: this.name, ...instance, supervisor: true, msg });
    try {
      appendFileSync(this.options.logFile, line + '\n', { mode: 0o600 });
    } catch {
      // the log directory is gone (a test cleaned up): the supervisor's log still says it
    }
    this.options.log?.(msg);
  }

  /**
   * Waits for the service's ready signal on its IPC channel, then closes the channel (it carries
   * nothing else). Throws if the service exits first, or kills it if it is not ready in time.
   */
  private async waitUntilReady(child: ChildProcess, fromOffset: number): Promise<void> {
    const { logFile } = this.options;
    const name = this.label;
    const outcome = await new Promise<'ready' | 'exited' | 'late'>((resolve) => {
      const settle = (result: 'ready' | 'exited' | 'late') => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(result);
      };
      const onMessage = (message: unknown) => {
        if (isReadySignal(message)) settle('ready');
      };
      const onExit = () => settle('exited');
      const timer = setTimeout(() => settle('late'), this.options.startTimeoutMs ?? 60_000);
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (hasExited(child)) settle('exited');
    });
    if (outcome === 'ready') {
      if (child.connected) child.disconnect();
      return;
    }
    if (outcome === 'exited') {
      throw new Error(`${name} exited (code ${child.exitCode ?? child.signalCode}) while starting:\n${logTail(logFile, fromOffset)}`);
    }
    await stopChildProcess(child, CRASH, name);
    throw new Error(`${name} did not become ready in time:\n${logTail(logFile, fromOffset)}`);
  }
}

/**
 * Variables only one service may see: the runner's secrets (HUB_SECRET_*, HUB_SECRETS_FILE), the
 * registry's database URL (it carries the password), the gateway's API token. The operator's NATS
 * passwords (HUB_NATS_PASSWORD_*) reach no service: each gets its own as NATS_USER/NATS_PASSWORD.
 */
const ONLY_FOR: { matches: (key: string) => boolean; service: HubServiceName | null }[] = [
  { matches: (key) => key.startsWith('HUB_SECRET_') || key === 'HUB_SECRETS_FILE', service: 'container-runner' },
  { matches: (key) => key === 'DATABASE_URL', service: 'session-registry' },
  // The webhooks' secrets, and how hard to try them: the registry delivers notifications.
  { matches: (key) => key === 'HUB_WEBHOOKS' || key === 'HUB_WEBHOOKS_FILE' || key === 'HUB_WEBHOOK_MAX_ATTEMPTS', service: 'session-registry' },
  { matches: (key) => key === 'HUB_API_TOKEN' || key === 'CLAUDE_WEBHOOK_SECRET', service: 'gateway' },
  // The pepper API keys are hashed with: only the registry verifies keys.
  { matches: (key) => key === 'HUB_API_KEY_PEPPER', service: 'session-registry' },
  { matches: (key) => key.startsWith('HUB_NATS_PASSWORD_'), service: null },
];

/** A service's environment: the stack's, without what belongs to another service (ONLY_FOR). */
export function serviceEnvironment(name: HubServiceName, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([key]) => ONLY_FOR.every((rule) => !rule.matches(key) || rule.service === name)),
  );
}

/** "exit code 1" / "killed by SIGKILL". */
export function describeExit(exit: Pick<ServiceExit, 'code' | 'signal'>): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0];
