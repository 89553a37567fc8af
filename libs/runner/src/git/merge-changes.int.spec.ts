import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bareRepository, git, TempDirs, writeFiles } from '@hub/testing';
import { type DependencyChanges, MergeConflictError, mergeChanges } from './merge-changes';
import { ensureMirror } from './mirror-cache';
import { prepareWorkspace } from './prepare-workspace';

// Integration test: the real git binary. Dependencies' changes are made here as an agent would (a
// workspace, commits, a bundle of base..HEAD, as captureChanges leaves them), then merged into the
// fresh workspace of the session that depends on them.
const temp = new TempDirs();
afterAll(() => temp.removeAll());
const AGENT = { uid: 1000, gid: 1000 };
const APP = 'def main():\n    print("hello")\n\nmain()\n';

async function setup() {
  const base = temp.make('merge');
  const repos = join(base, 'repos');
  mkdirSync(repos);
  const { bare } = bareRepository(repos, 'app', { 'src/app.py': APP, 'README.md': '# app\n', 'docs/notes.md': 'notes\n' });
  const mirror = await ensureMirror(bare, { cacheDir: join(base, 'cache'), localRoots: [repos] });
  let made = 0;
  const workspace = async (sessionId: string) => {
    const dir = join(base, `ws-${++made}-${sessionId}`);
    return { dir, ...(await prepareWorkspace({ dir, mirror, sessionId, ...AGENT })) };
  };
  /** A dependency that changed `files` (one commit): its bundle of base..HEAD. */
  const dependency = async (sessionName: string, files: Record<string, string>): Promise<DependencyChanges> => {
    const ws = await workspace(sessionName);
    writeFiles(ws.dir, files);
    git(ws.dir, 'add', '--all');
    git(ws.dir, 'commit', '--quiet', '-m', `${sessionName}'s work`);
    const bundleFile = join(base, `${sessionName}.bundle`);
    git(ws.dir, 'bundle', 'create', '--quiet', bundleFile, `${ws.baseCommit}..HEAD`);
    return { sessionName, sessionId: `id-${sessionName}`, bundleFile, headCommit: git(ws.dir, 'rev-parse', 'HEAD') };
  };
  return { base, workspace, dependency };
}

describe('mergeChanges', () => {
  it("merges dependencies' changes to different files in declaration order: a fast-forward, then a merge by Hub", async () => {
    const { workspace, dependency } = await setup();
    const implA = await dependency('impl-a', { 'src/app.py': APP.replace('hello', 'hello from a') });
    const implB = await dependency('impl-b', { 'docs/notes.md': 'notes\nby b\n' });
    const ws = await workspace('tests');

    const merged = await mergeChanges(ws.dir, [implA, implB], AGENT);

    // The merges wrote files as the runner: they are the agent's again. (Checked before the test's
    // own git commands, which run as root.)
    for (const path of [join(ws.dir, 'docs/notes.md'), join(ws.dir, '.git/index'), join(ws.dir, '.git/ORIG_HEAD')]) {
      expect(statSync(path)).toMatchObject({ uid: 1000, gid: 1000 });
    }

    expect(merged.merged).toEqual([
      { sessionName: 'impl-a', outcome: 'fast-forward' },
      { sessionName: 'impl-b', outcome: 'merge' },
    ]);
    expect(merged.headCommit).toBe(git(ws.dir, 'rev-parse', 'HEAD'));
    expect(readFileSync(join(ws.dir, 'src/app.py'), 'utf8')).toContain('hello from a');
    expect(readFileSync(join(ws.dir, 'docs/notes.md'), 'utf8')).toBe('notes\nby b\n');
    expect(git(ws.dir, 'log', '-1', '--format=%an <%ae>|%cn|%s|%P')).toBe(
      `Hub <hub@hub.invalid>|Hub|Merge the changes of impl-b|${implA.headCommit} ${implB.headCommit}`,
    );
    expect(git(ws.dir, 'status', '--porcelain')).toBe('');
    expect(git(ws.dir, 'for-each-ref', 'refs/hub')).toBe('');
  });

  it('merges a dependency already contained in an earlier one as up to date', async () => {
    const { workspace, dependency } = await setup();
    const implA = await dependency('impl-a', { 'README.md': '# app, by a\n' });
    const ws = await workspace('review');
    const merged = await mergeChanges(ws.dir, [implA, implA], AGENT);
    expect(merged.merged.map((m) => m.outcome)).toEqual(['fast-forward', 'up-to-date']);
  });

  it('fails on a conflict, naming the file and both sessions, and leaves the workspace at its base', async () => {
    const { workspace, dependency } = await setup();
    const implA = await dependency('impl-a', { 'src/app.py': APP.replace('hello', 'hello from a'), 'README.md': '# a\n' });
    const implB = await dependency('impl-b', { 'src/app.py': APP.replace('hello', 'hello from b'), 'docs/notes.md': 'b\n' });
    const ws = await workspace('tests');

    const failure = await mergeChanges(ws.dir, [implA, implB], AGENT).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MergeConflictError);
    expect((failure as Error).message).toBe("impl-b's changes conflict with impl-a's in src/app.py");
    expect(failure).toMatchObject({ sessionName: 'impl-b', collidesWith: ['impl-a'], files: ['src/app.py'], fileCount: 1 });
    expect(git(ws.dir, 'rev-parse', 'HEAD')).toBe(ws.baseCommit);
    expect(git(ws.dir, 'status', '--porcelain', '--ignored')).toBe('');
    expect(existsSync(join(ws.dir, '.git/MERGE_HEAD'))).toBe(false);
    expect(readFileSync(join(ws.dir, 'README.md'), 'utf8')).toBe('# app\n');
    expect(git(ws.dir, 'for-each-ref', 'refs/hub')).toBe('');
  });

  it('refuses a bundle that does not end at the recorded head commit', async () => {
    const { workspace, dependency } = await setup();
    const implA = await dependency('impl-a', { 'README.md': 'a\n' });
    const ws = await workspace('tests');
    await expect(mergeChanges(ws.dir, [{ ...implA, headCommit: 'f'.repeat(40) }], AGENT)).rejects.toThrow(
      /^the changes of impl-a end at [0-9a-f]{40}, not at their recorded head f{40}$/,
    );
    expect(git(ws.dir, 'rev-parse', 'HEAD')).toBe(ws.baseCommit);
  });
});
