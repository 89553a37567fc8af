import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ContainerExit, ContainerLaunch } from '../ports/container-engine.port';
import { createDockerClient } from './docker-client';
import { DockerContainerEngine, demultiplexLog, LABEL_SESSION, sessionContainerName } from './docker-container-engine';

// Integration test: the real Docker engine and the real hub/test-agent image. It fails (never
// skips) when Docker is unreachable, with the engine's explanation.
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
    promptFile: await promptFileOf(prompt),
    inputs: [],
    network: 'none',
    limits: LIMITS,
    user: '1000:1000',
    runnerId: 'runner-test',
    logCapBytes: 1024 * 1024,
    fileSizeLimitBytes: 64 * 1024 * 1024,
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

  it('stops a running container within the grace period', async () => {
    const id = await started(await launchOf('sleep 30'));
    const begin = Date.now();
    await engine.stop(id, 1);
    const exit = await engine.wait(id);

    expect(Date.now() - begin).toBeLessThan(10_000);
    expect(exit.exitCode).not.toBe(0);
    await expect(engine.stop(id, 1)).resolves.toBeUndefined();
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
      'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
      'ls /sys/class/net',
      'cat /hub/inputs/in/data.txt',
      'touch /owned 2>/dev/null && echo root-writable || echo root-protected',
      'touch /hub/inputs/in/new 2>/dev/null && echo input-writable || echo input-read-only',
      'touch /tmp/t /workspace/w && echo tmp-and-workspace-writable',
    ].join('; ');
    const { exit, log } = await runToExit(await launchOf(prompt, { inputs: [{ name: 'in', hostPath: inputDir }] }));

    expect(exit.exitCode).toBe(0);
    expect(log.split('\n')).toEqual([
      '1000',
      'CapEff:\t0000000000000000',
      'NoNewPrivs:\t1',
      'lo',
      'input',
      'root-protected',
      'input-read-only',
      'tmp-and-workspace-writable',
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
