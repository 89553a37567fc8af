import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bareRepository, commitAndPush, git, TempDirs } from '@hub/testing';
import { ensureMirror } from './mirror-cache';

// Integration test: the real git binary; repositories the test makes on this host.
const temp = new TempDirs();
afterAll(() => temp.removeAll());

function setup() {
  const base = temp.make('mirror');
  const repos = join(base, 'repos');
  mkdirSync(repos);
  const cacheDir = join(base, 'cache');
  return { base, repos, cacheDir, ...bareRepository(repos, 'app', { 'README.md': '# app\n', 'src/app.py': 'print(1)\n' }) };
}

describe('ensureMirror', () => {
  it('clones a bare mirror the first time, under a hash of the source, and leaves no partial clone behind', async () => {
    const { repos, cacheDir, bare } = setup();
    mkdirSync(cacheDir);
    const mirror = await ensureMirror(bare, { cacheDir, localRoots: [repos] });
    expect(mirror).toMatch(new RegExp(`^${cacheDir}/[0-9a-f]{32}\\.git$`));
    expect(git(mirror, 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(git(mirror, 'rev-parse', 'refs/heads/main')).toBe(git(bare, 'rev-parse', 'refs/heads/main'));
    expect(git(mirror, 'config', 'remote.origin.mirror')).toBe('true');
    expect(readdirSync(cacheDir)).toEqual([mirror.slice(cacheDir.length + 1)]);
  });

  it('fetches afterwards: new commits arrive, deleted branches go', async () => {
    const { repos, cacheDir, bare, work } = setup();
    git(work, 'push', '--quiet', 'origin', 'main:old-feature');
    const mirror = await ensureMirror(bare, { cacheDir, localRoots: [repos] });
    expect(git(mirror, 'branch', '--list', 'old-feature')).toContain('old-feature');
    const next = commitAndPush(work, { 'src/app.py': 'print(2)\n' });
    git(work, 'push', '--quiet', 'origin', '--delete', 'old-feature');

    await expect(ensureMirror(bare, { cacheDir, localRoots: [repos] })).resolves.toBe(mirror);
    expect(git(mirror, 'rev-parse', 'refs/heads/main')).toBe(next);
    expect(git(mirror, 'branch', '--list', 'old-feature')).toBe('');
  });

  it('serves sessions of the same repository asking at once with one clone', async () => {
    const { repos, cacheDir, bare } = setup();
    const mirrors = await Promise.all([1, 2, 3].map(() => ensureMirror(bare, { cacheDir, localRoots: [repos] })));
    expect(new Set(mirrors).size).toBe(1);
    expect(readdirSync(cacheDir)).toHaveLength(1);
    expect(git(mirrors[0], 'fsck', '--no-progress')).toBe('');
  });

  it('mirrors a repository with a work tree, given as file://', async () => {
    const { repos, cacheDir, work } = setup();
    const mirror = await ensureMirror(`file://${work}`, { cacheDir, localRoots: [repos] });
    expect(git(mirror, 'rev-parse', 'refs/heads/main')).toBe(git(work, 'rev-parse', 'HEAD'));
  });

  it('refuses a local path outside the allowed roots', async () => {
    const { base, cacheDir, bare } = setup();
    await expect(ensureMirror(bare, { cacheDir, localRoots: [join(base, 'elsewhere')] })).rejects.toThrow(/outside the runner's allowed roots/);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('never shows the token, and keeps nothing of a clone that failed', async () => {
    const { cacheDir } = setup();
    const failure = await ensureMirror('https://127.0.0.1:9/acme/app.git', {
      cacheDir,
      credentials: { token: 's3cret-token' },
      timeoutMs: 20_000,
    }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^git clone --mirror --quiet --no-local --template= -- https:\/\/127\.0\.0\.1:9\/acme\/app\.git <runner>\/[0-9a-f]{32}\.git\.tmp-[0-9a-f]+ failed: /);
    expect((failure as Error).message).not.toContain('s3cret');
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});
