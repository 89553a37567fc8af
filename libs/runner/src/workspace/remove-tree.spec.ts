import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from './remove-tree';

/** A tree `levels` directories deep, made relative (by cd), with a file at the bottom. */
function deepTree(root: string, levels: number, name = 'd'.repeat(200)): void {
  mkdirSync(root, { recursive: true });
  execFileSync('bash', ['-c', `cd "$1" && for i in $(seq ${levels}); do mkdir ${name} && cd ${name}; done && echo bottom > file`, '_', root]);
}

describe('removeTree', () => {
  let base: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'hub-remove-tree-'));
  });

  afterEach(() => {
    execFileSync('rm', ['-rf', '--one-file-system', base]);
  });

  it('removes a tree deeper than PATH_MAX, where fs.rm fails with ENAMETOOLONG', async () => {
    const tree = join(base, 'attempt');
    deepTree(tree, 30); // 30 × 201 bytes: over 6,000 bytes deep
    await expect(rm(tree, { recursive: true, force: true })).rejects.toMatchObject({ code: 'ENAMETOOLONG' });

    await removeTree(tree);
    expect(existsSync(tree)).toBe(false);
  });

  it('removes links, not what they point at, and is quiet when there is nothing to remove', async () => {
    const keep = join(base, 'keep');
    mkdirSync(keep);
    writeFileSync(join(keep, 'precious'), 'x');
    const tree = join(base, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    symlinkSync(keep, join(tree, 'sub', 'link-to-dir'));
    symlinkSync(join(keep, 'precious'), join(tree, 'link-to-file'));
    // Directories the agent made unwritable and unreadable (the runner removes as root or as their owner).
    execFileSync('chmod', ['000', join(tree, 'sub')]);

    await removeTree(tree);
    expect(existsSync(tree)).toBe(false);
    expect(existsSync(join(keep, 'precious'))).toBe(true);
    await removeTree(join(base, 'never-made'));
  });

  it('refuses a relative path and the root', async () => {
    await expect(removeTree('relative/dir')).rejects.toThrow(/not an absolute path/);
    await expect(removeTree('/')).rejects.toThrow(/not an absolute path below/);
    await expect(removeTree('//')).rejects.toThrow(/not an absolute path below/);
  });
});
