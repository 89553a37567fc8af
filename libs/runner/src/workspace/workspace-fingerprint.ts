import { createHash } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** A tree with more entries than this is not fingerprinted: it is taken as changed (the capture then decides). */
const MAX_ENTRIES = 100_000;

/**
 * A fingerprint of a directory tree as the file system describes it, for telling, without running
 * git in it, that an agent left its workspace exactly as Hub prepared it: every entry's path, type,
 * mode, size, inode and change time. The change time (ctime) is set by the kernel on any write or
 * metadata change and cannot be set back by an unprivileged process (unlike the modification time,
 * which `touch -d` can), so any change the agent made moves it. Links are described, never followed;
 * only real directories are entered. Null when the tree is too big to be worth it, or gone.
 */
export async function workspaceFingerprint(dir: string): Promise<string | null> {
  const hash = createHash('sha256');
  let entries = 0;
  const pending = [''];
  while (pending.length) {
    const relative = pending.pop()!;
    let names: string[];
    try {
      names = (await readdir(join(dir, relative))).sort();
    } catch {
      return null;
    }
    for (const name of names) {
      if (++entries > MAX_ENTRIES) return null;
      const path = relative ? `${relative}/${name}` : name;
      const stats = await lstat(join(dir, path), { bigint: true }).catch(() => null);
      if (!stats) return null;
      const type = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : stats.isFile() ? 'f' : 'o';
      hash.update(`${path}\0${type}\0${stats.mode}\0${stats.size}\0${stats.ino}\0${stats.ctimeNs}\0${stats.uid}\n`);
      if (type === 'd') pending.push(path);
    }
  }
  return hash.digest('hex');
}
