// The stack's supervisor: a service that dies is started again with backoff, told how often and why,
// and stop() is final. Runs a stand-in service (a few lines of TypeScript with the real process
// handlers of @hub/config) in a scratch workspace, built and run as HubService runs the real ones.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HubService, serviceEnvironment, type ServiceStatus } from './hub-service';
import { isProcessAlive } from './process-tree';
import { buildServices } from './service-build';
import { makeTempDir } from './temp-dir';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const TOKEN = 'tok-0123456789abcdef';

const FAKE_GATEWAY = `
import { existsSync, rmSync } from 'node:fs';
import { createLogger, installProcessHandlers, readSupervisorStatus, signalReady } from '@hub/config';
const logger = createLogger('gateway');
installProcessHandlers(logger);
const dir = process.env['FAKE_DIR']!;
if (existsSync(dir + '/crash')) {
  logger.error('crashing while starting');
  process.exit(3);
}
logger.info({ supervisor: readSupervisorStatus() }, 'gateway listening on http://fake');
signalReady();
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {
  if (existsSync(dir + '/reject')) {
    rmSync(dir + '/reject');
    void Promise.reject(new Error('nobody awaited me, token ' + process.env['HUB_API_TOKEN']));
  }
  if (existsSync(dir + '/throw')) {
    rmSync(dir + '/throw');
    setTimeout(() => { throw new Error('kaput'); });
  }
}, 20);
`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

