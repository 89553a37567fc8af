import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bareRepository, commitAndPush, git, TempDirs, writeFiles } from '@hub/testing';
import { BASE_REF, createBaseBundle } from './base-bundle';
import { ensureMirror } from './mirror-cache';
import { prepareWorkspace } from './prepare-workspace';

// Integration test: the real git binary, on repositories the test makes on this host.
const temp = new TempDirs();
afterAll(() => temp.removeAll());
const AGENT = { uid: 1000, gid: 1000 };

async function setup() {
  const base = temp.make('base-bundle');
  const repos = join(base, 'repos');
  mkdirSync(repos);
  const { bare, work } = bareRepository(repos, 'app', { 'README.md': '# app\n' });
  const second = commitAndPush(work, { 'src/app.py': 'print(1)\n' }, 'second');
  const mirror = await ensureMirror(bare, { cacheDir: join(base, 'cache'), localRoots: [repos] });
  return { base, mirror, work, second };
}

describe('createBaseBundle', () => {
  it('bundles the whole history up to the base under the one ref refs/hub/base, leaving the mirror as it was', async () => {
    const { base, mirror, work, second } = await setup();
    const refsBefore = git(mirror, 'for-each-ref');
    const later = commitAndPush(work, { 'src/app.py': 'print(2)\n' }, 'later');
    await ensureMirror(join(base, 'repos', 'app.git'), { cacheDir: join(base, 'cache'), localRoots: [join(base, 'repos')] });

    const bundle = await createBaseBundle({ baseCommit: second, mirror, scratchDir: join(base, 'scratch') });

    expect(git(base, 'bundle', 'list-heads', bundle)).toBe(`${second} ${BASE_REF}`);
    // No prerequisites: an empty repository takes it whole, with both commits up to the base and nothing after.
    const copy = join(base, 'copy');
    git(base, 'init', '--quiet', '--bare', copy);
    git(copy, 'fetch', '--quiet', bundle, `${BASE_REF}:${BASE_REF}`);
    expect(git(copy, 'log', '--format=%s', BASE_REF).split('\n')).toEqual(['second', 'initial']);
    expect(() => git(copy, 'cat-file', '-e', later)).toThrow();
    expect(git(mirror, 'for-each-ref')).toBe(refsBefore.replace(second, later));
    expect(git(mirror, 'for-each-ref', 'refs/hub')).toBe('');
    expect(existsSync(join(mirror, 'objects', 'info', 'alternates'))).toBe(false);
  });

  it("with a session's bundle of base..head, gives its whole branch", async () => {
    const { base, mirror, second } = await setup();
    const ws = join(base, 'ws');
    const prepared = await prepareWorkspace({ dir: ws, mirror, sessionId: 'sess-1', ...AGENT });
    expect(prepared.baseCommit).toBe(second);
    writeFiles(ws, { 'new.txt': 'new\n' });
    git(ws, 'add', '--all');
    git(ws, 'commit', '--quiet', '-m', 'work');
    const changes = join(base, 'changes.bundle');
    git(ws, 'bundle', 'create', '--quiet', changes, `${second}..HEAD`);

    const bundle = await createBaseBundle({ baseCommit: second, mirror, scratchDir: join(base, 'scratch') });

    const copy = join(base, 'copy');
    git(base, 'init', '--quiet', '--bare', copy);
    expect(() => git(copy, 'fetch', '--quiet', changes, 'HEAD:refs/heads/branch')).toThrow(/prerequisite|lacks/);
    git(copy, 'fetch', '--quiet', bundle, `${BASE_REF}:${BASE_REF}`);
    git(copy, 'fetch', '--quiet', changes, 'HEAD:refs/heads/branch');
    expect(git(copy, 'show', 'refs/heads/branch:new.txt')).toBe('new');
    expect(git(copy, 'fsck', '--no-progress', '--no-dangling')).toBe('');
  });

  it('refuses a base commit the mirror does not have', async () => {
    const { base, mirror } = await setup();
    await expect(createBaseBundle({ baseCommit: 'e'.repeat(40), mirror, scratchDir: join(base, 'scratch') })).rejects.toThrow(
      `base commit ${'e'.repeat(40)} is not in the repository's mirror`,
    );
  });

  it('makes the empty commit of a workspace without repository, the same as prepareWorkspace', async () => {
    const { base } = await setup();
    const ws = join(base, 'empty-ws');
    const { baseCommit } = await prepareWorkspace({ dir: ws, mirror: null, sessionId: 'sess-1', ...AGENT });

    const bundle = await createBaseBundle({ baseCommit, mirror: null, scratchDir: join(base, 'scratch') });

    expect(git(base, 'bundle', 'list-heads', bundle)).toBe(`${baseCommit} ${BASE_REF}`);
    await expect(createBaseBundle({ baseCommit: 'e'.repeat(40), mirror: null, scratchDir: join(base, 'scratch-2') })).rejects.toThrow(
      /is not the empty commit of a workspace without repository/,
    );
  });
});
