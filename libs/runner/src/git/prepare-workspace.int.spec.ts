import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareRepository, commitAndPush, git, TempDirs } from '@hub/testing';
import { ensureMirror } from './mirror-cache';
import { prepareWorkspace } from './prepare-workspace';

// Integration test: the real git binary, a local bare repository the test makes, its mirror, and
// workspaces prepared from it (the runner runs as root here, so they are handed to uid 1000).
const temp = new TempDirs();
afterAll(() => temp.removeAll());
const AGENT = { uid: 1000, gid: 1000 };

async function mirrored(files: Record<string, string>) {
  const base = temp.make('prepare');
  const repos = join(base, 'repos');
  mkdirSync(repos);
  const repo = bareRepository(repos, 'app', files);
  const mirror = await ensureMirror(repo.bare, { cacheDir: join(base, 'cache'), localRoots: [repos] });
  return { base, mirror, ...repo };
}

/** Every entry under dir (not following links), with its owner. */
function owners(dir: string): Set<string> {
  const seen = new Set<string>();
  const walk = (path: string) => {
    const info = statSync(path, { throwIfNoEntry: true });
    seen.add(`${info.uid}:${info.gid}`);
    if (info.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return seen;
}

describe('prepareWorkspace', () => {
  it("clones the mirror at the repository's HEAD, with the agent's identity, no remote, owned by the agent", async () => {
    const { base, mirror, bare } = await mirrored({ 'README.md': '# app\n', 'src/app.py': 'print(1)\n' });
    const dir = join(base, 'workspace');

    const prepared = await prepareWorkspace({ dir, mirror, sessionId: 's-1', ...AGENT });

    // (Checked first: the test's own git commands below run as root and may rewrite the index.)
    expect([...owners(dir)]).toEqual(['1000:1000']);
    expect(prepared).toEqual({ baseCommit: git(bare, 'rev-parse', 'main'), branch: 'main' });
    expect(readFileSync(join(dir, 'src/app.py'), 'utf8')).toBe('print(1)\n');
    expect(git(dir, 'config', 'user.name')).toBe('hub session s-1');
    expect(git(dir, 'config', 'user.email')).toBe('session-s-1@hub.invalid');
    expect(git(dir, 'remote')).toBe('');
    expect(git(dir, 'status', '--porcelain')).toBe('');
    // No object file is shared with the mirror: nothing done in the workspace can reach it.
    const packs = readdirSync(join(dir, '.git/objects/pack'));
    for (const pack of packs) expect(statSync(join(dir, '.git/objects/pack', pack)).nlink).toBe(1);
    expect(readFileSync(join(dir, '.git/config'), 'utf8')).not.toContain(base);
  });

  it('checks out the branch asked for, and says so when there is no such branch', async () => {
    const { base, work, bare } = await mirrored({ 'a.txt': 'a\n' });
    git(work, 'checkout', '--quiet', '-b', 'feature');
    const feature = commitAndPush(work, { 'b.txt': 'b\n' });
    git(work, 'push', '--quiet', 'origin', 'feature');
    const mirror = await ensureMirror(bare, { cacheDir: join(base, 'cache'), localRoots: [join(base, 'repos')] });

    const prepared = await prepareWorkspace({ dir: join(base, 'ws-feature'), mirror, branch: 'feature', sessionId: 's-2', ...AGENT });
    expect(prepared).toEqual({ baseCommit: feature, branch: 'feature' });
    expect(git(join(base, 'ws-feature'), 'symbolic-ref', '--short', 'HEAD')).toBe('feature');

    // A branch the repository does not have yet is made from its HEAD.
    const created = await prepareWorkspace({ dir: join(base, 'ws-missing'), mirror, branch: 'nope', sessionId: 's-3', ...AGENT });
    expect(created.branch).toBe('nope');
    expect(git(join(base, 'ws-missing'), 'symbolic-ref', '--short', 'HEAD')).toBe('nope');
    expect(created.baseCommit).toBe(git(bare, 'rev-parse', 'HEAD'));
  });

  it('gives a session without a repository an empty repository whose one empty commit is the same everywhere', async () => {
    const base = temp.make('empty');
    const first = await prepareWorkspace({ dir: join(base, 'one'), mirror: null, sessionId: 'a', ...AGENT });
    const second = await prepareWorkspace({ dir: join(base, 'two'), mirror: null, sessionId: 'b', ...AGENT });
    expect(first).toEqual({ baseCommit: expect.stringMatching(/^[0-9a-f]{40}$/), branch: 'main' });
    expect(second.baseCommit).toBe(first.baseCommit);
    expect(git(join(base, 'one'), 'ls-tree', '-r', 'HEAD')).toBe('');
    expect(git(join(base, 'one'), 'log', '--format=%an <%ae> %s')).toBe('Hub <hub@hub.invalid> Empty workspace prepared by Hub');
    expect([...owners(join(base, 'one'))]).toEqual(['1000:1000']);
  });

  it('gives an empty repository the same empty commit', async () => {
    const base = temp.make('empty-repo');
    const repos = join(base, 'repos');
    git(base, 'init', '--quiet', '--bare', '--initial-branch=main', join(repos, 'void.git'));
    const mirror = await ensureMirror(join(repos, 'void.git'), { cacheDir: join(base, 'cache'), localRoots: [repos] });
    const fromRepo = await prepareWorkspace({ dir: join(base, 'ws'), mirror, sessionId: 'x', ...AGENT });
    const fromNothing = await prepareWorkspace({ dir: join(base, 'ws2'), mirror: null, sessionId: 'y', ...AGENT });
    expect(fromRepo).toEqual(fromNothing);
  });

  it('refuses a directory that is not empty', async () => {
    const base = temp.make('busy');
    writeFileSync(join(base, 'something'), 'x');
    await expect(prepareWorkspace({ dir: base, mirror: null, sessionId: 'x', ...AGENT })).rejects.toThrow(/not empty/);
  });

  it('checks out every file of a repository of many files in many directories', async () => {
    // Its speed (10,000 files, 50 MB) is measured by `npm run bench -- git`, not here.
    const files: Record<string, string> = {};
    for (let i = 0; i < 2_000; i++) files[`dir-${String(i % 100).padStart(2, '0')}/file-${i}.txt`] = `file ${i}\n`;
    const { base, mirror } = await mirrored(files);
    const dir = join(base, 'workspace');
    await prepareWorkspace({ dir, mirror, sessionId: 'many', ...AGENT });
    const dirs = readdirSync(dir).filter((name) => name !== '.git');
    expect(dirs).toHaveLength(100);
    expect(dirs.reduce((sum, name) => sum + readdirSync(join(dir, name)).length, 0)).toBe(2_000);
    expect(readFileSync(join(dir, 'dir-07/file-1907.txt'), 'utf8')).toBe('file 1907\n');
    expect([...owners(dir)]).toEqual(['1000:1000']);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });
});
