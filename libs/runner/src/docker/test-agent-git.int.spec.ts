import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ContainerInput, ContainerLaunch } from '../ports/container-engine.port';
import { createDockerClient } from './docker-client';
import { DockerContainerEngine } from './docker-container-engine';

// Integration test: git in the test agent image, run by the real engine the way the runner runs a
// session (no network, uid 1000, every capability dropped, /tmp a tmpfs). One container commits on two
// branches and leaves a bundle in its output; a second gets that output as an input, clones and
// fetches the bundle, commits and merges. Neither has a usable home: the first a HOME it cannot write,
// the second none at all. Fails (never skips) when Docker is unreachable.
const IMAGE = process.env['HUB_TEST_AGENT_IMAGE'] ?? 'hub/test-agent:latest';
const BUILD_SCRIPT = resolve(__dirname, '../../../../images/test-agent/build.sh');
const RUN = `jest-git-${process.pid}-${Date.now().toString(36)}`;

const engine = new DockerContainerEngine(createDockerClient(process.env['DOCKER_HOST']));
const containers: string[] = [];
const dirs: string[] = [];

/** A host directory the agent (uid 1000) may write to. */
async function hostDir(purpose: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hub-test-agent-git-${purpose}-`));
  dirs.push(dir);
  await chmod(dir, 0o777);
  return dir;
}

/** Runs `script` as the session prompt; resolves with its exit code, its log and its output directory. */
async function session(name: string, script: string, extra: { env?: Record<string, string>; inputs?: ContainerInput[] } = {}) {
  const promptFile = join(await hostDir(`${name}-prompt`), 'prompt');
  await writeFile(promptFile, script, { mode: 0o644 });
  const launch: ContainerLaunch = {
    sessionId: `${RUN}-${name}`,
    attempt: 1,
    image: IMAGE,
    env: extra.env ?? {},
    outputDir: await hostDir(`${name}-output`),
    promptFile,
    workspaceDir: await hostDir(`${name}-workspace`),
    inputs: extra.inputs ?? [],
    network: 'none',
    limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 1_000_000_000, pids: 64 },
    user: '1000:1000',
    runnerId: 'runner-test',
    logCapBytes: 1024 * 1024,
    fileSizeLimitBytes: 64 * 1024 * 1024,
    tmpBytes: 64 * 1024 * 1024,
  };
  const id = await engine.create(launch);
  containers.push(id);
  await engine.start(id);
  const { exitCode } = await engine.wait(id);
  const log = (await engine.readLog(id)).toString('utf8');
  return { exitCode, log, outputDir: launch.outputDir };
}

const AUTHOR = `set -eu
g() { git -c user.name=author -c user.email=author@hub.test "$@"; }
echo "uid $(id -u) HOME=$HOME"
cd /workspace
git init -q -b main repo
cd repo
printf 'one\\ntwo\\n' > shared.txt
git add shared.txt
g commit -qm base
git checkout -qb feature
printf 'feature line\\n' > feature.txt
git add feature.txt
g commit -qm 'add feature'
git bundle create -q /hub/output/repo.bundle main feature
echo bundled
`;

const MERGER = `set -eu
unset HOME
g() { git -c user.name=merger -c user.email=merger@hub.test "$@"; }
echo "uid $(id -u) HOME=\${HOME-unset}"
cd /workspace
git clone -q -b main /hub/inputs/author/repo.bundle repo
cd repo
printf 'main line\\n' > main.txt
git add main.txt
g commit -qm 'on main'
git fetch -q /hub/inputs/author/repo.bundle feature:refs/heads/feature
g merge -q --no-ff -m 'merge feature' feature
git log --first-parent --format=%s > /hub/output/first-parent.txt
git log --format=%s HEAD^2 > /hub/output/merged-branch.txt
git diff --numstat HEAD^1 HEAD > /hub/output/numstat.txt
cat shared.txt feature.txt main.txt > /hub/output/files.txt
git status --porcelain > /hub/output/status.txt
git bundle create -q /hub/output/merged.bundle main
echo merged
`;

beforeAll(async () => {
  await engine.ping();
  execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' });
});

afterAll(async () => {
  for (const id of containers) await engine.remove(id);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the test agent image: git', () => {
  it('commits, bundles, and in a second container clones, fetches and merges the bundle', async () => {
    const author = await session('author', AUTHOR, { env: { HOME: '/nonexistent' } });
    expect({ exitCode: author.exitCode, log: author.log }).toEqual({ exitCode: 0, log: 'uid 1000 HOME=/nonexistent\nbundled\n' });
    expect((await readFile(join(author.outputDir, 'repo.bundle'))).subarray(0, 16).toString('latin1')).toMatch(/^# v[23] git bundle\n/);

    const merger = await session('merger', MERGER, { inputs: [{ name: 'author', hostPath: author.outputDir }] });
    expect({ exitCode: merger.exitCode, log: merger.log }).toEqual({ exitCode: 0, log: 'uid 1000 HOME=unset\nmerged\n' });

    const output = (file: string) => readFile(join(merger.outputDir, file), 'utf8');
    expect(await output('first-parent.txt')).toBe('merge feature\non main\nbase\n');
    expect(await output('merged-branch.txt')).toBe('add feature\nbase\n');
    expect(await output('numstat.txt')).toBe('1\t0\tfeature.txt\n');
    expect(await output('files.txt')).toBe('one\ntwo\nfeature line\nmain line\n');
    expect(await output('status.txt')).toBe('');
    expect((await readFile(join(merger.outputDir, 'merged.bundle'))).length).toBeGreaterThan(0);
  });
});
