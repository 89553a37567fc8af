import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ContainerExit, ContainerLaunch } from '../ports/container-engine.port';
import { createDockerClient } from './docker-client';
import { DockerContainerEngine, demultiplexLog, LABEL_SESSION, sessionContainerName } from './docker-container-engine';
import { captureLog } from '../logs/log-capture';
import { RunnerSecrets } from '../secrets/runner-secrets';

// Integration test: the real Docker engine and the real hub/test-agent image: the engine itself, the
// log capture following a real container, and the fsize ulimit behind the disk quota. It fails (never
// skips) when Docker is unreachable, with the engine's explanation.
const MiB = 1024 * 1024;
const IMAGE = 'hub/test-agent:latest';
const BUILD_SCRIPT = resolve(__dirname, '../../../../images/test-agent/build.sh');
const RUN_ID = `jest-${process.pid}-${Date.now().toString(36)}`;
const LIMITS = { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pids: 64 };

const docker = createDockerClient(process.env['DOCKER_HOST']);
const engine = new DockerContainerEngine(docker);
const sessionIds: string[] = [];
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-runner-test-'));
  tempDirs.push(dir);
  // The agent (uid 1000) must be able to write wherever the test runs.
  await chmod(dir, 0o777);
  return dir;
}

/** The prompt as the runner mounts it, at /hub/prompt. */
async function promptFileOf(prompt: string): Promise<string> {
  const file = join(await tempDir(), 'prompt');
  await writeFile(file, prompt, { mode: 0o644 });
  return file;
}

async function launchOf(prompt: string, overrides: Partial<ContainerLaunch> = {}): Promise<ContainerLaunch> {
  const sessionId = `${RUN_ID}-${sessionIds.length + 1}`;
  sessionIds.push(sessionId);
  return {
    sessionId,
    attempt: 1,
    image: IMAGE,
    env: { HUB_PROMPT: prompt, HUB_SESSION_ID: sessionId },
    outputDir: await tempDir(),
    workspaceDir: await tempDir(),
    promptFile: await promptFileOf(prompt),
    inputs: [],
    network: 'none',
    limits: LIMITS,
    user: '1000:1000',
    runnerId: 'runner-test',
    logCapBytes: 1024 * 1024,
    fileSizeLimitBytes: 64 * 1024 * 1024,
    tmpBytes: 64 * 1024 * 1024,
    ...overrides,
  };
}

async function started(launch: ContainerLaunch): Promise<string> {
  const id = await engine.create(launch);
  await engine.start(id);
  return id;
}

async function runToExit(launch: ContainerLaunch): Promise<{ id: string; exit: ContainerExit; log: string }> {
  const id = await started(launch);
  const exit = await engine.wait(id);
  const log = (await engine.readLog(id)).toString('utf8');
  return { id, exit, log };
}

beforeAll(async () => {
  await engine.ping();
  execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' });
});

