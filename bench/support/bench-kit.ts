// What every benchmark shares: a whole Hub in a temporary directory, a client of its REST API, a
// listener that records when each session.status-changed arrives, `docker run` for the floor, the
// machine it all ran on, and figures printed the same way. Benchmarks print; they assert nothing.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, JSONCodec, NatsConnection } from 'nats';
import type { OrchestrationView, SessionStatus, SessionView } from '@hub/contracts';
import { makeTempDir, NATS_OBSERVER, startHubStack, type HubStack } from '@hub/infra';

export const ROOT = resolve(__dirname, '../..');
export const IMAGE = 'hub/test-agent:latest';
export const TERMINAL: readonly SessionStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Figures

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const median = (values: number[]) => percentile(values, 50);
export const ms = (value: number) => `${value.toFixed(0)} ms`;

/** One line: label, p50, p90, min, max, n. */
export function describe(label: string, values: number[]): void {
  const cell = (v: number) => v.toFixed(0).padStart(6);
  console.log(
    `  ${label.padEnd(58)} p50 ${cell(percentile(values, 50))} ms  p90 ${cell(percentile(values, 90))} ms  ` +
      `min ${cell(Math.min(...values))} ms  max ${cell(Math.max(...values))} ms  (n=${values.length})`,
  );
}

/** Hub against the floor at p50, with the goal and whether it is met. */
export function verdict(label: string, hub: number, floor: number, goal: number): void {
  const ratio = hub / floor;
  console.log(
    `  ${label}: Hub ${ms(hub)} / Docker ${ms(floor)} = ${ratio.toFixed(3)}×  (goal ≤ ${goal.toFixed(2)}×: ${
      ratio <= goal ? 'met' : 'MISSED'
    })`,
  );
}

export function heading(title: string, lines: string[] = []): void {
  console.log(`\n== ${title}`);
  for (const line of lines) console.log(`   ${line}`);
}