describe('HubService supervision', () => {
  let dir: string;
  let service: HubService;
  const lines: string[] = [];
  const statuses: ServiceStatus[] = [];
  const logLines = () =>
    readFileSync(service.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  const listening = () => logLines().filter((l) => l.msg === 'gateway listening on http://fake');

  beforeAll(async () => {
    dir = await makeTempDir('hub-supervision');
    // A workspace whose apps/gateway is the stand-in, with this repository's modules and aliases.
    const tsconfig = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'tsconfig.base.json'), 'utf8'));
    await writeFile(join(dir, 'tsconfig.base.json'), JSON.stringify(tsconfig));
    await symlink(join(WORKSPACE_ROOT, 'node_modules'), join(dir, 'node_modules'));
    await mkdir(join(dir, 'apps', 'gateway', 'src'), { recursive: true });
    await writeFile(join(dir, 'apps', 'gateway', 'src', 'main.ts'), FAKE_GATEWAY);
    await cp(join(WORKSPACE_ROOT, 'libs'), join(dir, 'libs'), { recursive: true });
    buildServices(dir, ['gateway']);
    service = new HubService({
      name: 'gateway',
      workspaceRoot: dir,
      env: { FAKE_DIR: dir, HUB_API_TOKEN: TOKEN, LOG_LEVEL: 'info' },
      logFile: join(dir, 'logs', 'gateway.log'),
      supervision: { initialBackoffMs: 100, maxBackoffMs: 800 },
      log: (line) => lines.push(line),
    });
    service.on('status', (status: ServiceStatus) => statuses.push(status));
  }, 30_000);

  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a service, and tells it it has not been restarted', async () => {
    await service.start();
    expect(service.status).toMatchObject({ state: 'running', restarts: 0, lastExit: undefined });
    // pino writes asynchronously: the line may land just after the ready signal.
    await until('start 1 is logged', () => listening().length > 0);
    expect(listening()[0].supervisor).toEqual({ supervised: true, restarts: 0, logFile: service.logFile });
  }, 30_000);

  it('logs an unhandled rejection, secrets masked, and the service goes on', async () => {
    const pid = service.pid!;
    await writeFile(join(dir, 'reject'), '');
    await until('the rejection is logged', () => logLines().some((l) => /unhandled promise rejection/.test(l.msg)));
    const line = logLines().find((l) => /unhandled promise rejection/.test(l.msg));
    expect(line.msg).toContain('nobody awaited me, token [masked:HUB_API_TOKEN]');
    expect(readFileSync(service.logFile, 'utf8')).not.toContain(TOKEN);
    await sleep(300);
    expect(service.pid).toBe(pid);
    expect(service.status.restarts).toBe(0);
  });

  it('restarts a service that exits on an uncaught exception, and passes it the count and the exit', async () => {
    const pid = service.pid!;
    await writeFile(join(dir, 'throw'), '');
    const back = await service.whenRunning({ notPid: pid, timeoutMs: 20_000 });
    expect(back).not.toBe(pid);
    expect(isProcessAlive(pid)).toBe(false);
    expect(logLines().some((l) => l.level === 60 && /uncaught exception, exiting.*kaput/.test(l.msg))).toBe(true);
    expect(service.status).toMatchObject({ state: 'running', restarts: 1, lastExit: { pid, code: 1, signal: null } });
    // pino writes asynchronously: the line may land just after the ready signal.
    await until('start 2 is logged', () => listening().length > 1);
    expect(listening()[1].supervisor).toMatchObject({ supervised: true, restarts: 1, lastExit: { code: 1, signal: null } });
    expect(lines.some((l) => l.includes(`gateway (pid ${pid}) exited unexpectedly (exit code 1); restarting it in 0.1 s (restart 1)`))).toBe(true);
  }, 30_000);

  it('restarts a service killed with SIGKILL, not before the hold asked for', async () => {
    const pid = service.pid!;
    const killedAt = Date.now();
    await service.kill({ restartAfterMs: 1_000 });
    expect(service.status.state).toBe('restarting');
    await service.whenRunning({ timeoutMs: 20_000 });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1_000);
    expect(service.status).toMatchObject({ restarts: 2, lastExit: { pid, code: null, signal: 'SIGKILL' } });
    // pino writes asynchronously: the line may land just after the ready signal.
    await until('start 3 is logged', () => listening().length > 2);
    expect(listening()[2].supervisor).toMatchObject({ restarts: 2, lastExit: { signal: 'SIGKILL' } });
  }, 30_000);

  it('backs off, doubling up to the cap, while a service keeps failing, and brings it back once it can start', async () => {
    const pid = service.pid!;
    lines.length = 0;
    await writeFile(join(dir, 'crash'), '');
    process.kill(pid, 'SIGKILL');
    await until('five restarts were scheduled', () => lines.filter((l) => l.includes('restarting it in')).length >= 5);
    await rm(join(dir, 'crash'));
    await service.whenRunning({ notPid: pid, timeoutMs: 20_000 });
    const delays = lines.filter((l) => l.includes('restarting it in')).map((l) => /restarting it in ([\d.]+) s/.exec(l)![1]);
    // The third and later restarts in a row (none ran resetAfterMs): 0.1 s, (0.2 s, held to 1 s above), 0.4 s, then the 0.8 s cap.
    expect(delays.slice(0, 5)).toEqual(['0.4', '0.8', '0.8', '0.8', '0.8']);
    expect(lines.some((l) => /exited unexpectedly \(exit code 3\)/.test(l))).toBe(true);
    expect(service.status.state).toBe('running');
  }, 60_000);

  it('retryNow restarts at once a service waiting out its backoff', async () => {
    const slow = new HubService({
      name: 'gateway',
      workspaceRoot: dir,
      env: { FAKE_DIR: dir, LOG_LEVEL: 'info' },
      logFile: join(dir, 'logs', 'slow.log'),
      supervision: { initialBackoffMs: 60_000 },
    });
    await slow.start();
    try {
      const pid = slow.pid!;
      await slow.kill();
      expect(slow.status.state).toBe('restarting');
      const asked = Date.now();
      slow.retryNow();
      await slow.whenRunning({ notPid: pid, timeoutMs: 20_000 });
      expect(Date.now() - asked).toBeLessThan(20_000);
      expect(slow.status.restarts).toBe(1);
    } finally {
      await slow.stop();
    }
  }, 60_000);

  it('starts the backoff over once a service has run healthy for resetAfterMs', async () => {
    const notes: string[] = [];
    const short = new HubService({
      name: 'gateway',
      workspaceRoot: dir,
      env: { FAKE_DIR: dir, LOG_LEVEL: 'info' },
      logFile: join(dir, 'logs', 'short.log'),
      supervision: { initialBackoffMs: 100, resetAfterMs: 1_500 },
      log: (line) => notes.push(line),
    });
    await short.start();
    try {
      const delays = () => notes.filter((l) => l.includes('restarting it in')).map((l) => /in ([\d.]+) s/.exec(l)![1]);
      await sleep(1_600);
      await short.kill(); // ran long enough: 0.1 s
      await short.whenRunning();
      await short.kill(); // at once again: 0.2 s
      await short.whenRunning();
      await sleep(1_600);
      await short.kill(); // healthy again: 0.1 s
      await short.whenRunning();
      expect(delays()).toEqual(['0.1', '0.2', '0.1']);
    } finally {
      await short.stop();
    }
  }, 60_000);

  it('does not restart a service stopped with stop()', async () => {
    const pid = service.pid!;
    const started = listening().length;
    await service.stop();
    expect(isProcessAlive(pid)).toBe(false);
    await sleep(1_000);
    expect(service.status).toMatchObject({ state: 'stopped', pid: undefined });
    expect(listening().length).toBe(started);
    await expect(service.whenRunning({ timeoutMs: 100 })).rejects.toThrow(/not running|stopped/);
    expect(existsSync(service.logFile)).toBe(true);
  }, 60_000);

  it('knows a service is ready from its signal, whatever it logs', async () => {
    const quiet = new HubService({
      name: 'gateway',
      workspaceRoot: dir,
      env: { FAKE_DIR: dir, LOG_LEVEL: 'silent' },
      logFile: join(dir, 'logs', 'quiet.log'),
    });
    await quiet.start();
    try {
      expect(quiet.status.state).toBe('running');
      expect(readFileSync(quiet.logFile, 'utf8')).not.toContain('listening');
    } finally {
      await quiet.stop();
    }
  }, 30_000);

  it('does not take a service that never signals for ready, even when it logs that it started', async () => {
    await mkdir(join(dir, 'apps', 'dependency-resolver', 'src'), { recursive: true });
    await writeFile(
      join(dir, 'apps', 'dependency-resolver', 'src', 'main.ts'),
      `import { createLogger } from '@hub/config';\ncreateLogger('dependency-resolver').info('dependency-resolver started');\nsetInterval(() => undefined, 1_000);\n`,
    );
    buildServices(dir, ['dependency-resolver']);
    const mute = new HubService({
      name: 'dependency-resolver',
      workspaceRoot: dir,
      env: { LOG_LEVEL: 'info' },
      logFile: join(dir, 'logs', 'mute.log'),
      startTimeoutMs: 5_000,
    });
    try {
      await expect(mute.start()).rejects.toThrow(/did not become ready in time[\s\S]*dependency-resolver started/);
      expect(mute.status).toMatchObject({ state: 'stopped', pid: undefined });
    } finally {
      await mute.stop();
    }
  }, 30_000);
});

