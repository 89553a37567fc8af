import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { closeLogFd, logTail, openLogFile, readLogSince } from './log-file';
import { hasExited, killOnExit, stopChildProcess, type ShutdownStep } from './process-tree';

/** The four Hub services, each an app under apps/. */
export const HUB_SERVICES = ['session-registry', 'dependency-resolver', 'container-runner', 'gateway'] as const;
export type HubServiceName = (typeof HUB_SERVICES)[number];

export interface HubServiceOptions {
  name: HubServiceName;
  /** The repository root (where apps/ and tsconfig.base.json are). */
  workspaceRoot: string;
  env: Record<string, string>;
  logFile: string;
  startTimeoutMs?: number;
}

const GRACEFUL: ShutdownStep[] = [
  { signal: 'SIGTERM', timeoutMs: 20_000 },
  { signal: 'SIGKILL', timeoutMs: 5_000 },
];

/** The line each service logs once it takes work (runService and the gateway's main). */
const READY_MARK: Record<HubServiceName, RegExp> = {
  'session-registry': /"msg":"session-registry started"/,
  'dependency-resolver': /"msg":"dependency-resolver started"/,
  'container-runner': /"msg":"container-runner-[^"]* started"/,
  gateway: /"msg":"gateway listening on /,
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One Hub service run as a child process from its TypeScript sources (@swc-node/register compiles
 * on load, about a second per service). stdout and stderr (pino JSON) go to its log file.
 */
export class HubService {
  private child: ChildProcess | undefined;

  constructor(private readonly options: HubServiceOptions) {
    const level = options.env['LOG_LEVEL'] ?? process.env['LOG_LEVEL'];
    if (level && !['info', 'debug', 'trace'].includes(level)) {
      // Readiness is read from the service's "started" log line, which is logged at info.
      throw new Error(`LOG_LEVEL=${level}: the stack needs info or lower to see when ${options.name} is ready`);
    }
  }

  get name(): HubServiceName {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child && !hasExited(this.child) ? this.child.pid : undefined;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /** Starts the service and waits until it logs that it is taking work. */
  async start(): Promise<void> {
    const { name, workspaceRoot, env, logFile } = this.options;
    const log = openLogFile(logFile);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-r', '@swc-node/register', join('apps', name, 'src', 'main.ts')], {
        cwd: workspaceRoot,
        env: { ...process.env, SWC_NODE_PROJECT: join(workspaceRoot, 'tsconfig.base.json'), ...env },
        stdio: ['ignore', log.fd, log.fd],
      });
    } finally {
      closeLogFd(log);
    }
    this.child = child;
    killOnExit(child, 'SIGTERM');
    await this.waitUntilReady(child, log.startOffset);
  }

  /** SIGTERM (graceful: in-flight work finishes), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (this.child && !hasExited(this.child)) await stopChildProcess(this.child, GRACEFUL, this.name);
  }

  /** Crashes it (SIGKILL), for fault tests. */
  async kill(): Promise<void> {
    if (this.child && !hasExited(this.child)) {
      await stopChildProcess(this.child, [{ signal: 'SIGKILL', timeoutMs: 5_000 }], this.name);
    }
  }

  /** Lets the service outlive this process (the launcher of `npm run hub` exits, the stack stays). */
  detach(): void {
    this.child?.unref();
  }

  private async waitUntilReady(child: ChildProcess, fromOffset: number): Promise<void> {
    const { name, logFile } = this.options;
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (hasExited(child)) {
        throw new Error(`${name} exited (code ${child.exitCode ?? child.signalCode}) while starting:\n${logTail(logFile, fromOffset)}`);
      }
      if (READY_MARK[name].test(readLogSince(logFile, fromOffset, 1024 * 1024))) return;
      await sleep(100);
    }
    await this.kill();
    throw new Error(`${name} did not become ready in time:\n${logTail(logFile, fromOffset)}`);
  }
}