/** The machine the figures come from. */
export function machine(): string {
  const read = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return 'unknown';
    }
  };
  const cpu = cpus();
  return [
    `${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
    `kernel ${read('uname', ['-r'])}, Docker engine ${read('docker', ['version', '-f', '{{.Server.Version}}'])} ` +
      `(CLI ${read('docker', ['version', '-f', '{{.Client.Version}}'])}), Node ${process.version}`,
  ].join('; ');
}

// ---------------------------------------------------------------------------------------------
// Docker, directly

/** The flags that give a plain `docker run` the container Hub makes (hardened, limited, no network). */
export const HARDENED_FLAGS = [
  '--network', 'none',
  '--user', '1000:1000',
  '--cap-drop', 'ALL',
  '--security-opt', 'no-new-privileges',
  '--pids-limit', '512',
  '--memory', '2g',
  '--memory-swap', '2g',
  '--cpus', '1',
  '--init',
  '--ipc', 'private',
  '--tmpfs', '/tmp:rw,nosuid,nodev,mode=1777',
];

let outputDir: string | undefined;

/** A host directory for the container's /hub/output, owned by the agent's uid, as the runner makes one. */
function hostOutputDir(): string {
  if (!outputDir) {
    outputDir = mkdtempSync(join(tmpdir(), 'hub-bench-output-'));
    chownSync(outputDir, 1000, 1000);
    process.on('exit', () => rmSync(outputDir!, { recursive: true, force: true }));
  }
  return outputDir;
}

/** The `docker run --rm` arguments of the floor: the test agent with prompt `true`. */
export function dockerRunArgs(hardened = true): string[] {
  const flags = hardened ? [...HARDENED_FLAGS, '-v', `${hostOutputDir()}:/hub/output`] : ['--network', 'none'];
  return ['run', '--rm', ...flags, '-e', 'HUB_PROMPT=true', IMAGE];
}

/** `docker run --rm` of the test agent with prompt `true`; resolves with its wall time in ms. */
export function dockerRun(hardened = true): Promise<number> {
  const began = performance.now();
  const args = dockerRunArgs(hardened);
  return new Promise((done, fail) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done(performance.now() - began) : fail(new Error(`docker run: ${code} ${stderr}`))));
  });
}

/** A shell pipeline (xargs -P and the like), timed. */
export function shell(script: string): Promise<number> {
  const began = performance.now();
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done(performance.now() - began) : fail(new Error(`${script}: ${code} ${stderr}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// Hub

export interface StatusChange {
  sessionId: string;
  orchestrationId: string;
  from: SessionStatus;
  to: SessionStatus;
  reason: string | null;
  at: string;
}

/**
 * Records every session.status-changed as it arrives on NATS (a plain core subscription, as an
 * integration would make one): when it arrived here (performance.now()) and the registry's `at`.
 */
export class StatusWatch {
  readonly seen = new Map<string, Map<SessionStatus, { arrived: number; at: number }>>();
  private readonly waiters = new Map<string, { statuses: readonly SessionStatus[]; done: (arrived: number) => void }[]>();

  constructor(nc: NatsConnection) {
    const jc = JSONCodec<{ data: StatusChange }>();
    nc.subscribe('session.status-changed', {
      callback: (_error, message) => {
        const arrived = performance.now();
        const { data } = jc.decode(message.data);
        const perSession = this.seen.get(data.sessionId) ?? new Map();
        perSession.set(data.to, { arrived, at: Date.parse(data.at) });
        this.seen.set(data.sessionId, perSession);
        const waiting = this.waiters.get(data.sessionId);
        if (!waiting) return;
        for (const w of [...waiting]) {
          if (w.statuses.includes(data.to)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.done(arrived);
          }
        }
      },
    });
  }

  /** When (performance.now()) the session reached one of `statuses`, as seen here. */
  when(sessionId: string, statuses: readonly SessionStatus[] = TERMINAL, timeoutMs = 120_000): Promise<number> {
    for (const status of statuses) {
      const hit = this.seen.get(sessionId)?.get(status);
      if (hit) return Promise.resolve(hit.arrived);
    }
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`session ${sessionId} did not reach ${statuses.join('|')} in ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(sessionId) ?? [];
      list.push({ statuses, done: (arrived) => (clearTimeout(timer), done(arrived)) });
      this.waiters.set(sessionId, list);
    });
  }

  /** The registry's `at` of the session's move to `status` (epoch ms), if seen. */
  at(sessionId: string, status: SessionStatus): number | undefined {
    return this.seen.get(sessionId)?.get(status)?.at;
  }

  /** The status it ended in, once it has. */
  finalStatus(sessionId: string): SessionStatus | undefined {
    const perSession = this.seen.get(sessionId);
    return TERMINAL.find((s) => perSession?.has(s));
  }
}

/** A client of the gateway's REST API. */
export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, expected = [200, 201, 202]): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (!expected.includes(response.status)) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  createSession(body: Record<string, unknown>): Promise<SessionView> {
    return this.request('POST', '/api/v1/sessions', body, [201]);
  }

  getSession(id: string): Promise<SessionView> {
    return this.request('GET', `/api/v1/sessions/${id}`);
  }

  /** Creates it, then reads the rest of its sessions (a view lists at most 500 at once, `nextCursor` the rest). */
  async createOrchestration(body: Record<string, unknown> | string): Promise<OrchestrationView> {
    const view = await this.request<OrchestrationView>('POST', '/api/v1/orchestrations', body, [201]);
    for (let cursor = view.nextCursor; cursor; ) {
      const page = await this.request<OrchestrationView>('GET', `/api/v1/orchestrations/${view.id}?cursor=${cursor}`);
      view.sessions.push(...page.sessions);
      cursor = page.nextCursor;
    }
    return view;
  }
}

export interface BenchStack {
  stack: HubStack;
  api: Api;
  nc: NatsConnection;
  watch: StatusWatch;
  stop(): Promise<void>;
}

/** Builds the test agent image if needed and starts a whole Hub (all four services) in a temp dir. */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  execFileSync('bash', [resolve(ROOT, 'images/test-agent/build.sh')], { stdio: 'ignore' });
  const stateDir = await makeTempDir('hub-bench');
  const stack = await startHubStack({
    workspaceRoot: ROOT,
    stateDir,
    durable: false,
    apiToken: randomBytes(16).toString('hex'),
    natsObserver: true,
    env: { LOG_LEVEL: 'info', ...env },
  });
  const nc = await connect({ servers: stack.natsUrl, ...stack.natsCredentials(NATS_OBSERVER) });
  const watch = new StatusWatch(nc);
  return {
    stack,
    api: new Api(stack.gatewayUrl, stack.apiToken),
    nc,
    watch,
    async stop() {
      await nc.close();
      await stack.stop();
      if (process.env['HUB_BENCH_KEEP']) console.log(`state and logs kept in ${stateDir}`);
      else await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The load average over the last 1, 5 and 15 minutes: anything else running skews the figures. */
export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

/** Runs a benchmark's main, printing the machine first; exits non-zero if it throws. */
export function runBench(title: string, main: () => Promise<void>): void {
  console.log(`# ${title}\n  machine: ${machine()}\n  load average before: ${load()}`);
  main().then(
    () => {
      console.log(`\n  load average after: ${load()}`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
