import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The OS account a server runs as when we are root (PostgreSQL refuses to run as root). */
export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/** Name of the unprivileged account that runs PostgreSQL; override with HUB_POSTGRES_USER. */
export const DEFAULT_POSTGRES_USER = 'hub-postgres';

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * When running as root: the unprivileged account `name`, created (as a system account with no
 * login shell and no home) if missing. When not root: undefined — run as ourselves.
 */
export async function resolveServiceUser(
  name = process.env['HUB_POSTGRES_USER'] || DEFAULT_POSTGRES_USER,
): Promise<ServiceUser | undefined> {
  if (!runningAsRoot()) return undefined;
  const existing = await lookupUser(name);
  if (existing) return existing;
  try {
    await execFileAsync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      name,
    ]);
  } catch (err) {
    // Exit code 9: created meanwhile by a concurrent caller (e.g. another jest worker).
    const code = (err as { code?: unknown }).code;
    if (code !== 9) {
      const created = await lookupUser(name);
      if (created) return created;
      throw new Error(
        `cannot create the unprivileged OS user "${name}" that runs PostgreSQL ` +
          `(useradd --system ${name} failed: ${(err as Error).message.trim()}). ` +
          `Create it by hand or set HUB_POSTGRES_USER to an existing unprivileged account.`,
      );
    }
  }
  const created = await lookupUser(name);
  if (!created) throw new Error(`useradd reported success but user "${name}" does not exist`);
  return created;
}

async function lookupUser(name: string): Promise<ServiceUser | undefined> {
  // Read /etc/passwd directly: getent may be missing on minimal images; system users are local.
  let passwd: string;
  try {
    passwd = await fs.readFile('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}

/** chown -R without spawning chown; symlinks are re-owned, not followed. */
export async function chownRecursive(path: string, uid: number, gid: number): Promise<void> {
  await fs.lchown(path, uid, gid);
  const stat = await fs.lstat(path);
  if (!stat.isDirectory()) return;
  const entries = await fs.readdir(path);
  for (const entry of entries) {
    await chownRecursive(join(path, entry), uid, gid);
  }
}

/**
 * Throws a clear error when `user` cannot reach `path` because an ancestor directory is not
 * searchable by it (e.g. a data directory under /root, which is mode 0700).
 */
export async function assertTraversableBy(path: string, user: ServiceUser, what: string): Promise<void> {
  let dir = dirname(path);
  for (;;) {
    const stat = await fs.stat(dir);
    const searchable =
      stat.uid === user.uid ? (stat.mode & 0o100) !== 0 : stat.gid === user.gid ? (stat.mode & 0o010) !== 0 : (stat.mode & 0o001) !== 0;
    if (!searchable) {
      throw new Error(
        `${what} ${path} is not reachable by the unprivileged user "${user.name}" that runs it: ` +
          `${dir} (mode ${(stat.mode & 0o777).toString(8)}) is not searchable by that user. ` +
          `Put it under a world-searchable directory (e.g. /tmp or the repository's .hub/) or run: chmod o+x ${dir}`,
      );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
