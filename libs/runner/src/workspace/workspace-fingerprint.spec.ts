import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceFingerprint } from './workspace-fingerprint';

describe('workspaceFingerprint', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hub-fingerprint-'));
    mkdirSync(join(dir, '.git', 'refs'), { recursive: true });
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** ctime has nanoseconds here, but two writes in one clock tick could share one: wait for the next. */
  const nextTick = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('is the same for a tree nobody touched, and differs once anything in it is written, added, removed or re-moded', async () => {
    const untouched = await workspaceFingerprint(dir);
    expect(untouched).toMatch(/^[0-9a-f]{64}$/);
    expect(await workspaceFingerprint(dir)).toBe(untouched);

    const changes: (() => void)[] = [
      () => writeFileSync(join(dir, 'a.txt'), 'b\n'), // same size, other content
      () => writeFileSync(join(dir, 'new.txt'), ''),
      () => rmSync(join(dir, 'new.txt')),
      () => chmodSync(join(dir, 'a.txt'), 0o600),
      () => writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/evil\n'),
      () => symlinkSync('/etc/passwd', join(dir, 'link')),
    ];
    let before = untouched;
    for (const change of changes) {
      await nextTick();
      change();
      const after = await workspaceFingerprint(dir);
      expect(after).not.toBe(before);
      before = after;
    }
  });

  it('sees a change whose writer set the modification time back (the change time cannot be)', async () => {
    const { atime, mtime } = statSync(join(dir, 'a.txt'));
    const before = await workspaceFingerprint(dir);
    await nextTick();
    writeFileSync(join(dir, 'a.txt'), 'x\n');
    utimesSync(join(dir, 'a.txt'), atime, mtime);
    expect(await workspaceFingerprint(dir)).not.toBe(before);
  });

  it('does not follow links: a link to a directory is described, not entered', async () => {
    symlinkSync('/', join(dir, 'root'));
    expect(await workspaceFingerprint(dir)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is null for a tree that is gone', async () => {
    expect(await workspaceFingerprint(join(dir, 'missing'))).toBeNull();
  });
});
