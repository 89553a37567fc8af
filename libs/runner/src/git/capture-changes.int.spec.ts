import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDockerClient } from '../docker/docker-client';
import { DockerContainerEngine } from '../docker/docker-container-engine';
import { captureChanges, CaptureError, type CaptureRequest } from './capture-changes';
import { bareRepository, git, TempDirs, writeFiles } from '@hub/testing';
import { mergeChanges } from './merge-changes';
import { ensureMirror } from './mirror-cache';
import { handOver, prepareWorkspace } from './prepare-workspace';

// Integration test: the real Docker engine and the hub/test-agent image (busybox and git) as the
// capture helper, on workspaces prepared from a local bare repository. The agent's work is done here
// as root and then handed to uid 1000, as if the agent had done it. Fails (never skips) when Docker
// is unreachable or the image has no git.
const IMAGE = process.env['HUB_TEST_AGENT_IMAGE'] ?? 'hub/test-agent:latest';
const BUILD_SCRIPT = resolve(__dirname, '../../../../images/test-agent/build.sh');
const AGENT = { uid: 1000, gid: 1000 };
const engine = new DockerContainerEngine(createDockerClient(process.env['DOCKER_HOST']));
const temp = new TempDirs();

beforeAll(async () => {
  await engine.ping();
  execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' });
  const version = execFileSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', IMAGE, '-c', 'git --version'], {
    encoding: 'utf8',
  });
  expect(version).toMatch(/^git version/);
});
afterAll(() => temp.removeAll());

async function workspaceOf(files: Record<string, string>) {
  const base = temp.make('capture');
  const repos = join(base, 'repos');
  mkdirSync(repos);
  const { bare } = bareRepository(repos, 'app', files);
  const mirror = await ensureMirror(bare, { cacheDir: join(base, 'cache'), localRoots: [repos] });
  const dir = join(base, 'workspace');
  const prepared = await prepareWorkspace({ dir, mirror, sessionId: 'sess-1', ...AGENT });
  const outDir = join(base, 'out');
  mkdirSync(outDir, { mode: 0o700 });
  const request: CaptureRequest = {
    workspaceDir: dir,
    baseCommit: prepared.baseCommit,
    sessionId: 'sess-1',
    sessionLabel: 'impl-a',
    ...AGENT,
    outDir,
    image: IMAGE,
    limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 2_000_000_000, pids: 128 },
    runnerId: 'runner-test',
  };
  return { base, dir, mirror, outDir, request, baseCommit: prepared.baseCommit };
}

/** What the agent did, as the agent (uid 1000) would own it. */
function asAgent(dir: string, work: () => void): Promise<void> {
  work();
  return handOver(dir, AGENT.uid, AGENT.gid);
}

/** The commits of a bundle, read into a scratch repository: subject and author of each, newest first. */
function bundleCommits(base: string, bundle: string): { log: string[]; repo: string } {
  const repo = join(base, `scratch-${Math.random().toString(36).slice(2)}`);
  git(base, 'init', '--quiet', '--bare', repo);
  git(repo, 'fetch', '--quiet', join(base, 'repos', 'app.git'), 'main:refs/base');
  git(repo, 'fetch', '--quiet', bundle, 'HEAD:refs/captured');
  return { repo, log: git(repo, 'log', '--format=%an|%s', 'refs/base..refs/captured').split('\n') };
}

