import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GitCommandError, hostGit, type HostDirAlias, type HostGitOptions } from '@hub/git';
import { COMMIT_ID } from './capture-results';
import { commitEmptyBase } from './prepare-workspace';

/** The one ref of a base bundle (baseBundleObjectName): the commit the captured changes start from. */
export const BASE_REF = 'refs/hub/base';

export interface BaseBundleRequest {
  /** The commit whose whole history is bundled. */
  baseCommit: string;
  /** The runner's mirror of the repository (ensureMirror); null for a session without one, whose base is the empty commit. */
  mirror: string | null;
  /** An absent or empty directory of the runner's, for the scratch repository and the bundle; the caller removes it. */
  scratchDir: string;
  /** Host directories hidden in errors, beside the scratch directory and the mirror. */
  hide?: readonly (string | HostDirAlias)[];
}

const BUNDLE_TIMEOUT_MS = 10 * 60_000;

/**
 * A git bundle of the whole history up to `baseCommit`, with the one ref `refs/hub/base`: what a copy
 * of a session's branch needs besides the session's own bundle (base..head). Made in a scratch
 * repository of its own that borrows the mirror's objects (alternates): the shared mirror is only
 * read, so no ref or object is ever added to it, and sessions bundling at once cannot meet there.
 * Without a repository the base is the fixed empty commit, made here as prepareWorkspace makes it.
 * The agent's workspace is never read. Returns the bundle's path.
 */
export async function createBaseBundle(request: BaseBundleRequest): Promise<string> {
  const { baseCommit, mirror, scratchDir } = request;
  if (!COMMIT_ID.test(baseCommit)) throw new Error(`base commit "${baseCommit.slice(0, 80)}" is not a commit id`);
  const repo = join(scratchDir, 'base');
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const git: HostGitOptions = {
    cwd: repo,
    hide: [scratchDir, ...(mirror ? [mirror] : []), ...(request.hide ?? [])],
    timeoutMs: BUNDLE_TIMEOUT_MS,
  };
  await hostGit(['init', '--quiet', '--template=', '--initial-branch=main', repo], { hide: git.hide });
  if (mirror) {
    await writeFile(join(repo, '.git', 'objects', 'info', 'alternates'), `${await realpath(join(mirror, 'objects'))}\n`, { flag: 'wx' });
  } else {
    const empty = await commitEmptyBase(git);
    if (empty !== baseCommit) throw new Error(`base commit ${baseCommit} is not the empty commit of a workspace without repository`);
  }
  if (!(await hasCommit(git, baseCommit))) throw new Error(`base commit ${baseCommit} is not in the repository's mirror`);
  await hostGit(['update-ref', BASE_REF, baseCommit], git);
  const bundle = join(scratchDir, 'base.bundle');
  await hostGit(['bundle', 'create', '--quiet', bundle, BASE_REF], git);
  return bundle;
}

/** Whether the repository at `git.cwd` holds `commit` (as a commit). */
export async function hasCommit(git: HostGitOptions, commit: string): Promise<boolean> {
  try {
    await hostGit(['cat-file', '-e', `${commit}^{commit}`], git);
    return true;
  } catch (error) {
    if (error instanceof GitCommandError && error.exitCode === 128) return false;
    throw error;
  }
}
