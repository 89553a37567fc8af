import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostDirAlias } from '@hub/git';
import { removeTree } from '../workspace/remove-tree';
import { type GitProtocol, hostGit, type HostGitOptions } from '@hub/git';

/** A token for fetching over https, kept on the runner: sent as an Authorization header, never stored. */
export interface GitCredentials {
  token: string;
  /** Basic auth's user name; default `x-access-token` (GitHub's name for a token). */
  username?: string;
}

export interface MirrorOptions {
  /** The runner's mirror cache: one bare mirror per repository, `<cacheDir>/<hash of the source>.git`. */
  cacheDir: string;
  /** For an https repository: sent with this fetch only (never in a config file, never in a workspace). */
  credentials?: GitCredentials;
  /** Host directories under which a repository may be a local path; empty (the default): local paths are refused. */
  localRoots?: readonly string[];
  /** For the clone or fetch; default 10 minutes. */
  timeoutMs?: number;
  /** Host directories hidden in errors, beside the cache directory. */
  hide?: readonly (string | HostDirAlias)[];
}

/** Where a repository is fetched from: an https URL or a local repository (bare or not) under an allowed root. */
export type RepositorySource = { kind: 'https'; url: string } | { kind: 'local'; path: string };

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Mirrors being made or fetched, by path: a second caller joins the one under way. */
const inFlight = new Map<string, Promise<string>>();

/**
 * The path of the runner's bare mirror of `repository`, up to date: `git clone --mirror` the first
 * time (into a temporary name, renamed once complete, so a crash never leaves half a mirror), `git
 * fetch --prune` afterwards. Sessions of the same repository asking at once share one clone or fetch
 * (per process: one runner per cache directory). Workspaces are then cloned from it locally
 * (prepareWorkspace), which costs no network.
 */
export async function ensureMirror(repository: string, options: MirrorOptions): Promise<string> {
  const source = await resolveRepositorySource(repository, options.localRoots ?? []);
  const mirror = join(options.cacheDir, `${mirrorKey(source)}.git`);
  const running = inFlight.get(mirror);
  if (running) return running;
  const work = update(source, mirror, options).finally(() => inFlight.delete(mirror));
  inFlight.set(mirror, work);
  return work;
}

/**
 * What a session's `repository` names, checked: an `https://` URL without credentials in it (they
 * belong in the runner's configuration), or a local path (`/…` or `file://…`) whose real location is
 * under one of `localRoots`. Anything else (ssh, git://, ext::, a relative path, an option) is refused.
 */
export async function resolveRepositorySource(repository: string, localRoots: readonly string[]): Promise<RepositorySource> {
  if (repository.startsWith('/') || repository.startsWith('file://')) {
    const path = repository.replace(/^file:\/\//, '');
    const real = await realpath(path).catch(() => {
      throw new Error(`repository ${path} does not exist on the runner`);
    });
    const roots = await Promise.all(localRoots.map((root) => realpath(root).catch(() => null)));
    if (!roots.some((root) => root && (real === root || real.startsWith(`${root}/`)))) {
      throw new Error(`repository ${path} is a local path outside the runner's allowed roots (HUB_LOCAL_REPOSITORY_ROOTS: ${localRoots.join(', ') || 'none set'})`);
    }
    return { kind: 'local', path: real };
  }
  let url: URL;
  try {
    url = new URL(repository);
  } catch {
    throw new Error(`repository "${repository.slice(0, 200)}" is neither an https:// URL nor a local path`);
  }
  if (url.protocol !== 'https:') throw new Error(`repository ${url.protocol}// URLs are not supported: use https:// or a local path`);
  if (url.username || url.password) {
    throw new Error('repository URL carries credentials: give the token to the runner (its configuration), not in the URL');
  }
  return { kind: 'https', url: url.href };
}

/** The mirror's name in the cache: a hash of the source, so any URL makes a safe file name. */
export function mirrorKey(source: RepositorySource): string {
  const canonical = source.kind === 'local' ? `file://${source.path}` : source.url;
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

async function update(source: RepositorySource, mirror: string, options: MirrorOptions): Promise<string> {
  const git = gitOptions(source, options);
  if (await isDirectory(mirror)) {
    await hostGit(['fetch', '--prune', '--quiet', 'origin'], { ...git, cwd: mirror });
    return mirror;
  }
  await mkdir(options.cacheDir, { recursive: true, mode: 0o700 });
  await removeLeftovers(mirror);
  const partial = `${mirror}.tmp-${randomBytes(6).toString('hex')}`;
  const from = locationOf(source);
  try {
    // --no-local: the source's objects arrive through git's own protocol, checked, never copied or
    // linked file by file from a directory the runner does not own.
    await hostGit(['clone', '--mirror', '--quiet', '--no-local', '--template=', '--', from, partial], git);
    await rename(partial, mirror);
  } catch (error) {
    await removeTree(partial).catch(() => undefined);
    throw error;
  }
  return mirror;
}

function gitOptions(source: RepositorySource, options: MirrorOptions): HostGitOptions {
  return {
    ...remoteAccess(source, options.credentials),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    hide: [options.cacheDir, ...(options.hide ?? [])],
  };
}

/**
 * How host git reaches a source, to fetch from it or push to it: its one transport, and for https
 * the token as an Authorization header (this command's environment only, masked in errors).
 */
export function remoteAccess(
  source: RepositorySource,
  credentials?: GitCredentials,
): Pick<HostGitOptions, 'protocols' | 'safeDirectory' | 'config' | 'secrets'> {
  const protocols: GitProtocol[] = source.kind === 'local' ? ['file'] : ['https'];
  const header = source.kind === 'https' && credentials ? authorization(credentials) : null;
  return {
    protocols,
    // A local repository may belong to another user; git then refuses it unless named safe.
    ...(source.kind === 'local' ? { safeDirectory: source.path } : {}),
    ...(header ? { config: { 'http.extraHeader': header }, secrets: [credentials!.token, header] } : {}),
  };
}

/** Where git finds a source: the real path of a local repository, or the URL. */
export function locationOf(source: RepositorySource): string {
  return source.kind === 'local' ? source.path : source.url;
}

function authorization({ token, username }: GitCredentials): string {
  return `Authorization: Basic ${Buffer.from(`${username ?? 'x-access-token'}:${token}`).toString('base64')}`;
}

/** Partial clones a crashed runner left of this mirror. */
async function removeLeftovers(mirror: string): Promise<void> {
  const dir = join(mirror, '..');
  const prefix = `${mirror.slice(dir.length + 1)}.tmp-`;
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith(prefix)).map((name) => removeTree(join(dir, name))));
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