describe('captureChanges', () => {
  it("keeps the agent's commits and commits what it left uncommitted, as the session", async () => {
    const { base, dir, outDir, request, baseCommit, mirror } = await workspaceOf({
      'README.md': '# app\n',
      'src/app.py': 'print(1)\nprint(2)\n',
      'docs/notes.md': 'notes\n',
    });
    await asAgent(dir, () => {
      writeFiles(dir, { 'README.md': '# app\n\nNow documented.\n' });
      git(dir, 'commit', '--quiet', '-am', 'Document the app');
      writeFiles(dir, { 'src/app.py': 'print(1)\nprint(3)\nprint(4)\n', 'new.txt': 'new\n' });
      rmSync(join(dir, 'docs/notes.md'));
    });

    const captured = await captureChanges(engine, request);

    expect(captured).toMatchObject({
      baseCommit,
      headCommit: git(dir, 'rev-parse', 'HEAD'),
      fileCount: 4,
      added: 5,
      removed: 2,
      bundleFile: join(outDir, 'changes.bundle'),
      diffFile: join(outDir, 'changes.diff'),
      truncated: false,
    });
    expect(captured.files).toEqual([
      { path: 'README.md', added: 2, removed: 0 },
      { path: 'docs/notes.md', added: 0, removed: 1 },
      { path: 'new.txt', added: 1, removed: 0 },
      { path: 'src/app.py', added: 2, removed: 1 },
    ]);
    const { log } = bundleCommits(base, captured.bundleFile!);
    expect(log).toEqual(['hub session impl-a|Changes left uncommitted by session impl-a', 'test|Document the app']);
    const diff = readFileSync(captured.diffFile, 'utf8');
    expect(diff).toContain('diff --git a/src/app.py b/src/app.py');
    expect(captured.diffBytes).toBe(Buffer.byteLength(diff));
    expect(git(dir, 'status', '--porcelain')).toBe('');

    // What the next session starts from: the captured changes merged into a fresh workspace.
    const next = join(base, 'next');
    await prepareWorkspace({ dir: next, mirror, sessionId: 'sess-2', ...AGENT });
    const merged = await mergeChanges(next, [{ sessionName: 'impl-a', sessionId: 'sess-1', bundleFile: captured.bundleFile!, headCommit: captured.headCommit }], AGENT);
    expect(merged).toEqual({ headCommit: captured.headCommit, merged: [{ sessionName: 'impl-a', outcome: 'fast-forward' }] });
    expect(readFileSync(join(next, 'new.txt'), 'utf8')).toBe('new\n');
  });

  it('captures nothing when nothing changed', async () => {
    const { request, baseCommit } = await workspaceOf({ 'a.txt': 'a\n' });
    const captured = await captureChanges(engine, request);
    expect(captured).toMatchObject({ headCommit: baseCommit, files: [], fileCount: 0, bundleFile: null, diffBytes: 0, truncated: false });
  });

  it('cuts the diff at its cap and says so', async () => {
    const { dir, request } = await workspaceOf({ 'a.txt': 'a\n' });
    await asAgent(dir, () => writeFiles(dir, { 'a.txt': 'line\n'.repeat(10_000) }));
    const captured = await captureChanges(engine, { ...request, diffCapBytes: 1000 });
    expect(captured).toMatchObject({ diffBytes: 1000, truncated: true, files: [{ path: 'a.txt', added: 10_000, removed: 1 }] });
    expect(readFileSync(captured.diffFile)).toHaveLength(1000);
  });

  it("runs nothing the agent's .git names, and commits a link to a host file as a link", async () => {
    const { base, dir, request } = await workspaceOf({ 'a.txt': 'a\n' });
    const markers = temp.make('host-markers');
    const evil = join(dir, '.git', 'evil');
    await asAgent(dir, () => {
      // Each mechanism runs .git/evil (a relative path, so it would run on the host as well as in a
      // container): it touches a marker on the host (an absolute host path) and one in the workspace.
      writeFileSync(evil, `#!/bin/sh\ntouch "${markers}/$1" 2>/dev/null\ntouch "/workspace/.ran-$1" 2>/dev/null\ncat\n`);
      chmodSync(evil, 0o755);
      for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'pre-auto-gc', 'reference-transaction']) {
        mkdirSync(join(dir, '.git', 'hooks'), { recursive: true });
        writeFileSync(join(dir, '.git', 'hooks', hook), `#!/bin/sh\nexec .git/evil hook-${hook} </dev/null\n`);
        chmodSync(join(dir, '.git', 'hooks', hook), 0o755);
      }
      const config = readFileSync(join(dir, '.git', 'config'), 'utf8');
      writeFileSync(
        join(dir, '.git', 'config'),
        `${config}[core]\n\tfsmonitor = .git/evil fsmonitor\n\thooksPath = .git/hooks\n\tworktree = /tmp\n` +
          `[filter "evil"]\n\tclean = .git/evil filter-clean\n\tsmudge = .git/evil filter-smudge\n\trequired = true\n` +
          `[diff]\n\texternal = .git/evil diff-external\n[diff "evil"]\n\ttextconv = .git/evil textconv\n` +
          `[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = .git/evil gpg\n[gc]\n\tauto = 1\n`,
      );
      writeFiles(dir, { '.gitattributes': '* filter=evil diff=evil\n', 'a.txt': 'changed\n' });
      symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
    });

    const captured = await captureChanges(engine, request);

    expect(execFileSync('ls', ['-A', markers], { encoding: 'utf8' })).toBe('');
    expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).split('\n').filter((name) => name.startsWith('.ran-'))).toEqual([]);
    const { repo } = bundleCommits(base, captured.bundleFile!);
    expect(git(repo, 'ls-tree', 'refs/captured', 'passwd-link')).toMatch(/^120000 blob [0-9a-f]{40}\tpasswd-link$/);
    expect(git(repo, 'cat-file', '-p', 'refs/captured:passwd-link')).toBe('/etc/passwd');
    expect(git(repo, 'cat-file', '-p', 'refs/captured:a.txt')).toBe('changed');
    expect(readFileSync(captured.diffFile, 'utf8')).not.toContain('root:x:0:0');
    expect(captured.files.map((file) => file.path).sort()).toEqual(['.gitattributes', 'a.txt', 'passwd-link']);
  });

  it('fails with a reason when the workspace is no longer a repository', async () => {
    const { dir, request } = await workspaceOf({ 'a.txt': 'a\n' });
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    const failure = await captureChanges(engine, request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CaptureError);
    expect((failure as Error).message).toBe('capturing the changes of impl-a failed: the workspace is no longer a git repository (capture: .git is gone)');
  });

  it('counts every changed file and lists the first maxFilesListed of them', async () => {
    // Its speed (1,000 changed files) is measured by `npm run bench -- git`, not here.
    const files: Record<string, string> = {};
    for (let i = 0; i < 1_001; i++) files[`src/module-${String(i).padStart(4, '0')}.txt`] = `line 1 of ${i}\nline 2\n`;
    const { dir, request } = await workspaceOf(files);
    await asAgent(dir, () => writeFiles(dir, Object.fromEntries(Object.keys(files).map((path) => [path, `${files[path]}added by the agent\n`]))));
    const captured = await captureChanges(engine, request);
    expect(captured).toMatchObject({ fileCount: 1_001, added: 1_001, removed: 0, truncated: false });
    expect(captured.files).toHaveLength(1_000);
    expect(captured.files[999]).toEqual({ path: 'src/module-0999.txt', added: 1, removed: 0 });
    expect(existsSync(captured.bundleFile!)).toBe(true);
  });
});
