import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createDockerClient } from '../docker/docker-client';
import { DockerContainerEngine, LABEL_SESSION } from '../docker/docker-container-engine';
import type { ContainerLaunch } from '../ports/container-engine.port';
import { removeTree } from '../workspace/remove-tree';
import { diskUsage, watchDiskQuota } from './output-quota';

const MiB = 1024 * 1024;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-quota-'));
  dirs.push(dir);
  return dir;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const dir of dirs) await removeTree(dir);
});

describe('watchDiskQuota', () => {
  it('measures what the directories take on disk, sparse files by what they occupy', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    await writeFile(join(a, 'one'), Buffer.alloc(MiB, 1));
    await writeFile(join(b, 'two'), Buffer.alloc(2 * MiB, 1));
    execFileSync('truncate', ['-s', '1G', join(b, 'sparse')]);
    const used = await diskUsage([a, b]);
    expect(used).toBeGreaterThanOrEqual(3 * MiB);
    expect(used).toBeLessThan(3 * MiB + 64 * 1024);
  });

  it('calls onExceeded once when the directories grow over the quota, then stops measuring', async () => {
    const dir = await tempDir();
    const exceeded: number[] = [];
    const watch = watchDiskQuota({ dirs: [dir], quotaBytes: 2 * MiB, intervalMs: 50, onExceeded: (used) => exceeded.push(used) });
    await writeFile(join(dir, 'a'), Buffer.alloc(MiB, 1));
    await sleep(200);
    expect(exceeded).toEqual([]);
    expect(watch.lastUsedBytes).toBeGreaterThanOrEqual(MiB);
    await writeFile(join(dir, 'b'), Buffer.alloc(2 * MiB, 1));
    await sleep(300);
    await writeFile(join(dir, 'c'), Buffer.alloc(MiB, 1));
    await sleep(200);
    watch.stop();
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]).toBeGreaterThan(2 * MiB);
    expect(await watch.measure()).toBeGreaterThanOrEqual(4 * MiB);
  });

  it('measures a tree deeper than PATH_MAX, and reports no error for a directory that does not exist', async () => {
    const dir = await tempDir();
    const name = 'd'.repeat(200);
    execFileSync('bash', ['-c', `cd "$1" && for i in $(seq 30); do mkdir ${name} && cd ${name}; done && head -c ${MiB} /dev/zero > f`, '_', dir]);
    expect(await diskUsage([dir])).toBeGreaterThanOrEqual(MiB);
    expect(await diskUsage([join(dir, 'missing')])).toBe(0);
  });
});

// The real Docker engine: the fsize ulimit bounds any single file, between two polls of the quota.
describe('ContainerLaunch.fileSizeLimitBytes (Docker fsize ulimit)', () => {
  const IMAGE = 'hub/test-agent:latest';
  const BUILD_SCRIPT = resolve(__dirname, '../../../../images/test-agent/build.sh');
  const docker = createDockerClient(process.env['DOCKER_HOST']);
  const engine = new DockerContainerEngine(docker);
  const sessionId = `jest-quota-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    await engine.ping();
    execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' });
  });

  afterAll(async () => {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_SESSION}=${sessionId}`] } });
    for (const { Id } of containers) await docker.getContainer(Id).remove({ force: true });
  });

  async function run(script: string, attempt: number): Promise<{ exitCode: number; outputDir: string; log: string }> {
    const outputDir = await tempDir();
    await chmod(outputDir, 0o777);
    const promptFile = join(await tempDir(), 'prompt');
    await writeFile(promptFile, script);
    await chmod(promptFile, 0o644);
    const launch: ContainerLaunch = {
      sessionId,
      attempt,
      image: IMAGE,
      env: { HUB_PROMPT: script },
      outputDir,
      promptFile,
      inputs: [],
      network: 'none',
      limits: { memoryBytes: 256 * MiB, nanoCpus: 1_000_000_000, pids: 64 },
      user: '1000:1000',
      runnerId: 'runner-test',
      logCapBytes: MiB,
      fileSizeLimitBytes: MiB,
    };
    const id = await engine.create(launch);
    await engine.start(id);
    const { exitCode } = await engine.wait(id);
    return { exitCode, outputDir, log: (await engine.readLog(id)).toString() };
  }

  it('stops a write past the limit: the file keeps the limit, the writer dies of SIGXFSZ (exit status 153)', async () => {
    const { exitCode, outputDir, log } = await run(
      'head -c 3000000 /dev/zero > /hub/output/big; echo "head: $?"; truncate -s 10M /hub/output/sparse; echo "truncate: $?"; ' +
        'head -c 1000000 /dev/zero > /hub/output/small; echo "small: $?"; exec head -c 3000000 /dev/zero > /tmp/big',
      1,
    );
    expect(log).toContain('head: 153');
    expect(log).toContain('truncate: 153');
    expect(log).toContain('small: 0');
    expect((await stat(join(outputDir, 'big'))).size).toBe(MiB);
    expect((await stat(join(outputDir, 'sparse'))).size).toBe(0);
    expect((await readdir(outputDir)).sort()).toEqual(['big', 'small', 'sparse']);
    // The agent's own process (exec) killed by SIGXFSZ: the container exits 128 + 25.
    expect(exitCode).toBe(153);
  });
});