describe("a service's environment", () => {
  it('holds only its own secrets: each goes to the one service that needs it', () => {
    const env = {
      PATH: '/bin',
      HUB_SECRET_ANTHROPIC_API_KEY: 'k',
      HUB_SECRETS_FILE: '/s',
      DATABASE_URL: 'postgres://u:p@h/d',
      HUB_API_KEY_PEPPER: 'pepper',
      HUB_WEBHOOKS: '[]',
      HUB_WEBHOOKS_FILE: '/w',
      HUB_WEBHOOK_MAX_ATTEMPTS: '3',
      HUB_API_TOKEN: 't',
      CLAUDE_WEBHOOK_SECRET: 'c',
      HUB_NATS_PASSWORD_GATEWAY: 'n',
    };
    const keysOf = (name: Parameters<typeof serviceEnvironment>[0]) => Object.keys(serviceEnvironment(name, env)).sort();
    expect(keysOf('container-runner')).toEqual(['HUB_SECRETS_FILE', 'HUB_SECRET_ANTHROPIC_API_KEY', 'PATH']);
    expect(keysOf('session-registry')).toEqual(['DATABASE_URL', 'HUB_API_KEY_PEPPER', 'HUB_WEBHOOKS', 'HUB_WEBHOOKS_FILE', 'HUB_WEBHOOK_MAX_ATTEMPTS', 'PATH']);
    expect(keysOf('gateway')).toEqual(['CLAUDE_WEBHOOK_SECRET', 'HUB_API_TOKEN', 'PATH']);
    expect(keysOf('dependency-resolver')).toEqual(['PATH']);
  });
});