afterAll(async () => {
  for (const sessionId of sessionIds) {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_SESSION}=${sessionId}`] } });
    for (const { Id } of containers) await docker.getContainer(Id).remove({ force: true });
  }
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('DockerContainerEngine', () => {
  it('runs the prompt as the agent, keeping its log and its output files', async () => {
    const launch = await launchOf('echo hello; echo done > /hub/output/result.txt');
    const { exit, log } = await runToExit(launch);

    expect(exit).toEqual({ exitCode: 0, oomKilled: false });
    expect(log).toBe('hello\n');
    expect(await readFile(join(launch.outputDir, 'result.txt'), 'utf8')).toBe('done\n');
  });

  it('reports the exit code', async () => {
    const { exit, log } = await runToExit(await launchOf('echo hello; exit 3'));

    expect(exit.exitCode).toBe(3);
    expect(log).toBe('hello\n');
  });

  it('keeps stdout and stderr in the order they were written', async () => {
    // Docker reads the two pipes separately, so lines written within the same instant may swap.
    const { log } = await runToExit(await launchOf('echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three'));

    expect(log).toBe('one\ntwo\nthree\n');
  });

  it('returns the same container when a launch is created twice', async () => {
    const launch = await launchOf('true');
    const first = await engine.create(launch);
    const second = await engine.create(launch);

    expect(second).toBe(first);
    const listed = (await engine.listSessionContainers()).filter((c) => c.sessionId === launch.sessionId);
    expect(listed).toEqual([
      { containerId: first, sessionId: launch.sessionId, attempt: 1, runnerId: 'runner-test', running: false, state: 'created' },
    ]);
    const info = await docker.getContainer(first).inspect();
    expect(info.Name).toBe(`/${sessionContainerName(launch.sessionId, 1)}`);
  });

  /** The signals Docker sent the container (its `kill` events), in order, with when, in ms. */
  async function signalsSent(id: string, sinceSeconds: number): Promise<{ signal: string; atMs: number }[]> {
    const stream = await docker.getEvents({
      since: sinceSeconds,
      until: Math.ceil(Date.now() / 1000) + 1,
      filters: { container: [id], type: ['container'], event: ['kill'] },
    });
    let text = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .map((event) => ({ signal: event.Actor.Attributes.signal, atMs: event.timeNano / 1e6 }));
  }

  async function logShows(id: string, text: string): Promise<void> {
    for (let i = 0; !(await engine.readLog(id)).toString().includes(text); i++) {
      if (i > 200) throw new Error(`the container never printed '${text}'`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Starts an agent that runs `onTerm` on SIGTERM, stops it with this grace, and tells what happened. */
  async function stopped(onTerm: string, graceSeconds: number) {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await started(await launchOf(`trap '${onTerm}' TERM; echo ready; while :; do sleep 0.1; done`));
    await logShows(id, 'ready');
    await engine.stop(id, graceSeconds);
    const exit = await engine.wait(id);
    return { id, exit, log: (await engine.readLog(id)).toString(), signals: await signalsSent(id, since) };
  }

  it('stops a container with SIGTERM, then SIGKILL once the grace period has passed', async () => {
    // An agent that notes SIGTERM and carries on: only SIGKILL ends it.
    const { id, exit, log, signals } = await stopped('echo got TERM', 2);

    expect(log).toContain('got TERM');
    expect(exit.exitCode).toBe(137); // 128 + SIGKILL
    expect(signals.map((s) => s.signal)).toEqual(['15', '9']);
    // SIGKILL only after the grace period (a lower bound: a loaded machine only makes it later).
    expect(signals[1].atMs - signals[0].atMs).toBeGreaterThanOrEqual(1_900);
    await expect(engine.stop(id, 1)).resolves.toBeUndefined();
  });

  it('sends no SIGKILL to a container that ends on SIGTERM within the grace period', async () => {
    const { exit, signals } = await stopped('echo got TERM; exit 143', 30);

    expect(exit.exitCode).toBe(143);
    expect(signals.map((s) => s.signal)).toEqual(['15']);
  });

  it('creates a hardened container', async () => {
    const inputDir = await tempDir();
    const launch = await launchOf('sleep 30', { inputs: [{ name: 'repo', hostPath: inputDir }] });
    const id = await started(launch);
    const { Config, HostConfig } = await docker.getContainer(id).inspect();

    expect(Config.User).toBe('1000:1000');
    expect(Config.Labels).toMatchObject({ 'hub.session': launch.sessionId, 'hub.attempt': '1', 'hub.runner': 'runner-test' });
    expect(HostConfig.CapDrop).toEqual(['ALL']);
    expect(HostConfig.SecurityOpt).toContain('no-new-privileges');
    // Docker's default seccomp profile: no seccomp option at all.
    expect(HostConfig.SecurityOpt?.filter((option: string) => option.startsWith('seccomp'))).toEqual([]);
    expect(HostConfig.ReadonlyRootfs).toBe(true);
    expect(HostConfig.Tmpfs).toEqual({ '/tmp': 'rw,exec,nosuid,nodev,mode=1777,size=67108864' });
    expect(HostConfig.NetworkMode).toBe('none');
    expect(HostConfig.PidsLimit).toBe(LIMITS.pids);
    expect(HostConfig.Memory).toBe(LIMITS.memoryBytes);
    expect(HostConfig.MemorySwap).toBe(LIMITS.memoryBytes);
    expect(HostConfig.NanoCpus).toBe(LIMITS.nanoCpus);
    expect(HostConfig.Privileged).toBe(false);
    expect(HostConfig.Init).toBe(true);
    expect(HostConfig.Binds).toEqual([
      `${launch.outputDir}:/hub/output:rw`,
      `${launch.promptFile}:/hub/prompt:ro`,
      `${launch.workspaceDir}:/workspace:rw`,
      `${inputDir}:/hub/inputs/repo:ro`,
    ]);
    expect(JSON.stringify(HostConfig)).not.toContain('docker.sock');
    const listed = (await engine.listSessionContainers()).find((c) => c.containerId === id);
    expect(listed?.running).toBe(true);
  });

  it('gives the agent no root, no capabilities, no network and read-only inputs', async () => {
    const inputDir = await tempDir();
    await writeFile(join(inputDir, 'data.txt'), 'input\n');
    const prompt = [
      'id -u',
      'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status',
      'ls /sys/class/net',
      'cat /hub/inputs/in/data.txt',
      'touch /owned 2>/dev/null && echo root-writable || echo root-protected',
      'touch /etc/x 2>&1; mkdir /usr/bin 2>&1; { echo > /x; } 2>&1',
      'touch /hub/inputs/in/new 2>/dev/null && echo input-writable || echo input-read-only',
      'touch /tmp/t /workspace/w /hub/output/o "$HOME/h" && echo "tmp-workspace-output-and-home-writable HOME=$HOME"',
      'grep " /tmp " /proc/mounts | cut -d" " -f4',
    ].join('; ');
    const { exit, log } = await runToExit(await launchOf(prompt, { inputs: [{ name: 'in', hostPath: inputDir }] }));

    expect(exit.exitCode).toBe(0);
    expect(log.split('\n')).toEqual([
      '1000',
      'CapEff:\t0000000000000000',
      'NoNewPrivs:\t1',
      'Seccomp:\t2',
      'lo',
      'input',
      'root-protected',
      'touch: /etc/x: Read-only file system',
      "mkdir: can't create directory '/usr/bin': Read-only file system",
      "/hub/prompt: line 1: can't create /x: Read-only file system",
      'input-read-only',
      'tmp-workspace-output-and-home-writable HOME=/tmp',
      'rw,nosuid,nodev,relatime,size=65536k', // exec (no noexec); mode 1777 is tmpfs's default, not shown
      '',
    ]);
  });

  it('refuses to run a container as root', async () => {
    await expect(engine.create(await launchOf('true', { user: '0:0' }))).rejects.toThrow(/non-root/);
  });

  it('removes a container, and removing it again is no error', async () => {
    const { id } = await runToExit(await launchOf('true'));
    await engine.remove(id);
    await engine.remove(id);

    await expect(docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('tells whether an image is present, without pulling', async () => {
    await expect(engine.imageStatus(IMAGE)).resolves.toBe('present');
    await expect(engine.imageStatus('hub/does-not-exist:never')).resolves.toBe('missing');
  });

  it('explains a failed create', async () => {
    const launch = await launchOf('true', { image: 'hub/does-not-exist:never' });

    await expect(engine.create(launch)).rejects.toThrow(/creating container .* from image hub\/does-not-exist:never failed: HTTP 404/);
  });

  it('explains an engine that cannot be reached', async () => {
    const nowhere = new DockerContainerEngine(createDockerClient('unix:///nonexistent/docker.sock'));

    await expect(engine.ping()).resolves.toBeUndefined();
    await expect(nowhere.ping()).rejects.toThrow(/unix:\/\/\/nonexistent\/docker.sock: the socket does not exist/);
  });
});

// captureLog (its unit tests, on streams made there, are in logs/log-capture.spec.ts) on a container
// printing far more than the cap.
describe('captureLog from a real container (Docker)', () => {
  const secrets = new RunnerSecrets({ CANARY: 'canary-secret-value' }, []);
  const oneCpu = { memoryBytes: 256 * MiB, nanoCpus: 1_000_000_000, pids: 64 };

  it('follows 200 MiB printed on stdout and stderr, keeping 1 MiB, with the runner’s memory barely moving', async () => {
    const printed = 200 * MiB;
    // A secret on stderr, then 200 MiB of 1 KiB lines and a last line on stdout. Docker copies the two
    // streams separately: only the order within each is kept, hence the pause after stderr's line.
    const script = `echo "key canary-secret-value" >&2; sleep 0.3; yes ${'x'.repeat(1023)} | head -c ${printed}; echo 'the end'`;
    const id = await engine.create(await launchOf(script, { limits: oneCpu, logCapBytes: MiB }));
    const { HostConfig } = await docker.getContainer(id).inspect();
    expect(HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': String(MiB), 'max-file': '2' } });

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const startedAt = Date.now();
    const log = await engine.followLog(id);
    await engine.start(id);
    const capture = await captureLog(log, { dir: await tempDir(), capBytes: MiB, masker: () => secrets.chunkMasker() });
    clearInterval(sampler);
    const seconds = (Date.now() - startedAt) / 1000;
    const tail = Buffer.byteLength('key [masked:CANARY]\nthe end\n');

    expect(await engine.wait(id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(capture.keptBytes).toBe(MiB);
    expect(capture.droppedBytes).toBe(printed + tail - MiB);
    expect(capture.lastLine).toBe('the end');
    const kept = await readFile(capture.file);
    expect(kept.length).toBe(MiB);
    expect(kept.subarray(0, 20 + 1024).toString()).toBe(`key [masked:CANARY]\n${'x'.repeat(1023)}\n`);
    const growthMiB = (rssPeak - rssBefore) / MiB;
    console.log(`captured ${printed / MiB} MiB in ${seconds.toFixed(1)} s (${(printed / MiB / seconds).toFixed(0)} MiB/s); runner RSS grew ${growthMiB.toFixed(1)} MiB at most`);
    // Measured: 18–35 MiB whatever the size (garbage not yet collected), 1 GiB included.
    expect(growthMiB).toBeLessThan(64);
  });

  it('follows the log of a container already started (adopted) from its start', async () => {
    const id = await started(await launchOf('echo first; sleep 1; echo second >&2', { limits: oneCpu, logCapBytes: MiB, fileSizeLimitBytes: MiB }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const capture = await captureLog(await engine.followLog(id), { dir: await tempDir(), capBytes: MiB, masker: () => secrets.chunkMasker() });
    expect(await readFile(capture.file, 'utf8')).toBe('first\nsecond\n');
    expect(capture.lastLine).toBe('second');
  });
});

// The fsize ulimit bounds any single file between two polls of the disk quota (whose measurements are
// in output/output-quota.spec.ts).
describe('ContainerLaunch.fileSizeLimitBytes (Docker fsize ulimit)', () => {
  it('stops a write past the limit: the file keeps the limit, the writer dies of SIGXFSZ (exit status 153)', async () => {
    const launch = await launchOf(
      'head -c 3000000 /dev/zero > /hub/output/big; echo "head: $?"; truncate -s 10M /hub/output/sparse; echo "truncate: $?"; ' +
        'head -c 1000000 /dev/zero > /hub/output/small; echo "small: $?"; exec head -c 3000000 /dev/zero > /tmp/big',
      { limits: { memoryBytes: 256 * MiB, nanoCpus: 1_000_000_000, pids: 64 }, logCapBytes: MiB, fileSizeLimitBytes: MiB },
    );
    const { exit, log } = await runToExit(launch);
    expect(log).toContain('head: 153');
    expect(log).toContain('truncate: 153');
    expect(log).toContain('small: 0');
    expect((await stat(join(launch.outputDir, 'big'))).size).toBe(MiB);
    expect((await stat(join(launch.outputDir, 'sparse'))).size).toBe(0);
    expect((await readdir(launch.outputDir)).sort()).toEqual(['big', 'small', 'sparse']);
    // The agent's own process (exec) killed by SIGXFSZ: the container exits 128 + 25.
    expect(exit.exitCode).toBe(153);
  });

  it("runs a session's helper beside it: the session's container joins its loopback-only namespace; the helper is never taken for the session's", async () => {
    const launch = await launchOf('tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "');
    const helperId = await engine.startHelper({
      purpose: 'egress-bridge',
      sessionId: launch.sessionId,
      labels: { 'hub.egress': 'api.test.invalid:443' },
      image: IMAGE,
      command: ['/bin/sleep', '60'],
      env: {},
      mounts: [],
      user: '1000:1000',
      limits: LIMITS,
      fileSizeLimitBytes: MiB,
      runnerId: 'runner-test',
    });

    const { log } = await runToExit({ ...launch, network: `container:${helperId}` });

    expect(log).toBe('lo\n');
    const helpers = (await engine.listHelperContainers('runner-test')).filter((h) => h.containerId === helperId);
    expect(helpers).toMatchObject([{ purpose: 'egress-bridge', sessionId: launch.sessionId, labels: { 'hub.egress': 'api.test.invalid:443' } }]);
    expect((await engine.listSessionContainers()).filter((c) => c.sessionId === launch.sessionId).map((c) => c.containerId)).not.toContain(helperId);
    await engine.remove(helperId);
  });

  it('knows which networks the engine has, creating none', async () => {
    expect(await engine.networkExists('none')).toBe(true);
    expect(await engine.networkExists(`hub-no-such-network-${RUN_ID}`)).toBe(false);
  });
});

describe('demultiplexLog', () => {
  const frame = (stream: number, text: string) => {
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([header, Buffer.from(text)]);
  };

  it('joins the payloads of stdout and stderr frames in order', () => {
    const raw = Buffer.concat([frame(1, 'a\n'), frame(2, 'b\n'), frame(1, 'c')]);

    expect(demultiplexLog(raw).toString()).toBe('a\nb\nc');
  });

  it('returns an unframed (TTY) log unchanged', () => {
    expect(demultiplexLog(Buffer.from('plain text')).toString()).toBe('plain text');
  });
});
